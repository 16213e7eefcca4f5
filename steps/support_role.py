"""The support role CIS asks for (v7.0 2.15 / v5.0 1.16, Security Hub IAM.18, Prowler iam_support_role_created):
a role with the AWSSupportAccess managed policy that this account's own principals may assume with MFA, so an
incident can be handled with AWS Support without sharing anyone's credentials.

The role is made on the path /aws-harden/ (its mark, as for groups: steps/provenance.py). Another role that
already has AWSSupportAccess counts (Prowler passes it) and nothing is duplicated; a role of the chosen name
aws-harden did not make is never changed. The summary shows how to use it: the console's switch-role link, the
`aws sts assume-role` command with the admin's MFA device, and an AWS CLI profile with `mfa_serial` (no second
set of keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steps import provenance
from steps.resources import attach_role_policy, create_role, role_still_ours
from steps.team_catalogue import policy_arn
from wizard.aws import Aws
from wizard.facts import USER_READS, Role, read_roles, read_user
from wizard.protocol import (
    Action,
    AnswerValue,
    ApplyContext,
    Change,
    FieldChange,
    Finding,
    Operation,
    Question,
    Step,
    StepContext,
    iam_name_problem,
)

POLICY = "AWSSupportAccess"
DEFAULT_NAME = "aws-harden-support"
ROLE_PATH = provenance.ROLE_PATH


def role_name_problem(value: AnswerValue) -> str | None:
    return iam_name_problem(value, 64)


def trust_policy(partition: str, account: str) -> dict[str, Any]:
    """This account's principals (those whose own policies allow sts:AssumeRole on it), signed in with MFA
    (IAM User Guide, "Configuring MFA-protected API access": aws:MultiFactorAuthPresent in a trust policy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ThisAccountWithMFA", "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }],
    }


def role_arn(partition: str, account: str, name: str, path: str = ROLE_PATH) -> str:
    return f"arn:{partition}:iam::{account}:role{path}{name}"


def switch_role_url(account: str, name: str, path: str = ROLE_PATH) -> str:
    """The console's switch-role link (a role on a path is named with its path)."""
    prefix = path.strip("/")
    return f"https://signin.aws.amazon.com/switchrole?account={account}&roleName={prefix + '/' if prefix else ''}{name}"


def usage_lines(arn: str, profile: str, session: str, serial: str, source: str) -> tuple[str, str]:
    """The exact `aws sts assume-role` command and the AWS CLI profile that assume `arn` with MFA."""
    command = (f"aws sts assume-role --role-arn {arn} --role-session-name {session} --serial-number {serial} "
               "--token-code <6-digit code>")
    block = "\n".join((f"[profile {profile}]", f"role_arn = {arn}", f"source_profile = {source}",
                       f"mfa_serial = {serial}", f"role_session_name = {session}"))
    return command, block


@dataclass(frozen=True)
class SupportRoleState:
    name: str
    role: Role | None  # the role of the chosen name
    with_policy: tuple[str, ...]  # every role that has AWSSupportAccess
    admin: str
    admin_serial: str | None  # the admin's MFA device that gives codes (for the CLI lines)

    @property
    def ours(self) -> bool:
        return self.role is not None and self.role.path == ROLE_PATH


@dataclass(frozen=True)
class CreateRole(Operation):
    """The role on aws-harden's path, trusted by this account's principals with MFA, then its policy."""

    role: str
    policy_arn: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        create_role(iam, self.role, trust_policy(ctx.caller.partition, ctx.caller.account),
                    "AWS Support access for this account's principals, with MFA (aws-harden)")
        attach_role_policy(iam, self.role, self.policy_arn)


@dataclass(frozen=True)
class AttachPolicy(Operation):
    """The policy on an existing role, read again at the moment of widening it: still aws-harden's?"""

    role: str
    policy_arn: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        role_still_ours(iam, self.role, nothing="attached")
        attach_role_policy(iam, self.role, self.policy_arn)


