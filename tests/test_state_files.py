"""Files and signals: state files are never followed through a link, must be regular and are read with a limit;
malformed journal lines are skipped with a warning; the AWS config file is restored when an append breaks it;
SIGTERM takes Ctrl-C's path; an output that cannot encode the symbols gets ASCII."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import harness
from tests.conftest import Account, run_cli
from tests.lockdown_support import run
from wizard import cli_profile, journal, state_files
from wizard.errors import WizardError
from wizard.journal import Journal, state_dir

ROOT = Path(__file__).resolve().parent.parent


def journal_path() -> Path:
    return state_dir() / "journal" / "123456789012.jsonl"


def test_a_symlinked_journal_is_refused_and_its_target_untouched(account: Account, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("someone else's file\n")
    journal_path().parent.mkdir(parents=True)
    journal_path().symlink_to(victim)
    result = run(["apply", "--yes", "--only", "admin-user"], tty=False)
    assert result.code == 1 and result.writes == []
    assert "is a symbolic link; aws-harden does not follow links for its state files" in result.text
    assert "Traceback" not in result.text
    assert victim.read_text() == "someone else's file\n"


def test_a_journal_that_is_not_a_regular_file_is_refused(account: Account) -> None:
    journal_path().parent.mkdir(parents=True)
    os.mkfifo(journal_path())  # would block a plain open() for ever
    result = run(["apply", "--yes", "--only", "admin-user"], tty=False)
    assert result.code == 1 and result.writes == []
    assert "is not a regular file" in result.text


def test_an_oversized_journal_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(journal, "READ_LIMIT", 1024)
    book = Journal(tmp_path, "123456789012", "arn", "apply")
    book.path.parent.mkdir(parents=True)
    book.path.write_text("x" * 2048)
    with pytest.raises(WizardError, match="larger than"):
        book.unfinished()


def test_malformed_journal_lines_are_skipped_with_a_warning(account: Account) -> None:
    started = {"time": "2026-01-01T00:00:00+00:00", "account": "123456789012", "caller": "arn", "mode": "apply",
               "step": "admin-user", "result": "started",
               "change": {"key": "create-user", "resource": 'iam user "admin"'}}
    journal_path().parent.mkdir(parents=True)
    journal_path().write_text("\n".join([
        "{not json", "[]", '"a string"', '{"step": 1, "result": "ok", "time": "t"}',
        '{"step": "admin-user", "result": "ok", "time": "t", "change": "not an object"}',
        json.dumps(started), "\x00\x01 torn write"]) + "\n")
    result = run_cli(["apply", "--yes", "--only", "admin-user"], tty=False)
    assert result.code == 0, result.text
    said = " ".join(result.err.split())
    assert "has 6 lines that are not journal entries; skipped" in said
    assert 'the last run stopped during admin-user: iam user "admin"' in said


def test_sandbox_state_files_are_not_followed_through_links(tmp_path: Path) -> None:
    from wizard.sandbox.replay import WriteLog

    victim = tmp_path / "victim"
    victim.write_text("{}\n")
    link = tmp_path / "writes.jsonl"
    link.symlink_to(victim)
    with pytest.raises(state_files.UnsafeStateFile, match="symbolic link"):
        WriteLog(link).append({"service": "iam", "operation": "CreateUser"})
    with pytest.raises(state_files.UnsafeStateFile, match="symbolic link"):
        WriteLog(link).entries()
    with pytest.raises(state_files.UnsafeStateFile, match="symbolic link"):
        state_files.write_text(link, "{}")
    assert victim.read_text() == "{}\n"


def test_malformed_sandbox_writes_are_skipped(tmp_path: Path) -> None:
    from wizard.sandbox.replay import WriteLog

    log = WriteLog(tmp_path / "writes.jsonl")
    log.path.write_text('{broken\n{"service": "iam", "operation": "CreateUser", "params": {}}\n[]\n')
    assert [e["operation"] for e in log.entries()] == ["CreateUser"] and log.skipped == 2


def test_the_aws_config_file_is_restored_when_the_append_breaks_it(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "aws" / "config"
    config.parent.mkdir()
    original = b"[default]\nregion = eu-west-1\n# the operator's own comment\n"
    config.write_bytes(original)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    # A block that does not parse (as if the file had changed under the wizard, or a bug wrote it).
    monkeypatch.setattr(cli_profile, "profile_block", lambda *_: "\n[profile aws-harden-admin\nbroken\n")
    answers = tmp_path / "answers.toml"
    answers.write_text("[admin-user]\nprogrammatic_access = true\n")
    result = run(["apply", "--yes", "--only", "admin-user", "--answers", str(answers)], tty=False)
    assert result.code == 1
    assert "did not parse after adding the profile aws-harden-admin" in result.text
    assert "it was restored as it was" in result.text
    assert config.read_bytes() == original


def test_a_config_file_botocore_cannot_parse_is_left_alone(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    original = "[default]\nregion = eu-west-1\n[default]\nregion = us-east-1\n"  # botocore: DuplicateSectionError
    config.write_text(original)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    answers = tmp_path / "answers.toml"
    answers.write_text("[admin-user]\nprogrammatic_access = true\n")
    result = run(["apply", "--yes", "--only", "admin-user", "--answers", str(answers)], tty=False)
    assert result.code == 1 and result.text.count("\n") == 1  # botocore itself refuses it, in one line
    assert "Unable to parse config file" in result.text and result.writes == []
    assert config.read_text() == original
    status = cli_profile.read_status(config, "aws-harden-admin", "123456789012", "admin")
    assert status.state == "unreadable"  # and the wizard would never append to it


def test_sigterm_in_a_real_process_takes_the_ctrl_c_path(tmp_path: Path) -> None:
    env = {**os.environ, "AWS_HARDEN_STATE_DIR": str(tmp_path / "state"), "PYTHONPATH": str(ROOT),
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "NO_COLOR": "1"}
    child = subprocess.Popen([sys.executable, str(ROOT / "tests" / "sigterm_child.py")], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        for line in child.stdout:  # its output, up to the moment it waits inside the change
            if line.strip() == "READY":
                break
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted (SIGTERM) during admin-user: iam:CreateLoginProfile" in " ".join(err.split())
    lines = (tmp_path / "state" / "journal" / "123456789012.jsonl").read_text().splitlines()
    changes = [(e["result"], e["change"]["key"]) for e in map(json.loads, lines) if "change" in e]
    assert changes[-1] == ("interrupted", "console-access")


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_an_output_that_cannot_encode_the_symbols_gets_ascii(account: Account, encoding: str) -> None:
    for argv, expected in ((["apply", "--yes", "--only", "admin-user,password-policy"], 0),
                           (["check", "--only", "admin-user,password-policy"], 0),
                           (["plan", "--only", "admin-user,password-policy"], 0)):
        result = harness.run(*argv, stdin="pipe", width=100, encoding=encoding)  # stdout and stderr in it
        text = result.text
        assert result.code == expected, text
        assert "error" not in text
        if argv[0] == "apply":
            assert "ok verified" in text and "✓" not in text
        assert "⚠" not in text and "✓" not in text
