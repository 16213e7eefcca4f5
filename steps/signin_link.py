"""The IAM user sign-in link, with an optional account alias, so the operator stops signing in as root."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wizard.aws import Aws
from wizard.protocol import (
    Action,
    AnswerRejected,
    AnswerValue,
    ApplyContext,
    Change,
    FieldChange,
    Finding,
    Operation,
    Question,
    Step,
    StepContext,
)
from wizard.retry import error_code, with_backoff

# AWS's own pattern for CreateAccountAlias (3-63 characters, no leading, trailing or double dash).
ALIAS_RE = re.compile(r"[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]", re.ASCII)


def alias_problem(value: AnswerValue) -> str | None:
    """Checked before any call; empty means 'no alias wanted' (an existing one is kept)."""
    if not isinstance(value, str):
        return "expected text"
    if value == "":
        return None
    if not ALIAS_RE.fullmatch(value):
        return (
            "3 to 63 characters: lowercase letters, digits and single dashes, "
            "starting and ending with a letter or digit"
        )
    return None


def signin_url(account: str, alias: str | None) -> str:
    return f"https://{alias or account}.signin.aws.amazon.com/console"


def read_alias(iam: Any) -> str | None:
    aliases = iam.list_account_aliases().get("AccountAliases", [])
    return str(aliases[0]) if aliases else None


@dataclass(frozen=True)
class SigninLinkState:
    account: str
    current_alias: str | None
    wanted_alias: str | None  # None: keep whatever there is

    @property
    def url(self) -> str:
        return signin_url(self.account, self.current_alias)


@dataclass(frozen=True)
class Alias(Operation):
    alias: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        alias = self.alias
        try:
            # An account has one alias; creating another replaces it (AWS Sign-In user guide).
            with_backoff(lambda: aws.client("iam").create_account_alias(AccountAlias=alias))
        except Exception as exc:
            if error_code(exc) == "EntityAlreadyExists":
                raise AnswerRejected(
                    "alias",
                    f"the alias '{alias}' is taken by another AWS account; choose another",
                ) from None
            raise


class SigninLink(Step[SigninLinkState]):
    id = "signin-link"
    title = "IAM user sign-in link"
    remediates = ()
    checks = "the account alias is the one asked for (if any); shows the IAM user sign-in URL"
    writes = frozenset({"iam:CreateAccountAlias"})
    reads = frozenset({"iam:ListAccountAliases"})

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                "alias",
                "Account alias for the sign-in URL",
                default="",
                help="empty: keep the current one, or use the account id; aliases are public and unique",
                validate=alias_problem,
            ),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> SigninLinkState:
        wanted = str(ctx.answer("alias") or "") or None
        return SigninLinkState(ctx.caller.account, read_alias(aws.client("iam")), wanted)

    def findings(self, state: SigninLinkState, ctx: StepContext) -> list[Finding]:
        found = [
            Finding(
                f"IAM user sign-in URL: {state.url}",
                observed={"alias": state.current_alias, "url": state.url},
                output=("IAM user sign-in URL", state.url),
            )
        ]
        if ctx.caller.kind == "root":
            admin = str(ctx.answer_of("admin-user", "name"))
            found.append(
                Finding(
                    f"you are signed in as the root user: when this run ends, sign out of root and sign in "
                    f"at {state.url} as the IAM user {admin}",
                    output=("next", f"sign out of the root user; sign in at {state.url} as IAM user {admin}"),
                )
            )
        return found

    def plan(self, state: SigninLinkState, ctx: StepContext) -> list[Change]:
        if state.wanted_alias is None or state.wanted_alias == state.current_alias:
            return []
        new_url = signin_url(state.account, state.wanted_alias)
        return [
            Change(
                Action.UPDATE if state.current_alias else Action.CREATE,
                Alias(state.wanted_alias),
                "account alias",
                f"set the account alias to {state.wanted_alias} (sign-in URL {new_url})",
                operations=("iam:CreateAccountAlias",),
                fields=(
                    FieldChange("alias", state.current_alias, state.wanted_alias),
                    FieldChange("sign-in URL", state.url, new_url),
                ),
            )
        ]


STEP = SigninLink()
