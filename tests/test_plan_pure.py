"""Pure plan tests: state + answers -> changes, with no AWS at all."""

from __future__ import annotations

from typing import Any

from steps.admin_group import STEP as ADMIN_GROUP
from steps.admin_group import AdminGroupState
from steps.admin_user import STEP as ADMIN_USER
from steps.admin_user import AdminUserState
from wizard.aws import Caller
from wizard.protocol import SENSITIVE, Action, StepContext

ROOT = Caller("arn:aws:iam::111122223333:root", "111122223333", "111122223333")
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def ctx(step_id: str, answers: dict[str, dict[str, Any]] | None = None) -> StepContext:
    defaults = {"admin-user": {"name": "admin"}, "admin-group": {"name": "FullAccess"}}
    merged = {k: {**v, **(answers or {}).get(k, {})} for k, v in defaults.items()}
    return StepContext(step_id, ROOT, "us-east-1", lambda s, k: merged.get(s, {}).get(k))


def keys(changes: list[Any]) -> list[tuple[str, str]]:
    return [(c.action.value, c.key) for c in changes]


def test_admin_user_missing_plans_user_and_console_access() -> None:
    changes = ADMIN_USER.plan(AdminUserState("admin", exists=False), ctx("admin-user"))
    assert keys(changes) == [("+", "create-user"), ("+", "console-access")]
    password = next(f for f in changes[1].fields if f.name == "password")
    assert password.sensitive and password.shown(password.new) == SENSITIVE


def test_admin_user_without_login_profile_plans_only_console_access() -> None:
    state = AdminUserState("admin", exists=True, arn="arn:aws:iam::1:user/admin", has_console_access=False)
    assert keys(ADMIN_USER.plan(state, ctx("admin-user"))) == [("+", "console-access")]


def test_admin_user_compliant_plans_nothing() -> None:
    state = AdminUserState("admin", exists=True, arn="arn", has_console_access=True)
    assert ADMIN_USER.plan(state, ctx("admin-user")) == []


def test_admin_user_direct_policies_are_reported_not_changed() -> None:
    state = AdminUserState("admin", True, "arn", True, attached_policies=(ADMIN_ARN,), inline_policies=("x",))
    assert ADMIN_USER.plan(state, ctx("admin-user")) == []
    warnings = [f for f in ADMIN_USER.findings(state, ctx("admin-user")) if f.severity == "warning"]
    assert len(warnings) == 1 and "AdministratorAccess" in warnings[0].text


def test_admin_group_missing_plans_each_piece_on_its_own() -> None:
    state = AdminGroupState("FullAccess", "admin", ADMIN_ARN, exists=False)
    changes = ADMIN_GROUP.plan(state, ctx("admin-group"))
    assert keys(changes) == [("+", "create-group"), ("+", "attach-policy"), ("+", "add-member")]
    assert all(c.action is Action.CREATE for c in changes)


def test_admin_group_missing_only_member() -> None:
    state = AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (ADMIN_ARN,), ("someone-else",))
    assert keys(ADMIN_GROUP.plan(state, ctx("admin-group"))) == [("+", "add-member")]


def test_admin_group_missing_only_policy() -> None:
    state = AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (), ("admin",))
    changes = ADMIN_GROUP.plan(state, ctx("admin-group"))
    assert keys(changes) == [("+", "attach-policy")]
    assert changes[0].params["policy_arn"] == ADMIN_ARN


def test_admin_group_compliant_plans_nothing() -> None:
    state = AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (ADMIN_ARN,), ("admin",))
    assert ADMIN_GROUP.plan(state, ctx("admin-group")) == []


def test_questions_validate_names_before_any_call() -> None:
    name = ADMIN_USER.questions()[0]
    assert name.check("admin") is None
    assert name.check("bad name!") is not None
    assert name.check("x" * 65) is not None
    assert name.check("") is not None
    group = ADMIN_GROUP.questions()[0]
    assert group.check("FullAccess") is None
    assert group.check("x" * 128) is None and group.check("x" * 129) is not None
