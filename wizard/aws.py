"""The one place that talks to AWS: session, clients, retries, the caller, and the write guard.

Credentials resolve on the session exactly as the AWS CLI resolves them (environment, profiles with
role_arn + source_profile or mfa_serial, SSO, web identity, credential_process, container and instance
roles). The write guard and the read cache wrap the clients the steps get from `Aws.client`, never the
session: botocore's credential providers (sts:AssumeRole, sso:GetRoleCredentials, ...) run outside them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from wizard.read_cache import ReadCache
from wizard.write_guard import WriteGuard

CallerKind = Literal["root", "user", "assumed-role", "federated", "other"]
RetryMode = Literal["standard", "adaptive"]
GLOBAL_REGION = "us-east-1"
# Billing, Cost and Usage Reports, Data Exports and Budgets answer in us-east-1 whatever --region says.
BILLING_REGION = GLOBAL_REGION


@dataclass(frozen=True)
class Caller:
    arn: str
    account: str
    user_id: str

    @property
    def kind(self) -> CallerKind:
        resource = self.arn.split(":", 5)[-1]
        if resource == "root":
            return "root"
        if resource.startswith("user/"):
            return "user"
        if resource.startswith("assumed-role/"):
            return "assumed-role"
        if resource.startswith("federated-user/"):
            return "federated"
        return "other"

    @property
    def name(self) -> str:
        """The IAM user name or role session, or 'root'."""
        resource = self.arn.split(":", 5)[-1]
        return "root" if resource == "root" else resource.split("/")[-1]

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1] if self.arn.count(":") >= 5 else "aws"

    def as_record(self) -> dict[str, str]:
        return {"arn": self.arn, "account": self.account, "type": self.kind, "name": self.name}


def client_config(retry_mode: RetryMode = "standard") -> Any:
    """Standard retry mode: jittered backoff on throttling and transient errors, bounded time. Adaptive (for the
    organization fan-out, many accounts at once) also slows the client down when AWS throttles it."""
    from botocore.config import Config

    return Config(
        retries={"mode": retry_mode, "max_attempts": 4},
        connect_timeout=10,
        read_timeout=30,
        user_agent_extra="aws-harden",
    )


class Aws:
    """Clients are cached per (service, region) and are thread-safe; the session is only touched here."""

    def __init__(
        self,
        session: Any,
        guard: WriteGuard,
        endpoint_url: str | None = None,
        sandbox: bool = False,
        client_hook: Callable[[Any, str, str], None] | None = None,
        read_cache: ReadCache | None = None,
        retry_mode: RetryMode = "standard",
        caller: Caller | None = None,
    ) -> None:
        self.session = session
        self.retry_mode = retry_mode
        self.read_cache = read_cache
        self.client_hook = client_hook
        self.guard = guard
        self.endpoint_url = endpoint_url
        self.sandbox = sandbox
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._caller: Caller | None = caller  # known already when the credentials came from AssumeRole
        from wizard.secrets import redact_aws_logs

        redact_aws_logs()

    def parallel(self, *calls: Callable[[], Any], width: int = 8) -> list[Any]:
        """Run independent calls at once (clients are thread-safe); results in order, first error raised.
        `width` bounds the threads: one read per region goes to a client per region, so wider is fine."""
        if len(calls) <= 1:
            return [call() for call in calls]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(width, len(calls))) as pool:
            futures = [pool.submit(self.guard.carrying(call)) for call in calls]  # writes a change declared too
            return [f.result() for f in futures]

    @property
    def region(self) -> str:
        return str(self.session.region_name or GLOBAL_REGION)

    def client(self, service: str, region: str | None = None) -> Any:
        """A step's client: the guard (then the read cache) is on it before anyone else can hook it."""
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                client = self.session.client(
                    service, region_name=key[1], endpoint_url=self.endpoint_url, config=client_config(self.retry_mode)
                )
                self.guard.attach(client)
                if self.read_cache is not None:
                    self.read_cache.attach(client)
                if self.endpoint_url is not None:
                    from wizard.local_endpoint import adapt

                    adapt(client, service, self.endpoint_url)
                if self.client_hook is not None:
                    self.client_hook(client, service, key[1])
                self._clients[key] = client
            return self._clients[key]

    def caller(self) -> Caller:
        if self._caller is None:
            ident = self.client("sts").get_caller_identity()
            self._caller = Caller(arn=ident["Arn"], account=ident["Account"], user_id=ident["UserId"])
        return self._caller

    def forget_caller(self) -> None:
        self._caller = None


def build_session(profile: str | None, region: str | None, credentials: dict[str, str] | None = None) -> Any:
    """A boto3 Session on the standard chain (env, profile, assume-role, SSO, web identity, instance role)."""
    import boto3
    import botocore.session

    if credentials is not None:
        return isolated_session(credentials["key"], credentials["secret"], region)
    core = botocore.session.Session(profile=profile)
    share_loader(core)
    session = boto3.Session(botocore_session=core, region_name=region)
    _ = session.available_profiles  # a bad --profile fails here with ProfileNotFound, before any call
    if profile is not None and profile not in session.available_profiles:
        from botocore.exceptions import ProfileNotFound

        raise ProfileNotFound(profile=profile)
    return session


def known_region(region: str) -> bool:
    import boto3

    session = boto3.Session()
    for partition in session.get_available_partitions():
        if region in session.get_available_regions("sts", partition_name=partition):
            return True
    return False


def isolated_session(key: str, secret: str, region: str | None, token: str | None = None) -> Any:
    """A session that reads no profile, config or credentials file and no AWS_* credential variable."""
    import boto3
    import botocore.session

    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    share_loader(core)
    for var in ("config_file", "credentials_file"):
        core.set_config_variable(var, os.devnull)
    core.set_config_variable("profile", None)
    core.set_credentials(key, secret, token)
    return boto3.Session(botocore_session=core, region_name=region or GLOBAL_REGION)


_loader: Any = None


def share_loader(core: Any) -> None:
    """Reuse one botocore data loader: parsing service models again for every session costs ~0.2 s."""
    global _loader
    if _loader is None:
        _loader = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _loader)
