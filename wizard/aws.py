"""The one place that talks to AWS: session, clients, retries, the caller, and the write guard."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from wizard.read_cache import ReadCache
from wizard.write_guard import WriteGuard

CallerKind = Literal["root", "user", "assumed-role", "federated", "other"]
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


def client_config() -> Any:
    """Standard retry mode: jittered backoff on throttling and transient errors, bounded time."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 4},
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
    ) -> None:
        self.session = session
        self.read_cache = read_cache
        self.client_hook = client_hook
        self.guard = guard
        self.endpoint_url = endpoint_url
        self.sandbox = sandbox
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._caller: Caller | None = None
        from wizard.secrets import redact_aws_logs

        redact_aws_logs()

    def parallel(self, *calls: Callable[[], Any], width: int = 8) -> list[Any]:
        """Run independent reads at once (clients are thread-safe); results in order, first error raised.
        `width` bounds the threads: one read per region goes to a client per region, so wider is fine."""
        if len(calls) <= 1:
            return [call() for call in calls]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(width, len(calls))) as pool:
            futures = [pool.submit(call) for call in calls]
            return [f.result() for f in futures]

    @property
    def region(self) -> str:
        return str(self.session.region_name or GLOBAL_REGION)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                client = self.session.client(
                    service, region_name=key[1], endpoint_url=self.endpoint_url, config=client_config()
                )
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


def build_session(
    profile: str | None,
    region: str | None,
    guard: WriteGuard,
    credentials: dict[str, str] | None = None,
) -> Any:
    """A boto3 Session on the standard chain (env, profile, SSO, instance role), the guard installed first."""
    import boto3
    import botocore.session

    if credentials is not None:
        session = isolated_session(credentials["key"], credentials["secret"], region)
        guard.install(session)
        return session
    core = botocore.session.Session(profile=profile)
    share_loader(core)
    session = boto3.Session(botocore_session=core, region_name=region)
    _ = session.available_profiles  # a bad --profile fails here with ProfileNotFound, before any call
    if profile is not None and profile not in session.available_profiles:
        from botocore.exceptions import ProfileNotFound

        raise ProfileNotFound(profile=profile)
    guard.install(session)
    return session


def known_region(region: str) -> bool:
    import boto3

    session = boto3.Session()
    for partition in session.get_available_partitions():
        if region in session.get_available_regions("sts", partition_name=partition):
            return True
    return False


def isolated_session(key: str, secret: str, region: str | None) -> Any:
    """A session that reads no profile, config or credentials file and no AWS_* credential variable."""
    import boto3
    import botocore.session

    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    share_loader(core)
    for var in ("config_file", "credentials_file"):
        core.set_config_variable(var, os.devnull)
    core.set_config_variable("profile", None)
    core.set_credentials(key, secret)
    return boto3.Session(botocore_session=core, region_name=region or GLOBAL_REGION)


_loader: Any = None


def share_loader(core: Any) -> None:
    """Reuse one botocore data loader: parsing service models again for every session costs ~0.2 s."""
    global _loader
    if _loader is None:
        _loader = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _loader)
