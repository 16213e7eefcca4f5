"""The sandbox: a fresh account with a root caller, kept between runs, never touching real AWS or keyring."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from tests import harness
from tests.conftest import Account, run_cli


class RecordingKeyring(KeyringBackend):
    """Stands for the operator's real keyring: it must never be written in sandbox mode."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, str]] = []

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.writes.append((service, username))

    def delete_password(self, service: str, username: str) -> None:
        pass


class TestRootExtension:
    """What wizard/sandbox/root_user.py adds to moto, shown on moto itself."""

    def test_caller_is_root(self, account: Account) -> None:
        ident = account.raw("sts").get_caller_identity()
        assert ident["Arn"] == "arn:aws:iam::123456789012:root"
        assert ident["Account"] == "123456789012"

    def test_summary_reports_root_keys_and_mfa(self, account: Account) -> None:
        iam = account.raw("iam")
        summary = iam.get_account_summary()["SummaryMap"]
        assert summary["AccountAccessKeysPresent"] == 1 and summary["AccountMFAEnabled"] == 0
        keys = iam.list_access_keys()["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in keys] == [account.root_key]
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="root-account-mfa-device")
        from wizard.sandbox.root_user import ROOT_NAME

        iam.enable_mfa_device(
            UserName=ROOT_NAME,
            SerialNumber=serial["VirtualMFADevice"]["SerialNumber"],
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
        assert iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 1

    def test_root_is_not_an_iam_user(self, account: Account) -> None:
        iam = account.raw("iam")
        assert iam.list_users()["Users"] == []
        assert iam.get_account_summary()["SummaryMap"]["Users"] == 0
        iam.create_user(UserName="admin")
        assert [u["UserName"] for u in iam.list_users()["Users"]] == ["admin"]

    def test_other_keys_are_not_root(self, account: Account) -> None:
        iam = account.raw("iam")
        iam.create_user(UserName="admin")
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        ident = account.aws(key=key["AccessKeyId"]).client("sts").get_caller_identity()
        assert ident["Arn"] == "arn:aws:iam::123456789012:user/admin"


def sandbox_cli(argv: list[str], **kwargs: Any) -> Any:
    return run_cli(["--sandbox", *argv], **kwargs)


@pytest.fixture
def real_keyring() -> RecordingKeyring:
    backend = RecordingKeyring()
    keyring.set_keyring(backend)
    return backend


def test_sandbox_is_a_fresh_account_with_a_root_caller(real_keyring: RecordingKeyring) -> None:
    result = sandbox_cli(["check", "--output", "json"])
    assert result.code == 2, result.text
    payload = json.loads(result.out)
    assert payload["caller"]["arn"] == "arn:aws:iam::123456789012:root"
    assert payload["sandbox"] is True
    assert "SANDBOX" in result.err  # the banner goes to stderr when stdout is JSON


def test_sandbox_keeps_state_between_runs_and_reset_starts_fresh(
    real_keyring: RecordingKeyring, tmp_path: Path
) -> None:
    applied = sandbox_cli(["apply", "--yes", "--only", "admin-user,admin-group"], tty=False)
    assert applied.code == 0, applied.text
    assert "SANDBOX" in applied.out
    assert "sandbox keyring (in memory" in " ".join(applied.out.split())
    assert real_keyring.writes == []

    again = sandbox_cli(["check", "--only", "admin-user,admin-group"])
    assert again.code == 0, again.text
    assert sandbox_cli(["plan", "--only", "admin-user,admin-group"]).code == 0

    log = (tmp_path / "state" / "sandbox" / "writes.jsonl").read_text()
    assert "CreateLoginProfile" in log and "Sandbox-Replay-Placeholder-1!" in log

    fresh = run_cli(["--sandbox-reset", "check"])
    assert fresh.code == 2, fresh.text


def test_sandbox_does_not_read_real_profiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile real]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALREALREALREAL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    result = sandbox_cli(["check", "--output", "json"])
    assert result.code == 2, result.text
    assert json.loads(result.out)["caller"]["type"] == "root"


def test_sandbox_refuses_real_aws_options() -> None:
    result = sandbox_cli(["check", "--profile", "prod"])
    assert result.code == 1 and "cannot be combined" in result.err


def test_sandbox_talks_only_to_loopback() -> None:
    result = harness.run("--sandbox", "check", stdin="pipe", width=None)
    assert result.code == 2
    assert result.aws[0].endpoint_url.startswith("http://127.0.0.1:")
