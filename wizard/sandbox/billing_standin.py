"""A minimal in-memory stand-in for two billing APIs moto lacks, for the sandbox only.

moto has no `cur` (legacy Cost and Usage Reports) and no `bcm-data-exports` (Data Exports, CUR 2.0);
in server mode they answer HTTP 500. So that a newcomer can walk the billing-report step in the
sandbox, the sandbox's clients for these two services get a botocore `before-send` handler that
answers the few calls the step makes from a dictionary in this process. Nothing is sent anywhere.

It is a stand-in, not a simulation: it checks every request and answer against botocore's service
model (`problems()` below, also used by the tests), keeps exports and report definitions, and
reports every export as HEALTHY. It does not look at the S3 bucket, deliver files or bill anything.
Its state survives a sandbox restart because the sandbox replays the writes it recorded, and the
replaying clients are hooked up here too.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from wizard.sandbox import standin_hooks

SERVICES = frozenset({"cur", "bcm-data-exports"})
Answer = tuple[int, dict[str, Any]]


def problems(value: Any, shape: Any, where: str = "") -> list[str]:
    """Where `value` (JSON as sent on the wire) does not fit the botocore shape: unknown or missing
    members, wrong types, values outside an enum. An empty list means it conforms."""
    kind = shape.type_name
    here = where or shape.name
    if kind == "structure":
        if not isinstance(value, Mapping):
            return [f"{here}: expected an object"]
        found = [f"{here}: unknown member {k}" for k in value if k not in shape.members]
        found += [f"{here}: missing required {k}" for k in shape.required_members if k not in value]
        for key, member in shape.members.items():
            if key in value:
                found += problems(value[key], member, f"{here}.{key}")
        return found
    if kind == "list":
        if not isinstance(value, list):
            return [f"{here}: expected a list"]
        return [p for i, item in enumerate(value) for p in problems(item, shape.member, f"{here}[{i}]")]
    if kind == "map":
        if not isinstance(value, Mapping):
            return [f"{here}: expected a map"]
        found = []
        for key, item in value.items():
            found += problems(key, shape.key, f"{here} key")
            found += problems(item, shape.value, f"{here}[{key}]")
        return found
    if kind == "string":
        if not isinstance(value, str):
            return [f"{here}: expected a string"]
        enum = shape.enum
        if enum and value not in enum:
            return [f"{here}: {value!r} is not one of {', '.join(enum)}"]
        return []
    if kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{here}: expected an integer"]
    if kind in ("float", "double"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{here}: expected a number"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{here}: expected a boolean"]
    if kind == "timestamp":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{here}: expected epoch seconds"]
    return [f"{here}: shape type {kind} is not handled by the stand-in"]


class _Body:
    """The raw stream botocore's AWSResponse reads its content from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


def _error(code: str, message: str) -> Answer:
    return 400, {"__type": code, "message": message}


