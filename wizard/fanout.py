"""Every account of an organization at once: one account's run per worker, a result per account, and a stop.

The unit of work is "run this account" (a callable): what it runs (a single-account check or plan) is decided by
the caller (wizard/org_run.py). Here: at most `max_concurrency` accounts at a time, each account's outcome kept
(an account that errors or cannot be reached is a result, never the end of the run), progress reported from the
main thread, and Ctrl-C: the `stop` event is set, accounts not started never start, and every running account's
next AWS request raises (organization.session_on's `stop` hook), so the run ends within one request's time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from wizard.errors import Interrupted, describe

if TYPE_CHECKING:
    from wizard.account_check import AccountCheck
    from wizard.organization import OrgAccount, Organization

AccountStatus = Literal["compliant", "noncompliant", "error", "unassumable"]
DEFAULT_CONCURRENCY = 10
MAX_CONCURRENCY = 64
EXIT_OK, EXIT_ERROR, EXIT_PENDING = 0, 1, 2


@dataclass(frozen=True)
class Skipped:
    """A selected step not run in this account, and why (its subject lives in the management account)."""

    step_id: str
    reason: str


@dataclass
class AccountRun:
    account: OrgAccount
    status: AccountStatus
    reason: str
    check: AccountCheck | None = None
    skipped: tuple[Skipped, ...] = ()
    outcomes: list[Any] = field(default_factory=list)  # apply's outcomes (check and plan keep theirs in `check`)

    def as_record(self) -> dict[str, Any]:
        """The account in the organization report; `report` is the single-account report object, unchanged."""
        return {
            "id": self.account.id,
            "name": self.account.name,
            "management": self.account.management,
            "status": self.status,
            "reason": self.reason,
            "skipped_steps": [{"id": s.step_id, "reason": s.reason} for s in self.skipped],
            "report": self.check.report if self.check is not None else None,
        }


@dataclass
class FanOut:
    organization: Organization
    command: str
    role: str
    runs: list[AccountRun]

    def counts(self) -> dict[AccountStatus, int]:
        statuses: tuple[AccountStatus, ...] = ("compliant", "noncompliant", "error", "unassumable")
        return {s: sum(1 for r in self.runs if r.status == s) for s in statuses}

    @property
    def exit_code(self) -> int:
        """1 when any account errored or could not be reached; else 2 when any is not compliant (check) or has
        changes (plan), or is left pending (apply); else 0: the single-account codes, over every account."""
        counts = self.counts()
        if counts["error"] or counts["unassumable"]:
            return EXIT_ERROR
        return EXIT_PENDING if counts["noncompliant"] else EXIT_OK


def concurrency_problem(value: int) -> str | None:
    if 1 <= value <= MAX_CONCURRENCY:
        return None
    return f"--max-concurrency {value}: 1 to {MAX_CONCURRENCY} accounts at a time"


Progress = Callable[[int, int, int], None]  # (accounts done, total, errors so far)


def fan_out(
    accounts: Sequence[OrgAccount],
    run_account: Callable[[OrgAccount], AccountRun],
    max_concurrency: int,
    stop: threading.Event,
    progress: Progress | None = None,
) -> list[AccountRun]:
    """Run every account, at most `max_concurrency` at once; results in the accounts' order."""
    results: list[AccountRun | None] = [None] * len(accounts)
    done = errors = 0
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_concurrency, len(accounts) or 1)),
                              thread_name_prefix="aws-harden-account")
    futures: dict[Future[AccountRun], int] = {pool.submit(run_account, a): i for i, a in enumerate(accounts)}
    pending = set(futures)
    try:
        if progress is not None:
            progress(0, len(accounts), 0)
        while pending:
            finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in finished:
                index = futures[future]
                try:
                    run = future.result()  # run_account turns its account's failures into a result already
                except Exception as exc:  # and should it not, that account errors, never the run
                    run = AccountRun(accounts[index], "error", describe(exc))
                results[index] = run
                done += 1
                errors += run.status in ("error", "unassumable")
            if finished and progress is not None:
                progress(done, len(accounts), errors)
    except KeyboardInterrupt:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise Interrupted(f"the organization run ({done} of {len(accounts)} accounts done)") from None
    pool.shutdown(wait=True)
    return [r for r in results if r is not None]


def stopper(stop: threading.Event) -> Callable[[], None]:
    """Called before every AWS request of every account: once Ctrl-C was pressed, it ends that account's run."""
    def check() -> None:
        if stop.is_set():
            raise Interrupted("the organization run (stopped)")

    return check
