"""An IAM user for the operator's daily work, with console access and no permissions of its own."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard import cli_profile
from wizard.aws import Aws
from wizard.errors import Aborted
from wizard.protocol import (
    KNOWN_AFTER_APPLY,
    Action,
    AnswerValue,
    ApplyContext,
    Change,
    FieldChange,
    Finding,
    Question,
    Step,
    StepContext,
    iam_name_problem,
)
from wizard.reads import absent_is_none
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff
from wizard.secrets import PasswordRules, Secret, generate_password

TAGS = [{"Key": "created-by", "Value": "aws-harden"}]


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


PROFILE_RE = re.compile(r"[\w.+@-]{1,64}", re.ASCII)


def profile_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or not PROFILE_RE.fullmatch(value):
        return "a profile name: letters, digits and . + @ _ -, at most 64"
    return None


def read_password_rules(iam: Any) -> PasswordRules:
    try:
        policy = iam.get_account_password_policy()["PasswordPolicy"]
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return PasswordRules()
        raise
    return PasswordRules(
        minimum_length=int(policy.get("MinimumPasswordLength", 6)),
        uppercase=bool(policy.get("RequireUppercaseCharacters")),
        lowercase=bool(policy.get("RequireLowercaseCharacters")),
        numbers=bool(policy.get("RequireNumbers")),
        symbols=bool(policy.get("RequireSymbols")),
    )


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
    })

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
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> AdminUserState:
        iam = aws.client("iam")
        name = str(ctx.answer("name"))
        programmatic = bool(ctx.answer("programmatic_access"))
        profile = None
        if programmatic:
            path = cli_profile.config_path(ctx.sandbox)
            profile = cli_profile.read_status(path, str(ctx.answer("cli_profile")), ctx.caller.account, name)
        rules, found = aws.parallel(
            lambda: read_password_rules(iam),  # shared with password-policy through the read cache
            lambda: absent_is_none(lambda: iam.get_user(UserName=name)),
        )
        if found is None:
            return AdminUserState(
                name=name, exists=False, password_rules=rules, programmatic=programmatic, profile=profile
            )
        user = found["User"]

        def collect(paginator: str, field: str, key: str | None = None) -> tuple[str, ...]:
            pages = iam.get_paginator(paginator).paginate(UserName=name)
            return tuple(item[key] if key else item for page in pages for item in page[field])

        # Independent reads at once: check's wall time follows the longest chain, not the number of calls.
        login, attached, inline, keys, devices = aws.parallel(
            lambda: absent_is_none(lambda: iam.get_login_profile(UserName=name)),
            lambda: collect("list_attached_user_policies", "AttachedPolicies", "PolicyArn"),
            lambda: collect("list_user_policies", "PolicyNames"),
            lambda: collect("list_access_keys", "AccessKeyMetadata", "AccessKeyId") if programmatic else (),
            lambda: collect("list_mfa_devices", "MFADevices", "SerialNumber") if programmatic else (),
        )
        console = login is not None
        serial = next((d for d in devices if ":u2f/" not in d), None)  # a passkey gives the CLI no code
        return AdminUserState(
            name, True, user["Arn"], console, attached, inline, rules, programmatic, keys, profile, serial
        )

    def findings(self, state: AdminUserState, ctx: StepContext) -> list[Finding]:
        found: list[Finding] = []
        if state.exists:
            found.append(Finding(f"IAM user {state.name} exists", observed={"arn": state.arn}))
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

    def plan(self, state: AdminUserState, ctx: StepContext) -> list[Change]:
        changes: list[Change] = []
        if not state.exists:
            changes.append(
                Change(
                    Action.CREATE,
                    "create-user",
                    f'iam user "{state.name}"',
                    f"create IAM user {state.name}",
                    operations=("iam:CreateUser",),
                    fields=(
                        FieldChange("name", None, state.name),
                        FieldChange("arn", None, KNOWN_AFTER_APPLY),
                    ),
                    params={"name": state.name},
                )
            )
        if not state.has_console_access:
            rules = state.password_rules
            changes.append(
                Change(
                    Action.CREATE,
                    "console-access",
                    f'console access for "{state.name}"',
                    f"give {state.name} a console password (stored in the OS keyring, changed at first sign-in)",
                    operations=("iam:CreateLoginProfile",),
                    fields=(
                        FieldChange("password", None, "generated", sensitive=True),
                        FieldChange("password_reset_required", None, True),
                    ),
                    params={
                        "name": state.name,
                        "minimum_length": rules.minimum_length,
                    },
                )
            )
        changes.extend(self._programmatic_changes(state))
        return changes

    @staticmethod
    def _programmatic_changes(state: AdminUserState) -> list[Change]:
        if not state.programmatic or state.profile is None:
            return []
        changes: list[Change] = []
        if not state.access_keys:
            changes.append(Change(
                Action.CREATE,
                "access-key",
                f'access key for "{state.name}"',
                f"give {state.name} an access key for the AWS CLI (secret to the OS keyring only)",
                operations=("iam:CreateAccessKey",),
                fields=(FieldChange("access_key_id", None, KNOWN_AFTER_APPLY),
                        FieldChange("secret_access_key", None, "in the OS keyring", sensitive=True)),
                params={"name": state.name},
            ))
        if state.profile.state == "missing":
            changes.append(Change(
                Action.CREATE,
                "cli-profile",
                f'AWS CLI profile "{state.profile.name}"',
                f"write the AWS CLI profile {state.profile.name} to {state.profile.path} (it reads the key "
                "from the keyring; no secret in the file)",
                fields=(
                    FieldChange("file", None, state.profile.path),
                    FieldChange("credential_process", None, f"aws-harden credential-process ({state.name})"),
                    FieldChange("mfa", None, f"a code from {state.mfa_serial}, per session" if state.mfa_serial
                                else "a code per session once the admin has an MFA device (found then)"),
                ),
                params={"name": state.name, "profile": state.profile.name, "path": state.profile.path,
                        "mfa_serial": state.mfa_serial or ""},
            ))
        return changes

    def apply(self, aws: Aws, change: Change, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        name = str(change.params["name"])
        if change.key == "create-user":
            try:
                with_backoff(lambda: iam.create_user(UserName=name, Tags=TAGS))
            except Exception as exc:
                if error_code(exc) != "EntityAlreadyExists":
                    raise
            return
        if change.key == "console-access":
            password = generate_password(PasswordRules(minimum_length=int(change.params["minimum_length"])))
            ctx.keep_secret(f"{name}/console-password", f"console password for {name}", password)
            with_backoff(
                lambda: iam.create_login_profile(
                    UserName=name, Password=password.reveal(), PasswordResetRequired=True
                ),
                retry_codes=TRANSIENT_CODES | {"NoSuchEntity"},  # a just-created user may not be visible yet
            )
            return
        if change.key == "access-key":
            self._create_access_key(iam, name, ctx)
            return
        if change.key == "cli-profile":
            cli_profile.append_profile(Path(str(change.params["path"])), str(change.params["profile"]),
                                       ctx.caller.account, name, ctx.region, str(change.params["mfa_serial"]) or None)
            return
        raise ValueError(f"unknown change {change.key}")

    @staticmethod
    def _create_access_key(iam: Any, name: str, ctx: ApplyContext) -> None:
        """The secret exists only in this response: if it cannot be kept, the key is deleted, not orphaned."""
        key = with_backoff(lambda: iam.create_access_key(UserName=name),
                           retry_codes=TRANSIENT_CODES | {"NoSuchEntity"})["AccessKey"]
        pair = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
        secret = Secret(json.dumps(pair))
        try:
            ctx.keep_secret(f"{name}/{cli_profile.ENTRY}", f"access key for {name}", secret)
        except (Aborted, KeyboardInterrupt):
            with_backoff(lambda: iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"]))
            raise
        ctx.output(f"access key id of {name}", str(key["AccessKeyId"]))
        ctx.output(f"access key of {name}", "usable in about 10 s (IAM takes a moment to make a new key work)")


STEP = AdminUser()
