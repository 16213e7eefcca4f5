"""`aws-harden credential-process`: what the AWS CLI runs for the admin's profile.

It reads the admin's access key from the OS keyring and prints the JSON the AWS CLI's credential_process
expects (Version 1). The secret goes only to the AWS CLI reading this program's stdout.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from typing import IO

from wizard.cli_profile import ENTRY
from wizard.printable import printable
from wizard.secrets import KEYRING_SERVICE, keyring_entry, read_from_keyring


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(message)


def account_id(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value, re.ASCII):
        raise argparse.ArgumentTypeError("an account id is 12 digits")
    return value


def run(argv: Sequence[str], stdout: IO[str], stderr: IO[str]) -> int:
    parser = _Parser(prog="aws-harden credential-process",
                     description="print the admin's access key from the OS keyring for the AWS CLI")
    parser.add_argument("--account", required=True, type=account_id)
    parser.add_argument("--user", required=True)
    try:
        args = parser.parse_args(list(argv))
    except ValueError as exc:
        stderr.write(f"aws-harden credential-process: error: {exc}\n")
        return 1
    entry = keyring_entry(args.account, args.user, ENTRY)
    try:
        secret = read_from_keyring(entry)
    except Exception as exc:  # a locked or broken keyring: say so in one line
        stderr.write(f"aws-harden credential-process: error: cannot read the OS keyring: {printable(exc)}\n")
        return 1
    if secret is None:
        stderr.write(
            f"aws-harden credential-process: error: no access key in the OS keyring (service "
            f"'{KEYRING_SERVICE}', entry '{entry}'); run 'aws-harden apply' with programmatic access "
            "on this machine\n"
        )
        return 1
    try:
        stored = json.loads(secret.reveal())
        payload = {"Version": 1, "AccessKeyId": stored["AccessKeyId"],
                   "SecretAccessKey": stored["SecretAccessKey"]}
    except (ValueError, KeyError, TypeError):
        stderr.write(f"aws-harden credential-process: error: '{entry}' is not an aws-harden key\n")
        return 1
    stdout.write(json.dumps(payload) + "\n")
    return 0
