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
    if isinstance(exc, bx.BotoCoreError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename}" if getattr(exc, "filename", None) else str(exc)
    return f"{type(exc).__name__}: {exc}"
