"""An IAM user for the operator's daily work, with console access and no permissions of its own."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steps import provenance
from steps.admin_group import read_admin_access
from steps.provenance import ADOPT_ANSWER, Ownership
from wizard import cli_profile, facts
from wizard.aws import Aws
from wizard.errors import Aborted
from wizard.protocol import (
    KNOWN_AFTER_APPLY,
    Action,
    AnswerValue,
    ApplyContext,
    Change,
    ChangeSkipped,
    FieldChange,
    Finding,
    Operation,
    Question,
    Step,
    StepContext,
    iam_name_problem,
)
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff
from wizard.secrets import PasswordRules, Secret, generate_password

TAGS = provenance.TAGS
NOT_YET = Ownership("absent", "no such user")


@dataclass(frozen=True)
class AccessKeyInfo:
    key_id: str
    status: str
    last_used: str  # "never", or when and where


@dataclass(frozen=True)
class ExistingUser:
    """What the operator must see before adopting a user aws-harden did not make."""

    user_id: str
    arn: str
    created: str
    password_last_used: str
    console: bool
    password_reset_required: bool
    access_keys: tuple[AccessKeyInfo, ...]
    mfa_devices: tuple[str, ...]
    attached_policies: tuple[str, ...]
    inline_policies: tuple[str, ...]
    boundary: str | None
    groups: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]

    def lines(self) -> list[str]:
        keys = [f"{k.key_id} ({k.status}, last used {k.last_used})" for k in self.access_keys]
        console = ("yes, password last used " + self.password_last_used
                   + (", must be changed at next sign-in" if self.password_reset_required else "")
                   if self.console else "no")
        return [
            f"arn {self.arn}, created {self.created}",
            f"console access: {console}",
            f"access keys: {provenance.listing(keys)}",
            f"MFA devices: {provenance.listing(self.mfa_devices)}",
            f"attached policies: {provenance.listing(self.attached_policies)}",
            f"inline policies: {provenance.listing(self.inline_policies)}",
            f"permissions boundary: {self.boundary or 'none'}",
            f"groups: {provenance.listing(self.groups)}",
            f"tags: {provenance.listing([f'{k}={v}' for k, v in self.tags])}",
        ]

    def observed(self) -> dict[str, Any]:
        return {
            "arn": self.arn, "user_id": self.user_id, "created": self.created, "console": self.console,
            "password_last_used": self.password_last_used, "password_reset_required": self.password_reset_required,
            "access_keys": [{"id": k.key_id, "status": k.status, "last_used": k.last_used} for k in self.access_keys],
            "mfa_devices": list(self.mfa_devices), "attached_policies": list(self.attached_policies),
            "inline_policies": list(self.inline_policies), "permissions_boundary": self.boundary,
            "groups": list(self.groups), "tags": dict(self.tags),
        }


@dataclass(frozen=True)
class AdminUserState:
    name: str
    exists: bool
    arn: str | None = None
    has_console_access: bool = False
    attached_policies: tuple[str, ...] = ()
    inline_policies: tuple[str, ...] = ()
    password_rules: PasswordRules = field(default_factory=PasswordRules)
    # Programmatic access (optional): the user's access key ids, and the AWS CLI profile that reads it.
    programmatic: bool = False
    access_keys: tuple[str, ...] = ()
    profile: cli_profile.ProfileStatus | None = None
    mfa_serial: str | None = None  # the admin's MFA device that gives codes, for the profile (read when programmatic)
    ownership: Ownership = NOT_YET
    existing: ExistingUser | None = None  # shown in full when the user is not aws-harden's
    user_id: str | None = None
    # First sign-in: a pending reset needs iam:ChangePassword or the password policy's self-service.
    password_reset_pending: bool = False
    self_service: bool = False  # AllowUsersToChangePassword
    admin_access: bool = False  # in a group with AdministratorAccess (which includes iam:ChangePassword)

    @property
    def foreign(self) -> bool:
        return self.exists and not self.ownership.usable


PROFILE_RE = re.compile(r"[\w.+@-]{1,64}", re.ASCII)


def profile_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or not PROFILE_RE.fullmatch(value):
        return "a profile name: letters, digits and . + @ _ -, at most 64"
    return None


def allows_self_service(policy: facts.PasswordPolicy) -> bool:
    """The password policy's AllowUsersToChangePassword (no policy: users may not)."""
    return policy.present and policy.allow_users_to_change


def password_rules(policy: facts.PasswordPolicy) -> PasswordRules:
    """What a generated password must meet: the account's policy, or IAM's default without one."""
    if not policy.present:
        return PasswordRules()
    return PasswordRules(minimum_length=policy.minimum_length, uppercase=policy.require_uppercase,
                         lowercase=policy.require_lowercase, numbers=policy.require_numbers,
                         symbols=policy.require_symbols)


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else str(value)