class BillingStandIn:
    """Answers `cur` and `bcm-data-exports` requests locally, from what earlier calls created."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.exports: dict[str, dict[str, Any]] = {}  # by ARN: {"Export": ..., "ExportStatus": ...}
        self.reports: dict[str, dict[str, Any]] = {}  # by ReportName
        self.answered: list[str] = []  # "service:Operation", for the tests' record
        self._lock = threading.Lock()
        self._handlers: dict[str, dict[str, Callable[[dict[str, Any]], Answer]]] = {
            "bcm-data-exports": {
                "ListExports": self._list_exports,
                "GetExport": self._get_export,
                "CreateExport": self._create_export,
            },
            "cur": {
                "DescribeReportDefinitions": self._describe_reports,
                "PutReportDefinition": self._put_report,
            },
        }

    def attach(self, client: Any, service: str) -> None:
        """Answer this client's requests here, if it is for one of SERVICES."""
        standin_hooks.attach(client, service, SERVICES, self._sender, "aws-harden-billing-standin")

    def answering_every_session(self) -> AbstractContextManager[None]:
        """For in-process moto tests: every botocore session made meanwhile sends SERVICES here."""
        return standin_hooks.every_session(SERVICES, self._sender)

    def _sender(self, model: Any) -> Callable[..., Any]:
        def before_send(request: Any, **_: Any) -> Any:
            from botocore.awsrequest import AWSResponse, HTTPHeaders

            status, body = self.answer(model, request.headers.get("X-Amz-Target", b""), request.body)
            headers = HTTPHeaders()
            headers["Content-Type"] = "application/x-amz-json-1.1"
            headers["x-amzn-RequestId"] = str(uuid.uuid4())
            return AWSResponse(request.url, status, headers, _Body(json.dumps(body).encode()))

        return before_send

    def answer(self, model: Any, target: str | bytes, raw_body: str | bytes | None) -> Answer:
        """One request in (service model, X-Amz-Target, JSON body), one (status, JSON body) out."""
        if isinstance(target, bytes):
            target = target.decode()
        operation = str(target).rsplit(".", 1)[-1]
        service = model.service_name
        handler = self._handlers.get(service, {}).get(operation)
        if handler is None or operation not in model.operation_names:
            return _error("UnsupportedOperation", f"the sandbox stand-in for {service} has no {operation}")
        if isinstance(raw_body, bytes):
            raw_body = raw_body.decode()
        request = json.loads(raw_body or "{}")
        wrong = problems(request, model.operation_model(operation).input_shape)
        if wrong:
            return _error("ValidationException", "; ".join(wrong))
        with self._lock:
            status, body = handler(request)
        if status < 300:
            self.answered.append(f"{service}:{operation}")
        return status, body

    # --- bcm-data-exports -------------------------------------------------------------------
    def _list_exports(self, request: dict[str, Any]) -> Answer:
        refs = [
            {"ExportArn": arn, "ExportName": item["Export"]["Name"], "ExportStatus": item["ExportStatus"]}
            for arn, item in self.exports.items()
        ]
        return 200, {"Exports": refs}

    def _get_export(self, request: dict[str, Any]) -> Answer:
        item = self.exports.get(request["ExportArn"])
        if item is None:
            return _error("ResourceNotFoundException", f"export {request['ExportArn']} does not exist")
        return 200, item

    def _create_export(self, request: dict[str, Any]) -> Answer:
        export = dict(request["Export"])
        name = export["Name"]
        if not re.fullmatch(r"[0-9A-Za-z\-_]{1,128}", name):
            return _error("ValidationException", f"invalid export name {name!r}")
        if any(item["Export"]["Name"] == name for item in self.exports.values()):
            return _error("ValidationException", f"an export named {name} already exists")
        suffix = uuid.uuid5(uuid.NAMESPACE_URL, name)  # the same on replay, so ARNs survive a restart
        arn = f"arn:aws:bcm-data-exports:us-east-1:{self.account}:export/{name}-{suffix}"
        export["ExportArn"] = arn
        now = time.time()
        status = {"StatusCode": "HEALTHY", "CreatedAt": now, "LastUpdatedAt": now}
        self.exports[arn] = {"Export": export, "ExportStatus": status}
        return 200, {"ExportArn": arn}

    # --- cur (legacy Cost and Usage Reports) ------------------------------------------------
    def _describe_reports(self, request: dict[str, Any]) -> Answer:
        return 200, {"ReportDefinitions": list(self.reports.values())}

    def _put_report(self, request: dict[str, Any]) -> Answer:
        definition = request["ReportDefinition"]
        if definition["ReportName"] in self.reports:
            return _error("DuplicateReportNameException", f"a report named {definition['ReportName']} exists")
        if len(self.reports) >= 5:
            return _error("ReportLimitReachedException", "at most 5 report definitions")
        self.reports[definition["ReportName"]] = definition
        return 200, {}
