"""A keyring backend that keeps secrets in a plain file counts as a keyring only when the operator named it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring
import pytest

from tests.conftest import Account, run_cli
from wizard.secrets import is_plain_file, memory_keyring, named_explicitly

NAME = "keyrings.alt.file.PlaintextKeyring"


def plaintext_keyring() -> Any:
    """Stands in for keyrings.alt's PlaintextKeyring (priority 0.5: keyring picks it by itself when nothing
    better exists, e.g. on a headless server); the memory keyring's code, under that backend's name."""
    memory = type(memory_keyring())
    cls = type("PlaintextKeyring", (memory,), {"priority": 0.5, "trusted": False, "__module__": "keyrings.alt.file"})
    return cls()


def has_login_profile(account: Account) -> bool:
    try:
        account.raw("iam").get_login_profile(UserName="admin")
    except Exception:
        return False
    return True


def test_plain_file_backends_are_recognised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    backend = plaintext_keyring()
    assert is_plain_file(backend) and not named_explicitly(backend)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NAME)
    assert named_explicitly(backend)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    config = tmp_path / "keyring-config"
    config.mkdir()
    (config / "keyringrc.cfg").write_text(f"[backend]\ndefault-keyring = {NAME}\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr("keyring.util.platform_.config_root", lambda: config)
    assert named_explicitly(backend)


def test_an_auto_selected_plaintext_keyring_is_no_keyring(account: Account) -> None:
    """Under --yes: abort before a password exists, saying why."""
    backend = plaintext_keyring()
    keyring.set_keyring(backend)
    result = run_cli(["apply", "--yes", "--only", "admin-user"], tty=False)
    assert result.code == 1, result.text
    said = " ".join(result.err.split())
    assert "no working keyring" in said and f"{NAME}, keeps secrets in a plain file" in said
    assert "PYTHON_KEYRING_BACKEND" in said
    assert backend.entries == {} and not has_login_profile(account)


def test_an_auto_selected_plaintext_keyring_lets_the_operator_choose(account: Account) -> None:
    keyring.set_keyring(plaintext_keyring())
    result = run_cli(["apply", "--only", "admin-user"], answers=["admin", False, True, "Abort; set no password"])
    assert result.code == 1 and "aborted" in result.err
    assert not has_login_profile(account)


def test_a_plaintext_keyring_the_operator_named_is_used_with_a_warning(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = plaintext_keyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NAME)
    result = run_cli(["apply", "--yes", "--only", "admin-user"], tty=False)
    assert result.code == 0, result.text
    said = " ".join(result.text.split())
    assert f"the keyring backend you named, {NAME}, is a plain file" in said
    assert list(backend.entries) == [("aws-harden", "123456789012/admin/console-password")]
    assert has_login_profile(account)
