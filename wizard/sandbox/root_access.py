"""Centralized root access for member accounts, which moto 5.2 lacks: a stand-in patched into moto's backends.

AWS lets an organization's management account manage its member accounts' root users (IAM User Guide,
"Centralize root access for member accounts", https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-enable-root-access.html,
and "Perform a privileged task on an AWS Organizations member account",
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html). moto has no
iam:ListOrganizationsFeatures, iam:EnableOrganizationsRootCredentialsManagement, iam:EnableOrganizationsRootSessions
or sts:AssumeRoot, and its Organizations refuses trusted access for iam.amazonaws.com. This stand-in adds them,
for the sandbox and the tests, following botocore's service models (moto parses each request and serializes each
answer with them) and these documented rules:

- Trusted access for IAM (organizations:EnableAWSServiceAccess, service principal iam.amazonaws.com) is a
  prerequisite ("Enable trusted access for Identity and Access Management in Organizations", the botocore IAM
  model's EnableOrganizationsRoot* documentation); without it the IAM calls answer ServiceAccessNotEnabledException.
  moto's list of services that support trusted access lacks IAM; it is added (Organizations User Guide,
  "AWS Identity and Access Management and AWS Organizations", services-that-can-integrate-iam.html).
- The caller must be in an organization (OrganizationNotFoundException); the two Enable calls only from the
  management account (CallerIsNotManagementAccountException); ListOrganizationsFeatures also from no other account
  (AccountNotManagementOrDelegatedAdministratorException: moto cannot register a delegated administrator for IAM);
  then the organization needs all features (OrganizationNotInAllFeaturesModeException). Which of these AWS checks
  first is not documented; here, who asks comes before what the organization has.
- sts:AssumeRoot: "You must use credentials from an Organizations management account or a delegated administrator
  account for IAM to call AssumeRoot. You cannot use root user credentials to make this call" and "Before you can
  launch a privileged session, you must have centralized root access in your organization" (botocore's STS model);
  the target is a member account (an account id or its root ARN), the task policy one of the root-task policies,
  DurationSeconds at most 900 (RootDurationSecondsType). Refusals answer AccessDenied, a bad duration
  ValidationError. The regional-endpoint rule cannot be seen from a local server; the product's client is tested
  for it instead.
- A root session acts as the member's root user (GetCallerIdentity answers arn:aws:iam::MEMBER:root; an IAM call
  without UserName acts on root), and only within its task policy, as AWS's managed policies
  arn:aws:iam::aws:policy/root-task/* (version v1, 2024-11-06) write it: every action but the listed ones is
  denied, and the listed ones are denied on any resource but the root user (so a UserName is refused).
  S3UnlockBucketPolicy and SQSUnlockQueuePolicy sessions are not modelled (the wizard uses neither). An expired
  session answers ExpiredToken. This is checked on IAM and STS calls (moto authorizes S3 on another path, and
  the wizard sends nothing else in a root session).

It is a stand-in, not a simulation: nothing here checks the caller's own IAM permissions (sts:AssumeRoot,
iam:EnableOrganizations*), SCPs, or CloudTrail. Written for moto 5.2 (pinned in pyproject.toml);
tests/test_organization_standins.py holds each rule.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

IAM_PRINCIPAL = "iam.amazonaws.com"
FEATURES = ("RootCredentialsManagement", "RootSessions")  # botocore's IAM FeaturesListType, in its order
MAX_ROOT_SESSION = 900  # seconds; botocore's STS model, RootDurationSecondsType max
TASK_PREFIX = "policy/root-task/"
# What each root-task policy leaves allowed (its Deny NotAction list); everything else is denied.
TASKS: dict[str, frozenset[str]] = {
    "IAMAuditRootUserCredentials": frozenset({
        "iam:ListAccessKeys", "iam:ListSigningCertificates", "iam:GetLoginProfile", "iam:ListMFADevices",
        "iam:GetAccountSummary", "iam:GetUser", "iam:GetAccessKeyLastUsed",
    }),
    "IAMDeleteRootUserCredentials": frozenset({
        "iam:DeleteAccessKey", "iam:DeleteSigningCertificate", "iam:DeleteLoginProfile", "iam:DeactivateMFADevice",
        "iam:DeleteVirtualMFADevice", "iam:ListAccessKeys", "iam:ListSigningCertificates", "iam:GetLoginProfile",
        "iam:ListMFADevices", "iam:GetUser", "iam:GetAccessKeyLastUsed",
    }),
    "IAMCreateRootUserPassword": frozenset({"iam:CreateLoginProfile", "iam:GetLoginProfile"}),
}
UNMODELLED_TASKS = ("S3UnlockBucketPolicy", "SQSUnlockQueuePolicy")
# Actions whose resource is not the root user even without a UserName (a virtual MFA device's ARN): the task
# policies' second statement denies them outside root, and the wizard never sends them.
NOT_ON_ROOT = frozenset({"iam:DeleteVirtualMFADevice"})
# "No permissions are required to perform this operation" (STS API Reference, GetCallerIdentity).
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})


@dataclass(frozen=True)
class RootSession:
    access_key_id: str
    account: str
    task: str
    expires: datetime


_sessions: dict[str, RootSession] = {}
_lock = threading.Lock()
_installed = False


def session_of(access_key_id: str) -> RootSession | None:
    """The root session these credentials belong to, if they are one (the sandbox's replay asks)."""
    return _sessions.get(access_key_id)


def refusal(session: RootSession, action: str, has_user_name: bool, now: datetime) -> str | None:
    """Why AWS would refuse this call in this root session ("ExpiredToken" or an AccessDenied reason), or None."""
    if now >= session.expires:
        return "ExpiredToken"
    if action in ALWAYS_ALLOWED:
        return None
    if action not in TASKS[session.task]:
        return f"{action} is not allowed by the task policy {session.task}"
    if has_user_name or action in NOT_ON_ROOT:
        return f"{session.task} allows {action} on the root user only"
    return None


def features_of(org_backend: Any) -> list[str]:
    enabled: list[str] = getattr(org_backend, "aws_harden_root_features", [])
    return [f for f in FEATURES if f in enabled]


def install(root_name: str) -> None:
    """Patch moto in this process (`root_name`: the hidden IAM user root_user.py makes root of). Idempotent."""
    global _installed
    if _installed:
        return
    from moto.core.exceptions import AccessDeniedError, ServiceException
    from moto.core.responses import ActionResult, BaseResponse
    from moto.core.utils import utcnow
    from moto.iam.models import iam_backends
    from moto.iam.responses import IamResponse
    from moto.organizations.models import FakeServiceAccess, organizations_backends
    from moto.sts.models import STSBackend, sts_backends
    from moto.sts.responses import TokenResponse
    from moto.sts.utils import random_session_token
    from moto.utilities.utils import get_partition

    class Refused(ServiceException):
        def __init__(self, code: str, message: str) -> None:
            super().__init__(code, message)

    class Denied(AccessDeniedError):  # 403, for codes STS's and IAM's models do not declare
        def __init__(self, code: str, message: str) -> None:
            super(AccessDeniedError, self).__init__(code, message)

    class Invalid(Denied):
        code = 400

    if IAM_PRINCIPAL not in FakeServiceAccess.TRUSTED_SERVICES:
        FakeServiceAccess.TRUSTED_SERVICES.append(IAM_PRINCIPAL)

    def organization_of(account: str, partition: str) -> tuple[Any, bool]:
        """(the organization's backend in its management account, whether `account` is that account)."""
        own = organizations_backends[account][partition]
        if own.org is not None:
            return own, True
        management = organizations_backends.master_accounts.get(account)
        if management is None:
            raise Refused("OrganizationNotFoundException", f"account {account} is not in an organization")
        return organizations_backends[management[0]][management[1]], False

    def ready(response: Any, enabling: bool) -> Any:
        partition = get_partition(response.region)
        backend, management = organization_of(response.current_account, partition)
        if not management:  # who may ask is checked before what the organization has
            if enabling:
                raise Refused("CallerIsNotManagementAccountException",
                              "only the organization's management account can enable this feature")
            raise Refused("AccountNotManagementOrDelegatedAdministratorException",
                          "the caller is neither the management account nor a delegated administrator for IAM")
        if backend.org.feature_set != "ALL":
            raise Refused("OrganizationNotInAllFeaturesModeException",
                          "the organization must have all features enabled")
        if not any(s["ServicePrincipal"] == IAM_PRINCIPAL for s in backend.services):
            raise Refused("ServiceAccessNotEnabledException",
                          f"trusted access for {IAM_PRINCIPAL} is not enabled in the organization")
        return backend

    def answer(backend: Any) -> ActionResult:
        return ActionResult({"OrganizationId": backend.org.id, "EnabledFeatures": features_of(backend)})

    def list_organizations_features(self: IamResponse) -> ActionResult:
        return answer(ready(self, enabling=False))

    def enabler(feature: str) -> Any:
        def enable(self: IamResponse) -> ActionResult:
            backend = ready(self, enabling=True)
            with _lock:
                enabled = getattr(backend, "aws_harden_root_features", [])
                backend.aws_harden_root_features = [*enabled, feature] if feature not in enabled else enabled
            return answer(backend)

        return enable

    def assume_root(self: TokenResponse) -> ActionResult:
        partition = get_partition(self.region)
        _, caller_arn, caller_account = sts_backends[self.current_account][partition].get_caller_identity(
            self.get_access_key(), self.region)
        target = str(self._get_param("TargetPrincipal") or "")
        task_arn = str((self._get_param("TaskPolicyArn") or {}).get("arn", ""))
        given = self._get_param("DurationSeconds")
        duration = MAX_ROOT_SESSION if given is None else int(given)
        if not 0 <= duration <= MAX_ROOT_SESSION:
            raise Invalid("ValidationError", f"1 validation error detected: Value '{duration}' at 'durationSeconds' "
                          f"failed to satisfy constraint: Member must have value less than or equal to "
                          f"{MAX_ROOT_SESSION}")
        denied = Denied("AccessDenied", f"User: {caller_arn} is not authorized to perform: sts:AssumeRoot on "
                        f"resource: {target}")
        if caller_arn.endswith(":root"):
            raise Denied("AccessDenied", "root user credentials cannot call sts:AssumeRoot")
        try:
            backend, management = organization_of(str(caller_account), partition)
        except Exception:
            raise denied from None
        if not management or "RootSessions" not in features_of(backend):
            raise denied
        member = target.split(":")[4] if target.startswith("arn:") and target.count(":") >= 5 else target
        if target.startswith("arn:") and not target.endswith(":root"):
            raise denied
        members = {a.id for a in backend.accounts if a.id != backend.org.master_account_id}
        if member not in members:
            raise denied
        prefix, _, task = task_arn.partition(f":iam::aws:{TASK_PREFIX}")
        if not prefix.startswith("arn:") or task not in (*TASKS, *UNMODELLED_TASKS):
            raise Invalid("ValidationError", f"TaskPolicyArn {task_arn} is not a root-task policy")
        if task in UNMODELLED_TASKS:
            raise Invalid("ValidationError", f"the sandbox stand-in does not model {task} sessions")
        key = iam_backends[member][partition].create_temp_access_key()
        expires = utcnow() + timedelta(seconds=duration)
        with _lock:
            _sessions[key.access_key_id] = RootSession(key.access_key_id, member, task, expires)
        credentials = {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key,
                       "SessionToken": random_session_token(), "Expiration": expires}
        return ActionResult({"Credentials": credentials})

    original_identity = STSBackend.get_caller_identity

    def get_caller_identity(self: STSBackend, access_key_id: str, region: str) -> tuple[str, str, str]:
        session = _sessions.get(access_key_id)
        if session is None:
            result: tuple[str, str, str] = original_identity(self, access_key_id, region)
            return result
        return session.account, f"arn:{get_partition(region)}:iam::{session.account}:root", session.account

    original_authorize = BaseResponse._authenticate_and_authorize_normal_action

    def authorize(self: BaseResponse, resource: str = "*") -> None:
        session = _sessions.get(self.get_access_key())
        if session is not None:
            action = f"{self.service_name}:{self._get_action()}"
            params = getattr(self, "params", None)
            given = bool(isinstance(params, dict) and params.get("UserName"))
            why = refusal(session, action, given, utcnow())
            if why == "ExpiredToken":
                raise Denied("ExpiredToken", "The security token included in the request is expired")
            if why is not None:
                raise Denied("AccessDenied", f"User: arn:aws:iam::{session.account}:root is not authorized to "
                             f"perform: {action} with an explicit deny in an identity-based policy ({why})")
            if self.service_name == "iam" and isinstance(params, dict):
                params["UserName"] = root_name  # without a UserName, IAM acts on the caller: here, root
        original_authorize(self, resource)

    IamResponse.list_organizations_features = list_organizations_features  # type: ignore[attr-defined]
    IamResponse.enable_organizations_root_credentials_management = enabler(FEATURES[0])  # type: ignore[attr-defined]
    IamResponse.enable_organizations_root_sessions = enabler(FEATURES[1])  # type: ignore[attr-defined]
    TokenResponse.assume_root = assume_root  # type: ignore[attr-defined]
    STSBackend.get_caller_identity = get_caller_identity  # type: ignore[method-assign]
    BaseResponse._authenticate_and_authorize_normal_action = authorize  # type: ignore[method-assign, assignment]
    _installed = True
