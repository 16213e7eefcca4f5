"""The one way tests run the whole program: `run(*args, answers=..., stdin=..., width=...)` returns a Result
(exit code, stdout, stderr, the AWS layers the run made, every request it sent and the change it belonged to,
the journal entries it added, the prompts asked), with the operator played by a Script (answers by position,
or keyed by prompt text or by question key). `spawn` starts the real program in a pseudo-terminal instead.

The seams tests need live here, not in the product: the Script is a Prompter; the AWS layers a run makes
are seen by wrapping wizard/run.py's build_aws (the run's own) and wizard/organization.py's account_sessions
(an organization's accounts), which are the only places a run makes them; each of their clients is then
seen through the layer's client hook (after the product's own, the sandbox's); the change being applied is
read off the journal's "started" entries.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import wizard.cli
import wizard.run
from wizard.prompts import Validator

if TYPE_CHECKING:
    import pexpect
    import pytest

    from wizard.protocol import Change
    from wizard.secrets import Secret

ROOT = Path(__file__).resolve().parent.parent
Observer = Callable[[Any], None]
# Called for every client an Aws of the run makes: (client, service, region), e.g. to register a botocore handler.
ClientHook = Callable[[Any, str, str], None]


@dataclass(frozen=True)
class Sent:
    """One request a run sent to AWS (each botocore retry is one more), and the change it was sent for."""

    operation: str  # "service:Operation"
    is_write: bool  # not one of the reads the run's write guard lets through
    step: str = ""  # the step whose change was being applied ("" outside a change: inspecting, verifying)
    change: str = ""  # that change's resource


# (sent, request, client) -> an answer for this attempt instead of AWS's (a fault, tests/faults.py), or None.
OnSend = Callable[[Sent, Any, Any], Any]


# --- seeing the AWS layers a run makes ---------------------------------------------------------
@contextmanager
def observing(observer: Observer | None) -> Iterator[None]:
    """Call `observer` with every Aws a run makes (its own first, then each organization account's), right
    after it is made and before any client (run gives it its client hook there, and keeps it in Result.aws)."""
    if observer is None:
        yield
        return
    import wizard.organization

    build_aws, account_sessions = wizard.run.build_aws, wizard.organization.account_sessions

    def observed_build(*args: Any, **kwargs: Any) -> Any:
        aws = build_aws(*args, **kwargs)
        observer(aws)
        return aws

    def observed_sessions(*args: Any, **kwargs: Any) -> Any:
        open_account = account_sessions(*args, **kwargs)

        def open_observed(account: Any) -> Any:
            aws = open_account(account)
            observer(aws)
            return aws

        return open_observed

    wizard.run.build_aws = observed_build  # type: ignore[assignment]
    wizard.organization.account_sessions = observed_sessions  # type: ignore[assignment]
    try:
        yield
    finally:
        wizard.run.build_aws = build_aws  # type: ignore[assignment]
        wizard.organization.account_sessions = account_sessions  # type: ignore[assignment]


@contextmanager
def tracking_changes(current: list[tuple[str, str]]) -> Iterator[None]:
    """Keep `current` holding the (step, resource) of the change being applied, read off the journal: a
    "started" entry opens a change, its result (ok, failed, interrupted ...) closes it."""
    from wizard.journal import Journal

    original = Journal.record

    def record(journal: Journal, step: str, result: str, change: Change | None = None, detail: str = "",
               **extra: str) -> None:
        if change is not None:
            current[:] = [(step, change.resource)] if result == "started" else []
        original(journal, step, result, change, detail, **extra)

    Journal.record = record  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        Journal.record = original  # type: ignore[method-assign]


class _Hook:
    """The client hook the harness gives an Aws: the product's own first (the sandbox's), then the recording
    of what is sent (and `on_send`'s answer), then the test's `on_client`."""

    def __init__(self, inner: ClientHook | None, aws: Any, result: Result, current: list[tuple[str, str]],
                 on_client: ClientHook | None, on_send: OnSend | None) -> None:
        self.inner, self.aws, self.result, self.current = inner, aws, result, current
        self.on_client, self.on_send = on_client, on_send

    def __call__(self, client: Any, service: str, region: str) -> None:
        if self.inner is not None:
            self.inner(client, service, region)
        result, aws, current, on_send = self.result, self.aws, self.current, self.on_send

        def before_send(request: Any, event_name: str, **_: Any) -> Any:
            operation = f"{client.meta.service_model.service_name}:{event_name.rsplit('.', 1)[-1]}"
            step, change = current[0] if current else ("", "")
            sent = Sent(operation, not aws.guard.is_read(operation), step, change)
            result.sent.append(sent)
            return on_send(sent, request, client) if on_send is not None else None

        # As specific as the billing stand-in's handler (a more specific event name is called first).
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register_first(f"before-send.{service_id}", before_send)
        client.meta.events.register("before-call", lambda model, **_: result.operations.append(model.name))
        if self.on_client is not None:
            self.on_client(client, service, region)


# --- the operator -------------------------------------------------------------------------------
class Script:
    """The operator, answering through the real Prompter interface, each answer checked as a person's is.

    `keyed` answers a prompt by its text (any part of the message) or by a question's key ("admin-user.name":
    the prompt of that step's question), the first key that matches; a list there is used up in order, a single
    value answers every time; the key "" matches every prompt (last, the answer to all others). Other prompts
    take `answers` in order. An answer of None takes the prompt's default; KeyboardInterrupt (the class)
    presses Ctrl-C there; a callable is called with the message (e.g. to read a key id out of it, or a code off
    the phone) and its result is the answer. A select's answer is a choice, or a part of one (the first
    offered); the choices each select offered are kept in `offered`. A text answer that fails validation is
    recorded in `rejected` and the next one is tried, as a person would retype it. Running out is EOFError,
    like a closed stdin; a choice that is not offered, or a text refused again and again, is an AssertionError.
    """

    RETYPES = 20  # a person gives up retyping long before this: the script's answer can never pass

    def __init__(self, answers: Iterable[object] = (), keyed: Mapping[str, object] | None = None) -> None:
        self.answers: deque[object] = deque(answers)
        self.keyed: dict[str, object] = {}
        self.asked: list[str] = []
        self.rejected: list[tuple[str, str]] = []
        self.offered: list[list[str]] = []
        for key, value in (keyed or {}).items():
            self.keyed[key] = deque(value) if isinstance(value, list) else value

    def _keyed(self, message: str) -> tuple[bool, object]:
        for key, value in self.keyed.items():
            if not matches(key, message):
                continue
            if not isinstance(value, deque):
                return True, value
            if value:
                return True, value.popleft()
        return False, None

    def _next(self, message: str) -> object:
        self.asked.append(message)
        found, answer = self._keyed(message)
        if not found:
            if not self.answers:
                raise EOFError(f"no scripted answer for: {message}")
            answer = self.answers.popleft()
        if answer is KeyboardInterrupt:
            raise KeyboardInterrupt
        return answer(message) if callable(answer) else answer

    def text(self, message: str, default: str = "", validate: Validator | None = None) -> str:
        for _ in range(self.RETYPES):
            answer = self._next(message)
            value = default if answer is None else str(answer)
            problem = validate(value) if validate else None
            if problem is None:
                return value
            self.rejected.append((value, problem))
        raise AssertionError(f"every scripted answer to {message!r} was refused: {self.rejected[-1]}")

    def confirm(self, message: str, default: bool = False) -> bool:
        answer = self._next(message)
        return default if answer is None else bool(answer)

    def select(self, message: str, choices: Sequence[str], default: str | None = None) -> str:
        self.offered.append(list(choices))
        answer = self._next(message)
        if answer is None and default is not None:
            return default
        if answer in choices:
            return str(answer)
        containing = [c for c in choices if str(answer) in c]
        if not containing:
            raise AssertionError(f"scripted answer {answer!r} is not one of {list(choices)} for {message}")
        return containing[0]


def matches(key: str, message: str) -> bool:
    """A key names a prompt by its text, a part of its text, or "step-id.question_key"."""
    if key in message:
        return True
    step_id, dot, question_key = key.partition(".")
    if not dot:
        return False
    import steps

    for step in steps.available() + steps.organization_steps():
        if step.id == step_id:
            return any(q.key == question_key and message.startswith(q.prompt) for q in step.questions())
    return False


# --- the operator's phone -----------------------------------------------------------------------
class Phone:
    """The operator's authenticator app: it learns the seed of the device being enrolled where the step
    unwraps AWS's answer (as the app would read it off the QR code)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from wizard import totp

        self.seeds: list[Secret] = []
        original = totp.seed_of

        def capture(device: Any) -> Secret:
            seed = original(device)
            self.seeds.append(seed)
            return seed

        monkeypatch.setattr(totp, "seed_of", capture)

    def code(self, offset: int = 0) -> str:
        """The code of the last device enrolled: offset -1 the previous one, 0 the one showing now."""
        from wizard import totp

        return totp.code_at(self.seeds[-1], totp.counter_at(time.time()) + offset)

    def typed(self, offset: int) -> Callable[[str], str]:
        """A Script answer: the code read off the app when its prompt comes."""
        return lambda message: self.code(offset)

    def codes(self) -> list[Callable[[str], str]]:
        """The two consecutive codes an enrollment asks for, as Script answers."""
        return [self.typed(-1), self.typed(0)]


