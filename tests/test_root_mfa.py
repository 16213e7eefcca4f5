"""root-mfa: verified through GetAccountSummary, guided in the console, re-checked while the operator works;
and a sandbox walk-through of both MFA steps that survives a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from steps.root_mfa import SECURITY_CREDENTIALS_URL
from tests.conftest import Account, run_cli
from wizard.interaction import (
    CHECK_NOW,
    OPEN_PAGE,
    POLL_CHECKS,
    POLL_INTERVAL,
    SANDBOX_STAND_IN,
    SIMULATE,
    SKIP,
    WAIT,
)
from wizard.sandbox.root_user import ROOT_NAME, assign_root_mfa

ROOT_ONLY = ["apply", "--only", "root-mfa"]


def journal_results(tmp_path: Path) -> list[str]:
    path = tmp_path / "state" / "journal" / "123456789012.jsonl"
    return [json.loads(line)["result"] for line in path.read_text().splitlines()]


def test_waiting_re_checks_until_root_has_mfa(account: Account, tmp_path: Path) -> None:
    calls: list[float] = []

    def operator_works(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 3:  # the operator finishes in the console during the third pause
            assign_root_mfa(account.raw("iam"))

    result = run_cli(ROOT_ONLY, [WAIT], sleep=operator_works)
    assert result.code == 0, result.text
    assert result.slept == [POLL_INTERVAL] * 3
    assert "✓ done" in result.out and "✓ verified" in result.out
    assert journal_results(tmp_path)[-1] == "operator-done"


def test_waiting_then_skip_leaves_it_pending(account: Account, tmp_path: Path) -> None:
    result = run_cli(ROOT_ONLY, [WAIT, SKIP])
    assert result.code == 2, result.text
    assert result.slept == [POLL_INTERVAL] * POLL_CHECKS
    assert "not yet" in result.out and "needs the operator" in result.out
    assert journal_results(tmp_path)[-1] == "operator-skipped"


def test_ctrl_c_stops_the_waiting_only(account: Account) -> None:
    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    result = run_cli(ROOT_ONLY, [WAIT, CHECK_NOW, SKIP], sleep=interrupted)
    assert result.code == 2, result.text
    assert "stopped waiting" in result.out and len(result.slept) == 1


def test_offers_the_console_page_in_the_browser(account: Account) -> None:
    result = run_cli(ROOT_ONLY, [OPEN_PAGE, SKIP])
    assert result.opened == [SECURITY_CREDENTIALS_URL]
    assert "Assign MFA device" in result.out and "opened in your browser" in result.out
    assert result.prompter is not None
    choices_asked = result.prompter.asked
    assert choices_asked == ["assign an MFA device to the root user in the console:"] * 2


def test_no_sandbox_stand_in_outside_the_sandbox(account: Account) -> None:
    result = run_cli(ROOT_ONLY, [SANDBOX_STAND_IN])  # the scripted prompter refuses a choice not offered
    assert result.code == 1 and "is not one of" in result.err
    assert SANDBOX_STAND_IN not in result.err.split("is not one of", 1)[1]


def test_unattended_apply_and_check_report_it_for_the_operator(account: Account) -> None:
    assert run_cli(["apply", "--yes", "--only", "root-mfa"], tty=False).code == 2
    result = run_cli(["check", "--only", "root-mfa", "--output", "json"], tty=False)
    (step,) = json.loads(result.out)["steps"]
    assert result.code == 2 and step["status"] == "manual"
    assert step["findings"][0]["observed"] == {"AccountMFAEnabled": 0}


def test_reports_roots_virtual_device(account: Account) -> None:
    serial = assign_root_mfa(account.raw("iam"))
    assert serial == "arn:aws:iam::123456789012:mfa/root-account-mfa-device"
    result = run_cli(["check", "--only", "root-mfa", "--output", "json"], tty=False)
    (step,) = json.loads(result.out)["steps"]
    assert result.code == 0 and step["status"] == "compliant"
    assert step["findings"][0]["observed"] == {"AccountMFAEnabled": 1, "root_virtual_devices": [serial]}
    assert "CIS 2.6" in step["findings"][0]["text"]


def test_reports_a_non_virtual_root_device(account: Account) -> None:
    # A hardware device: root has MFA but no virtual device is assigned to it.
    iam = account.raw("iam")
    iam.enable_mfa_device(
        UserName=ROOT_NAME,
        SerialNumber="GAHT12345678",
        AuthenticationCode1="123456",
        AuthenticationCode2="234567",
    )
    result = run_cli(["check", "--only", "root-mfa", "--output", "json"], tty=False)
    (step,) = json.loads(result.out)["steps"]
    assert step["status"] == "compliant" and "not a virtual device" in step["findings"][0]["text"]


def test_sandbox_walk_through_survives_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import steps.user_mfa as user_mfa
    from wizard import totp

    seeds: list[Any] = []
    original = totp.seed_of
    monkeypatch.setattr(user_mfa.totp, "seed_of", lambda d: seeds.append(original(d)) or seeds[-1])
    only = ["--only", "admin-user,admin-group,user-mfa,root-mfa"]
    # admin-user: name, no access key, agree; admin-group: name, agree; user-mfa: other users, enforce, agree; then the
    # simulated authenticator; root-mfa: the sandbox stand-in for the console.
    answers = [None, False, True, None, True, False, True, True, SIMULATE, SANDBOX_STAND_IN]
    first = run_cli(["apply", "--sandbox-reset", *only], answers)
    assert first.code == 0, first.text
    assert "SANDBOX ONLY" not in first.out  # choices are prompts, not output; the labels below are output
    assert " SANDBOX  simulated app: 2 codes typed" in first.out
    assert " SANDBOX  stood in for the console" in first.out

    # MFA enforcement waits: the new admin has not signed in yet to set its own password.
    assert "admin must still set a new password at the first sign-in" in first.out
    # A new process-like run: the sandbox restarts and replays; root MFA and the admin's device are still there.
    check = run_cli(["check", "--sandbox", *only, "--output", "json"], tty=False)
    assert check.code == 0, check.text
    report = {s["id"]: s for s in json.loads(check.out)["steps"]}
    assert report["root-mfa"]["findings"][0]["observed"]["root_virtual_devices"] == [
        "arn:aws:iam::123456789012:mfa/root-account-mfa-device"
    ]
    assert ROOT_NAME not in check.out  # the stand-in root is never an "IAM user"
    assert report["user-mfa"]["findings"][0]["text"] == "admin: MFA on (1 device), left as it is"

    seed = seeds[0].reveal()
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert seed not in path.read_text(errors="replace"), path
