"""The small protocol every step speaks, and the plain data it hands to the engine.

A step reads the account (inspect), says what it would change (plan, pure), and changes one planned
thing at a time (apply). It never prints or prompts: everything the operator sees is data here.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from wizard.errors import WizardError
from wizard.secrets import SENSITIVE as SENSITIVE  # a plan's sensitive field reads as a Secret does

if TYPE_CHECKING:
    from wizard.aws import Aws, Caller
    from wizard.secrets import Secret
NO_TERMINAL = ("the QR code and the key are shown only on a terminal, and stdout is redirected with no terminal "
               "to write to (/dev/tty): run 'aws-harden apply' in a terminal")
KNOWN_AFTER_APPLY = "(known after apply)"
# Where keep_secret says a secret went when the operator chose to see it once instead of storing it.
SHOWN_ONCE = "shown once on this terminal (not stored)"


class Status(StrEnum):
    COMPLIANT = "compliant"
    NONCOMPLIANT = "noncompliant"
    MANUAL = "manual"
    ERROR = "error"


class Action(StrEnum):
    """Terraform's symbols, plus `!` for what only the operator can do in the console."""

    CREATE = "+"
    UPDATE = "~"
    DELETE = "-"
    OPERATOR = "!"


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: object
    new: object
    sensitive: bool = False

    def shown(self, value: object) -> str:
        if self.sensitive and value is not None:
            return SENSITIVE
        if value is None:
            return "(none)"
        return str(value)


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


class Operation(ABC):
    """What one planned change does, with its typed inputs, and how: a step's frozen dataclass.

    `plan` builds it (pure, no secrets in its fields: a secret is made or read in `apply` and goes to the
    keyring), the engine calls `apply` once the operator agrees; mypy checks the two against each other.
    """

    @property
    def key(self) -> str:
        """Its identity within the step (with the change's resource), for the journal and --output json."""
        return _kebab(type(self).__name__)

    @abstractmethod
    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        """Carry out the change; raise ChangeSkipped, AnswerRejected or an error, never print or prompt."""


class ConsoleTask(Operation):
    """An OPERATOR change: what only the operator can do in the console. The engine shows it and re-checks
    the account until it is done; aws-harden never applies it (a sandbox stand-in may act it out)."""

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        raise ValueError(f"{self.key} is done by the operator in the console, not by aws-harden")


@dataclass(frozen=True)
class Change:
    """One planned change: how it is shown (resource, summary, fields) and what it does (`operation`)."""

    action: Action
    operation: Operation
    resource: str
    summary: str
    operations: tuple[str, ...] = ()
    fields: tuple[FieldChange, ...] = ()
    instructions: tuple[str, ...] = ()
    url: str | None = None
    # Changes that would cut off the wizard's own credentials run after every other step is verified;
    # once one is applied the engine sends nothing more to AWS (those credentials are gone).
    run_last: bool = False
    # An irreversible change agreed by typing this exact value (e.g. a key id), not by a yes/no; under
    # --yes the step's answer `confirm_answer` (an answers-file key) must hold the same value.
    confirm_value: str | None = None
    confirm_answer: str | None = None
    # The step's other changes act on what this one agrees to (adopting a user or group): refused, the step
    # changes nothing. Otherwise a refusal leaves only this change planned (one member's root credentials).
    others_depend_on_it: bool = False
    # A change that cannot be made yet, and why (e.g. it acts on something nobody agreed to adopt): it
    # stays planned, and the engine neither asks for it nor applies it until the reason is gone.
    waits_for: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.operation, Operation):  # e.g. a string key from before typed operations
            raise TypeError(f"{self.resource}: a change's operation is an Operation, not {self.operation!r}")
        if (self.action is Action.OPERATOR) != isinstance(self.operation, ConsoleTask):
            raise TypeError(f"{self.resource}: an OPERATOR change, and only one, is a ConsoleTask")

    @property
    def key(self) -> str:
        """The operation's name: with `resource`, the change's identity across plans and runs."""
        return self.operation.key

    def as_record(self) -> dict[str, Any]:
        """A journal- and JSON-safe view: sensitive field values are never included."""
        return {
            "action": self.action.value,
            "key": self.key,
            "resource": self.resource,
            "summary": self.summary,
            "operations": list(self.operations),
            "fields": [
                {"name": f.name, "old": f.shown(f.old), "new": f.shown(f.new)} for f in self.fields
            ],
        }


@dataclass(frozen=True)
class Finding:
    """Something observed, with the evidence, for the operator and for auditors."""

    text: str
    severity: Literal["info", "warning"] = "info"
    observed: Mapping[str, Any] = field(default_factory=dict)
    # (name, value): apply also records it as an output (summary and journal), changed or not, e.g. a URL.
    output: tuple[str, str] | None = None


