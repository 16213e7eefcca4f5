"""The admin's AWS CLI profile: a `credential_process` line that fetches the key from the OS keyring,
so no secret is ever written to ~/.aws/credentials or any other file.

The profile goes to the AWS config file ($AWS_CONFIG_FILE, else ~/.aws/config), appended; an existing
profile of the same name that aws-harden did not write is never touched, nor a file botocore cannot parse.
After the append the file is parsed again as botocore parses it, and restored byte for byte if it no
longer parses or does not hold the profile. In the sandbox it goes to a file in the sandbox's own
directory instead, so a sandbox run never edits the real AWS configuration.
"""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wizard.errors import WizardError
from wizard.journal import state_dir

ENTRY = "access-key"  # keyring entry <account>/<user>/access-key holds {"AccessKeyId", "SecretAccessKey"}
# <account>/<user>/mfa-session: the MFA session credential-process got last, kept until it expires.
SESSION_ENTRY = "mfa-session"
COMMAND = "credential-process"


def config_path(sandbox: bool) -> Path:
    if sandbox:
        return state_dir() / "sandbox" / "aws-config"
    return Path(os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config").expanduser()


def section(profile: str) -> str:
    return "default" if profile == "default" else f"profile {profile}"


def command_for(account: str, user: str, mfa_serial: str | None = None) -> str:
    """The command the AWS CLI runs: this installation's aws-harden by absolute path, so no PATH is needed;
    with the admin's MFA device when it has one (without, credential-process looks the device up)."""
    beside = Path(sys.executable).parent / "aws-harden"
    program = str(beside) if beside.exists() else shutil.which("aws-harden") or "aws-harden"
    serial = ["--mfa-serial", mfa_serial] if mfa_serial else []
    return shlex.join([program, COMMAND, "--account", account, "--user", user, *serial])


def is_ours(credential_process: str, account: str, user: str) -> bool:
    try:
        words = shlex.split(credential_process)
    except ValueError:
        return False
    if COMMAND not in words:
        return False
    rest = words[words.index(COMMAND) + 1:]
    return rest[:4] == ["--account", account, "--user", user] and (len(rest) == 4 or (
        len(rest) == 6 and rest[4] == "--mfa-serial"))


@dataclass(frozen=True)
class ProfileStatus:
    name: str
    path: str
    state: Literal["missing", "ours", "other", "unreadable"]


def _parsed(path: Path) -> configparser.RawConfigParser:
    """The file as botocore reads it (botocore.configloader: a strict RawConfigParser); raises on an error."""
    parser = configparser.RawConfigParser()
    with path.open(encoding="utf-8") as fh:
        parser.read_file(fh)
    return parser


def read_status(path: Path, profile: str, account: str, user: str) -> ProfileStatus:
    if not path.exists():
        return ProfileStatus(profile, str(path), "missing")
    try:
        parser = _parsed(path)
    except (configparser.Error, UnicodeDecodeError, OSError):
        return ProfileStatus(profile, str(path), "unreadable")  # botocore cannot read it: never touch it
    if not parser.has_section(section(profile)):
        return ProfileStatus(profile, str(path), "missing")
    process = parser.get(section(profile), "credential_process", fallback="")
    ours = bool(process) and is_ours(process, account, user)
    return ProfileStatus(profile, str(path), "ours" if ours else "other")


def profile_block(existing: str, profile: str, account: str, user: str, region: str,
                  mfa_serial: str | None = None) -> str:
    return (
        ("\n" if existing and not existing.endswith("\n") else "")
        + ("\n" if existing.strip() else "")
        + f"[{section(profile)}]\n"
        + "# written by aws-harden: the key is read from the OS keyring, never stored in a file; with an MFA\n"
        + "# device, a code is asked on the terminal and the session kept in the keyring until it expires\n"
        + f"credential_process = {command_for(account, user, mfa_serial)}\n"
        + f"region = {region}\n"
    )


def append_profile(path: Path, profile: str, account: str, user: str, region: str,
                   mfa_serial: str | None = None) -> None:
    """Append the profile (creating the file 0600 in a 0700 directory when new); nothing else is rewritten.
    If the file then does not parse, or does not hold the profile, it is put back as it was."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    previous = path.read_bytes() if path.exists() else None
    existing = (previous or b"").decode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(profile_block(existing, profile, account, user, region, mfa_serial))
    try:
        written = _parsed(path).get(section(profile), "credential_process", fallback="")
        problem = None if is_ours(written, account, user) else f"no aws-harden profile {profile} in it"
    except (configparser.Error, UnicodeDecodeError) as exc:
        problem = str(exc).splitlines()[0]
    if problem is None:
        return
    if previous is None:
        path.unlink()
    else:
        with path.open("wb") as fh:  # the same file (and link target) the append went to
            fh.write(previous)
    raise WizardError(f"the AWS config file {path} did not parse after adding the profile {profile} ({problem}); "
                      "it was restored as it was")
