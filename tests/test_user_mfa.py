"""user-mfa against moto, through the real Prompter interface: enrollment, its failures, enforcement."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import steps.user_mfa as user_mfa
from steps.user_mfa import ENFORCE_POLICY, ENFORCE_POLICY_NAME, STEP, Enforce, UserMfaState
from tests import harness
from tests.conftest import Account, Terminal
from tests.harness import Phone
from tests.lockdown_support import mark_as_wizards
from wizard.aws import Caller
from wizard.interaction import CANCEL, ENTER_CODES, SHOW_KEY
from wizard.protocol import ApplyContext, ChangeSkipped, StepContext
from wizard.render import qr_text
from wizard.secrets import Secret


def run(
    argv: Sequence[str], answers: Sequence[object] | None = None, setup: Callable[[Any], None] | None = None
) -> harness.Result:
    """The program (tests/harness.py's run), at a terminal when there are answers; `setup` sees each Aws.
    Scripted answers; a callable answer is computed when its prompt comes (a code read off the Phone)."""
    return harness.run(*argv, answers=answers, stdin="pipe" if answers is None else "tty", observe=setup)


def make_admin(account: Account, name: str = "admin", group: str = "FullAccess") -> None:
    """The admin and its group as an earlier aws-harden run left them (password already changed)."""
    iam = account.raw("iam")
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="x-Initial-Passw0rd!")
    mark_as_wizards(iam, name, "x-Initial-Passw0rd!")
    iam.create_group(GroupName=group, Path="/aws-harden/")
    iam.add_user_to_group(GroupName=group, UserName=name)


def give_mfa(account: Account, name: str) -> str:
    iam = account.raw("iam")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName=name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="234567"
    )
    return str(serial)


def devices(account: Account) -> list[dict[str, Any]]:
    return list(account.raw("iam").list_virtual_mfa_devices()["VirtualMFADevices"])


ONLY = ["apply", "--only", "user-mfa"]
# The two questions (other users, enforcement) and the agreement to apply.
ASKED = [False, False, True]


def test_enrollment_with_typed_codes_assigns_the_device(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_admin(account)
    phone = Phone(monkeypatch)
    result = run(ONLY, [*ASKED, ENTER_CODES, *phone.codes()])
    assert result.code == 0, result.text
    assert result.writes == ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice"]
    (device,) = devices(account)
    assert device["SerialNumber"].endswith(":mfa/admin") and device["User"]["UserName"] == "admin"
    assert [
        d["SerialNumber"] for d in account.raw("iam").list_mfa_devices(UserName="admin")["MFADevices"]
    ] == [device["SerialNumber"]]
    assert "✓ verified" in result.out


@pytest.mark.shows_secret("the operator asked for the key as text")


def test_cant_scan_shows_the_key_and_the_qr_code_encodes_it(
    account: Account, monkeypatch: pytest.MonkeyPatch, tty: Terminal
) -> None:
    make_admin(account)
    phone = Phone(monkeypatch)
    result = run(ONLY, [*ASKED, SHOW_KEY, ENTER_CODES, *phone.codes()])
    assert result.code == 0, result.text
    seed = phone.seeds[-1].reveal()
    grouped = " ".join(seed[i : i + 4] for i in range(0, len(seed), 4))
    # stdout is redirected (a StringIO): the QR code and the key went to the terminal, never to stdout.
    assert f"secret key (type it into the app as a time-based key):\n    {grouped}\n" in tty.text()
    expected_qr = qr_text(user_mfa.otpauth_uri("admin", "123456789012", Secret(seed)).reveal())
    assert expected_qr in tty.text()
    assert grouped not in result.text and expected_qr not in result.text
    assert "scan this QR code" in result.out


def test_a_redirected_stdout_without_a_terminal_enrolls_nothing(
    account: Account, monkeypatch: pytest.MonkeyPatch, tty: Terminal
) -> None:
    """`aws-harden apply > log` with no controlling terminal: the QR code has nowhere safe to go, so the
    enrollment is skipped before a device exists (the seed never reaches the log)."""
    make_admin(account)
    tty.present = False
    phone = Phone(monkeypatch)
    result = run(ONLY, [*ASKED])
    assert result.code == 2, result.text
    said = " ".join(result.text.split())
    assert "shown only on a terminal, and stdout is redirected with no terminal to write to (/dev/tty)" in said
    assert phone.seeds == [] and result.writes == []
    assert account.raw("iam").list_virtual_mfa_devices()["VirtualMFADevices"] == []


def test_codes_are_checked_locally_before_aws_sees_them(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_admin(account)
    phone = Phone(monkeypatch)
    same = phone.typed(0)
    # Try 1: non-digits (re-asked by the prompt), then the same code twice. Try 2: stale codes. Try 3: good.
    result = run(
        ONLY,
        [
            *ASKED,
            ENTER_CODES,
            "12a456",
            same,
            same,
            ENTER_CODES,
            phone.typed(-12),
            phone.typed(-11),
            ENTER_CODES,
            *phone.codes(),
        ],
    )
    assert result.code == 0, result.text
    assert result.prompter is not None
    assert result.prompter.rejected == [("12a456", "a code is the 6 digits the app shows now (digits only)")]
    assert "the two codes are the same" in result.out and "(2 tries left)" in result.out
    assert "minutes old" in result.out and "(1 try left)" in result.out
    # Only the good pair reached AWS.
    assert result.writes == ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice"]


def test_three_wrong_tries_delete_the_device_and_leave_the_step_pending(account: Account) -> None:
    make_admin(account)
    wrong = [ENTER_CODES, "111111", "222222"]
    result = run(ONLY, [*ASKED, *wrong, *wrong, *wrong])
    assert result.code == 2, result.text
    assert result.writes == ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"]
    assert devices(account) == []
    assert "did not finish; the unused device was deleted" in result.out
    assert account.raw("iam").list_mfa_devices(UserName="admin")["MFADevices"] == []


def test_aws_refusing_the_codes_takes_the_same_helpful_path(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_admin(account)
    phone = Phone(monkeypatch)
    refusals = [1]

    def refuse_once(**_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        if refusals:
            refusals.pop()
            error = {
                "Error": {
                    "Code": "InvalidAuthenticationCode",
                    "Message": "Authentication code for device is not valid.",
                }
            }
            return AWSResponse("https://iam.amazonaws.com/", 403, {}, None), error
        return None

    def setup(aws: Any) -> None:
        aws.client("iam").meta.events.register("before-call.iam.EnableMFADevice", refuse_once)

    result = run(ONLY, [*ASKED, ENTER_CODES, *phone.codes(), ENTER_CODES, *phone.codes()], setup=setup)
    assert result.code == 0, result.text
    assert "AWS did not accept these codes" in result.out
    assert len(account.raw("iam").list_mfa_devices(UserName="admin")["MFADevices"]) == 1


def test_cancel_deletes_the_device(account: Account) -> None:
    make_admin(account)
    result = run(ONLY, [*ASKED, CANCEL])
    assert result.code == 2 and devices(account) == []


def test_ctrl_c_mid_enrollment_deletes_the_device_then_stops(account: Account, tmp_path: Path) -> None:
    make_admin(account)
    result = run(ONLY, [*ASKED, ENTER_CODES, "123456", KeyboardInterrupt])
    assert result.code == 130, result.text
    assert result.writes == ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"]
    assert devices(account) == []
    journal = (tmp_path / "state" / "journal" / "123456789012.jsonl").read_text()
    assert '"result": "interrupted"' in journal


def test_a_device_left_by_a_killed_run_is_replaced(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    make_admin(account)
    account.raw("iam").create_virtual_mfa_device(VirtualMFADeviceName="admin")  # unassigned leftover
    phone = Phone(monkeypatch)
    result = run(ONLY, [*ASKED, ENTER_CODES, *phone.codes()])
    assert result.code == 0, result.text
    assert [d.get("User", {}).get("UserName") for d in devices(account)] == ["admin"]


def test_unattended_apply_skips_enrollment_without_a_write(account: Account) -> None:
    make_admin(account)
    result = run(["apply", "--yes", "--only", "user-mfa"])
    assert result.code == 2 and result.writes == [], result.text
    assert "needs the person with the phone at a terminal" in result.text


def test_second_apply_sends_no_write_and_users_with_mfa_are_untouched(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_admin(account)
    phone = Phone(monkeypatch)
    assert run(ONLY, [*ASKED, ENTER_CODES, *phone.codes()]).code == 0
    again = run(["apply", "--yes", "--only", "user-mfa"])
    assert again.code == 0 and again.writes == [], again.text
    assert "already compliant" in again.out and "admin: MFA on (1 device), left as it is" in again.out
    assert run(["check", "--only", "user-mfa"]).code == 0


def test_seed_never_reaches_output_journal_state_or_logs(
    account: Account, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_admin(account)
    phone = Phone(monkeypatch)
    caplog.set_level(logging.DEBUG)
    result = run(ONLY, [*ASKED, ENTER_CODES, *phone.codes()])
    assert result.code == 0, result.text
    seed = phone.seeds[-1].reveal()
    assert len(seed) >= 16
    assert seed not in result.text
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert seed not in path.read_text(errors="replace"), path
    import base64

    for form in (seed, base64.b64encode(seed.encode()).decode()):  # the XML body carries it base64-encoded
        assert form not in caplog.text
        assert form not in result.text
    assert any("EnableMFADevice" in r.getMessage() for r in caplog.records)  # logging was on


def test_other_console_users_are_listed_for_the_operator_unless_enrolled_here(account: Account) -> None:
    make_admin(account)
    give_mfa(account, "admin")
    iam = account.raw("iam")
    iam.create_user(UserName="bob")
    iam.create_login_profile(UserName="bob", Password="x-Initial-Passw0rd!")
    iam.create_user(UserName="ci-bot")  # no console access: not CIS 2.10's concern
    result = run(["check", "--only", "user-mfa", "--output", "json"])
    (step,) = json.loads(result.out)["steps"]
    assert step["status"] == "manual"
    assert [(c["action"], c["key"], c["resource"]) for c in step["changes"]] == [
        ("!", "user-enrolls", 'MFA for "bob"')
    ]
    assert "ci-bot" not in json.dumps(step) and "aws-harden-sandbox-root" not in result.out
    # The control is about the whole account: one verdict per user, the user without a console included.
    (control,) = [c for c in json.loads(result.out)["controls"] if c["id"] == "iam_user_mfa_enabled_console_access"]
    assert {r["id"]: r["status"] for r in control["resources"]} == {"admin": "PASS", "bob": "FAIL", "ci-bot": "PASS"}


def test_enforcement_is_refused_while_a_member_lacks_mfa(account: Account, tmp_path: Path) -> None:
    make_admin(account)
    give_mfa(account, "admin")
    account.raw("iam").create_user(UserName="bob")
    account.raw("iam").add_user_to_group(GroupName="FullAccess", UserName="bob")
    answers = tmp_path / "answers.toml"
    answers.write_text("[user-mfa]\nenforce = true\n")
    plan = run(["plan", "--only", "user-mfa", "--answers", str(answers)])
    assert plan.code == 0, plan.text
    assert "MFA enforcement for group FullAccess waits: bob has no MFA device yet" in plan.out
    applied = run(["apply", "--yes", "--only", "user-mfa", "--answers", str(answers)])
    assert applied.code == 0 and applied.writes == [], applied.text
    assert account.raw("iam").list_group_policies(GroupName="FullAccess")["PolicyNames"] == []


def test_enforcement_guard_holds_at_apply_time_too(account: Account) -> None:
    """Even with a planned change, apply re-reads the group: a member without MFA means no policy."""
    make_admin(account)
    aws = account.aws()
    base = StepContext("user-mfa", aws.caller(), "us-east-1", lambda s, k: None)
    with aws.guard.allowing(STEP.writes), pytest.raises(ChangeSkipped, match="admin has no MFA yet"):
        Enforce("FullAccess", "admin").apply(aws, ApplyContext(base, lambda *a: "", lambda *a: None))
    assert aws.guard.sent_writes == []


def test_enforcement_attached_when_every_member_has_mfa(account: Account, tmp_path: Path) -> None:
    make_admin(account)
    give_mfa(account, "admin")
    answers = tmp_path / "answers.toml"
    answers.write_text("[user-mfa]\nenforce = true\n")
    applied = run(["apply", "--yes", "--only", "user-mfa", "--answers", str(answers)])
    assert applied.code == 0 and applied.writes == ["iam:PutGroupPolicy"], applied.text
    document = account.raw("iam").get_group_policy(GroupName="FullAccess", PolicyName=ENFORCE_POLICY_NAME)
    assert document["PolicyDocument"] == ENFORCE_POLICY
    again = run(["apply", "--yes", "--only", "user-mfa", "--answers", str(answers)])
    assert again.code == 0 and again.writes == [], again.text


def plan_ctx(caller_arn: str, answers: dict[str, Any]) -> StepContext:
    values = {("admin-user", "name"): "admin", ("admin-group", "name"): "FullAccess"}
    values.update({("user-mfa", k): v for k, v in answers.items()})
    return StepContext(
        "user-mfa", Caller(caller_arn, "111122223333", "x"), "us-east-1", lambda s, k: values.get((s, k))
    )


def test_plan_enrolls_a_not_yet_created_admin_and_waits_for_a_member_caller() -> None:
    fresh = UserMfaState("admin", (), "FullAccess", group_exists=False)
    root = plan_ctx("arn:aws:iam::111122223333:root", {"enforce": True})
    assert [c.key for c in STEP.plan(fresh, root)] == ["enroll", "enforce"]
    as_admin = plan_ctx("arn:aws:iam::111122223333:user/admin", {"enforce": True})
    assert [c.key for c in STEP.plan(fresh, as_admin)] == ["enroll"]
    (waits,) = [f for f in STEP.findings(fresh, as_admin) if f.severity == "warning"]
    assert "this run signs in as admin, a member" in waits.text
