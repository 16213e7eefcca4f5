"""The flow: for each step, ask, inspect, plan, agree, apply, verify. Steps know AWS; this knows order.

plan and check lock the write guard before the first step runs, so no code path here or in a step
can send a write in those modes.
"""

from __future__ import annotations

import threading
import time
import webbrowser
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from wizard import retry
from wizard.answers import AnswerBook
from wizard.aws import Aws
from wizard.errors import Aborted, Interrupted, Terminated, WizardError, describe
from wizard.journal import Journal
from wizard.prompts import Prompter
from wizard.protocol import (
    NO_TERMINAL,
    SHOWN_ONCE,
    Action,
    AnswerRejected,
    AnswerValue,
    ApplyContext,
    Authenticator,
    Change,
    ChangeSkipped,
    Finding,
    Question,
    Status,
    Step,
    StepContext,
    SubmitCodes,
)
from wizard.render import ACTION_STYLE, Ui
from wizard.secrets import KeyringUnavailable, Secret, keyring_entry, plain_file_keyring, store_in_keyring

AnyStep = Step[Any]

# Verifying re-reads this often, waiting 1, 2, 4 s between, before a change that did not show is an error.
VERIFY_TRIES = 4
VERIFY_FIRST_DELAY = 1.0

# Operator actions: how often the account is re-read while the operator works in the console, and for how
# long before asking again (Ctrl-C also stops the waiting and goes back to the choices).
POLL_INTERVAL = 5.0
POLL_CHECKS = 36
WAIT = f"Wait while I do it (re-checks every {POLL_INTERVAL:g} s; Ctrl-C stops waiting)"
CHECK_NOW = "I have done it — check now"
OPEN_PAGE = "Open the page in my browser"
SANDBOX_STAND_IN = "SANDBOX ONLY: do it for me (stands in for the console; not possible on real AWS)"
SKIP = "Skip for now"

# Authenticator enrollment choices.
ENTER_CODES = "Enter two codes from the app"
SHOW_KEY = "Can't scan? Show the secret key to type into the app"
SIMULATE = "SANDBOX ONLY: simulated authenticator (computes the codes from the key; no phone)"
CANCEL = "Cancel this enrollment"


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


class StepFailed(WizardError):
    """A step could not finish; the message names the step and the AWS operation."""


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


