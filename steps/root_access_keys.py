"""No access keys on the root user (CIS 2.4 / v5 1.3), removed without ever locking the operator out.

Presence is read live from GetAccountSummary (the credential report can be hours old). As root, the
wizard deletes root's keys itself; the key it runs on goes last (run_last), once the operator typed its
id, and only when a working IAM admin path exists (admin_problem: the admin is aws-harden's, signs in with
a password this operator holds, has AdministratorAccess, and nothing denies it what an administrator does).
Other steps declined or left pending do not hold it back. As anyone else it cannot touch root's keys: the
operator deletes them in the console and the engine re-checks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steps import provenance
from steps.admin_group import has_admin_access
from steps.admin_user import allows_self_service
from steps.signin_link import read_alias, signin_url
from wizard import facts
from wizard.aws import Aws
from wizard.protocol import (
    Action,
    AnswerValue,
    ApplyContext,
    Change,
    ChangeSkipped,
    ConsoleTask,
    FieldChange,
    Finding,
    Operation,
    Question,
    Step,
    StepContext,
)
from wizard.retry import error_code, with_backoff

CONFIRM_KEY = "confirm_delete_running_key"
ACCESS_KEY_ID_RE = re.compile(r"[A-Z0-9]{16,128}", re.ASCII)
CONSOLE_URL = "https://console.aws.amazon.com/iam/home#/security_credentials"
CONSOLE_STEPS = (
    "1. Sign in to the AWS console as the root user (the account's email address and password).",
    "2. Open the account menu at the top right and choose 'Security credentials'.",
    "3. Under 'Access keys', for each key: Actions > Deactivate, then Actions > Delete "
    "(enter the key id to confirm).",
    "4. Sign out of the root user, then come back here.",
)


def key_id_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or not ACCESS_KEY_ID_RE.fullmatch(value):
        return "an access key id, e.g. AKIAIOSFODNN7EXAMPLE"
    return None


@dataclass(frozen=True)
class RootKey:
    key_id: str
    status: str


@dataclass(frozen=True)
class RootKeysState:
    caller_is_root: bool
    keys_present: int  # GetAccountSummary AccountAccessKeysPresent
    keys: tuple[RootKey, ...] = ()  # root's keys, listed only when the caller is root
    running_key: str | None = None
    admin: str = "admin"
    admin_problem: str | None = None  # why the IAM admin cannot take over yet (checked only as root)


# What a way back in needs to be allowed: managing users, their credentials and the groups' policies,
# and, as a sample of everything else, a read in three other services. Simulated as the admin's console
# session would make them.
ADMIN_PATH_ACTIONS = (
    "iam:CreateUser", "iam:CreateLoginProfile", "iam:CreateAccessKey", "iam:AttachGroupPolicy",
    "iam:PutGroupPolicy", "iam:DeleteGroupPolicy", "s3:ListAllMyBuckets", "ec2:DescribeRegions",
    "cloudtrail:DescribeTrails",
)
# SimulatePrincipalPolicy refused or missing (a caller without iam:SimulatePrincipalPolicy, an endpoint
# that lacks it): read the policies and evaluate them here instead.
FALLBACK_CODES = frozenset({"AccessDenied", "AccessDeniedException", "NotImplemented", "UnsupportedOperation",
                            "InvalidAction"})


def admin_problem(aws: Aws, ctx: StepContext, name: str) -> str | None:
    """Why `name` is not a working way back in once root's key is gone; None when it is. It must be
    aws-harden's (or adopted), sign in to the console with a password this operator holds, have
    AdministratorAccess, not be denied what an administrator does (an inline Deny, a permissions
    boundary, MFA enforcement it cannot satisfy), and be able to set the password its first sign-in asks
    for."""
    from steps.user_mfa import ENFORCE_POLICY_NAME

    # The admin as the controls read it (wizard/facts.py) and the password policy at once; then its groups.
    found, policy = aws.parallel(lambda: facts.read_user(aws, name), lambda: facts.read_password_policy(aws))
    if found is None:
        return f"there is no IAM user {name}"
    user = found.as_get_user()
    ownership = provenance.user_ownership(aws, ctx.caller, user)
    if not ownership.usable:
        return f"IAM user {name} is not aws-harden's ({ownership.reason})"
    if not found.login_profile:
        return f"IAM user {name} cannot sign in to the console (it has no password)"
    if not provenance.password_held(aws, ctx.caller.account, user):
        return (f"this machine's keyring holds no console password of {name}, so nobody here could sign in "
                f"as it (keep it with: keyring set aws-harden {ctx.caller.account}/{name}/console-password)")
    groups = aws.parallel(*(lambda g=g: facts.read_group(aws, g) for g in found.groups))
    if not has_admin_access(found, groups, ctx.caller.partition):
        return f"IAM user {name} does not have AdministratorAccess (through a group or directly)"
    devices, self_service = found.mfa_serials, allows_self_service(policy)
    reset = bool(found.password_reset_required)
    enforced = any(g is not None and ENFORCE_POLICY_NAME in g.inline_policies for g in groups)
    if enforced and not devices:
        return f"MFA is enforced on {name}'s group and {name} has no MFA device"
    if enforced and reset:
        return (f"MFA is enforced on {name}'s group and {name} must still change its first password (the "
                "policy denies iam:ChangePassword without MFA): sign in as it once first")
    denied = denied_actions(aws, found, bool(devices), reset, self_service)
    if denied:
        return f"IAM user {name} would be refused what an administrator does: {denied}"
    return None


def denied_actions(aws: Aws, user: facts.User, mfa: bool, reset: bool, self_service: bool) -> str:
    """The admin's console session, simulated (iam:SimulatePrincipalPolicy, or the policies evaluated
    here when that is refused): which actions it would be denied, and why; empty when none."""
    context = {"aws:MultiFactorAuthPresent": "true" if mfa else "false", "aws:username": user.name}
    checks: list[tuple[str, str]] = [(a, "*") for a in ADMIN_PATH_ACTIONS]
    if reset:  # the first sign-in sets a new password (IAM User Guide, "Permissions for changing passwords")
        checks.append(("iam:ChangePassword", user.arn))
    results = simulated(aws, user, checks, context)
    if results is None:
        results = evaluated_here(aws, user, checks, context)
    problems = []
    for (action, _), (decision, sources) in zip(checks, results, strict=True):
        if decision == "allowed" or (action == "iam:ChangePassword" and decision == "implicitDeny" and self_service):
            continue
        why = "explicitly denied" if decision == "explicitDeny" else "not allowed"
        problems.append(f"{action} {why}" + (f" by {', '.join(sources)}" if sources else ""))
    return "; ".join(problems)


Outcome = tuple[str, tuple[str, ...]]  # (decision, the policies that decided it)


def simulated(aws: Aws, user: facts.User, checks: list[tuple[str, str]],
              context: dict[str, str]) -> list[Outcome] | None:
    """iam:SimulatePrincipalPolicy for the user with its groups and boundary (IAM API reference); None
    when it is refused or missing. One call for the actions on every resource, one per other resource."""
    iam = aws.client("iam")
    entries = [{"ContextKeyName": k, "ContextKeyValues": [v],
                "ContextKeyType": "boolean" if k == "aws:MultiFactorAuthPresent" else "string"}
               for k, v in context.items()]
    by_resource: dict[str, list[str]] = {}
    for action, resource in checks:
        by_resource.setdefault(resource, []).append(action)

    def simulate(resource: str, actions: list[str]) -> dict[str, Outcome]:
        pages = iam.get_paginator("simulate_principal_policy").paginate(
            PolicySourceArn=user.arn, ActionNames=actions, ContextEntries=entries,
            **({} if resource == "*" else {"ResourceArns": [resource]}))
        found = {}
        for page in pages:
            for result in page["EvaluationResults"]:
                decision = str(result["EvalDecision"])
                sources = () if decision == "allowed" else tuple(
                    str(m.get("SourcePolicyId", "?")) for m in result.get("MatchedStatements", []))
                found[str(result["EvalActionName"])] = (decision, sources)
        return found

    try:
        answers = aws.parallel(*(lambda r=r, a=a: simulate(r, a) for r, a in by_resource.items()))
    except Exception as exc:
        if error_code(exc) in FALLBACK_CODES or type(exc).__name__ == "ResponseParserError":
            return None
        raise
    merged = dict(zip(by_resource, answers, strict=True))
    return [merged[resource][action] for action, resource in checks]


def evaluated_here(aws: Aws, user: facts.User, checks: list[tuple[str, str]],
                   context: dict[str, str]) -> list[Outcome]:
    """The user's, its groups' and its boundary's policies, read and evaluated (wizard/policy_eval.py):
    which policies there are comes from the facts (the user's and each group's), their documents from here."""
    from wizard import policy_eval

    iam = aws.client("iam")

    def managed(arn: str) -> policy_eval.Source:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        return policy_eval.Source(arn, "aws-managed" if ":aws:policy/" in arn else "user-managed",
                                  policy_eval.parse_document(document))

    def of_user() -> list[policy_eval.Source]:
        found = [policy_eval.Source(p, "user", policy_eval.parse_document(
            iam.get_user_policy(UserName=user.name, PolicyName=p)["PolicyDocument"])) for p in user.inline_policies]
        return found + [managed(p.arn) for p in user.attached_policies]

    def of_group(group: facts.Group | None) -> list[policy_eval.Source]:
        if group is None:
            return []
        found = [policy_eval.Source(p, "group", policy_eval.parse_document(
            iam.get_group_policy(GroupName=group.name, PolicyName=p)["PolicyDocument"]))
            for p in group.inline_policies]
        return found + [managed(p.arn) for p in group.attached_policies]

    groups = aws.parallel(*(lambda g=g: facts.read_group(aws, g) for g in user.groups))
    identity = of_user() + [s for g in groups for s in of_group(g)]
    boundary = managed(user.permissions_boundary) if user.permissions_boundary else None
    results: list[Outcome] = []
    for action, resource in checks:
        result = policy_eval.evaluate(identity, boundary, action, resource, context)
        results.append((result.decision, tuple(s.id for s in result.matched) if not result.allowed else ()))
    return results


def running_key_id(aws: Aws) -> str | None:
    credentials = aws.session.get_credentials()
    return None if credentials is None else str(credentials.access_key)


@dataclass(frozen=True)
class DeleteInConsole(ConsoleTask):
    """Only root can delete root's keys: a caller that is not root hands this to the operator."""


