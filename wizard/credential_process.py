"""`aws-harden credential-process`: what the AWS CLI runs for the admin's profile.

It reads the admin's access key from the OS keyring and prints the JSON the AWS CLI's credential_process
expects (Version 1). When the admin has an MFA device (named with --mfa-serial, else found with
iam:ListMFADevices, which AWS's deny-unless-MFA policy allows without MFA), it works as aws-vault does: it
asks for a code on the terminal (/dev/tty: botocore captures this program's stdout and stderr), calls
sts:GetSessionToken, keeps the session in the keyring until it expires, and prints the session (with
SessionToken and Expiration), so the admin's calls carry MFA and the enforcement policy lets them through.
Secrets go only to the AWS CLI reading this program's stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from wizard.cli_profile import ENTRY, SESSION_ENTRY
from wizard.errors import describe
from wizard.printable import printable
from wizard.secrets import KEYRING_SERVICE, Secret, keyring_entry, read_from_keyring

PROG = "aws-harden credential-process"
# A cached session this close to its end is not handed out: a long command would fail half-way.
MIN_LEFT = timedelta(minutes=5)
CODE_TRIES = 3
# How the terminal is reached: (read a line, write text), or None when there is no terminal. A seam for tests.
Terminal = tuple[Callable[[], str], Callable[[str], None]]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(message)


class Failed(Exception):
    """One line for stderr; the AWS CLI shows it when this program exits non-zero."""


def account_id(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value, re.ASCII):
        raise argparse.ArgumentTypeError("an account id is 12 digits")
    return value


def user_name(value: str) -> str:
    from wizard.protocol import iam_name_problem

    problem = iam_name_problem(value, 64)
    if problem:
        raise argparse.ArgumentTypeError(f"an IAM user name: {problem}")
    return value


def mfa_serial(value: str) -> str:
    if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:mfa/[\w+=,.@/-]{1,512}|[A-Z0-9]{9,64}", value, re.ASCII):
        raise argparse.ArgumentTypeError("an MFA device serial: arn:aws:iam::ACCOUNT:mfa/NAME, or a hardware serial")
    return value


def open_tty() -> Terminal | None:
    """The controlling terminal, for the code: never stdout or stderr, which the AWS CLI captures."""
    try:  # two streams: a terminal is not seekable, which "r+" needs
        reader = open("/dev/tty", errors="replace")  # noqa: SIM115 (open for this one run)
        writer = open("/dev/tty", "w", errors="replace")  # noqa: SIM115
    except OSError:
        return None

    def write(text: str) -> None:
        writer.write(text)
        writer.flush()

    return reader.readline, write


def run(argv: Sequence[str], stdout: IO[str], stderr: IO[str]) -> int:
    parser = _Parser(prog=PROG, description="print the admin's credentials from the OS keyring for the AWS CLI")
    parser.add_argument("--account", required=True, type=account_id)
    parser.add_argument("--user", required=True, type=user_name)
    parser.add_argument("--mfa-serial", type=mfa_serial, help="the admin's MFA device (default: found in IAM)")
    try:
        args = parser.parse_args(list(argv))
        payload = credentials(args.account, args.user, args.mfa_serial)
    except (ValueError, Failed) as exc:
        stderr.write(f"{PROG}: error: {printable(exc)}\n")
        return 1
    stdout.write(json.dumps(payload) + "\n")
    return 0


def credentials(account: str, user: str, serial: str | None) -> dict[str, Any]:
    """What to print: a cached MFA session, a new one, or (no MFA device) the long-term key."""
    key = long_term_key(account, user)
    cached = cached_session(account, user, serial)
    if cached is not None:
        return cached
    if serial is None:
        serial = find_device(key, user)
    if serial is None:
        return {"Version": 1, "AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    session = new_session(key, serial)
    keep_session(account, user, serial, session)
    return session


def _keyring_read(entry: str) -> Secret | None:
    try:
        return read_from_keyring(entry)
    except Exception as exc:  # a locked or broken keyring: say so in one line
        raise Failed(f"cannot read the OS keyring: {exc}") from None


def long_term_key(account: str, user: str) -> dict[str, str]:
    entry = keyring_entry(account, user, ENTRY)
    secret = _keyring_read(entry)
    if secret is None:
        raise Failed(f"no access key in the OS keyring (service '{KEYRING_SERVICE}', entry '{entry}'); run "
                     "'aws-harden apply' with programmatic access on this machine")
    try:
        stored = json.loads(secret.reveal())
        return {"AccessKeyId": str(stored["AccessKeyId"]), "SecretAccessKey": str(stored["SecretAccessKey"])}
    except (ValueError, KeyError, TypeError):
        raise Failed(f"'{entry}' is not an aws-harden key") from None


def cached_session(account: str, user: str, serial: str | None) -> dict[str, Any] | None:
    """The session kept by an earlier run, while it has more than MIN_LEFT to live (and is for `serial`)."""
    secret = _keyring_read(keyring_entry(account, user, SESSION_ENTRY))
    if secret is None:
        return None
    try:
        stored = json.loads(secret.reveal())
        expiration = datetime.fromisoformat(stored["Expiration"])
        if serial is not None and stored.get("SerialNumber") != serial:
            return None
        if expiration - datetime.now(UTC) < MIN_LEFT:
            return None
        return {"Version": 1, **{k: stored[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")},
                "Expiration": expiration.isoformat()}
    except (ValueError, KeyError, TypeError):
        return None  # not one of ours: a new session replaces it


def sts_client(key: dict[str, str], service: str = "sts") -> Any:
    """A client on the long-term key alone: no profile is read (this program runs for one), AWS_ENDPOINT_URL
    and AWS_REGION are honoured as the AWS CLI honours them."""
    import os

    from wizard.aws import client_config, isolated_session
    from wizard.secrets import redact_aws_logs

    redact_aws_logs()  # the session's secret and token are in GetSessionToken's response body
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return isolated_session(key["AccessKeyId"], key["SecretAccessKey"], region).client(
        service, config=client_config())


def find_device(key: dict[str, str], user: str) -> str | None:
    """The admin's first MFA device that gives codes (virtual or hardware; a passkey or security key cannot
    be used from the CLI), or None when it has none. A profile written before the device existed finds it."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        devices = sts_client(key, "iam").list_mfa_devices(UserName=user)["MFADevices"]
    except (ClientError, BotoCoreError) as exc:
        raise Failed(f"cannot list {user}'s MFA devices: {describe(exc)}") from None
    serials = [str(d["SerialNumber"]) for d in sorted(devices, key=lambda d: str(d.get("EnableDate", "")))]
    usable = [s for s in serials if ":u2f/" not in s]
    return usable[0] if usable else None


