"""The AWS layer: who is calling, profiles, and the retry mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Account, run_cli
from wizard.aws import Caller, client_config


@pytest.mark.parametrize(
    ("arn", "kind", "name"),
    [
        ("arn:aws:iam::111122223333:root", "root", "root"),
        ("arn:aws:iam::111122223333:user/admin", "user", "admin"),
        ("arn:aws:iam::111122223333:user/team/alice", "user", "alice"),
        ("arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com", "assumed-role", "alice@example.com"),
        ("arn:aws:sts::111122223333:federated-user/bob", "federated", "bob"),
        ("arn:aws-us-gov:iam::111122223333:root", "root", "root"),
    ],
)
def test_caller_kind(arn: str, kind: str, name: str) -> None:
    caller = Caller(arn, "111122223333", "AIDA")
    assert caller.kind == kind and caller.name == name


def test_partition_follows_the_caller() -> None:
    assert Caller("arn:aws-cn:iam::111122223333:root", "111122223333", "x").partition == "aws-cn"


def test_standard_retry_mode() -> None:
    assert client_config().retries["mode"] == "standard"


def test_named_profile_from_config_file(account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text(
        f"[profile lab]\nregion = us-east-1\naws_access_key_id = {account.root_key}\n"
        f"aws_secret_access_key = {account.root_secret}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")  # empty: botocore skips the environment provider
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")
    result = run_cli(["check", "--profile", "lab"])
    assert result.code == 2, result.text
    assert "arn:aws:iam::123456789012:root" in result.out


def test_sso_profile_without_login_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n"
        "region = us-east-1\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n"
        "sso_region = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))
    result = run_cli(["check", "--profile", "sso"])
    assert result.code == 1
    assert "aws sso login" in result.err and "Traceback" not in result.text