# --- one run -----------------------------------------------------------------------------------
@dataclass
class Result:
    code: int
    out: str
    err: str
    prompter: Script | None = None  # the Script, when anything could be asked
    aws: list[Any] = field(default_factory=list)  # every Aws the run made, in order (see observing)
    sent: list[Sent] = field(default_factory=list)  # every request attempt, reads included, in order
    operations: list[str] = field(default_factory=list)  # every API call by name ("CreateUser"), in order
    journal: list[dict[str, Any]] = field(default_factory=list)  # the journal entries this run added
    opened: list[str] = field(default_factory=list)  # pages the wizard would have opened in a browser
    slept: list[float] = field(default_factory=list)  # waits the wizard asked for (none is waited)

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def asked(self) -> list[str]:
        return list(self.prompter.asked) if self.prompter is not None else []

    @property
    def writes(self) -> list[str]:
        """The writes the run's own write guard let through ("iam:CreateUser"), in order."""
        return list(self.aws[0].guard.sent_writes) if self.aws else []


class _TerminalOut(io.StringIO):
    """stdout as a terminal (rich then draws live displays, such as the organization's progress)."""

    def isatty(self) -> bool:
        return True


def _output(kind: Literal["tty", "pipe"], encoding: str | None) -> IO[str]:
    if encoding is not None:  # a stream of that encoding, as Windows' cp1252 console or LANG=C's ascii
        return io.TextIOWrapper(io.BytesIO(), encoding=encoding, write_through=True)
    return _TerminalOut() if kind == "tty" else io.StringIO()


