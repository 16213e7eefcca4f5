"""What the operator sees: account text is never markup, plans read like Terraform's."""

from __future__ import annotations

import io

from steps.admin_user import CreateUser
from steps.root_mfa import AssignRootMfa
from wizard.outcome import StepOutcome
from wizard.protocol import Action, Change, FieldChange, Finding, Status
from wizard.render import Ui, plan_summary


def render(draw: object) -> str:
    out = io.StringIO()
    ui = Ui(out=out, err=out, width=100)
    draw(ui)  # type: ignore[operator]
    return out.getvalue()


def test_markup_in_names_prints_literally() -> None:
    change = Change(Action.CREATE, CreateUser("x"), 'iam user "[bold]x"', "create [red]y[/red]",
                    fields=(FieldChange("name", None, "[bold]x"),))
    outcome = StepOutcome("admin-user", "t", Status.NONCOMPLIANT, "[bold]why", [Finding("[i]found")], [change])
    text = render(lambda ui: (ui.plan([outcome]), ui.check_table([outcome]), ui.error("[bold]oops")))
    for literal in ('"[bold]x"', "create [red]y[/red]", "name = [bold]x", "[i]found", "[bold]why", "[bold]oops"):
        assert literal in text


def test_plan_symbols_and_update_diff() -> None:
    changes = [
        Change(Action.CREATE, CreateUser("x"), "thing one", "s"),
        Change(Action.UPDATE, CreateUser("x"), "thing two", "s", fields=(FieldChange("min_length", 8, 14),)),
        Change(Action.DELETE, CreateUser("x"), "thing three", "s"),
        Change(Action.OPERATOR, AssignRootMfa(), "thing four", "s", instructions=("Sign in as root",)),
    ]
    outcome = StepOutcome("x", "t", Status.NONCOMPLIANT, "r", [], changes)
    text = render(lambda ui: ui.plan([outcome]))
    assert "  + thing one" in text and "  ~ thing two" in text and "~ min_length: 8 -> 14" in text
    assert "  - thing three" in text and "  ! thing four" in text and "Sign in as root" in text
    assert "Plan: 1 to add, 1 to change, 1 to delete, 1 for the operator." in text


def test_sensitive_field_is_shown_as_such() -> None:
    change = Change(Action.CREATE, CreateUser("x"), "r", "s",
                    fields=(FieldChange("password", None, "hunter2", sensitive=True),))
    text = render(lambda ui: ui.changes([change]))
    assert "hunter2" not in text and "password = (sensitive value)" in text


def test_no_changes_summary() -> None:
    assert plan_summary([]) == "No changes."


def test_narrow_terminal_still_renders() -> None:
    change = Change(Action.CREATE, CreateUser("x"), 'iam user "admin"', "create IAM user admin")
    outcome = StepOutcome("admin-user", "t", Status.NONCOMPLIANT, "r", [], [change])
    out = io.StringIO()
    ui = Ui(out=out, err=out, width=20)
    ui.plan([outcome])
    ui.check_table([outcome])
    assert "Plan: 1 to add" in " ".join(out.getvalue().split())


def test_warnings_in_the_table_are_their_first_clause() -> None:
    from wizard.outcome import reason_of

    long = Finding(
        "cannot verify IAM user and role access to billing information (root-only console setting, no API): "
        "as root, Account > Activate",
        severity="warning",
    )
    assert reason_of([], [long]) == "compliant (warning: cannot verify IAM user and role access to billing information)"
    assert reason_of([], [Finding("fine")]) == "compliant"
