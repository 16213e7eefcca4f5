"""Roles for delegation (optional): access another AWS account or a third party assumes, instead of an IAM user
and keys shared with them.

Each role trusts one other account and only with an external id the wizard generates (the confused-deputy
guard AWS documents for third parties: IAM User Guide, "Access to AWS accounts owned by third parties"). The
external id is a secret here: it goes to the keyring (entry <account>/role:<name>/external-id) and never to
stdout, logs, the journal or a file; the summary says how to fetch it and hand it over, and shows the exact
`aws sts assume-role` command and AWS CLI profile the other side uses. The role's permissions are the
catalogue's (steps/team_catalogue.py), AWS managed policies only. Roles are made on the path /aws-harden/;
a role of the same name aws-harden did not make is never changed, and a role removed from the list is left.
"""

from __future__ import annotations

import json
import re
import secrets as random_source
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steps import provenance
from steps.resources import attach_role_policy, create_role, role_still_ours
from steps.team_catalogue import BY_NAME, NAMES, policy_name
from wizard.answers import rows_from_line, rows_line, rows_problem
from wizard.aws import Aws
from wizard.facts import Role, read_roles
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
from wizard.retry import with_backoff
from wizard.secrets import Secret, keyring_entry, read_from_keyring

FIELDS = ("name", "account", "access")
MAX_ROLES = 20
ACCOUNT_RE = re.compile(r"[0-9]{12}", re.ASCII)
ROLE_PATH = provenance.ROLE_PATH
EXTERNAL_ID_ENTRY = "external-id"
EXTERNAL_ID_LENGTH = 32  # sts:AssumeRole takes 2-1224 characters of [\w+=,.@:/-] (botocore's sts model)


def roles_problem(value: AnswerValue) -> str | None:
    shape = rows_problem(value, "roles", FIELDS, MAX_ROLES)
    if shape is not None:
        return shape
    assert isinstance(value, list)
    seen: set[str] = set()
    for number, row in enumerate(value, start=1):
        name, account, access = row["name"], row["account"], row["access"]
        problem = iam_name_problem(name, 64)
        if problem is not None:
            return f"roles[{number}] name {name!r}: {problem}"
        if not ACCOUNT_RE.fullmatch(account):
            return f"roles[{number}] ({name}): account {account!r} is not a 12-digit AWS account id"
        if access not in BY_NAME:
            return f"roles[{number}] ({name}): unknown access {access!r} (one of {', '.join(NAMES)})"
        if name.lower() in seen:
            return f"roles[{number}] ({name}): listed twice (IAM names ignore case)"
        seen.add(name.lower())
    return None


def new_external_id() -> Secret:
    alphabet = string.ascii_letters + string.digits
    return Secret("".join(random_source.choice(alphabet) for _ in range(EXTERNAL_ID_LENGTH)))


def external_id_entry(name: str) -> str:
    return f"{provenance.role_entry(name)}/{EXTERNAL_ID_ENTRY}"


def trust_policy(partition: str, other_account: str, external_id: Secret) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DelegatedAccountWithExternalId", "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{other_account}:root"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id.reveal()}},
        }],
    }


@dataclass(frozen=True)
class Trust:
    """What the role's trust policy says, as far as the wizard wrote it: which account, with which external id
    (kept as a Secret: the document holds it)."""

    account: str | None
    external_id: Secret | None
    shape_ok: bool  # exactly one Allow statement of the shape trust_policy() writes

    @staticmethod
    def of(document: Mapping[str, Any]) -> Trust:
        statements = document.get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        if len(statements) != 1 or not isinstance(statements[0], dict):
            return Trust(None, None, False)
        s = statements[0]
        principal = (s.get("Principal") or {}).get("AWS") if isinstance(s.get("Principal"), dict) else None
        match = re.fullmatch(r"arn:[\w-]+:iam::([0-9]{12}):root", str(principal), re.ASCII)
        condition = (s.get("Condition") or {}).get("StringEquals") or {}
        external = condition.get("sts:ExternalId") if isinstance(condition, dict) else None
        ok = (s.get("Effect") == "Allow" and s.get("Action") == "sts:AssumeRole" and match is not None
              and isinstance(external, str) and len(s.get("Condition") or {}) == 1 and len(condition) == 1)
        return Trust(match.group(1) if match else None, Secret(external) if isinstance(external, str) else None, ok)


@dataclass(frozen=True)
class Delegated:
    name: str
    account: str
    access: str
    role: Role | None
    held: Secret | None  # the external id in this machine's keyring
    trust: Trust | None

    @property
    def ours(self) -> bool:
        return self.role is not None and self.role.path == ROLE_PATH


@dataclass(frozen=True)
class DelegationState:
    roles: tuple[Delegated, ...]
    left_alone: tuple[str, ...] = ()  # aws-harden's delegation roles the list no longer names


def listed_roles(ctx: StepContext) -> list[dict[str, str]]:
    return [dict(r) for r in ctx.answer("roles") or [] if isinstance(r, dict)]


