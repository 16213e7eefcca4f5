"""The seams between the engine (flow), the conversations with the operator, the drawing, and the building
of a run; and the test harness that drives a run whole (tests/harness.py)."""

from __future__ import annotations

import dataclasses
import io
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest

import steps
from steps.admin_user import CreateUser
from tests import faults, harness
from tests.conftest import Account
from tests.test_import_graph import import_graph
from wizard import events as ev
from wizard.answers import AnswerBook
from wizard.cli import build_parser
from wizard.engine import Engine
from wizard.interaction import Interaction
from wizard.protocol import Action, Change
from wizard.render import Renderer, Ui
from wizard.run import RunConfig


class Recorder:
    """A listener that keeps the events and draws nothing."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self.working_on: list[str] = []

    def emit(self, event: ev.Event) -> None:
        self.events.append(event)

    def working(self, message: str) -> AbstractContextManager[None]:
        self.working_on.append(message)
        return nullcontext()

    def can_show_secrets(self) -> bool:
        return False


def password_policy() -> list[object]:
    return [s for s in steps.available() if s.id == "password-policy"]


# --- 1. the engine emits, the UI draws --------------------------------------------------------
def test_the_engine_emits_what_happens_and_draws_nothing(account: Account) -> None:
    chosen = password_policy()
    recorder = Recorder()
    engine = Engine(account.aws(), chosen, AnswerBook({}, chosen), recorder, Interaction(None, recorder, yes=True))
    outcomes = engine.apply()
    kinds = [type(e).__name__ for e in recorder.events]
    assert kinds == ["StepStarted", "FindingsRead", "ChangesPlanned", "ChangeApplied", "Verified", "RunFinished"]
    started, planned, applied = recorder.events[0], recorder.events[2], recorder.events[3]
    assert isinstance(started, ev.StepStarted) and (started.index, started.total) == (1, 1)
    assert isinstance(planned, ev.ChangesPlanned) and isinstance(applied, ev.ChangeApplied)
    assert applied.change in planned.changes and applied.change.action is Action.CREATE
    assert recorder.working_on == ["Reading password-policy…", f"+ {applied.change.resource}"]
    assert outcomes[0].status.value == "compliant"

    # The same events drawn: the lines an operator reads.
    out = io.StringIO()
    renderer = Renderer(Ui(out=out, err=out, width=120))
    for event in recorder.events:
        renderer.emit(event)
    text = out.getvalue()
    assert "[1/1] " in text and f"  ✓ + {applied.change.resource}" in text and "  ✓ verified" in text
    assert "Every selected step is compliant and verified." in text


def test_an_event_with_no_drawing_is_an_error_not_silence() -> None:
    with pytest.raises(TypeError, match="no drawing for Event"):
        Renderer(Ui(out=io.StringIO(), err=io.StringIO())).emit(ev.Event())


def test_every_event_has_its_drawing() -> None:
    """Each event kind is drawn without error (one example of each, secrets excepted: they need a terminal)."""
    change = Change(Action.CREATE, CreateUser("thing"), "thing", "make a thing", url="https://example.com/")
    examples = {
        ev.Warned: ev.Warned("careful"), ev.StepStarted: ev.StepStarted(1, 2, "s", "Title"),
        ev.FindingsRead: ev.FindingsRead([]), ev.AlreadyCompliant: ev.AlreadyCompliant("s"),
        ev.ChangesPlanned: ev.ChangesPlanned([change]), ev.ChangeWaiting: ev.ChangeWaiting(change),
        ev.ConfirmationAsked: ev.ConfirmationAsked(change), ev.ConfirmedByAnswers: ev.ConfirmedByAnswers("k", "v", "v"),
        ev.ChangeRefused: ev.ChangeRefused(change, "declined"), ev.ChangeApplied: ev.ChangeApplied(change),
        ev.ChangeNotMade: ev.ChangeNotMade(change, "later"), ev.Verified: ev.Verified("s"),
        ev.LastChangeStarted: ev.LastChangeStarted("s"), ev.AlreadyDone: ev.AlreadyDone(change),
        ev.LeftPending: ev.LeftPending(change, "waits"), ev.RunFinished: ev.RunFinished([], []),
        ev.PageOffered: ev.PageOffered("https://example.com/", False), ev.SandboxStoodIn: ev.SandboxStoodIn(change),
        ev.OperatorDone: ev.OperatorDone(change), ev.OperatorNotYet: ev.OperatorNotYet(change),
        ev.StoppedWaiting: ev.StoppedWaiting(change), ev.CodesSimulated: ev.CodesSimulated(),
        ev.CodesRefused: ev.CodesRefused("wrong code", 1),
    }
    secret_kinds = {ev.AuthenticatorShown, ev.AuthenticatorKeyShown, ev.SecretShownOnce}
    every = {c for c in vars(ev).values() if isinstance(c, type) and issubclass(c, ev.Event) and c is not ev.Event}
    assert every == set(examples) | secret_kinds
    out = io.StringIO()
    renderer = Renderer(Ui(out=out, err=out, width=120))
    for event in examples.values():
        renderer.emit(event)
    assert "  ✗ wrong code  (1 try left)" in out.getvalue()


def test_engine_is_flow_only() -> None:
    """engine.py neither draws nor prompts: no rich, no render, no questionary; the conversations are
    wizard/interaction.py's."""
    graph = import_graph()
    assert not {"wizard.render", "wizard.prompts", "wizard.terminal"} & graph["wizard.engine"]
    assert "wizard.render" not in graph["wizard.interaction"]
    source = (Path(__file__).parent.parent / "wizard" / "engine.py").read_text()
    for drawing in ("rich", "self.ui", "prompter.", "print("):
        assert drawing not in source, drawing


