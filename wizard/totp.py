"""RFC 6238 TOTP (SHA-1, 6 digits, 30 s), the scheme AWS virtual MFA uses.

It lets the wizard check two codes against the seed before sending them, so a typo, a stale code or
a phone whose clock is off gets a precise message instead of AWS's bare InvalidAuthenticationCode,
and it powers the sandbox's simulated authenticator. The seed only ever arrives as a Secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from collections.abc import Mapping
from typing import Any

from wizard.secrets import Secret

PERIOD = 30
DIGITS = 6
# Codes a step either side of now pass, as AWS allows for a little clock drift.
DRIFT_STEPS = 1
# How far (in steps) to look for a match that explains a wrong pair by a clock that is off.
SKEW_SEARCH_STEPS = 20
CODE_RE = re.compile(r"\d{6}", re.ASCII)


def seed_of(virtual_mfa_device: Mapping[str, Any]) -> Secret:
    """The seed from a CreateVirtualMFADevice response, wrapped at once (boto3 returns it as bytes)."""
    raw = virtual_mfa_device["Base32StringSeed"]
    return Secret(raw.decode("ascii") if isinstance(raw, bytes | bytearray) else str(raw))


def _key(seed: Secret) -> bytes:
    text = seed.reveal().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def code_at(seed: Secret, counter: int) -> str:
    """The code for one 30-second step (RFC 4226 HOTP on the step counter)."""
    digest = hmac.new(_key(seed), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def counter_at(now: float) -> int:
    return int(now // PERIOD)


def normalise(code: str) -> str:
    """Apps show codes as '123 456'; people type them that way too."""
    return code.replace(" ", "").replace("-", "").strip()


def code_problem(code: str) -> str | None:
    """The format check a prompt can do on each code; None when it looks like a code."""
    if not CODE_RE.fullmatch(normalise(code)):
        return "a code is the 6 digits the app shows now (digits only)"
    return None


def consecutive_codes(seed: Secret, now: float) -> tuple[str, str]:
    """The previous and the current code: what a person would type after waiting for the app to change."""
    current = counter_at(now)
    return code_at(seed, current - 1), code_at(seed, current)


def check_pair(seed: Secret, first: str, second: str, now: float) -> str | None:
    """Why these two codes would fail EnableMFADevice, in words the operator can act on; None if they pass."""
    first, second = normalise(first), normalise(second)
    for code in (first, second):
        problem = code_problem(code)
        if problem:
            return problem
    if first == second:
        return (
            "the two codes are the same: after typing the first one, wait for the app to show the next "
            "code (at most 30 seconds) and type that one"
        )
    current = counter_at(now)
    # The pair passes when the second code is the current step, or one step either side of it.
    for second_step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if code_at(seed, second_step - 1) == first and code_at(seed, second_step) == second:
            return None
    for offset in range(-SKEW_SEARCH_STEPS, SKEW_SEARCH_STEPS + 1):
        step = current + offset
        if code_at(seed, step - 1) == first and code_at(seed, step) == second:
            minutes = abs(offset) * PERIOD / 60
            if offset < 0:
                return (
                    f"these codes are about {minutes:g} minutes old: type the codes the app shows now; "
                    "if they are fresh, the phone's clock is behind (set its time to automatic)"
                )
            return (
                f"these codes are about {minutes:g} minutes ahead: the phone's clock is fast "
                "(set its time to automatic) or this computer's clock is slow"
            )
    if any(code_at(seed, current + d) == second for d in range(-DRIFT_STEPS, DRIFT_STEPS + 1)):
        return "the second code is right but the first is not the one just before it: type two codes in a row"
    if any(code_at(seed, current + d) == first for d in range(-DRIFT_STEPS - 1, DRIFT_STEPS + 1)):
        return "the first code is right but the second is not the next one: wait for the app to change first"
    return (
        "these codes do not belong to this device: check that the app entry is the one just added "
        "(scan the QR code shown here, not an older one) and that the digits are typed correctly"
    )