def _external_id(ctx: ApplyContext, role: str) -> Secret:
    """The keyring's, else a new one, kept before any role trusts it."""
    held = read_from_keyring(keyring_entry(ctx.caller.account, external_id_entry(role)))
    if held is not None:
        return held
    external_id = new_external_id()
    ctx.keep_secret(external_id_entry(role), f"external id for role {role}", external_id)
    return external_id


@dataclass(frozen=True)
class CreateRole(Operation):
    """The role, trusting `account` with a new external id (to the keyring first), then its policies."""

    role: str
    account: str
    policies: tuple[str, ...]

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        external_id = new_external_id()
        ctx.keep_secret(external_id_entry(self.role), f"external id for role {self.role}", external_id)
        create_role(iam, self.role, trust_policy(ctx.caller.partition, self.account, external_id),
                    f"delegated access for account {self.account} (aws-harden)")
        for arn in self.policies:
            attach_role_policy(iam, self.role, arn)


@dataclass(frozen=True)
class UpdateTrust(Operation):
    """Trust only `account`, with the keyring's external id (or a new one, kept first)."""

    role: str
    account: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        role_still_ours(iam, self.role)
        document = json.dumps(trust_policy(ctx.caller.partition, self.account, _external_id(ctx, self.role)))
        with_backoff(lambda: iam.update_assume_role_policy(RoleName=self.role, PolicyDocument=document))


@dataclass(frozen=True)
class AttachPolicy(Operation):
    role: str
    policy_arn: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        role_still_ours(iam, self.role)
        attach_role_policy(iam, self.role, self.policy_arn)


@dataclass(frozen=True)
class DetachPolicy(Operation):
    """An AWS managed policy the catalogue gave the role and its access no longer does."""

    role: str
    policy_arn: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        role_still_ours(iam, self.role)
        with_backoff(lambda: iam.detach_role_policy(RoleName=self.role, PolicyArn=self.policy_arn))


