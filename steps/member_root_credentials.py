"""No root credentials in member accounts: what AWS recommends once root access is centralized.

From the management account (or a delegated administrator for IAM), every ACTIVE member account's root user is
audited in a root session (sts:AssumeRoot with the task policy IAMAuditRootUserCredentials): its console password
(GetLoginProfile), access keys (ListAccessKeys), MFA devices (ListMFADevices) and signing certificates
(ListSigningCertificates), each call without a UserName, which in a root session means root. A member with any
is planned for deletion in a root session scoped to IAMDeleteRootUserCredentials (DeleteLoginProfile,
DeleteAccessKey, DeactivateMFADevice, DeleteSigningCertificate), and each deletion waits for the operator to type
that account's id (under --yes: the answers file lists it in `confirm_accounts`). Root sessions need the
organization's RootSessions feature (step org-root-access) and a Regional STS endpoint, and last at most 15 minutes
(wizard/organization.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from steps.org_root_access import CONSOLE, MANAGEMENT_ONLY, read_features
from wizard.aws import Aws
from wizard.errors import describe
from wizard.organization import (
    AUDIT_ROOT,
    CREATE_ROOT_PASSWORD,
    DELETE_ROOT,
    OrgAccount,
    Standing,
    read_organization,
    root_session,
    standing,
)
from wizard.protocol import (
    Action,
    AnswerValue,
    ApplyContext,
    Change,
    ConsoleTask,
    FieldChange,
    Finding,
    Operation,
    Question,
    Step,
    StepContext,
)
from wizard.reads import absent_is_none
from wizard.retry import with_backoff

CONFIRM = "confirm_accounts"
# What the operator reads before typing an account id: deleting is irreversible, and how root comes back.
RECOVERY = (
    "After this nobody can sign in as this account's root user: no password, access key, MFA device or certificate "
    "is left. Root-only tasks there are done from the management account in a root session (IAM console > Root "
    "access management > Take privileged action).",
    f"To let someone sign in as root again: a root session with the task policy {CREATE_ROOT_PASSWORD} and "
    "'aws iam create-login-profile' without a password (it must be omitted in a root session) turns on password "
    "recovery; whoever reads the account's root email address then sets a password with 'Forgot password', and "
    "should add MFA.",
)


@dataclass(frozen=True)
class MemberRoot:
    """A member account's root user, as an audit session reads it (or why it could not)."""

    account: OrgAccount
    password: bool = False
    access_keys: tuple[str, ...] = ()
    mfa_devices: tuple[str, ...] = ()
    certificates: tuple[str, ...] = ()
    error: str | None = None

    @property
    def has_credentials(self) -> bool:
        return self.password or bool(self.access_keys or self.mfa_devices or self.certificates)

    def described(self) -> str:
        parts = (["console password"] if self.password else []) + [
            f"{len(items)} {what}{'s' if len(items) != 1 else ''}"
            for items, what in ((self.access_keys, "access key"), (self.mfa_devices, "MFA device"),
                                (self.certificates, "signing certificate")) if items]
        return ", ".join(parts) or "no credentials"

    def observed(self) -> dict[str, Any]:
        return {"account": self.account.id, "password": self.password, "access_keys": list(self.access_keys),
                "mfa_devices": list(self.mfa_devices), "signing_certificates": list(self.certificates)}


@dataclass(frozen=True)
class MemberRootState:
    standing: Standing
    sessions: bool = False  # the organization's RootSessions feature is on (and the caller may use it)
    members: tuple[MemberRoot, ...] = field(default_factory=tuple)


def audit(aws: Aws, account: OrgAccount) -> MemberRoot:
    """Read one member's root credentials in an audit root session; a failure is recorded, not raised."""
    try:
        iam = root_session(aws, account.id, AUDIT_ROOT).client("iam")
        password = absent_is_none(lambda: iam.get_login_profile()) is not None
        keys = tuple(k["AccessKeyId"] for p in iam.get_paginator("list_access_keys").paginate()
                     for k in p["AccessKeyMetadata"])
        devices = tuple(d["SerialNumber"] for p in iam.get_paginator("list_mfa_devices").paginate()
                        for d in p["MFADevices"])
        certificates = tuple(c["CertificateId"] for p in iam.get_paginator("list_signing_certificates").paginate()
                             for c in p["Certificates"])
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        return MemberRoot(account, error=describe(exc))
    return MemberRoot(account, password, keys, devices, certificates)


def confirm_problem(value: AnswerValue) -> str | None:
    ids = [v.strip() for v in str(value).split(",") if v.strip()]
    bad = [v for v in ids if not (v.isdigit() and len(v) == 12)]
    return f"account ids are 12 digits, comma-separated (not {', '.join(bad)})" if bad else None


@dataclass(frozen=True)
class RootSessions(ConsoleTask):
    """Enabled by step org-root-access (or the IAM console), not here."""


@dataclass(frozen=True)
class Audit(ConsoleTask):
    """The root session failed: the operator audits that account by hand."""

    account: str


@dataclass(frozen=True)
class Delete(Operation):
    """In a root session scoped to deleting root's credentials, each of what the audit found."""

    account: str
    password: bool
    keys: tuple[str, ...]
    devices: tuple[str, ...]
    certificates: tuple[str, ...]

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = root_session(aws, self.account, DELETE_ROOT).client("iam")
        calls: list[Callable[[], object]] = [iam.delete_login_profile] if self.password else []
        calls += [partial(iam.delete_access_key, AccessKeyId=k) for k in self.keys]
        calls += [partial(iam.deactivate_mfa_device, SerialNumber=d) for d in self.devices]
        calls += [partial(iam.delete_signing_certificate, CertificateId=c) for c in self.certificates]
        for call in calls:  # already gone (a re-run, another operator): nothing left to delete
            absent_is_none(partial(with_backoff, call), ("NoSuchEntity",))


