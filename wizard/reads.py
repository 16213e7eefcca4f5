"""Reads where "not there" is an answer, not an error."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from wizard.retry import error_code

T = TypeVar("T")


def absent_is_none(call: Callable[[], T], codes: tuple[str, ...] = ("NoSuchEntity",)) -> T | None:
    try:
        return call()
    except Exception as exc:
        if error_code(exc) in codes:
            return None
        raise
