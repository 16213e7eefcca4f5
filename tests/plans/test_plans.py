"""The pure plan tier: every fixture in tests/plans/*_cases.py, a step's inspected state (as data) and answers
in, its plan out, with no AWS and no moto; and every registered step has fixtures here."""

from __future__ import annotations

import pytest

import steps
from tests.plan_support import ROOT, CallerCase, assert_plan, ctx
from tests.plans import guardrail_cases, identity_cases, record_cases, team_cases

CASES: dict[str, CallerCase] = {
    **identity_cases.CASES,
    **{name: (step, state, answers, ROOT, expected)
       for table in (guardrail_cases.CASES, record_cases.CASES, team_cases.CASES)
       for name, (step, state, answers, expected) in table.items()},
}


@pytest.mark.parametrize("case", CASES)
def test_plan(case: str) -> None:
    step, state, answers, caller, expected = CASES[case]
    assert case.split("/")[0] == step.id, "a case is named after its step"
    assert_plan(step.plan(state, ctx(step.id, answers, caller)), expected)


def test_every_registered_step_has_plan_fixtures() -> None:
    """Read from the registry: a new step fails here until its plan has fixtures, and each has a compliant
    one (nothing planned) unless its compliant state is only reached after apply (records the step made)."""
    registered = {*steps.all_ids(), *steps.organization_ids()}
    covered = {name.split("/")[0] for name in CASES}
    assert covered == registered, (registered - covered, covered - registered)
    without_compliant = registered - {name.split("/")[0] for name, case in CASES.items() if case[-1] == []}
    assert without_compliant == {"cloudtrail", "billing-report"}, without_compliant