class Engine:
    def __init__(
        self,
        aws: Aws,
        steps: Sequence[AnyStep],
        answers: AnswerBook,
        ui: Ui,
        prompter: Prompter | None,
        journal: Journal | None,
        yes: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        open_url: Callable[[str], bool] = webbrowser.open,
        history: Callable[[], Sequence[Any]] | None = None,
    ) -> None:
        self.aws = aws
        self.steps = list(steps)
        self.answers = answers
        self.ui = ui
        self.prompter = prompter
        self.journal = journal
        self.yes = yes
        self.sleep = sleep
        self.open_url = open_url
        # The account's journal as earlier runs left it (read-only here; apply writes through `journal`).
        self.history = history or (lambda: list(journal.entries()) if journal is not None else [])
        self.outputs: list[tuple[str, str]] = []
        # Set once a run_last change cut off the credentials this run uses: nothing more goes to AWS.
        self.credentials_retired = False
        self._last_operation = threading.local()

    @property
    def interactive(self) -> bool:
        return self.prompter is not None and not self.yes

    def context(self, step: AnyStep) -> StepContext:
        return StepContext(step.id, self.aws.caller(), self.aws.region, self.answers.lookup, self.aws.sandbox,
                           self.history)

    # --- answers --------------------------------------------------------------------------
    def resolve(self, step: AnyStep, ctx: StepContext, ask: bool) -> None:
        for q in step.questions():
            if q.key in self.answers.resolved.get(step.id, {}):
                continue
            from_file = self.answers.from_file(step.id, q.key)
            if from_file is not None:
                value: AnswerValue | None = from_file
            elif ask and self.prompter is not None and q.prompted:
                value = self._ask(q)
            else:
                value = q.default
            if value is not None:
                self.answers.set(step.id, q.key, value)

    def _ask(self, q: Question) -> AnswerValue:
        assert self.prompter is not None
        message = q.prompt + (f" ({q.help})" if q.help else "")
        default = q.prompt_default if q.prompt_default is not None else q.default
        if q.kind == "confirm":
            return self.prompter.confirm(message, default=bool(default))
        if q.kind == "choice":
            return self.prompter.select(message, q.choices, default=str(default) if default else None)
        if q.kind == "table":
            return self._ask_table(q, message)
        if q.kind == "list" and q.parse is not None:
            return self._ask_list(q, message)
        convert = {"int": int, "float": float}.get(q.kind, str)

        def validate(raw: str) -> str | None:
            try:
                value = convert(raw.strip())
            except ValueError:
                return f"enter a{'n integer' if q.kind == 'int' else ' number'}"
            return q.check(value)

        raw = self.prompter.text(message, default="" if default is None else str(default), validate=validate)
        result: AnswerValue = convert(raw.strip())
        return result

    def _ask_table(self, q: Question, message: str) -> AnswerValue:
        """One field at a time; an empty first field means "not given" (the step keeps what there is)."""
        assert self.prompter is not None
        values: dict[str, str] = {}
        for index, f in enumerate(q.fields):
            first = index == 0

            def validate(raw: str, f: Question = f, first: bool = first) -> str | None:
                return None if first and not raw.strip() else f.check(raw.strip())

            raw = self.prompter.text(f"{message}: {f.prompt}" if first else f"{q.prompt}: {f.prompt}",
                                     default="", validate=validate).strip()
            if first and not raw:
                return {}
            values[f.key] = raw
        return values

    def _ask_list(self, q: Question, message: str) -> AnswerValue:
        """A list typed as one line, which the question's `parse` reads (the answers file takes the list)."""
        assert self.prompter is not None and q.parse is not None, q.key
        parse = q.parse

        def validate(raw: str) -> str | None:
            try:
                return q.check(parse(raw.strip()))
            except ValueError as exc:
                return str(exc)

        shown = q.shown(q.default) if q.shown is not None and q.default is not None else ""
        return parse(self.prompter.text(message, default=shown, validate=validate).strip())

    # --- reading --------------------------------------------------------------------------
    def survey(self, step: AnyStep) -> StepOutcome:
        """Inspect and plan one step, never writing; errors become an ERROR outcome."""
        ctx = self.context(step)
        self.resolve(step, ctx, ask=False)
        try:
            state = step.inspect(self.aws, ctx)
            findings = step.findings(state, ctx)
            changes = step.plan(state, ctx)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            return StepOutcome(step.id, step.title, Status.ERROR, f"{step.id}: {describe(exc)}")
        return StepOutcome(
            step.id, step.title, status_of(changes), reason_of(changes, findings), findings, changes
        )

    def check(self) -> list[StepOutcome]:
        """Every step's inspection at once: they only read, and they share one read cache."""
        self.aws.guard.lock()
        self.aws.caller()
        with self.ui.working("Reading the account…"):
            # Every step at once (not eight at a time): a step waiting for a free thread adds its whole chain
            # of reads to the critical path.
            return self.aws.parallel(*(lambda step=step: self.survey(step) for step in self.steps),
                                     width=len(self.steps))

    plan = check

    # --- changing -------------------------------------------------------------------------
    def apply(self) -> list[StepOutcome]:
        self._report_unfinished()
        outcomes: list[StepOutcome] = []
        deferred: list[tuple[AnyStep, Change, StepContext]] = []
        total = len(self.steps)
        for index, step in enumerate(self.steps, start=1):
            self.ui.step_header(index, total, step.id, step.title)
            ctx = self.context(step)
            self.resolve(step, ctx, ask=self.interactive)
            outcomes.append(self._apply_step_answering(step, ctx, deferred))
        for step, change, ctx in deferred:
            outcome = next(o for o in outcomes if o.step_id == step.id)
            self._apply_last(step, change, ctx, outcome)
        self.ui.summary(outcomes, self.outputs)
        return outcomes

    def _apply_step_answering(
        self, step: AnyStep, ctx: StepContext, deferred: list[tuple[AnyStep, Change, StepContext]]
    ) -> StepOutcome:
        """Apply one step; when AWS rejects an answer (AnswerRejected), ask that question again, re-plan."""
        while True:
            try:
                return self._apply_step(step, ctx, deferred)
            except AnswerRejected as exc:
                question = next((q for q in step.questions() if q.key == exc.question_key), None)
                if not self.interactive or question is None:
                    raise StepFailed(f"{step.id}: {exc.reason}") from None
                self.ui.warn(f"{step.id}: {exc.reason}")
                self.answers.set(step.id, question.key, self._ask(question))

    def _apply_last(
        self,
        step: AnyStep,
        change: Change,
        ctx: StepContext,
        outcome: StepOutcome,
    ) -> None:
        """A change that cuts off this run's credentials: last, once the step, reading the account again
        now that every other step had its turn, no longer says it waits for something (for root's key: a
        working IAM admin); agreed; and then nothing more is sent to AWS (so there is no verify: the
        operator checks as the new identity). Other steps declined or left pending do not hold it back."""
        self.ui.blank()
        self.ui.line(("Last: ", "bold"), f"{step.id} ")
        why = "this run's credentials are already gone" if self.credentials_retired else None
        if why is None:
            fresh = self._planned_again(step, change, ctx, outcome)
            if fresh is None:  # done meanwhile (e.g. in the console)
                self.ui.line(("  ✓ already done", "green"), f": {change.resource}")
                outcome.changes = [c for c in outcome.changes if (c.key, c.resource) != (change.key, change.resource)]
                outcome.status = status_of(outcome.changes)
                outcome.reason = reason_of(outcome.changes, outcome.findings)
                return
            change, why = fresh, fresh.waits_for
        self.ui.changes([change])
        if why is not None:
            outcome.reason = f"{change.resource}: left for last; {why}"
            self.ui.line(("  left pending: ", "yellow"), why)
            self._journal(step.id, "deferred", change, detail=why)
            return
        refusal = self._confirm(step, change, ctx)
        if refusal is not None:
            outcome.status, outcome.reason = Status.NONCOMPLIANT, f"{change.resource}: {refusal}"
            self._journal(step.id, "declined", change, detail=refusal)
            return
        if not self._apply_change(step, change, ctx):
            outcome.status, outcome.reason = Status.NONCOMPLIANT, f"skipped: {change.summary}"
            return
        self.credentials_retired = True
        outcome.applied.append(change)
        outcome.changes = [c for c in outcome.changes if (c.key, c.resource) != (change.key, change.resource)]
        outcome.status = status_of(outcome.changes)
        outcome.verified = False
        outcome.reason = reason_of(outcome.changes, outcome.findings) if outcome.changes else (
            "done; not re-read, because the credentials this run used are gone: run 'aws-harden check' "
            "as the new identity to verify")

    def _planned_again(self, step: AnyStep, change: Change, ctx: StepContext,
                       outcome: StepOutcome) -> Change | None:
        """The step's plan for this change as the account is now; None when it is no longer planned."""
        state = self._guarded(step, "re-check", lambda: step.inspect(self.aws, ctx))
        outcome.findings = step.findings(state, ctx)
        return next((c for c in step.plan(state, ctx) if (c.key, c.resource) == (change.key, change.resource)),
                    None)

    @staticmethod
    def _answer_example(step: AnyStep, change: Change) -> str:
        """How the answers file confirms this change: its value in TOML, as the question's kind wants it."""
        kind = next((q.kind for q in step.questions() if q.key == change.confirm_answer), "text")
        return {"list": f'["{change.confirm_value}"]', "confirm": "true"}.get(kind, f'"{change.confirm_value}"')

    def _confirm_typed(self, step: AnyStep, change: Change, ctx: StepContext) -> str | None:
        """A change agreed by typing a value (e.g. a region name), asked on its own after the step's
        agreement; None when agreed (or when the change asks no typed value), else why not (journaled)."""
        if change.confirm_value is None:
            return None
        self.ui.line("  ", (f"{change.action.value} {change.resource}", ACTION_STYLE[change.action]),
                     ("  " + change.summary, "dim"))
        refusal = self._confirm(step, change, ctx)
        if refusal is not None:
            self._journal(step.id, "declined", change, detail=refusal)
            self.ui.line(("  – left as it is: ", "yellow"), refusal)
        return refusal

    def _confirm(self, step: AnyStep, change: Change, ctx: StepContext) -> str | None:
        """Agreement for a run_last change; None when agreed, else why not."""
        expected = change.confirm_value
        if expected is None:
            return None if self._agree(f"{change.summary}. Go ahead?") else "declined"
        given = self.answers.from_file(step.id, change.confirm_answer) if change.confirm_answer else None
        if confirms(given, expected):
            said = f"names {expected}" if isinstance(given, list) else f"= {given}"
            self.ui.line(("  confirmed by the answers file: ", "dim"), f"{change.confirm_answer} {said}")
            return None
        if isinstance(given, list):
            return f"not confirmed: {expected} is not in the answers file's {change.confirm_answer}"
        if given is not None:
            return f"not confirmed: the answers file's {change.confirm_answer} is {given!r}, not {expected!r}"
        if not self.interactive:
            where = (f"{change.confirm_answer} = {self._answer_example(step, change)} under [{step.id}] in the "
                     "answers file" if change.confirm_answer else "a confirmation at the prompt")
            return f"not confirmed: to do this unattended, put {where}"
        assert self.prompter is not None
        leave = "keep it for now" if change.action is Action.DELETE else "decline"
        typed = self.prompter.text(
            f"To go ahead, type {expected} (leave empty to {leave})",
            validate=lambda v: None if v.strip() in ("", expected) else f"that is not {expected}",
        )
        return None if typed.strip() == expected else "declined"

    def _apply_step(
        self, step: AnyStep, ctx: StepContext, deferred: list[tuple[AnyStep, Change, StepContext]]
    ) -> StepOutcome:
        with self.ui.working(f"Reading {step.id}…"):
            state = self._guarded(step, "inspect", lambda: step.inspect(self.aws, ctx))
        findings = step.findings(state, ctx)
        changes = step.plan(state, ctx)
        self.ui.findings(findings)
        if not changes:
            self.ui.line(("  ✓ already compliant", "green"), " — nothing to change")
            self._record_finding_outputs(step, findings)
            return StepOutcome(step.id, step.title, Status.COMPLIANT, reason_of(changes, findings), findings)
        self.ui.changes(changes)
        waiting = [c for c in changes if not c.run_last and c.waits_for is not None]
        now = [c for c in changes if not c.run_last and c.action is not Action.OPERATOR and c.waits_for is None]
        operator = [c for c in changes if not c.run_last and c.action is Action.OPERATOR and c.waits_for is None]
        later = [c for c in changes if c.run_last]
        applied: list[Change] = []
        not_now: list[Change] = list(waiting)
        for change in waiting:
            self._journal(step.id, "waiting", change, detail=str(change.waits_for))
            self.ui.line(("  – waits ", "yellow"), change.resource, f": {change.waits_for}")
        if now:
            # What needs typed consent (adopting something aws-harden did not make) comes first: refused,
            # the step changes nothing, since its other changes act on that very thing.
            for change in (c for c in now if c.confirm_value is not None and c.others_depend_on_it):
                refusal = self._confirm(step, change, ctx)
                if refusal is not None:
                    self._journal(step.id, "declined", change, detail=refusal)
                    self.ui.line(("  – refused ", "yellow"), change.resource, f": {refusal}")
                    return StepOutcome(step.id, step.title, Status.NONCOMPLIANT,
                                       f"{change.resource}: {refusal}", findings, changes)
            plain = [c for c in now if c.confirm_value is None]
            if plain and not self._agree(f"Apply {len(now)} change{'s' if len(now) > 1 else ''} for {step.id}?"):
                self._journal(step.id, "declined")
                return StepOutcome(
                    step.id, step.title, Status.NONCOMPLIANT, "declined by the operator", findings, changes
                )
            for change in now:
                # An irreversible change needs its own typed consent, not the yes above (adoptions had theirs).
                refusal = None if change.others_depend_on_it else self._confirm_typed(step, change, ctx)
                done = refusal is None and self._apply_change(step, change, self._apply_context(ctx))
                (applied if done else not_now).append(change)
        skipped = [c for c in operator if not self._operator_action(step, c, ctx)]
        deferred.extend((step, c, ctx) for c in later)
        if applied or len(skipped) < len(operator):
            outcome = self._verify(step, ctx, skipped=not_now + skipped + later)
        else:  # nothing was changed (all skipped, left to the operator or for last): no need to read again
            outcome = StepOutcome(step.id, step.title, status_of(changes), reason_of(changes, findings),
                                  findings, changes)
        outcome.applied = applied
        self._record_finding_outputs(step, outcome.findings)
        return outcome

    def _record_finding_outputs(self, step: AnyStep, findings: Sequence[Finding]) -> None:
        self._last_operation.step = step.id
        for f in findings:
            if f.output is not None:
                self._output(*f.output)

    def _verify(self, step: AnyStep, ctx: StepContext, skipped: Sequence[Change]) -> StepOutcome:
        """Inspect again; anything still planned that was not skipped is an inconsistent result, once the
        reads had a few seconds to catch up (IAM is eventually consistent: a user made a moment ago may
        not be readable yet)."""
        waived = {(c.key, c.resource) for c in skipped}
        delay = VERIFY_FIRST_DELAY
        for attempt in range(VERIFY_TRIES):
            state = self._guarded(step, "verify", lambda: step.inspect(self.aws, ctx))
            findings = step.findings(state, ctx)
            remaining = step.plan(state, ctx)
            unexpected = [c for c in remaining if (c.key, c.resource) not in waived]
            if not unexpected or attempt == VERIFY_TRIES - 1:
                break
            retry.pause_for(delay)
            delay *= 2
        if unexpected:
            raise StepFailed(
                f"{step.id}: inconsistent result after apply: still planned: "
                + "; ".join(f"{c.action.value} {c.resource}" for c in unexpected)
            )
        if not remaining:
            self.ui.line(("  ✓ verified", "green"))
        return StepOutcome(step.id, step.title, status_of(remaining), reason_of(remaining, findings),
                           findings, remaining)

    def _apply_context(self, ctx: StepContext) -> ApplyContext:
        return ApplyContext(
            ctx, self._keep_secret, self._output, self._enroll_authenticator, interactive=self.interactive,
            terminal=lambda: self.ui.terminal is not None,
        )

    def _apply_change(self, step: AnyStep, change: Change, ctx: StepContext) -> bool:
        """Apply one change; False when the step skipped it (ChangeSkipped), which leaves it planned."""
        actx = ctx if isinstance(ctx, ApplyContext) else self._apply_context(ctx)
        self.aws.guard.settle()
        self._journal(step.id, "started", change)
        try:
            # No spinner around an apply that talks with the operator: it would draw over the prompts.
            spinner = self.ui.working(f"{change.action.value} {change.resource}") if not actx.interactive \
                else _nothing()
            with spinner, self.aws.guard.allowing(step.writes):
                step.apply(self.aws, change, actx)
        except ChangeSkipped as exc:
            self._journal(step.id, "skipped", change, detail=str(exc))
            self.ui.line(("  – skipped ", "yellow"), change.resource, f": {exc}")
            return False
        except KeyboardInterrupt as exc:
            self._journal(step.id, "interrupted", change)
            if isinstance(exc, Interrupted):
                raise
            operation = self.aws.guard.in_flight
            raise Interrupted(f"{step.id}: {operation or change.resource}") from None
        except AnswerRejected as exc:
            self._journal(step.id, "rejected", change, detail=exc.reason)
            raise
        except Aborted as exc:
            self._journal(step.id, "aborted", change, detail=str(exc))
            raise
        except Exception as exc:
            reason = self._failure(step, exc)
            self._journal(step.id, "failed", change, detail=reason)
            raise StepFailed(reason) from exc
        self._journal(step.id, "ok", change)
        self.ui.line((f"  ✓ {change.action.value} ", "green"), change.resource)
        return True

    def _operator_action(self, step: AnyStep, change: Change, ctx: StepContext) -> bool:
        """Show what to do in the console; re-check until it is done or the operator skips. True if done."""
        if not self.interactive:
            self._journal(step.id, "operator-pending", change)
            return False
        assert self.prompter is not None
        stand_in = self.aws.sandbox and bool(step.sandbox_writes)
        choices = [WAIT, CHECK_NOW, *([OPEN_PAGE] if change.url else [])]
        choices += [*([SANDBOX_STAND_IN] if stand_in else []), SKIP]
        while True:
            choice = self.prompter.select(f"{change.summary}:", choices, default=WAIT)
            if choice == SKIP:
                self._journal(step.id, "operator-skipped", change)
                return False
            if choice == OPEN_PAGE and change.url:
                opened = self._open(change.url)
                said = "opened in your browser: " if opened else "could not start a browser; open: "
                self.ui.line("  ", said, (change.url, "underline cyan"))
                continue
            if choice == SANDBOX_STAND_IN:
                self._sandbox_stand_in(step, change, ctx)
            check = self._wait_for if choice == WAIT else self._operator_done
            if check(step, change, ctx):
                self._journal(step.id, "operator-done", change)
                self.ui.line(("  ✓ done", "green"))
                return True
            self.ui.line(("  not yet: ", "yellow"), "the account does not show it done yet.")

    def _open(self, url: str) -> bool:
        try:
            return bool(self.open_url(url))
        except Exception:  # no browser here (a server, a container): the URL is shown instead
            return False

    def _operator_done(self, step: AnyStep, change: Change, ctx: StepContext) -> bool:
        state = self._guarded(step, "re-check", lambda: step.inspect(self.aws, ctx))
        return (change.key, change.resource) not in {(c.key, c.resource) for c in step.plan(state, ctx)}

    def _wait_for(self, step: AnyStep, change: Change, ctx: StepContext) -> bool:
        """Re-read the account every POLL_INTERVAL seconds, POLL_CHECKS times; Ctrl-C ends the wait only."""
        try:
            with self.ui.working(f"Waiting for: {change.summary} (Ctrl-C stops waiting)"):
                for _ in range(POLL_CHECKS):
                    if self._operator_done(step, change, ctx):
                        return True
                    self.sleep(POLL_INTERVAL)
        except Terminated:
            raise
        except KeyboardInterrupt:
            self.ui.line(("  stopped waiting", "yellow"))
            return False
        return self._operator_done(step, change, ctx)

    def _sandbox_stand_in(self, step: AnyStep, change: Change, ctx: StepContext) -> None:
        assert self.aws.sandbox, "sandbox stand-ins never run against real AWS"
        self._journal(step.id, "sandbox-stand-in", change)
        try:
            with self.aws.guard.allowing(step.sandbox_writes):
                step.sandbox_operator(self.aws, change, self._apply_context(ctx))
        except (KeyboardInterrupt, Aborted):
            raise
        except Exception as exc:
            raise StepFailed(self._failure(step, exc)) from exc
        self.ui.line(("  SANDBOX ", "bold black on yellow"), f" stood in for the console: {change.summary}")

    def _enroll_authenticator(self, device: Authenticator, submit: SubmitCodes, tries: int) -> bool:
        """The enrollment conversation: QR code, optional key text, two codes, up to `tries` attempts."""
        if not self.interactive:
            raise ChangeSkipped("enrolling an MFA device needs the person with the phone at a terminal "
                                "(run 'aws-harden apply' without --yes)")
        if self.ui.terminal is None:
            raise ChangeSkipped(NO_TERMINAL)
        assert self.prompter is not None
        from wizard import totp

        self.ui.blank()
        self.ui.line("  Add ", (device.label, "bold"), " to your authenticator app: scan this QR code.")
        self.ui.qr(device.uri.reveal())
        choices = [ENTER_CODES, SHOW_KEY, *([SIMULATE] if self.aws.sandbox else []), CANCEL]
        for attempt in range(1, tries + 1):
            choice = self.prompter.select("Then:", choices, default=ENTER_CODES)
            while choice == SHOW_KEY:
                key = device.key.reveal()
                grouped = " ".join(key[i:i + 4] for i in range(0, len(key), 4))
                self.ui.secret_line("  secret key (type it into the app as a time-based key):")
                self.ui.secret_line("    ", (grouped, "bold"))
                choices = [c for c in choices if c != SHOW_KEY]
                choice = self.prompter.select("Then:", choices, default=ENTER_CODES)
            if choice == CANCEL:
                return False
            if choice == SIMULATE:
                first, second = totp.consecutive_codes(device.key, time.time())
                self.ui.line(("  SANDBOX ", "bold black on yellow"), " simulated app: 2 codes typed")
            else:
                first = self.prompter.text("First code (6 digits)", validate=totp.code_problem)
                second = self.prompter.text("Next code (wait for the app to change, then type the new one)",
                                            validate=totp.code_problem)
            with self.ui.working("Checking the codes…"):
                problem = submit(totp.normalise(first), totp.normalise(second))
            if problem is None:
                return True
            left = tries - attempt
            tries_left = f"  ({left} {'try' if left == 1 else 'tries'} left)"
            self.ui.line(("  ✗ ", "red"), problem, (tries_left, "dim"))
        return False

    def _guarded(self, step: AnyStep, phase: str, call: Any) -> Any:
        try:
            return call()
        except (KeyboardInterrupt, StepFailed, Aborted):
            raise
        except Exception as exc:
            raise StepFailed(self._failure(step, exc)) from exc

    def _failure(self, step: AnyStep, exc: BaseException) -> str:
        from botocore.exceptions import ClientError

        reason = describe(exc)
        # A ClientError names its call; other failures carry it (write guard) or it is the call in flight.
        operation = None if isinstance(exc, ClientError) else (
            getattr(exc, "aws_operation", None) or self.aws.guard.in_flight or self.aws.guard.last_operation)
        return f"{step.id}: " + (f"{operation}: " if operation else "") + reason

    def _agree(self, message: str) -> bool:
        if self.yes:
            return True
        if self.prompter is None:
            return False
        return self.prompter.confirm(message, default=False)

    # --- services for steps ---------------------------------------------------------------
    def _keep_secret(self, entry: str, description: str, secret: Secret, offer_show: bool = False) -> str:
        full_entry = keyring_entry(self.aws.caller().account, entry)
        if offer_show and self.interactive and self.ui.terminal is not None:  # never on a redirected stdout
            assert self.prompter is not None
            keep, show = "Keep it in the OS keyring", "Show it once on this terminal (the person is here)"
            if self.prompter.select(f"Where should the {description} go?", [keep, show], default=keep) == show:
                self._show_once(description, secret)
                self._output(description, SHOWN_ONCE)
                return SHOWN_ONCE
        try:
            backend = store_in_keyring(full_entry, secret)
        except KeyringUnavailable as exc:
            self.ui.warn(f"no working keyring backend ({exc}), so the {description} cannot be stored safely.")
            if not self.interactive:
                raise Aborted(
                    f"no working keyring to keep the {description}; install a keyring backend "
                    "(see README) or run interactively to choose"
                ) from None
            assert self.prompter is not None
            show, abort = "Show it once on this screen; I will store it myself", "Abort; set no password"
            choices = [show, abort] if self.ui.terminal is not None else [abort]  # never on a redirected stdout
            if self.prompter.select(f"Where should the {description} go?", choices, default=abort) != show:
                raise Aborted(f"aborted: no place to keep the {description}") from None
            self._show_once(description, secret)
            return SHOWN_ONCE
        if backend.endswith("MemoryKeyring"):
            where = f"sandbox keyring (in memory, forgotten when this run ends), entry '{full_entry}'"
        elif plain_file_keyring() is not None:
            self.ui.warn(f"the keyring backend you named, {backend}, is a plain file: anyone who can read the "
                         f"file can read the {description}.")
            where = (f"keyring backend {backend} (a plain file, as you chose), service 'aws-harden', "
                     f"entry '{full_entry}'")
        else:
            where = (f"OS keyring ({backend}), service 'aws-harden', entry '{full_entry}' "
                     f"(keyring get aws-harden {full_entry})")
        self._output(description, where)
        return where

    def _show_once(self, description: str, secret: Secret) -> None:
        self.ui.secret_line(f"  {description}: ", (secret.reveal(), "bold"), "   (shown once; it is not stored)")

    def _output(self, name: str, value: str) -> None:
        self.outputs.append((name, value))
        if self.journal is not None:
            self.journal.record(self._current_step_id(), "output", detail=f"{name}: {value}")

    def _current_step_id(self) -> str:
        return getattr(self._last_operation, "step", "") or "wizard"

    def _journal(self, step_id: str, result: str, change: Change | None = None, detail: str = "") -> None:
        self._last_operation.step = step_id
        if self.journal is not None:
            self.journal.record(step_id, result, change, detail)

    def _report_unfinished(self) -> None:
        if self.journal is None:
            return
        unfinished = self.journal.unfinished()
        if self.journal.skipped:
            self.ui.warn(f"the journal {self.journal.path} has {self.journal.skipped} line"
                         f"{'s' if self.journal.skipped > 1 else ''} that are not journal entries; skipped")
        for item in unfinished:
            self.ui.warn(
                f"the last run stopped during {item.step}: {item.resource} ({item.time}); "
                "this run starts from what the account shows now."
            )
        self.journal.close_unfinished()


def confirms(given: AnswerValue | None, expected: str) -> bool:
    """An answers-file value that confirms a typed confirmation: the value itself, a list holding it (e.g.
    the regions whose default VPC may go) or a comma-separated string of them (account ids), or true (a
    checklist the answers file says is done)."""
    if isinstance(given, list):
        return expected in given
    if isinstance(given, bool):
        return given
    return given is not None and expected in [v.strip() for v in str(given).split(",")]  # one, or comma-separated


@contextmanager
def _nothing() -> Iterator[None]:
    yield
