"""Accounts that are not fresh: an `admin` or a `FullAccess` someone else made is shown in full and used
only after the operator types its name (or names it in the answers file); nothing is handed to strangers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Account
from tests.lockdown_support import LOCKDOWN, Driver, create_admin, journal_entries, mark_as_wizards, run
from wizard.aws import isolated_session
from wizard.sandbox.root_user import ROOT_NAME

ADMIN_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
STRANGER_PASSWORD = "Strangers-Passw0rd-42!"


def strangers_admin(account: Account, tag: bool = False) -> tuple[str, str]:
    """An `admin` someone else made: their password, their access key (used once), their MFA device.
    With `tag`, it even carries aws-harden's tag. Returns (key id, MFA serial)."""
    iam = account.raw("iam")
    iam.create_user(UserName="admin", Tags=[{"Key": "created-by", "Value": "aws-harden"}] if tag else [])
    iam.create_login_profile(UserName="admin", Password=STRANGER_PASSWORD)
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    isolated_session(key["AccessKeyId"], key["SecretAccessKey"], "us-east-1").client("iam").list_users()
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="strangers-phone")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="admin", SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    return str(key["AccessKeyId"]), str(serial)


def answers(tmp_path: Path, text: str) -> str:
    path = tmp_path / "answers.toml"
    path.write_text(text)
    return str(path)


def confirm_root(account: Account) -> str:
    return f'[root-access-keys]\nconfirm_delete_running_key = "{account.root_key}"\n'


def group_members(account: Account, group: str = "FullAccess") -> list[str]:
    return sorted(u["UserName"] for u in account.raw("iam").get_group(GroupName=group)["Users"])


def root_keys(account: Account) -> list[str]:
    return [k["AccessKeyId"] for k in account.raw("iam").list_access_keys(UserName=ROOT_NAME)["AccessKeyMetadata"]]


def test_a_strangers_admin_is_shown_in_full_in_the_plan(account: Account) -> None:
    key, serial = strangers_admin(account)
    plan = run(["plan", "--only", "admin-user"], tty=False)
    assert plan.code == 2 and plan.writes == []
    text = " ".join(plan.text.split())
    assert '~ iam user "admin"' in text and "type its name to agree" in text
    for shown in ("console access: yes, password last used never", f"access keys: {key} (Active, last used 20",
                  "(iam in us-east-1)", f"MFA devices: {serial}", "attached policies: none", "groups: none",
                  "permissions boundary: none"):
        assert shown in text, shown
    report = json.loads(run(["plan", "--only", "admin-user", "--output", "json"], tty=False).text)
    (finding,) = [f for f in report["steps"][0]["findings"] if f["severity"] == "warning"]
    assert finding["observed"]["access_keys"][0]["id"] == key and finding["observed"]["mfa_devices"] == [serial]


def test_unattended_a_strangers_admin_is_refused_and_roots_key_kept(account: Account, tmp_path: Path) -> None:
    """The issue's first scenario: before, apply --yes adopted it, made it an administrator and deleted
    root's key, leaving the account to whoever made that user."""
    strangers_admin(account)
    result = run(["apply", "--yes", "--only", LOCKDOWN, "--answers", answers(tmp_path, confirm_root(account))],
                 tty=False)
    assert result.code == 2, result.text
    assert ('iam user "admin": not confirmed: to do this unattended, put adopt_existing = "admin" under '
            "[admin-user] in the answers file") in result.text
    assert root_keys(account) == [account.root_key]
    assert "admin" not in group_members(account)  # the group was made, the stranger was not put in it
    assert "iam:DeleteAccessKey" not in result.writes and "iam:AddUserToGroup" not in result.writes
    assert "kept until an IAM admin can take over: IAM user admin is not aws-harden's" in result.text
    assert "Traceback" not in result.text


def test_a_tag_alone_does_not_make_it_the_wizards(account: Account, tmp_path: Path) -> None:
    strangers_admin(account, tag=True)
    result = run(["apply", "--yes", "--only", LOCKDOWN, "--answers", answers(tmp_path, confirm_root(account))],
                 tty=False)
    assert result.code == 2 and root_keys(account) == [account.root_key], result.text
    assert "it carries aws-harden's tag, but none of its credentials is in this machine's keyring" in result.text
    assert "admin" not in group_members(account)


def test_typed_consent_adopts_it_and_roots_key_still_waits_for_a_password_held_here(account: Account) -> None:
    strangers_admin(account)
    twice: list[object] = [None, None]
    driver = Driver({
        "Name of the IAM admin user": twice, "access key for the AWS CLI": [False, False],
        "Name of the admin group": list(twice), "Maximum password age": list(twice), "Account alias": ["", ""],
        "To go ahead, type": ["", "admin"], "Apply": [True] * 6,
    })
    first = run(["apply", "--only", LOCKDOWN], prompter=driver)
    assert first.code == 2 and "admin" not in str(first.writes), first.text  # empty answer: declined
    assert "declined" in first.text
    again = run(["apply", "--only", LOCKDOWN], prompter=driver)
    assert again.code == 2, again.text
    assert driver.rejected == []
    assert group_members(account) == ["admin"]  # adopted: the admin group now holds it
    assert root_keys(account) == [account.root_key]
    assert "this machine's keyring holds no console password of admin" in again.text
    adopted = [e for e in journal_entries() if e["step"] == "admin-user" and e["result"] == "ok"]
    assert [e["change"]["key"] for e in adopted] == ["adopt"]
    # Remembered: the next run does not ask again.
    check = run(["check", "--only", "admin-user,admin-group"], tty=False)
    assert check.code == 0, check.text


