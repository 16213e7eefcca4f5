"""What the test world adds for organizations, held to AWS's rules: AssumeRole needs the role and its trust
(wizard/sandbox/strict_sts.py); the centralized-root-access stand-in (wizard/sandbox/root_access.py) answers
ListOrganizationsFeatures, EnableOrganizationsRoot*, and AssumeRoot as botocore's models and the IAM User Guide
say, and a root session acts as the member's root user within its task policy only."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Account
from tests.org_world import OrgWorld, organization
from wizard.aws import isolated_session
from wizard.sandbox.organization import Member
from wizard.sandbox.root_access import TASKS
from wizard.sandbox.strict_sts import trust_problem

TASK = "arn:aws:iam::aws:policy/root-task/{}"


@pytest.fixture
def org(account: Account, monkeypatch: pytest.MonkeyPatch) -> OrgWorld:
    return organization(account, (Member("dev", root_key=True), Member("legacy", role=False)), monkeypatch)


def code_of(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def session(credentials: dict[str, Any]) -> Any:
    return isolated_session(credentials["AccessKeyId"], credentials["SecretAccessKey"], "us-east-1",
                            token=credentials.get("SessionToken"))


def enable_root_sessions(org: OrgWorld) -> None:
    org.admin("organizations").enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    org.admin("iam").enable_organizations_root_credentials_management()
    org.admin("iam").enable_organizations_root_sessions()


def assume_root(org: OrgWorld, target: str, task: str = "IAMAuditRootUserCredentials", **extra: Any) -> Any:
    return org.admin("sts").assume_root(TargetPrincipal=target, TaskPolicyArn={"arn": TASK.format(task)}, **extra)


# --- strict AssumeRole ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("principal", "trusted"), [
    ({"AWS": "arn:aws:iam::111122223333:root"}, True),       # the account, as Organizations writes it
    ({"AWS": "111122223333"}, True),                         # the account by id
    ({"AWS": "arn:aws:iam::111122223333:user/ops"}, True),   # the caller itself
    ({"AWS": "arn:aws:iam::111122223333:user/other"}, False),
    ({"AWS": "arn:aws:iam::444455556666:root"}, False),      # another account
    ({"Service": "ec2.amazonaws.com"}, False),
    ("*", True),
])
def test_trust_policies_as_aws_reads_them(principal: Any, trusted: bool) -> None:
    """IAM User Guide, "AWS JSON policy elements: Principal": an account trusts every identity of it."""
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal,
                                                      "Action": "sts:AssumeRole"}]}
    role = "arn:aws:iam::999988887777:role/OrganizationAccountAccessRole"
    problem = trust_problem(policy, role, "arn:aws:iam::111122223333:user/ops", "111122223333")
    assert (problem is None) is trusted


def test_a_deny_or_a_condition_the_request_lacks_refuses() -> None:
    role, caller = "arn:aws:iam::999988887777:role/R", "arn:aws:iam::111122223333:user/ops"
    allow = {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}
    deny = {"Effect": "Deny", "Principal": {"AWS": caller}, "Action": "sts:*"}
    assert trust_problem({"Statement": [allow, deny]}, role, caller, "111122223333")
    mfa = {**allow, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
    assert trust_problem({"Statement": [mfa]}, role, caller, "111122223333")


def test_root_cannot_assume_a_role(org: OrgWorld, account: Account) -> None:
    with pytest.raises(ClientError, match="Roles may not be assumed by root accounts"):
        account.raw("sts").assume_role(RoleArn=f"arn:aws:iam::{org.id('dev')}:role/OrganizationAccountAccessRole",
                                       RoleSessionName="aws-harden")


def test_assume_role_needs_the_role_and_its_trust(org: OrgWorld) -> None:
    sts = org.admin("sts")
    dev = org.id("dev")
    role = f"arn:aws:iam::{dev}:role/OrganizationAccountAccessRole"
    assert sts.assume_role(RoleArn=role, RoleSessionName="aws-harden")["Credentials"]["AccessKeyId"]
    missing = f"arn:aws:iam::{org.id('legacy')}:role/OrganizationAccountAccessRole"
    with pytest.raises(ClientError, match="is not authorized to perform: sts:AssumeRole on resource") as raised:
        sts.assume_role(RoleArn=missing, RoleSessionName="aws-harden")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    org.client("iam", dev).update_assume_role_policy(RoleName="OrganizationAccountAccessRole", PolicyDocument=(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "444455556666"},
                                   "Action": "sts:AssumeRole"}]})))
    assert code_of(lambda: sts.assume_role(RoleArn=role, RoleSessionName="aws-harden")) == "AccessDenied"


# --- who may list the accounts -----------------------------------------------------------------------------------
def test_only_the_management_account_lists_the_accounts(org: OrgWorld, account: Account) -> None:
    """botocore's Organizations model, ListAccounts: "You can only call this operation from the management account
    or a member account that is a delegated administrator" (moto answers anyone, [] outside an organization)."""
    assert len(org.admin("organizations").list_accounts()["Accounts"]) == 3
    member = session(org.admin("sts").assume_role(
        RoleArn=f"arn:aws:iam::{org.id('dev')}:role/OrganizationAccountAccessRole",
        RoleSessionName="aws-harden")["Credentials"]).client("organizations")
    assert code_of(member.list_accounts) == "AccessDeniedException"
    org.admin("organizations").register_delegated_administrator(AccountId=org.id("dev"),
                                                                ServicePrincipal="guardduty.amazonaws.com")
    assert len(member.list_accounts()["Accounts"]) == 3
    outside = isolated_session("AKIASETUP00000000000", "x", "us-east-1").client("organizations")
    from wizard.sandbox.server import in_account

    in_account(outside, "210987654321")
    assert code_of(outside.list_accounts) == "AWSOrganizationsNotInUseException"
    errors = {e.name for e in model("organizations").operation_model("ListAccounts").error_shapes}
    assert {"AccessDeniedException", "AWSOrganizationsNotInUseException"} <= errors


