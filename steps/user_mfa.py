"""Virtual MFA for IAM users with console access, enrolled in the terminal, and optional MFA enforcement.

The seed AWS returns for a new virtual device lives only in memory, as a Secret: it becomes the QR code
and is checked against the codes the operator types, then it is dropped. An enrollment that does not
finish deletes the device it created, so a re-run starts clean.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from steps import provenance
from steps.provenance import Ownership
from wizard import facts, totp
from wizard.aws import Aws
from wizard.policy_eval import parse_document
from wizard.protocol import (
    NO_TERMINAL,
    Action,
    ApplyContext,
    Authenticator,
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
from wizard.reads import absent_is_none
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff
from wizard.secrets import Secret

TRIES = 3
ISSUER = "Amazon Web Services"
ENFORCE_POLICY_NAME = "aws-harden-require-mfa"
# AWS's documented pattern (IAM User Guide, "AWS: Allows MFA-authenticated IAM users to manage their own
# credentials"): deny everything but enrolling one's own MFA until the session is MFA-authenticated.
ENFORCE_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "BlockMostAccessUnlessSignedInWithMFA",
            "Effect": "Deny",
            "NotAction": [
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:GetMFADevice",
                "iam:ListMFADevices",
                "iam:ListVirtualMFADevices",
                "iam:ResyncMFADevice",
                "sts:GetSessionToken",
            ],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    ],
}


@dataclass(frozen=True)
class IamUser:
    name: str
    console: bool
    mfa_serials: tuple[str, ...] = ()
    password_reset_required: bool = False  # must set a new password at the next (first) sign-in


@dataclass(frozen=True)
class UserMfaState:
    admin: str
    users: tuple[IamUser, ...]
    group: str
    group_exists: bool
    members: tuple[str, ...] = ()
    enforcement: dict[str, Any] | None = None  # the policy document, when the group has it
    admin_ownership: Ownership = field(default_factory=lambda: Ownership("ours", "aws-harden's"))
    group_ownership: Ownership = field(default_factory=lambda: Ownership("ours", "aws-harden's"))

    def user(self, name: str) -> IamUser | None:
        return next((u for u in self.users if u.name == name), None)


def read_users(aws: Aws) -> tuple[IamUser, ...]:
    """Every IAM user with console and MFA, as the console-MFA control reads them (wizard/facts.py)."""
    return tuple(IamUser(u.name, u.login_profile, u.mfa_serials, bool(u.password_reset_required))
                 for u in facts.read_users(aws))


@dataclass(frozen=True)
class GroupRead:
    exists: bool
    members: tuple[str, ...] = ()
    enforcement: dict[str, Any] | None = None
    details: dict[str, Any] | None = None  # GetGroup's Group element (path, id)


def read_group(aws: Aws, group: str) -> GroupRead:
    """The group as wizard/facts.py reads it, and its enforcement policy's document when it has one."""
    iam = aws.client("iam")
    found, policy = aws.parallel(
        lambda: facts.read_group(aws, group),
        lambda: absent_is_none(lambda: iam.get_group_policy(GroupName=group, PolicyName=ENFORCE_POLICY_NAME)),
    )
    if found is None:
        return GroupRead(False)
    enforcement = None if policy is None else dict(parse_document(policy["PolicyDocument"]))
    return GroupRead(True, found.members, enforcement, found.as_get_group())


def otpauth_uri(user: str, account: str, seed: Secret) -> Secret:
    """The key URI authenticator apps read (Google Authenticator's format), built from the seed."""
    label = quote(f"{ISSUER}:{user}@{account}")
    return Secret(f"otpauth://totp/{label}?secret={seed.reveal()}&issuer={quote(ISSUER)}")


