"""An append-only record of every change the wizard applied, one JSON line each, one file per account.

It is what lets a re-run say where the last one stopped. It never holds a secret: changes are
written through Change.as_record(), which shows sensitive fields as '(sensitive value)'.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.protocol import Change


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

    def _write(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = json.dumps(entry, sort_keys=True, default=str)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

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
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError:
                        continue

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
