"""Helpers for the root lockdown tests: run the whole program, and drive prompts by what they ask."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests import harness
from wizard.journal import state_dir


def run(argv: Sequence[str], prompter: Any = None, hook: harness.ClientHook | None = None,
        tty: bool = True) -> harness.Result:
    """The whole program in-process (tests/harness.py's run), 200 columns wide; `hook` on every client
    (fault injection). Its Result has every operation sent (`operations`) and the guard's `writes`."""
    return harness.run(*argv, answers=prompter, stdin="tty" if tty else "pipe", width=200, on_client=hook)


# The steps of the root lockdown; the later ones (MFA, trail, billing) need a person or more answers.
LOCKDOWN = "admin-user,admin-group,root-access-keys,password-policy,signin-link"


def Driver(rules: dict[str, list[object]]) -> harness.Script:
    """A Prompter answering by what each prompt says: {substring: [answers, in order]}; unknown prompts fail
    (EOFError). An answer may be a callable taking the message (e.g. to read a key id out of it). For select,
    the answer is a substring of the choice to pick. Answers failing validation go to `rejected` (retyped)."""
    return harness.Script(keyed=rules)


def journal_entries(account: str = "123456789012", base: Path | None = None) -> list[dict[str, Any]]:
    path = (base or state_dir()) / "journal" / f"{account}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


EARLIER_PASSWORD = "Example-Passw0rd-123!"  # a test's value, not one the product generated


def mark_as_wizards(iam: Any, name: str, password: str | None = EARLIER_PASSWORD,
                    account: str = "123456789012") -> None:
    """What an earlier aws-harden run on this machine leaves on a user: its tag, and (password given) the
    user's console password in this machine's keyring."""
    import keyring

    iam.tag_user(UserName=name, Tags=[{"Key": "created-by", "Value": "aws-harden"}])
    if password is not None:
        keyring.set_password("aws-harden", f"{account}/{name}/console-password", password)


def create_admin(iam: Any, name: str = "admin", group: str = "FullAccess", reset: bool = True) -> None:
    """An IAM admin an earlier aws-harden run made, who can take over from root: console access with the
    password in the keyring, AdministratorAccess through the wizard's group."""
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=EARLIER_PASSWORD, PasswordResetRequired=reset)
    mark_as_wizards(iam, name)
    iam.create_group(GroupName=group, Path="/aws-harden/")
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.add_user_to_group(GroupName=group, UserName=name)


def key_in(message: str) -> str:
    """The access key id a confirmation prompt names."""
    return next(word for word in message.split() if word.startswith("AKIA"))