class UserMfa(Step[UserMfaState]):
    id = "user-mfa"
    title = "MFA for IAM users with console access"
    remediates = ("iam_user_mfa_enabled_console_access",)
    checks = (
        "the admin user and every IAM user with a console password have an MFA device; optional enforcement"
    )
    writes = frozenset(
        {
            "iam:CreateVirtualMFADevice",
            "iam:EnableMFADevice",
            "iam:DeleteVirtualMFADevice",
            "iam:PutGroupPolicy",
        }
    )
    reads = frozenset({
        "iam:GetGroup", "iam:GetGroupPolicy", "iam:GetLoginProfile", "iam:GetUser", "iam:ListMFADevices",
        "iam:ListUsers", "iam:ListVirtualMFADevices"
    }) | provenance.ADMIN_PATH_READS

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                "other_users",
                "Also enroll MFA here for other IAM users with console access and no MFA?",
                default=False,
                kind="confirm",
                help="each must be at this keyboard with their phone; otherwise they are listed for you",
            ),
            Question(
                "enforce",
                "Require MFA for everything the admin group's members do (deny-unless-MFA policy)?",
                default=False,
                kind="confirm",
                help="attached only once every member has MFA; their access keys then need an MFA session "
                "(aws sts get-session-token) for the CLI",
            ),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> UserMfaState:
        group = str(ctx.answer_of("admin-group", "name"))
        admin = str(ctx.answer_of("admin-user", "name"))
        iam = aws.client("iam")
        users, read, admin_user = aws.parallel(lambda: read_users(aws), lambda: read_group(aws, group),
                                               lambda: provenance.read_user(iam, admin))
        return UserMfaState(admin, users, group, read.exists, read.members, read.enforcement,
                            provenance.user_ownership(aws, ctx.caller, admin_user),
                            provenance.group_ownership(aws, ctx.caller.account, read.details))

    def findings(self, state: UserMfaState, ctx: StepContext) -> list[Finding]:
        found: list[Finding] = []
        for user in state.users:
            if user.mfa_serials:
                found.append(
                    Finding(
                        f"{user.name}: MFA on ({len(user.mfa_serials)} device"
                        f"{'s' if len(user.mfa_serials) > 1 else ''}), left as it is",
                        observed={"user": user.name, "mfa_devices": list(user.mfa_serials)},
                    )
                )
            elif user.console:
                found.append(
                    Finding(
                        f"{user.name}: console access and no MFA",
                        observed={"user": user.name, "console": True, "mfa_devices": []},
                    )
                )
        if state.user(state.admin) is None:
            found.append(
                Finding(
                    f"no IAM user {state.admin} yet (admin-user creates it)", observed={"user": state.admin}
                )
            )
        found.extend(self._enforcement_findings(state, ctx))
        found.extend(self._cli_hint(state, ctx))
        return found

    @staticmethod
    def _cli_hint(state: UserMfaState, ctx: StepContext) -> list[Finding]:
        """How the admin runs the AWS CLI and this wizard from now on, with MFA (also in the summary)."""
        admin = state.user(state.admin)
        devices = [s for s in admin.mfa_serials if ":u2f/" not in s] if admin is not None else []
        if not devices or not ctx.answer_of("admin-user", "programmatic_access"):
            return []
        profile = str(ctx.answer_of("admin-user", "cli_profile"))
        how = (f"aws-harden check --profile {profile} (and aws --profile {profile}) asks on the terminal for a "
               f"code from {devices[0]} once per session (12 hours), kept in the OS keyring")
        return [Finding(f"{state.admin}'s AWS CLI profile {profile}: {how}", observed={"mfa_device": devices[0]},
                        output=("next, as the admin on the command line", how))]

    def _enforcement_findings(self, state: UserMfaState, ctx: StepContext) -> list[Finding]:
        if state.enforcement is not None:
            if state.enforcement != ENFORCE_POLICY:
                return [
                    Finding(
                        f"group {state.group} has a policy named {ENFORCE_POLICY_NAME} that differs from "
                        "the documented one; it is left as it is: review it in the IAM console",
                        severity="warning",
                        observed={"policy": state.enforcement},
                    )
                ]
            return [
                Finding(
                    f"MFA is enforced for group {state.group} ({ENFORCE_POLICY_NAME})",
                    observed={"group": state.group, "policy": ENFORCE_POLICY_NAME},
                )
            ]
        if not ctx.answer("enforce"):
            return [
                Finding(
                    f"MFA enforcement for group {state.group} is off (optional: [user-mfa] enforce = true)"
                )
            ]
        blockers = self._enforcement_blockers(state, ctx)
        if blockers:
            return [
                Finding(
                    f"MFA enforcement for group {state.group} waits: {'; '.join(blockers)}",
                    severity="warning",
                    observed={"group": state.group, "waits_for": blockers},
                )
            ]
        return []

    def _enrollments(self, state: UserMfaState, ctx: StepContext) -> list[str]:
        """Who this step enrolls: the admin (also when admin-user is about to create it), then, if asked,
        other console users without MFA."""
        admin = state.user(state.admin)
        targets = [state.admin] if admin is None or not admin.mfa_serials else []
        if ctx.answer("other_users"):
            targets += [
                u.name for u in state.users if u.console and not u.mfa_serials and u.name != state.admin
            ]
        return targets

    def _enforcement_blockers(self, state: UserMfaState, ctx: StepContext) -> list[str]:
        """Why attaching the deny-unless-MFA policy now could lock someone out; empty when it cannot."""
        enrolling = {n for n in self._enrollments(state, ctx) if self._enroll_change(state, n).waits_for is None}
        members = set(state.members) | {state.admin}  # admin-group puts the admin in the group
        blockers = []
        if state.group_exists and not state.group_ownership.usable:
            blockers.append(f"group {state.group} is not aws-harden's ({state.group_ownership.reason}); "
                            "admin-group asks to adopt it")
        for name in sorted(members):
            user = state.user(name)
            if name not in enrolling and (user is None or not user.mfa_serials):
                blockers.append(f"{name} has no MFA device yet")
            if user is not None and user.password_reset_required:
                # AWS's example policy leaves iam:ChangePassword out of its NotAction (IAM User Guide, the
                # policy's own caveat): a member who must set a new password at the first sign-in, before
                # MFA is on that session, could never get in.
                blockers.append(f"{name} must still set a new password at the first sign-in (sign in once at "
                                "the IAM sign-in URL), and the policy denies iam:ChangePassword without MFA")
        if ctx.caller.kind == "user" and ctx.caller.name in members:
            blockers.append(
                f"this run signs in as {ctx.caller.name}, a member, with access keys that carry no MFA "
                "session: the policy would deny the wizard's own next calls (run it as another "
                "principal or from an MFA session)"
            )
        return blockers

    def plan(self, state: UserMfaState, ctx: StepContext) -> list[Change]:
        changes = [self._enroll_change(state, name) for name in self._enrollments(state, ctx)]
        enrolling = {c.operation.user for c in changes if isinstance(c.operation, Enroll)}
        for user in state.users:
            if (
                user.console
                and not user.mfa_serials
                and user.name not in enrolling
                and user.name != state.admin
            ):
                changes.append(
                    Change(
                        Action.OPERATOR,
                        UserEnrolls(user.name),
                        f'MFA for "{user.name}"',
                        f"{user.name} has console access and no MFA",
                        instructions=(
                            f"Ask {user.name} to sign in and assign an MFA device: account menu > Security "
                            "credentials > Assign MFA device (a passkey or authenticator app).",
                            "Or run again with [user-mfa] other_users = true while they are here.",
                        ),
                        url="https://console.aws.amazon.com/iam/home#/security_credentials",
                    )
                )
        if ctx.answer("enforce") and state.enforcement is None and not self._enforcement_blockers(state, ctx):
            changes.append(
                Change(
                    Action.CREATE,
                    Enforce(state.group, state.admin),
                    f'policy {ENFORCE_POLICY_NAME} on group "{state.group}"',
                    f"require MFA for every action of {state.group}'s members (deny unless MFA-signed-in)",
                    operations=("iam:PutGroupPolicy",),
                    fields=(
                        FieldChange(
                            "effect", None, "Deny all but MFA self-enrollment without an MFA session"
                        ),
                    ),
                )
            )
        return changes

    @staticmethod
    def _enroll_change(state: UserMfaState, name: str) -> Change:
        """A device the operator's phone holds makes its user theirs: never for an admin nobody adopted."""
        waits = provenance.waits_for_admin(name, state.admin_ownership) if name == state.admin else None
        return Change(
            Action.CREATE,
            Enroll(name),
            f'virtual MFA device for "{name}"',
            f"enroll a virtual MFA device for {name} (QR code in this terminal, then two codes)"
            + (f" (waits: {waits})" if waits else ""),
            operations=("iam:CreateVirtualMFADevice", "iam:EnableMFADevice"),
            fields=(
                FieldChange("device", None, name),
                FieldChange("seed", None, "from AWS, shown only as the QR code", sensitive=True),
            ),
            waits_for=waits,
        )