def test_the_answers_file_can_name_it(account: Account, tmp_path: Path) -> None:
    strangers_admin(account)
    file = answers(tmp_path, '[admin-user]\nadopt_existing = "admin"\n' + confirm_root(account))
    result = run(["apply", "--yes", "--only", LOCKDOWN, "--answers", file], tty=False)
    assert result.code == 2, result.text
    assert "confirmed by the answers file: adopt_existing = admin" in result.text
    assert group_members(account) == ["admin"] and root_keys(account) == [account.root_key]


def test_another_name_in_the_answers_file_does_not_adopt(account: Account, tmp_path: Path) -> None:
    strangers_admin(account)
    file = answers(tmp_path, '[admin-user]\nadopt_existing = "someone"\n')
    result = run(["apply", "--yes", "--only", "admin-user", "--answers", file], tty=False)
    assert result.code == 2 and result.writes == []
    assert "not confirmed: the answers file's adopt_existing is 'someone', not 'admin'" in result.text


def foreign_group(account: Account, members: tuple[str, ...] = ("alice",), path: str = "/") -> None:
    iam = account.raw("iam")
    iam.create_group(GroupName="FullAccess", Path=path)
    for name in members:
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName="FullAccess", UserName=name)


def test_an_existing_group_with_foreign_members_gets_no_administrator_access(account: Account) -> None:
    """The issue's second scenario: before, apply --yes attached AdministratorAccess and alice became an
    administrator."""
    foreign_group(account)
    result = run(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False)
    assert result.code == 2, result.text
    assert "iam:AttachGroupPolicy" not in result.writes and "iam:AddUserToGroup" not in result.writes
    assert account.raw("iam").list_attached_group_policies(GroupName="FullAccess")["AttachedPolicies"] == []
    assert "members aws-harden did not add would become administrators: alice" in result.text
    assert 'iam group "FullAccess": not confirmed: to do this unattended, put adopt_existing = "FullAccess"' in (
        result.text)


def test_even_the_wizards_own_group_asks_before_its_other_members_become_admins(account: Account) -> None:
    foreign_group(account, path="/aws-harden/")
    driver = Driver({"Name of the admin group": [None], "To go ahead, type": ["FullAccess"], "Apply": [True]})
    plan = run(["plan", "--only", "admin-group"], tty=False)
    assert "members aws-harden did not add would become administrators: alice" in plan.text
    result = run(["apply", "--only", "admin-group"], prompter=driver)
    attached = account.raw("iam").list_attached_group_policies(GroupName="FullAccess")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [ADMIN_ACCESS], result.text
    check = run(["check", "--only", "admin-group", "--output", "json"], tty=False)
    assert "administrators too: alice" in check.text  # and says so from now on


def test_a_group_without_the_wizards_path_is_adopted_only_when_named(account: Account, tmp_path: Path) -> None:
    foreign_group(account, members=())
    assert run(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False).code == 2
    assert account.raw("iam").list_attached_group_policies(GroupName="FullAccess")["AttachedPolicies"] == []
    file = answers(tmp_path, '[admin-group]\nadopt_existing = "FullAccess"\n')
    result = run(["apply", "--yes", "--only", "admin-user,admin-group", "--answers", file], tty=False)
    assert result.code == 0, result.text
    assert group_members(account) == ["admin"]


def test_the_wizards_own_admin_and_group_need_no_consent(account: Account, tmp_path: Path) -> None:
    create_admin(account.raw("iam"))
    result = run(["apply", "--yes", "--only", LOCKDOWN, "--answers", answers(tmp_path, confirm_root(account))],
                 tty=False)
    assert result.code == 0, result.text
    assert root_keys(account) == []


def test_a_user_appearing_between_plan_and_apply_gets_no_password(account: Account) -> None:
    """The name was free when the plan was made; someone creates it meanwhile: it gets nothing."""

    def sneak_in(message: str) -> bool:
        account.raw("iam").create_user(UserName="admin")
        return True

    driver = Driver({"Name of the IAM admin user": [None], "access key for the AWS CLI": [False],
                     "Apply 2 changes for admin-user": [sneak_in]})
    result = run(["apply", "--only", "admin-user"], prompter=driver)
    assert result.code == 2, result.text
    assert "appeared meanwhile" in result.text
    assert "iam:CreateLoginProfile" not in result.writes
    assert "Traceback" not in result.text


def test_a_wizards_user_without_its_password_here_is_asked_about(account: Account) -> None:
    """Made by aws-harden on another machine (tag, no keyring entry here): asked, not assumed."""
    iam = account.raw("iam")
    iam.create_user(UserName="admin")
    iam.create_login_profile(UserName="admin", Password="Example-Passw0rd-123!")
    mark_as_wizards(iam, "admin", password=None)
    result: Any = run(["check", "--only", "admin-user"], tty=False)
    assert result.code == 2 and "none of its credentials is in this machine's keyring" in result.text
