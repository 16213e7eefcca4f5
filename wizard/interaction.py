"""The conversations with the operator: questions, agreement, typed confirmations, console actions waited
for, authenticator enrollment, and where a secret goes when no keyring works.

The engine decides when to talk (flow); this decides how (prompts, choices, re-checks). It prompts through
a Prompter and tells what happened through events; it never draws a line itself.
"""

from __future__ import annotations

import time
import webbrowser
from collections.abc import Callable
from typing import Literal

from wizard.errors import Aborted, Terminated
from wizard.events import (
    AuthenticatorKeyShown,
    AuthenticatorShown,
    CodesRefused,
    CodesSimulated,
    Listener,
    OperatorDone,
    OperatorNotYet,
    PageOffered,
    SecretShownOnce,
    StoppedWaiting,
)
from wizard.prompts import Prompter
from wizard.protocol import NO_TERMINAL, AnswerValue, Authenticator, Change, ChangeSkipped, Question, SubmitCodes
from wizard.secrets import Secret

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

# Where a secret goes, when the person it is for is at the terminal.
KEEP = "Keep it in the OS keyring"
SHOW_HERE = "Show it once on this terminal (the person is here)"
# Where a secret goes when no keyring works.
SHOW_ONCE = "Show it once on this screen; I will store it myself"
ABORT = "Abort; set no password"


