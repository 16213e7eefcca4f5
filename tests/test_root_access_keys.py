"""root-access-keys against moto: the running key goes last, only when confirmed by its id, and nothing
is sent to AWS after it is gone; as a non-root caller it is an operator action the engine re-checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Account
from tests.lockdown_support import LOCKDOWN, Driver, create_admin, journal_entries, key_in, run
from wizard.sandbox.root_user import ROOT_NAME


def root_keys(account: Account) -> list[str]:
    listed = account.raw("iam").list_access_keys(UserName=ROOT_NAME)["AccessKeyMetadata"]
    return [k["AccessKeyId"] for k in listed]


def answers(tmp_path: Path, text: str) -> str:
    path = tmp_path / "answers.toml"
    path.write_text(text)
    return str(path)


def test_running_key_deleted_last_then_no_more_aws_calls(account: Account, tmp_path: Path) -> None:
    other = account.raw("iam").create_access_key(UserName=ROOT_NAME)["AccessKey"]["AccessKeyId"]
    file = answers(tmp_path, f'[root-access-keys]\nconfirm_delete_running_key = "{account.root_key}"\n')
    result = run(["apply", "--yes", "--only", LOCKDOWN, "--answers", file], tty=False)
    assert result.code == 0, result.text
    # The other root key is deactivated, then deleted in its step; the running key is the last write...
    assert result.writes.index("iam:UpdateAccessKey") < result.writes.index("iam:UpdateAccountPasswordPolicy")
    assert result.writes[-1] == "iam:DeleteAccessKey"
    assert result.writes.count("iam:DeleteAccessKey") == 2
    # ...and the last AWS call of the run at all: nothing is sent with the dead key.
    assert result.operations[-1] == "DeleteAccessKey"
    assert root_keys(account) == []
    assert f"deactivate, then delete root access key {other}" in result.text
    assert "continue as the admin" in result.text and "Sign in to the console at https://" in result.text
    assert "could not be read back" in result.text
    deletes = [e for e in journal_entries() if e["step"] == "root-access-keys" and e["result"] == "ok"]
    assert [e["change"]["resource"] for e in deletes][-1] == f'root access key "{account.root_key}"'


def test_unattended_without_confirmation_leaves_the_running_key(account: Account, tmp_path: Path) -> None:
    result = run(["apply", "--yes", "--only", LOCKDOWN], tty=False)
    assert result.code == 2, result.text
    assert root_keys(account) == [account.root_key]
    assert "iam:DeleteAccessKey" not in result.writes
    assert f'confirm_delete_running_key = "{account.root_key}"' in result.text


def test_unattended_with_another_key_id_does_not_delete(account: Account, tmp_path: Path) -> None:
    file = answers(tmp_path, '[root-access-keys]\nconfirm_delete_running_key = "AKIAIOSFODNN7EXAMPLE"\n')
    result = run(["apply", "--yes", "--only", LOCKDOWN, "--answers", file], tty=False)
    assert result.code == 2 and root_keys(account) == [account.root_key]
    assert "not confirmed" in result.text


def test_interactive_confirmation_is_typing_the_key_id(account: Account) -> None:
    create_admin(account.raw("iam"))
    driver = Driver({"To go ahead, type": ["yes", key_in]})
    result = run(["apply", "--only", "root-access-keys"], prompter=driver)
    assert result.code == 0, result.text
    assert driver.rejected and driver.rejected[0][0] == "yes"  # anything but the id is refused
    assert account.root_key in driver.asked[0]
    assert root_keys(account) == []


def test_interactive_empty_answer_keeps_the_key(account: Account) -> None:
    create_admin(account.raw("iam"))
    result = run(["apply", "--only", "root-access-keys"], prompter=Driver({"To go ahead, type": [""]}))
    assert result.code == 2 and root_keys(account) == [account.root_key]
    assert "declined" in result.text


def test_a_declined_step_does_not_hold_the_running_key_back(account: Account) -> None:
    """Once a working admin exists the key is offered, whatever else was declined (here the password
    policy; the run still ends pending for it)."""
    create_admin(account.raw("iam"))
    driver = Driver({"Maximum password age": [None], "Apply 1 change for password-policy": [False],
                     "To go ahead, type": [key_in]})
    result = run(["apply", "--only", "root-access-keys,password-policy"], prompter=driver)
    assert result.code == 2, result.text
    assert any("To go ahead" in m for m in driver.asked)
    assert root_keys(account) == []


def test_no_admin_to_continue_as_means_no_deletion(account: Account, tmp_path: Path) -> None:
    file = answers(tmp_path, f'[root-access-keys]\nconfirm_delete_running_key = "{account.root_key}"\n')
    result = run(["apply", "--yes", "--only", "root-access-keys", "--answers", file], tty=False)
    assert result.code == 2, result.text
    assert "left pending: kept until an IAM admin can take over: there is no IAM user admin" in result.text
    assert "iam:DeleteAccessKey" not in result.writes and "Traceback" not in result.text
    assert root_keys(account) == [account.root_key]


def test_plan_and_check_as_root(account: Account) -> None:
    plan = run(["plan", "--only", "root-access-keys"], tty=False)
    assert plan.code == 2 and plan.writes == []
    assert f'- root access key "{account.root_key}"' in plan.text
    assert "0 to add, 0 to change, 1 to delete" in plan.text
    check = run(["check", "--only", "root-access-keys"], tty=False)
    assert check.code == 2 and "not compliant" in check.text


# --- caller is not root -------------------------------------------------------------------
@pytest.fixture
def as_admin(account: Account, monkeypatch: pytest.MonkeyPatch) -> Account:
    iam = account.raw("iam")
    create_admin(iam)
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    return account


def test_non_root_plan_shows_an_operator_action(as_admin: Account) -> None:
    plan = run(["plan", "--only", "root-access-keys"], tty=False)
    assert plan.code == 2
    assert "! root user access keys" in plan.text and "Security credentials" in plan.text
    assert "1 for the operator" in plan.text
    check = run(["check", "--only", "root-access-keys"], tty=False)
    assert check.code == 2 and "needs the operator" in check.text


def test_non_root_operator_action_is_rechecked_until_done(as_admin: Account) -> None:
    def done_in_console(message: str) -> str:
        as_admin.raw("iam").delete_access_key(UserName=ROOT_NAME, AccessKeyId=as_admin.root_key)
        return "check now"

    driver = Driver({"delete the root user's access keys": ["check now", done_in_console]})
    result = run(["apply", "--only", "root-access-keys"], prompter=driver)
    assert result.code == 0, result.text
    assert "not yet" in result.text  # the first re-check still saw the key
    assert len(driver.asked) == 2
    assert result.writes == []  # the wizard itself never touches root's keys as a non-root caller
    assert any(e["result"] == "operator-done" for e in journal_entries())


def test_non_root_operator_can_skip(as_admin: Account) -> None:
    driver = Driver({"delete the root user's access keys": ["Skip"]})
    result = run(["apply", "--only", "root-access-keys"], prompter=driver)
    assert result.code == 2 and "needs the operator" in result.text
    assert root_keys(as_admin) == [as_admin.root_key]


def test_non_root_unattended_leaves_it_pending(as_admin: Account) -> None:
    result = run(["apply", "--yes", "--only", "root-access-keys"], tty=False)
    assert result.code == 2 and result.writes == []


def test_second_apply_sends_no_write(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_admin(account.raw("iam"))
    file = answers(tmp_path, f'[root-access-keys]\nconfirm_delete_running_key = "{account.root_key}"\n')
    first = run(["apply", "--yes", "--only", "root-access-keys", "--answers", file], tty=False)
    assert first.code == 0 and first.writes == ["iam:DeleteAccessKey"]
    key: dict[str, Any] = account.raw("iam").create_access_key(UserName="admin")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    second = run(["apply", "--yes", "--only", "root-access-keys", "--answers", file], tty=False)
    assert second.code == 0 and second.writes == [] and "already compliant" in second.text
