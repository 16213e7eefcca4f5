"""What the operator sees of an organization run: the progress while accounts are read, the accounts x steps
table, the accounts that could not be checked, and the summary line. Names from AWS are always plain Text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from rich import box
from rich.table import Table
from rich.text import Text

from wizard.fanout import AccountRun, FanOut, Progress
from wizard.org_report import STATUS_WORDS, account_words, summary_line
from wizard.protocol import Action, Status
from wizard.render import Ui

CELL = {
    Status.COMPLIANT: ("ok", "✓", "green"),
    Status.NONCOMPLIANT: ("NOT", "✗", "red"),
    Status.MANUAL: ("operator", "!", "yellow"),
    Status.ERROR: ("error", "E", "bold red"),
}
ACCOUNT_STYLE = {"compliant": "green", "noncompliant": "red", "error": "bold red", "unassumable": "bold red"}
LEGEND = "✓ compliant  ✗ not compliant  ! needs the operator  E error  — not run in this account"


@contextmanager
def progress(ui: Ui, show: bool, what: str) -> Iterator[Progress | None]:
    """"Checking accounts: 37/100 done, 2 errors" on a terminal, redrawn as accounts finish; nothing otherwise."""
    if not show or not ui.out.is_terminal:
        yield None
        return
    with ui.out.status(Text(f"{what}…"), spinner="dots") as status:
        def update(done: int, total: int, errors: int) -> None:
            status.update(Text(progress_text(what, done, total, errors)))

        yield update


def progress_text(what: str, done: int, total: int, errors: int) -> str:
    return f"{what}: {done}/{total} done, {errors} error{'s' if errors != 1 else ''}"


def step_cell(run: AccountRun, step_id: str, command: str, compact: bool) -> Text:
    if any(s.step_id == step_id for s in run.skipped) and (run.check is not None or run.outcomes):
        return Text("—", style="dim")
    outcomes = run.check.outcomes if run.check is not None else run.outcomes
    outcome = next((o for o in outcomes if o.step_id == step_id), None)
    if outcome is None:
        return Text("")
    if command == "plan" and outcome.status is not Status.ERROR:
        counts = Counter(c.action for c in outcome.changes)
        if not counts:
            return Text("·" if compact else "no changes", style="green")
        return Text(("" if compact else " ").join(f"{a.value}{counts[a]}" for a in Action if counts[a]),
                    style="yellow")
    word, symbol, style = CELL[outcome.status]
    return Text(symbol if compact else word, style=style)


def controls_cell(run: AccountRun) -> Text:
    if run.check is None:
        return Text("")
    counts = run.check.report["controls_summary"]
    style = "red" if counts["FAIL"] else ("yellow" if counts["MANUAL"] else "green")
    return Text(f"{counts['PASS']}/{counts['FAIL']}/{counts['MANUAL']}", style=style)


def table(ui: Ui, fanout: FanOut, step_ids: list[str]) -> None:
    """Accounts down, steps across; on a narrow terminal the steps are numbered and the cells are symbols."""
    wide = 14 + 15 + 15 + sum(len(s) + 1 for s in step_ids) <= ui.out.width
    grid = Table(title=f"organization {fanout.organization.id}: {fanout.command}", box=box.SIMPLE_HEAD,
                 collapse_padding=True, pad_edge=False, expand=False)
    grid.add_column("account", no_wrap=True, min_width=12)
    grid.add_column("status", no_wrap=True)
    for number, step_id in enumerate(step_ids, start=1):
        grid.add_column(step_id if wide else str(number), justify="left" if wide else "center")
    if fanout.command != "apply":
        grid.add_column("controls\nP/F/M", no_wrap=True)
    words = account_words(fanout.command)
    for run in fanout.runs:
        name = Text(run.account.id) + Text(f"\n{run.account.name}", style="dim")
        if run.account.management:
            name += Text("\n(management)", style="dim")
        status = Text(words[run.status], style=ACCOUNT_STYLE[run.status])
        cells = [step_cell(run, s, fanout.command, compact=not wide) for s in step_ids]
        grid.add_row(name, status, *cells, *([controls_cell(run)] if fanout.command != "apply" else []))
    ui.out.print(grid)
    if not wide:
        ui.line(("  steps: ", "dim"), "  ".join(f"{n} {s}" for n, s in enumerate(step_ids, start=1)))
        if fanout.command != "plan":
            ui.line(("  ", "dim"), (LEGEND, "dim"))
    if any(r.skipped for r in fanout.runs):
        reasons = sorted({f"{s.step_id}: {s.reason}" for r in fanout.runs for s in r.skipped})
        ui.line(("  — not run in member accounts: ", "dim"), "; ".join(reasons))


def problems(ui: Ui, fanout: FanOut) -> None:
    """Every account that could not be checked whole, with its one-line reason."""
    for run in fanout.runs:
        if run.status in ("error", "unassumable"):
            ui.line(("  " + STATUS_WORDS[run.status] + " ", ACCOUNT_STYLE[run.status]), run.account.label(), ": ",
                    run.reason)
        elif run.check is not None:
            for outcome in run.check.outcomes:
                if outcome.status is Status.ERROR:
                    ui.line(("  error ", ACCOUNT_STYLE["error"]), run.account.label(), ": ", outcome.reason)


def plan_lines(ui: Ui, fanout: FanOut) -> None:
    """The changes each account would get, one line each (the whole plan of one account: --accounts ID)."""
    for run in fanout.runs:
        if run.check is None:
            continue
        changes = [(o.step_id, c) for o in run.check.outcomes for c in o.changes]
        if not changes:
            continue
        ui.blank()
        ui.line(("# ", "dim"), (run.account.label(), "bold"))
        for step_id, change in changes:
            ui.line(f"  {change.action.value} ", change.resource, ("  " + change.summary, "dim"),
                    (f"  ({step_id})", "dim"))


def summary(ui: Ui, fanout: FanOut) -> None:
    style = {0: "green", 2: "yellow"}.get(fanout.exit_code, "red")
    ui.blank()
    ui.line((summary_line(fanout), f"bold {style}"))
