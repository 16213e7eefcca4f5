"""A minimal in-memory stand-in for the guardrail APIs moto lacks, for the sandbox (and the tests) only.

moto 5.2 has no IAM Access Analyzer (`accessanalyzer`), no Free Tier API (`freetier`) and, in its `account`
service, no GetContactInformation; in server mode they answer HTTP 500 or 404. So that the sandbox can walk
the access-analyzer and root-credentials steps, the sandbox's clients for these services get a botocore
`before-send` handler that answers here, from memory. Nothing is sent anywhere.

It is a stand-in, not a simulation, in the manner of billing_standin.py: every request is checked against
botocore's service model before it is answered (`problems()`); it answers only ListAnalyzers, GetAnalyzer,
CreateAnalyzer and ListFindings (empty: it analyses nothing; Prowler asks for it), GetAccountPlanState and
GetContactInformation. An analyzer is ACTIVE at once (AWS's goes through CREATING). The sandbox stands for an
account from before account plans (July 2025), so GetAccountPlanState answers ResourceNotFoundException
unless a test gives it a plan. Every other `account` call (the alternate contacts) goes on to moto.
Analyzers survive a sandbox restart because the sandbox replays the writes it recorded through hooked clients.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from wizard.sandbox import standin_hooks
from wizard.sandbox.billing_standin import problems

SERVICES = frozenset({"accessanalyzer", "freetier", "account"})
Answer = tuple[int, dict[str, Any]]
Request = dict[str, Any]
# The account's primary contact as the sandbox shows it (a fresh AWS account has the one given at sign-up).
SANDBOX_CONTACT = {
    "FullName": "Sandbox Owner", "CompanyName": "Example Corp (sandbox)", "AddressLine1": "1 Example Street",
    "City": "Seattle", "StateOrRegion": "WA", "PostalCode": "98101", "CountryCode": "US",
    "PhoneNumber": "+1 555 0199",
}
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request", re.ASCII)


def _error(code: str, message: str, status: int = 400) -> Answer:
    return status, {"__type": code, "message": message, "Message": message}


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


class GuardrailStandIn:
    """Answers Access Analyzer, Free Tier and GetContactInformation requests from this process's memory."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.analyzers: dict[str, dict[str, dict[str, Any]]] = {}  # region -> name -> analyzer
        self.account_plan: dict[str, Any] | None = None  # GetAccountPlanState's answer; None: no plan
        self.primary_contact: dict[str, str] | None = dict(SANDBOX_CONTACT)
        self.answered: list[str] = []  # "service:Operation", for the tests' record
        self._lock = threading.Lock()
        self._handlers: dict[str, dict[str, Callable[[Request, str], Answer]]] = {
            "accessanalyzer": {
                "ListAnalyzers": self._list_analyzers, "GetAnalyzer": self._get_analyzer,
                "CreateAnalyzer": self._create_analyzer, "ListFindings": self._list_findings,
            },
            "freetier": {"GetAccountPlanState": self._get_account_plan_state},
            "account": {"GetContactInformation": self._get_contact_information},
        }

    def clear(self) -> None:
        self.analyzers.clear()
        self.account_plan = None
        self.primary_contact = dict(SANDBOX_CONTACT)
        self.answered.clear()

    # --- wiring (as billing_standin.py) -------------------------------------------------------------
    def attach(self, client: Any, service: str) -> None:
        """Answer this client's requests here, if it is for one of SERVICES."""
        standin_hooks.attach(client, service, SERVICES, self._sender, "aws-harden-guardrail-standin")

    def answering_every_session(self) -> AbstractContextManager[None]:
        """For in-process moto tests: every botocore session made meanwhile sends SERVICES here."""
        return standin_hooks.every_session(SERVICES, self._sender)

    def _sender(self, model: Any) -> Callable[..., Any]:
        def before_send(request: Any, **_: Any) -> Any:
            from botocore.awsrequest import AWSResponse, HTTPHeaders

            found = self.answer_http(model, request.method, request.url, dict(request.headers), request.body)
            if found is None:
                return None  # not one of ours: on to moto
            status, body = found
            headers = HTTPHeaders()
            headers["Content-Type"] = "application/json"
            headers["x-amzn-RequestId"] = str(uuid.uuid4())
            if status >= 300:
                headers["x-amzn-ErrorType"] = str(body["__type"])
            return AWSResponse(request.url, status, headers, _Body(json.dumps(body).encode()))

        return before_send

    # --- one request in, one answer out ------------------------------------------------------------
    def operation_of(self, model: Any, method: str, url: str, headers: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The operation a request calls and its URI labels: by X-Amz-Target (json), by method and path
        (rest-json), as botocore's model says each operation is sent."""
        target = headers.get("X-Amz-Target") or b""
        target = target.decode() if isinstance(target, bytes) else str(target)
        if target:
            return target.rsplit(".", 1)[-1], {}
        path = unquote(urlsplit(url).path)
        for name in model.operation_names:
            http = model.operation_model(name).http
            if http.get("method") != method:
                continue
            pattern = re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", http["requestUri"].split("?")[0])
            matched = re.fullmatch(pattern.rstrip("/") or "/", path.rstrip("/") or "/")
            if matched:
                return name, matched.groupdict()
        return "", {}

    def answer_http(self, model: Any, method: str, url: str, headers: dict[str, Any],
                    body: str | bytes | None) -> Answer | None:
        """(status, JSON body) for a request to one of SERVICES, or None when moto should answer it."""
        service = model.service_name
        operation, labels = self.operation_of(model, method, url, headers)
        handler = self._handlers.get(service, {}).get(operation)
        if handler is None:
            if service == "account":
                return None
            return _error("UnsupportedOperation", f"the sandbox stand-in for {service} has no {operation or url}")
        shape = model.operation_model(operation).input_shape
        request = self._request(shape, labels, url, body)
        wrong = problems(request, shape) if shape is not None else []
        if wrong:
            return _error("ValidationException", "; ".join(wrong))
        authorization = headers.get("Authorization") or b""
        authorization = authorization.decode() if isinstance(authorization, bytes) else str(authorization)
        scope = CREDENTIAL_SCOPE.search(authorization)
        region = scope.group("region") if scope else "us-east-1"
        with self._lock:
            status, answer = handler(request, region)
        if status < 300:
            self.answered.append(f"{service}:{operation}")
        return status, answer

    @staticmethod
    def _request(shape: Any, labels: dict[str, str], url: str, body: str | bytes | None) -> Request:
        """The operation's input as its members, wherever the protocol put each (URI, query string, body)."""
        if isinstance(body, bytes):
            body = body.decode()
        request: Request = json.loads(body) if body else {}
        if shape is None:
            return request
        query = parse_qs(urlsplit(url).query)
        for name, member in shape.members.items():
            where, wire = member.serialization.get("location"), member.serialization.get("name", name)
            if where == "uri" and wire in labels:
                request[name] = labels[wire]
            elif where == "querystring" and wire in query:
                raw = query[wire][0]
                request[name] = int(raw) if member.type_name == "integer" else raw
        return request

    # --- accessanalyzer ------------------------------------------------------------------------------
    def _summary(self, analyzer: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in analyzer.items() if k in (
            "arn", "name", "type", "createdAt", "status", "tags", "lastResourceAnalyzedAt")}

    def _list_analyzers(self, request: Request, region: str) -> Answer:
        found = [self._summary(a) for a in self.analyzers.get(region, {}).values()
                 if "type" not in request or a["type"] == request["type"]]
        return 200, {"analyzers": found}

    def _get_analyzer(self, request: Request, region: str) -> Answer:
        analyzer = self.analyzers.get(region, {}).get(request["analyzerName"])
        if analyzer is None:
            return _error("ResourceNotFoundException", f"Analyzer {request['analyzerName']} not found", 404)
        return 200, {"analyzer": self._summary(analyzer)}

    def _create_analyzer(self, request: Request, region: str) -> Answer:
        name = request["analyzerName"]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,254}", name):  # botocore: AnalyzerName
            return _error("ValidationException", f"invalid analyzer name {name!r}")
        if request["type"] not in ("ACCOUNT", "ACCOUNT_UNUSED_ACCESS", "ACCOUNT_INTERNAL_ACCESS"):
            # ORGANIZATION* analyzers need the organization's management (or delegated) account.
            return _error("ValidationException", f"{request['type']} needs an organization", 400)
        here = self.analyzers.setdefault(region, {})
        if name in here:
            return _error("ConflictException", f"Analyzer {name} already exists", 409)
        arn = f"arn:aws:access-analyzer:{region}:{self.account}:analyzer/{name}"
        created = datetime.now(UTC).isoformat(timespec="seconds")  # the model's iso8601 timestamp
        here[name] = {"arn": arn, "name": name, "type": request["type"], "createdAt": created,
                      "status": "ACTIVE", "tags": dict(request.get("tags") or {})}
        return 200, {"arn": arn}

    def _list_findings(self, request: Request, region: str) -> Answer:
        if not any(a["arn"] == request["analyzerArn"] for a in self.analyzers.get(region, {}).values()):
            return _error("ResourceNotFoundException", f"Analyzer {request['analyzerArn']} not found", 404)
        return 200, {"findings": []}

    # --- freetier and the primary contact ----------------------------------------------------------
    def _get_account_plan_state(self, request: Request, region: str) -> Answer:
        if self.account_plan is None:
            return _error("ResourceNotFoundException", "this account has no account plan (it predates them)", 404)
        return 200, {"accountId": self.account, **self.account_plan}

    def _get_contact_information(self, request: Request, region: str) -> Answer:
        if self.primary_contact is None:
            return _error("ResourceNotFoundException", "no contact information", 404)
        return 200, {"ContactInformation": dict(self.primary_contact)}
