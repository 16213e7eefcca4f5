"""The test world refuses what IAM policies refuse: a small patch on moto, which allows every request.

moto 5.2 evaluates no IAM policy unless told to enforce everything (which would also need an Allow for the
sandbox's stand-in root). What the wizard's safety depends on, though, is exactly what moto lets through:
an explicit Deny (a `Deny *` on the admin group, the deny-unless-MFA policy), a permissions boundary, and
whether a request carries MFA. This patch makes moto, in the process hosting its backends, do what the IAM
User Guide's "Policy evaluation logic" page says for those
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html), with the
evaluator in wizard/policy_eval.py:

- every request signed with an IAM user's access key, or with a session that key made, is refused with
  AccessDenied when an explicit Deny in the user's or its groups' policies applies, or when the user's
  permissions boundary does not allow the action (Allows stay moto's business: it allows everything);
- the request context says whether MFA was used, as AWS documents for the aws:MultiFactorAuthPresent key
  (IAM User Guide, "AWS global condition context keys"): absent for a long-term access key, "true" for a
  session from sts:GetSessionToken called with SerialNumber and a valid TokenCode, "false" for one without.
  moto's GetSessionToken hands everyone one fixed key; here each call mints its own, remembered with its
  user and MFA (and GetCallerIdentity answers the user for it). A TokenCode is checked against the
  virtual device's seed (RFC 6238), as AWS does;
- iam:SimulatePrincipalPolicy (moto has none) answers from the same evaluator, its request and answer
  checked against botocore's model;
- IAM user permissions boundaries (CreateUser's PermissionsBoundary, PutUserPermissionsBoundary,
  DeleteUserPermissionsBoundary, GetUser's PermissionsBoundary), which moto ignores;
- CreateLoginProfile keeps PasswordResetRequired (moto stores False), and iam:ChangePassword (moto has
  none) lets a user change its own password when an identity policy allows it or the password policy's
  AllowUsersToChangePassword does, and no Deny applies; it clears the pending reset.

The root user (the sandbox's stand-in) is not evaluated: "all requests are implicitly denied with the
exception of the AWS account root user, which has full access" (same page). Neither is a key that belongs
to nobody (the test world's set-up calls). The resource of a request is not known here, so only statements
for every resource ("Resource": "*") are enforced on requests; SimulatePrincipalPolicy evaluates the
ResourceArns it is given. Written for moto 5.2 (pinned in pyproject.toml); tests/test_iam_policy.py shows
each behaviour.
"""

from __future__ import annotations

import datetime
import secrets
import string
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any

from wizard import policy_eval

_installed = False
_lock = threading.Lock()

# The IAM action prefix of a service whose signing name differs (the credential scope names the latter).
ACTION_PREFIX = {"monitoring": "cloudwatch"}
SESSION_PREFIX = "ASIA"  # AWS's prefix for temporary access key ids
# STS API reference, GetSessionToken: 900 s to 129,600 s (36 h), 3,600 s at most for the root user.
SESSION_SECONDS = (900, 129_600)
ROOT_SESSION_SECONDS = 3_600
DEFAULT_SESSION_SECONDS = 43_200
BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "


@dataclass(frozen=True)
class Session:
    """What a GetSessionToken answer stands for: whose, with or without MFA, until when."""

    account: str
    user: str | None  # None: the root user
    mfa: bool
    expires: float
    secret: str


SESSIONS: dict[str, Session] = {}


def forget_sessions() -> None:
    """A fresh account (moto reset) has no sessions either."""
    with _lock:
        SESSIONS.clear()


class Denied(Exception):
    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# --- who is calling -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    user: Any  # moto's User
    mfa: bool | None  # None: a long-term key (the MFA key is absent from the request context)

    def context(self) -> dict[str, str]:
        """The request context keys AWS sets for an IAM user's request (IAM User Guide, "AWS global
        condition context keys"); aws:SecureTransport as on AWS's TLS endpoints."""
        found = {
            "aws:username": self.user.name,
            "aws:userid": self.user.id,
            "aws:PrincipalArn": self.user.arn,
            "aws:PrincipalType": "User",
            "aws:PrincipalAccount": self.user.account_id,
            "aws:ViaAWSService": "false",
            "aws:SecureTransport": "true",
        }
        if self.mfa is not None:
            found["aws:MultiFactorAuthPresent"] = "true" if self.mfa else "false"
        return found


