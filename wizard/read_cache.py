"""One answer per distinct read in a read-only run, shared by every step that asks.

Used in `check` and `plan`, where nothing changes the account while the run lasts. It works as a
botocore `before-call` hook returning the stored response, so the client still parses errors and
raises them as usual. Two threads asking the same read at once: the first sends, the other waits.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from typing import Any

from wizard.write_guard import CALL_KIND


class _Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.response: tuple[Any, Any] | None = None


class ReadCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Pending] = {}
        self.sent: Counter[str] = Counter()
        self.served: Counter[str] = Counter()

    @staticmethod
    def _key(operation: str, request: dict[str, Any]) -> tuple[str, str]:
        """The operation, its method, URL and body, and the client's region: behind one --endpoint-url (the
        sandbox, an emulator) every region's request has the same URL and body."""
        body = request.get("body")
        if isinstance(body, dict):
            body = sorted(body.items())
        region = (request.get("context") or {}).get("client_region")
        return operation, repr((request.get("method"), request.get("url"), body, region))

    def before_call(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        operation = f"{model.service_model.service_name}:{model.name}"
        if context.get(CALL_KIND) != "read":  # only what the write guard let through as a declared read
            return None
        key = self._key(operation, params)
        with self._lock:
            pending = self._entries.get(key)
            if pending is None:
                self._entries[key] = _Pending()
                context["aws_harden_read_key"] = key
                self.sent[operation] += 1
                return None
        pending.done.wait()
        if pending.response is None:  # the first asker failed to get any answer: ask again ourselves
            with self._lock:
                self.sent[operation] += 1
            return None
        with self._lock:
            self.served[operation] += 1
        http, parsed = pending.response
        return http, copy.deepcopy(parsed)

    def after_call(self, http_response: Any, parsed: Any, context: dict[str, Any], **_: Any) -> None:
        key = context.pop("aws_harden_read_key", None)
        if key is not None:
            pending = self._entries[key]
            pending.response = (http_response, copy.deepcopy(parsed))
            pending.done.set()

    def after_call_error(self, context: dict[str, Any], **_: Any) -> None:
        key = context.pop("aws_harden_read_key", None)
        if key is not None:
            with self._lock:
                pending = self._entries.pop(key)
            pending.done.set()

    def attach(self, client: Any) -> None:
        """Register on a step's client, after the write guard (which marks the reads) and before any hook."""
        events = client.meta.events
        events.register("before-call", self.before_call, unique_id="aws-harden-read-cache")
        # First, before botocore's own after-call handlers: they change the parsed answer in place (IAM's policy
        # documents are URL-decoded and parsed, botocore.handlers.json_decode_policies), and run again on every
        # answer served from here, so what is kept must be the answer as parsed, not as they left it.
        # (botocore calls a service's handlers before the catch-all ones, so this one is on the service too.)
        service = client.meta.service_model.service_id.hyphenize()
        events.register_first(f"after-call.{service}", self.after_call, unique_id="aws-harden-read-cache-after")
        events.register("after-call-error", self.after_call_error, unique_id="aws-harden-read-cache-error")

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())
