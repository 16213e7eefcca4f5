"""The command line as a contract: exit codes, JSON output, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from tests import harness
from tests.conftest import Account, Terminal, run_cli
from wizard.protocol import SHOWN_ONCE


def test_plan_with_changes_exits_2_and_prints_summary(account: Account) -> None:
    result = run_cli(["plan", "--only", "admin-user,admin-group"])
    assert result.code == 2, result.text
    assert "Plan: 5 to add, 0 to change, 0 to delete, 0 for the operator." in result.out
    assert '+ iam user "admin"' in result.out


def test_plan_without_changes_exits_0(account: Account) -> None:
    assert run_cli(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False).code == 0
    result = run_cli(["plan", "--only", "admin-user,admin-group"])
    assert result.code == 0 and "No changes." in result.out


def test_check_noncompliant_exits_2_then_0_after_apply(account: Account) -> None:
    result = run_cli(["check", "--only", "admin-user,admin-group"])
    assert result.code == 2
    assert "not compliant" in result.out
    assert run_cli(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False).code == 0
    assert run_cli(["check", "--only", "admin-user,admin-group"]).code == 0


def test_check_json_is_one_object_on_stdout(account: Account) -> None:
    result = run_cli(["check", "--output", "json", "--only", "admin-user,admin-group"])
    assert result.code == 2
    payload = json.loads(result.out)
    assert payload["account"] == "123456789012"
    assert payload["caller"]["type"] == "root"
    assert payload["caller"]["arn"] == "arn:aws:iam::123456789012:root"
    assert [s["id"] for s in payload["steps"]] == ["admin-user", "admin-group"]
    assert {s["status"] for s in payload["steps"]} == {"noncompliant"}
    assert payload["schema_version"] == 3


def test_plan_json_marks_secrets_sensitive(account: Account) -> None:
    payload = json.loads(run_cli(["plan", "--output", "json", "--only", "admin-user"]).out)
    fields = {f["name"]: f["new"] for c in payload["steps"][0]["changes"] for f in c["fields"]}
    assert fields["password"] == "(sensitive value)"
    assert payload["summary"] == "Plan: 2 to add, 0 to change, 0 to delete, 0 for the operator."


def test_apply_declined_exits_2_and_summary_says_what_is_left(account: Account) -> None:
    # name, agree admin-user? no; group name, agree admin-group? no
    answers: list[object] = ["admin", False, False, "FullAccess", False]
    result = run_cli(["apply", "--only", "admin-user,admin-group"], answers=answers)
    assert result.code == 2, result.text
    assert "Still to do: admin-user, admin-group" in result.out
    assert account.raw("iam").list_users()["Users"] == []


def test_apply_interactive_creates_with_typed_names(account: Account) -> None:
    answers: list[object] = ["bad name!", "alice", False, True, "Admins", True]
    result = run_cli(["apply", "--only", "admin-user,admin-group"], answers=answers)
    assert result.code == 0, result.text
    assert result.prompter is not None
    assert result.prompter.rejected[0][0] == "bad name!"
    assert [u["UserName"] for u in account.raw("iam").get_group(GroupName="Admins")["Users"]] == ["alice"]


def test_ctrl_c_at_a_prompt_exits_130_and_changes_nothing(account: Account) -> None:
    result = run_cli(["apply"], answers=[KeyboardInterrupt])
    assert result.code == 130
    assert "interrupted" in result.err and "Traceback" not in result.text
    assert account.raw("iam").list_users()["Users"] == []


def test_ctrl_c_after_first_step_keeps_it_and_rerun_continues(account: Account) -> None:
    result = run_cli(["apply", "--only", "admin-user,admin-group"], answers=["admin", False, True, KeyboardInterrupt])
    assert result.code == 130
    assert [u["UserName"] for u in account.raw("iam").list_users()["Users"]] == ["admin"]
    again = run_cli(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False)
    assert again.code == 0 and "already compliant" in again.out


def test_closed_stdin_is_a_one_line_error(account: Account) -> None:
    result = run_cli(["apply"], answers=[])
    assert result.code == 1
    assert result.err.strip().count("\n") == 0 and "stdin closed" in result.err


def test_apply_without_terminal_and_without_yes_refuses(account: Account) -> None:
    result = run_cli(["apply"], tty=False)
    assert result.code == 1 and "needs a terminal" in result.err
    assert account.raw("iam").list_users()["Users"] == []


def test_no_credentials_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    result = run_cli(["check"])
    assert result.code == 1
    assert "no AWS credentials found" in result.err
    assert "Traceback" not in result.text and result.err.count("\n") == 1


def test_unknown_profile_is_a_one_line_error() -> None:
    result = run_cli(["check", "--profile", "nope"])
    assert result.code == 1 and "nope" in result.err and "Traceback" not in result.text


def test_unknown_region_is_an_error(account: Account) -> None:
    result = run_cli(["check", "--region", "mars-north-1"])
    assert result.code == 1 and "unknown region 'mars-north-1'" in result.err


def test_unreachable_endpoint_is_a_one_line_error(account: Account) -> None:
    result = run_cli(["check", "--endpoint-url", "http://127.0.0.1:9"])
    assert result.code == 1 and "cannot reach AWS" in result.err and "Traceback" not in result.text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--only", "nope"], "unknown step 'nope'"),
        (["--only", "budget-alarm-x"], "unknown step"),
        (["--output", "json"], "--output json is for check and plan"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_1(account: Account, argv: list[str], message: str) -> None:
    result = run_cli(argv, tty=False)
    assert result.code == 1 and message in result.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[admin-user]\nnmae = "x"\n', "has no question 'nmae'"),
        ('[no-such-step]\nname = "x"\n', "unknown step [no-such-step]"),
        ('[admin-user]\nname = "bad name!"\n', "only letters, digits"),
        ("[admin-user]\nname = 3\n", "expected text"),
        ("[admin-user\n", "not valid TOML"),
        ('admin-user = "x"\n', "must be a table"),
    ],
)
def test_bad_answers_file_is_an_error_before_any_call(
    account: Account, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "answers.toml"
    path.write_text(content)
    result = run_cli(["apply", "--yes", "--answers", str(path)], tty=False)
    assert result.code == 1 and message in result.err, result.err
    assert account.raw("iam").list_users()["Users"] == []


def test_missing_answers_file(account: Account, tmp_path: Path) -> None:
    result = run_cli(["plan", "--answers", str(tmp_path / "none.toml")])
    assert result.code == 1 and "answers file not found" in result.err


def test_steps_lists_every_step_and_says_which_are_not_built() -> None:
    result = run_cli(["steps"], width=200)
    assert result.code == 0
    import steps

    for step_id in steps.all_ids():
        assert step_id in result.out
    if steps.not_built():
        assert "not built yet" in result.out
    assert "v7.0 2.4" in result.out and "IAM.4" in result.out and "iam_no_root_access_key" in result.out
    # Controls no step brings to PASS are listed too: check evaluates and reports them.
    others = result.out.split("controls no step remediates")[1]
    assert "iam_avoid_root_usage" in others and "iam_root_hardware_mfa_enabled" in others
    assert "iam_no_root_access_key" not in others


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        harness.run("--help")
    assert exc.value.code == 0
    assert "plan" in capsys.readouterr().out


def has_login_profile(account: Account, user: str) -> bool:
    iam = account.raw("iam")
    try:
        iam.get_login_profile(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


class TestKeyring:
    def test_password_goes_to_keyring_and_nowhere_else(self, account: Account, tmp_path: Path) -> None:
        result = run_cli(["apply", "--yes", "--only", "admin-user"], tty=False)
        assert result.code == 0, result.text
        password = keyring.get_password("aws-harden", "123456789012/admin/console-password")
        assert password and len(password) >= 24
        assert password not in result.text
        for path in (tmp_path / "state").rglob("*"):
            if path.is_file():
                assert password not in path.read_text(encoding="utf-8", errors="replace")
        assert "entry '123456789012/admin/console-password'" in " ".join(result.out.split())

    def test_no_keyring_with_yes_aborts_before_setting_a_password(self, account: Account) -> None:
        keyring.set_keyring(fail.Keyring())
        result = run_cli(["apply", "--yes", "--only", "admin-user"], tty=False)
        assert result.code == 1 and "no working keyring" in result.err
        assert not has_login_profile(account, "admin")

    def test_no_keyring_operator_chooses_abort(self, account: Account) -> None:
        keyring.set_keyring(fail.Keyring())
        result = run_cli(["apply", "--only", "admin-user"], answers=["admin", False, True, "Abort; set no password"])
        assert result.code == 1 and "aborted" in result.err
        assert not has_login_profile(account, "admin")

    @pytest.mark.shows_secret("the operator chose to see the password once")

    def test_no_keyring_operator_chooses_to_see_it_once(self, account: Account, tty: Terminal) -> None:
        keyring.set_keyring(fail.Keyring())
        choice = "Show it once on this screen; I will store it myself"
        result = run_cli(["apply", "--only", "admin-user"], answers=["admin", False, True, choice])
        assert result.code == 0, result.text
        # stdout is redirected (a StringIO): the password went to the terminal only.
        assert tty.text().count("(shown once; it is not stored)") == 1
        assert "shown once" not in result.out.replace(SHOWN_ONCE, "")
        assert has_login_profile(account, "admin")

    def test_no_keyring_and_no_terminal_offers_only_to_abort(self, account: Account, tty: Terminal) -> None:
        keyring.set_keyring(fail.Keyring())
        tty.present = False
        result = run_cli(["apply", "--only", "admin-user"], answers=["admin", False, True, "Abort; set no password"])
        assert result.code == 1
        assert result.prompter is not None
        assert result.prompter.offered == [["Abort; set no password"]]  # showing it is not even offered
        assert not has_login_profile(account, "admin")
