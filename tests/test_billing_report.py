"""billing-report: Data Exports and legacy CUR through botocore's Stubber (moto has neither), S3 in moto.

Stubber checks every request's parameters against the real service model, and every stubbed response
too; expected_params pins what the step sends, and assert_no_pending_responses that it asked for
everything it was expected to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from steps.billing_report import POLICY_SID, TAGS, export_definition
from tests import harness
from tests.conftest import Account

ACCOUNT = "123456789012"
BUCKET = f"aws-harden-billing-{ACCOUNT}"
ARN = f"arn:aws:bcm-data-exports:us-east-1:{ACCOUNT}:export/aws-harden-cur2-0001"


def report(name: str = "daily-cur", time_unit: str = "DAILY") -> dict[str, Any]:
    return {
        "ReportName": name,
        "TimeUnit": time_unit,
        "Format": "textORcsv",
        "Compression": "GZIP",
        "AdditionalSchemaElements": ["RESOURCES"],
        "S3Bucket": "my-billing",
        "S3Prefix": "cur",
        "S3Region": "us-east-1",
        "ReportStatus": {"lastStatus": "SUCCESS"},
    }


def export(
    name: str = "aws-harden-cur2",
    granularity: str | None = "DAILY",
    table: str = "COST_AND_USAGE_REPORT",
    arn: str = ARN,
    status: str = "HEALTHY",
) -> dict[str, Any]:
    config = {} if granularity is None else {"TIME_GRANULARITY": granularity}
    return {
        "Export": {
            "ExportArn": arn,
            "Name": name,
            "DataQuery": {
                "QueryStatement": f"SELECT line_item_unblended_cost FROM {table}",
                "TableConfigurations": {table: config},
            },
            "DestinationConfigurations": {
                "S3Destination": {
                    "S3Bucket": "my-billing",
                    "S3Prefix": "exports",
                    "S3Region": "us-east-1",
                    "S3OutputConfigurations": {
                        "OutputType": "CUSTOM",
                        "Format": "PARQUET",
                        "Compression": "PARQUET",
                        "Overwrite": "OVERWRITE_REPORT",
                    },
                }
            },
            "RefreshCadence": {"Frequency": "SYNCHRONOUS"},
        },
        "ExportStatus": {"StatusCode": status},
    }


def listed(*exports: dict[str, Any]) -> dict[str, Any]:
    return {
        "Exports": [
            {
                "ExportArn": e["Export"]["ExportArn"],
                "ExportName": e["Export"]["Name"],
                "ExportStatus": e["ExportStatus"],
            }
            for e in exports
        ]
    }


@dataclass
class Billing:
    """Stubbed us-east-1 clients for the two billing APIs, queued up before the run."""

    exports: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = field(default_factory=list)
    reports: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = field(default_factory=list)
    stubbers: list[Stubber] = field(default_factory=list)

    def inspect(
        self, exports: tuple[dict[str, Any], ...] = (), reports: tuple[dict[str, Any], ...] = ()
    ) -> None:
        """The reads one inspect makes."""
        self.exports.append(("list_exports", listed(*exports), {}))
        for e in exports:
            self.exports.append(("get_export", e, {"ExportArn": e["Export"]["ExportArn"]}))
        self.reports.append(("describe_report_definitions", {"ReportDefinitions": list(reports)}, {}))

    def attach(self, aws: Any) -> None:
        for service, queue in (("bcm-data-exports", self.exports), ("cur", self.reports)):
            stubber = Stubber(aws.client(service, "us-east-1"))
            for method, response, expected in queue:
                stubber.add_response(method, response, expected)
            stubber.activate()
            self.stubbers.append(stubber)

    def done(self) -> None:
        for stubber in self.stubbers:
            stubber.assert_no_pending_responses()


def run(argv: list[str], billing: Billing) -> tuple[int, list[str], str]:
    """tests/harness.py's run, unattended, the billing clients stubbed; exit code, writes sent, output."""
    result = harness.run(*argv, stdin="pipe", width=200, observe=billing.attach)
    return result.code, result.writes, result.text


def buckets(account: Account) -> list[str]:
    return [b["Name"] for b in account.raw("s3").list_buckets()["Buckets"]]


@pytest.mark.parametrize("time_unit", ["DAILY", "HOURLY"])
def test_existing_legacy_cur_counts(account: Account, time_unit: str) -> None:
    billing = Billing()
    billing.inspect(reports=(report(time_unit=time_unit),))
    code, writes, text = run(["check", "--only", "billing-report", "--output", "json"], billing)
    billing.done()
    assert code == 0 and writes == [], text
    (step,) = json.loads(text)["steps"]
    assert step["status"] == "compliant" and step["changes"] == []
    assert any(
        f["observed"].get("name") == "daily-cur" and f["observed"]["satisfies"] for f in step["findings"]
    )
    assert buckets(account) == []  # nothing made next to it, and its bucket not even read


