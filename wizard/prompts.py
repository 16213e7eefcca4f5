"""The one interface every question goes through: questionary in a terminal (tests script their own).

Ctrl-C at any prompt raises KeyboardInterrupt (questionary's unsafe_ask), which the CLI turns
into exit code 130; closed input raises EOFError, which becomes a one-line error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
