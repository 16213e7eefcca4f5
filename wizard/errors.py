"""Turning every failure into one line an operator can act on."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    PENDING = 2
    INTERRUPTED = 130


class WizardError(Exception):
    """A failure with a reason already fit for the operator."""


class Aborted(WizardError):
    """The operator chose to stop."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while a change was being applied; `where` names the step and the AWS operation."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


class Terminated(KeyboardInterrupt):
    """SIGTERM (a `kill`, a closing terminal session manager, a CI time-out): handled as Ctrl-C is, except that
    it also ends a wait that Ctrl-C would only interrupt."""


class WriteRefused(WizardError):
    """The write guard stopped a call before it was sent."""

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"write guard refused {operation}: {reason}")
        self.operation = operation


AUTH_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
}
EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
THROTTLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",  # S3's
    "RequestThrottled",
    "RequestThrottledException",
}


def web_page(text: str) -> str | None:
    """An HTML page where an AWS answer should be (a proxy, a captive portal, a wrong --endpoint-url): its
    title, cleaned to printable text ("" when it has none); None when the text is not a web page."""
    import re

    lowered = text.lower()
    if "<html" not in lowered and "<!doctype html" not in lowered:
        return None
    found = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    raw = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", found.group(1)) if found else ""  # no terminal escapes
    title = " ".join("".join(c if c.isprintable() else " " for c in raw).split())
    return title[:80]


def _parsed_body(message: str) -> str:
    """botocore's ResponseParserError quotes the body as a bytes literal: the text it stands for."""
    import ast

    start = message.find("b'") if "b'" in message else message.find('b"')
    if start < 0:
        return message
    try:
        body = ast.literal_eval(message[start:].strip())
    except (ValueError, SyntaxError):
        return message
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else message


def _web_page_line(operation: str, status: str, title: str) -> str:
    answered = f"answered HTTP {status} with a web page" if status else "answered with a web page"
    named = f" ('{title}')" if title else ""
    return (
        f"{operation}: the endpoint {answered}{named}, not an AWS response: a proxy or firewall may be in "
        "the way, or --endpoint-url / AWS_ENDPOINT_URL points somewhere else"
    )


def describe(exc: BaseException) -> str:
    """One line, no traceback, for any exception that can reach the operator; control characters escaped
    (an AWS error message can quote a name from the account)."""
    from wizard.printable import printable

    return printable(_describe(exc))


def _describe(exc: BaseException) -> str:
    from botocore import exceptions as bx

    if isinstance(exc, WizardError):
        return str(exc)
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", "Unknown"))
        message = str(err.get("Message", "")).strip().splitlines()[0] if err.get("Message") else ""
        op = exc.operation_name
        page = web_page(str(err.get("Message", "")))
        if page is not None:
            status = code if code.isdigit() else str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            return _web_page_line(f"{op} failed", status, page)
        if code in EXPIRED_CODES:
            hint = "the credentials have expired; refresh them (aws sso login, or new keys) and run again"
        elif code in AUTH_CODES:
            hint = "the caller is not allowed to do this; check the credentials and their permissions"
        elif code in THROTTLE_CODES:
            hint = "AWS kept throttling after retries; wait a minute and run again"
        else:
            hint = message or "AWS refused the request"
        return f"{op} failed: {code}: {hint}"
    if isinstance(exc, bx.NoCredentialsError):
        return (
            "no AWS credentials found: set AWS_PROFILE or use --profile, run 'aws configure' or "
            "'aws sso login', or try the sandbox with --sandbox"
        )
    if isinstance(exc, bx.ProfileNotFound):
        return f"{exc} (see 'aws configure list-profiles')"
    if isinstance(exc, bx.TokenRetrievalError | bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError):
        return f"the SSO session is not usable ({exc}); run 'aws sso login' and try again"
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ConnectionClosedError):
        return f"cannot reach AWS: {exc}; check the network, --region and --endpoint-url"
    if isinstance(exc, bx.ReadTimeoutError):
        return f"AWS did not answer in time: {exc}"
    if isinstance(exc, bx.NoRegionError):
        return "no region: pass --region or set AWS_REGION"
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError) and (page := web_page(_parsed_body(str(exc)))) is not None:
        operation = getattr(exc, "aws_operation", "") or "AWS"
        return _web_page_line(f"{operation} failed", "", page)
    if isinstance(exc, bx.BotoCoreError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename}" if getattr(exc, "filename", None) else str(exc)
    return f"{type(exc).__name__}: {exc}"