class MemberRootCredentials(Step[MemberRootState]):
    id = "member-root-credentials"
    title = "No root credentials in member accounts"
    checks = ("from the management account, every member account's root user has no password, access keys, MFA "
              "devices or signing certificates (audited in root sessions)")
    # ListAccounts and AssumeRoot: the members, and an audit root session in each (wizard.organization).
    reads = frozenset({"organizations:DescribeOrganization", "organizations:ListAccounts", "sts:AssumeRoot",
                       "iam:ListOrganizationsFeatures", "iam:GetLoginProfile", "iam:ListAccessKeys",
                       "iam:ListMFADevices", "iam:ListSigningCertificates"})
    writes = frozenset({"iam:DeleteLoginProfile", "iam:DeleteAccessKey", "iam:DeactivateMFADevice",
                        "iam:DeleteSigningCertificate"})
    remediates = ()
    management_account_only = MANAGEMENT_ONLY

    def questions(self) -> Sequence[Question]:
        return (
            Question(CONFIRM, "Member accounts whose root credentials may be deleted unattended", default=None,
                     help="comma-separated account ids; only read from the answers file, for --yes",
                     validate=confirm_problem, prompted=False),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> MemberRootState:
        where = standing(aws)
        if where.kind == "standalone":
            return MemberRootState(where)
        features = read_features(aws)
        if features is None or "RootSessions" not in features:
            return MemberRootState(where)
        members = [a for a in read_organization(aws).active if not a.management]
        found = aws.parallel(*(lambda a=a: audit(aws, a) for a in members))
        return MemberRootState(where, True, tuple(found))

    def findings(self, state: MemberRootState, ctx: StepContext) -> list[Finding]:
        where = state.standing
        if where.kind == "standalone":
            return [Finding("the account is not in an AWS Organization: no member accounts to audit",
                            observed={"organization": None})]
        if not state.sessions:
            if where.kind == "member":
                return [Finding(f"a member account of {where.organization_id}: member root users are managed from "
                                f"the management account {where.management_account}",
                                observed={"organization": where.organization_id})]
            return [Finding(f"organization {where.organization_id}: root sessions are not enabled, so member "
                            "accounts' root users cannot be audited (step org-root-access enables them)",
                            observed={"organization": where.organization_id, "root_sessions": False})]
        found = []
        for member in state.members:
            if member.error:
                found.append(Finding(f"{member.account.label()}: the root audit failed: {member.error}", "warning",
                                     observed={"account": member.account.id, "error": member.error}))
            elif member.has_credentials:
                found.append(Finding(f"{member.account.label()}: root credentials: {member.described()}",
                                     observed=member.observed()))
        clean = [m for m in state.members if not m.error and not m.has_credentials]
        found.append(Finding(f"{len(clean)} of {len(state.members)} member accounts: root has no credentials",
                             observed={"without_root_credentials": [m.account.id for m in clean]}))
        return found

    def plan(self, state: MemberRootState, ctx: StepContext) -> list[Change]:
        where = state.standing
        if where.kind == "standalone" or (not state.sessions and where.kind == "member"):
            return []
        if not state.sessions:
            return [Change(Action.OPERATOR, RootSessions(), f"root sessions in organization {where.organization_id}",
                           "enable RootSessions (step org-root-access) so member accounts' root users can be audited",
                           instructions=("aws-harden apply --only org-root-access, or the IAM console's Root access "
                                         "management > Enable",), url=CONSOLE)]
        changes = []
        for member in state.members:
            if member.error:
                changes.append(Change(Action.OPERATOR, Audit(member.account.id),
                                      f"root user of {member.account.label()}",
                                      f"audit it by hand: the root session failed ({member.error})", url=CONSOLE))
            elif member.has_credentials:
                changes.append(self._deletion(member))
        return changes

    @staticmethod
    def _deletion(member: MemberRoot) -> Change:
        operations = (["iam:DeleteLoginProfile"] if member.password else []) + (
            ["iam:DeleteAccessKey"] if member.access_keys else []) + (
            ["iam:DeactivateMFADevice"] if member.mfa_devices else []) + (
            ["iam:DeleteSigningCertificate"] if member.certificates else [])
        fields = tuple(FieldChange(name, value, None) for name, value in (  # a deletion shows what goes (render.py)
            ("console password", "deleted" if member.password else ""),
            ("access keys", f"{', '.join(member.access_keys)}: deleted" if member.access_keys else ""),
            ("MFA devices", f"{', '.join(member.mfa_devices)}: deactivated" if member.mfa_devices else ""),
            ("signing certificates", f"{', '.join(member.certificates)}: deleted" if member.certificates else ""),
        ) if value)
        return Change(
            Action.DELETE,
            Delete(member.account.id, member.password, tuple(member.access_keys), tuple(member.mfa_devices),
                   tuple(member.certificates)),
            f"root user credentials of {member.account.label()}",
            f"delete its root user's {member.described()}",
            operations=("sts:AssumeRoot", *operations), fields=fields,
            instructions=RECOVERY, confirm_value=member.account.id, confirm_answer=CONFIRM,
        )


STEP = MemberRootCredentials()