# TOML values: a list (e.g. region names, or inline tables: a team's people) or an inline table (e.g. a
# contact's name, title, email, phone) too. At a prompt, a list is a line the question's `parse` reads.
AnswerValue = str | bool | int | float | list[Any] | dict[str, str]


@dataclass(frozen=True)
class Question:
    """A value the step needs from the operator; `validate` returns a reason when the value is bad."""

    key: str
    prompt: str
    default: AnswerValue | None
    kind: Literal["text", "confirm", "choice", "int", "float", "list", "table"] = "text"
    help: str = ""
    choices: tuple[str, ...] = ()
    validate: Callable[[AnswerValue], str | None] | None = None
    # False: never asked at a prompt, only read from the answers file (e.g. an unattended confirmation).
    prompted: bool = True
    # kind "table": its fields, text questions each (an inline table in the answers file, asked one by one
    # at a prompt; an empty table, or an empty first field at the prompt, means "not given").
    fields: tuple[Question, ...] = ()
    # At a prompt, this default instead of `default` (which --yes, check and plan use): e.g. a paid service
    # offered with "yes" to an operator but turned on unattended only when the answers file says so.
    prompt_default: AnswerValue | None = None
    # kind "list" at a prompt: the typed line as the value (raises ValueError with the reason); `shown`
    # writes a value back as such a line (the prompt's default).
    parse: Callable[[str], AnswerValue] | None = None
    shown: Callable[[AnswerValue], str] | None = None

    def check(self, value: object) -> str | None:
        """Type and rule check shared by prompts and the answers file; None when fine."""
        expected: tuple[type, ...] = {
            "text": (str,),
            "choice": (str,),
            "confirm": (bool,),
            "int": (int,),
            "float": (int, float),
            "list": (list,),
            "table": (dict,),
        }[self.kind]
        if isinstance(value, bool) and self.kind != "confirm":
            return f"expected {self.kind}, got a boolean"
        if not isinstance(value, expected):
            return f"expected {self.kind}, got {type(value).__name__}"
        if self.kind == "choice" and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        if isinstance(value, list) and self.parse is None and not all(isinstance(item, str) for item in value):
            return "expected a list of text values"  # a list of tables has its own parse and validate
        if isinstance(value, dict) and value:
            problem = self._table_problem(value)
            if problem:
                return problem
        if self.validate is not None:
            return self.validate(value)  # type: ignore[arg-type]
        return None

    def _table_problem(self, value: dict[str, Any]) -> str | None:
        known = {f.key: f for f in self.fields}
        for key in value:
            if key not in known:
                return f"unknown field '{key}' (known: {', '.join(known)})"
        for key, field_question in known.items():
            if key not in value:
                return f"missing field '{key}'"
            problem = field_question.check(value[key])
            if problem:
                return f"{key}: {problem}"
        return None


