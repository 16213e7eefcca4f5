"""One account's check (or plan): the selected steps' inspections and the account facts, read at once through
the run's read cache, then the controls evaluated on the facts and the report `check --output json` prints.

The single-account run and the organization fan-out both call `check_account`, so each account of an
organization is reported by the very object a single-account check of it would print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizard.aws import Aws, Caller
    from wizard.controls import ControlResult
    from wizard.engine import Engine
    from wizard.outcome import StepOutcome


@dataclass(frozen=True)
class AccountCheck:
    command: str
    outcomes: list[StepOutcome]
    results: list[ControlResult]
    report: dict[str, Any] = field(repr=False)
    steps: tuple[Any, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 compliant (check) / no changes (plan), 2 not / changes, 1 a step errored (outcome.exit_code_for)."""
        from wizard.outcome import exit_code_for

        return exit_code_for(self.command, self.outcomes, self.results, self.steps)


def check_account(command: str, engine: Engine, aws: Aws, caller: Caller, known: Sequence[Any]) -> AccountCheck:
    from wizard import controls, report
    from wizard.facts import read_facts
    from wizard.render import plan_summary

    outcomes, facts = aws.parallel(engine.check, lambda: read_facts(aws, caller))
    results = controls.evaluate(facts, known)
    evidence = report.build(
        command, caller, aws.region, aws.sandbox, outcomes, engine.answers.lookup,
        plan_summary([c for o in outcomes for c in o.changes]), results, facts,
    )
    return AccountCheck(command, outcomes, results, evidence, tuple(engine.steps))
