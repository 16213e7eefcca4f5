"""Evidence reports: JSON schema, Markdown and HTML for auditors, OCSF findings, the Prowler mutelist."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import yaml

from tests.conftest import Account, run_cli
from tests.schema_guard import problems
from wizard.controls import CONTROLS
from wizard.report import SCHEMA_VERSION, html_report, json_schema, markdown
from wizard.sandbox.root_user import assign_root_mfa


def applied(account: Account) -> str:
    assert run_cli(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False).code == 0
    password = keyring.get_password("aws-harden", "123456789012/admin/console-password")
    assert password
    return password


def test_json_report_has_the_documented_fields(account: Account) -> None:
    payload = json.loads(run_cli(["check", "--output", "json"]).out)
    required = {"schema", "schema_version", "tool", "command", "time", "account", "caller", "region", "steps",
                "controls_summary", "controls", "accepted_exceptions"}
    assert required <= set(payload) and payload["schema_version"] == 3
    assert payload["tool"]["name"] == "aws-harden" and payload["tool"]["version"]
    step = payload["steps"][0]
    assert {"id", "status", "reason", "findings", "remediates", "severity"} <= set(step)
    assert {"text", "severity", "observed"} <= set(step["findings"][0])
    assert [c["id"] for c in payload["controls"]] == [c.id for c in CONTROLS]
    control = next(c for c in payload["controls"] if c["id"] == "iam_root_mfa_enabled")
    assert control["ids"] == {"CIS AWS v7.0": ["2.5"], "CIS AWS v5.0": ["1.4"], "AWS Security Hub": ["IAM.9"],
                              "Prowler": ["iam_root_mfa_enabled"]}
    assert control["status"] == "FAIL" and control["remediated_by"] == ["root-mfa"]
    (root,) = control["resources"]
    assert root["id"] == "<root_account>" and root["evidence"] == {"AccountMFAEnabled": 0} and root["fix"]
    summary = payload["controls_summary"]
    assert summary["PASS"] + summary["FAIL"] + summary["MANUAL"] == len(CONTROLS)
    assert set(summary["frameworks"]) == {"CIS AWS v7.0", "CIS AWS v5.0", "AWS Security Hub", "Prowler"}


def test_the_shipped_schema_refuses_what_it_should() -> None:
    schema = json_schema()
    assert schema["$defs"]["report"]["properties"]["schema_version"] == {"const": SCHEMA_VERSION}
    assert problems({"schema": "aws-harden/report"})  # the validator the suite runs is not a rubber stamp


def test_markdown_report_for_auditors(account: Account, tmp_path: Path) -> None:
    password = applied(account)
    path = tmp_path / "evidence.md"
    result = run_cli(["check", "--report", str(path), "--only", "admin-user,admin-group"])
    assert result.code == 0, result.text  # neither step remediates a failing control
    text = path.read_text()
    summary = text.split("## Controls")[0]  # what an auditor reads first: who, when, which account, counts
    assert "123456789012" in summary and "arn:aws:iam::123456789012:root" in summary and "Time (UTC)" in summary
    assert "| CIS AWS v7.0 |" in summary and "Not passing:" in summary and "iam_root_mfa_enabled" in summary
    assert "| `iam_policy_attached_only_to_group_or_roles` | PASS | Low | 2.13 | 1.14 | IAM.2 | no step |" in text
    assert "| `admin` | PASS | admin has no policies of its own |" in text
    assert "`FullAccess` (CIS AWS v7.0 2.14" in text and "iam_group_administrator_access_policy" in text
    assert "present in the account" in text
    assert "group FullAccess: policies AdministratorAccess; members admin" in text
    assert password not in text


def test_html_report_escapes_everything(account: Account, tmp_path: Path) -> None:
    path = tmp_path / "evidence.html"
    assert run_cli(["check", "--report", str(path)]).code == 2
    text = path.read_text()
    assert text.startswith("<!doctype html>") and "FAIL" in text and "CIS AWS v7.0 2.5" in text
    assert "overflow-wrap:anywhere" in text and "@media print" in text  # long ids wrap; it prints
    report = json.loads(run_cli(["check", "--output", "json"]).out)
    report["controls"][0]["resources"][0]["reason"] = "<script>alert(1)</script>"
    report["steps"][0]["findings"][0]["text"] = "<img src=x onerror=alert(1)>"
    rendered = html_report(report)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered and "<img" not in rendered
    report["controls"][0]["resources"][0]["reason"] = "a | b"
    assert "a \\| b" in markdown(report)


def test_report_needs_a_known_extension(account: Account, tmp_path: Path) -> None:
    result = run_cli(["check", "--report", str(tmp_path / "evidence.pdf")])
    assert result.code == 1 and ".md or .html" in result.err


def test_ocsf_is_one_finding_per_control_and_resource(account: Account) -> None:
    applied(account)
    iam = account.raw("iam")
    iam.create_user(UserName="bob")
    iam.attach_user_policy(UserName="bob", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    result = run_cli(["check", "--output", "ocsf", "--only", "admin-user,admin-group"])
    assert result.code == 0
    findings = json.loads(result.out)
    report = json.loads(run_cli(["check", "--output", "json", "--only", "admin-user,admin-group"]).out)
    expected = sum(len(c["resources"]) for c in report["controls"]) + 1  # + the accepted exception, muted
    assert len(findings) == expected
    for finding in findings:
        assert finding["class_uid"] == 2004 and finding["category_uid"] == 2 and finding["type_uid"] == 200401
        assert finding["cloud"]["account"]["uid"] == "123456789012"
        assert finding["metadata"]["product"]["name"] == "aws-harden"
    direct = [f for f in findings if f["metadata"]["event_code"] == "iam_policy_attached_only_to_group_or_roles"]
    by_resource = {f["resources"][0]["name"]: f["status_code"] for f in direct}
    assert by_resource == {"admin": "PASS", "bob/AdministratorAccess": "FAIL"}
    assert direct[0]["compliance"]["requirements"] == [
        "CIS AWS v7.0 2.13", "CIS AWS v5.0 1.14", "AWS Security Hub IAM.2",
        "Prowler iam_policy_attached_only_to_group_or_roles"]
    muted = [f for f in findings if f["unmapped"]["muted"]]
    assert len(muted) == 1 and muted[0]["resources"][0]["name"] == "FullAccess"
    assert "CIS AWS v7.0 2.14" in muted[0]["compliance"]["requirements"]


def test_evidence_is_about_the_account_not_the_step(account: Account) -> None:
    """The misstatements of the per-step evidence: each step compliant, the control failing."""
    applied(account)
    assign_root_mfa(account.raw("iam"))
    account.raw("iam").create_user(UserName="ops")
    account.raw("iam").attach_user_policy(UserName="ops", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    result = run_cli(["check", "--output", "json", "--only", "admin-user,admin-group,root-mfa"])
    report = json.loads(result.out)
    assert {s["id"]: s["status"] for s in report["steps"]} == dict.fromkeys(
        ("admin-user", "admin-group", "root-mfa"), "compliant")
    status = {c["id"]: c["status"] for c in report["controls"]}
    assert status["iam_root_mfa_enabled"] == "PASS" and status["iam_root_hardware_mfa_enabled"] == "FAIL"
    assert status["iam_policy_attached_only_to_group_or_roles"] == "FAIL"
    assert result.code == 0  # no selected step remediates the failing ones; the summary still lists them
    text = run_cli(["check", "--only", "admin-user,admin-group,root-mfa"]).out
    assert "FAIL iam_root_hardware_mfa_enabled" in text and "ops/AdministratorAccess" in text
    assert "aws-harden does not change other users' policies" in text


def test_prowler_mutelist_export(account: Account, tmp_path: Path) -> None:
    answers = tmp_path / "a.toml"
    answers.write_text('[admin-group]\nname = "Admins.Team"\n')
    result = run_cli(["export", "prowler-mutelist", "--answers", str(answers)])
    assert result.code == 0, result.text
    mutelist = yaml.safe_load(result.out)
    checks = mutelist["Mutelist"]["Accounts"]["123456789012"]["Checks"]
    assert set(checks) == {
        "iam_aws_attached_policy_no_administrative_privileges",
        "iam_group_administrator_access_policy",
    }
    entry = checks["iam_group_administrator_access_policy"]
    assert entry["Regions"] == ["*"]
    assert entry["Resources"] == ["^Admins\\.Team$", "^AdministratorAccess$"]
    assert "guidance" in entry["Description"]


def test_export_needs_a_known_target(account: Account) -> None:
    assert run_cli(["export"]).code == 1
    assert "invalid choice" in run_cli(["export", "nope"]).err
    assert run_cli(["check", "prowler-mutelist"]).code == 1