class Interaction:
    """One run's operator: `prompter` None (check, plan, no terminal) asks nothing and agrees to nothing;
    `yes` agrees to every plain change without asking."""

    def __init__(
        self,
        prompter: Prompter | None,
        listener: Listener,
        yes: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        open_url: Callable[[str], bool] = webbrowser.open,
    ) -> None:
        self.prompter = prompter
        self.listener = listener
        self.yes = yes
        self.sleep = sleep
        self.open_url = open_url

    @property
    def interactive(self) -> bool:
        return self.prompter is not None and not self.yes

    def _prompter(self) -> Prompter:
        assert self.prompter is not None, "only an interactive run asks"
        return self.prompter

    # --- questions --------------------------------------------------------------------------
    def ask(self, q: Question) -> AnswerValue:
        prompter = self._prompter()
        message = q.prompt + (f" ({q.help})" if q.help else "")
        default = q.prompt_default if q.prompt_default is not None else q.default
        if q.kind == "confirm":
            return prompter.confirm(message, default=bool(default))
        if q.kind == "choice":
            return prompter.select(message, q.choices, default=str(default) if default else None)
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

        raw = prompter.text(message, default="" if default is None else str(default), validate=validate)
        result: AnswerValue = convert(raw.strip())
        return result

    def _ask_table(self, q: Question, message: str) -> AnswerValue:
        """One field at a time; an empty first field means "not given" (the step keeps what there is)."""
        prompter = self._prompter()
        values: dict[str, str] = {}
        for index, f in enumerate(q.fields):
            first = index == 0

            def validate(raw: str, f: Question = f, first: bool = first) -> str | None:
                return None if first and not raw.strip() else f.check(raw.strip())

            raw = prompter.text(f"{message}: {f.prompt}" if first else f"{q.prompt}: {f.prompt}",
                                default="", validate=validate).strip()
            if first and not raw:
                return {}
            values[f.key] = raw
        return values

    def _ask_list(self, q: Question, message: str) -> AnswerValue:
        """A list typed as one line, which the question's `parse` reads (the answers file takes the list)."""
        assert q.parse is not None, q.key
        parse = q.parse

        def validate(raw: str) -> str | None:
            try:
                return q.check(parse(raw.strip()))
            except ValueError as exc:
                return str(exc)

        shown = q.shown(q.default) if q.shown is not None and q.default is not None else ""
        return parse(self._prompter().text(message, default=shown, validate=validate).strip())

    # --- agreement --------------------------------------------------------------------------
    def agree(self, message: str) -> bool:
        if self.yes:
            return True
        if self.prompter is None:
            return False
        return self.prompter.confirm(message, default=False)

    def type_to_confirm(self, expected: str, leave: str) -> bool:
        """The operator types `expected` to go ahead; empty leaves it (`leave` says how)."""
        typed = self._prompter().text(
            f"To go ahead, type {expected} (leave empty to {leave})",
            validate=lambda v: None if v.strip() in ("", expected) else f"that is not {expected}",
        )
        return typed.strip() == expected

    # --- the operator's actions in the console ---------------------------------------------
    def operator_action(
        self, change: Change, is_done: Callable[[], bool], stand_in: Callable[[], None] | None,
    ) -> Literal["done", "skipped"]:
        """Show the choices until the account shows the change done or the operator skips it. `is_done`
        re-reads the account; `stand_in` (sandbox only) does it the way the operator would."""
        prompter = self._prompter()
        choices = [WAIT, CHECK_NOW, *([OPEN_PAGE] if change.url else [])]
        choices += [*([SANDBOX_STAND_IN] if stand_in is not None else []), SKIP]
        while True:
            choice = prompter.select(f"{change.summary}:", choices, default=WAIT)
            if choice == SKIP:
                return "skipped"
            if choice == OPEN_PAGE and change.url:
                self.listener.emit(PageOffered(change.url, self._open(change.url)))
                continue
            if choice == SANDBOX_STAND_IN and stand_in is not None:
                stand_in()
            if self._wait_for(change, is_done) if choice == WAIT else is_done():
                self.listener.emit(OperatorDone(change))
                return "done"
            self.listener.emit(OperatorNotYet(change))

    def _open(self, url: str) -> bool:
        try:
            return bool(self.open_url(url))
        except Exception:  # no browser here (a server, a container): the URL is shown instead
            return False

    def _wait_for(self, change: Change, is_done: Callable[[], bool]) -> bool:
        """Re-read the account every POLL_INTERVAL seconds, POLL_CHECKS times; Ctrl-C ends the wait only."""
        try:
            with self.listener.working(f"Waiting for: {change.summary} (Ctrl-C stops waiting)"):
                for _ in range(POLL_CHECKS):
                    if is_done():
                        return True
                    self.sleep(POLL_INTERVAL)
        except Terminated:
            raise
        except KeyboardInterrupt:
            self.listener.emit(StoppedWaiting(change))
            return False
        return is_done()

    # --- an authenticator -------------------------------------------------------------------
    def enroll(self, device: Authenticator, submit: SubmitCodes, tries: int, sandbox: bool) -> bool:
        """The enrollment conversation: QR code, optional key text, two codes, up to `tries` attempts."""
        if not self.interactive:
            raise ChangeSkipped("enrolling an MFA device needs the person with the phone at a terminal "
                                "(run 'aws-harden apply' without --yes)")
        if not self.listener.can_show_secrets():
            raise ChangeSkipped(NO_TERMINAL)
        prompter = self._prompter()
        from wizard import totp

        self.listener.emit(AuthenticatorShown(device))
        choices = [ENTER_CODES, SHOW_KEY, *([SIMULATE] if sandbox else []), CANCEL]
        for attempt in range(1, tries + 1):
            choice = prompter.select("Then:", choices, default=ENTER_CODES)
            while choice == SHOW_KEY:
                self.listener.emit(AuthenticatorKeyShown(device))
                choices = [c for c in choices if c != SHOW_KEY]
                choice = prompter.select("Then:", choices, default=ENTER_CODES)
            if choice == CANCEL:
                return False
            if choice == SIMULATE:
                first, second = totp.consecutive_codes(device.key, time.time())
                self.listener.emit(CodesSimulated())
            else:
                first = prompter.text("First code (6 digits)", validate=totp.code_problem)
                second = prompter.text("Next code (wait for the app to change, then type the new one)",
                                       validate=totp.code_problem)
            with self.listener.working("Checking the codes…"):
                problem = submit(totp.normalise(first), totp.normalise(second))
            if problem is None:
                return True
            self.listener.emit(CodesRefused(problem, tries - attempt))
        return False

    # --- where a secret goes ---------------------------------------------------------------
    def wants_to_see_once(self, description: str) -> bool:
        """At a terminal, the person a secret is for may choose to see it once instead of the keyring."""
        if not (self.interactive and self.listener.can_show_secrets()):  # never on a redirected stdout
            return False
        choice = self._prompter().select(f"Where should the {description} go?", [KEEP, SHOW_HERE], default=KEEP)
        return choice == SHOW_HERE

    def show_secret_once(self, description: str, secret: Secret) -> None:
        """No keyring works: the operator chooses to see the secret once (on a terminal only) or to abort.
        Raises Aborted unless the secret was shown."""
        if not self.interactive:
            raise Aborted(
                f"no working keyring to keep the {description}; install a keyring backend "
                "(see README) or run interactively to choose"
            ) from None
        choices = [SHOW_ONCE, ABORT] if self.listener.can_show_secrets() else [ABORT]  # never a redirected stdout
        if self._prompter().select(f"Where should the {description} go?", choices, default=ABORT) != SHOW_ONCE:
            raise Aborted(f"aborted: no place to keep the {description}") from None
        self.listener.emit(SecretShownOnce(description, secret))