@pytest.mark.parametrize(
    ("granularity", "table"),
    [
        ("DAILY", "COST_AND_USAGE_REPORT"),
        ("HOURLY", "COST_AND_USAGE_REPORT"),
        (None, "COST_AND_USAGE_REPORT"),
    ],
)
def test_existing_export_counts_and_apply_sends_nothing(
    account: Account, granularity: str | None, table: str
) -> None:
    billing = Billing()
    billing.inspect(exports=(export("team-cur", granularity, table),))
    code, writes, text = run(["apply", "--yes", "--only", "billing-report"], billing)
    billing.done()
    assert code == 0 and writes == [], text
    assert "already compliant" in text and "team-cur" in text
    assert buckets(account) == []


@pytest.mark.parametrize(
    "existing",
    [
        {"exports": (export("monthly", "MONTHLY"),)},
        {"exports": (export("focus", "DAILY", table="FOCUS_1_0_AWS"),)},
        {"reports": (report("monthly-cur", "MONTHLY"),)},
    ],
)
def test_monthly_or_other_tables_do_not_count(account: Account, existing: dict[str, Any]) -> None:
    billing = Billing()
    billing.inspect(**existing)
    code, writes, text = run(["plan", "--only", "billing-report"], billing)
    billing.done()
    assert code == 2 and writes == [], text
    assert "does not count" in text and '+ data export "aws-harden-cur2"' in text


def created_export(region: str = "us-east-1", output: str = "parquet") -> dict[str, Any]:
    definition = export_definition("aws-harden-cur2", BUCKET, "cost-and-usage", region, output)
    s3 = definition["DestinationConfigurations"]["S3Destination"]
    made = export()
    made["Export"].update(DataQuery=definition["DataQuery"])
    made["Export"]["DestinationConfigurations"]["S3Destination"].update(
        S3Bucket=s3["S3Bucket"], S3Prefix=s3["S3Prefix"], S3Region=region
    )
    return made


def fresh_apply(billing: Billing, region: str = "us-east-1", output: str = "parquet") -> None:
    """A first apply on an account with neither: inspect, create (listing first), verify."""
    billing.inspect()
    billing.exports.append(("list_exports", listed(), {}))
    definition = export_definition("aws-harden-cur2", BUCKET, "cost-and-usage", region, output)
    billing.exports.append(
        ("create_export", {"ExportArn": ARN}, {"Export": definition, "ResourceTags": TAGS})
    )
    billing.inspect(exports=(created_export(region, output),))


def test_fresh_account_gets_bucket_policy_and_export_then_nothing(account: Account) -> None:
    billing = Billing()
    fresh_apply(billing)
    code, writes, text = run(["apply", "--yes", "--only", "billing-report"], billing)
    billing.done()
    assert code == 0, text
    assert writes == [
        "s3:CreateBucket",
        "s3:PutPublicAccessBlock",
        "s3:PutBucketPolicy",
        "bcm-data-exports:CreateExport",
    ]
    s3 = account.raw("s3")
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert statement["Sid"] == POLICY_SID
    assert sorted(statement["Principal"]["Service"]) == [
        "bcm-data-exports.amazonaws.com",
        "billingreports.amazonaws.com",
    ]
    assert statement["Condition"]["StringLike"]["aws:SourceAccount"] == ACCOUNT
    assert sorted(statement["Condition"]["StringLike"]["aws:SourceArn"]) == [
        f"arn:aws:bcm-data-exports:us-east-1:{ACCOUNT}:export/*",
        f"arn:aws:cur:us-east-1:{ACCOUNT}:definition/*",
    ]

    again = Billing()
    again.inspect(exports=(created_export(),))
    code, writes, text = run(["apply", "--yes", "--only", "billing-report"], again)
    again.done()
    assert code == 0 and writes == [] and "already compliant" in text, text


def test_billing_apis_stay_in_us_east_1_while_the_bucket_follows_region(
    account: Account, tmp_path: Path
) -> None:
    """Stubs sit on the us-east-1 clients only: a billing call from eu-west-1 would miss them and fail."""
    billing = Billing()
    fresh_apply(billing, region="eu-west-1", output="csv")
    answers = answers_file(tmp_path, 'format = "csv"')
    code, writes, text = run(
        ["apply", "--yes", "--only", "billing-report", "--region", "eu-west-1", "--answers", answers], billing
    )
    billing.done()
    assert code == 0, text
    assert "bcm-data-exports:CreateExport" in writes
    location = account.raw("s3").get_bucket_location(Bucket=BUCKET)["LocationConstraint"]
    assert location == "eu-west-1"


def answers_file(tmp_path: Path, body: str) -> str:
    path = tmp_path / "answers.toml"
    path.write_text(f"[billing-report]\n{body}\n")
    return str(path)


