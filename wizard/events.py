"""What the engine and the operator's conversations report while a run goes: plain events, no drawing.

The engine (wizard/engine.py) and the conversations (wizard/interaction.py) emit these to a Listener;
wizard/render.py draws them. An event holding a secret holds it as a Secret, revealed only where it is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from wizard.protocol import Authenticator, Change, Finding

if TYPE_CHECKING:
    from wizard.outcome import StepOutcome
    from wizard.secrets import Secret


class Event:
    """Base of every event (so a listener can be typed against all of them)."""


# --- the run and its steps -----------------------------------------------------------------
@dataclass(frozen=True)
class Warned(Event):
    """Something the operator should know that does not stop the run (the journal, the keyring, AWS)."""

    text: str


@dataclass(frozen=True)
class StepStarted(Event):
    index: int
    total: int
    step_id: str
    title: str


@dataclass(frozen=True)
class FindingsRead(Event):
    findings: Sequence[Finding]


@dataclass(frozen=True)
class AlreadyCompliant(Event):
    step_id: str


@dataclass(frozen=True)
class ChangesPlanned(Event):
    changes: Sequence[Change]


@dataclass(frozen=True)
class ChangeWaiting(Event):
    """A planned change that cannot be made yet (change.waits_for says why)."""

    change: Change


@dataclass(frozen=True)
class ConfirmationAsked(Event):
    """A change that needs its own typed consent, shown on its own before it is asked."""

    change: Change


@dataclass(frozen=True)
class ConfirmedByAnswers(Event):
    """The answers file holds `expected` under `answer_key` (itself, or in a list `value`)."""

    answer_key: str
    value: object
    expected: str


@dataclass(frozen=True)
class ChangeRefused(Event):
    """Not agreed. `adoption`: the change the step's others depend on, so the step changes nothing."""

    change: Change
    reason: str
    adoption: bool = False


@dataclass(frozen=True)
class ChangeApplied(Event):
    change: Change


@dataclass(frozen=True)
class ChangeNotMade(Event):
    """The step's apply skipped it (ChangeSkipped): nothing half-done, it stays planned."""

    change: Change
    reason: str


@dataclass(frozen=True)
class Verified(Event):
    step_id: str


@dataclass(frozen=True)
class LastChangeStarted(Event):
    """A change that cuts off this run's credentials, taken up after every other step."""

    step_id: str


@dataclass(frozen=True)
class AlreadyDone(Event):
    change: Change


@dataclass(frozen=True)
class LeftPending(Event):
    change: Change
    reason: str


@dataclass(frozen=True)
class RunFinished(Event):
    outcomes: Sequence[StepOutcome]
    outputs: Sequence[tuple[str, str]]


# --- the operator's actions in the console ----------------------------------------------------
@dataclass(frozen=True)
class PageOffered(Event):
    url: str
    opened: bool


@dataclass(frozen=True)
class SandboxStoodIn(Event):
    change: Change


@dataclass(frozen=True)
class OperatorDone(Event):
    change: Change


@dataclass(frozen=True)
class OperatorNotYet(Event):
    change: Change


@dataclass(frozen=True)
class StoppedWaiting(Event):
    change: Change


# --- secrets shown to the operator (on the terminal only) -------------------------------------
@dataclass(frozen=True)
class AuthenticatorShown(Event):
    """The QR code of a new MFA device, to scan."""

    device: Authenticator


@dataclass(frozen=True)
class AuthenticatorKeyShown(Event):
    """The device's key as text, for an app that cannot scan."""

    device: Authenticator


@dataclass(frozen=True)
class CodesSimulated(Event):
    """Sandbox only: the codes were computed from the key, as an app would."""


@dataclass(frozen=True)
class CodesRefused(Event):
    problem: str
    tries_left: int


@dataclass(frozen=True)
class SecretShownOnce(Event):
    """A secret shown once, not stored: no keyring worked, or the person it is for chose to see it."""

    description: str
    secret: Secret


class Listener(Protocol):
    """Who hears the events: the renderer in a run, a recorder in a test."""

    def emit(self, event: Event) -> None: ...

    def working(self, message: str) -> AbstractContextManager[None]:
        """A spinner (or nothing) while something slow happens."""

    def can_show_secrets(self) -> bool:
        """Whether a terminal is there to show a secret on (never a redirected stdout)."""
