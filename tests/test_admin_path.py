"""Root's access key goes only when a working admin path exists, and then whatever else was declined; MFA
enforcement never locks anyone out. The test world (wizard/sandbox/iam_policy.py) refuses what AWS would,
so each case below is a real lockout the wizard avoids, not a rule checked against itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from tests.conftest import Account
from tests.lockdown_support import EARLIER_PASSWORD, Driver, create_admin, key_in, run
from wizard.aws import isolated_session
from wizard.sandbox.root_user import ROOT_NAME

DENY_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
ONLY_S3 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def root_keys(account: Account) -> list[str]:
    return [k["AccessKeyId"] for k in account.raw("iam").list_access_keys(UserName=ROOT_NAME)["AccessKeyMetadata"]]


def confirmed(account: Account, tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "answers.toml"
    path.write_text(f'[root-access-keys]\nconfirm_delete_running_key = "{account.root_key}"\n{extra}')
    return str(path)


def delete_root_key(account: Account, tmp_path: Path, hook: Any = None) -> Any:
    return run(["apply", "--yes", "--only", "root-access-keys", "--answers", confirmed(account, tmp_path)],
               tty=False, hook=hook)


def admin_can_list_users(account: Account) -> bool:
    """What the admin could do once root's key is gone, asked of the test world with a key of its own."""
    iam = account.raw("iam")
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    try:
        isolated_session(key["AccessKeyId"], key["SecretAccessKey"], "us-east-1").client("iam").list_users()
    except ClientError:
        return False
    finally:
        iam.delete_access_key(UserName="admin", AccessKeyId=key["AccessKeyId"])
    return True


@pytest.mark.parametrize(("where", "arrange"), [
    ("an inline Deny * on the group", lambda iam: iam.put_group_policy(
        GroupName="FullAccess", PolicyName="freeze", PolicyDocument=DENY_ALL)),
    ("an inline Deny * on the user", lambda iam: iam.put_user_policy(
        UserName="admin", PolicyName="freeze", PolicyDocument=DENY_ALL)),
    ("a permissions boundary", lambda iam: iam.put_user_permissions_boundary(
        UserName="admin", PermissionsBoundary=iam.create_policy(
            PolicyName="only-s3", PolicyDocument=ONLY_S3)["Policy"]["Arn"])),
])
def test_an_admin_that_cannot_act_keeps_roots_key(account: Account, tmp_path: Path, where: str, arrange: Any) -> None:
    iam = account.raw("iam")
    create_admin(iam)
    arrange(iam)
    assert not admin_can_list_users(account), f"the test world does not see {where}"
    result = delete_root_key(account, tmp_path)
    assert result.code == 2, result.text
    assert root_keys(account) == [account.root_key]
    assert "iam:DeleteAccessKey" not in result.writes
    assert "kept until an IAM admin can take over: IAM user admin would be refused what an administrator " \
           "does: iam:CreateUser" in result.text
    boundary = "not allowed by arn:aws:iam::123456789012:policy/only-s3"
    reason = "explicitly denied by freeze" if "Deny" in where else boundary
    assert reason in result.text


def refuse_simulation(client: Any, service: str, region: str) -> None:
    """A caller allowed everything but iam:SimulatePrincipalPolicy (or an endpoint without it)."""
    def refuse(**_: Any) -> Any:
        return AWSResponse(None, 403, {}, None), {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}

    if service == "iam":
        client.meta.events.register("before-call.iam.SimulatePrincipalPolicy", refuse)


def test_without_simulate_principal_policy_the_policies_are_read_and_evaluated(account: Account,
                                                                               tmp_path: Path) -> None:
    iam = account.raw("iam")
    create_admin(iam)
    iam.put_group_policy(GroupName="FullAccess", PolicyName="freeze", PolicyDocument=DENY_ALL)
    result = delete_root_key(account, tmp_path, hook=refuse_simulation)
    assert result.code == 2 and root_keys(account) == [account.root_key], result.text
    assert "GetGroupPolicy" in result.operations  # read, since the simulation was refused
    assert "iam:CreateUser explicitly denied by freeze" in result.text
    # And with nothing denying it, the same path lets the key go.
    iam.delete_group_policy(GroupName="FullAccess", PolicyName="freeze")
    result = delete_root_key(account, tmp_path, hook=refuse_simulation)
    assert result.code == 0 and root_keys(account) == [], result.text