def test_chosen_bucket_keeps_its_policy_and_gets_updates_not_replacements(
    account: Account, tmp_path: Path
) -> None:
    s3 = account.raw("s3")
    s3.create_bucket(Bucket="shared-logs")
    theirs = {
        "Sid": "TheirAuditRead",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::shared-logs/*",
    }
    s3.put_bucket_policy(
        Bucket="shared-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [theirs]})
    )
    s3.put_public_access_block(
        Bucket="shared-logs",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    answers = answers_file(tmp_path, 'bucket = "shared-logs"\nprefix = "billing/cur2"')
    billing = Billing()
    billing.inspect()
    code, writes, text = run(["plan", "--only", "billing-report", "--answers", answers], billing)
    billing.done()
    assert code == 2 and writes == [], text
    assert "~ public access block" in text and "~ BlockPublicPolicy: False -> True" in text
    assert "~ bucket policy" in text and "+ s3 bucket" not in text

    billing = Billing()
    billing.inspect()
    billing.exports.append(("list_exports", listed(), {}))
    definition = export_definition("aws-harden-cur2", "shared-logs", "billing/cur2", "us-east-1", "parquet")
    billing.exports.append(
        ("create_export", {"ExportArn": ARN}, {"Export": definition, "ResourceTags": TAGS})
    )
    billing.inspect(exports=(export(),))
    code, writes, text = run(["apply", "--yes", "--only", "billing-report", "--answers", answers], billing)
    billing.done()
    assert code == 0, text
    assert writes == ["s3:PutPublicAccessBlock", "s3:PutBucketPolicy", "bcm-data-exports:CreateExport"]
    statements = json.loads(s3.get_bucket_policy(Bucket="shared-logs")["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["TheirAuditRead", POLICY_SID]


def test_cannot_verify_billing_access_is_a_warning_never_compliance_claimed_nor_a_loop(
    account: Account,
) -> None:
    billing = Billing()
    billing.inspect(reports=(report(),))
    code, _, text = run(["check", "--only", "billing-report", "--output", "json"], billing)
    (step,) = json.loads(text)["steps"]
    warning = next(f for f in step["findings"] if "iam_access_to_billing" in f["observed"])
    assert warning["severity"] == "warning" and warning["text"].startswith("cannot verify")
    assert warning["observed"]["iam_access_to_billing"].startswith("unknown")
    assert "cannot verify" in step["reason"]  # the check table says so next to "compliant"
    assert code == 0 and step["changes"] == []  # no operator change that no re-check could ever clear


def test_unhealthy_export_counts_but_is_flagged(account: Account) -> None:
    billing = Billing()
    unhealthy = export(status="UNHEALTHY")
    unhealthy["ExportStatus"]["StatusReason"] = "INSUFFICIENT_PERMISSION"
    billing.inspect(exports=(unhealthy,))
    code, _, text = run(["check", "--only", "billing-report", "--output", "json"], billing)
    billing.done()
    (step,) = json.loads(text)["steps"]
    assert code == 0
    assert any(
        "INSUFFICIENT_PERMISSION" in f["text"] and f["severity"] == "warning" for f in step["findings"]
    )


def test_export_name_taken_by_a_monthly_export_is_a_clear_error(account: Account) -> None:
    billing = Billing()
    billing.inspect(exports=(export("aws-harden-cur2", "MONTHLY"),))
    code, writes, text = run(["apply", "--yes", "--only", "billing-report"], billing)
    assert code == 1 and writes == []
    assert "choose another export_name" in text and "Traceback" not in text


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("bucket", "Bad_Bucket", "lowercase"),
        ("bucket", "ab", "lowercase"),
        ("bucket", "xn--bucket", "reserved"),
        ("prefix", "/leading", "not starting or ending"),
        ("format", "xml", "must be one of parquet, csv"),
        ("export_name", "has space", "letters, digits"),
    ],
)
def test_bad_answers_are_refused_before_any_call(tmp_path: Path, key: str, value: str, reason: str) -> None:
    result = harness.run("plan", "--only", "billing-report", "--answers", answers_file(tmp_path, f'{key} = "{value}"'),
                         stdin="pipe", width=None)
    assert result.code == 1 and reason in result.err and result.err.count("\n") == 1


def test_the_write_guard_stops_a_stubbed_write_in_read_only_mode(account: Account) -> None:
    """Stubber answers before the network; the guard must still come first, or these tests would lie."""
    from wizard.errors import WriteRefused

    aws = account.aws(locked=True)
    client = aws.client("bcm-data-exports", "us-east-1")
    stubber = Stubber(client)
    stubber.add_response("create_export", {"ExportArn": ARN})
    stubber.activate()
    definition = export_definition("x", BUCKET, "p", "us-east-1", "csv")
    with pytest.raises(WriteRefused):
        client.create_export(Export=definition)
    assert aws.guard.refused_writes == ["bcm-data-exports:CreateExport"] and aws.guard.sent_writes == []
    with pytest.raises(AssertionError):
        stubber.assert_no_pending_responses()  # the stubbed answer was never reached