@dataclass(frozen=True)
class UserEnrolls(ConsoleTask):
    """The user signs in and assigns a device: aws-harden holds no one else's phone."""

    user: str


@dataclass(frozen=True)
class Enroll(Operation):
    """The seed exists only inside apply (a Secret from CreateVirtualMFADevice), never in the plan."""

    user: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        _enroll(aws.client("iam"), self.user, ctx)


@dataclass(frozen=True)
class Enforce(Operation):
    group: str
    admin: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        _enforce(aws, self.group, self.admin, ctx)


def _enroll(iam: Any, user: str, ctx: ApplyContext) -> None:
    if not ctx.interactive:  # decided before anything is created
        raise ChangeSkipped(
            "enrolling needs the person with the phone at a terminal "
            "(run 'aws-harden apply' without --yes)"
        )
    if not ctx.can_show_secrets():  # the seed is drawn as a QR code: never into a redirected stdout
        raise ChangeSkipped(NO_TERMINAL)
    iam.get_user(UserName=user)  # a missing user fails here, before a device exists
    device = _new_device(iam, user)
    serial = str(device["SerialNumber"])
    seed = totp.seed_of(device)
    del device  # the response holds the seed too; keep only the Secret

    def submit(first: str, second: str) -> str | None:
        problem = totp.check_pair(seed, first, second, time.time())
        if problem is not None:
            return problem
        try:
            with_backoff(  # the device was created a moment ago: it may not be visible yet
                lambda: iam.enable_mfa_device(
                    UserName=user, SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second
                ),
                retry_codes=TRANSIENT_CODES | {"NoSuchEntity"},
            )
        except Exception as exc:
            if error_code(exc) == "InvalidAuthenticationCode":
                return (
                    "AWS did not accept these codes: wait for the next code to appear, then type two "
                    "fresh codes in a row; if it keeps failing, set the phone's time to automatic"
                )
            raise
        return None

    label = f"{user}@{ctx.caller.account}"
    finished = False
    try:
        finished = ctx.enroll_authenticator(
            Authenticator(label, otpauth_uri(user, ctx.caller.account, seed), seed), submit, TRIES
        )
    finally:
        if not finished:  # tries used up, cancelled, Ctrl-C or an error: leave no unassigned device
            _delete_quietly(iam, serial)
    if not finished:
        raise ChangeSkipped(
            f"MFA enrollment for {user} did not finish; the unused device was deleted, run again to retry"
        )


