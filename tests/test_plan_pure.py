"""Pure plan tests: state + answers -> changes, with no AWS at all."""

from __future__ import annotations

from typing import Any

from steps.admin_group import STEP as ADMIN_GROUP
from steps.admin_group import AdminGroupState, AttachPolicy
from steps.admin_user import STEP as ADMIN_USER
from steps.admin_user import AdminUserState
from steps.provenance import Ownership
from wizard.aws import Caller
from wizard.protocol import SENSITIVE, Action, StepContext

ROOT = Caller("arn:aws:iam::111122223333:root", "111122223333", "111122223333")
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
OURS = Ownership("ours", "created by aws-harden")


def ctx(step_id: str, answers: dict[str, dict[str, Any]] | None = None) -> StepContext:
    defaults = {"admin-user": {"name": "admin"}, "admin-group": {"name": "FullAccess"}, "user-mfa": {}}
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
    state = AdminUserState("admin", exists=True, arn="arn:aws:iam::1:user/admin", has_console_access=False,
                           ownership=OURS)
    assert keys(ADMIN_USER.plan(state, ctx("admin-user"))) == [("+", "console-access")]


def test_admin_user_compliant_plans_nothing() -> None:
    state = AdminUserState("admin", exists=True, arn="arn", has_console_access=True, ownership=OURS)
    assert ADMIN_USER.plan(state, ctx("admin-user")) == []


def test_admin_user_direct_policies_are_reported_not_changed() -> None:
    state = AdminUserState("admin", True, "arn", True, attached_policies=(ADMIN_ARN,), inline_policies=("x",),
                           ownership=OURS)
    assert ADMIN_USER.plan(state, ctx("admin-user")) == []
    warnings = [f for f in ADMIN_USER.findings(state, ctx("admin-user")) if f.severity == "warning"]
    assert len(warnings) == 1 and "AdministratorAccess" in warnings[0].text


def test_admin_group_missing_plans_each_piece_on_its_own() -> None:
    state = AdminGroupState("FullAccess", "admin", ADMIN_ARN, exists=False)
    changes = ADMIN_GROUP.plan(state, ctx("admin-group"))
    assert keys(changes) == [("+", "create-group"), ("+", "attach-policy"), ("+", "add-member")]
    assert all(c.action is Action.CREATE for c in changes)


def test_admin_group_missing_only_member() -> None:
    state = AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (ADMIN_ARN,), ("someone-else",), OURS)
    assert keys(ADMIN_GROUP.plan(state, ctx("admin-group"))) == [("+", "add-member")]


def test_admin_group_missing_only_policy() -> None:
    state = AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (), ("admin",), OURS)
    changes = ADMIN_GROUP.plan(state, ctx("admin-group"))
    assert keys(changes) == [("+", "attach-policy")]
    assert changes[0].operation == AttachPolicy("FullAccess", ADMIN_ARN)


def test_admin_group_compliant_plans_nothing() -> None:
    state = AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (ADMIN_ARN,), ("admin",), OURS)
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


# --- provenance: nothing the wizard did not make is used without typed consent ----------------------
FOREIGN = Ownership("foreign", "it has no created-by = aws-harden tag")


def test_a_foreign_admin_user_is_adopted_first_and_only_by_typing_its_name() -> None:
    from steps.admin_user import ExistingUser

    existing = ExistingUser("AIDAFOREIGN", "arn:aws:iam::1:user/admin", "2020-01-01", "never", True, False, (),
                            ("arn:aws:iam::1:mfa/phone",), (), (), None, ("Ops",), ())
    state = AdminUserState("admin", True, "arn:aws:iam::1:user/admin", True, ownership=FOREIGN, existing=existing)
    (adopt,) = ADMIN_USER.plan(state, ctx("admin-user"))
    assert (adopt.action, adopt.key) == (Action.UPDATE, "adopt")
    assert (adopt.confirm_value, adopt.confirm_answer) == ("admin", "adopt_existing")
    assert "MFA devices: arn:aws:iam::1:mfa/phone" in adopt.instructions and "groups: Ops" in adopt.instructions
    warning = next(f for f in ADMIN_USER.findings(state, ctx("admin-user")) if f.severity == "warning")
    assert warning.observed["mfa_devices"] == ["arn:aws:iam::1:mfa/phone"]


def test_a_foreign_group_is_adopted_first_and_a_foreign_admin_waits() -> None:
    state = AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (), ("alice",), FOREIGN, "AGPAX", "/", (),
                            admin=FOREIGN)
    changes = ADMIN_GROUP.plan(state, ctx("admin-group"))
    assert keys(changes) == [("~", "adopt"), ("+", "attach-policy"), ("+", "add-member")]
    adopt, _, member = changes
    assert adopt.confirm_value == "FullAccess" and "would become administrators: alice, admin" not in adopt.summary
    assert "would become administrators: alice" in adopt.summary
    assert member.waits_for is not None and "not aws-harden's" in member.waits_for


def test_the_wizards_group_asks_only_when_others_would_become_admins() -> None:
    others = AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (), ("admin", "bob"), OURS, "AGPAX",
                             "/aws-harden/")
    assert keys(ADMIN_GROUP.plan(others, ctx("admin-group"))) == [("~", "adopt"), ("+", "attach-policy")]
    alone = AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (), ("admin",), OURS, "AGPAX", "/aws-harden/")
    assert keys(ADMIN_GROUP.plan(alone, ctx("admin-group"))) == [("+", "attach-policy")]


def test_user_mfa_never_enrolls_a_foreign_admin_and_enforcement_waits_for_a_first_password() -> None:
    from steps.user_mfa import STEP as USER_MFA
    from steps.user_mfa import IamUser, UserMfaState

    answers = {"user-mfa": {"enforce": True, "other_users": False}}
    foreign = UserMfaState("admin", (IamUser("admin", True),), "FullAccess", True, ("admin",),
                           admin_ownership=FOREIGN)
    (enroll,) = USER_MFA.plan(foreign, ctx("user-mfa", answers))
    assert enroll.waits_for is not None and "adopt" in enroll.waits_for
    resetting = UserMfaState("admin", (IamUser("admin", True, ("arn:aws:iam::1:mfa/admin",), True),),
                             "FullAccess", True, ("admin",))
    assert USER_MFA.plan(resetting, ctx("user-mfa", answers)) == []  # no enforcement yet
    (waits,) = [f for f in USER_MFA.findings(resetting, ctx("user-mfa", answers)) if f.severity == "warning"]
    assert "must still set a new password at the first sign-in" in waits.text
    done = UserMfaState("admin", (IamUser("admin", True, ("arn:aws:iam::1:mfa/admin",), False),),
                        "FullAccess", True, ("admin",))
    assert keys(USER_MFA.plan(done, ctx("user-mfa", answers))) == [("+", "enforce")]
