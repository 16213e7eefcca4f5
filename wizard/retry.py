"""Retries botocore does not do: IAM's eventual consistency and its 409 conflicts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Retried because they clear by themselves within seconds (a just-created entity not yet visible,
# a concurrent change to the same entity); botocore's retry modes do not cover them.
TRANSIENT_CODES = frozenset({"ConcurrentModification", "EntityTemporarilyUnmodifiable"})


def with_backoff(
    call: Callable[[], T],
    retry_codes: frozenset[str] = TRANSIENT_CODES,
    attempts: int = 5,
    first_delay: float = 0.5,
    sleep: Callable[[float], None] | None = None,
) -> T:
    from botocore.exceptions import ClientError

    pause = sleep or pause_for
    delay = first_delay
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in retry_codes or attempt == attempts - 1:
                raise
            pause(delay)
            delay *= 2
    raise AssertionError("unreachable")


def pause_for(seconds: float) -> None:
    """The wait between tries; looked up at call time, so the tests make it instant (tests/conftest.py)."""
    time.sleep(seconds)


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