class StepContext:
    """What a step may know beyond the account: who is calling, the region, and the answers."""

    def __init__(
        self,
        step_id: str,
        caller: Caller,
        region: str,
        answer_lookup: Callable[[str, str], AnswerValue | None],
        sandbox: bool = False,
        history: Callable[[], Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.step_id = step_id
        self.caller = caller
        self.region = region
        self._lookup = answer_lookup
        self.sandbox = sandbox
        self._history = history

    def answer(self, key: str) -> Any:
        return self._lookup(self.step_id, key)

    def answer_of(self, step_id: str, key: str) -> Any:
        return self._lookup(step_id, key)

    def journal(self) -> list[Mapping[str, Any]]:
        """This step's entries in the account's journal (what earlier runs here did and recorded), oldest
        first: local evidence, e.g. an operator's confirmation, never a reading of the account."""
        entries = self._history() if self._history is not None else ()
        return [e for e in entries if e.get("step") == self.step_id]


class ChangeSkipped(Exception):
    """Raised by apply() when a change cannot be made now and nothing was left half-done.

    The engine records it as skipped, shows the reason, and moves on; the change stays planned, so the
    step reports it pending and a re-run tries again.
    """


@dataclass(frozen=True)
class Authenticator:
    """What an authenticator app needs to add an account: the otpauth URI (for the QR code) and the key."""

    label: str
    uri: Secret
    key: Secret


# Takes two codes; returns why they failed (the operator may try again), or None once the device is on.
SubmitCodes = Callable[[str, str], str | None]
EnrollAuthenticator = Callable[[Authenticator, SubmitCodes, int], bool]


def _no_enrollment(device: Authenticator, submit: SubmitCodes, tries: int) -> bool:
    raise ChangeSkipped("enrolling an MFA device needs the person with the phone at a terminal")


class ApplyContext(StepContext):
    """The services a step needs while changing things: keeping a secret, recording an output, and
    (interactive runs only) enrolling an authenticator with the operator."""

    def __init__(
        self,
        base: StepContext,
        keep_secret: Callable[[str, str, Secret, bool], str],
        record_output: Callable[[str, str], None],
        enroll: EnrollAuthenticator = _no_enrollment,
        interactive: bool = False,
        terminal: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(base.step_id, base.caller, base.region, base._lookup, base.sandbox, base._history)
        self._keep_secret = keep_secret
        self._record_output = record_output
        self._enroll = enroll
        self.interactive = interactive
        self._terminal = terminal

    def can_show_secrets(self) -> bool:
        """Whether a terminal can show the operator a secret (a QR code, a key): never a redirected stdout."""
        return self._terminal()

    def keep_secret(self, entry: str, description: str, secret: Secret, offer_show: bool = False) -> str:
        """Store a secret where the operator chose (keyring); returns where. Raises Aborted if refused.
        `offer_show`: at a terminal the operator may choose to see it once instead (the person it is for is
        here); then it is not stored and the answer is SHOWN_ONCE."""
        return self._keep_secret(entry, description, secret, offer_show)

    def output(self, name: str, value: str) -> None:
        """A non-secret value worth showing in the summary and keeping in the journal (e.g. a URL)."""
        self._record_output(name, value)

    def enroll_authenticator(self, device: Authenticator, submit: SubmitCodes, tries: int) -> bool:
        """Show the device to the operator (QR code, key on request), ask two consecutive codes and pass
        them to `submit`, up to `tries` times. False when the tries ran out or the operator cancelled;
        KeyboardInterrupt propagates. Raises ChangeSkipped when nobody is at a terminal."""
        return self._enroll(device, submit, tries)


class AnswerRejected(WizardError):
    """Raised by apply() when AWS refuses an answer (e.g. a taken alias): the engine asks again, re-plans."""

    def __init__(self, question_key: str, reason: str) -> None:
        super().__init__(reason)
        self.question_key = question_key
        self.reason = reason


StateT = TypeVar("StateT")


class Step(ABC, Generic[StateT]):
    """Base of every step module. Subclasses set the class attributes and the four methods."""

    id: ClassVar[str]
    title: ClassVar[str]
    checks: ClassVar[str]
    # Every AWS write the step may send, as "service:Operation"; the write guard refuses the rest.
    writes: ClassVar[frozenset[str]]
    # The controls (Prowler check ids, wizard/controls.py) this step brings to PASS on the whole account once
    # it is compliant; check's exit code is 0 only when they pass. Every step module says it, even when empty.
    remediates: ClassVar[tuple[str, ...]] = ()
    # Every AWS read the step sends (inspect, apply and verify), as "service:Operation". The write guard lets
    # the union of all steps' reads through in every mode and treats anything else as a write.
    reads: ClassVar[frozenset[str]]

    # In an organization (--organization): why the step's subject exists only in the management account, so the
    # fan-out runs it there alone and says so for the other accounts; empty for a step that belongs in every account.
    management_account_only: ClassVar[str] = ""

    # Sandbox only: writes that stand in for an operator action done in the console (see sandbox_operator).
    sandbox_writes: ClassVar[frozenset[str]] = frozenset()

    def questions(self) -> Sequence[Question]:
        return ()

    @abstractmethod
    def inspect(self, aws: Aws, ctx: StepContext) -> StateT:
        """Read the account. Only reads: the write guard refuses anything else here."""

    def findings(self, state: StateT, ctx: StepContext) -> list[Finding]:
        return []

    @abstractmethod
    def plan(self, state: StateT, ctx: StepContext) -> list[Change]:
        """Pure: the changes that would make the account compliant; empty when it already is. Each change
        carries its Operation, which the engine applies (there is no step-level apply to dispatch)."""

    def sandbox_operator(self, aws: Aws, change: Change, ctx: ApplyContext) -> None:
        """In the sandbox only: do what the operator would do in the console for an OPERATOR change,
        with only `sandbox_writes` allowed. Steps whose operator actions have a stand-in override it."""
        raise NotImplementedError(f"{self.id} has no sandbox stand-in for {change.key}")


# Validators match the whole string (fullmatch: `$` would admit a trailing newline) in ASCII (re.ASCII: a
# Unicode \w or \d admits look-alike letters and other scripts' digits that AWS refuses or that mislead).
IAM_NAME_RE = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
IAM_GROUP_NAME_RE = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
# An email address SNS and Budgets accept, in ASCII: no spaces, quotes, control characters or commas.
EMAIL_RE = re.compile(r"[A-Za-z0-9!#$%&*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.ASCII)


def iam_name_problem(value: AnswerValue, limit: int = 64) -> str | None:
    """AWS's rule for user and group names, checked before any call."""
    if not isinstance(value, str) or not value:
        return "a name is required"
    if len(value) > limit:
        return f"at most {limit} characters"
    if not IAM_GROUP_NAME_RE.fullmatch(value):
        return "only letters, digits and + = , . @ _ - are allowed"
    return None
