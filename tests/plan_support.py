"""The pure tier's shared pieces: a step's context from plain answers, and a plan compared as data.

A planned change is compared by what the operator is shown and agrees to (action, resource, the summary's
words, the field changes, and what consent it needs), and by what it will do: its typed operation, compared
whole (its class and every input) or, where the inputs are long documents, by its class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wizard.aws import Caller
from wizard.protocol import Action, Change, Operation, Step, StepContext

ACCOUNT = "111122223333"
ROOT = Caller(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, ACCOUNT)
ADMIN_CALLER = Caller(f"arn:aws:iam::{ACCOUNT}:user/admin", ACCOUNT, "AIDAADMIN0000000000")
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def defaults() -> dict[str, dict[str, Any]]:
    """What the answers hold when nothing was answered (as wizard/answers.py resolves them): each registered
    step's question defaults."""
    import steps

    return {s.id: {q.key: q.default for q in s.questions()} for s in [*steps.available(), *steps.organization_steps()]}


def ctx(step_id: str, answers: Mapping[str, Mapping[str, Any]] | None = None, caller: Caller = ROOT,
        region: str = "us-east-1") -> StepContext:
    """A step's context: `answers` is {step id: {question key: value}} over the questions' defaults."""
    merged = defaults()
    for step, values in (answers or {}).items():
        merged.setdefault(step, {}).update(values)
    return StepContext(step_id, caller, region, lambda s, k: merged.get(s, {}).get(k))


@dataclass(frozen=True)
class Planned:
    """One expected change. `fields` is {name: (old, new)} as the plan shows them (None: absent), exactly;
    `summary` holds words the summary must contain; the consent attributes are compared exactly."""

    action: Action
    resource: str
    fields: Mapping[str, tuple[object, object]] | None = None  # None: not compared
    summary: Sequence[str] = ()
    confirm_value: str | None = None
    waits: bool = False  # a reason to wait is given
    run_last: bool = False
    others_depend_on_it: bool = False
    sensitive: frozenset[str] = field(default_factory=frozenset)  # field names shown as (sensitive value)
    # What apply will do: an Operation is compared whole (== : its class and typed inputs), a class by class.
    operation: Operation | type[Operation] | None = None


def shown_fields(change: Change) -> dict[str, tuple[object, object]]:
    return {f.name: (f.old, f.new) for f in change.fields}


def assert_plan(changes: Sequence[Change], expected: Sequence[Planned]) -> None:
    """The plan is exactly these changes, in this order."""
    got = [(c.action, c.resource) for c in changes]
    assert got == [(e.action, e.resource) for e in expected], got
    for change, want in zip(changes, expected, strict=True):
        where = f"{want.action.value} {want.resource}"
        if want.fields is not None:
            assert shown_fields(change) == dict(want.fields), (where, shown_fields(change))
        for words in want.summary:
            assert words in change.summary, (where, change.summary)
        assert change.confirm_value == want.confirm_value, (where, change.confirm_value)
        assert (change.waits_for is not None) == want.waits, (where, change.waits_for)
        assert change.run_last == want.run_last, where
        assert change.others_depend_on_it == want.others_depend_on_it, where
        assert {f.name for f in change.fields if f.sensitive} == set(want.sensitive), where
        if isinstance(want.operation, type):
            assert type(change.operation) is want.operation, (where, change.operation)
        elif want.operation is not None:
            assert change.operation == want.operation, (where, change.operation)


Answers = dict[str, dict[str, Any]]
# A plan fixture: (step, its inspected state, answers, expected plan), signed as root; or with the caller too.
Case = tuple[Step[Any], object, Answers, list[Planned]]
CallerCase = tuple[Step[Any], object, Answers, Caller, list[Planned]]
