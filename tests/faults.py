"""AWS failures made at the wire, in each service's own protocol, for botocore before-send handlers.

An answer built here is parsed and retried by botocore exactly as AWS's would be (the standard retry
mode retries throttling and connection errors, so "throttled" and "unreachable" really go through
the retries), and the product sees the same ClientError / BotoCoreError it would see from AWS.
"""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

KINDS = ("access-denied", "throttled", "unreachable", "expired", "interrupt")
# What the one-line reason says for each kind (wizard/errors.py describe()).
REASONS = {
    "access-denied": "the caller is not allowed to do this",
    "throttled": "AWS kept throttling after retries",
    "unreachable": "cannot reach AWS",
    "expired": "the credentials have expired",
    "interrupt": "interrupted",
}


class _Body(BytesIO):
    def stream(self, **_: Any) -> Any:
        yield self.getvalue()


def _cbor_text(value: str) -> bytes:
    data = value.encode()
    assert len(data) < 256
    return (bytes([0x60 + len(data)]) if len(data) < 24 else bytes([0x78, len(data)])) + data


def error_response(service_model: Any, code: str, message: str, status: int = 400) -> AWSResponse:
    """An error answer in the service's protocol: query, ec2 and rest-xml XML, JSON, or Smithy RPC v2 CBOR."""
    protocol = service_model.resolved_protocol
    headers: dict[str, str] = {"x-amzn-requestid": "fault-injected"}
    if protocol == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                "</Error><RequestId>fault-injected</RequestId></ErrorResponse>").encode()
        headers["content-type"] = "text/xml"
    elif protocol == "ec2":  # EC2's own XML error format (EC2 API reference, "Error codes")
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                "<RequestID>fault-injected</RequestID></Response>").encode()
        headers["content-type"] = "text/xml"
    elif protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        headers["content-type"] = "application/xml"
    elif protocol == "smithy-rpc-v2-cbor":
        body = bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message)
        headers.update({"content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
    else:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers["content-type"] = "application/x-amz-json-1.1"
    return AWSResponse("https://fault.invalid/", status, headers, _Body(body))


def _json_protocol(service_model: Any) -> bool:
    return str(service_model.resolved_protocol) in ("json", "rest-json", "smithy-rpc-v2-cbor")


def unsent(request: Any) -> None:
    """Make sure the faulted request changes nothing: botocore still calls the other before-send handlers
    (in-process moto's stubber, the billing stand-in) after ours answered, so it is pointed nowhere."""
    request.url = "https://fault.invalid/"
    if "X-Amz-Target" in request.headers:
        request.headers["X-Amz-Target"] = b"AwsHarden.FaultInjected"


def answer(kind: str, service_model: Any, request: Any) -> AWSResponse:
    """What AWS answers (or what happens on the way) for one attempt of a call, for this fault kind;
    as with AWS refusing a call, nothing reaches the account."""
    url = str(request.url)
    unsent(request)
    json_style = _json_protocol(service_model)
    if kind == "access-denied":
        code = "AccessDeniedException" if json_style else "AccessDenied"
        return error_response(service_model, code, "User is not authorized to perform this action", 403)
    if kind == "throttled":
        if service_model.service_name == "s3":
            return error_response(service_model, "SlowDown", "Please reduce your request rate.", 503)
        return error_response(service_model, "ThrottlingException" if json_style else "Throttling", "Rate exceeded")
    if kind == "expired":
        code = "ExpiredTokenException" if json_style else "ExpiredToken"
        return error_response(service_model, code, "The security token included in the request is expired")
    if kind == "unreachable":
        raise EndpointConnectionError(endpoint_url=url)
    if kind == "interrupt":
        raise KeyboardInterrupt
    raise ValueError(kind)