def new_session(key: dict[str, str], serial: str) -> dict[str, Any]:
    """Ask for a code on the terminal and trade it for a session (sts:GetSessionToken, AWS's default 12 h)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from wizard.totp import code_problem, normalise

    terminal = open_tty()
    if terminal is None:
        raise Failed(f"an MFA code from {serial} is needed and there is no terminal to ask on; run the command "
                     "in a terminal (the code is asked on /dev/tty)")
    read, write = terminal
    sts = sts_client(key)
    for attempt in range(1, CODE_TRIES + 1):
        write(f"Enter MFA code for {serial}: ")
        code = normalise(read())
        problem = code_problem(code)
        if problem is None:
            try:
                issued = sts.get_session_token(SerialNumber=serial, TokenCode=code)["Credentials"]
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code")) != "AccessDenied":
                    raise Failed(describe(exc)) from None
                problem = "AWS did not accept this code; wait for the next one"
            except BotoCoreError as exc:
                raise Failed(describe(exc)) from None
            else:  # wrapped at once, as every secret the product handles (the leak guard learns them so)
                secret, token = Secret(str(issued["SecretAccessKey"])), Secret(str(issued["SessionToken"]))
                return {"Version": 1, "AccessKeyId": str(issued["AccessKeyId"]), "SecretAccessKey": secret.reveal(),
                        "SessionToken": token.reveal(), "Expiration": issued["Expiration"].astimezone(UTC).isoformat()}
        write(f"{problem}{'' if attempt == CODE_TRIES else ' (try again)'}\n")
    raise Failed(f"no MFA session: {CODE_TRIES} codes were refused")


def keep_session(account: str, user: str, serial: str, session: dict[str, Any]) -> None:
    """Best effort: a keyring that cannot keep it (or a plain file nobody chose) means a code next time."""
    from wizard.secrets import store_in_keyring

    record = {k: session[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")}
    with contextlib.suppress(Exception):  # caching only (KeyringUnavailable, a locked keyring): still printed
        store_in_keyring(keyring_entry(account, user, SESSION_ENTRY),
                         Secret(json.dumps({**record, "SerialNumber": serial})))