# --- IAM's organization features ----------------------------------------------------------------------------------
def test_features_need_trusted_access_then_report_what_is_enabled(org: OrgWorld) -> None:
    iam = org.admin("iam")
    operation = model("iam").operation_model("ListOrganizationsFeatures")
    code = code_of(iam.list_organizations_features)
    assert code == "ServiceAccessNotEnabledException" and code in {e.name for e in operation.error_shapes}
    assert code_of(iam.enable_organizations_root_sessions) == "ServiceAccessNotEnabledException"
    org.admin("organizations").enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    answer = iam.list_organizations_features()
    assert answer["OrganizationId"] == org.organization_id and answer["EnabledFeatures"] == []
    assert iam.enable_organizations_root_sessions()["EnabledFeatures"] == ["RootSessions"]
    assert iam.enable_organizations_root_sessions()["EnabledFeatures"] == ["RootSessions"]  # idempotent
    both = iam.enable_organizations_root_credentials_management()["EnabledFeatures"]
    assert both == ["RootCredentialsManagement", "RootSessions"]  # in FeaturesListType's order
    answer.pop("ResponseMetadata")
    assert set(answer) <= set(operation.output_shape.members)


def test_only_the_management_account_may_ask(org: OrgWorld) -> None:
    org.admin("organizations").enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    member = session(org.admin("sts").assume_role(
        RoleArn=f"arn:aws:iam::{org.id('dev')}:role/OrganizationAccountAccessRole",
        RoleSessionName="aws-harden")["Credentials"]).client("iam")
    for name, call, expected in (
        ("ListOrganizationsFeatures", member.list_organizations_features,
         "AccountNotManagementOrDelegatedAdministratorException"),
        ("EnableOrganizationsRootSessions", member.enable_organizations_root_sessions,
         "CallerIsNotManagementAccountException"),
    ):
        code = code_of(call)
        assert code == expected and code in {e.name for e in model("iam").operation_model(name).error_shapes}


