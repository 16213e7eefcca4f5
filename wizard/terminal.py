"""Where output may go: the terminal a secret may be shown on, and streams that cannot encode the symbols.

Kept free of heavy imports: the command line uses it before anything else is loaded.
"""

from __future__ import annotations

from typing import IO, Any, cast


def open_terminal(out: IO[str]) -> IO[str] | None:
    """Where a secret (a QR code, a key as text, a password shown once) may be shown: stdout when it is a
    terminal, else the controlling terminal (/dev/tty, as ssh and gpg ask for passwords), else nowhere: a
    secret never goes to a redirected stdout, a pipe or a log file."""
    isatty = getattr(out, "isatty", None)
    if callable(isatty) and isatty():
        return out
    try:
        return open("/dev/tty", "w", errors="replace")  # the locale's encoding, as the terminal's
    except OSError:
        return None


def can_encode(stream: IO[str], text: str) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


# What the wizard's symbols become on an output that cannot encode them (LANG=C with PYTHONIOENCODING=ascii,
# a cp1252 console); any other character it cannot encode is written as its Python escape.
ASCII_FALLBACK = {"✓": "ok", "✗": "x", "•": "-", "⚠": "!", "–": "-", "—": "-", "…": "...", "·": "-", "→": "->"}


class AsciiFallback:
    """A text stream in front of one whose encoding lacks the wizard's symbols: they are replaced, the rest
    escaped, so output never dies with UnicodeEncodeError. Rich still sees the real encoding (ASCII boxes)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.encoding = getattr(stream, "encoding", None) or "ascii"
        self._table = str.maketrans({c: r for c, r in ASCII_FALLBACK.items() if not can_encode(stream, c)})

    def write(self, text: str) -> int:
        fitted = text.translate(self._table).encode(self.encoding, "backslashreplace").decode(self.encoding)
        return self.stream.write(fitted)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, ...: the real stream's
        return getattr(self.stream, name)


def fit_stream(stream: IO[str]) -> IO[str]:
    """`stream`, or an AsciiFallback in front of it when it cannot encode the wizard's symbols."""
    if isinstance(stream, AsciiFallback) or can_encode(stream, "".join(ASCII_FALLBACK)):
        return stream
    return cast(IO[str], AsciiFallback(stream))
