"""The journal: what was applied, by whom, with what result; never a secret; unfinished work reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring

from steps.admin_user import CreateUser
from tests.conftest import Account, run_cli
from wizard.journal import Journal
from wizard.protocol import Action, Change, FieldChange


def journal_lines(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "state" / "journal" / "123456789012.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_applied_change_is_journaled_with_its_result(account: Account, tmp_path: Path) -> None:
    assert run_cli(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False).code == 0
    entries = journal_lines(tmp_path)
    done = [(e["step"], e["change"]["key"]) for e in entries if e["result"] == "ok"]  # type: ignore[index]
    assert done == [
        ("admin-user", "create-user"),
        ("admin-user", "console-access"),
        ("admin-group", "create-group"),
        ("admin-group", "attach-policy"),
        ("admin-group", "add-member"),
    ]
    for entry in entries:
        assert entry["account"] == "123456789012"
        assert entry["caller"] == "arn:aws:iam::123456789012:root"
        assert entry["time"]
    password = keyring.get_password("aws-harden", "123456789012/admin/console-password")
    assert password and password not in (tmp_path / "state" / "journal" / "123456789012.jsonl").read_text()
    assert (tmp_path / "state" / "journal" / "123456789012.jsonl").stat().st_mode & 0o077 == 0


def test_failed_change_is_journaled(account: Account, tmp_path: Path) -> None:
    from botocore.awsrequest import AWSResponse

    from tests.lockdown_support import run

    def too_many_groups(client: Any, service: str, region: str) -> None:  # IAM: 10 groups per user at most
        client.meta.events.register("before-call.iam.AddUserToGroup", lambda **_: (
            AWSResponse(None, 409, {}, None), {"Error": {"Code": "LimitExceeded", "Message": "10 groups"}}))

    result = run(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False, hook=too_many_groups)
    assert result.code == 1
    assert "admin-group" in result.text and "AddUserToGroup" in result.text
    failed = [e for e in journal_lines(tmp_path) if e["result"] == "failed"]
    assert len(failed) == 1 and "LimitExceeded" in str(failed[0]["detail"])


def test_a_change_started_and_never_ended_is_reported_once(account: Account, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "state", "123456789012", "arn:aws:iam::123456789012:root", "apply")
    change = Change(Action.CREATE, CreateUser("admin"), 'iam user "admin"', "create IAM user admin")
    journal.record("admin-user", "started", change)  # then the process was killed
    result = run_cli(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False)
    assert result.code == 0
    assert 'the last run stopped during admin-user: iam user "admin"' in " ".join(result.err.split())
    assert journal.unfinished() == []
    assert "stopped during" not in run_cli(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False).err


def test_a_change_an_older_version_left_open_under_its_old_key_is_reported_and_closed(
    account: Account, tmp_path: Path
) -> None:
    """Before typed operations password-policy's change was journaled as "policy" (now "set-password-policy"):
    a run stopped by that version is still reported, closed once, and the account re-read decides the rest."""
    path = tmp_path / "state" / "journal" / "123456789012.jsonl"
    path.parent.mkdir(parents=True)
    old = {"action": "+", "key": "policy", "resource": "account password policy", "summary": "set a strong "
           "password policy", "operations": ["iam:UpdateAccountPasswordPolicy"], "fields": []}
    path.write_text(json.dumps({"time": "2026-01-01T00:00:00+00:00", "account": "123456789012", "mode": "apply",
                                "caller": "arn:aws:iam::123456789012:root", "step": "password-policy",
                                "result": "started", "change": old}) + "\n")
    result = run_cli(["apply", "--yes", "--only", "password-policy"], tty=False)
    assert result.code == 0, result.text
    assert "the last run stopped during password-policy: account password policy" in " ".join(result.err.split())
    keys = [(e["result"], e["change"]["key"]) for e in journal_lines(tmp_path) if "change" in e]  # type: ignore[index]
    assert keys[:2] == [("started", "policy"), ("resumed", "policy")]
    assert ("ok", "set-password-policy") in keys
    assert "stopped during" not in run_cli(["apply", "--yes", "--only", "password-policy"], tty=False).err


def test_sensitive_fields_never_reach_the_record() -> None:
    change = Change(
        Action.UPDATE, CreateUser("r"), "r", "s",
        fields=(FieldChange("password", "old-secret", "new-secret", sensitive=True),),
    )
    text = json.dumps(change.as_record())
    assert "secret" not in text and "(sensitive value)" in text
