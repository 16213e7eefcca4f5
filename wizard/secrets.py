"""Secrets: generated, kept in the OS keyring, and never printed, logged or journaled by accident."""

from __future__ import annotations

import logging
import re
import secrets as random_source
import string
from dataclasses import dataclass
from typing import Any

# How a secret, and a plan's sensitive field, is shown (Terraform's words); protocol.py re-exports it.
SENSITIVE = "(sensitive value)"
KEYRING_SERVICE = "aws-harden"
SYMBOLS = "!@#$%^&*()_+-=[]{}|'"


class Secret:
    """A value that prints as '(sensitive value)' everywhere unless `reveal()` is called on purpose."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return SENSITIVE

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and random_source.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(SENSITIVE)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class PasswordRules:
    """The parts of an account password policy a generated password must satisfy."""

    minimum_length: int = 6
    uppercase: bool = False
    lowercase: bool = False
    numbers: bool = False
    symbols: bool = False


def generate_password(rules: PasswordRules, length: int = 24) -> Secret:
    """At least `length` (and the policy's minimum) characters, with every character class in it."""
    size = max(length, rules.minimum_length, 8)
    alphabet = string.ascii_letters + string.digits + SYMBOLS
    required = [string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS]
    chars = [random_source.choice(group) for group in required]
    chars += [random_source.choice(alphabet) for _ in range(size - len(chars))]
    random_source.SystemRandom().shuffle(chars)
    return Secret("".join(chars))


def keyring_entry(account: str, *parts: str) -> str:
    return "/".join((account, *parts))


class KeyringUnavailable(Exception):
    """No keyring backend on this machine can store a secret."""


def keyring_backend_name() -> str:
    import keyring

    return _name(keyring.get_keyring())


def _name(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _chain(backend: Any) -> list[Any]:
    """The backends a chainer (keyring.backends.chainer) writes through, or the backend itself."""
    inner = getattr(backend, "backends", None)
    return list(inner) if isinstance(inner, list | tuple) else [backend]


def is_plain_file(backend: Any) -> bool:
    """A backend that keeps secrets in a file anyone who can read it can read (keyrings.alt's
    PlaintextKeyring, its file and "encrypted" file keyrings whose key is beside them, and the like): its
    module or class says file or plaintext."""
    return any(
        word in _name(b).lower() for b in _chain(backend) for word in ("file", "plaintext", "plain_text")
    )


def named_explicitly(backend: Any) -> bool:
    """Whether the operator chose this backend: PYTHON_KEYRING_BACKEND, or keyring's config file
    (keyringrc.cfg, [backend] default-keyring), names it."""
    import configparser
    import os

    chosen = {os.environ.get("PYTHON_KEYRING_BACKEND", "").strip()}
    try:
        from keyring.util import platform_

        config = configparser.RawConfigParser()
        config.read(platform_.config_root() / "keyringrc.cfg", encoding="utf-8")
        chosen.add(config.get("backend", "default-keyring", fallback="").strip())
    except (configparser.Error, OSError, ImportError):
        pass
    return _name(backend) in chosen - {""}


def plain_file_keyring() -> str | None:
    """The backend's name when it is a plain file the operator named: usable, with a warning."""
    import keyring

    backend = keyring.get_keyring()
    return _name(backend) if is_plain_file(backend) and named_explicitly(backend) else None


def store_in_keyring(entry: str, secret: Secret) -> str:
    """Store and read back; returns the backend's name. Raises KeyringUnavailable when none works, and when
    keyring picked a plain-file backend by itself (one counts only when the operator named it)."""
    import keyring
    from keyring.errors import KeyringError

    backend = keyring.get_keyring()
    priority = getattr(backend, "priority", 1)
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")) or (
        isinstance(priority, int | float) and priority <= 0 and not getattr(backend, "trusted", False)
    ):
        raise KeyringUnavailable(f"no usable keyring backend ({module})")
    if is_plain_file(backend) and not named_explicitly(backend):
        raise KeyringUnavailable(
            f"the only keyring backend keyring found, {_name(backend)}, keeps secrets in a plain file; to use "
            "it anyway, name it in PYTHON_KEYRING_BACKEND or in keyring's config file"
        )
    try:
        keyring.set_password(KEYRING_SERVICE, entry, secret.reveal())
        if keyring.get_password(KEYRING_SERVICE, entry) != secret.reveal():
            raise KeyringUnavailable("the keyring did not return what was stored")
    except KeyringError as exc:
        raise KeyringUnavailable(str(exc) or type(exc).__name__) from exc
    return keyring_backend_name()


def read_from_keyring(entry: str) -> Secret | None:
    import keyring

    value = keyring.get_password(KEYRING_SERVICE, entry)
    return None if value is None else Secret(value)


def memory_keyring() -> Any:
    """An in-memory backend for the sandbox and the tests; nothing ever reaches the real keyring."""
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        trusted = True

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.entries: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.entries.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.entries[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.entries.pop((service, username), None)

    return MemoryKeyring()


# botocore logs request parameters, headers and raw response bodies at DEBUG; these never reach a log.
# A role's trust policy holds the external id a delegation role is assumed with (steps/delegation_roles.py):
# CreateRole's AssumeRolePolicyDocument, UpdateAssumeRolePolicy's PolicyDocument, GetRole's and ListRoles'
# answers. (Other policy documents are redacted with it: the debug log loses them, which is the safe side.)
LOGGED_SECRET_FIELDS = (
    "Base32StringSeed|QRCodePNG|SecretAccessKey|Password|NewPassword|OldPassword"
    "|AuthenticationCode1|AuthenticationCode2|SessionToken|TokenCode|X-Amz-Security-Token"
    "|AssumeRolePolicyDocument|PolicyDocument"
)
_LOGGED_SECRET = re.compile(
    rf"(<(?P<tag>{LOGGED_SECRET_FIELDS})>)[^<]*(</(?P=tag)>)"  # XML (query protocol) bodies
    # Python dicts and JSON (a request's headers print as bytes, b'...'):
    rf"|(?P<key>['\"](?:{LOGGED_SECRET_FIELDS})['\"]\s*:\s*)b?(?P<q>['\"])(?:\\.|(?!(?P=q)).)*(?P=q)"
    rf"|(?P<form>\b(?:{LOGGED_SECRET_FIELDS})=)[^&'\s]*"  # form-encoded request bodies
    r"|(?P<header>(?i:x-amz-security-token):)[^\s'\\]*"  # the canonical request botocore.auth logs
)


def _redact_match(match: re.Match[str]) -> str:
    if match.group("tag"):
        return f"{match.group(1)}{SENSITIVE}{match.group(3)}"
    if match.group("key"):
        return f"{match.group('key')}'{SENSITIVE}'"
    if match.group("header"):
        return f"{match.group('header')}{SENSITIVE}"
    return f"{match.group('form')}{SENSITIVE}"


class RedactSecrets(logging.Filter):
    """Rewrites a record whose message carries a secret field, so even --debug style logging is safe."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _LOGGED_SECRET.sub(_redact_match, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_aws_logs() -> None:
    """Install the filter on the botocore loggers that print bodies. Idempotent."""
    for name in ("botocore.parsers", "botocore.endpoint", "botocore.httpsession", "botocore.awsrequest",
                 "botocore.auth"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