def existing_user(user: facts.User) -> ExistingUser:
    """What the operator sees of a user aws-harden did not make before adopting it (the facts' user)."""
    def last_used(key: facts.AccessKey) -> str:
        if key.last_used is None:
            return "never"
        return f"{_when(key.last_used)} ({key.last_service or '?'} in {key.last_region or '?'})"

    return ExistingUser(
        user_id=user.user_id, arn=user.arn, created=_when(user.created),
        password_last_used=_when(user.password_last_used) if user.password_last_used else "never",
        console=user.login_profile, password_reset_required=bool(user.password_reset_required),
        access_keys=tuple(AccessKeyInfo(k.key_id, k.status, last_used(k)) for k in user.access_keys),
        mfa_devices=user.mfa_serials, attached_policies=tuple(p.arn for p in user.attached_policies),
        inline_policies=user.inline_policies, boundary=user.permissions_boundary, groups=user.groups,
        tags=tuple(sorted(user.tags.items())),
    )


@dataclass(frozen=True)
class Adopt(Operation):
    """The operator agreed to this very user (its unique id): if it was replaced since the plan, ask again."""

    name: str
    user_id: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        provenance.adopt_user(aws, ctx, self.name, self.user_id)


@dataclass(frozen=True)
class CreateUser(Operation):
    name: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        try:
            created = with_backoff(lambda: iam.create_user(UserName=self.name, Tags=TAGS))
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            # Not this run's: the next inspect decides whose it is (a re-run finds its own tag and
            # keyring entry; anything else is shown for adoption).
            raise ChangeSkipped(f"an IAM user named {self.name} appeared meanwhile; run again to see whose") from None
        provenance.note(aws, "created", str(created["User"]["UserId"]))


@dataclass(frozen=True)
class ConsoleAccess(Operation):
    """A generated password (made here, never planned: it goes to the keyring, then to IAM)."""

    name: str
    minimum_length: int

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        user = _ensure_usable(aws, iam, self.name, ctx)
        password = generate_password(PasswordRules(minimum_length=self.minimum_length))
        ctx.keep_secret(f"{self.name}/{provenance.PASSWORD_ENTRY}", f"console password for {self.name}", password)
        with_backoff(
            lambda: iam.create_login_profile(
                UserName=self.name, Password=password.reveal(), PasswordResetRequired=True
            ),
            retry_codes=TRANSIENT_CODES | {"NoSuchEntity"},  # a just-created user may not be visible yet
        )
        provenance.note(aws, "password", str(user["UserId"]))


