"""Sandbox persistence: record each successful write the wizard sends, replay them on the next start.

Before every write (live and replayed) moto's random source is seeded with the write's index, so
ids it generates (access keys, MFA serials) come out the same on replay. Secret request values
(passwords, MFA codes) are never recorded: a fixed placeholder is stored in their place, which
moto accepts because it enforces neither.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wizard import state_files
from wizard.write_guard import CALL_KIND

SECRET_PARAMS = frozenset(
    {"Password", "NewPassword", "OldPassword", "AuthenticationCode1", "AuthenticationCode2", "SecretAccessKey"}
)
PLACEHOLDER = "Sandbox-Replay-Placeholder-1!"
SEED_BASE = 7_000
READ_LIMIT = 64 * state_files.MiB


def seed_moto(index: int) -> None:
    from moto.moto_api._internal import mock_random

    mock_random.seed(SEED_BASE + index)


def redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: PLACEHOLDER if k in SECRET_PARAMS else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    return value


def restore(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"__bytes__"}:
            return base64.b64decode(value["__bytes__"])
        return {k: restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restore(v) for v in value]
    return value


class WriteLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.skipped = 0  # lines that were not recorded writes, when last read

    def entries(self) -> list[dict[str, Any]]:
        """The recorded writes (no symlink followed, size-limited); a line that is not one is skipped."""
        found, self.skipped = [], 0
        for line in (state_files.read_text(self.path, READ_LIMIT) or "").splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("service", "operation")):
                found.append(entry)
            else:
                self.skipped += 1
        return found

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            state_files.append_line(self.path, json.dumps(entry, sort_keys=True, default=str))

    def count(self) -> int:
        return len(self.entries())

    def hook_client(self, client: Any, service: str, region: str, identity: Mapping[str, str] | None = None) -> None:
        """Seed before each write this client sends, and record it once it succeeded. `identity` names, for
        temporary credentials (which a replay cannot use again), the account they act in ("account") and the
        user an IAM call without UserName acts on ("as_user": a root session's root)."""
        events = client.meta.events
        access_key = client._request_signer._credentials.access_key  # the identity it was sent as
        extra = dict(identity or {})

        def remember(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            if context.get(CALL_KIND) == "write":  # what the write guard let through as a write
                context["aws_harden_params"] = redact(dict(params))
                seed_moto(self.count())

        def record(http_response: Any, parsed: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
            if "aws_harden_params" not in context:
                return
            if http_response is not None and http_response.status_code < 300:
                self.append(
                    {
                        "service": service,
                        "region": region,
                        "operation": model.name,
                        "params": context["aws_harden_params"],
                        "access_key": access_key,
                        **extra,
                    }
                )

        events.register("before-parameter-build", remember)
        events.register("after-call", record)

    def replay(self, make_client: Any) -> list[str]:
        """Send every recorded write again, in order; returns a line per write that failed."""
        from botocore import xform_name

        problems: list[str] = []
        entries = self.entries()
        if self.skipped:
            problems.append(f"{self.skipped} line{'s' if self.skipped > 1 else ''} of {self.path} "
                            "are not recorded writes; skipped")
        for index, entry in enumerate(entries):
            client = make_client(entry["service"], entry["region"], entry["access_key"], entry.get("account"))
            params = restore(entry["params"])
            if entry.get("as_user") and "UserName" not in params and "UserName" in (
                    client.meta.service_model.operation_model(entry["operation"]).input_shape.members):
                params["UserName"] = entry["as_user"]
            seed_moto(index)
            try:
                getattr(client, xform_name(entry["operation"]))(**params)
            except Exception as exc:
                problems.append(f"{entry['operation']}: {exc}")
        return problems
