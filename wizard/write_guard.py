"""Default-deny guard on AWS writes, enforced in the AWS layer itself.

Dry-run must hold by structure, not because every step remembers a flag (the amazon.aws
iam_password_policy module's check mode once changed accounts): every request passes this
botocore hook before it is signed or sent, against AWS, moto and Stubber alike.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from wizard.errors import WriteRefused

T = TypeVar("T")
READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup")
# Named reads that do not start with a read verb. Keep this list short and justified.
# sts:AssumeRole and sts:AssumeRoot change nothing in any account: they hand out temporary credentials, and the
# sessions made from them get a write guard of their own (wizard/organization.py); check and plan need them to
# read member accounts of an organization.
EXTRA_READS = frozenset({"sts:AssumeRole", "sts:AssumeRoot"})


def is_read(operation: str) -> bool:
    name = operation.split(":", 1)[-1]
    return name.startswith(READ_PREFIXES) or operation in EXTRA_READS


@dataclass(frozen=True)
class Attempt:
    operation: str
    sent: bool


class WriteGuard:
    """Lets reads through; lets a write through only inside `allowing()` naming it, and never once locked."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.locked = False
        self.attempts: list[Attempt] = []

    def lock(self) -> None:
        """For plan and check: from now on no write passes, whatever any caller asks."""
        self.locked = True

    @property
    def _allowed(self) -> frozenset[str]:
        return getattr(self._local, "allowed", frozenset())

    @contextmanager
    def allowing(self, writes: frozenset[str]) -> Iterator[None]:
        if self.locked:
            raise WriteRefused("apply", "this run is read-only (plan or check)")
        previous = self._allowed
        self._local.allowed = writes
        try:
            yield
        finally:
            self._local.allowed = previous

    def carrying(self, call: Callable[[], T]) -> Callable[[], T]:
        """The call, to run on another thread with the writes this thread may send (Aws.parallel)."""
        allowed = self._allowed
        if not allowed:
            return call

        def run() -> T:
            with self.allowing(allowed):
                return call()

        return run

    @property
    def sent_writes(self) -> list[str]:
        return [a.operation for a in self.attempts if a.sent]

    @property
    def refused_writes(self) -> list[str]:
        return [a.operation for a in self.attempts if not a.sent]

    @property
    def last_operation(self) -> str | None:
        """The most recent AWS operation this thread asked for, to name it when something fails."""
        return getattr(self._local, "last", None)

    @property
    def _calls(self) -> list[str]:
        if not hasattr(self._local, "calls"):
            self._local.calls = []
        calls: list[str] = self._local.calls
        return calls

    @property
    def in_flight(self) -> str | None:
        """The call this thread started and never saw end (Ctrl-C arrived during it), if any; a clean-up
        call made after it (e.g. deleting a half-made MFA device) does not hide it."""
        return self._calls[-1] if self._calls else None

    def settle(self) -> None:
        """Forget calls left unfinished earlier on this thread (the engine does it before each change)."""
        self._calls.clear()

    def check(self, operation: str) -> None:
        self._local.last = operation
        if is_read(operation):
            return
        allowed = not self.locked and operation in self._allowed
        with self._lock:
            self.attempts.append(Attempt(operation, allowed))
        if self.locked:
            raise WriteRefused(operation, "this run is read-only (plan or check)")
        if not allowed:
            raise WriteRefused(operation, "the step did not declare this write")

    def hook(self, model: Any, **_: Any) -> None:
        operation = f"{model.service_model.service_name}:{model.name}"
        self.check(operation)
        self._calls.append(operation)

    def _ended(self, **_: Any) -> None:
        if self._calls:
            self._calls.pop()

    def _failed(self, exception: BaseException | None = None, **_: Any) -> None:
        """Tag the exception with its operation: a connection error does not say which call it ended."""
        if self._calls:
            operation = self._calls.pop()
            if exception is not None and not hasattr(exception, "aws_operation"):
                with contextlib.suppress(AttributeError):
                    exception.aws_operation = operation  # type: ignore[attr-defined]

    def install(self, session: Any) -> None:
        """Register on a boto3 Session before any client exists (clients copy the handlers).

        provide-client-params is the first event of every call and is emitted to every handler, so
        nothing registered later can answer first: botocore's Stubber answers on before-call with a
        wildcard handler that runs before a plain `before-call` one, which let stubbed writes by.
        """
        session.events.register_first("provide-client-params", self.hook, unique_id="aws-harden-write-guard")
        session.events.register("after-call", self._ended, unique_id="aws-harden-call-ended")
        session.events.register("after-call-error", self._failed, unique_id="aws-harden-call-failed")
