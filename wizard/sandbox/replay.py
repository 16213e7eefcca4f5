"""Sandbox persistence: record each successful write the wizard sends, replay them on the next start.

Before every write (live and replayed) moto's random source is seeded with the write's index, so
ids it generates (access keys, MFA serials) come out the same on replay. Secret request values
(passwords, MFA codes) are never recorded: a fixed placeholder is stored in their place, which
moto accepts because it enforces neither.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wizard.write_guard import is_read

SECRET_PARAMS = frozenset(
    {"Password", "NewPassword", "OldPassword", "AuthenticationCode1", "AuthenticationCode2", "SecretAccessKey"}
)
PLACEHOLDER = "Sandbox-Replay-Placeholder-1!"
SEED_BASE = 7_000


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

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, sort_keys=True, default=str) + "\n")

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
            if not is_read(f"{service}:{model.name}"):
                context["aws_harden_params"] = redact(dict(params))
                seed_moto(self.count())

        def record(http_response: Any, parsed: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
            if is_read(f"{service}:{model.name}") or "aws_harden_params" not in context:
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
        for index, entry in enumerate(self.entries()):
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
