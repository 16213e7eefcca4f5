"""Every planned change carries a typed operation that applies itself: no string keys, no untyped params.

A fresh account (and a fresh organization) is inspected and planned by every step in the registry; each change
must hold a frozen dataclass Operation from the steps' own modules whose `apply` is its own, and the engine must
reach exactly those applies. What the journal and `--output json` record of a change never includes an
operation's fields, and no operation holds a secret.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest

import steps
from steps.resources import CreateBucket
from tests.conftest import Account, run_cli
from tests.org_world import organization
from wizard.aws import Aws, isolated_session
from wizard.protocol import Action, ApplyContext, Change, ConsoleTask, Operation, Step, StepContext
from wizard.sandbox.organization import Member
from wizard.secrets import Secret
from wizard.write_guard import WriteGuard

ANSWERS: dict[str, dict[str, Any]] = {
    "signin-link": {"alias": "acme-prod"},
    "cloudtrail": {"email": "ops@example.com", "retention_days": 365},
    "budget-alarm": {"amount": 10, "emails": "ops@example.com"},
    "user-mfa": {"other_users": True, "enforce": True},
    "account-contacts": {"security": {"name": "Sec", "title": "CISO", "email": "sec@example.com",
                                      "phone": "+1 555 0100"}},
    "team-users": {"users": [{"name": "dana", "group": "Developers"}]},
    "delegation-roles": {"roles": [{"name": "auditor", "account": "210987654321", "access": "SecurityAudit"}]},
}
RECORD_KEYS = {"action", "key", "resource", "summary", "operations", "fields"}


def lookup(every: list[Step[Any]]) -> Any:
    defaults = {s.id: {q.key: q.default for q in s.questions()} for s in every}

    def answer(step_id: str, key: str) -> Any:
        return ANSWERS.get(step_id, {}).get(key, defaults.get(step_id, {}).get(key))

    return answer


def planned(aws: Any, every: list[Step[Any]]) -> dict[str, list[Change]]:
    caller = aws.caller()
    answer = lookup(every)
    plans = {}
    for step in every:
        ctx = StepContext(step.id, caller, "us-east-1", answer)
        plans[step.id] = step.plan(step.inspect(aws, ctx), ctx)
    return plans


def all_operation_types() -> Iterator[type[Operation]]:
    pending = list(Operation.__subclasses__())
    while pending:
        kind = pending.pop()
        pending += kind.__subclasses__()
        yield kind


def kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def assert_typed(change: Change) -> None:
    op = change.operation
    assert isinstance(op, Operation), change
    assert dataclasses.is_dataclass(op) and type(op).__dataclass_params__.frozen, type(op)  # type: ignore[attr-defined]
    assert type(op).__module__.startswith("steps."), type(op)
    assert not inspect.isabstract(type(op)), type(op)
    assert (change.action is Action.OPERATOR) == isinstance(op, ConsoleTask), change
    assert change.key == kebab(type(op).__name__)
    for f in dataclasses.fields(op):
        assert not isinstance(getattr(op, f.name), Secret), f"{type(op).__name__}.{f.name} holds a secret"
    record = change.as_record()
    assert set(record) == RECORD_KEYS  # nothing of the operation beyond its name
    text = json.dumps(record)
    for f in change.fields:
        if f.sensitive and f.new is not None:
            assert str(f.new) not in text


def test_every_step_plans_typed_operations_on_a_fresh_account(account: Account) -> None:
    iam = account.raw("iam")  # someone else's user with two active keys: credential-hygiene has work too
    iam.create_user(UserName="bob")
    iam.create_access_key(UserName="bob")
    iam.create_access_key(UserName="bob")
    every = steps.available()
    plans = planned(account.aws(locked=True), every)  # inspect and plan only: nothing is written
    assert set(plans) == {s.id for s in every}
    empty = [step_id for step_id, changes in plans.items() if not changes]
    assert empty == [], f"a fresh account leaves nothing to do for {empty}: not representative"
    for changes in plans.values():
        for change in changes:
            assert_typed(change)
    kinds = {type(c.operation) for cs in plans.values() for c in cs}
    assert CreateBucket in kinds  # cloudtrail's and billing-report's buckets: one shared operation
    assert len(kinds) >= 30


def test_every_plan_fixture_is_typed_operations() -> None:
    """The pure tier's plans (tests/plans/, which cover every registered step) hold typed operations too,
    also for the changes a fresh account does not plan (console tasks, adoptions, updates, deletions)."""
    from tests.plan_support import ctx
    from tests.plans.test_plans import CASES

    registered = {*steps.all_ids(), *steps.organization_ids()}
    seen: set[str] = set()
    for step, state, answers, caller, _ in CASES.values():
        for change in step.plan(state, ctx(step.id, answers, caller)):
            assert_typed(change)
            seen.add(step.id)
    assert seen == registered, registered - seen


def test_organization_steps_plan_typed_operations(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    world = organization(account, (Member("dev", root_key=True),), monkeypatch)
    every = steps.organization_steps()
    aws = Aws(isolated_session(world.admin_key, world.admin_secret, "us-east-1"),
              WriteGuard(reads=steps.declared_reads()))  # the management account's admin, as the program signs
    plans = planned(aws, every)
    access = plans["org-root-access"]
    assert [c.key for c in access] == ["trusted-access", "root-credentials-management", "root-sessions"]
    assert [c.key for c in plans["member-root-credentials"]] == ["root-sessions"]  # a console task until enabled
    ctx = ApplyContext(StepContext("org-root-access", aws.caller(), "us-east-1", lookup(every)),
                       lambda *a: "", lambda *a: None)
    with aws.guard.allowing(every[0].writes):
        for change in access:
            change.operation.apply(aws, ctx)  # each operation applies itself
    plans = planned(aws, every)
    assert plans["org-root-access"] == []
    (delete,) = plans["member-root-credentials"]
    assert delete.key == "delete" and delete.action is Action.DELETE
    for changes in plans.values():
        for change in changes:
            assert_typed(change)


def test_a_change_is_built_from_an_operation_only() -> None:
    from steps.admin_user import CreateUser
    from steps.root_mfa import AssignRootMfa

    with pytest.raises(TypeError, match="is an Operation"):
        Change(Action.CREATE, "create-user", 'iam user "x"', "s")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ConsoleTask"):
        Change(Action.OPERATOR, CreateUser("x"), 'iam user "x"', "s")  # the operator's, yet aws-harden would apply it
    with pytest.raises(TypeError, match="ConsoleTask"):
        Change(Action.CREATE, AssignRootMfa(), "root MFA", "s")
    with pytest.raises(ValueError, match="done by the operator"):
        AssignRootMfa().apply(None, None)  # type: ignore[arg-type]


def test_steps_have_no_apply_to_dispatch_from() -> None:
    assert not hasattr(Step, "apply")
    for step in [*steps.available(), *steps.organization_steps()]:
        assert not hasattr(step, "apply"), f"{step.id} still dispatches changes itself"
    source = "\n".join(p.read_text() for p in Path(steps.__file__).parent.glob("*.py"))
    assert "change.key" not in source and "params[" not in source and "change.params" not in source


def test_the_engine_applies_exactly_the_planned_operations(
    account: Account, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    applied: list[str] = []
    for kind in all_operation_types():
        if "apply" in vars(kind) and not inspect.isabstract(kind):
            original = vars(kind)["apply"]

            def recording(self: Operation, aws: Any, ctx: Any, original: Any = original) -> None:
                applied.append(type(self).__name__)
                original(self, aws, ctx)

            monkeypatch.setattr(kind, "apply", recording)
    only = "admin-user,admin-group,password-policy,ebs-encryption,s3-public-access"
    every = [s for s in steps.available() if s.id in only.split(",")]
    expected = sorted(type(c.operation).__name__ for cs in planned(account.aws(locked=True), every).values()
                      for c in cs)
    result = run_cli(["apply", "--yes", "--only", only], tty=False)
    assert result.code == 0, result.text
    assert sorted(applied) == expected
    assert {"CreateUser", "ConsoleAccess", "CreateGroup", "AttachPolicy", "AddMember", "SetPasswordPolicy",
            "Enable", "BlockPublicAccess"} <= set(applied)


def test_the_journal_records_no_operation_field_and_no_secret(account: Account, tmp_path: Path) -> None:
    result = run_cli(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False)
    assert result.code == 0, result.text
    journal = (tmp_path / "state" / "journal" / "123456789012.jsonl").read_text()
    entries = [json.loads(line) for line in journal.splitlines() if line.strip()]
    changes = [e["change"] for e in entries if "change" in e]
    assert changes and all(set(c) == RECORD_KEYS for c in changes)
    password = next(c for c in changes if c["key"] == "console-access")
    assert {"name": "password", "old": "(none)", "new": "(sensitive value)"} in password["fields"]
    kept = keyring.get_password("aws-harden", "123456789012/admin/console-password")
    assert kept and kept not in journal