# --- 3. a typed run configuration -------------------------------------------------------------
def test_the_run_configuration_is_the_parsers_options_typed_and_frozen() -> None:
    parser = build_parser()
    dests = {a.dest for a in parser._actions if a.dest not in ("help", "version")}
    assert dests == {f.name for f in dataclasses.fields(RunConfig)}
    config = RunConfig(**vars(parser.parse_args(["check", "--only", "password-policy", "--answers", "a.toml"])))
    assert config.read_only and config.text and config.answers == Path("a.toml") and not config.in_sandbox
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.command = "apply"  # type: ignore[misc]


def test_a_run_builds_one_aws_layer_in_one_place(account: Account) -> None:
    result = harness.run("check", "--only", "password-policy", stdin="pipe")
    assert result.code == 2, result.text
    (aws,) = result.aws
    assert aws.guard.locked and aws.read_cache is not None and aws.guard.sent_writes == []


# --- 4. one harness, one keyed operator -------------------------------------------------------
def test_the_script_answers_by_prompt_or_by_question_key() -> None:
    script = harness.Script(["positional"], keyed={"admin-user.name": ["bad name!", "ops"], "Apply ": True})
    name = "Name of the IAM admin user"
    assert script.text(name, validate=lambda v: None if v.isalnum() else "letters only") == "ops"
    assert script.rejected == [("bad name!", "letters only")]
    assert script.confirm("Apply 3 changes for x?") and script.confirm("Apply 1 change for y?")  # every time
    assert script.text("Something else") == "positional"
    with pytest.raises(EOFError):
        script.text(name)  # the keyed list is used up and so are the positional answers
    assert script.asked == [name, name, "Apply 3 changes for x?", "Apply 1 change for y?", "Something else", name]


