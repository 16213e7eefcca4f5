"""credential-process with an MFA device, in-process against moto: the code is asked on the terminal (never
on stdout or stderr, which the AWS CLI captures), traded for a session with sts:GetSessionToken, and the
session is kept in the keyring until it expires."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import keyring
import pytest

import wizard.credential_process as credential_process
from tests import harness
from tests.conftest import Account
from wizard import cli_profile, totp
from wizard.secrets import Secret

ACCOUNT = "123456789012"
KEY_ENTRY = f"{ACCOUNT}/admin/access-key"
SESSION_ENTRY = f"{ACCOUNT}/admin/mfa-session"
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/admin"
ARGS = ["--account", ACCOUNT, "--user", "admin"]


@dataclass
class Tty:
    """The controlling terminal: what the person types (a callable: read off the phone when asked), and
    everything written to it."""

    typed: list[str | Callable[[], str]] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    present: bool = True

    def open(self) -> Any:
        if not self.present:
            return None

        def read() -> str:
            answer = self.typed.pop(0)
            return (answer() if callable(answer) else answer) + "\n"

        return read, self.shown.append


@pytest.fixture
def tty(monkeypatch: pytest.MonkeyPatch) -> Tty:
    terminal = Tty()
    monkeypatch.setattr(credential_process, "open_tty", terminal.open)
    return terminal


@pytest.fixture
def admin(account: Account) -> Iterator[dict[str, str]]:
    """The admin with an access key, its secret in the keyring, as programmatic access leaves it."""
    from wizard.secrets import redact_aws_logs

    redact_aws_logs()  # as the product does before its first call: the secret is in the response body
    iam = account.raw("iam")
    iam.create_user(UserName="admin")
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    pair = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    keyring.set_password("aws-harden", KEY_ENTRY, json.dumps(pair))
    yield pair


@dataclass
class Phone:
    """The admin's authenticator app."""

    serial: str
    seed: Secret

    def code(self) -> str:
        return totp.code_at(self.seed, totp.counter_at(time.time()))

    def spaced(self) -> str:
        code = self.code()
        return f"{code[:3]} {code[3:]}"  # as the app shows it


def give_mfa(account: Account) -> Phone:
    iam = account.raw("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="admin")["VirtualMFADevice"]
    seed = totp.seed_of(device)
    first, second = totp.consecutive_codes(seed, time.time())
    iam.enable_mfa_device(UserName="admin", SerialNumber=device["SerialNumber"], AuthenticationCode1=first,
                          AuthenticationCode2=second)
    return Phone(str(device["SerialNumber"]), seed)


def run(*args: str) -> tuple[int, dict[str, Any] | None, str]:
    """`aws-harden credential-process ARGS` (tests/harness.py's run): exit code, what it printed, stderr."""
    result = harness.run("credential-process", *args, width=None)
    return result.code, json.loads(result.out) if result.out else None, result.err


@pytest.mark.shows_secret("credential-process prints the credentials for the AWS CLI")
def test_without_an_mfa_device_the_key_itself(admin: dict[str, str], tty: Tty) -> None:
    code, printed, err = run(*ARGS)
    assert code == 0, err
    assert printed == {"Version": 1, **admin}
    assert tty.shown == []  # nothing asked


@pytest.mark.shows_secret("credential-process prints the credentials for the AWS CLI")
def test_with_a_device_found_in_iam_a_code_on_the_terminal_buys_a_session(
    account: Account, admin: dict[str, str], tty: Tty
) -> None:
    """The profile written before the device existed (no --mfa-serial): the device is found with
    ListMFADevices; the code is asked on the terminal; the session is printed and kept."""
    phone = give_mfa(account)
    serial = phone.serial
    tty.typed = [phone.spaced]
    code, printed, err = run(*ARGS)
    assert code == 0, err
    assert printed is not None and set(printed) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken",
                                                     "Expiration"}
    assert printed["AccessKeyId"] != admin["AccessKeyId"] and printed["SessionToken"]
    assert datetime.fromisoformat(printed["Expiration"]) > datetime.now(UTC) + timedelta(hours=11)
    assert tty.shown == [f"Enter MFA code for {serial}: "]
    assert err == ""  # stderr and stdout carry no prompt: the AWS CLI captures both
    kept = json.loads(keyring.get_password("aws-harden", SESSION_ENTRY) or "{}")
    assert kept["SessionToken"] == printed["SessionToken"] and kept["SerialNumber"] == serial

    # Until it expires, the next call hands out the same session without asking.
    tty.shown.clear()
    again = run(*ARGS)
    assert again[0] == 0 and again[1] == printed and tty.shown == []