def iam_backend(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


def caller_of(account: str, access_key: str) -> Caller | None:
    """The IAM user behind a key (or a session of its), or None: root, or a key nobody owns."""
    from wizard.sandbox.root_user import is_root

    backend = iam_backend(account)
    session = SESSIONS.get(access_key)
    if session is not None:
        if session.expires < time.time():
            raise Denied("ExpiredToken", "The security token included in the request is expired")
        if session.user is None:
            return None
        user = backend.users.get(session.user)
        if user is None:
            raise Denied("InvalidClientTokenId", "The security token included in the request is invalid.")
        return Caller(user, session.mfa)
    user = backend.get_user_from_access_key_id(access_key)
    if user is None or is_root(user):
        return None
    return Caller(user, None)


# --- the user's policies ---------------------------------------------------------------------------
def _managed_source(policy: Any) -> policy_eval.Source:
    version = next(v for v in policy.versions if v.is_default)
    kind = "aws-managed" if ":aws:policy/" in policy.arn else "user-managed"
    return policy_eval.Source(policy.arn, kind, policy_eval.parse_document(version.document))


def identity_sources(backend: Any, user: Any) -> list[policy_eval.Source]:
    """The user's inline and attached policies, then each of its groups' (IAM User Guide, "Policy types")."""
    found = [policy_eval.Source(name, "user", policy_eval.parse_document(document))
             for name, document in user.policies.items()]
    found += [_managed_source(p) for p in user.managed_policies.values()]
    for group in backend.get_groups_for_user(user.name):
        found += [policy_eval.Source(name, "group", policy_eval.parse_document(document))
                  for name, document in group.policies.items()]
        found += [_managed_source(p) for p in group.managed_policies.values()]
    return found


def boundary_source(backend: Any, user: Any) -> policy_eval.Source | None:
    arn = getattr(user, "aws_harden_boundary", None)
    if not arn:
        return None
    return _managed_source(backend.get_policy(arn))


def denial(account: str, access_key: str, action: str) -> Denied | None:
    """Why AWS would refuse this request, or None (see the module docstring for what is modelled)."""
    if action == "sts:GetCallerIdentity":  # "no permissions are required ... even with an explicit deny"
        return None
    try:
        caller = caller_of(account, access_key)
    except Denied as exc:
        return exc
    if caller is None:
        return None
    backend = iam_backend(account)
    result = policy_eval.explicit_denial(identity_sources(backend, caller.user), boundary_source(backend, caller.user),
                                         action, None, caller.context())
    if result is None:
        return None
    return Denied("AccessDenied", f"User: {caller.user.arn} is not authorized to perform: {action} on resource: "
                  f"* {result.reason}")


# --- the hooks into moto's request handling -----------------------------------------------------
def _request_action(response: Any) -> tuple[str, str] | None:
    """(access key, "prefix:Operation") from the request's signature, or None when unsigned."""
    authorization = response.headers.get("Authorization", "")
    if "Credential=" not in authorization:
        return None
    scope = authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    if len(scope) < 4:
        return None
    operation = response._get_action()
    if not operation:
        return None
    return scope[0], f"{ACTION_PREFIX.get(scope[3], scope[3])}:{operation}"


def _service_error(response: Any, denied: Denied) -> Any:
    """The error as this service's protocol carries it (moto's serializer), with AWS's status."""
    from moto.core.responses import ActionResult
    from moto.core.utils import get_service_model

    code = denied.code
    model = get_service_model(response.boto3_service_name)
    query = model.protocol in ("query", "ec2", "rest-xml") or "awsQueryCompatible" in model.metadata
    if code == "AccessDenied" and not query:
        code = "AccessDeniedException"  # the JSON protocols' name for it (e.g. CloudTrail, KMS, Logs)
    with warnings.catch_warnings():  # moto warns that the code is not in the service's model: AWS's isn't either
        warnings.simplefilter("ignore")
        _, headers, body = response.serialized(ActionResult(_service_exception()(code, denied.message)))
    headers["status"] = denied.status  # moto reads a response method's status from here
    return denied.status, headers, body


_exception_class: list[type[Exception]] = []


def _service_exception() -> type[Exception]:
    """moto's serializable error, defined outside moto's packages (moto looks an error's code up in the
    model of the package that defines its class)."""
    if not _exception_class:
        from moto.core.exceptions import ServiceException

        class TestWorldDenied(ServiceException):
            pass

        _exception_class.append(TestWorldDenied)
    return _exception_class[0]


def install() -> None:
    """Patch moto in this process. Idempotent."""
    global _installed
    if _installed:
        return
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.responses import BaseResponse
    from moto.s3.exceptions import S3AccessDeniedError

    original_call = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        signed = _request_action(self)
        if signed is not None and not signed[1].startswith("s3:"):  # S3 authorises below, per bucket
            denied = denial(self.current_account, *signed)
            if denied is not None:
                return _service_error(self, denied)
        return original_call(self)

    original_s3 = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action

    def authorize_s3(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        signed = _request_action(self)
        if signed is not None and denial(self.current_account, *signed) is not None:
            raise S3AccessDeniedError()  # S3 says only "Access Denied"
        original_s3(self, bucket_name, key_name)

    BaseResponse.call_action = call_action  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = authorize_s3  # type: ignore[method-assign]
    _install_sts()
    _install_iam()
    _installed = True


# --- STS: sessions that remember who made them, and with what ------------------------------------
def _valid_code(backend: Any, user: Any | None, serial: str, code: str) -> bool:
    """A TokenCode from the device SerialNumber names, which must be the caller's (STS API reference,
    GetSessionToken). Virtual devices are checked against their seed, a step either side of now."""
    from wizard import totp
    from wizard.secrets import Secret

    if user is None:
        from wizard.sandbox.root_user import root_user

        user = root_user(backend)
    if user is None or serial not in user.mfa_devices or not totp.CODE_RE.match(code or ""):
        return False
    device = backend.virtual_mfa_devices.get(serial)
    if device is None:  # a hardware device: its codes cannot be computed here
        return True
    seed = Secret(device.base32_string_seed)
    now = totp.counter_at(time.time())
    return any(totp.code_at(seed, now + step) == code for step in range(-totp.DRIFT_STEPS, totp.DRIFT_STEPS + 1))


def mint_session(account: str, access_key: str, duration: int | None, serial: str | None,
                 code: str | None) -> tuple[str, Session]:
    """GetSessionToken as AWS documents it: long-term credentials only, MFA checked when a serial is given."""
    from wizard.sandbox.root_user import is_root

    if access_key in SESSIONS:
        raise Denied("AccessDenied", "Cannot call GetSessionToken with session credentials")
    backend = iam_backend(account)
    owner = backend.get_user_from_access_key_id(access_key)
    root = owner is not None and is_root(owner)
    seconds = DEFAULT_SESSION_SECONDS if duration is None else duration
    if root:
        seconds = min(seconds, ROOT_SESSION_SECONDS) if duration is None else seconds
    low, high = SESSION_SECONDS
    if not low <= seconds <= (ROOT_SESSION_SECONDS if root else high):
        raise Denied("ValidationError", f"The requested DurationSeconds exceeds the allowed range ({seconds})", 400)
    if serial is not None and not _valid_code(backend, None if root else owner, serial, code or ""):
        raise Denied("AccessDenied", BAD_CODE)
    if serial is None and code is not None:
        raise Denied("ValidationError", "TokenCode is given without SerialNumber", 400)
    alphabet = string.ascii_uppercase + string.digits
    key = SESSION_PREFIX + "".join(secrets.choice(alphabet) for _ in range(16))
    session = Session(account, None if root or owner is None else owner.name, serial is not None,
                      time.time() + seconds, secrets.token_urlsafe(30))
    with _lock:
        SESSIONS[key] = session
    return key, session


def _install_sts() -> None:
    from moto.core.responses import ActionResult
    from moto.sts.models import STSBackend
    from moto.sts.responses import TokenResponse

    def get_session_token(self: Any) -> Any:
        try:
            key, session = mint_session(self.current_account, self.get_access_key(),
                                        self._get_int_param("DurationSeconds"), self._get_param("SerialNumber"),
                                        self._get_param("TokenCode"))
        except Denied as denied:
            return _service_error(self, denied)
        return ActionResult({"Credentials": {
            "AccessKeyId": key, "SecretAccessKey": session.secret,
            "SessionToken": secrets.token_urlsafe(48),
            "Expiration": datetime.datetime.fromtimestamp(session.expires, datetime.UTC),
        }})

    original_identity = STSBackend.get_caller_identity

    def get_caller_identity(self: Any, access_key_id: str, region: str) -> tuple[str, str, str]:
        session = SESSIONS.get(access_key_id)
        if session is not None:
            user = iam_backend(self.account_id).users.get(session.user) if session.user else None
            if user is not None:
                return user.id, user.arn, user.account_id
            if session.user is None:
                return self.account_id, f"arn:{self.partition}:iam::{self.account_id}:root", self.account_id
        result: tuple[str, str, str] = original_identity(self, access_key_id, region)
        return result

    TokenResponse.get_session_token = get_session_token  # type: ignore[method-assign]
    STSBackend.get_caller_identity = get_caller_identity  # type: ignore[method-assign]


# --- IAM: boundaries, the pending password reset, ChangePassword, SimulatePrincipalPolicy ----------
def _install_iam() -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.iam.models import User
    from moto.iam.responses import IamResponse

    def permissions_boundary(self: Any) -> dict[str, str] | None:
        arn = getattr(self, "aws_harden_boundary", None)
        return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn} if arn else None

    User.permissions_boundary = property(permissions_boundary)  # type: ignore[attr-defined]
    # IAM API reference, ListUsers: the listing leaves the boundary out (GetUser has it).
    from moto.core.serialize import never_return

    IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER["ListUsersResponse.Users.User.PermissionsBoundary"] = never_return

    def set_boundary(self: Any, user_name: str, arn: str | None) -> None:
        user = self.backend.get_user(user_name)
        if arn is not None:
            self.backend.get_policy(arn)  # NoSuchEntity for a policy that does not exist
        user.aws_harden_boundary = arn

    original_create_user = IamResponse.create_user

    def create_user(self: Any) -> Any:
        boundary = self._get_param("PermissionsBoundary")
        if boundary:
            self.backend.get_policy(boundary)
        result = original_create_user(self)
        if boundary:
            set_boundary(self, self._get_param("UserName"), boundary)
        return result

    def put_user_permissions_boundary(self: Any) -> Any:
        set_boundary(self, self._get_param("UserName"), self._get_param("PermissionsBoundary"))
        return EmptyResult()

    def delete_user_permissions_boundary(self: Any) -> Any:
        set_boundary(self, self._get_param("UserName"), None)
        return EmptyResult()

    original_login = IamResponse.create_login_profile

    def create_login_profile(self: Any) -> Any:
        required = self._get_bool_param("PasswordResetRequired", False)
        self.backend.get_user(self._get_param("UserName"))
        result = original_login(self)
        self.backend.get_user(self._get_param("UserName")).password_reset_required = bool(required)
        answer: Any = result.result
        answer["LoginProfile"]["PasswordResetRequired"] = bool(required)
        return result

    def change_password(self: Any) -> Any:
        try:
            change_own_password(self.current_account, self.get_access_key(), self._get_param("OldPassword"),
                                self._get_param("NewPassword"))
        except Denied as denied:
            return _service_error(self, denied)
        return EmptyResult()

    def simulate_principal_policy(self: Any) -> Any:
        try:
            return ActionResult(simulate(self.backend, dict(self.params)))
        except Denied as denied:
            return _service_error(self, denied)

    IamResponse.create_user = create_user  # type: ignore[method-assign]
    IamResponse.put_user_permissions_boundary = put_user_permissions_boundary  # type: ignore[attr-defined]
    IamResponse.delete_user_permissions_boundary = delete_user_permissions_boundary  # type: ignore[attr-defined]
    IamResponse.create_login_profile = create_login_profile  # type: ignore[method-assign]
    IamResponse.change_password = change_password  # type: ignore[attr-defined]
    IamResponse.simulate_principal_policy = simulate_principal_policy  # type: ignore[attr-defined]


def change_own_password(account: str, access_key: str, old: str, new: str) -> None:
    """IAM API reference, ChangePassword: an IAM user changes its own password; it needs iam:ChangePassword
    or the password policy's AllowUsersToChangePassword ("Set an account password policy for IAM users"),
    and an explicit Deny still refuses it."""
    caller = caller_of(account, access_key)
    if caller is None:
        raise Denied("InvalidUserType", "ChangePassword is only for IAM users", 400)
    backend = iam_backend(account)
    user = caller.user
    result = policy_eval.evaluate(identity_sources(backend, user), boundary_source(backend, user),
                                  "iam:ChangePassword", user.arn, caller.context())
    policy = backend.account_password_policy
    self_service = policy is not None and policy.allow_users_to_change_password
    if result.decision == "explicitDeny" or not (result.allowed or self_service):
        raise Denied("AccessDenied", f"User: {user.arn} is not authorized to perform: iam:ChangePassword on "
                     f"resource: {user.arn} {result.reason}")
    if not user.password:
        raise Denied("NoSuchEntity", f"Login profile for {user.name} not found", 404)
    if old != user.password:  # AWS does not document the code for a wrong old password
        raise Denied("AccessDenied", "The old password is incorrect")
    user.password = new
    user.password_reset_required = False


def _source_of(backend: Any, arn: str) -> tuple[list[policy_eval.Source], policy_eval.Source | None, Any]:
    """The policies SimulatePrincipalPolicy includes for a user or group ARN (API reference: "If you specify
    a user, the simulation also includes all policies that are attached to any groups the user belongs to")."""
    name = arn.rsplit("/", 1)[-1]
    if ":user/" in arn:
        user = backend.get_user(name)
        return identity_sources(backend, user), boundary_source(backend, user), user
    if ":group/" in arn:
        group = backend.get_group(name)
        found = [policy_eval.Source(n, "group", policy_eval.parse_document(d)) for n, d in group.policies.items()]
        found += [_managed_source(p) for p in group.managed_policies.values()]
        return found, None, None
    raise Denied("InvalidInput", f"the test world simulates users and groups only, not {arn}", 400)


UNMODELLED_INPUTS = ("ResourcePolicy", "ResourceOwner", "CallerArn", "ResourceHandlingOption")


def simulate(backend: Any, request: dict[str, Any]) -> dict[str, Any]:
    """iam:SimulatePrincipalPolicy from the evaluator; request and answer fit botocore's model."""
    from wizard.sandbox.billing_standin import problems

    model = _iam_model().operation_model("SimulatePrincipalPolicy")
    wrong = problems(request, model.input_shape)
    if wrong:
        raise Denied("InvalidInput", "; ".join(wrong), 400)
    unmodelled = [k for k in UNMODELLED_INPUTS if k in request]
    if unmodelled:
        raise Denied("InvalidInput", f"the test world does not model {', '.join(unmodelled)}", 400)
    identity, boundary, _ = _source_of(backend, request["PolicySourceArn"])
    identity += [policy_eval.Source(f"PolicyInputList.{i + 1}", "none", policy_eval.parse_document(d))
                 for i, d in enumerate(request.get("PolicyInputList", []))]
    given_boundaries = request.get("PermissionsBoundaryPolicyInputList", [])
    if given_boundaries:
        boundary = policy_eval.Source("PermissionsBoundaryPolicyInputList.1", "none",
                                      policy_eval.parse_document(given_boundaries[0]))
    context = {e["ContextKeyName"]: ",".join(e.get("ContextKeyValues", []))
               for e in request.get("ContextEntries", [])}
    resources = request.get("ResourceArns") or ["*"]
    results = []
    for action in request["ActionNames"]:
        per_resource = [(r, policy_eval.evaluate(identity, boundary, action, r, context)) for r in resources]
        results.append(_evaluation_result(action, per_resource, identity + ([boundary] if boundary else []),
                                          context, boundary is not None, request.get("ResourceArns")))
    answer = {"EvaluationResults": results, "IsTruncated": False}
    wrong = problems(answer, model.output_shape)
    assert not wrong, wrong  # the stand-in's own answer must fit the model
    return answer


def _evaluation_result(action: str, per_resource: list[tuple[str, policy_eval.Result]],
                       sources: list[policy_eval.Source], context: dict[str, str], has_boundary: bool,
                       resource_arns: list[str] | None) -> dict[str, Any]:
    decisions = [r.decision for _, r in per_resource]
    decision = ("explicitDeny" if "explicitDeny" in decisions else
                "implicitDeny" if "implicitDeny" in decisions else "allowed")
    first = next(r for _, r in per_resource if r.decision == decision)
    result: dict[str, Any] = {
        "EvalActionName": action,
        "EvalResourceName": per_resource[0][0] if len(per_resource) == 1 else "*",
        "EvalDecision": decision,
        "MatchedStatements": [{"SourcePolicyId": s.id, "SourcePolicyType": s.kind} for s in first.matched],
        "MissingContextValues": missing_context(sources, action, context),
    }
    if has_boundary:
        result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": bool(first.allowed_by_boundary)}
    if resource_arns:
        result["ResourceSpecificResults"] = [
            {"EvalResourceName": r, "EvalResourceDecision": res.decision,
             "MatchedStatements": [{"SourcePolicyId": s.id, "SourcePolicyType": s.kind} for s in res.matched]}
            for r, res in per_resource]
    return result


def missing_context(sources: list[policy_eval.Source], action: str, context: dict[str, str]) -> list[str]:
    """Condition keys the statements for this action use that the request did not supply (the API reports
    them as MissingContextValues)."""
    given = {k.lower() for k in context}
    missing: list[str] = []
    for source in sources:
        for statement in policy_eval.statements(source.document):
            if not policy_eval.action_matches(statement, action):
                continue
            for keys in (statement.get("Condition") or {}).values():
                for key in keys if isinstance(keys, dict) else ():
                    if key.lower() not in given and key not in missing:
                        missing.append(key)
    return missing


def _iam_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("iam")
