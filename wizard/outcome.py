"""What a step's run came to, next to the protocol it is made of: the outcome, its status and reason, and
the exit code a run's outcomes mean. The engine makes outcomes; render, report and the CLI read them.

(protocol.py cannot re-export these: they are built from its Change and Finding, so it would import itself.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wizard.protocol import Action, Change, Finding, Status

if TYPE_CHECKING:
    from wizard.controls import ControlResult

EXIT_OK, EXIT_ERROR, EXIT_PENDING, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class StepOutcome:
    step_id: str
    title: str
    status: Status
    reason: str
    findings: list[Finding] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    applied: list[Change] = field(default_factory=list)
    # False when the last change cut off this run's credentials, so it could not be read back.
    verified: bool = True

    def as_record(self) -> dict[str, Any]:
        return {
            "id": self.step_id,
            "title": self.title,
            "status": self.status.value,
            "reason": self.reason,
            "findings": [
                {"text": f.text, "severity": f.severity, "observed": dict(f.observed)} for f in self.findings
            ],
            "changes": [c.as_record() for c in self.changes],
            "applied": [c.as_record() for c in self.applied],
        }


def status_of(changes: Sequence[Change]) -> Status:
    if not changes:
        return Status.COMPLIANT
    if all(c.action is Action.OPERATOR for c in changes):
        return Status.MANUAL
    return Status.NONCOMPLIANT


def reason_of(changes: Sequence[Change], findings: Sequence[Finding]) -> str:
    if changes:
        return "; ".join(c.summary for c in changes)
    warnings = [headline(f.text) for f in findings if f.severity == "warning"]
    return "compliant" + (f" (warning: {'; '.join(warnings)})" if warnings else "")


def headline(text: str) -> str:
    """A finding's first clause, for one table cell; the whole text stays in the findings."""
    return text.split(" (", 1)[0].split(": ", 1)[0].split("; ", 1)[0]


def exit_code_for(
    command: str, outcomes: Sequence[StepOutcome], controls: Sequence[ControlResult] = (),
    selected: Sequence[Any] = (),
) -> int:
    """apply: 0 when every step ended compliant. plan: 0 when nothing is planned. check: 0 when the selected
    steps are compliant and every control they remediate passes. 2 otherwise; 1 when a step errored."""
    statuses = {o.status.value for o in outcomes}
    if command == "apply":  # a failed step ends apply with an error itself; its outcomes are never "error"
        return EXIT_OK if statuses <= {"compliant"} else EXIT_PENDING
    if "error" in statuses:
        return EXIT_ERROR
    if command == "plan":
        return EXIT_PENDING if any(o.changes for o in outcomes) else EXIT_OK
    ids = {s.id for s in selected}
    failing = [r for r in controls if r.status != "PASS" and ids & set(r.remediated_by)]
    return EXIT_OK if statuses <= {"compliant"} and not failing else EXIT_PENDING
