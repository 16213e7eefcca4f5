"""An IAM user for the operator's daily work, with console access and no permissions of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wizard.aws import Aws
from wizard.protocol import (
    KNOWN_AFTER_APPLY,
    Action,
    ApplyContext,
    Change,
    FieldChange,
    Finding,
    Question,
    Step,
    StepContext,
    iam_name_problem,
)
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff
from wizard.secrets import PasswordRules, generate_password

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
    checks = "an IAM user for daily admin work exists, can sign in to the console, and has no direct policies"
    writes = frozenset({"iam:CreateUser", "iam:CreateLoginProfile"})

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                "name",
                "Name of the IAM admin user",
                default="admin",
                validate=lambda v: iam_name_problem(v, 64),
            ),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> AdminUserState:
        iam = aws.client("iam")
        name = str(ctx.answer("name"))
        rules = read_password_rules(iam)
        try:
            user = iam.get_user(UserName=name)["User"]
        except Exception as exc:
            if error_code(exc) == "NoSuchEntity":
                return AdminUserState(name=name, exists=False, password_rules=rules)
            raise
        try:
            iam.get_login_profile(UserName=name)
            console = True
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            console = False
        attached = tuple(
            p["PolicyArn"]
            for page in iam.get_paginator("list_attached_user_policies").paginate(UserName=name)
            for p in page["AttachedPolicies"]
        )
        inline = tuple(
            n for page in iam.get_paginator("list_user_policies").paginate(UserName=name) for n in page["PolicyNames"]
        )
        return AdminUserState(name, True, user["Arn"], console, attached, inline, rules)

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
        return changes

    def apply(self, aws: Aws, change: Change, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        name = str(change.params["name"])
        if change.key == "create-user":
            try:
                iam.create_user(UserName=name, Tags=TAGS)
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
        raise ValueError(f"unknown change {change.key}")


STEP = AdminUser()