def _written(stream: IO[str]) -> str:
    if isinstance(stream, io.TextIOWrapper):
        return stream.buffer.getvalue().decode(stream.encoding)  # type: ignore[attr-defined, no-any-return]
    return stream.getvalue()  # type: ignore[attr-defined, no-any-return]


def _journal_ends() -> dict[Path, int]:
    """Where each journal ends now; only regular files, not followed (a test may put a link or a FIFO there)."""
    import stat

    from wizard.journal import state_dir

    folder = state_dir() / "journal"
    paths = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    return {path: path.lstat().st_size for path in paths if stat.S_ISREG(path.lstat().st_mode)}


def _journal_since(ends: Mapping[Path, int]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for path in _journal_ends():
        with path.open("rb") as journal:
            journal.seek(ends.get(path, 0))
            entries += [json.loads(line) for line in journal.read().decode().splitlines() if line.strip()]
    return entries


def run(
    *args: str,
    answers: Sequence[object] | Mapping[str, object] | Script | None = None,
    stdin: Literal["tty", "pipe"] = "tty",
    stdout: Literal["tty", "pipe"] = "pipe",
    width: int | None = 120,
    encoding: str | None = None,
    sleep: Callable[[float], None] | None = None,
    observe: Observer | None = None,
    on_client: ClientHook | None = None,
    on_send: OnSend | None = None,
    **env: Any,
) -> Result:
    """The whole program in-process. `answers`: a list (in order), a mapping (keyed), or a Script; None asks
    nobody. `stdin` "pipe": no terminal to ask on; `stdout` "tty": output to a terminal; `encoding`: an output
    that encodes only that (ascii, cp1252). No test waits or opens a browser: waits go to `slept` (then `sleep`,
    if given, runs), pages to `opened`. `observe` sees each Aws the run makes, `on_client` each of their
    clients, `on_send` each request attempt (and may answer it: a fault); `env` passes other Environment
    fields (terminal, sandbox_keyring)."""
    out, err = _output(stdout, encoding), _output("pipe", encoding)
    if answers is None or isinstance(answers, Script):
        prompter = answers
    elif isinstance(answers, Mapping):
        prompter = Script(keyed=answers)
    else:
        prompter = Script(answers)
    result = Result(0, "", "", prompter)
    current: list[tuple[str, str]] = []

    def fake_sleep(seconds: float) -> None:
        result.slept.append(seconds)
        if sleep is not None:
            sleep(seconds)

    def fake_open(url: str) -> bool:
        result.opened.append(url)
        return True

    def seen(aws: Any) -> None:
        inner = aws.client_hook.inner if isinstance(aws.client_hook, _Hook) else aws.client_hook  # an account's
        aws.client_hook = _Hook(inner, aws, result, current, on_client, on_send)
        result.aws.append(aws)
        if observe is not None:
            observe(aws)

    environment = wizard.run.Environment(stdout=out, stderr=err, stdin_isatty=stdin == "tty", prompter=prompter,
                                         width=width, sleep=fake_sleep, open_url=fake_open, **env)
    ends = _journal_ends()
    with observing(seen), tracking_changes(current):
        result.code = wizard.cli.main(list(args), environment)
    result.out, result.err = _written(out), _written(err)
    result.journal = _journal_since(ends)
    return result


# --- the real program in a pseudo-terminal -----------------------------------------------------
def spawn(args: Sequence[str], home: Path, state: Path | None = None, env: Mapping[str, str] | None = None,
          program: Sequence[str] = (sys.executable, "-m", "wizard"), width: int = 120) -> pexpect.spawn:
    """The real program as a person starts it, in a pseudo-terminal of 50 rows and `width` columns (pexpect),
    with no AWS configuration of this machine: HOME is `home`, the state under `state` (default `home`);
    `env` adds variables (credentials, an endpoint, a keyring). `program`: the console script, say."""
    import pexpect

    variables = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(home), "AWS_HARDEN_STATE_DIR": str(state or home),
        "TERM": "xterm", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1", "PYTHONPATH": str(ROOT),
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, **(env or {}),
    }
    command, *rest = program
    return pexpect.spawn(command, [*rest, *args], env=variables, cwd=str(ROOT), encoding="utf-8", timeout=60,
                         dimensions=(50, width))