def test_a_keyed_run_applies_what_it_was_told(account: Account) -> None:
    result = harness.run("apply", "--only", "password-policy",
                         answers={"password-policy.max_age": "90", "Apply 1 change for password-policy?": True})
    assert result.code == 0, result.text
    assert len(result.asked) == 2 and result.asked[0].startswith("Maximum password age in days")
    assert result.asked[1] == "Apply 1 change for password-policy?"
    assert "Every selected step is compliant and verified." in result.out
    (aws,) = result.aws
    assert [w.split(":")[1] for w in aws.guard.sent_writes] == ["UpdateAccountPasswordPolicy"]


def test_a_run_keeps_each_request_with_the_change_it_was_sent_for(account: Account) -> None:
    """Result.sent: every request attempt, write or read, with the step and change being applied; `on_send` may
    answer one (a fault); `on_client` sees every client; the journal entries the run added come with it."""
    clients: list[str] = []
    result = harness.run("apply", "--yes", "--only", "password-policy", stdin="pipe",
                         on_client=lambda client, service, region: clients.append(service))
    assert result.code == 0, result.text
    assert [s for s in result.sent if s.is_write] == [
        harness.Sent("iam:UpdateAccountPasswordPolicy", True, "password-policy", "account password policy")]
    assert harness.Sent("iam:GetAccountPasswordPolicy", False) in result.sent  # inspecting: outside a change
    assert result.writes == ["iam:UpdateAccountPasswordPolicy"] and "UpdateAccountPasswordPolicy" in result.operations
    assert "iam" in clients and "sts" in clients
    assert [(e["result"], e["change"]["resource"]) for e in result.journal if "change" in e] == [
        ("started", "account password policy"), ("ok", "account password policy")]

    def refuse(sent: harness.Sent, request: object, client: object) -> object:
        return faults.answer("access-denied", client.meta.service_model, request) if sent.is_write else None  # type: ignore[attr-defined]

    account.raw("iam").delete_account_password_policy()
    refused = harness.run("apply", "--yes", "--only", "password-policy", stdin="pipe", on_send=refuse)
    assert refused.code == 1 and "UpdateAccountPasswordPolicy failed: AccessDenied" in refused.err, refused.text
    assert [(e["result"], e["change"]["resource"]) for e in refused.journal if "change" in e] == [
        ("started", "account password policy"), ("failed", "account password policy")]


# Modules that start the real program as a process (nothing in-process to share), each with why it may.
PROCESSES = {
    "tests/test_startup.py": "a fresh interpreter's probe of what the light commands import (the harness imports more)",
    "tests/test_leak_guard.py": "a nested pytest whose module writes a secret into the program's own stdout stream",
}


def sources() -> dict[str, str]:
    root = Path(__file__).resolve().parent.parent
    paths = sorted((root / "tests").rglob("*.py")) + sorted((root / "benchmarks").rglob("*.py"))
    return {str(p.relative_to(root)): p.read_text() for p in paths if p != root / "tests" / "harness.py"}


def test_no_test_has_a_runner_or_an_operator_of_its_own() -> None:
    """tests/harness.py is the one way the program runs in-process: nowhere else is an Environment built or
    wizard.cli's main called, and the Script is the only operator (no other Prompter, nothing else with a
    prompter's confirm and select). Real processes (pexpect, subprocess) are the allow-listed exceptions."""
    import ast
    import re

    own_runs = re.compile(r"\bEnvironment\(|from wizard\.cli import [^\n]*\bmain\b|\bcli\.main\b|harness\.main\b")
    found: list[str] = []
    for path, text in sources().items():
        if path not in PROCESSES:
            found += [f"{path}: {m.group(0)}" for m in own_runs.finditer(text)]
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.ClassDef):
                continue
            methods = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
            bases = [ast.unparse(base) for base in node.bases]
            if {"confirm", "select"} <= methods or any(b.endswith(("Prompter", "Script")) for b in bases):
                found.append(f"{path}: class {node.name}")
    assert found == []
    for path in PROCESSES:  # an exception that no longer runs the program in-process is taken off the list
        assert own_runs.search(sources()[path]), path
