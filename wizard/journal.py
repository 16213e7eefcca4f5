"""An append-only record of every change the wizard applied, one JSON line each, one file per account.

It is what lets a re-run say where the last one stopped. It never holds a secret: changes are
written through Change.as_record(), which shows sensitive fields as '(sensitive value)'. It is opened
without following symbolic links and read with a size limit (wizard/state_files.py); a line that is not
one of its entries (a torn write, an edit by hand) is skipped and counted, never fatal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard import state_files
from wizard.protocol import Change

# A journal larger than this is refused when read (a run appends a few kilobytes).
READ_LIMIT = 64 * state_files.MiB


def state_dir() -> Path:
    """$AWS_HARDEN_STATE_DIR, else the XDG state directory (~/.local/state/aws-harden)."""
    explicit = os.environ.get("AWS_HARDEN_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "aws-harden"


@dataclass(frozen=True)
class Unfinished:
    step: str
    resource: str
    time: str


class Journal:
    def __init__(self, directory: Path, account: str, caller_arn: str, mode: str) -> None:
        self.path = directory / "journal" / f"{account}.jsonl"
        self.account = account
        self.caller_arn = caller_arn
        self.mode = mode
        self.skipped = 0  # lines of the file that were not journal entries, when last read

    def _write(self, entry: dict[str, Any]) -> None:
        state_files.append_line(self.path, json.dumps(entry, sort_keys=True, default=str))

    def record(
        self, step: str, result: str, change: Change | None = None, detail: str = "", **extra: str
    ) -> None:
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "account": self.account,
            "caller": self.caller_arn,
            "mode": self.mode,
            "step": step,
            "result": result,
        }
        if change is not None:
            entry["change"] = change.as_record()
        if detail:
            entry["detail"] = detail
        entry.update(extra)
        self._write(entry)

    def entries(self) -> Iterator[dict[str, Any]]:
        text = state_files.read_text(self.path, READ_LIMIT)
        self.skipped = 0
        for line in (text or "").splitlines():
            if not line.strip():
                continue
            entry = _entry(line)
            if entry is None:
                self.skipped += 1
            else:
                yield entry

    def close_unfinished(self) -> None:
        """Mark what the last run left open as picked up, so it is reported once."""
        for item in self._open_entries():
            self._write({**item, "time": datetime.now(UTC).isoformat(timespec="seconds"), "result": "resumed"})

    def unfinished(self) -> list[Unfinished]:
        return [
            Unfinished(step=e["step"], resource=e["change"]["resource"], time=e["time"])
            for e in self._open_entries()
        ]

    def _open_entries(self) -> list[dict[str, Any]]:
        """Changes the last run started and never saw end (a crash, a kill, a lost network)."""
        open_changes: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in self.entries():
            change = entry.get("change")
            if not change:
                continue
            key = (entry["step"], f"{change.get('key')}|{change.get('resource')}")
            if entry["result"] == "started":
                open_changes[key] = entry
            else:
                open_changes.pop(key, None)
        return list(open_changes.values())


def _entry(line: str) -> dict[str, Any] | None:
    """A journal entry, or None for a line that is not one (not JSON, not an object, fields of other types)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("step", "result", "time")):
        return None
    change = entry.get("change")
    if change is not None and not (isinstance(change, dict) and isinstance(change.get("resource"), str)):
        return None
    return entry
