"""The cloudtrail step against moto: which existing trail counts, the bucket it locks down, partial re-runs,
idempotence, plan output, and the documents it writes held against AWS's published ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from steps import cloudtrail_policies as docs
from steps.cloudtrail import STEP, bucket_problem, email_problem, retention_problem, trail_name_problem
from steps.cloudtrail_plan import Mode, choose, plan_bucket
from steps.cloudtrail_state import Bucket, CloudTrailState, Trail
from tests import harness
from tests.conftest import Account, run_cli
from tests.starting_states import cloudtrail_may_write
from tests.test_idempotence import run_observed
from wizard.aws import Caller
from wizard.protocol import Action, StepContext

ACCOUNT = "123456789012"
BUCKET = f"aws-harden-cloudtrail-{ACCOUNT}-us-east-1"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/aws-harden-trail"
DEFAULT_WRITES = [
    "s3:CreateBucket", "s3:PutPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:PutBucketEncryption",
    "s3:PutBucketVersioning", "s3:PutBucketPolicy",
    "cloudtrail:CreateTrail", "cloudtrail:StartLogging",
]  # fmt: skip (a new trail records all management events by default: no PutEventSelectors)


def plan_json(*extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(["plan", "--output", "json", "--only", "cloudtrail", *extra], tty=False)
    return result.code, json.loads(result.out)["steps"][0]


def keys(step: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["action"], c["key"]) for c in step["changes"]]


def answers(tmp_path: Path, body: str) -> str:
    path = tmp_path / "answers.toml"
    path.write_text("[cloudtrail]\n" + body)
    return str(path)


def applied(tmp_path: Path, body: str) -> str:
    """`apply --yes --only cloudtrail` with these answers, which must succeed; the answers file, for more runs."""
    file = answers(tmp_path, body)
    code, _, text = run_observed(["apply", "--yes", "--only", "cloudtrail", "--answers", file])
    assert code == 0, text
    return file


def make_trail(
    account: Account,
    name: str = "existing",
    region: str = "us-east-1",
    multi_region: bool = True,
    validation: bool = True,
    logging: bool = True,
    **extra: Any,
) -> str:
    s3 = account.raw("s3", region)
    bucket = f"{name}-logs-{region}"
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    arn = f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}"
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(cloudtrail_may_write(bucket, arn)))
    cloudtrail = account.raw("cloudtrail", region)
    arn: str = cloudtrail.create_trail(
        Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi_region,
        IncludeGlobalServiceEvents=True, EnableLogFileValidation=validation, **extra,
    )["TrailARN"]  # fmt: skip
    cloudtrail.put_event_selectors(
        TrailName=name, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    if logging:
        cloudtrail.start_logging(Name=name)
    return arn


# --- detection of existing trails --------------------------------------------------------------
def test_a_compliant_trail_is_kept_and_no_duplicate_is_created(account: Account) -> None:
    make_trail(account)
    code, step = plan_json()
    assert code == 0 and step["status"] == "compliant" and step["changes"] == []
    assert any("already satisfies" in f["text"] for f in step["findings"])
    code, writes, _ = run_observed(["apply", "--yes", "--only", "cloudtrail"])
    assert code == 0 and writes == []
    names = [t["Name"] for t in account.raw("cloudtrail").describe_trails()["trailList"]]
    assert names == ["existing"]


def test_an_organization_trail_satisfies_the_step(account: Account) -> None:
    account.raw("organizations").create_organization(FeatureSet="ALL")
    make_trail(account, name="org-trail", IsOrganizationTrail=True)
    code, step = plan_json()
    assert code == 0 and step["changes"] == []
    assert any("organization trail" in f["text"] for f in step["findings"])


def test_an_organization_trail_of_the_management_account_is_adopted_not_updated() -> None:
    """Seen from a member account: another account's org trail that qualifies counts; one that does not
    is never touched (a member cannot), so the wizard makes its own."""
    org = Trail("org", "arn:aws:cloudtrail:us-east-1:999999999999:trail/org", "us-east-1", "central",
                True, True, True, True, organization=True, account="999999999999")  # fmt: skip
    assert choose([org], "aws-harden-trail", ACCOUNT) == (Mode.ADOPTED, org)
    stopped = Trail(**{**org.__dict__, "logging": False})
    assert choose([stopped], "aws-harden-trail", ACCOUNT) == (Mode.CREATE, None)


@pytest.mark.parametrize(
    ("kind", "trail_args", "field", "write"),
    [
        ("single-region", {"multi_region": False}, "multi-region", "cloudtrail:UpdateTrail"),
        ("no validation", {"validation": False}, "log file validation", "cloudtrail:UpdateTrail"),
        ("stopped", {"logging": False}, "logging", "cloudtrail:StartLogging"),
    ],
)
def test_a_close_trail_is_updated_in_place(
    account: Account, kind: str, trail_args: dict[str, Any], field: str, write: str
) -> None:
    arn = make_trail(account, **trail_args)
    code, step = plan_json()
    assert code == 2, kind
    (change,) = step["changes"]
    assert change["action"] == "~" and "existing" in change["resource"]
    assert [(f["name"], f["old"], f["new"]) for f in change["fields"]] == [(field, "False", "True")]
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail"])
    assert code == 0, text
    assert writes == [write]
    (trail,) = account.raw("cloudtrail").describe_trails()["trailList"]
    assert trail["TrailARN"] == arn
    assert trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert account.raw("cloudtrail").get_trail_status(Name=arn)["IsLogging"]


def test_a_stopped_trail_in_another_home_region_is_started_from_its_home(account: Account) -> None:
    arn = make_trail(account, region="eu-west-1", logging=False)
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail"])  # the run is in us-east-1
    assert code == 0, text
    assert writes == ["cloudtrail:StartLogging"]
    assert account.raw("cloudtrail", "eu-west-1").get_trail_status(Name=arn)["IsLogging"]


def test_updating_a_close_trail_needs_the_operators_agreement(account: Account) -> None:
    make_trail(account, multi_region=False)
    result = run_cli(
        ["apply", "--only", "cloudtrail"], answers=["aws-harden-trail", "", False, 0, "", False, False]
    )
    assert result.code == 2, result.text
    assert result.prompter is not None and result.prompter.rejected == []
    assert result.prompter.asked[-1] == "Apply 1 change for cloudtrail?"
    assert "declined" in result.text
    assert not account.raw("cloudtrail").describe_trails()["trailList"][0]["IsMultiRegionTrail"]


# --- a new trail into a locked-down bucket --------------------------------------------------------
def test_fresh_account_four_runs_and_the_bucket_reads_back_locked_down(account: Account) -> None:
    code, writes, text = run_observed(["plan", "--only", "cloudtrail"])
    assert code == 2 and writes == []
    assert "Plan: 8 to add, 0 to change" in text
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail"])
    assert code == 0, text
    assert writes == DEFAULT_WRITES
    code, writes, _ = run_observed(["check", "--only", "cloudtrail"])
    assert code == 0 and writes == []
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail"])
    assert code == 0 and writes == [] and "already compliant" in text

    s3 = account.raw("s3")
    assert (
        s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
        == docs.PUBLIC_ACCESS_BLOCK
    )
    rules = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    sse = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert policy["Statement"] == docs.bucket_statements("aws", BUCKET, ACCOUNT, TRAIL_ARN)
    (trail,) = account.raw("cloudtrail").describe_trails()["trailList"]
    assert trail["TrailARN"] == TRAIL_ARN and trail["S3BucketName"] == BUCKET
    assert (
        trail["IsMultiRegionTrail"]
        and trail["IncludeGlobalServiceEvents"]
        and trail["LogFileValidationEnabled"]
    )
    assert account.raw("cloudtrail").get_trail_status(Name=TRAIL_ARN)["IsLogging"]
    selectors = account.raw("cloudtrail").get_event_selectors(TrailName=TRAIL_ARN)["EventSelectors"]
    assert selectors[0]["ReadWriteType"] == "All" and selectors[0]["IncludeManagementEvents"]


def test_every_option_applied_then_a_second_apply_sends_nothing(account: Account, tmp_path: Path) -> None:
    file = answers(tmp_path, 'alerts_email = "ops@example.com"\nkms = true\nretention_days = 400\n'
                             "metric_filters = true\n")  # fmt: skip
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail", "--answers", file])
    assert code == 0, text
    assert set(writes) == STEP.writes - {
        "kms:PutKeyPolicy",
        "iam:UpdateAssumeRolePolicy",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
    }
    assert (
        writes.count("events:PutRule") == len(docs.RULES) and writes.count("cloudwatch:PutMetricAlarm") == 15
    )
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail", "--answers", file])
    assert code == 0 and writes == [], text

    key_arn = account.raw("kms").describe_key(KeyId="alias/aws-harden-cloudtrail")["KeyMetadata"]["Arn"]
    (trail,) = account.raw("cloudtrail").describe_trails()["trailList"]
    assert trail["KmsKeyId"] == key_arn
    assert (
        trail["CloudWatchLogsLogGroupArn"]
        == f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws-harden/cloudtrail:*"
    )
    lifecycle = account.raw("s3").get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert [r["Expiration"]["Days"] for r in lifecycle] == [400]
    rule = account.raw("events").describe_rule(Name="aws-harden-root-console-sign-in")
    assert json.loads(rule["EventPattern"]) == {
        "detail-type": ["AWS Console Sign In via CloudTrail"], "detail": {"userIdentity": {"type": ["Root"]}},
    }  # fmt: skip
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:aws-harden-alerts"
    targets = account.raw("events").list_targets_by_rule(Rule="aws-harden-root-console-sign-in")["Targets"]
    assert [t["Arn"] for t in targets] == [topic]
    subscriptions = account.raw("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops@example.com")]
    alarms = account.raw("cloudwatch").describe_alarms(AlarmNamePrefix="aws-harden-")["MetricAlarms"]
    assert len(alarms) == 15 and all(a["AlarmActions"] == [topic] for a in alarms)


def test_alerts_outside_us_east_1_go_to_both_regions(account: Account, tmp_path: Path) -> None:
    file = answers(tmp_path, 'alerts_email = "ops@example.com"\n')
    code, step = plan_json("--region", "eu-west-2", "--answers", file)
    assert code == 2
    resources = [c["resource"] for c in step["changes"]]
    assert 'sns topic "aws-harden-alerts" (us-east-1)' in resources
    assert 'sns topic "aws-harden-alerts" (eu-west-2)' in resources
    assert 'eventbridge rule "aws-harden-root-console-sign-in" (us-east-1)' in resources
    assert 'eventbridge rule "aws-harden-cloudtrail-changes" (eu-west-2)' in resources
    assert 'cloudtrail trail "aws-harden-trail" (eu-west-2)' in resources


# --- the bucket name ------------------------------------------------------------------------------
def test_a_bucket_name_owned_by_another_account_is_a_clear_error(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "999999999999")
    account.raw("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    code, step = plan_json()
    assert code == 1 and step["status"] == "error"
    assert f"the S3 bucket name '{BUCKET}' is taken by another AWS account" in step["reason"]
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail"])
    assert code == 1 and writes == []
    assert "taken by another AWS account" in text and "Traceback" not in text


def test_an_existing_own_bucket_keeps_its_other_statements(account: Account, tmp_path: Path) -> None:
    s3 = account.raw("s3")
    s3.create_bucket(Bucket="my-logs")
    other = {"Sid": "KeepMe", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
             "Resource": "arn:aws:s3:::my-logs"}  # fmt: skip
    s3.put_bucket_policy(Bucket="my-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [other]}))
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail", "--answers",
                                       answers(tmp_path, 'bucket = "my-logs"\n')])  # fmt: skip
    assert code == 0, text
    assert "s3:CreateBucket" not in writes
    statements = json.loads(s3.get_bucket_policy(Bucket="my-logs")["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["KeepMe", docs.ACL_CHECK_SID, docs.WRITE_SID, docs.DENY_TLS_SID]


# --- partial state --------------------------------------------------------------------------------
def test_partial_bucket_gets_only_the_missing_pieces(account: Account) -> None:
    s3 = account.raw("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=docs.PUBLIC_ACCESS_BLOCK)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail"])
    assert code == 0, text
    assert writes == [
        w
        for w in DEFAULT_WRITES
        if w not in ("s3:CreateBucket", "s3:PutPublicAccessBlock", "s3:PutBucketVersioning")
    ]


def test_a_run_that_failed_midway_is_completed_by_the_next(account: Account) -> None:
    from botocore.awsrequest import AWSResponse

    def fail_create_trail(client: Any, service: str, region: str) -> None:
        if service == "cloudtrail":
            client.meta.events.register(
                "before-call.cloudtrail.CreateTrail",
                lambda **_: (AWSResponse("", 500, {}, None),
                             {"Error": {"Code": "InternalFailure", "Message": "injected"}}),
            )  # fmt: skip

    failed = harness.run("apply", "--yes", "--only", "cloudtrail", stdin="pipe", on_client=fail_create_trail)
    assert failed.code == 1
    assert "CreateTrail failed: InternalFailure" in failed.text
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail"])
    assert code == 0, text
    assert writes == ["cloudtrail:CreateTrail", "cloudtrail:StartLogging"]


# --- plan output ----------------------------------------------------------------------------------
def test_plan_text_shows_each_resource_and_writes_nothing(account: Account) -> None:
    make_trail(account, validation=False, logging=False)
    code, writes, text = run_observed(["plan", "--only", "cloudtrail"])
    assert code == 2 and writes == []
    assert '~ cloudtrail trail "existing" (us-east-1)' in text
    assert "~ log file validation: False -> True" in text
    assert '~ logging of cloudtrail trail "existing"' in text
    assert "trail existing is close: it is updated in place, not replaced" in text
    assert "Plan: 0 to add, 2 to change, 0 to delete, 0 for the operator." in text


def test_fresh_plan_lists_bucket_settings_as_separate_changes(account: Account) -> None:
    code, step = plan_json()
    assert code == 2
    assert keys(step) == [
        ("+", "create-bucket"), ("+", "bucket-public-access-block"), ("+", "bucket-ownership"),
        ("+", "bucket-encryption"), ("+", "bucket-versioning"), ("+", "bucket-policy"),
        ("+", "trail"), ("+", "start-logging"),
    ]  # fmt: skip


# --- the documents against AWS's ---------------------------------------------------------------
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
# ("S3 bucket policy", with myBucketName, myAccountID, region and trailName filled in, no prefix)
AWS_DOCUMENTED_BUCKET_POLICY = """
{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AWSCloudTrailAclCheck20150319",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": "arn:aws:s3:::myBucketName",
            "Condition": {
                "StringEquals": {
                    "aws:SourceArn": "arn:aws:cloudtrail:eu-west-1:111122223333:trail/trailName"
                }
            }
        },
        {
            "Sid": "AWSCloudTrailWrite20150319",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::myBucketName/AWSLogs/111122223333/*",
            "Condition": {
                "StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "aws:SourceArn": "arn:aws:cloudtrail:eu-west-1:111122223333:trail/trailName"
                }
            }
        }
    ]
}
"""


def test_bucket_policy_matches_aws_documented_policy_statement_by_statement() -> None:
    documented = json.loads(AWS_DOCUMENTED_BUCKET_POLICY)["Statement"]
    ours = docs.bucket_statements(
        "aws", "myBucketName", "111122223333", "arn:aws:cloudtrail:eu-west-1:111122223333:trail/trailName"
    )
    assert len(ours) == len(documented) + 1
    for theirs, mine in zip(documented, ours, strict=False):
        assert mine == theirs, theirs["Sid"]
    deny = ours[-1]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Resource"] == ["arn:aws:s3:::myBucketName", "arn:aws:s3:::myBucketName/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_policy_comparison_ignores_layout_but_not_content() -> None:
    ours = docs.bucket_statements("aws", "b", ACCOUNT, TRAIL_ARN)
    reordered = {"Statement": [{**s, "Action": [s["Action"]]} for s in reversed(ours)]}
    assert docs.contains(json.loads(json.dumps(reordered)), ours)
    tampered = json.loads(json.dumps({"Statement": ours}))
    tampered["Statement"][1]["Condition"]["StringEquals"]["aws:SourceArn"] = (
        "arn:aws:cloudtrail:x:1:trail/other"
    )
    assert not docs.contains(tampered, ours)


# --- pure plan rules ------------------------------------------------------------------------------
def ctx(**answers: Any) -> StepContext:
    caller = Caller(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, ACCOUNT)
    return StepContext("cloudtrail", caller, "us-east-1", lambda s, k: answers.get(k))


def test_stronger_existing_encryption_is_never_weakened() -> None:
    bucket = Bucket(BUCKET, "us-east-1", "own", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k"})
    state = CloudTrailState(ACCOUNT, "aws", "us-east-1", "aws-harden-trail", ())
    changes = plan_bucket(bucket, state, TRAIL_ARN, kms=False, home="us-east-1", retention=0)
    assert "bucket-encryption" not in [c.key for c in changes]
    assert all(c.action is Action.CREATE for c in changes if c.key == "bucket-public-access-block")


def test_questions_validate_before_any_call() -> None:
    assert email_problem("ops@example.com") is None and email_problem("") is None
    assert email_problem("not-an-email") and email_problem("a@b")
    assert bucket_problem("") is None and bucket_problem("my-logs.example") is None
    assert (
        bucket_problem("My_Bucket")
        and bucket_problem("ab")
        and bucket_problem("a..b")
        and bucket_problem("1.2.3.4")
    )
    assert retention_problem(0) is None and retention_problem(365) is None and retention_problem(-1)
    assert (
        trail_name_problem("aws-harden-trail") is None
        and trail_name_problem("ab")
        and trail_name_problem("a--b")
    )


def test_bad_email_in_the_answers_file_stops_before_anything_runs(account: Account, tmp_path: Path) -> None:
    result = run_cli(["apply", "--yes", "--only", "cloudtrail", "--answers",
                      answers(tmp_path, 'alerts_email = "nobody"\n')], tty=False)  # fmt: skip
    assert result.code == 1 and "alerts_email = 'nobody'" in result.err
    assert account.raw("cloudtrail").describe_trails()["trailList"] == []


# --- the sandbox, end to end ----------------------------------------------------------------------
def test_sandbox_walkthrough_apply_then_check(tmp_path: Path) -> None:
    file = answers(tmp_path, 'alerts_email = "ops@example.com"\n')
    applied = run_cli(["--sandbox", "apply", "--yes", "--only", "cloudtrail", "--answers", file], tty=False)
    assert applied.code == 0, applied.text
    assert "confirmation email to ops@example.com" in applied.out
    checked = run_cli(["--sandbox", "check", "--only", "cloudtrail", "--answers", file], tty=False)
    assert checked.code == 0, checked.text
    assert "compliant" in checked.out
