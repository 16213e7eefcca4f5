"""The one way tests run the whole program: `run(*args, answers=..., stdin=..., width=...)` returns a Result
(exit code, stdout, stderr, the AWS layers the run made, the prompts asked), with the operator played by a
Script (answers by position, or keyed by prompt text or by question key).

The seams tests need live here, not in the product: the Script is a Prompter; the AWS layers a run makes
are seen by wrapping wizard/run.py's build_aws (the run's own) and wizard/organization.py's account_sessions
(an organization's accounts), which are the only places a run makes them.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import wizard.cli
import wizard.run
from wizard.prompts import Validator

Observer = Callable[[Any], None]


# --- seeing the AWS layers a run makes ---------------------------------------------------------
@contextmanager
def observing(observer: Observer | None) -> Iterator[None]:
    """Call `observer` with every Aws a run makes (its own first, then each organization account's), right
    after it is made and before any client: a test may set a client_hook on it or read its guard later."""
    if observer is None:
        yield
        return
    import wizard.organization

    build_aws, account_sessions = wizard.run.build_aws, wizard.organization.account_sessions

    def observed_build(*args: Any, **kwargs: Any) -> Any:
        aws = build_aws(*args, **kwargs)
        observer(aws)
        return aws

    def observed_sessions(*args: Any, **kwargs: Any) -> Any:
        open_account = account_sessions(*args, **kwargs)

        def open_observed(account: Any) -> Any:
            aws = open_account(account)
            observer(aws)
            return aws

        return open_observed

    wizard.run.build_aws = observed_build  # type: ignore[assignment]
    wizard.organization.account_sessions = observed_sessions  # type: ignore[assignment]
    try:
        yield
    finally:
        wizard.run.build_aws = build_aws  # type: ignore[assignment]
        wizard.organization.account_sessions = account_sessions  # type: ignore[assignment]


@dataclass(frozen=True)
class Environment(wizard.run.Environment):
    """The product's Environment plus `observe_aws` (see observing): for tests that build their own."""

    observe_aws: Observer | None = None


def main(argv: Sequence[str] | None = None, env: wizard.run.Environment | None = None) -> int:
    """wizard.cli.main, observing the run's AWS layers when `env` is this module's Environment with an observer."""
    with observing(getattr(env, "observe_aws", None)):
        return wizard.cli.main(argv, env)


# --- the operator -------------------------------------------------------------------------------
class Script:
    """The operator, answering through the real Prompter interface, each answer checked as a person's is.

    `keyed` answers a prompt by its text (any part of the message) or by a question's key ("admin-user.name":
    the prompt of that step's question); a list there is used up in order, a single value answers every time.
    Other prompts take `answers` in order. An answer of None takes the prompt's default; KeyboardInterrupt
    (the class) presses Ctrl-C there; a callable is called with the message (e.g. to read a key id out of
    it). A select's answer is a choice, or a part of one (the first offered). A text answer that fails validation is
    recorded in `rejected` and the next one is tried, as a person would retype it. Running out is EOFError,
    like a closed stdin; a choice that is not offered is an AssertionError.
    """

    def __init__(self, answers: Iterable[object] = (), keyed: Mapping[str, object] | None = None) -> None:
        self.answers: deque[object] = deque(answers)
        self.keyed: dict[str, object] = {}
        self.asked: list[str] = []
        self.rejected: list[tuple[str, str]] = []
        for key, value in (keyed or {}).items():
            self.keyed[key] = deque(value) if isinstance(value, list) else value

    def _keyed(self, message: str) -> tuple[bool, object]:
        for key, value in self.keyed.items():
            if not matches(key, message):
                continue
            if not isinstance(value, deque):
                return True, value
            if value:
                return True, value.popleft()
        return False, None

    def _next(self, message: str) -> object:
        self.asked.append(message)
        found, answer = self._keyed(message)
        if not found:
            if not self.answers:
                raise EOFError(f"no scripted answer for: {message}")
            answer = self.answers.popleft()
        if answer is KeyboardInterrupt:
            raise KeyboardInterrupt
        return answer(message) if callable(answer) else answer

    def text(self, message: str, default: str = "", validate: Validator | None = None) -> str:
        while True:
            answer = self._next(message)
            value = default if answer is None else str(answer)
            problem = validate(value) if validate else None
            if problem is None:
                return value
            self.rejected.append((value, problem))

    def confirm(self, message: str, default: bool = False) -> bool:
        answer = self._next(message)
        return default if answer is None else bool(answer)

    def select(self, message: str, choices: Sequence[str], default: str | None = None) -> str:
        answer = self._next(message)
        if answer is None and default is not None:
            return default
        if answer in choices:
            return str(answer)
        containing = [c for c in choices if str(answer) in c]
        if not containing:
            raise AssertionError(f"scripted answer {answer!r} is not one of {list(choices)} for {message}")
        return containing[0]


# The old name: a positional script.
ScriptedPrompter = Script


def matches(key: str, message: str) -> bool:
    """A key names a prompt by its text, a part of its text, or "step-id.question_key"."""
    if key in message:
        return True
    step_id, dot, question_key = key.partition(".")
    if not dot:
        return False
    import steps

    for step in steps.available() + steps.organization_steps():
        if step.id == step_id:
            return any(q.key == question_key and message.startswith(q.prompt) for q in step.questions())
    return False


# --- one run -----------------------------------------------------------------------------------
@dataclass
class Result:
    code: int
    out: str
    err: str
    prompter: Any = None  # the Script (or the prompter the test gave), when anything could be asked
    aws: list[Any] = field(default_factory=list)  # every Aws the run made, in order (see observing)
    opened: list[str] = field(default_factory=list)  # pages the wizard would have opened in a browser
    slept: list[float] = field(default_factory=list)  # waits the wizard asked for (none is waited)

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def asked(self) -> list[str]:
        return list(getattr(self.prompter, "asked", []))


def run(
    *args: str,
    answers: Sequence[object] | Mapping[str, object] | Any = None,
    stdin: Literal["tty", "pipe"] = "tty",
    width: int | None = 120,
    sleep: Callable[[float], None] | None = None,
    observe: Observer | None = None,
    **env: Any,
) -> Result:
    """The whole program in-process. `answers`: a list (in order), a mapping (keyed, see Script), or a
    Prompter of the test's own; None asks nobody. `stdin` "pipe": no terminal to ask on. No test waits or
    opens a browser: waits go to `slept` (then `sleep`, if given, runs), pages to `opened`. `observe` also
    sees each Aws; `env` passes other Environment fields (terminal, sandbox_keyring)."""
    out, err = io.StringIO(), io.StringIO()
    if answers is None or hasattr(answers, "select"):
        prompter = answers
    elif isinstance(answers, Mapping):
        prompter = Script(keyed=answers)
    else:
        prompter = Script(answers)
    result = Result(0, "", "", prompter)

    def fake_sleep(seconds: float) -> None:
        result.slept.append(seconds)
        if sleep is not None:
            sleep(seconds)

    def fake_open(url: str) -> bool:
        result.opened.append(url)
        return True

    def seen(aws: Any) -> None:
        result.aws.append(aws)
        if observe is not None:
            observe(aws)

    environment = wizard.run.Environment(stdout=out, stderr=err, stdin_isatty=stdin == "tty", prompter=prompter,
                                         width=width, sleep=fake_sleep, open_url=fake_open, **env)
    with observing(seen):
        result.code = wizard.cli.main(list(args), environment)
    result.out, result.err = out.getvalue(), err.getvalue()
    return result
