"""The wizard's own state files (the journal, the sandbox's writes.jsonl and identity.json), opened safely.

They live in a directory others may be able to write to (a shared $XDG_STATE_HOME, a mistaken
AWS_HARDEN_STATE_DIR), so a file there is never followed through a symbolic link (O_NOFOLLOW: a link
planted as the journal would otherwise make the wizard append to, or read, any file the operator can),
must be a regular file (not a FIFO that blocks the run or a device), and is read only up to a size limit.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from wizard.errors import WizardError

MiB = 1024 * 1024
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not hang; it is refused right after


class UnsafeStateFile(WizardError):
    """A state file is a symbolic link, not a regular file, or too large."""


def _open(path: Path, flags: int, mode: int = 0o600) -> int:
    try:
        fd = os.open(path, flags | NOFOLLOW | CLOEXEC | NONBLOCK, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) and path.is_symlink():  # Linux/macOS say ELOOP, BSD EMLINK
            raise UnsafeStateFile(f"{path} is a symbolic link; aws-harden does not follow links for its state "
                                  "files: remove the link and run again") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UnsafeStateFile(f"{path} is not a regular file; remove it and run again")
    if NONBLOCK:
        os.set_blocking(fd, True)
    return fd


def append_line(path: Path, line: str) -> None:
    """Append one line (the file made 0600, its directory 0700, when new)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = _open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def write_text(path: Path, text: str) -> None:
    """Replace the file's content (0600, directory 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = _open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def read_text(path: Path, limit: int) -> str | None:
    """The file's text, or None when it does not exist; larger than `limit` bytes is an error."""
    try:
        fd = _open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnsafeStateFile(f"{path} is larger than {limit // MiB} MiB; move it aside and run again")
    return data.decode("utf-8", errors="replace")
