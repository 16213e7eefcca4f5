"""Credential hygiene, checked on every re-run: credentials nobody uses, keys nobody rotates, two active keys,
permissions attached to users directly (CIS v7.0 2.11-2.13, v5.0 1.11-1.14).

Read live, as the controls read them (wizard/facts.py: ListUsers' PasswordLastUsed, the login profile,
ListAccessKeys and GetAccessKeyLastUsed), not from the credential report, which may be four hours old. Every
finding shows its evidence (when the credential was made and last used, where). The only remedy the wizard
applies is deactivating an access key (UpdateAccessKey Status=Inactive; a re-activation undoes it), never a
deletion, and only after the operator types the user's name (with --yes: only the users named in
[credential-hygiene] deactivate). It never touches the key this run signs with, nor the wizard's own admin while
it is the only way in (then the operator rotates it). A console password cannot be deactivated (AWS can only
delete it) and a policy only detached: those are the operator's, with the console steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from steps import provenance
from steps.admin_group import read_admin_access
from steps.root_access_keys import admin_problem, running_key_id
from wizard.aws import Aws
from wizard.controls import ROTATION_DAYS, UNUSED_DAYS
from wizard.facts import AccessKey, User, read_users
from wizard.protocol import (
    Action,
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
from wizard.retry import with_backoff

CONFIRM_KEY = "deactivate"
CONSOLE = "https://console.aws.amazon.com/iam/home#/users/details/{user}?section=security_credentials"


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "never"


@dataclass(frozen=True)
class StaleKey:
    user: str
    key: AccessKey
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class StalePassword:
    user: str
    days: int
    last_used: datetime | None
    created: datetime | None


@dataclass(frozen=True)
class HygieneState:
    now: datetime
    keys: tuple[StaleKey, ...]
    passwords: tuple[StalePassword, ...]
    direct: tuple[tuple[str, tuple[str, ...]], ...]  # (user, policies of its own)
    admin: str
    running_key: str | None = None
    admin_exempt: str | None = None  # why the admin's credentials are left to the operator


def stale_keys(user: User, now: datetime) -> list[StaleKey]:
    """Active keys unused for 45 days or more (never used: since creation), older than 90 days, or beyond the
    first active one (the one used most recently is kept)."""
    active = [k for k in user.access_keys if k.active]
    keep = max(active, key=lambda k: k.last_used or k.created or now) if len(active) > 1 else None
    out = []
    for key in active:
        reasons = []
        since = key.last_used or key.created
        if since is not None and (now - since).days >= UNUSED_DAYS:
            used = f"last used {_when(key.last_used)}" if key.last_used else f"never used since {_when(key.created)}"
            reasons.append(f"unused for {(now - since).days} days ({used})")
        if key.created is not None and (now - key.created).days > ROTATION_DAYS:
            reasons.append(f"{(now - key.created).days} days old (rotate every {ROTATION_DAYS} days or less)")
        if keep is not None and key is not keep:
            reasons.append(f"a second active key ({keep.key_id} was used more recently)")
        if reasons:
            out.append(StaleKey(user.name, key, tuple(reasons)))
    return out


def stale_password(user: User, now: datetime) -> StalePassword | None:
    since = user.password_last_used or user.password_created
    if not user.console or since is None or (now - since).days < UNUSED_DAYS:
        return None
    return StalePassword(user.name, (now - since).days, user.password_last_used, user.password_created)


@dataclass(frozen=True)
class DeactivateKey(Operation):
    """Inactive, never deleted (update-access-key --status Active undoes it); never the key this run signs with."""

    user: str
    key_id: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        if self.key_id == running_key_id(aws):
            raise ChangeSkipped(f"{self.key_id} is the key this run signs with; it was left active")
        iam = aws.client("iam")
        with_backoff(lambda: iam.update_access_key(UserName=self.user, AccessKeyId=self.key_id, Status="Inactive"))


@dataclass(frozen=True)
class RotateKey(ConsoleTask):
    """A key aws-harden leaves active (this run's, or the only way in): the operator rotates it."""

    user: str
    key_id: str


@dataclass(frozen=True)
class DisablePassword(ConsoleTask):
    """AWS can only delete a console password, which aws-harden never does: the operator disables it."""

    user: str


class CredentialHygiene(Step[HygieneState]):
    id = "credential-hygiene"
    title = "Credentials in use: unused, old or doubled keys and passwords"
    remediates = ("iam_user_accesskey_unused", "iam_rotate_access_key_90_days", "iam_user_two_active_access_key",
                  "iam_user_console_access_unused")
    checks = (f"no active access key unused for {UNUSED_DAYS} days or older than {ROTATION_DAYS}, at most one active "
              f"key per user, no console password unused for {UNUSED_DAYS} days; direct policies reported")
    writes = frozenset({"iam:UpdateAccessKey"})
    reads = frozenset({
        "iam:ListUsers", "iam:GetLoginProfile", "iam:ListMFADevices", "iam:ListAttachedUserPolicies",
        "iam:ListUserPolicies", "iam:ListGroupsForUser", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed",
        "iam:ListAttachedGroupPolicies",
    }) | provenance.ADMIN_PATH_READS

    def questions(self) -> Sequence[Question]:
        return (Question(
            CONFIRM_KEY, "Users whose flagged access keys may be deactivated unattended", default=None, kind="list",
            validate=provenance.names_problem, prompted=False,
            help="answers file only; at a terminal the wizard asks you to type each user's name"),)

    def inspect(self, aws: Aws, ctx: StepContext) -> HygieneState:
        now = datetime.now(UTC)
        users = read_users(aws)  # the facts' own reads: in check and plan the controls share them
        admin = str(ctx.answer_of("admin-user", "name"))
        keys = [k for u in users for k in stale_keys(u, now)]
        exempt = self._admin_exempt(aws, ctx, users, admin) if any(k.user == admin for k in keys) or any(
            u.name == admin and stale_password(u, now) for u in users) else None
        return HygieneState(
            now, tuple(keys), tuple(p for u in users if (p := stale_password(u, now)) is not None),
            tuple((u.name, tuple(p.name for p in u.attached_policies) + u.inline_policies) for u in users
                  if u.attached_policies or u.inline_policies),
            admin, running_key_id(aws), exempt)

    @staticmethod
    def _admin_exempt(aws: Aws, ctx: StepContext, users: Sequence[User], admin: str) -> str | None:
        """Why the admin is left alone: it is a working way in (steps/root_access_keys.py admin_problem) and
        no other user this machine holds a password of has AdministratorAccess. None when it is not the way in."""
        if admin_problem(aws, ctx, admin) is not None:
            return None
        import keyring  # a local read: whose console password this machine holds

        from wizard.secrets import KEYRING_SERVICE, keyring_entry

        others = [u for u in users if u.name != admin and u.console and keyring.get_password(
            KEYRING_SERVICE, keyring_entry(ctx.caller.account, u.name, provenance.PASSWORD_ENTRY)) is not None]
        admins = aws.parallel(*(lambda u=u: read_admin_access(aws, u, ctx.caller.partition) for u in others))
        if any(admins):
            return None
        return f"{admin} is aws-harden's admin and the only way in this machine holds"

    def findings(self, state: HygieneState, ctx: StepContext) -> list[Finding]:
        found: list[Finding] = []
        for s in state.keys:
            found.append(Finding(f"{s.user}'s access key {s.key.key_id}: {'; '.join(s.reasons)}", severity="warning",
                                 observed={"user": s.user, **s.key.observed()}))
        for p in state.passwords:
            found.append(Finding(
                f"{p.user}'s console password is unused for {p.days} days (last used {_when(p.last_used)}, set "
                f"{_when(p.created)})", severity="warning",
                observed={"user": p.user, "password_last_used": _when(p.last_used),
                          "password_created": _when(p.created)}))
        for user, policies in state.direct:
            found.append(Finding(
                f"{user} has policies of its own ({', '.join(policies)}); permissions should come only through groups "
                "(CIS 2.13): aws-harden does not change other users' policies, detach them in the IAM console",
                severity="warning", observed={"user": user, "policies": list(policies)}))
        if state.admin_exempt:
            found.append(Finding(f"{state.admin}'s own credentials are left to you: {state.admin_exempt}",
                                 observed={"user": state.admin}))
        if not found:
            found.append(Finding(f"every access key is in use and younger than {ROTATION_DAYS} days, at most one "
                                 f"active per user; every console password used within {UNUSED_DAYS} days"))
        return found

    def plan(self, state: HygieneState, ctx: StepContext) -> list[Change]:
        changes = [self._key_change(state, s) for s in state.keys]
        changes += [self._password_change(state, p) for p in state.passwords]
        return changes

    @staticmethod
    def _key_change(state: HygieneState, s: StaleKey) -> Change:
        resource = f'access key {s.key.key_id} of "{s.user}"'
        why = "; ".join(s.reasons)
        if s.key.key_id == state.running_key or (s.user == state.admin and state.admin_exempt):
            reason = ("this run signs with it" if s.key.key_id == state.running_key
                      else state.admin_exempt or "")
            return Change(
                Action.OPERATOR, RotateKey(s.user, s.key.key_id), resource,
                f"rotate {s.user}'s key {s.key.key_id} yourself ({why}; aws-harden leaves it: {reason})",
                instructions=(f"1. aws iam create-access-key --user-name {s.user} (and move whatever uses "
                              f"{s.key.key_id} to the new key)",
                              f"2. aws iam update-access-key --user-name {s.user} --access-key-id {s.key.key_id} "
                              "--status Inactive", "3. once nothing breaks, delete the old key in the IAM console"),
                url=CONSOLE.format(user=s.user))
        return Change(
            Action.UPDATE, DeactivateKey(s.user, s.key.key_id), resource,
            f"deactivate {s.user}'s key {s.key.key_id} ({why}); type {s.user} to agree",
            operations=("iam:UpdateAccessKey",),
            fields=(FieldChange("status", "Active", "Inactive"),
                    FieldChange("last_used", None, _when(s.key.last_used)),
                    FieldChange("created", None, _when(s.key.created))),
            instructions=("deactivated, not deleted: aws iam update-access-key --status Active undoes it",),
            confirm_value=s.user, confirm_answer=CONFIRM_KEY)

    @staticmethod
    def _password_change(state: HygieneState, p: StalePassword) -> Change:
        admin = p.user == state.admin and state.admin_exempt
        return Change(
            Action.OPERATOR, DisablePassword(p.user), f'console password of "{p.user}"',
            f"{p.user}'s console password is unused for {p.days} days" + (
                f": sign in as {p.user} (it is the only way in), or disable it once another admin can" if admin
                else ": disable it (AWS can only delete a password, which aws-harden never does)"),
            instructions=(f"IAM console > Users > {p.user} > Security credentials > Console sign-in > Manage > "
                          "Disable console access",
                          f"or: aws iam delete-login-profile --user-name {p.user} (a new password can be set later)"),
            url=CONSOLE.format(user=p.user))


STEP = CredentialHygiene()
