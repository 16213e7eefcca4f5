"""The flow: for each step, ask, inspect, plan, agree, apply, verify. Steps know AWS; this knows order.

plan and check lock the write guard before the first step runs, so no code path here or in a step
can send a write in those modes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from wizard import retry
from wizard.answers import AnswerBook
from wizard.aws import Aws
from wizard.errors import Aborted, Interrupted, WizardError, describe
from wizard.events import (
    AlreadyCompliant,
    AlreadyDone,
    ChangeApplied,
    ChangeNotMade,
    ChangeRefused,
    ChangesPlanned,
    ChangeWaiting,
    ConfirmationAsked,
    ConfirmedByAnswers,
    Event,
    FindingsRead,
    LastChangeStarted,
    LeftPending,
    Listener,
    RunFinished,
    SandboxStoodIn,
    SecretShownOnce,
    StepStarted,
    Verified,
    Warned,
)
from wizard.interaction import Interaction
from wizard.journal import Journal
from wizard.outcome import StepOutcome, reason_of, status_of
from wizard.protocol import (
    SHOWN_ONCE,
    Action,
    AnswerRejected,
    AnswerValue,
    ApplyContext,
    Authenticator,
    Change,
    ChangeSkipped,
    Finding,
    Status,
    Step,
    StepContext,
    SubmitCodes,
)
from wizard.secrets import KeyringUnavailable, Secret, keyring_entry, plain_file_keyring, store_in_keyring

AnyStep = Step[Any]

# Verifying re-reads this often, waiting 1, 2, 4 s between, before a change that did not show is an error.
VERIFY_TRIES = 4
VERIFY_FIRST_DELAY = 1.0


class StepFailed(WizardError):
    """A step could not finish; the message names the step and the AWS operation."""


class Engine:
    def __init__(
        self,
        aws: Aws,
        steps: Sequence[AnyStep],
        answers: AnswerBook,
        listener: Listener,
        operator: Interaction | None = None,
        journal: Journal | None = None,
        history: Callable[[], Sequence[Any]] | None = None,
    ) -> None:
        """`listener` hears what happens (wizard/render.py draws it); `operator` is who is asked (None:
        nobody, as in check and plan)."""
        self.aws = aws
        self.steps = list(steps)
        self.answers = answers
        self.listener = listener
        self.operator = operator or Interaction(None, listener)
        self.journal = journal
        # The account's journal as earlier runs left it (read-only here; apply writes through `journal`).
        self.history = history or (lambda: list(journal.entries()) if journal is not None else [])
        self.outputs: list[tuple[str, str]] = []
        # Set once a run_last change cut off the credentials this run uses: nothing more goes to AWS.
        self.credentials_retired = False
        self._last_operation = threading.local()

    @property
    def interactive(self) -> bool:
        return self.operator.interactive

    def emit(self, event: Event) -> None:
        self.listener.emit(event)

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
            elif ask and self.operator.prompter is not None and q.prompted:
                value = self.operator.ask(q)
            else:
                value = q.default
            if value is not None:
                self.answers.set(step.id, q.key, value)

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
        with self.listener.working("Reading the account…"):
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
            self.emit(StepStarted(index, total, step.id, step.title))
            ctx = self.context(step)
            self.resolve(step, ctx, ask=self.interactive)
            outcomes.append(self._apply_step_answering(step, ctx, deferred))
        for step, change, ctx in deferred:
            outcome = next(o for o in outcomes if o.step_id == step.id)
            self._apply_last(step, change, ctx, outcome)
        self.emit(RunFinished(outcomes, self.outputs))
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
                self.emit(Warned(f"{step.id}: {exc.reason}"))
                self.answers.set(step.id, question.key, self.operator.ask(question))

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
        self.emit(LastChangeStarted(step.id))
        why = "this run's credentials are already gone" if self.credentials_retired else None
        if why is None:
            fresh = self._planned_again(step, change, ctx, outcome)
            if fresh is None:  # done meanwhile (e.g. in the console)
                self.emit(AlreadyDone(change))
                outcome.changes = [c for c in outcome.changes if (c.key, c.resource) != (change.key, change.resource)]
                outcome.status = status_of(outcome.changes)
                outcome.reason = reason_of(outcome.changes, outcome.findings)
                return
            change, why = fresh, fresh.waits_for
        self.emit(ChangesPlanned([change]))
        if why is not None:
            outcome.reason = f"{change.resource}: left for last; {why}"
            self.emit(LeftPending(change, why))
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
        self.emit(ConfirmationAsked(change))
        refusal = self._confirm(step, change, ctx)
        if refusal is not None:
            self._journal(step.id, "declined", change, detail=refusal)
            self.emit(ChangeRefused(change, refusal))
        return refusal

    def _confirm(self, step: AnyStep, change: Change, ctx: StepContext) -> str | None:
        """Agreement for a run_last change; None when agreed, else why not."""
        expected = change.confirm_value
        if expected is None:
            return None if self.operator.agree(f"{change.summary}. Go ahead?") else "declined"
        given = self.answers.from_file(step.id, change.confirm_answer) if change.confirm_answer else None
        if confirms(given, expected):
            self.emit(ConfirmedByAnswers(str(change.confirm_answer), given, expected))
            return None
        if isinstance(given, list):
            return f"not confirmed: {expected} is not in the answers file's {change.confirm_answer}"
        if given is not None:
            return f"not confirmed: the answers file's {change.confirm_answer} is {given!r}, not {expected!r}"
        if not self.interactive:
            where = (f"{change.confirm_answer} = {self._answer_example(step, change)} under [{step.id}] in the "
                     "answers file" if change.confirm_answer else "a confirmation at the prompt")
            return f"not confirmed: to do this unattended, put {where}"
        leave = "keep it for now" if change.action is Action.DELETE else "decline"
        return None if self.operator.type_to_confirm(expected, leave) else "declined"

    def _apply_step(
        self, step: AnyStep, ctx: StepContext, deferred: list[tuple[AnyStep, Change, StepContext]]
    ) -> StepOutcome:
        with self.listener.working(f"Reading {step.id}…"):
            state = self._guarded(step, "inspect", lambda: step.inspect(self.aws, ctx))
        findings = step.findings(state, ctx)
        changes = step.plan(state, ctx)
        self.emit(FindingsRead(findings))
        if not changes:
            self.emit(AlreadyCompliant(step.id))
            self._record_finding_outputs(step, findings)
            return StepOutcome(step.id, step.title, Status.COMPLIANT, reason_of(changes, findings), findings)
        self.emit(ChangesPlanned(changes))
        waiting = [c for c in changes if not c.run_last and c.waits_for is not None]
        now = [c for c in changes if not c.run_last and c.action is not Action.OPERATOR and c.waits_for is None]
        operator = [c for c in changes if not c.run_last and c.action is Action.OPERATOR and c.waits_for is None]
        later = [c for c in changes if c.run_last]
        applied: list[Change] = []
        not_now: list[Change] = list(waiting)
        for change in waiting:
            self._journal(step.id, "waiting", change, detail=str(change.waits_for))
            self.emit(ChangeWaiting(change))
        if now:
            # What needs typed consent (adopting something aws-harden did not make) comes first: refused,
            # the step changes nothing, since its other changes act on that very thing.
            for change in (c for c in now if c.confirm_value is not None and c.others_depend_on_it):
                refusal = self._confirm(step, change, ctx)
                if refusal is not None:
                    self._journal(step.id, "declined", change, detail=refusal)
                    self.emit(ChangeRefused(change, refusal, adoption=True))
                    return StepOutcome(step.id, step.title, Status.NONCOMPLIANT,
                                       f"{change.resource}: {refusal}", findings, changes)
            plain = [c for c in now if c.confirm_value is None]
            asked = f"Apply {len(now)} change{'s' if len(now) > 1 else ''} for {step.id}?"
            if plain and not self.operator.agree(asked):
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
            self.emit(Verified(step.id))
        return StepOutcome(step.id, step.title, status_of(remaining), reason_of(remaining, findings),
                           findings, remaining)

    def _apply_context(self, ctx: StepContext) -> ApplyContext:
        return ApplyContext(
            ctx, self._keep_secret, self._output, self._enroll_authenticator, interactive=self.interactive,
            terminal=self.listener.can_show_secrets,
        )

    def _apply_change(self, step: AnyStep, change: Change, ctx: StepContext) -> bool:
        """Apply one change; False when the step skipped it (ChangeSkipped), which leaves it planned."""
        actx = ctx if isinstance(ctx, ApplyContext) else self._apply_context(ctx)
        self.aws.guard.settle()
        self._journal(step.id, "started", change)
        try:
            # No spinner around an apply that talks with the operator: it would draw over the prompts.
            spinner = self.listener.working(f"{change.action.value} {change.resource}") if not actx.interactive \
                else _nothing()
            with spinner, self.aws.guard.allowing(step.writes):
                change.operation.apply(self.aws, actx)
        except ChangeSkipped as exc:
            self._journal(step.id, "skipped", change, detail=str(exc))
            self.emit(ChangeNotMade(change, str(exc)))
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
        self.emit(ChangeApplied(change))
        return True

    def _operator_action(self, step: AnyStep, change: Change, ctx: StepContext) -> bool:
        """Show what to do in the console; re-check until it is done or the operator skips. True if done."""
        if not self.interactive:
            self._journal(step.id, "operator-pending", change)
            return False
        stand_in = self.aws.sandbox and bool(step.sandbox_writes)
        done = self.operator.operator_action(
            change, lambda: self._operator_done(step, change, ctx),
            (lambda: self._sandbox_stand_in(step, change, ctx)) if stand_in else None)
        self._journal(step.id, f"operator-{done}", change)
        return done == "done"

    def _operator_done(self, step: AnyStep, change: Change, ctx: StepContext) -> bool:
        state = self._guarded(step, "re-check", lambda: step.inspect(self.aws, ctx))
        return (change.key, change.resource) not in {(c.key, c.resource) for c in step.plan(state, ctx)}

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
        self.emit(SandboxStoodIn(change))

    def _enroll_authenticator(self, device: Authenticator, submit: SubmitCodes, tries: int) -> bool:
        return self.operator.enroll(device, submit, tries, sandbox=self.aws.sandbox)

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
        # A ClientError names its call; other failures carry it (write guard) or it is the call in flight. A
        # step's own WizardError already says why, and the last call sent had nothing to do with it.
        operation = None if isinstance(exc, ClientError) else (
            getattr(exc, "aws_operation", None) or self.aws.guard.in_flight
            or (None if isinstance(exc, WizardError) else self.aws.guard.last_operation))
        return f"{step.id}: " + (f"{operation}: " if operation else "") + reason

    # --- services for steps ---------------------------------------------------------------
    def _keep_secret(self, entry: str, description: str, secret: Secret, offer_show: bool = False) -> str:
        full_entry = keyring_entry(self.aws.caller().account, entry)
        if offer_show and self.operator.wants_to_see_once(description):
            self.emit(SecretShownOnce(description, secret))
            self._output(description, SHOWN_ONCE)
            return SHOWN_ONCE
        try:
            backend = store_in_keyring(full_entry, secret)
        except KeyringUnavailable as exc:
            self.emit(Warned(f"no working keyring backend ({exc}), so the {description} cannot be stored safely."))
            self.operator.show_secret_once(description, secret)
            return SHOWN_ONCE
        if backend.endswith("MemoryKeyring"):
            where = f"sandbox keyring (in memory, forgotten when this run ends), entry '{full_entry}'"
        elif plain_file_keyring() is not None:
            self.emit(Warned(f"the keyring backend you named, {backend}, is a plain file: anyone who can read the "
                              f"file can read the {description}."))
            where = (f"keyring backend {backend} (a plain file, as you chose), service 'aws-harden', "
                     f"entry '{full_entry}'")
        else:
            where = (f"OS keyring ({backend}), service 'aws-harden', entry '{full_entry}' "
                     f"(keyring get aws-harden {full_entry})")
        self._output(description, where)
        return where

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
            self.emit(Warned(f"the journal {self.journal.path} has {self.journal.skipped} line"
                             f"{'s' if self.journal.skipped > 1 else ''} that are not journal entries; skipped"))
        for item in unfinished:
            self.emit(Warned(
                f"the last run stopped during {item.step}: {item.resource} ({item.time}); "
                "this run starts from what the account shows now."
            ))
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
