"""The one interface every question goes through: questionary in a terminal, a script in tests.

Ctrl-C at any prompt raises KeyboardInterrupt (questionary's unsafe_ask), which the CLI turns
into exit code 130; closed input raises EOFError, which becomes a one-line error.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from wizard.printable import printable

T = TypeVar("T")

Validator = Callable[[str], str | None]


class Prompter(Protocol):
    def text(self, message: str, default: str = "", validate: Validator | None = None) -> str: ...

    def confirm(self, message: str, default: bool = False) -> bool: ...

    def select(self, message: str, choices: Sequence[str], default: str | None = None) -> str: ...


class QuestionaryPrompter:
    """Real prompts on the terminal; messages and choices can quote the account, so they are made printable."""

    def text(self, message: str, default: str = "", validate: Validator | None = None) -> str:
        import questionary

        def check(value: str) -> bool | str:
            if validate is None:
                return True
            problem = validate(value)
            return True if problem is None else printable(problem)

        answer = questionary.text(printable(message), default=default, validate=check).unsafe_ask()
        return str(_not_none(answer))

    def confirm(self, message: str, default: bool = False) -> bool:
        import questionary

        return bool(_not_none(questionary.confirm(printable(message), default=default).unsafe_ask()))

    def select(self, message: str, choices: Sequence[str], default: str | None = None) -> str:
        import questionary

        shown = {printable(c): c for c in choices}
        answer = questionary.select(
            printable(message), choices=list(shown), default=None if default is None else printable(default)
        ).unsafe_ask()
        return shown[str(_not_none(answer))]


def _not_none(value: T | None) -> T:
    if value is None:
        raise KeyboardInterrupt
    return value


class ScriptedPrompter:
    """Answers from a list, in order, each checked like a person's would be. For tests.

    A text answer that fails validation is recorded in `rejected` and the next scripted answer is
    tried, as a person would retype it. Running out of answers is EOFError, like closed stdin.
    Any answer may be KeyboardInterrupt (the class) to simulate Ctrl-C at that prompt.
    """

    def __init__(self, answers: Iterable[object]) -> None:
        self.answers: deque[object] = deque(answers)
        self.asked: list[str] = []
        self.rejected: list[tuple[str, str]] = []

    def _next(self, message: str) -> object:
        self.asked.append(message)
        if not self.answers:
            raise EOFError(f"no scripted answer for: {message}")
        answer = self.answers.popleft()
        if answer is KeyboardInterrupt:
            raise KeyboardInterrupt
        return answer

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
        if answer not in choices:
            raise AssertionError(f"scripted answer {answer!r} is not one of {list(choices)} for {message}")
        return str(answer)
