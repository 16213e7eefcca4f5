"""Evidence reports: JSON schema, Markdown and HTML for auditors, OCSF findings, the Prowler mutelist."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import yaml

from tests.conftest import Account, run_cli
from wizard.report import html_report, markdown


def applied(account: Account) -> str:
    assert run_cli(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False).code == 0
    password = keyring.get_password("aws-harden", "123456789012/admin/console-password")
    assert password
    return password


def test_json_report_has_the_documented_fields(account: Account) -> None:
    payload = json.loads(run_cli(["check", "--output", "json"]).out)
    required = {"schema", "schema_version", "tool", "command", "time", "account", "caller", "region", "steps"}
    assert required <= set(payload)
    assert payload["tool"]["name"] == "aws-harden" and payload["tool"]["version"]
    step = payload["steps"][0]
    assert {"id", "status", "reason", "findings", "controls", "severity", "accepted_exceptions"} <= set(step)
    assert {"text", "severity", "observed"} <= set(step["findings"][0])
    frameworks = {c["framework"] for s in payload["steps"] for c in s["controls"]}
    assert {"CIS AWS v7.0", "CIS AWS v5.0", "AWS Security Hub", "Prowler"} <= frameworks


def test_markdown_report_for_auditors(account: Account, tmp_path: Path) -> None:
    password = applied(account)
    path = tmp_path / "evidence.md"
    result = run_cli(["check", "--report", str(path), "--only", "admin-user,admin-group"])
    assert result.code == 0, result.text
    text = path.read_text()
    assert "123456789012" in text and "arn:aws:iam::123456789012:root" in text
    assert "| admin-group | PASS | 2.13 | 1.14 | IAM.2 | iam_policy_attached_only_to_group_or_roles |" in text
    assert "Accepted exception for `FullAccess`" in text and "iam_group_administrator_access_policy" in text
    assert "group FullAccess: policies AdministratorAccess; members admin" in text
    assert password not in text


def test_html_report_escapes_everything(account: Account, tmp_path: Path) -> None:
    path = tmp_path / "evidence.html"
    assert run_cli(["check", "--report", str(path)]).code == 2
    text = path.read_text()
    assert text.startswith("<!doctype html>") and "FAIL" in text and "CIS AWS v7.0 2.7" in text
    report = json.loads(run_cli(["check", "--output", "json"]).out)
    report["steps"][0]["findings"][0]["text"] = "<script>alert(1)</script>"
    rendered = html_report(report)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    report["steps"][0]["reason"] = "a | b"
    assert "a \\| b" in markdown(report)


def test_report_needs_a_known_extension(account: Account, tmp_path: Path) -> None:
    result = run_cli(["check", "--report", str(tmp_path / "evidence.pdf")])
    assert result.code == 1 and ".md or .html" in result.err


def test_ocsf_detection_findings(account: Account) -> None:
    applied(account)
    result = run_cli(["check", "--output", "ocsf", "--only", "admin-user,admin-group"])
    assert result.code == 0
    findings = json.loads(result.out)
    assert len(findings) == 2
    for finding in findings:
        assert finding["class_uid"] == 2004 and finding["category_uid"] == 2 and finding["type_uid"] == 200401
        assert finding["status_code"] == "PASS"
        assert finding["cloud"]["account"]["uid"] == "123456789012"
        assert finding["metadata"]["product"]["name"] == "aws-harden"
    group = next(f for f in findings if f["metadata"]["event_code"] == "admin-group")
    assert "CIS AWS v7.0 2.13" in group["compliance"]["requirements"]
    assert group["unmapped"]["muted"] is True


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
