"""The suite-wide secret leak guard: every secret the product wraps in a Secret is remembered, and at the
end of each test everything the test could see is searched for it.

Searched: what every in-process run of the program wrote (the Environment's stdout and stderr), what
pytest captured (capsys/capfd, also what a test read with readouterr()), log records (the botocore
loggers that print request and response bodies, and the wizard's, at DEBUG; any logger at WARNING), and
every file under the test's tmp_path (the journal, the sandbox state, AWS config files, reports).
Each secret is searched as typed and in the encodings it would take on the wire or in a file (URL-,
base64-, XML- and JSON-escaped). A failure names where and how long the secret was, never the secret.

Tests that run the program hundreds of times (hypothesis tests, detected, or marked
`@pytest.mark.many_runs("why")`) would spend minutes formatting botocore's DEBUG records: for them those
logs stay at their level (the example-based tests search the same calls' bodies); their output, files and
WARNING-and-above logs are searched as for any test.

Tests that show a secret on the terminal on purpose (the "show it once" choice, the MFA key as text,
`credential-process`) mark themselves `@pytest.mark.shows_secret("why")`: their terminal output is
not searched; their logs, journal and files still are.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

# A Secret shorter than this is a test's toy value (Secret("x")), not something the product generates.
MIN_LENGTH = 8
# Loggers that see request or response bodies (botocore) or the product's own records; DEBUG while a test runs.
# (botocore.auth is left out: it logs the signature's inputs, which hold a hash of the body, not the body.)
DEBUG_LOGGERS = ("botocore.endpoint", "botocore.parsers", "botocore.httpsession", "wizard", "steps")


# No generated password, key or seed holds these, nor any of their encodings below.
SEPARATORS = re.compile(r'[\s"<>,]+')


def secret_parts(value: str) -> list[str]:
    """The value; for a JSON object (the access key pair keeps its id beside the secret, an MFA session its
    expiration beside the secret key and the session token), its secret fields, which is what a leak of the
    pair would show too."""
    parts = [value]
    if value.startswith("{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            parts = [str(v) for k, v in decoded.items() if ("Secret" in k or "Token" in k) and isinstance(v, str)]
    return [p for p in parts if len(p) >= MIN_LENGTH]


def encodings(value: str) -> set[str]:
    """The forms a secret takes in a form-encoded body, an XML or HTML page, a JSON string, base64."""
    return {
        value,
        quote(value, safe=""),
        quote_plus(value, safe=""),
        html.escape(value),
        json.dumps(value)[1:-1],
        base64.b64encode(value.encode()).decode(),
    }


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken record is the logger's problem, not a leak
            return
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]}"
        self.messages.append(f"{record.name}: {text}")


@dataclass
class LeakGuard:
    """Install once per test (conftest does it for every test); `leaks()` at the end says where."""

    secrets: list[str] = field(default_factory=list)
    streams: list[tuple[str, Any]] = field(default_factory=list)  # (name, stream with getvalue)
    read_back: list[str] = field(default_factory=list)  # what tests read with readouterr()
    records: _Records = field(default_factory=_Records)
    _levels: dict[str, int] = field(default_factory=dict)

    # --- recording -------------------------------------------------------------------------
    def remember(self, value: str) -> None:
        for part in secret_parts(value):
            if part not in self.secrets:
                self.secrets.append(part)

    def watch_stream(self, name: str, stream: Any) -> None:
        if hasattr(stream, "getvalue"):
            self.streams.append((name, stream))

    def install(self, monkeypatch: pytest.MonkeyPatch, debug_logs: bool = True) -> None:
        """Patch the Secret constructor and the program's entry points; listen to the logs (the body-carrying
        ones at DEBUG unless `debug_logs` is False)."""
        from _pytest.capture import CaptureFixture

        import wizard.cli
        import wizard.credential_process
        from wizard.secrets import Secret

        original_init = Secret.__init__
        guard = self

        def init(secret: Secret, value: str) -> None:
            original_init(secret, value)
            guard.remember(value)

        monkeypatch.setattr(Secret, "__init__", init)

        original_run = wizard.cli.run

        def run(args: Any, env: Any) -> int:
            guard.watch_stream(f"stdout of aws-harden {args.command}", env.stdout)
            guard.watch_stream(f"stderr of aws-harden {args.command}", env.stderr)
            return original_run(args, env)

        monkeypatch.setattr(wizard.cli, "run", run)

        original_process = wizard.credential_process.run

        def credential_process(argv: Any, stdout: Any, stderr: Any) -> int:
            guard.watch_stream("stdout of aws-harden credential-process", stdout)
            guard.watch_stream("stderr of aws-harden credential-process", stderr)
            return original_process(argv, stdout, stderr)

        monkeypatch.setattr(wizard.credential_process, "run", credential_process)

        original_read = CaptureFixture.readouterr

        def readouterr(fixture: Any) -> Any:
            result = original_read(fixture)
            guard.read_back += [str(result.out), str(result.err)]
            return result

        monkeypatch.setattr(CaptureFixture, "readouterr", readouterr)

        logging.getLogger().addHandler(self.records)
        for name in DEBUG_LOGGERS if debug_logs else ():
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.DEBUG)

    def uninstall(self) -> None:
        logging.getLogger().removeHandler(self.records)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)

    # --- checking ----------------------------------------------------------------------------
    def leaks(
        self, roots: Iterable[Path] = (), captured: Iterable[tuple[str, str]] = (), terminal: bool = True
    ) -> list[str]:
        """Where a remembered secret was found: one line each, naming the place, never the secret."""
        places: list[tuple[str, Callable[[], str]]] = []
        if terminal:
            places += [(name, stream.getvalue) for name, stream in self.streams if not _closed(stream)]
            places += [(f"captured {name}", lambda text=text: text) for name, text in captured]
            places += [("output a test read with readouterr()", lambda: "\n".join(self.read_back))]
        places.append(("log records", lambda: "\n".join(self.records.messages)))
        for root in roots:
            places += [(f"file {path}", lambda path=path: _read(path)) for path in _files(root)]
        # Searched once in the distinct words of every place (runs repeat the same output many times),
        # then, on a hit, per place; a form that holds a separator itself is searched in the whole texts.
        texts = [(where, read()) for where, read in places]
        words = "\n".join({word for _, text in texts for word in SEPARATORS.split(text)})
        found: list[str] = []
        for number, secret in enumerate(self.secrets, start=1):
            forms = encodings(secret)
            hit = any(form in words if not SEPARATORS.search(form) else any(form in t for _, t in texts)
                      for form in forms)
            if hit:
                found += [f"secret #{number} ({len(secret)} characters) appears in {where}"
                          for where, text in texts if any(form in text for form in forms)]
        return found


def _closed(stream: Any) -> bool:
    return bool(getattr(stream, "closed", False))


def _files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""


def captured_sections(item: pytest.Item) -> list[tuple[str, str]]:
    """What pytest captured from the test's setup and call (stdout, stderr, logs), as (name, text)."""
    sections: list[tuple[str, str, str]] = getattr(item, "_report_sections", [])
    return [(f"{when} {key}", text) for when, key, text in sections]


def check(guard: LeakGuard, item: pytest.Item, tmp_path: Path) -> None:
    """Fail the test (at teardown) when a secret leaked; the message says where."""
    marker = item.get_closest_marker("shows_secret")
    found = guard.leaks(roots=[tmp_path], captured=captured_sections(item), terminal=marker is None)
    if found:
        pytest.fail("a secret leaked:\n  " + "\n  ".join(found), pytrace=False)