class DelegationRoles(Step[DelegationState]):
    id = "delegation-roles"
    title = "Roles another account or a third party assumes (optional)"
    remediates = ()  # no control asks for them; they replace shared credentials
    checks = ("each listed role exists on aws-harden's path, trusts only its account with an external id kept in "
              "the keyring, and has only its catalogue access")
    writes = frozenset({"iam:CreateRole", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                        "iam:UpdateAssumeRolePolicy"})
    reads = frozenset({"iam:ListRoles", "iam:ListAttachedRolePolicies", "iam:GetRole"})

    def questions(self) -> Sequence[Question]:
        return (Question(
            "roles", "Roles another AWS account or a third party assumes", default=[], kind="list",
            help=f"name:account:access, comma-separated (access: {', '.join(NAMES)}); empty for none",
            validate=roles_problem, parse=lambda line: rows_from_line(line, FIELDS),
            shown=lambda value: rows_line(value, FIELDS)),)

    def inspect(self, aws: Aws, ctx: StepContext) -> DelegationState:
        rows = listed_roles(ctx)
        roles = read_roles(aws)  # also to show aws-harden's roles the list no longer names
        by_name = {r.name.lower(): r for r in roles}
        found = []
        for row in rows:
            role = by_name.get(row["name"].lower())
            held = read_from_keyring(keyring_entry(ctx.caller.account, external_id_entry(row["name"])))
            found.append(Delegated(row["name"], row["account"], row["access"], role, held,
                                   Trust.of(role.trust_policy) if role is not None else None))
        listed = {r["name"].lower() for r in rows}
        left = tuple(r.name for r in roles if r.path == ROLE_PATH and r.name.lower() not in listed
                     and Trust.of(r.trust_policy).external_id is not None)
        return DelegationState(tuple(found), left)

    def findings(self, state: DelegationState, ctx: StepContext) -> list[Finding]:
        found: list[Finding] = []
        if not state.roles:
            found.append(Finding("no delegation roles listed (optional: [delegation-roles] roles)"))
        for d in state.roles:
            found.extend(self._role_findings(d, ctx))
        for name in state.left_alone:
            found.append(Finding(f"role {name}: not in the list, left alone (aws-harden never deletes a role: remove "
                                 "it in the IAM console once nobody uses it)", severity="warning",
                                 observed={"role": name}))
        return found

    @staticmethod
    def _role_findings(d: Delegated, ctx: StepContext) -> list[Finding]:
        role = d.role
        if role is None:
            return []
        if not d.ours:
            return [Finding(f"a role named {d.name} exists and is not aws-harden's (its path is {role.path}); it is "
                            "not changed", severity="warning", observed={"role": role.arn, "path": role.path})]
        out: list[Finding] = []
        wanted = set(BY_NAME[d.access].role_policy_arns(ctx.caller.partition))
        extra = [p.name for p in role.attached_policies if p.arn not in wanted]
        if extra:
            out.append(Finding(f"role {d.name} also has {', '.join(extra)}", observed={"role": d.name, "extra": extra}))
        entry = keyring_entry(ctx.caller.account, external_id_entry(d.name))
        trust = d.trust
        if trust is not None and trust.external_id is not None and d.held is None:
            out.append(Finding(
                f"the external id of role {d.name} is not in this machine's keyring (made elsewhere, or the keyring "
                f"was cleared); {d.account} already has it, and it is in the role's trust policy (aws iam get-role "
                f"--role-name {d.name} --query Role.AssumeRolePolicyDocument)", severity="warning",
                observed={"role": d.name, "keyring_entry": entry}))
        elif trust is not None and trust.external_id is not None and d.held is not None and trust.external_id != d.held:
            out.append(Finding(
                f"the external id of role {d.name} in this machine's keyring is not the one its trust policy holds "
                "(the trust policy's is the one that works)", severity="warning",
                observed={"role": d.name, "keyring_entry": entry}))
        out.extend(DelegationRoles._usage(d, role, entry))
        return out

    @staticmethod
    def _usage(d: Delegated, role: Role, entry: str) -> list[Finding]:
        """What the other side runs, with the external id as a placeholder: it is handed over, never printed."""
        fetch = f"keyring get aws-harden {entry}"
        command = (f"aws sts assume-role --role-arn {role.arn} --role-session-name {d.name} "
                   "--external-id <the external id>")
        block = "\n".join((f"[profile {d.name}]", f"role_arn = {role.arn}", "external_id = <the external id>",
                           f"source_profile = <a profile of account {d.account}>"))
        return [
            Finding(f"role {role.arn} for account {d.account} ({d.access}); its external id: {fetch}",
                    observed={"role": role.arn, "account": d.account, "access": d.access, "keyring_entry": entry},
                    output=(f"external id for {d.name} (give it to {d.account})", fetch)),
            Finding(f"account {d.account} assumes it with: {command}", observed={"command": command},
                    output=(f"how {d.account} assumes {d.name}", command)),
            Finding(f"or with this AWS CLI profile (in account {d.account}):\n{block}", observed={"profile": block},
                    output=(f"AWS CLI profile for {d.name} (account {d.account})", "\n" + block)),
        ]

    def plan(self, state: DelegationState, ctx: StepContext) -> list[Change]:
        changes: list[Change] = []
        for d in state.roles:
            changes.extend(self._role_changes(d, ctx))
        return changes

    @staticmethod
    def _role_changes(d: Delegated, ctx: StepContext) -> list[Change]:
        partition = ctx.caller.partition
        wanted = BY_NAME[d.access].role_policy_arns(partition)
        resource = f'iam role "{d.name}"'
        if d.account == ctx.caller.account:
            return [Change(Action.CREATE, CreateRole(d.name, d.account, tuple(wanted)), resource,
                           f"role {d.name} for account {d.account}",
                           waits_for=f"{d.account} is this account: a delegation role is for another account "
                           "(people here use their own IAM user, and the support role)")]
        if d.role is None:
            return [Change(
                Action.CREATE, CreateRole(d.name, d.account, tuple(wanted)), resource,
                f"create role {d.name} for account {d.account} with {d.access} access and a new external id (kept in "
                "the keyring)",
                operations=("iam:CreateRole", "iam:AttachRolePolicy"),
                fields=(FieldChange("trusted", None, f"account {d.account}, with the external id"),
                        FieldChange("external_id", None, "generated, to the keyring", sensitive=True),
                        FieldChange("policies", None, ", ".join(policy_name(p) for p in wanted))))]
        if not d.ours:
            return [Change(Action.UPDATE, UpdateTrust(d.name, d.account), resource,
                           f"use role {d.name} for account {d.account}",
                           waits_for=f"role {d.name} is not aws-harden's (path {d.role.path}): choose another name")]
        changes: list[Change] = []
        trust = d.trust
        if trust is None or not trust.shape_ok or trust.account != d.account:
            changes.append(Change(
                Action.UPDATE, UpdateTrust(d.name, d.account), f'trust policy of role "{d.name}"',
                f"trust only account {d.account}, with the external id" + (" (the keyring's)" if d.held else
                                                                          " (a new one, to the keyring)"),
                operations=("iam:UpdateAssumeRolePolicy",),
                fields=(FieldChange("trusted", trust.account if trust else None, d.account),
                        FieldChange("external_id", "set" if trust and trust.external_id else None,
                                    "the keyring's" if d.held else "new", sensitive=True))))
        attached = {p.arn for p in d.role.attached_policies}
        for arn in wanted:
            if arn not in attached:
                changes.append(Change(Action.CREATE, AttachPolicy(d.name, arn),
                                      f'policy {policy_name(arn)} on role "{d.name}"',
                                      f"attach {policy_name(arn)} to {d.name}", operations=("iam:AttachRolePolicy",)))
        for arn in sorted(attached - set(wanted)):
            if arn.startswith(f"arn:{partition}:iam::aws:policy/"):  # an AWS managed policy the catalogue gave it
                changes.append(Change(Action.DELETE, DetachPolicy(d.name, arn),
                                      f'policy {policy_name(arn)} on role "{d.name}"',
                                      f"detach {policy_name(arn)} from {d.name} (the list gives it {d.access})",
                                      operations=("iam:DetachRolePolicy",)))
        return changes


STEP = DelegationRoles()
