"""The test world's IAM policy evaluator: it refuses what AWS refuses and allows AWS's documented examples.

First the evaluator alone (wizard/policy_eval.py, facts in, decision out), against the IAM User Guide's
rules and examples; then the moto patch (wizard/sandbox/iam_policy.py) on requests, sessions,
SimulatePrincipalPolicy, boundaries, the pending password reset and ChangePassword.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Account
from wizard import totp
from wizard.aws import isolated_session
from wizard.policy_eval import Source, evaluate, explicit_denial, parse_document
from wizard.secrets import Secret, redact_aws_logs

ADMIN_ACCESS = Source("AdministratorAccess", "aws-managed", {
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
# IAM User Guide, "AWS: Allows MFA-authenticated IAM users to manage their own credentials on the Security
# credentials page": the statement that blocks everything but MFA self-service without MFA.
DENY_UNLESS_MFA = {"Version": "2012-10-17", "Statement": [{
    "Sid": "BlockMostAccessUnlessSignedInWithMFA", "Effect": "Deny",
    "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
                  "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"],
    "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}
LONG_TERM_KEY: dict[str, str] = {}  # aws:MultiFactorAuthPresent is absent for a long-term access key
MFA_SESSION = {"aws:MultiFactorAuthPresent": "true"}
NO_MFA_SESSION = {"aws:MultiFactorAuthPresent": "false"}
DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


def mfa(document: dict[str, Any]) -> Source:
    return Source("aws-harden-require-mfa", "group", document)


# --- the evaluator ----------------------------------------------------------------------------------
def test_deny_unless_mfa_refuses_a_long_term_key_and_a_session_without_mfa() -> None:
    identity = [ADMIN_ACCESS, mfa(DENY_UNLESS_MFA)]
    for context in (LONG_TERM_KEY, NO_MFA_SESSION):
        result = evaluate(identity, None, "iam:ListUsers", "*", context)
        assert result.decision == "explicitDeny" and result.matched[0].id == "aws-harden-require-mfa"
        # ...but lets the user reach MFA self-service and an MFA session.
        assert evaluate(identity, None, "iam:EnableMFADevice", "*", context).allowed
        assert evaluate(identity, None, "sts:GetSessionToken", "*", context).allowed
    assert evaluate(identity, None, "iam:ListUsers", "*", MFA_SESSION).allowed


def test_the_example_denies_a_first_password_change_without_mfa() -> None:
    """The caveat AWS documents with that example: iam:ChangePassword is not in its NotAction."""
    identity = [ADMIN_ACCESS, mfa(DENY_UNLESS_MFA)]
    assert evaluate(identity, None, "iam:ChangePassword", "*", NO_MFA_SESSION).decision == "explicitDeny"


def test_bool_without_if_exists_does_not_catch_long_term_keys() -> None:
    """AWS knowledge center, "mfa-iam-user-aws-cli": the key is absent for long-term credentials, so a
    plain Bool condition does not match and the Deny does not apply; BoolIfExists is what denies them."""
    plain = json.loads(json.dumps(DENY_UNLESS_MFA).replace("BoolIfExists", "Bool"))
    identity = [ADMIN_ACCESS, mfa(plain)]
    assert evaluate(identity, None, "iam:ListUsers", "*", LONG_TERM_KEY).allowed
    assert evaluate(identity, None, "iam:ListUsers", "*", NO_MFA_SESSION).decision == "explicitDeny"


def test_explicit_deny_overrides_every_allow() -> None:
    result = evaluate([ADMIN_ACCESS, Source("lock", "group", DENY_ALL)], None, "s3:ListAllMyBuckets")
    assert result.decision == "explicitDeny" and "identity-based policy" in result.reason


def test_nothing_allowed_is_an_implicit_deny() -> None:
    assert evaluate([], None, "iam:ListUsers").decision == "implicitDeny"


def test_the_guides_boundary_example() -> None:
    """IAM User Guide, "Permissions boundaries for IAM entities": a boundary of S3, CloudWatch and EC2,
    and a permissions policy allowing iam:CreateUser; creating a user fails."""
    boundary = Source("ShirleyBoundary", "user-managed", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}]})
    create = Source("CreateUser", "user", {"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"}})
    result = evaluate([create], boundary, "iam:CreateUser")
    assert result.decision == "implicitDeny" and result.allowed_by_boundary is False
    assert "permissions boundary" in result.reason
    # Within the boundary, still only what a permissions policy allows.
    assert evaluate([create], boundary, "s3:ListBucket").decision == "implicitDeny"
    assert evaluate([ADMIN_ACCESS], boundary, "s3:ListBucket").allowed
    assert explicit_denial([ADMIN_ACCESS], boundary, "iam:CreateUser") is not None
    assert explicit_denial([ADMIN_ACCESS], boundary, "ec2:DescribeInstances") is None


def test_a_deny_in_the_boundary_is_explicit() -> None:
    fence = Source("fence", "user-managed", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]})
    result = evaluate([ADMIN_ACCESS], fence, "iam:CreateUser")
    assert result.decision == "explicitDeny" and "permissions boundary" in result.reason


def test_actions_match_with_wildcards_regardless_of_case() -> None:
    deny = Source("d", "user", {"Statement": [{"Effect": "Deny", "Action": "IAM:Delete*", "Resource": "*"}]})
    assert evaluate([ADMIN_ACCESS, deny], None, "iam:DeleteAccessKey").decision == "explicitDeny"
    assert evaluate([ADMIN_ACCESS, deny], None, "iam:CreateAccessKey").allowed


def test_own_password_example_with_a_policy_variable() -> None:
    """IAM User Guide, "IAM: Allows IAM users to change their own console password": the resource is
    arn:aws:iam::*:user/${aws:username}."""
    own = Source("ChangeOwnPassword", "user", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetAccountPasswordPolicy", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:ChangePassword", "Resource": "arn:aws:iam::*:user/${aws:username}"}]})
    context = {"aws:username": "alice"}
    assert evaluate([own], None, "iam:ChangePassword", "arn:aws:iam::111122223333:user/alice", context).allowed
    assert evaluate([own], None, "iam:ChangePassword", "arn:aws:iam::111122223333:user/bob",
                    context).decision == "implicitDeny"


@pytest.mark.parametrize(("condition", "context", "holds"), [
    ({"StringEquals": {"aws:username": "alice"}}, {}, False),  # key absent: the condition is false...
    ({"StringNotEquals": {"aws:username": "alice"}}, {}, True),  # ...and true for a negated operator
    ({"StringEqualsIfExists": {"aws:username": "alice"}}, {}, True),
    ({"StringLike": {"aws:username": "al*"}}, {"aws:username": "alice"}, True),
    ({"Null": {"aws:MultiFactorAuthPresent": "true"}}, {}, True),  # "true": the key is absent
    ({"Null": {"aws:MultiFactorAuthPresent": "true"}}, MFA_SESSION, False),
    ({"Bool": {"aws:MultiFactorAuthPresent": ["false", "true"]}}, MFA_SESSION, True),  # values are OR
    ({"Bool": {"aws:MultiFactorAuthPresent": "true"}, "StringEquals": {"aws:username": "bob"}},
     {"aws:MultiFactorAuthPresent": "true", "aws:username": "alice"}, False),  # operators are AND
])
def test_condition_rules_from_the_condition_operators_page(condition: dict[str, Any], context: dict[str, str],
                                                           holds: bool) -> None:
    deny = Source("d", "user", {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                                               "Condition": condition}]})
    decision = evaluate([ADMIN_ACCESS, deny], None, "iam:ListUsers", "*", context).decision
    assert decision == ("explicitDeny" if holds else "allowed")


def test_a_condition_it_does_not_model_is_read_cautiously() -> None:
    guarded = {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}
    deny = Source("d", "user", {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                                               "Condition": guarded}]})
    result = evaluate([ADMIN_ACCESS, deny], None, "iam:ListUsers")
    assert result.decision == "explicitDeny" and result.cautious == ("NumericLessThan aws:MultiFactorAuthAge",)
    allow = Source("a", "user", {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                                                "Condition": guarded}]})
    assert evaluate([allow], None, "iam:ListUsers").decision == "implicitDeny"


def test_unknown_resources_match_only_statements_for_every_resource() -> None:
    one_bucket = Source("d", "user", {"Statement": [{"Effect": "Deny", "Action": "s3:*",
                                                     "Resource": "arn:aws:s3:::logs"}]})
    assert explicit_denial([one_bucket], None, "s3:GetObject", None) is None
    assert evaluate([ADMIN_ACCESS, one_bucket], None, "s3:GetObject", "arn:aws:s3:::logs").decision == "explicitDeny"


def test_documents_as_iam_hands_them_out() -> None:
    assert parse_document('{"Statement": []}') == {"Statement": []}
    assert parse_document("%7B%22Statement%22%3A%20%5B%5D%7D") == {"Statement": []}


# --- the patch on moto ------------------------------------------------------------------------------
def user_with_key(account: Account, name: str = "admin") -> tuple[Any, Any]:
    """A user in an AdministratorAccess group, and a boto3 session signing with its access key."""
    iam = account.raw("iam")
    iam.create_user(UserName=name)
    iam.create_group(GroupName="FullAccess")
    iam.attach_group_policy(GroupName="FullAccess", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.add_user_to_group(GroupName="FullAccess", UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return iam, isolated_session(key["AccessKeyId"], key["SecretAccessKey"], "us-east-1")


def session_of(credentials: dict[str, Any]) -> Any:
    """A boto3 session signing with temporary credentials (a GetSessionToken answer)."""
    import boto3

    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name="us-east-1")


def denied(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return f"{error['Code']}: {error.get('Message', '')}"


def enroll(iam: Any, user: str) -> tuple[str, Secret]:
    redact_aws_logs()  # as the product does: the seed is in the response body botocore logs at DEBUG
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"], AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    return str(device["SerialNumber"]), totp.seed_of(device)


def now_code(seed: Secret) -> str:
    return totp.code_at(seed, totp.counter_at(time.time()))


def test_an_inline_deny_refuses_requests_in_every_protocol(account: Account) -> None:
    iam, admin = user_with_key(account)
    assert admin.client("iam").list_users()["Users"]  # moto's allow-everything, until a Deny applies
    iam.put_group_policy(GroupName="FullAccess", PolicyName="lock", PolicyDocument=json.dumps(DENY_ALL))
    assert denied(admin.client("iam").list_users) == (
        "AccessDenied: User: arn:aws:iam::123456789012:user/admin is not authorized to perform: iam:ListUsers "
        "on resource: * with an explicit deny in an identity-based policy")
    assert denied(admin.client("cloudtrail").describe_trails).startswith("AccessDeniedException: ")
    assert denied(admin.client("s3").list_buckets).startswith("AccessDenied")
    # sts:GetCallerIdentity needs no permission "even if ... explicitly denies" it (STS API reference).
    assert admin.client("sts").get_caller_identity()["Arn"].endswith(":user/admin")
    # The root user is not subject to the user's policies; set-up keys nobody owns are not evaluated.
    assert account.raw("iam").list_users()["Users"]


def test_an_inline_deny_on_the_user_refuses_too(account: Account) -> None:
    iam, admin = user_with_key(account)
    iam.put_user_policy(UserName="admin", PolicyName="lock", PolicyDocument=json.dumps(DENY_ALL))
    assert "explicit deny" in denied(admin.client("iam").list_users)


def test_mfa_enforcement_needs_an_mfa_session(account: Account) -> None:
    iam, admin = user_with_key(account)
    serial, seed = enroll(iam, "admin")
    iam.put_group_policy(GroupName="FullAccess", PolicyName="mfa", PolicyDocument=json.dumps(DENY_UNLESS_MFA))
    assert "explicit deny" in denied(admin.client("iam").list_users)  # the long-term key alone
    sts = admin.client("sts")
    plain = sts.get_session_token()["Credentials"]  # allowed: sts:GetSessionToken is in the NotAction
    no_mfa = session_of(plain)
    assert "explicit deny" in denied(no_mfa.client("iam").list_users)
    made = sts.get_session_token(SerialNumber=serial, TokenCode=now_code(seed), DurationSeconds=900)["Credentials"]
    assert made["AccessKeyId"].startswith("ASIA") and made["AccessKeyId"] != plain["AccessKeyId"]
    with_mfa = session_of(made)
    assert with_mfa.client("iam").list_users()["Users"]
    assert with_mfa.client("sts").get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/admin"


def test_get_session_token_refuses_what_aws_refuses(account: Account) -> None:
    iam, admin = user_with_key(account)
    serial, seed = enroll(iam, "admin")
    sts = admin.client("sts")
    wrong = f"{(int(now_code(seed)) + 500_000) % 1_000_000:06d}"
    assert "invalid MFA one time pass code" in denied(lambda: sts.get_session_token(SerialNumber=serial,
                                                                                     TokenCode=wrong))
    iam.create_user(UserName="bob")
    other, other_seed = enroll(iam, "bob")
    assert "MultiFactorAuthentication failed" in denied(
        lambda: sts.get_session_token(SerialNumber=other, TokenCode=now_code(other_seed)))
    made = sts.get_session_token()["Credentials"]
    session = session_of(made)
    assert "session credentials" in denied(session.client("sts").get_session_token)
    with pytest.raises(ClientError, match="DurationSeconds"):
        sts.get_session_token(DurationSeconds=200_000)


def test_a_permissions_boundary_limits_the_user(account: Account) -> None:
    iam, admin = user_with_key(account)
    read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.put_user_permissions_boundary(UserName="admin", PermissionsBoundary=read_only)
    assert iam.get_user(UserName="admin")["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": read_only}
    assert "PermissionsBoundary" not in iam.list_users()["Users"][0]  # ListUsers leaves it out, as AWS does
    assert "no permissions boundary allows" in denied(lambda: admin.client("iam").create_user(UserName="x"))
    assert admin.client("iam").list_users()["Users"]  # reads are within ReadOnlyAccess
    iam.delete_user_permissions_boundary(UserName="admin")
    admin.client("iam").create_user(UserName="x")
    iam.create_user(UserName="fenced", PermissionsBoundary=read_only)
    assert iam.get_user(UserName="fenced")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == read_only


def test_simulate_principal_policy_answers_from_the_evaluator(account: Account) -> None:
    iam, _ = user_with_key(account)
    iam.put_group_policy(GroupName="FullAccess", PolicyName="mfa", PolicyDocument=json.dumps(DENY_UNLESS_MFA))
    arn = "arn:aws:iam::123456789012:user/admin"

    def simulate(mfa_present: str | None, **extra: Any) -> dict[str, Any]:
        context = [] if mfa_present is None else [{"ContextKeyName": "aws:MultiFactorAuthPresent",
                                                  "ContextKeyValues": [mfa_present], "ContextKeyType": "boolean"}]
        answer = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["iam:CreateUser", "iam:GetUser"],
                                               ContextEntries=context, **extra)
        return {r["EvalActionName"]: r for r in answer["EvaluationResults"]}

    without = simulate(None)
    assert without["iam:CreateUser"]["EvalDecision"] == "explicitDeny"
    assert without["iam:CreateUser"]["MatchedStatements"] == [{"SourcePolicyId": "mfa", "SourcePolicyType": "group"}]
    assert without["iam:CreateUser"]["MissingContextValues"] == ["aws:MultiFactorAuthPresent"]
    assert without["iam:GetUser"]["EvalDecision"] == "allowed"
    assert simulate("false")["iam:CreateUser"]["EvalDecision"] == "explicitDeny"
    assert simulate("true")["iam:CreateUser"]["EvalDecision"] == "allowed"
    iam.put_user_permissions_boundary(UserName="admin", PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess")
    fenced = simulate("true")["iam:CreateUser"]
    assert fenced["EvalDecision"] == "implicitDeny"
    assert fenced["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    with pytest.raises(ClientError, match="does not model ResourcePolicy"):
        simulate("true", ResourcePolicy=json.dumps(DENY_ALL))


def test_the_pending_password_reset_is_kept(account: Account) -> None:
    iam = account.raw("iam")
    iam.create_user(UserName="admin")
    iam.create_login_profile(UserName="admin", Password="First-Passw0rd-123!", PasswordResetRequired=True)
    assert iam.get_login_profile(UserName="admin")["LoginProfile"]["PasswordResetRequired"] is True
    iam.create_user(UserName="bob")
    created = iam.create_login_profile(UserName="bob", Password="First-Passw0rd-123!")
    assert created["LoginProfile"]["PasswordResetRequired"] is False


def test_change_password_needs_a_permission_or_the_password_policy(account: Account) -> None:
    iam = account.raw("iam")
    iam.create_user(UserName="admin")
    iam.create_login_profile(UserName="admin", Password="First-Passw0rd-123!", PasswordResetRequired=True)
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    admin = isolated_session(key["AccessKeyId"], key["SecretAccessKey"], "us-east-1").client("iam")

    def change() -> Any:
        return admin.change_password(OldPassword="First-Passw0rd-123!", NewPassword="Second-Passw0rd-456!")

    assert "iam:ChangePassword" in denied(change)  # no policy of its own, no password policy: no way
    iam.update_account_password_policy(MinimumPasswordLength=14, AllowUsersToChangePassword=True)
    change()
    assert iam.get_login_profile(UserName="admin")["LoginProfile"]["PasswordResetRequired"] is False
    with pytest.raises(ClientError, match="old password"):
        change()


def test_the_mfa_policy_blocks_a_password_change_without_mfa(account: Account) -> None:
    iam, admin = user_with_key(account)
    iam.create_login_profile(UserName="admin", Password="First-Passw0rd-123!", PasswordResetRequired=True)
    iam.put_group_policy(GroupName="FullAccess", PolicyName="mfa", PolicyDocument=json.dumps(DENY_UNLESS_MFA))
    assert "explicit deny" in denied(lambda: admin.client("iam").change_password(
        OldPassword="First-Passw0rd-123!", NewPassword="Second-Passw0rd-456!"))


def test_the_sandbox_server_refuses_too(tmp_path: Any) -> None:
    from wizard.sandbox import Sandbox

    sandbox = Sandbox(tmp_path / "sandbox")
    sandbox.start()
    try:
        root = sandbox.credentials()
        session = isolated_session(root.key, root.secret, "us-east-1")
        iam = session.client("iam", endpoint_url=sandbox.endpoint_url)
        iam.create_user(UserName="locked")
        iam.put_user_policy(UserName="locked", PolicyName="lock", PolicyDocument=json.dumps(DENY_ALL))
        key = iam.create_access_key(UserName="locked")["AccessKey"]
        locked = isolated_session(key["AccessKeyId"], key["SecretAccessKey"], "us-east-1")
        assert "explicit deny" in denied(locked.client("iam", endpoint_url=sandbox.endpoint_url).list_users)
        answer = iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::123456789012:user/locked",
                                               ActionNames=["iam:ListUsers"])
        assert answer["EvaluationResults"][0]["EvalDecision"] == "explicitDeny"
    finally:
        sandbox.stop()