@pytest.mark.shows_secret("credential-process prints the credentials for the AWS CLI")
def test_an_expiring_session_is_replaced(account: Account, admin: dict[str, str], tty: Tty) -> None:
    phone = give_mfa(account)
    old = {"AccessKeyId": "ASIAOLDSESSION000000", "SecretAccessKey": "old-secret-key-000000",
           "SessionToken": "old-session-token-0000", "SerialNumber": SERIAL,
           "Expiration": (datetime.now(UTC) + timedelta(minutes=2)).isoformat()}
    keyring.set_password("aws-harden", SESSION_ENTRY, json.dumps(old))
    tty.typed = [phone.code]
    code, printed, _ = run(*ARGS)
    assert code == 0 and printed is not None and printed["SessionToken"] != old["SessionToken"]
    assert len(tty.shown) == 1


@pytest.mark.shows_secret("credential-process prints the credentials for the AWS CLI")
def test_a_named_serial_needs_no_lookup_and_a_bad_code_is_asked_again(
    account: Account, admin: dict[str, str], tty: Tty, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = give_mfa(account)
    serial = phone.serial
    monkeypatch.setattr(credential_process, "find_device", lambda *_: pytest.fail("looked the device up"))
    tty.typed = ["12345", "abcdef", phone.code]
    code, printed, err = run(*ARGS, "--mfa-serial", serial)
    assert code == 0 and printed is not None and "SessionToken" in printed, err
    assert tty.shown[0] == f"Enter MFA code for {serial}: " and len(tty.shown) == 5  # 3 prompts, 2 problems
    assert "6 digits" in tty.shown[1]


def test_no_terminal_is_one_line_and_prints_nothing(account: Account, admin: dict[str, str], tty: Tty) -> None:
    give_mfa(account)
    tty.present = False
    code, printed, err = run(*ARGS)
    assert code == 1 and printed is None
    assert err.count("\n") == 1 and "there is no terminal to ask on" in err


def test_three_refused_codes_end_it(account: Account, admin: dict[str, str], tty: Tty) -> None:
    phone = give_mfa(account)
    tty.typed = ["1", "abc", lambda: str((int(phone.code()) + 500_000) % 1_000_000).zfill(6)]  # AWS refuses it
    code, printed, err = run(*ARGS)
    assert code == 1 and printed is None and "3 codes were refused" in err


@pytest.mark.shows_secret("credential-process prints the credentials for the AWS CLI; the logs are searched")
def test_a_session_token_never_reaches_the_logs(account: Account, admin: dict[str, str], tty: Tty,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore logs GetSessionToken's response and, in botocore.auth, the signed request's
    x-amz-security-token: both are redacted (the suite-wide leak guard searches the logs at DEBUG)."""
    from wizard.aws import isolated_session

    phone = give_mfa(account)
    monkeypatch.setattr(logging.getLogger("botocore.auth"), "level", logging.DEBUG)
    tty.typed = [phone.code]
    code, printed, err = run(*ARGS)
    assert code == 0 and printed is not None, err
    session = isolated_session(printed["AccessKeyId"], printed["SecretAccessKey"], "us-east-1")
    session._session.set_credentials(printed["AccessKeyId"], printed["SecretAccessKey"], printed["SessionToken"])
    session.client("sts").get_caller_identity()  # a request signed with the token, logged by botocore.auth


def test_the_profile_names_the_device_when_it_exists(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile written once the admin has MFA carries --mfa-serial; one written before finds it itself."""
    from tests.lockdown_support import mark_as_wizards
    from tests.lockdown_support import run as run_program

    config = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    account.raw("iam").create_user(UserName="admin")
    mark_as_wizards(account.raw("iam"), "admin")  # an earlier run's admin, before it had a device
    serial = give_mfa(account).serial
    answers = tmp_path / "answers.toml"
    answers.write_text("[admin-user]\nprogrammatic_access = true\n")
    result = run_program(["apply", "--yes", "--only", "admin-user", "--answers", str(answers)], tty=False)
    assert result.code == 0, result.text
    process = config.read_text().split("credential_process = ", 1)[1].splitlines()[0]
    assert process.endswith(f"credential-process --account {ACCOUNT} --user admin --mfa-serial {serial}")
    assert cli_profile.is_ours(process, ACCOUNT, "admin")
    rerun = run_program(["apply", "--yes", "--only", "admin-user", "--answers", str(answers)], tty=False)
    assert rerun.code == 0 and rerun.writes == []
