"""The local TOTP check and the terminal QR code: pure data, no AWS."""

from __future__ import annotations

import segno

from steps.user_mfa import otpauth_uri
from wizard import totp
from wizard.render import qr_text
from wizard.secrets import Secret

# RFC 6238 appendix B: ASCII "12345678901234567890" as base32; its SHA-1 codes, last 6 digits.
RFC_SEED = Secret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
NOW = 1_700_000_000.0


def pair(offset_steps: int = 0) -> tuple[str, str]:
    return totp.consecutive_codes(RFC_SEED, NOW + offset_steps * totp.PERIOD)


def test_codes_match_rfc6238_vectors() -> None:
    assert totp.code_at(RFC_SEED, totp.counter_at(59)) == "287082"
    assert totp.code_at(RFC_SEED, totp.counter_at(1111111109)) == "081804"
    assert totp.code_at(RFC_SEED, totp.counter_at(2000000000)) == "279037"


def test_two_consecutive_current_codes_pass_with_one_step_of_drift() -> None:
    assert totp.check_pair(RFC_SEED, *pair(), now=NOW) is None
    assert totp.check_pair(RFC_SEED, *pair(-1), now=NOW) is None
    assert totp.check_pair(RFC_SEED, *pair(1), now=NOW) is None
    first, second = pair()
    assert totp.check_pair(RFC_SEED, f"{first[:3]} {first[3:]}", second, now=NOW) is None


def test_wrong_codes_are_refused_with_a_reason() -> None:
    first, second = pair()
    wrong = str((int(second) + 1) % 1_000_000).zfill(6)
    assert "do not belong to this device" in (totp.check_pair(RFC_SEED, "111111", "222222", NOW) or "")
    assert "first code is right" in (totp.check_pair(RFC_SEED, first, wrong, NOW) or "")


def test_stale_codes_and_a_fast_phone_clock_are_explained() -> None:
    stale = totp.check_pair(RFC_SEED, *pair(-6), now=NOW)
    assert stale is not None and "3 minutes old" in stale
    ahead = totp.check_pair(RFC_SEED, *pair(4), now=NOW)
    assert ahead is not None and "ahead" in ahead and "clock" in ahead


def test_same_code_twice_and_non_digits_are_refused() -> None:
    first, _ = pair()
    same = totp.check_pair(RFC_SEED, first, first, NOW)
    assert same is not None and "the same" in same
    for bad in ("12a456", "12345", "1234567", "", "abcdef"):
        assert totp.code_problem(bad) is not None
        assert totp.check_pair(RFC_SEED, bad, pair()[1], NOW) is not None
    assert totp.code_problem("123 456") is None


def test_otpauth_uri_carries_the_seed_only_inside_a_secret() -> None:
    uri = otpauth_uri("ops.alice", "123456789012", Secret("ABCDEFGH"))
    assert str(uri) == "(sensitive value)"
    assert uri.reveal() == (
        "otpauth://totp/Amazon%20Web%20Services%3Aops.alice%40123456789012"
        "?secret=ABCDEFGH&issuer=Amazon%20Web%20Services"
    )


def decode_drawing(text: str) -> list[list[bool]]:
    """Half blocks back to modules (True = dark): the drawing is light-on-dark, so a blank is dark."""
    upper = {"█": False, "▀": False, "▄": True, " ": True}
    lower = {"█": False, "▀": True, "▄": False, " ": True}
    rows: list[list[bool]] = []
    for line in text.splitlines():
        rows.append([upper[c] for c in line])
        rows.append([lower[c] for c in line])
    return rows


def test_qr_drawing_is_the_qr_code_of_the_uri() -> None:
    uri = otpauth_uri("admin", "123456789012", Secret("JBSWY3DPEHPK3PXP" * 2)).reveal()
    drawing = qr_text(uri)
    assert "JBSW" not in drawing
    modules = decode_drawing(drawing)
    expected = [[bool(m) for m in row] for row in segno.make(uri, error="m", micro=False).matrix]
    size, border = len(expected), 2
    assert [row[border : border + size] for row in modules[border : border + size]] == expected
    # The quiet zone around it is light.
    assert not any(modules[0]) and not any(row[0] for row in modules[: size + 2 * border])