@dataclass(frozen=True)
class DeleteKey(Operation):
    key_id: str
    running: bool  # the key this run signs with: deleted last, once an IAM admin can take over

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        key_id = self.key_id
        if not self.running:
            gone_ok(lambda: with_backoff(
                lambda: iam.update_access_key(AccessKeyId=key_id, Status="Inactive")))
            gone_ok(lambda: with_backoff(lambda: iam.delete_access_key(AccessKeyId=key_id)))
            return
        admin = str(ctx.answer_of("admin-user", "name"))
        problem = admin_problem(aws, ctx, admin)  # again, at the moment it matters
        if problem:
            raise ChangeSkipped(f"not deleting {key_id}, the key this run uses: {problem}, so nobody could continue")
        next_steps = continue_as(admin, signin_url(ctx.caller.account, read_alias(iam)), ctx)
        gone_ok(lambda: with_backoff(lambda: iam.delete_access_key(AccessKeyId=key_id)))
        # From here on this run's credentials are dead: no more AWS calls, only tell the operator.
        ctx.output("continue as the admin", next_steps)


class RootAccessKeys(Step[RootKeysState]):
    id = "root-access-keys"
    title = "No root user access keys"
    remediates = ("iam_no_root_access_key",)
    checks = "the root user has no access keys (GetAccountSummary AccountAccessKeysPresent is 0)"
    writes = frozenset({"iam:UpdateAccessKey", "iam:DeleteAccessKey"})
    reads = frozenset({
        "iam:GetAccountSummary", "iam:GetLoginProfile", "iam:ListAccessKeys", "iam:ListAccountAliases",
        "iam:ListAttachedGroupPolicies", "iam:ListAttachedUserPolicies", "iam:ListGroupsForUser"
    }) | provenance.ADMIN_PATH_READS

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                CONFIRM_KEY,
                "Id of the root access key this run uses, to confirm deleting it unattended",
                default=None,
                help="answers file only; at a terminal the wizard asks you to type it at the end",
                validate=key_id_problem,
                prompted=False,
            ),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> RootKeysState:
        iam = aws.client("iam")
        admin = str(ctx.answer_of("admin-user", "name"))
        if ctx.caller.kind != "root":
            present = int(facts.read_summary(aws).values.get("AccountAccessKeysPresent", 0))
            return RootKeysState(False, present, admin=admin)

        def root_keys() -> tuple[RootKey, ...]:
            pages = iam.get_paginator("list_access_keys").paginate()  # no UserName: the signer's, root's
            return tuple(RootKey(k["AccessKeyId"], k["Status"]) for page in pages for k in page["AccessKeyMetadata"])

        # The admin check is only needed when the running key is root's, but reading it alongside costs no
        # round trip (and admin-user reads the same things through the shared read cache).
        summary, keys, admin_blocker = aws.parallel(
            lambda: facts.read_summary(aws).values,
            root_keys,
            lambda: admin_problem(aws, ctx, admin),
        )
        present = int(summary.get("AccountAccessKeysPresent", 0))
        running = running_key_id(aws)
        ours = running in {k.key_id for k in keys}
        problem = admin_blocker if ours else None
        return RootKeysState(True, present, keys, running, admin, problem)

    def findings(self, state: RootKeysState, ctx: StepContext) -> list[Finding]:
        found = [Finding(f"root access keys present: {'yes' if state.keys_present else 'no'}",
                         observed={"AccountAccessKeysPresent": state.keys_present})]
        for key in state.keys:
            mine = " (this run uses it)" if key.key_id == state.running_key else ""
            found.append(Finding(f"root access key {key.key_id}: {key.status}{mine}",
                                 observed={"key_id": key.key_id, "status": key.status}))
        if state.admin_problem:
            found.append(Finding(
                f"the key this run uses stays until an IAM admin can take over: {state.admin_problem} "
                "(the admin-user and admin-group steps set that up)",
                severity="warning", observed={"admin": state.admin}))
        return found

    def plan(self, state: RootKeysState, ctx: StepContext) -> list[Change]:
        if not state.caller_is_root:
            if not state.keys_present:
                return []
            return [
                Change(
                    Action.OPERATOR,
                    DeleteInConsole(),
                    "root user access keys",
                    "delete the root user's access keys in the console (only root can)",
                    instructions=CONSOLE_STEPS,
                    url=CONSOLE_URL,
                )
            ]
        return [self._delete(key, key.key_id == state.running_key, state.admin_problem) for key in state.keys]

    @staticmethod
    def _delete(key: RootKey, running: bool, admin_problem: str | None = None) -> Change:
        if running:
            waits = f"kept until an IAM admin can take over: {admin_problem}" if admin_problem else None
            return Change(
                Action.DELETE,
                DeleteKey(key.key_id, running=True),
                f'root access key "{key.key_id}"',
                f"delete root access key {key.key_id}, this run's own: last, then continue as the IAM admin"
                + (f" ({waits})" if waits else ""),
                # Not deactivated first: an inactive key cannot sign the call that deletes it.
                operations=("iam:DeleteAccessKey",),
                fields=(FieldChange("status", key.status, "deleted"),),
                run_last=True,
                confirm_value=key.key_id,
                confirm_answer=CONFIRM_KEY,
                waits_for=waits,
            )
        return Change(
            Action.DELETE,
            DeleteKey(key.key_id, running=False),
            f'root access key "{key.key_id}"',
            f"deactivate, then delete root access key {key.key_id}",
            operations=("iam:UpdateAccessKey", "iam:DeleteAccessKey"),
            fields=(FieldChange("status", key.status, "deleted"),),
        )


def gone_ok(call: Any) -> None:
    """A key already deleted (a re-run after an interruption) is what was wanted."""
    try:
        call()
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise


def continue_as(admin: str, url: str, ctx: StepContext) -> str:
    text = f"root's access keys are gone. Sign in to the console at {url} as IAM user {admin}"
    if ctx.answer_of("admin-user", "programmatic_access"):
        profile = str(ctx.answer_of("admin-user", "cli_profile"))
        text += f"; for the AWS CLI and this wizard use --profile {profile}"
        check = f"aws-harden check --profile {profile}"
    else:
        check = "aws-harden check"
    return text + f". Run '{check}' as the admin to verify."


STEP = RootAccessKeys()
