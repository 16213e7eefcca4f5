"""The leak guard (tests/leak_guard.py, on for every test by tests/conftest.py) really fails a leaking test,
in every place it watches, and never prints the secret it found."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.leak_guard import LeakGuard, encodings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "Correct-Horse-Battery-Staple-42!"
KEY_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

INNER_CONFTEST = """
from tests.conftest import no_secret_leaks, offline, pytest_configure, waits  # noqa: F401
"""

INNER_TESTS = f'''
import io
import json
import logging
from urllib.parse import quote_plus

import pytest

from wizard.cli import Environment, main
from wizard.journal import Journal
from wizard.secrets import Secret

SECRET = {SECRET!r}


def test_clean():
    print(Secret(SECRET), repr(Secret(SECRET)))


def test_leaks_to_stdout():
    print(Secret(SECRET).reveal())


def test_leaks_to_stderr_read_back(capsys):
    import sys
    sys.stderr.write(Secret(SECRET).reveal())
    capsys.readouterr()


def test_leaks_to_a_log_record():
    logging.getLogger("wizard.inner").debug("value %s", Secret(SECRET).reveal())


def test_leaks_form_encoded_into_botocore_debug_log():
    logging.getLogger("botocore.endpoint").debug("body Password=%s", quote_plus(Secret(SECRET).reveal()))


def test_leaks_to_the_journal(tmp_path):
    journal = Journal(tmp_path / "state", "123456789012", "arn:aws:iam::123456789012:root", "apply")
    journal.record("admin-user", "ok", detail=Secret(SECRET).reveal())


def test_leaks_to_the_program_output():
    out = io.StringIO()
    main(["steps"], Environment(stdout=out, stderr=io.StringIO(), width=100))
    out.write(Secret(SECRET).reveal())


def test_leaks_the_secret_half_of_an_access_key():
    Secret(json.dumps({{"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": {KEY_SECRET!r}}}))
    print("aws_secret_access_key = " + {KEY_SECRET!r})


@pytest.mark.shows_secret("the operator asked to see it")
def test_shows_it_on_purpose():
    print(Secret(SECRET).reveal())


@pytest.mark.shows_secret("the operator asked to see it")
def test_shows_it_on_purpose_but_also_writes_it(tmp_path):
    print(Secret(SECRET).reveal())
    (tmp_path / "notes.txt").write_text(Secret(SECRET).reveal())
'''

LEAKING = {
    "test_leaks_to_stdout": "appears in captured call stdout",
    "test_leaks_to_stderr_read_back": "appears in output a test read with readouterr()",
    "test_leaks_to_a_log_record": "appears in log records",
    "test_leaks_form_encoded_into_botocore_debug_log": "appears in log records",
    "test_leaks_to_the_journal": "123456789012.jsonl",
    "test_leaks_to_the_program_output": "appears in stdout of aws-harden steps",
    "test_leaks_the_secret_half_of_an_access_key": "appears in captured call stdout",
    "test_shows_it_on_purpose_but_also_writes_it": "notes.txt",
}


def test_a_leaking_test_fails_wherever_the_secret_went(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "conftest.py").write_text(INNER_CONFTEST)
    (inner / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--show-capture=no", "-rE",
         "--rootdir", str(inner), str(inner)],
        capture_output=True, text=True, env=env, cwd=inner, timeout=120,
    )
    output = result.stdout + result.stderr
    # Every test body passes; the leaking ones then fail at teardown, the guard's check.
    assert f"10 passed, {len(LEAKING)} errors" in output, output
    errors = {ln.split("::")[1].split()[0] for ln in output.splitlines() if ln.startswith("ERROR test_inner.py::")}
    assert errors == set(LEAKING), output
    parts = re.split(r"\n_+ ERROR at teardown of (\S+) _+\n", output.split("short test summary info")[0])
    reports = dict(zip(parts[1::2], parts[2::2], strict=True))
    for name, place in LEAKING.items():
        assert "a secret leaked" in reports[name] and place in reports[name], (name, reports[name])
    # The failure says where and how long, never the secret itself.
    assert SECRET not in output and KEY_SECRET not in output


def test_every_encoding_of_a_secret_is_found_and_the_report_names_no_secret(tmp_path: Path) -> None:
    guard = LeakGuard()
    guard.remember(SECRET)
    for form in encodings(SECRET):
        (tmp_path / "leak.txt").write_text(f"... {form} ...")
        found = guard.leaks(roots=[tmp_path])
        assert found == [f"secret #1 ({len(SECRET)} characters) appears in file {tmp_path / 'leak.txt'}"], form
    (tmp_path / "leak.txt").write_text("(sensitive value)")
    assert guard.leaks(roots=[tmp_path]) == []


def test_the_secret_inside_an_access_key_pair_is_what_is_searched() -> None:
    guard = LeakGuard()
    guard.remember(json.dumps({"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": KEY_SECRET}))
    guard.records.messages.append(f"a log line with {KEY_SECRET}")
    assert guard.secrets == [KEY_SECRET]  # the key id beside it is not a secret
    assert guard.leaks() == [f"secret #1 ({len(KEY_SECRET)} characters) appears in log records"]
    guard.records.messages[:] = ["the key id AKIAIOSFODNN7EXAMPLE is not a secret"]
    assert guard.leaks() == []


def test_toy_values_are_not_secrets() -> None:
    guard = LeakGuard()
    guard.remember("x")
    assert guard.secrets == []