def test_a_declined_optional_step_still_gets_roots_key_offered(account: Account, tmp_path: Path) -> None:
    """The issue's last scenario: before, declining billing-report kept root's key alive for the run."""
    create_admin(account.raw("iam"))
    path = tmp_path / "billing.toml"
    path.write_text('[billing-report]\nbucket = ""\nprefix = "cur"\nformat = "csv"\nexport_name = "x"\n')
    driver = Driver({"Apply": [False], "To go ahead, type": [key_in]})
    result = run(["apply", "--only", "root-access-keys,billing-report", "--answers", str(path)], prompter=driver)
    assert result.code == 2, result.text  # billing-report is still to do...
    assert any("Apply" in m and "billing-report" in m for m in driver.asked)
    assert root_keys(account) == []  # ...and root's key went anyway
    assert result.operations[-1] == "DeleteAccessKey"


def test_mfa_enforcement_without_the_admins_mfa_keeps_roots_key(account: Account, tmp_path: Path) -> None:
    from steps.user_mfa import ENFORCE_POLICY, ENFORCE_POLICY_NAME

    iam = account.raw("iam")
    create_admin(iam, reset=False)
    iam.put_group_policy(GroupName="FullAccess", PolicyName=ENFORCE_POLICY_NAME,
                         PolicyDocument=json.dumps(ENFORCE_POLICY))
    result = delete_root_key(account, tmp_path)
    assert result.code == 2 and root_keys(account) == [account.root_key], result.text
    assert "MFA is enforced on admin's group and admin has no MFA device" in result.text


def test_enforcement_waits_while_a_member_must_set_a_new_password(account: Account, tmp_path: Path) -> None:
    """AWS's deny-unless-MFA policy does not allow iam:ChangePassword without MFA: attached before the
    admin's first sign-in, that sign-in could never set the new password the wizard asked for."""
    iam = account.raw("iam")
    create_admin(iam, reset=True)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="admin")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="admin", SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    path = tmp_path / "enforce.toml"
    path.write_text("[user-mfa]\nenforce = true\n")
    result = run(["apply", "--yes", "--only", "user-mfa", "--answers", str(path)], tty=False)
    assert "iam:PutGroupPolicy" not in result.writes, result.text
    assert "admin must still set a new password at the first sign-in" in result.text
    # The admin signs in once and sets its password (AdministratorAccess allows iam:ChangePassword)...
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    admin = isolated_session(key["AccessKeyId"], key["SecretAccessKey"], "us-east-1").client("iam")
    admin.change_password(OldPassword=EARLIER_PASSWORD, NewPassword="Admins-Own-Passw0rd-77!")
    iam.delete_access_key(UserName="admin", AccessKeyId=key["AccessKeyId"])
    # ...and then enforcement goes on.
    result = run(["apply", "--yes", "--only", "user-mfa", "--answers", str(path)], tty=False)
    assert result.writes == ["iam:PutGroupPolicy"], result.text


def test_only_admin_user_warns_that_the_first_sign_in_cannot_set_the_password(account: Account) -> None:
    """Issue 12 item 9: with only admin-user, the admin has neither iam:ChangePassword nor the password
    policy's AllowUsersToChangePassword, and its forced reset would fail. The test world agrees."""
    result = run(["apply", "--yes", "--only", "admin-user"], tty=False)
    assert result.code == 0, result.text
    assert "at the first sign-in admin must set a new password, which needs iam:ChangePassword" in result.text
    iam = account.raw("iam")
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    admin = isolated_session(key["AccessKeyId"], key["SecretAccessKey"], "us-east-1").client("iam")
    with pytest.raises(ClientError, match="iam:ChangePassword"):
        admin.change_password(OldPassword="whatever-it-is", NewPassword="Admins-Own-Passw0rd-77!")
    # Either later step gives the way: here the password policy.
    assert run(["apply", "--yes", "--only", "password-policy"], tty=False).code == 0
    check = run(["check", "--only", "admin-user", "--output", "json"], tty=False)
    assert "must set a new password" not in check.text


def test_the_full_first_day_gives_the_admin_a_way_to_set_its_password(account: Account) -> None:
    result = run(["apply", "--yes", "--only", "admin-user,admin-group,password-policy"], tty=False)
    assert result.code == 0, result.text
    check = run(["check", "--only", "admin-user", "--output", "json"], tty=False)
    assert "must set a new password" not in check.text