@dataclass(frozen=True)
class AccessKey(Operation):
    """The secret exists only in CreateAccessKey's response: if it cannot be kept, the key is deleted, not
    orphaned."""

    name: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        name = self.name
        _ensure_usable(aws, iam, name, ctx)
        key = with_backoff(lambda: iam.create_access_key(UserName=name),
                           retry_codes=TRANSIENT_CODES | {"NoSuchEntity"})["AccessKey"]
        pair = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
        secret = Secret(json.dumps(pair))  # the keyring entry's format (cli_profile reads it back)
        try:
            ctx.keep_secret(f"{name}/{cli_profile.ENTRY}", f"access key for {name}", secret)
        except (Aborted, KeyboardInterrupt):
            with_backoff(lambda: iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"]))
            raise
        ctx.output(f"access key id of {name}", str(key["AccessKeyId"]))
        ctx.output(f"access key of {name}", "usable in about 10 s (IAM takes a moment to make a new key work)")


@dataclass(frozen=True)
class CliProfile(Operation):
    name: str
    profile: str
    path: str
    mfa_serial: str | None

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        cli_profile.append_profile(Path(self.path), self.profile, ctx.caller.account, self.name, ctx.region,
                                   self.mfa_serial)


def _ensure_usable(aws: Aws, iam: Any, name: str, ctx: ApplyContext) -> dict[str, Any]:
    """Read again at the moment of acting: a credential goes only to a user that is aws-harden's or
    adopted (one that appeared under the name since the plan gets nothing). Returns the user."""
    user: dict[str, Any] = with_backoff(  # a user created a moment ago may not be readable yet
        lambda: iam.get_user(UserName=name)["User"], retry_codes=TRANSIENT_CODES | {"NoSuchEntity"})
    ownership = provenance.user_ownership(aws, ctx.caller, user)
    if not ownership.usable:
        raise ChangeSkipped(f"IAM user {name} is not aws-harden's ({ownership.reason}); nothing was given to it")
    return user


class AdminUser(Step[AdminUserState]):
    id = "admin-user"
    title = "IAM admin user with console access"
    remediates = ()  # a user's own policies are flagged, never detached (iam_policy_attached_only_to_group_or_roles)
    checks = "an IAM user for daily admin work exists, can sign in to the console, and has no direct policies"
    writes = frozenset(
        {"iam:CreateUser", "iam:CreateLoginProfile", "iam:CreateAccessKey", "iam:DeleteAccessKey"}
    )
    reads = frozenset({
        "iam:GetAccountPasswordPolicy", "iam:GetLoginProfile", "iam:GetUser", "iam:ListAccessKeys",
        "iam:ListAttachedUserPolicies", "iam:ListMFADevices", "iam:ListUserPolicies"
    }) | provenance.ADMIN_PATH_READS

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                "name",
                "Name of the IAM admin user",
                default="admin",
                validate=lambda v: iam_name_problem(v, 64),
            ),
            Question(
                "programmatic_access",
                "Also give the admin an access key for the AWS CLI?",
                default=False,
                kind="confirm",
                help="the secret goes to the OS keyring only; an AWS CLI profile reads it from there",
            ),
            Question(
                "cli_profile",
                "AWS CLI profile name for the admin's access key",
                default="aws-harden-admin",
                validate=profile_problem,
                prompted=False,
            ),
            Question(
                ADOPT_ANSWER,
                "Name of an existing IAM user aws-harden did not create, to use it as the admin unattended",
                default=None,
                help="answers file only; at a terminal the wizard shows the user and asks you to type its name",
                validate=lambda v: iam_name_problem(v, 64),
                prompted=False,
            ),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> AdminUserState:
        """The user and the password policy as the controls read them (wizard/facts.py), and its access."""
        name = str(ctx.answer("name"))
        programmatic = bool(ctx.answer("programmatic_access"))
        profile = None
        if programmatic:
            path = cli_profile.config_path(ctx.sandbox)
            profile = cli_profile.read_status(path, str(ctx.answer("cli_profile")), ctx.caller.account, name)
        # Independent reads at once: check's wall time follows the longest chain, not the number of calls.
        policy, user = aws.parallel(lambda: facts.read_password_policy(aws), lambda: facts.read_user(aws, name))
        admin_access = read_admin_access(aws, user, ctx.caller.partition)
        rules, self_service = password_rules(policy), allows_self_service(policy)
        if user is None:
            return AdminUserState(name=name, exists=False, password_rules=rules, programmatic=programmatic,
                                  profile=profile, self_service=self_service)
        ownership = provenance.user_ownership(aws, ctx.caller, user.as_get_user())
        keys = tuple(k.key_id for k in user.access_keys) if programmatic else ()
        serial = next((d for d in user.mfa_serials if ":u2f/" not in d), None) if programmatic else None
        return AdminUserState(
            name, True, user.arn, user.login_profile, tuple(p.arn for p in user.attached_policies),
            user.inline_policies, rules, programmatic, keys, profile, serial, ownership,
            None if ownership.usable else existing_user(user), user.user_id, bool(user.password_reset_required),
            self_service, admin_access,
        )

    def findings(self, state: AdminUserState, ctx: StepContext) -> list[Finding]:
        found: list[Finding] = []
        if state.existing is not None:
            found.append(Finding(
                f"IAM user {state.name} exists and is not aws-harden's: {state.ownership.reason}. "
                + "; ".join(state.existing.lines()),
                severity="warning", observed=state.existing.observed()))
        elif state.exists:
            found.append(Finding(f"IAM user {state.name} exists ({state.ownership.reason})",
                                 observed={"arn": state.arn}))
            found.append(
                Finding(
                    f"console access: {'yes' if state.has_console_access else 'no'}",
                    observed={"login_profile": state.has_console_access},
                )
            )
        else:
            found.append(Finding(f"no IAM user named {state.name}", observed={"user": None}))
        direct = state.attached_policies + state.inline_policies
        if direct:
            found.append(
                Finding(
                    f"{state.name} has policies of its own ({', '.join(direct)}); the guidance gives it "
                    "permissions only through its group. Review and detach them in the IAM console.",
                    severity="warning",
                    observed={"attached": list(state.attached_policies), "inline": list(state.inline_policies)},
                )
            )
        if state.access_keys:
            found.append(Finding(
                f"{state.name} has access key{'s' if len(state.access_keys) > 1 else ''} "
                f"{', '.join(state.access_keys)}; no other is created",
                observed={"access_keys": list(state.access_keys)}))
        if self._first_sign_in_fails(state):
            found.append(Finding(
                f"at the first sign-in {state.name} must set a new password, which needs iam:ChangePassword "
                "(the admin-group step's AdministratorAccess includes it) or AllowUsersToChangePassword "
                "(the password-policy step sets it); until one of them has run, that sign-in fails "
                "(with --only admin-user, run admin-group or password-policy too)",
                severity="warning", observed={"AllowUsersToChangePassword": state.self_service,
                                              "AdministratorAccess": state.admin_access}))
        if state.profile is not None and state.profile.state == "other":
            found.append(Finding(
                f"the AWS CLI profile {state.profile.name} in {state.profile.path} exists and was not "
                "written by aws-harden for this user; it is left alone (choose another with [admin-user] "
                "cli_profile)",
                severity="warning", observed={"profile": state.profile.name, "path": state.profile.path}))
        if state.profile is not None and state.profile.state == "unreadable":
            found.append(Finding(
                f"the AWS config file {state.profile.path} does not parse as the AWS CLI reads it, so the "
                f"profile {state.profile.name} is not written to it; fix the file and run again",
                severity="warning", observed={"profile": state.profile.name, "path": state.profile.path}))
        return found

    @staticmethod
    def _first_sign_in_fails(state: AdminUserState) -> bool:
        """Issue 12 item 9: a forced password reset with no way to set the new password. The step warns
        rather than granting anything: the admin gets its permissions through its group only."""
        reset = state.password_reset_pending or (not state.has_console_access and not state.foreign)
        return reset and not state.self_service and not state.admin_access

    def plan(self, state: AdminUserState, ctx: StepContext) -> list[Change]:
        changes: list[Change] = []
        if state.foreign:
            assert state.existing is not None
            changes.append(self._adopt(state, state.existing))
        if not state.exists:
            changes.append(
                Change(
                    Action.CREATE,
                    CreateUser(state.name),
                    f'iam user "{state.name}"',
                    f"create IAM user {state.name}",
                    operations=("iam:CreateUser",),
                    fields=(
                        FieldChange("name", None, state.name),
                        FieldChange("arn", None, KNOWN_AFTER_APPLY),
                    ),
                )
            )
        if not state.has_console_access:
            rules = state.password_rules
            changes.append(
                Change(
                    Action.CREATE,
                    ConsoleAccess(state.name, rules.minimum_length),
                    f'console access for "{state.name}"',
                    f"give {state.name} a console password (stored in the OS keyring, changed at first sign-in)",
                    operations=("iam:CreateLoginProfile",),
                    fields=(
                        FieldChange("password", None, "generated", sensitive=True),
                        FieldChange("password_reset_required", None, True),
                    ),
                )
            )
        changes.extend(self._programmatic_changes(state))
        return changes

    @staticmethod
    def _adopt(state: AdminUserState, existing: ExistingUser) -> Change:
        return Change(
            Action.UPDATE,
            Adopt(state.name, existing.user_id),
            f'iam user "{state.name}"',
            f"adopt IAM user {state.name} as the admin, though not aws-harden's ({state.ownership.reason}); "
            "whoever holds its password, keys or MFA device keeps them: type its name to agree",
            fields=(FieldChange("aws-harden's", "no", "yes, adopted as it is"),),
            instructions=tuple(existing.lines()),
            confirm_value=state.name,
            confirm_answer=ADOPT_ANSWER,
            others_depend_on_it=True,
        )

    @staticmethod
    def _programmatic_changes(state: AdminUserState) -> list[Change]:
        if not state.programmatic or state.profile is None:
            return []
        changes: list[Change] = []
        if not state.access_keys:
            changes.append(Change(
                Action.CREATE,
                AccessKey(state.name),
                f'access key for "{state.name}"',
                f"give {state.name} an access key for the AWS CLI (secret to the OS keyring only)",
                operations=("iam:CreateAccessKey",),
                fields=(FieldChange("access_key_id", None, KNOWN_AFTER_APPLY),
                        FieldChange("secret_access_key", None, "in the OS keyring", sensitive=True)),
            ))
        if state.profile.state == "missing":
            changes.append(Change(
                Action.CREATE,
                CliProfile(state.name, state.profile.name, state.profile.path, state.mfa_serial or None),
                f'AWS CLI profile "{state.profile.name}"',
                f"write the AWS CLI profile {state.profile.name} to {state.profile.path} (it reads the key "
                "from the keyring; no secret in the file)",
                fields=(
                    FieldChange("file", None, state.profile.path),
                    FieldChange("credential_process", None, f"aws-harden credential-process ({state.name})"),
                    FieldChange("mfa", None, f"a code from {state.mfa_serial}, per session" if state.mfa_serial
                                else "a code per session once the admin has an MFA device (found then)"),
                ),
            ))
        return changes


STEP = AdminUser()