def test_outside_an_organization_there_is_none(account: Account) -> None:
    assert code_of(account.raw("iam").list_organizations_features) == "OrganizationNotFoundException"


# --- sts:AssumeRoot ---------------------------------------------------------------------------------------------------
def test_assume_root_follows_the_documented_rules(org: OrgWorld, account: Account) -> None:
    dev = org.id("dev")
    assert code_of(lambda: assume_root(org, dev)) == "AccessDenied"  # no root sessions yet
    enable_root_sessions(org)
    answer = assume_root(org, dev, DurationSeconds=900)
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SessionToken"]
    output = model("sts").operation_model("AssumeRoot").output_shape
    answer.pop("ResponseMetadata")
    assert set(answer) <= set(output.members)
    assert set(output.members["Credentials"].required_members) <= set(credentials)
    assert assume_root(org, f"arn:aws:iam::{dev}:root")["Credentials"]  # a root ARN names the account too
    for target, extra, code in (
        ("123456789012", {}, "AccessDenied"),  # the management account is no member
        ("111111111111", {}, "AccessDenied"),  # not in the organization
        (dev, {"DurationSeconds": 901}, "ValidationError"),  # RootDurationSecondsType: at most 900
        (f"arn:aws:iam::{dev}:user/x", {}, "AccessDenied"),
    ):
        assert code_of(lambda t=target, e=extra: assume_root(org, t, **e)) == code, (target, extra)
    bad_task = lambda: org.admin("sts").assume_root(  # noqa: E731
        TargetPrincipal=dev, TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    assert code_of(bad_task) == "ValidationError"
    as_root = account.raw("sts")  # "You cannot use root user credentials to make this call"
    assert code_of(lambda: as_root.assume_root(TargetPrincipal=dev, TaskPolicyArn={
        "arn": TASK.format("IAMAuditRootUserCredentials")})) == "AccessDenied"


def test_a_root_session_is_the_members_root_within_its_task(org: OrgWorld) -> None:
    enable_root_sessions(org)
    dev = org.id("dev")
    audit = session(assume_root(org, dev)["Credentials"])
    assert audit.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{dev}:root"
    iam = audit.client("iam")
    keys = iam.list_access_keys()["AccessKeyMetadata"]  # no UserName: root's own
    assert len(keys) == 1
    assert iam.get_login_profile()["LoginProfile"]
    assert code_of(iam.delete_login_profile) == "AccessDenied"  # not in IAMAuditRootUserCredentials
    assert code_of(lambda: iam.list_access_keys(UserName="someone")) == "AccessDenied"  # root only
    delete = session(assume_root(org, dev, "IAMDeleteRootUserCredentials")["Credentials"]).client("iam")
    delete.delete_access_key(AccessKeyId=keys[0]["AccessKeyId"])
    delete.delete_login_profile()
    assert iam.list_access_keys()["AccessKeyMetadata"] == []
    assert code_of(delete.get_account_summary) == "AccessDenied"  # the delete task does not allow it
    create = session(assume_root(org, dev, "IAMCreateRootUserPassword")["Credentials"]).client("iam")
    assert code_of(lambda: create.list_access_keys()) == "AccessDenied"


def test_a_root_session_ends(org: OrgWorld) -> None:
    enable_root_sessions(org)
    expired = session(assume_root(org, org.id("dev"), DurationSeconds=0)["Credentials"]).client("iam")
    assert code_of(expired.list_access_keys) == "ExpiredToken"


def test_the_task_policies_are_awss() -> None:
    """The actions each task policy leaves allowed, as AWS's managed policies (v1) list them; every one an IAM
    operation botocore knows."""
    operations = set(model("iam").operation_names)
    for actions in TASKS.values():
        assert {a.split(":", 1)[1] for a in actions} <= operations
    assert "iam:GetAccountSummary" in TASKS["IAMAuditRootUserCredentials"]
    assert "iam:GetAccountSummary" not in TASKS["IAMDeleteRootUserCredentials"]
    assert TASKS["IAMCreateRootUserPassword"] == {"iam:CreateLoginProfile", "iam:GetLoginProfile"}