class SupportRole(Step[SupportRoleState]):
    id = "support-role"
    title = "A support role for incidents with AWS Support"
    remediates = ("iam_support_role_created",)
    checks = "a role with AWSSupportAccess exists; aws-harden's is assumable by this account's principals with MFA"
    writes = frozenset({"iam:CreateRole", "iam:AttachRolePolicy"})
    reads = frozenset({"iam:ListRoles", "iam:ListAttachedRolePolicies", "iam:GetRole"}) | USER_READS

    def questions(self) -> Sequence[Question]:
        return (Question("name", "Name of the support role (AWSSupportAccess, assumed with MFA)", default=DEFAULT_NAME,
                         validate=role_name_problem),)

    def inspect(self, aws: Aws, ctx: StepContext) -> SupportRoleState:
        name, admin = str(ctx.answer("name")), str(ctx.answer_of("admin-user", "name"))

        roles, user = aws.parallel(lambda: read_roles(aws), lambda: read_user(aws, admin))
        serials = list(user.mfa_serials) if user is not None else []
        wanted = policy_arn(ctx.caller.partition, POLICY)
        return SupportRoleState(
            name, next((r for r in roles if r.name.lower() == name.lower()), None),
            tuple(r.name for r in roles if any(p.arn == wanted for p in r.attached_policies)), admin,
            next((s for s in serials if ":u2f/" not in s), None))

    def findings(self, state: SupportRoleState, ctx: StepContext) -> list[Finding]:
        role = state.role
        found: list[Finding] = []
        if role is not None and state.ours:
            expected = trust_policy(ctx.caller.partition, ctx.caller.account)
            if dict(role.trust_policy) != expected:
                found.append(Finding(
                    f"role {role.name}'s trust policy differs from the one aws-harden wrote (this account's principals "
                    "with MFA); left as it is: review it in the IAM console", severity="warning",
                    observed={"trust_policy": dict(role.trust_policy)}))
        elif role is not None:
            found.append(Finding(
                f"a role named {role.name} exists and is not aws-harden's (its path is {role.path}); it is not changed",
                severity="warning", observed={"role": role.arn, "path": role.path}))
        if state.with_policy:
            found.append(Finding(f"{POLICY} is attached to {', '.join(state.with_policy)}",
                                 observed={"roles": list(state.with_policy)}))
        if role is not None and role.name in state.with_policy:
            found.extend(self._usage(state, ctx, role))
        return found

    @staticmethod
    def _usage(state: SupportRoleState, ctx: StepContext, role: Role) -> list[Finding]:
        """How the people who hold an IAM user assume it, with MFA (also in the summary)."""
        account = ctx.caller.account
        serial = state.admin_serial or f"arn:{ctx.caller.partition}:iam::{account}:mfa/{state.admin}"
        source = (str(ctx.answer_of("admin-user", "cli_profile")) if ctx.answer_of("admin-user", "programmatic_access")
                  else "<a profile with your own access key>")
        command, block = usage_lines(role.arn, role.name, state.admin, serial, source)
        url = switch_role_url(account, role.name, role.path)
        when = "" if state.admin_serial else f" (the MFA device user-mfa enrolls for {state.admin})"
        return [
            Finding(f"support role {role.arn}: switch to it in the console with MFA at {url}",
                    observed={"role": role.arn, "switch_role_url": url}, output=("support role in the console", url)),
            Finding(f"from the AWS CLI, as {state.admin}{when}: {command}", observed={"command": command},
                    output=(f"support role from the AWS CLI ({state.admin})", command)),
            Finding(f"AWS CLI profile for the support role (no second set of keys):\n{block}",
                    observed={"profile": block}, output=("AWS CLI profile for the support role", "\n" + block)),
        ]

    def plan(self, state: SupportRoleState, ctx: StepContext) -> list[Change]:
        wanted = policy_arn(ctx.caller.partition, POLICY)
        if state.role is None:
            if state.with_policy:  # Prowler and CIS ask for one; another role already is it
                return []
            arn = role_arn(ctx.caller.partition, ctx.caller.account, state.name)
            return [Change(
                Action.CREATE, CreateRole(state.name, wanted), f'iam role "{state.name}"',
                f"create role {state.name} with {POLICY}, assumable by this account's principals with MFA",
                operations=("iam:CreateRole", "iam:AttachRolePolicy"),
                fields=(FieldChange("arn", None, arn), FieldChange("policy", None, POLICY),
                        FieldChange("trusted", None, f"account {ctx.caller.account}, with MFA")))]
        if state.role.name in state.with_policy:
            return []
        if not state.ours:
            return [Change(
                Action.CREATE, AttachPolicy(state.role.name, wanted), f'policy {POLICY} on role "{state.role.name}"',
                f"give role {state.role.name} {POLICY}", operations=("iam:AttachRolePolicy",),
                waits_for=(f"role {state.role.name} is not aws-harden's (path {state.role.path}): choose another name "
                           "with [support-role] name"))]
        return [Change(Action.CREATE, AttachPolicy(state.role.name, wanted),
                       f'policy {POLICY} on role "{state.role.name}"', f"attach {POLICY} to {state.role.name}",
                       operations=("iam:AttachRolePolicy",))]


STEP = SupportRole()
