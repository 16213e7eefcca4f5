"""What is made a moment ago is not always usable yet (issue 12, item 10): a bucket policy just put (CreateExport is
retried), and a new access key (the wizard says it works in about 10 s)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse

from tests import harness
from tests.conftest import Account, Waits
from tests.lockdown_support import run


def refuse_first_create_export(answered: list[str]) -> harness.ClientHook:
    """Data Exports refuses the first CreateExport as it does a bucket whose policy is not in effect yet."""

    def hook(client: Any, service: str, region: str) -> None:
        if service != "bcm-data-exports":
            return

        def once(**_: Any) -> Any:
            answered.append("CreateExport")
            if len(answered) > 1:
                return None
            error = {"Code": "ValidationException", "Message": "The S3 bucket policy does not allow delivery"}
            return AWSResponse("", 400, {}, None), {"Error": error}

        client.meta.events.register("before-call.bcm-data-exports.CreateExport", once)

    return hook


def apply_billing(hook: harness.ClientHook) -> tuple[int, str]:
    result = harness.run("apply", "--yes", "--only", "billing-report", stdin="pipe", width=None, on_client=hook)
    return result.code, result.text


def test_create_export_right_after_the_bucket_policy_is_retried(account: Account, waits: Waits) -> None:
    answered: list[str] = []
    code, text = apply_billing(refuse_first_create_export(answered))
    assert code == 0, text
    assert answered == ["CreateExport", "CreateExport"] and waits.backoff == [1.0]
    exports = account.raw("bcm-data-exports").list_exports()["Exports"]
    assert [e["ExportName"] for e in exports] == ["aws-harden-cur2"]


def test_without_a_fresh_policy_a_refused_export_is_not_retried(account: Account, waits: Waits) -> None:
    from steps.billing_report import policy_statement
    from steps.resources import merged

    s3 = account.raw("s3")
    bucket = "aws-harden-billing-123456789012"
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True))
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(
        merged(None, [policy_statement(bucket, "123456789012", "aws")])))
    answered: list[str] = []
    code, text = apply_billing(refuse_first_create_export(answered))
    assert code == 1 and "CreateExport failed: ValidationException" in text, text
    assert answered == ["CreateExport"] and waits.backoff == []


def test_a_new_access_key_is_handed_over_with_when_it_works(account: Account, tmp_path: Path,
                                                            monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    wanted = tmp_path / "answers.toml"
    wanted.write_text("[admin-user]\nprogrammatic_access = true\n")
    result = run(["apply", "--yes", "--only", "admin-user", "--answers", str(wanted)], tty=False)
    assert result.code == 0, result.text
    assert "access key of admin: usable in about 10 s" in result.text
