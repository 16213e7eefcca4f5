"""Pure plan tables for root-access-keys, password-policy and signin-link: state + answers -> changes."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from steps.password_policy import STEP as PASSWORD_POLICY
from steps.password_policy import PasswordPolicyState, Policy, SetPasswordPolicy, desired, stricter
from steps.root_access_keys import STEP as ROOT_KEYS
from steps.root_access_keys import RootKey, RootKeysState
from steps.signin_link import STEP as SIGNIN
from steps.signin_link import Alias, SigninLinkState, alias_problem
from wizard.aws import Caller
from wizard.protocol import Action, StepContext

ACCOUNT = "111122223333"
ROOT = Caller(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, ACCOUNT)
ADMIN = Caller(f"arn:aws:iam::{ACCOUNT}:user/admin", ACCOUNT, "AIDAEXAMPLE")


def ctx(step_id: str, caller: Caller = ROOT, **answers: Any) -> StepContext:
    merged = {"admin-user": {"name": "admin", "programmatic_access": False, "cli_profile": "p"},
              step_id: answers}
    return StepContext(step_id, caller, "us-east-1", lambda s, k: merged.get(s, {}).get(k))


def table(changes: list[Any]) -> list[tuple[str, str, str]]:
    return [(c.action.value, c.key, c.resource) for c in changes]


# --- root-access-keys ---------------------------------------------------------------------
def test_root_caller_deletes_each_key_and_its_own_last_with_a_typed_confirmation() -> None:
    keys = (RootKey("AKIAOTHER0000000000A", "Inactive"), RootKey("AKIARUNNING00000000B", "Active"))
    state = RootKeysState(True, 1, keys, running_key="AKIARUNNING00000000B")
    changes = ROOT_KEYS.plan(state, ctx("root-access-keys"))
    assert table(changes) == [
        ("-", "delete-key", 'root access key "AKIAOTHER0000000000A"'),
        ("-", "delete-key", 'root access key "AKIARUNNING00000000B"'),
    ]
    other, running = changes
    assert not other.run_last and other.operations == ("iam:UpdateAccessKey", "iam:DeleteAccessKey")
    assert other.confirm_value is None
    # The running key cannot be deactivated first: the inactive key could not sign the delete.
    assert running.run_last and running.operations == ("iam:DeleteAccessKey",)
    assert running.confirm_value == "AKIARUNNING00000000B"
    assert running.confirm_answer == "confirm_delete_running_key"
    assert [(f.old, f.new) for f in running.fields] == [("Active", "deleted")]


def test_root_caller_without_keys_is_compliant() -> None:
    state = RootKeysState(True, 0, (), running_key=None)
    assert ROOT_KEYS.plan(state, ctx("root-access-keys")) == []


def test_non_root_caller_gets_console_instructions() -> None:
    state = RootKeysState(False, 1)
    (change,) = ROOT_KEYS.plan(state, ctx("root-access-keys", ADMIN))
    assert change.action is Action.OPERATOR and change.key == "delete-in-console"
    assert change.url and "security_credentials" in change.url
    assert any("Security credentials" in line for line in change.instructions)
    assert any("Deactivate" in line and "Delete" in line for line in change.instructions)


def test_non_root_caller_compliant_when_summary_shows_no_root_keys() -> None:
    assert ROOT_KEYS.plan(RootKeysState(False, 0), ctx("root-access-keys", ADMIN)) == []


def test_missing_admin_is_a_warning_in_the_findings() -> None:
    state = RootKeysState(True, 1, (RootKey("AKIARUNNING00000000B", "Active"),), "AKIARUNNING00000000B",
                          admin_problem="IAM user admin does not exist or cannot sign in to the console")
    warnings = [f.text for f in ROOT_KEYS.findings(state, ctx("root-access-keys")) if f.severity == "warning"]
    assert len(warnings) == 1 and "does not exist" in warnings[0]


def test_confirmation_answer_must_look_like_a_key_id() -> None:
    (question,) = ROOT_KEYS.questions()
    assert not question.prompted
    assert question.check("AKIAIOSFODNN7EXAMPLE") is None
    assert question.check("yes") is not None and question.check("") is not None


# --- password-policy ----------------------------------------------------------------------
def test_fresh_account_creates_the_whole_policy() -> None:
    (change,) = PASSWORD_POLICY.plan(PasswordPolicyState(None, 0), ctx("password-policy"))
    assert change.action is Action.CREATE
    shown = {f.name: (f.old, f.new) for f in change.fields}
    assert shown["MinimumPasswordLength"] == (None, 14)
    assert shown["PasswordReusePrevention"] == (None, 24)
    assert shown["MaxPasswordAge"] == (None, "never expires")
    assert isinstance(change.operation, SetPasswordPolicy)
    assert change.operation.policy.request() == {
        "MinimumPasswordLength": 14, "RequireSymbols": True, "RequireNumbers": True,
        "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True,
        "AllowUsersToChangePassword": True, "PasswordReusePrevention": 24, "HardExpiry": False,
    }


def test_weaker_policy_is_updated_field_by_field_old_to_new() -> None:
    current = Policy(MinimumPasswordLength=8, RequireNumbers=True, PasswordReusePrevention=5)
    (change,) = PASSWORD_POLICY.plan(PasswordPolicyState(current, 0), ctx("password-policy"))
    assert change.action is Action.UPDATE
    shown = {f.name: (f.old, f.new) for f in change.fields}
    assert shown["MinimumPasswordLength"] == (8, 14)
    assert shown["PasswordReusePrevention"] == (5, 24)
    assert "RequireNumbers" not in shown  # unchanged fields are not listed
    assert isinstance(change.operation, SetPasswordPolicy)
    assert change.operation.policy.RequireNumbers is True  # ...but the one call still carries them


def test_stricter_existing_values_are_kept() -> None:
    current = Policy(20, False, True, True, True, True, MaxPasswordAge=60, PasswordReusePrevention=24,
                     HardExpiry=True)
    (change,) = PASSWORD_POLICY.plan(PasswordPolicyState(current, 90), ctx("password-policy"))
    assert [f.name for f in change.fields] == ["RequireSymbols"]
    assert isinstance(change.operation, SetPasswordPolicy)
    sent = change.operation.policy
    assert sent.MinimumPasswordLength == 20
    assert sent.MaxPasswordAge == 60  # 60 is stricter than the asked 90
    assert sent.HardExpiry is True


def test_existing_max_age_kept_when_none_is_asked() -> None:
    current = Policy(14, True, True, True, True, True, MaxPasswordAge=90, PasswordReusePrevention=24)
    assert PASSWORD_POLICY.plan(PasswordPolicyState(current, 0), ctx("password-policy")) == []
    kept = [f.text for f in PASSWORD_POLICY.findings(PasswordPolicyState(current, 0), ctx("password-policy"))]
    assert any("MaxPasswordAge" in t and "kept" in t for t in kept)


def test_compliant_policy_plans_nothing() -> None:
    assert PASSWORD_POLICY.plan(PasswordPolicyState(desired(0), 0), ctx("password-policy")) == []


def test_max_age_question_bounds() -> None:
    (question,) = PASSWORD_POLICY.questions()
    assert question.default == 0
    assert question.check(0) is None and question.check(1095) is None
    assert question.check(1096) is not None and question.check(-1) is not None


policies = st.builds(
    Policy,
    MinimumPasswordLength=st.integers(6, 128), RequireSymbols=st.booleans(), RequireNumbers=st.booleans(),
    RequireUppercaseCharacters=st.booleans(), RequireLowercaseCharacters=st.booleans(),
    AllowUsersToChangePassword=st.booleans(), MaxPasswordAge=st.integers(0, 1095),
    PasswordReusePrevention=st.integers(0, 24), HardExpiry=st.booleans(),
)


def at_least_as_strict(a: Policy, b: Policy) -> bool:
    for f in fields(Policy):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "MaxPasswordAge":
            if y and not (x and x <= y):
                return False
        elif x < y:
            return False
    return True


@given(policies, st.integers(0, 1095))
def test_never_weakens_any_field(current: Policy, max_age: int) -> None:
    target = stricter(current, desired(max_age))
    assert at_least_as_strict(target, current)
    assert at_least_as_strict(target, desired(max_age))


# --- signin-link --------------------------------------------------------------------------
def test_no_alias_asked_is_compliant_and_reports_the_url() -> None:
    state = SigninLinkState(ACCOUNT, None, None)
    assert SIGNIN.plan(state, ctx("signin-link")) == []
    outputs = [f.output for f in SIGNIN.findings(state, ctx("signin-link")) if f.output]
    url = f"https://{ACCOUNT}.signin.aws.amazon.com/console"
    assert ("IAM user sign-in URL", url) in outputs
    assert any(name == "next" and "sign out of the root user" in value for name, value in outputs)


def test_url_uses_the_alias_and_no_root_advice_for_an_iam_caller() -> None:
    state = SigninLinkState(ACCOUNT, "acme", None)
    outputs = [f.output for f in SIGNIN.findings(state, ctx("signin-link", ADMIN)) if f.output]
    assert outputs == [("IAM user sign-in URL", "https://acme.signin.aws.amazon.com/console")]


def test_new_alias_is_a_create_and_a_different_one_an_update() -> None:
    (create,) = SIGNIN.plan(SigninLinkState(ACCOUNT, None, "acme"), ctx("signin-link"))
    assert create.action is Action.CREATE and create.operation == Alias("acme")
    (update,) = SIGNIN.plan(SigninLinkState(ACCOUNT, "old-name", "acme"), ctx("signin-link"))
    assert update.action is Action.UPDATE
    assert [(f.name, f.old, f.new) for f in update.fields] == [
        ("alias", "old-name", "acme"),
        ("sign-in URL", "https://old-name.signin.aws.amazon.com/console",
         "https://acme.signin.aws.amazon.com/console"),
    ]


def test_existing_alias_kept_when_none_or_the_same_is_asked() -> None:
    assert SIGNIN.plan(SigninLinkState(ACCOUNT, "acme", None), ctx("signin-link")) == []
    assert SIGNIN.plan(SigninLinkState(ACCOUNT, "acme", "acme"), ctx("signin-link")) == []


def test_alias_validation_follows_aws_rule() -> None:
    for good in ("", "abc", "my-company-1", "a" * 63, "123"):
        assert alias_problem(good) is None, good
    for bad in ("ab", "a" * 64, "-abc", "abc-", "ab--c", "Acme", "my_co", "my.co", "a b c"):
        assert alias_problem(bad) is not None, bad