def _new_device(iam: Any, user: str) -> Any:
    """A fresh virtual device named after the user; one left unassigned by a killed run is replaced."""
    try:
        return with_backoff(lambda: iam.create_virtual_mfa_device(VirtualMFADeviceName=user))["VirtualMFADevice"]
    except Exception as exc:
        if error_code(exc) != "EntityAlreadyExists":
            raise
    leftovers = [
        d["SerialNumber"]
        for page in iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Unassigned")
        for d in page["VirtualMFADevices"]
        if d["SerialNumber"].endswith(f":mfa/{user}")
    ]
    if not leftovers:
        raise ChangeSkipped(
            f"a virtual MFA device named {user} exists and is in use; remove it or enroll "
            "in the IAM console"
        )
    with_backoff(lambda: iam.delete_virtual_mfa_device(SerialNumber=leftovers[0]))
    return with_backoff(
        lambda: iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"],
        retry_codes=TRANSIENT_CODES | {"EntityAlreadyExists"},
    )


def _delete_quietly(iam: Any, serial: str) -> None:
    """Best effort, so the original reason (or Ctrl-C) still surfaces; if it fails, the next run finds
    the unassigned device and replaces it."""
    with contextlib.suppress(Exception):
        iam.delete_virtual_mfa_device(SerialNumber=serial)


def _enforce(aws: Aws, group: str, admin: str, ctx: ApplyContext) -> None:
    """The lockout guard, again at the moment of attaching: every member must have MFA now."""
    iam = aws.client("iam")
    read = read_group(aws, group)
    if not read.exists:
        raise ChangeSkipped(f"group {group} does not exist yet (admin-group creates it)")
    if not provenance.group_ownership(aws, ctx.caller.account, read.details).usable:
        raise ChangeSkipped(f"not attached: group {group} is not aws-harden's")
    members = read.members
    if ctx.caller.kind == "user" and ctx.caller.name in members:
        raise ChangeSkipped(f"not attached: this run signs in as {ctx.caller.name}, a member of {group}")
    users = {u.name: u for u in read_users(aws)}
    everyone = sorted(set(members) | {admin})
    lacking = [m for m in everyone if not (m in users and users[m].mfa_serials)]
    if lacking:
        raise ChangeSkipped(
            f"not attached: {', '.join(lacking)} {'has' if len(lacking) == 1 else 'have'} "
            "no MFA yet, and the policy would lock them out"
        )
    resetting = [m for m in everyone if m in users and users[m].password_reset_required]
    if resetting:
        raise ChangeSkipped(f"not attached: {', '.join(resetting)} must still set a new password at the first "
                            "sign-in, which the policy would deny without MFA")
    with_backoff(  # admin-group may have created the group a moment ago
        lambda: iam.put_group_policy(
            GroupName=group, PolicyName=ENFORCE_POLICY_NAME, PolicyDocument=json.dumps(ENFORCE_POLICY)
        ),
        retry_codes=TRANSIENT_CODES | {"NoSuchEntity"},
    )


STEP = UserMfa()
