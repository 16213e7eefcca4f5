"""The whole first-day flow in the sandbox, root key deletion included, then check and apply as the admin."""

from __future__ import annotations

import json
from pathlib import Path

from tests.lockdown_support import LOCKDOWN, Driver, key_in, run


def test_interactive_walk_ends_as_the_admin(tmp_path: Path) -> None:
    driver = Driver({
        "Name of the IAM admin user": [None],
        "access key for the AWS CLI": [False],
        "Name of the admin group": [None],
        "Maximum password age": [None],
        "Account alias": [""],
        "Apply": [True, True, True],
        "To go ahead, type": [key_in],
    })
    walk = run(["--sandbox-reset", "apply", "--only", LOCKDOWN], prompter=driver)
    assert walk.code == 0, walk.text
    assert walk.operations[-1] == "DeleteAccessKey"
    assert "continue as the admin: root's access keys are gone. Sign in to the console at" in walk.text
    assert "later sandbox runs act as IAM user admin" in walk.text and "stand-in" in walk.text

    check = run(["--sandbox", "check", "--only", LOCKDOWN], tty=False)
    assert check.code == 0, check.text
    assert "arn:aws:iam::123456789012:user/admin" in check.text and "not compliant" not in check.text

    again = run(["--sandbox", "apply", "--yes", "--only", LOCKDOWN], tty=False)
    assert again.code == 0 and again.writes == [], again.text


def test_unattended_walk_with_programmatic_access(tmp_path: Path) -> None:
    plan = run(["--sandbox-reset", "plan", "--output", "json", "--only", LOCKDOWN], tty=False)
    report, _ = json.JSONDecoder().raw_decode(plan.text[plan.text.index("{"):])
    (root_keys,) = [s for s in report["steps"] if s["id"] == "root-access-keys"]
    running = root_keys["changes"][0]["resource"].split('"')[1]
    answers = tmp_path / "answers.toml"
    answers.write_text(
        "[admin-user]\nprogrammatic_access = true\n"
        f'[root-access-keys]\nconfirm_delete_running_key = "{running}"\n'
        '[signin-link]\nalias = "sandbox-demo"\n'
    )
    walk = run(["--sandbox", "apply", "--yes", "--only", LOCKDOWN, "--answers", str(answers)], tty=False)
    assert walk.code == 0, walk.text
    assert "--profile aws-harden-admin" in walk.text
    assert "https://sandbox-demo.signin.aws.amazon.com/console" in walk.text
    key_line = next(line for line in walk.text.splitlines() if "access key id of admin:" in line)
    admin_key = key_line.split(":")[-1].strip()
    assert f"later sandbox runs act as IAM user admin, with its access key {admin_key}" in walk.text

    check = run(["--sandbox", "check", "--only", LOCKDOWN], tty=False)
    assert check.code == 0 and "user/admin" in check.text, check.text


def test_a_later_sandbox_run_still_holds_the_admins_password(tmp_path: Path) -> None:
    """The sandbox's keyring is in memory; its replay gives the admin the replay placeholder as password
    and keeps that in the keyring, so the next run (as root) still counts the admin as the wizard's and
    can let root's key go."""
    first = run(["--sandbox-reset", "apply", "--yes", "--only", "admin-user,admin-group"], tty=False)
    assert first.code == 0, first.text
    plan = run(["--sandbox", "plan", "--output", "json", "--only", LOCKDOWN], tty=False)
    report, _ = json.JSONDecoder().raw_decode(plan.text[plan.text.index("{"):])
    steps = {s["id"]: s for s in report["steps"]}
    assert steps["admin-user"]["status"] == "compliant", steps["admin-user"]
    (change,) = steps["root-access-keys"]["changes"]
    assert "kept until" not in change["summary"], change
    running = change["resource"].split('"')[1]
    answers = tmp_path / "answers.toml"
    answers.write_text(f'[root-access-keys]\nconfirm_delete_running_key = "{running}"\n')
    walk = run(["--sandbox", "apply", "--yes", "--only", LOCKDOWN, "--answers", str(answers)], tty=False)
    assert walk.code == 0 and walk.operations[-1] == "DeleteAccessKey", walk.text
