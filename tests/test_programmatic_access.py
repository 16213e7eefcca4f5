"""Programmatic access for the admin: one key, its secret only in the keyring, read by credential_process."""

from __future__ import annotations

import configparser
import json
import os
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from tests import harness
from tests.conftest import Account
from tests.lockdown_support import journal_entries, run
from wizard.journal import state_dir

ENTRY = "123456789012/admin/access-key"


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "aws" / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    return path


@pytest.fixture
def wanted(tmp_path: Path) -> str:
    path = tmp_path / "answers.toml"
    path.write_text("[admin-user]\nprogrammatic_access = true\n")
    return str(path)


def admin_keys(account: Account) -> list[str]:
    listed = account.raw("iam").list_access_keys(UserName="admin")["AccessKeyMetadata"]
    return [k["AccessKeyId"] for k in listed]


def credential_process(*args: str) -> tuple[int, str, str]:
    result = harness.run("credential-process", *args, width=None)
    return result.code, result.out, result.err


def test_off_by_default(account: Account, config_file: Path) -> None:
    result = run(["apply", "--yes", "--only", "admin-user"], tty=False)
    assert result.code == 0 and "iam:CreateAccessKey" not in result.writes
    assert not config_file.exists()


@pytest.mark.shows_secret("credential-process prints the key for the AWS CLI")


def test_key_to_keyring_profile_to_config_and_credential_process(
    account: Account, config_file: Path, wanted: str
) -> None:
    plan = run(["plan", "--only", "admin-user", "--answers", wanted], tty=False)
    assert 'access key for "admin"' in plan.text and 'AWS CLI profile "aws-harden-admin"' in plan.text
    result = run(["apply", "--yes", "--only", "admin-user", "--answers", wanted], tty=False)
    assert result.code == 0, result.text
    assert result.writes == ["iam:CreateUser", "iam:CreateLoginProfile", "iam:CreateAccessKey"]
    (key_id,) = admin_keys(account)
    stored = json.loads(keyring.get_password("aws-harden", ENTRY) or "{}")
    assert stored["AccessKeyId"] == key_id
    secret = stored["SecretAccessKey"]

    parser = configparser.RawConfigParser()
    parser.read(config_file)
    process = parser.get("profile aws-harden-admin", "credential_process")
    assert process.split()[1:] == ["credential-process", "--account", "123456789012", "--user", "admin"]
    assert os.stat(config_file).st_mode & 0o077 == 0

    code, out, err = credential_process("--account", "123456789012", "--user", "admin")
    assert code == 0, err
    assert json.loads(out) == {"Version": 1, "AccessKeyId": key_id, "SecretAccessKey": secret}

    # The secret is nowhere else: not on screen, not in the journal, not in the config file.
    assert secret not in result.text and secret not in config_file.read_text()
    assert secret not in (state_dir() / "journal" / "123456789012.jsonl").read_text()
    assert any(e["result"] == "output" and key_id in e["detail"] for e in journal_entries())


def test_rerun_creates_no_second_key(account: Account, config_file: Path, wanted: str) -> None:
    assert run(["apply", "--yes", "--only", "admin-user", "--answers", wanted], tty=False).code == 0
    again = run(["apply", "--yes", "--only", "admin-user", "--answers", wanted], tty=False)
    assert again.code == 0 and again.writes == [] and "already compliant" in again.text
    assert len(admin_keys(account)) == 1


def test_a_profile_of_the_same_name_is_left_alone(account: Account, config_file: Path, wanted: str) -> None:
    config_file.parent.mkdir(parents=True)
    original = "[profile aws-harden-admin]\nregion = eu-west-1\nsso_session = mine\n"
    config_file.write_text(original)
    result = run(["apply", "--yes", "--only", "admin-user", "--answers", wanted], tty=False)
    assert result.code == 0
    assert config_file.read_text() == original
    assert "was not written by aws-harden" in result.text


def test_profile_appended_to_an_existing_config(account: Account, config_file: Path, wanted: str) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[default]\nregion = eu-west-1")
    assert run(["apply", "--yes", "--only", "admin-user", "--answers", wanted], tty=False).code == 0
    parser = configparser.RawConfigParser()
    parser.read(config_file)
    assert parser.get("default", "region") == "eu-west-1"
    assert parser.has_option("profile aws-harden-admin", "credential_process")


def test_no_keyring_means_no_orphaned_key(account: Account, config_file: Path, tmp_path: Path) -> None:
    account.raw("iam").create_user(UserName="admin")
    account.raw("iam").create_login_profile(UserName="admin", Password="Example-Passw0rd-123!")
    keyring.set_keyring(fail.Keyring())
    # Not aws-harden's, so adopted by name (with no keyring, for this run only), then given a key.
    wanted = tmp_path / "adopt.toml"
    wanted.write_text('[admin-user]\nprogrammatic_access = true\nadopt_existing = "admin"\n')
    result = run(["apply", "--yes", "--only", "admin-user", "--answers", str(wanted)], tty=False)
    assert result.code == 1 and "no working keyring" in result.text
    outputs = [e["detail"] for e in journal_entries() if e["result"] == "output"]
    assert "adoption of admin: for this run only: no working keyring to remember it" in outputs
    assert result.writes == ["iam:CreateAccessKey", "iam:DeleteAccessKey"]
    assert admin_keys(account) == []


def test_credential_process_without_a_stored_key_is_one_line(account: Account) -> None:
    code, out, err = credential_process("--account", "123456789012", "--user", "nobody")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no access key in the OS keyring" in err
    code, _, err = credential_process("--account", "12", "--user", "admin")
    assert code == 1 and "12 digits" in err
