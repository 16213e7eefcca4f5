"""The main flow driven in a real pseudo-terminal, typing answers as a person would."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
ENTER = "\r"


def spawn(args: list[str], state: Path) -> pexpect.spawn:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(state),
        "AWS_HARDEN_STATE_DIR": str(state),
        "TERM": "xterm",
        "NO_COLOR": "1",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "PYTHONPATH": str(ROOT),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    return pexpect.spawn(
        sys.executable, ["-m", "wizard", *args], env=env, cwd=str(ROOT), encoding="utf-8",
        timeout=60, dimensions=(50, 120),
    )


def test_person_walks_the_first_two_steps_in_the_sandbox(tmp_path: Path) -> None:
    child = spawn(["--sandbox", "--only", "admin-user,admin-group"], tmp_path)
    child.expect("SANDBOX")
    child.expect("Name of the IAM admin user")
    child.send("\b" * 5 + "alice" + ENTER)  # clear the default "admin" and type another name
    child.expect(r"Apply 2 changes for admin-user\?")
    child.send("y")
    child.expect("verified")
    child.expect("Name of the admin group")
    child.send(ENTER)  # keep the default FullAccess
    child.expect(r"Apply 3 changes for admin-group\?")
    child.send("y")
    child.expect("Every selected step is compliant and verified.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    check = spawn(["--sandbox", "check", "--only", "admin-user,admin-group", "--answers", str(answers(tmp_path))],
                  tmp_path)
    check.expect(pexpect.EOF)
    check.close()
    assert check.exitstatus == 0, check.before


def answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.toml"
    path.write_text('[admin-user]\nname = "alice"\n')
    return path


def test_ctrl_c_in_the_terminal_exits_130_without_traceback(tmp_path: Path) -> None:
    child = spawn(["--sandbox"], tmp_path)
    child.expect("Name of the IAM admin user")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    output = child.before or ""
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in output and "interrupted" in output
