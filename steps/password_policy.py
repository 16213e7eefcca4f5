"""A strong account password policy (CIS: length >= 14, reuse prevention 24), never weakening a stricter one.

UpdateAccountPasswordPolicy replaces the whole policy (omitted fields revert to AWS's defaults), so the
update carries every field, each the stricter of what the account has and what is wanted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from wizard import facts
from wizard.aws import Aws
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
)
from wizard.retry import with_backoff

MAX_AGE_LIMIT = 1095


@dataclass(frozen=True)
class Policy:
    """The policy fields, named as the API names them; max_password_age 0 means passwords never expire."""

    MinimumPasswordLength: int = 6
    RequireSymbols: bool = False
    RequireNumbers: bool = False
    RequireUppercaseCharacters: bool = False
    RequireLowercaseCharacters: bool = False
    AllowUsersToChangePassword: bool = False
    MaxPasswordAge: int = 0
    PasswordReusePrevention: int = 0
    HardExpiry: bool = False

    @classmethod
    def from_fact(cls, policy: facts.PasswordPolicy) -> Policy | None:
        """The account's policy as the controls read it (wizard/facts.py); None when the account has none."""
        if not policy.present:
            return None
        return cls(policy.minimum_length, policy.require_symbols, policy.require_numbers, policy.require_uppercase,
                   policy.require_lowercase, policy.allow_users_to_change, policy.max_age or 0,
                   policy.reuse_prevention or 0, bool(policy.hard_expiry))

    def request(self) -> dict[str, Any]:
        """UpdateAccountPasswordPolicy's parameters: every field; a 0 ("off") is left out, as the API asks."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in values.items() if isinstance(v, bool) or v != 0}


@dataclass(frozen=True)
class SetPasswordPolicy(Operation):
    policy: Policy  # the whole policy: UpdateAccountPasswordPolicy reverts what it omits

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        request = self.policy.request()
        with_backoff(lambda: aws.client("iam").update_account_password_policy(**request))


def desired(max_age: int) -> Policy:
    return Policy(14, True, True, True, True, True, max_age, 24, False)


def stricter(current: Policy, wanted: Policy) -> Policy:
    """Per field, whichever is stricter; so a run can only tighten the policy."""
    def age(a: int, b: int) -> int:  # 0 is "never expires", the loosest
        return min(x for x in (a, b) if x) if a or b else 0

    return replace(
        wanted,
        MinimumPasswordLength=max(current.MinimumPasswordLength, wanted.MinimumPasswordLength),
        RequireSymbols=current.RequireSymbols or wanted.RequireSymbols,
        RequireNumbers=current.RequireNumbers or wanted.RequireNumbers,
        RequireUppercaseCharacters=current.RequireUppercaseCharacters or wanted.RequireUppercaseCharacters,
        RequireLowercaseCharacters=current.RequireLowercaseCharacters or wanted.RequireLowercaseCharacters,
        AllowUsersToChangePassword=current.AllowUsersToChangePassword or wanted.AllowUsersToChangePassword,
        MaxPasswordAge=age(current.MaxPasswordAge, wanted.MaxPasswordAge),
        PasswordReusePrevention=max(current.PasswordReusePrevention, wanted.PasswordReusePrevention),
        HardExpiry=current.HardExpiry or wanted.HardExpiry,
    )


def max_age_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_AGE_LIMIT:
        return f"0 (passwords never expire) or 1 to {MAX_AGE_LIMIT} days"
    return None


def shown(name: str, value: object) -> object:
    if name == "MaxPasswordAge" and value == 0:
        return "never expires"
    if name == "PasswordReusePrevention" and value == 0:
        return "off"
    return value


@dataclass(frozen=True)
class PasswordPolicyState:
    current: Policy | None  # None: the account has no policy (a fresh account)
    max_age: int

    @property
    def target(self) -> Policy:
        return stricter(self.current or Policy(), desired(self.max_age))


class PasswordPolicy(Step[PasswordPolicyState]):
    id = "password-policy"
    title = "Account password policy"
    remediates = (
        "iam_password_policy_minimum_length_14", "iam_password_policy_reuse_24", "iam_password_policy_uppercase",
        "iam_password_policy_lowercase", "iam_password_policy_number", "iam_password_policy_symbol",
    )
    checks = "length >= 14, all four character classes, reuse prevention 24, users may change their password"
    writes = frozenset({"iam:UpdateAccountPasswordPolicy"})
    reads = frozenset({"iam:GetAccountPasswordPolicy"})

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                "max_age",
                "Maximum password age in days",
                default=0,
                kind="int",
                help="0 = passwords never expire, as current NIST and CIS advice prefers; "
                "a stricter existing value is kept",
                validate=max_age_problem,
            ),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> PasswordPolicyState:
        """The policy the password-policy controls evaluate (wizard/facts.py's read)."""
        return PasswordPolicyState(Policy.from_fact(facts.read_password_policy(aws)), int(ctx.answer("max_age") or 0))

    def findings(self, state: PasswordPolicyState, ctx: StepContext) -> list[Finding]:
        if state.current is None:
            return [Finding("the account has no password policy (AWS's defaults apply)",
                            observed={"policy": None})]
        kept = [
            f.name for f in fields(Policy)
            if getattr(state.current, f.name) != getattr(desired(state.max_age), f.name)
            and getattr(state.current, f.name) == getattr(state.target, f.name)
        ]
        observed = {f.name: getattr(state.current, f.name) for f in fields(Policy)}
        found = [Finding("password policy: " + ", ".join(f"{k} {shown(k, v)}" for k, v in observed.items()),
                         observed=observed)]
        if kept:
            found.append(Finding(f"stricter than asked, kept as is: {', '.join(kept)}",
                                 observed={k: observed[k] for k in kept}))
        return found

    def plan(self, state: PasswordPolicyState, ctx: StepContext) -> list[Change]:
        target = state.target
        if state.current == target:
            return []
        old = state.current
        changed = [
            FieldChange(f.name, None if old is None else shown(f.name, getattr(old, f.name)),
                        shown(f.name, getattr(target, f.name)))
            for f in fields(Policy)
            if old is None or getattr(old, f.name) != getattr(target, f.name)
        ]
        return [
            Change(
                Action.CREATE if old is None else Action.UPDATE,
                SetPasswordPolicy(target),
                "account password policy",
                "set a strong password policy" if old is None else "tighten the password policy",
                operations=("iam:UpdateAccountPasswordPolicy",),
                fields=tuple(changed),
            )
        ]


STEP = PasswordPolicy()
