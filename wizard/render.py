"""Everything the operator sees, drawn with rich. Names from the account are always plain Text,
so a user called `[bold]x` prints literally, and pass through `printable`, so an escape sequence in a
budget name or an error message is shown, not obeyed."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from wizard import events as ev
from wizard import terminal as terminals
from wizard.printable import printable
from wizard.protocol import Action, Change, Finding, Status
from wizard.terminal import can_encode, fit_stream

if TYPE_CHECKING:
    from wizard.controls import ControlResult
    from wizard.outcome import StepOutcome

STATUS_LABEL = {
    Status.COMPLIANT: ("compliant", "green"),
    Status.NONCOMPLIANT: ("not compliant", "red"),
    Status.MANUAL: ("needs the operator", "yellow"),
    Status.ERROR: ("error", "bold red"),
}
CONTROL_STYLE = {"PASS": "green", "FAIL": "red", "MANUAL": "yellow"}
ACTION_STYLE = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red", Action.OPERATOR: "cyan"}


def plan_summary(changes: Sequence[Change]) -> str:
    counts = Counter(c.action for c in changes)
    if not changes:
        return "No changes."
    return (
        f"Plan: {counts[Action.CREATE]} to add, {counts[Action.UPDATE]} to change, "
        f"{counts[Action.DELETE]} to delete, {counts[Action.OPERATOR]} for the operator."
    )


def qr_text(data: str, compact: bool = True) -> str:
    """The terminal drawing of a QR code for `data` (segno picks the smallest version that fits): half
    blocks, two modules a character; `compact=False` draws with ANSI colours, for a terminal whose
    encoding has no block characters."""
    import io

    import segno

    buffer = io.StringIO()
    segno.make(data, error="m", micro=False).terminal(out=buffer, compact=compact, border=2)
    return buffer.getvalue()


class Ui:
    def __init__(
        self,
        out: IO[str] | None = None,
        err: IO[str] | None = None,
        width: int | None = None,
        terminal: Callable[[IO[str]], IO[str] | None] | None = None,
    ) -> None:
        self.out = Console(file=fit_stream(out or sys.stdout), highlight=False, width=width, soft_wrap=False)
        self.err = Console(file=fit_stream(err or sys.stderr), highlight=False, width=width, stderr=True)
        self._open_terminal = terminal
        self._terminal: tuple[IO[str] | None] | None = None

    @property
    def terminal(self) -> IO[str] | None:
        """The terminal secrets are shown on (opened once, when first needed); None when there is none."""
        if self._terminal is None:
            opener = self._open_terminal or terminals.open_terminal
            self._terminal = (opener(self.out.file),)
        return self._terminal[0]

    def secret_line(self, *parts: str | tuple[str, str]) -> None:
        """A line holding a secret: on the terminal only (see open_terminal); the caller checked there is one."""
        terminal = self.terminal
        if terminal is None:
            from wizard.errors import WizardError

            raise WizardError("a secret is shown only on a terminal, and this run has none (stdout is redirected)")
        if terminal is self.out.file:
            self.line(*parts)
            return
        console = Console(file=fit_stream(terminal), highlight=False, width=self.out.width, soft_wrap=False)
        console.print(Text.assemble(*((printable(p[0]), p[1]) if isinstance(p, tuple) else printable(p)
                                      for p in parts)))
        terminal.flush()

    # --- lines -----------------------------------------------------------------------------
    def line(self, *parts: str | tuple[str, str], to_err: bool = False) -> None:
        """Parts are plain strings or (text, style) pairs; never parsed as markup."""
        text = Text()
        for part in parts:
            if isinstance(part, tuple):
                text.append(printable(part[0]), style=part[1])
            else:
                text.append(printable(part))
        (self.err if to_err else self.out).print(text)

    def blank(self) -> None:
        self.out.print()

    def error(self, message: str) -> None:
        self.err.print(Text("aws-harden: error: ", style="bold red") + Text(printable(message)))

    def warn(self, message: str) -> None:
        self.err.print(Text("warning: ", style="yellow") + Text(printable(message)))

    def banner_sandbox(self, where: str, to_err: bool = False) -> None:
        self.line(
            (" SANDBOX ", "bold black on yellow"),
            f" a simulated AWS account on this machine (state in {where}); nothing here touches real AWS.",
            to_err=to_err,
        )

    def context(self, mode: str, caller_arn: str, caller_kind: str, account: str, region: str) -> None:
        self.line(("aws-harden ", "bold"), (mode, "bold cyan"), f"  account {account}  region {region}")
        self.line("  caller ", (caller_arn, "bold"), f" ({caller_kind})")
        if caller_kind == "root":
            self.line(("  You are running as the root user. ", "yellow"), "That is expected on day one; "
                      "the wizard will move you to an IAM admin.")

    @contextmanager
    def working(self, message: str) -> Iterator[None]:
        if self.out.is_terminal:
            spinner = "dots" if self.out.encoding.startswith("utf") else "line"  # braille needs Unicode
            with self.out.status(Text(printable(message)), spinner=spinner):
                yield
        else:
            yield

    # --- steps ---------------------------------------------------------------------------
    def step_header(self, index: int, total: int, step_id: str, title: str) -> None:
        self.blank()
        self.line((f"[{index}/{total}] ", "dim"), (title, "bold"), (f"  ({step_id})", "dim"))

    def findings(self, findings: Sequence[Finding]) -> None:
        for f in findings:
            style = "yellow" if f.severity == "warning" else "dim"
            self.line(("  • " if f.severity == "info" else "  ⚠ ", style), f.text)

    def changes(self, changes: Sequence[Change]) -> None:
        for change in changes:
            style = ACTION_STYLE[change.action]
            self.line(f"  {change.action.value} ", (change.resource, style), ("  " + change.summary, "dim"))
            for f in change.fields:
                if change.action is Action.UPDATE:
                    self.line(f"      ~ {f.name}: ", f.shown(f.old), " -> ", (f.shown(f.new), style))
                elif change.action is Action.DELETE:
                    self.line(f"      {f.name} = ", (f.shown(f.old), style))
                else:
                    self.line(f"      {f.name} = ", (f.shown(f.new), style))
            for step_text in change.instructions:
                self.line("      ", (step_text, "cyan"))
            if change.url:
                self.line("      ", (change.url, "underline cyan"))

    def plan(self, outcomes: Sequence[StepOutcome]) -> None:
        everything: list[Change] = []
        for o in outcomes:
            self.blank()
            self.line(("# ", "dim"), (o.step_id, "bold"), (f"  {o.title}", "dim"))
            if o.status is Status.ERROR:
                self.line(("  error: ", "bold red"), o.reason)
                continue
            self.findings(o.findings)
            if not o.changes:
                self.line(("  no changes: ", "green"), o.reason)
            self.changes(o.changes)
            everything.extend(o.changes)
        self.blank()
        self.line((plan_summary(everything), "bold"))

    def check_table(self, outcomes: Sequence[StepOutcome]) -> None:
        table = Table(show_lines=False, expand=False)
        table.add_column("step")
        table.add_column("status")
        table.add_column("why")
        for o in outcomes:
            label, style = STATUS_LABEL[o.status]
            table.add_row(Text(printable(o.step_id)), Text(label, style=style), Text(printable(o.reason)))
        self.out.print(table)

    def controls_summary(self, results: Sequence[ControlResult]) -> None:
        """One line of counts, then every control that does not pass, with its failing resources."""
        counts = Counter(r.status for r in results)
        self.blank()
        self.line(("Controls ", "bold"), f"(whole account, {len(results)}): ",
                  (f"{counts['PASS']} PASS", "green"), " / ", (f"{counts['FAIL']} FAIL", "red"), " / ",
                  (f"{counts['MANUAL']} MANUAL", "yellow"))
        for r in results:
            if r.status == "PASS":
                continue
            by = (f"aws-harden apply --only {','.join(r.remediated_by)}" if r.remediated_by
                  else "no step remediates it")
            self.line(("  " + r.status + " ", CONTROL_STYLE[r.status]), (r.control.id, "bold"), (f"  ({by})", "dim"))
            for v in r.failures:
                self.line("      ", v.resource, ": ", v.reason)
                if v.fix and not r.remediated_by:
                    self.line("        fix: ", (v.fix, "dim"))

    def summary(self, outcomes: Sequence[StepOutcome], outputs: Sequence[tuple[str, str]]) -> None:
        self.blank()
        self.line(("Summary", "bold"))
        self.check_table(outcomes)
        for name, value in outputs:
            self.line(f"  {name}: ", (value, "bold"))
        pending = [o for o in outcomes if o.status is not Status.COMPLIANT]
        if pending:
            self.line(("Still to do: ", "yellow"), ", ".join(o.step_id for o in pending),
                      ". Run 'aws-harden apply' again to continue; 'aws-harden check' shows the state.")
        elif unread := [o.step_id for o in outcomes if not o.verified]:
            self.line(("Every selected step is compliant; ", "green"),
                      f"{', '.join(unread)} could not be read back (this run's credentials are gone): "
                      "run 'aws-harden check' as the new identity.")
        else:
            self.line(("Every selected step is compliant and verified.", "green"))

    # --- authenticator enrollment ---------------------------------------------------------
    def qr(self, data: str) -> None:
        """A QR code drawn with half blocks (two modules per character row), light on dark like a
        terminal; authenticator apps read both polarities. `data` holds a seed: it is drawn, never echoed,
        and only on the terminal."""
        terminal = self.terminal
        if terminal is None:
            from wizard.errors import WizardError

            raise WizardError("a QR code is shown only on a terminal, and this run has none (stdout is redirected)")
        terminal.write(qr_text(data, compact=can_encode(terminal, "\u2580\u2584\u2588")))
        terminal.flush()

    def json(self, payload: dict[str, Any]) -> None:
        self.out.file.write(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")
        self.out.file.flush()


SANDBOX_LABEL = ("  SANDBOX ", "bold black on yellow")


class Renderer:
    """The engine's listener in a run: each event drawn as one or more lines on the Ui (secrets on the
    terminal only)."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui

    def working(self, message: str) -> AbstractContextManager[None]:
        return self.ui.working(message)

    def can_show_secrets(self) -> bool:
        return self.ui.terminal is not None

    def emit(self, event: ev.Event) -> None:
        ui = self.ui
        match event:
            case ev.Warned(text):
                ui.warn(text)
            case ev.StepStarted(index, total, step_id, title):
                ui.step_header(index, total, step_id, title)
            case ev.FindingsRead(findings):
                ui.findings(findings)
            case ev.AlreadyCompliant():
                ui.line(("  ✓ already compliant", "green"), " — nothing to change")
            case ev.ChangesPlanned(changes):
                ui.changes(changes)
            case ev.ChangeWaiting(change):
                ui.line(("  – waits ", "yellow"), change.resource, f": {change.waits_for}")
            case ev.ConfirmationAsked(change):
                ui.line("  ", (f"{change.action.value} {change.resource}", ACTION_STYLE[change.action]),
                        ("  " + change.summary, "dim"))
            case ev.ConfirmedByAnswers(key, value, expected):
                said = f"names {expected}" if isinstance(value, list) else f"= {value}"
                ui.line(("  confirmed by the answers file: ", "dim"), f"{key} {said}")
            case ev.ChangeRefused(change, reason, adoption):
                if adoption:
                    ui.line(("  – refused ", "yellow"), change.resource, f": {reason}")
                else:
                    ui.line(("  – left as it is: ", "yellow"), reason)
            case ev.ChangeApplied(change):
                ui.line((f"  ✓ {change.action.value} ", "green"), change.resource)
            case ev.ChangeNotMade(change, reason):
                ui.line(("  – skipped ", "yellow"), change.resource, f": {reason}")
            case ev.Verified():
                ui.line(("  ✓ verified", "green"))
            case ev.LastChangeStarted(step_id):
                ui.blank()
                ui.line(("Last: ", "bold"), f"{step_id} ")
            case ev.AlreadyDone(change):
                ui.line(("  ✓ already done", "green"), f": {change.resource}")
            case ev.LeftPending(_, reason):
                ui.line(("  left pending: ", "yellow"), reason)
            case ev.RunFinished(outcomes, outputs):
                ui.summary(outcomes, outputs)
            case ev.PageOffered(url, opened):
                said = "opened in your browser: " if opened else "could not start a browser; open: "
                ui.line("  ", said, (url, "underline cyan"))
            case ev.SandboxStoodIn(change):
                ui.line(SANDBOX_LABEL, f" stood in for the console: {change.summary}")
            case ev.OperatorDone():
                ui.line(("  ✓ done", "green"))
            case ev.OperatorNotYet():
                ui.line(("  not yet: ", "yellow"), "the account does not show it done yet.")
            case ev.StoppedWaiting():
                ui.line(("  stopped waiting", "yellow"))
            case ev.AuthenticatorShown(device):
                ui.blank()
                ui.line("  Add ", (device.label, "bold"), " to your authenticator app: scan this QR code.")
                ui.qr(device.uri.reveal())
            case ev.AuthenticatorKeyShown(device):
                key = device.key.reveal()
                grouped = " ".join(key[i:i + 4] for i in range(0, len(key), 4))
                ui.secret_line("  secret key (type it into the app as a time-based key):")
                ui.secret_line("    ", (grouped, "bold"))
            case ev.CodesSimulated():
                ui.line(SANDBOX_LABEL, " simulated app: 2 codes typed")
            case ev.CodesRefused(problem, left):
                ui.line(("  ✗ ", "red"), problem, (f"  ({left} {'try' if left == 1 else 'tries'} left)", "dim"))
            case ev.SecretShownOnce(description, secret):
                ui.secret_line(f"  {description}: ", (secret.reveal(), "bold"), "   (shown once; it is not stored)")
            case _:
                raise TypeError(f"no drawing for {type(event).__name__}")
