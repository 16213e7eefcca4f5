"""One in-process moto for many examples (reset between them), and a full dump of its state.

The `account` fixture starts moto per test; a property test with hundreds of examples cannot pay that
each time, so `World` starts it once and `fresh()` resets every backend and re-creates the stand-in
root. `dump()` serialises every backend of every service the steps touch, attribute by attribute
(moto's own /moto-api/data.json lists every model ever created, deleted ones too, and skips what is
not a model, like the account alias list: too weak to prove nothing changed).
"""

from __future__ import annotations

import datetime
import functools
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Any

import keyring

from tests.conftest import Account
from tests.moto_regions import TEST_REGIONS
from wizard.aws import isolated_session
from wizard.secrets import memory_keyring

ACCOUNT_ID = "123456789012"
# Every service a step reads or writes (billing's cur and bcm-data-exports are the stand-in's, dumped too).
SERVICES = ("iam", "sts", "s3", "cloudtrail", "sns", "events", "logs", "cloudwatch", "kms", "budgets", "ec2",
            "guardduty", "account", "s3control")
BACKEND_KEYS = {"iam": ("aws",), "sts": ("aws",), "s3": ("aws",), "budgets": ("global",), "account": ("aws",),
                "s3control": ("aws",)}  # global services
# What the steps touch in EC2's large backend (AMIs, instance types and the like are moto's fixed data).
EC2_PARTS = ("vpcs", "subnets", "internet_gateways", "enis", "ebs_encryption_by_default")
# Not a change: AWS itself records, on every request, when an access key was last used (the
# GetAccessKeyLastUsed API); moto does too, so any read updates it.
IGNORED = {("AccessKey", "last_used")}


class World:
    """moto in-process, with the sandbox's root user, budgets extension and billing stand-in, started once."""

    def __init__(self, regions: tuple[str, ...] = TEST_REGIONS) -> None:
        self.regions = regions  # the account's enabled regions (DescribeRegions)
        self._stack = ExitStack()
        self.standin: Any = None
        self.guardrails: Any = None

    def __enter__(self) -> World:
        from moto import mock_aws

        from tests.moto_regions import pinned
        from wizard.sandbox import budgets_ext, iam_policy, managed_policies, regions, root_user, strict
        from wizard.sandbox.billing_standin import BillingStandIn
        from wizard.sandbox.guardrail_standin import GuardrailStandIn

        root_user.install()
        iam_policy.install()
        budgets_ext.install()
        strict.install()  # moto refuses what AWS refuses (wizard/sandbox/strict.py)
        regions.install()  # the aws partition's regions; default VPCs with their internet gateway
        managed_policies.limit_to_used()
        self.standin = BillingStandIn(ACCOUNT_ID)
        self._stack.enter_context(mock_aws(config={"iam": {"load_aws_managed_policies": True}}))
        self._stack.enter_context(self.standin.answering_every_session())
        self.guardrails = GuardrailStandIn(ACCOUNT_ID)
        self._stack.enter_context(self.guardrails.answering_every_session())
        self._stack.enter_context(pinned(self.regions))
        self._stack.enter_context(_saved_environment())
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # as the sandbox: no step needs AMIs
        self._stack.enter_context(_memoised_lookups())
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self._stack.close()

    def fresh(self, state_dir: str) -> Account:
        """A brand-new account: every backend reset, the stand-in emptied, root with one access key."""
        from moto.moto_api._internal.models import moto_api_backend

        from wizard.sandbox import iam_policy, root_user

        moto_api_backend.reset()
        iam_policy.forget_sessions()
        self.standin.exports.clear()
        self.standin.reports.clear()
        self.standin.answered.clear()
        self.guardrails.clear()
        keyring.set_keyring(memory_keyring())
        iam = isolated_session("AKIASETUP00000000000", "x", "us-east-1").client("iam")
        key, secret = root_user.create_root(iam)
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1",
                          AWS_HARDEN_STATE_DIR=state_dir)
        return Account(key, secret, guardrails=self.guardrails)

    def act_as(self, key: str, secret: str, user: str | None = None) -> None:
        """Later runs sign with these credentials (e.g. the admin's, once root's key is gone). With `user`
        and a virtual MFA device on it, from an MFA session instead, as AWS documents for the CLI where a
        deny-unless-MFA policy applies: the code comes from the device's seed, as the user's phone would
        show it."""
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
        if user is None:
            return
        from moto.iam.models import iam_backends

        from wizard import totp
        from wizard.secrets import Secret

        devices = [d for d in iam_backends[ACCOUNT_ID]["aws"].virtual_mfa_devices.values()
                   if d.user is not None and d.user.name == user]
        if not devices:
            return
        code = totp.code_at(Secret(devices[0].base32_string_seed), totp.counter_at(time.time()))
        sts = isolated_session(key, secret, "us-east-1").client("sts")
        made = sts.get_session_token(SerialNumber=devices[0].serial_number, TokenCode=code)["Credentials"]
        os.environ.update(AWS_ACCESS_KEY_ID=made["AccessKeyId"], AWS_SECRET_ACCESS_KEY=made["SecretAccessKey"],
                          AWS_SESSION_TOKEN=made["SessionToken"])

    def dump(self) -> dict[str, Any]:
        """Every backend of SERVICES (all accounts, all regions created), and the billing stand-in."""
        from moto.backends import get_backend

        result: dict[str, Any] = {}
        for service in SERVICES:
            backends = get_backend(service)  # type: ignore[call-overload]
            # moto makes a backend when a region is first asked about: make them all first, so a read
            # that merely touched a region for the first time does not look like a change.
            for region in BACKEND_KEYS.get(service, self.regions):
                _ = backends[ACCOUNT_ID][region]
            for account, regions in dict.items(backends):
                for region, backend in dict.items(regions):
                    kept = {k: getattr(backend, k, None) for k in EC2_PARTS} if service == "ec2" else backend
                    result[f"{service}/{account}/{region}"] = serialise(kept)
        result["billing-standin"] = serialise({"exports": self.standin.exports, "reports": self.standin.reports})
        result["guardrail-standin"] = serialise({"analyzers": self.guardrails.analyzers})
        return result


@contextmanager
def _saved_environment() -> Iterator[None]:
    before = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(before)


@contextmanager
def _memoised_lookups() -> Iterator[None]:
    """Test speed only: two pure lookups botocore and moto redo on every request, memoised while the
    World runs (about a sixth of a request's cost). Each depends only on its argument: an event name, and
    a response class whose methods are all in place before the World starts (budgets_ext included). And
    botocore's client classes, built again for every client of every run."""
    import botocore.client
    import botocore.hooks
    import moto.core.responses

    alias = botocore.hooks.EventAliaser._alias_event_name
    names = moto.core.responses.method_names_from_class
    create_class = botocore.client.ClientCreator._create_client_class
    aliases: dict[str, str] = {}
    classes: dict[tuple[str, str], Any] = {}

    def client_class(self: Any, service_name: str, service_model: Any) -> Any:
        """A client class depends only on the service's model (and the creating-client-class handlers,
        boto3's and botocore's, the same for every session here): made once per service."""
        key = (service_name, service_model.api_version)
        if key not in classes:
            classes[key] = create_class(self, service_name, service_model)
        return classes[key]

    def alias_event_name(self: Any, event_name: str) -> str:
        found = aliases.get(event_name)
        if found is None:
            found = aliases[event_name] = alias(self, event_name)
        return found

    botocore.hooks.EventAliaser._alias_event_name = alias_event_name  # type: ignore[method-assign]
    moto.core.responses.method_names_from_class = functools.lru_cache(maxsize=None)(names)
    botocore.client.ClientCreator._create_client_class = client_class  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.hooks.EventAliaser._alias_event_name = alias  # type: ignore[method-assign]
        moto.core.responses.method_names_from_class = names
        botocore.client.ClientCreator._create_client_class = create_class  # type: ignore[method-assign]


SCALARS = (str, int, float, bool, type(None))
SKIPPED_TYPES = ("lock", "RLock", "Condition", "Event", "module", "function", "method", "builtin_function_or_method")


def serialise(value: Any, _path: frozenset[int] = frozenset()) -> Any:
    """A plain, comparable form of any moto object graph: objects by their attributes, cycles cut."""
    if isinstance(value, SCALARS):
        return value
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if type(value).__name__ in SKIPPED_TYPES or (callable(value) and not hasattr(value, "__dict__")):
        return f"<{type(value).__name__}>"
    if id(value) in _path:
        return f"<cycle {type(value).__name__}>"
    path = _path | {id(value)}
    if isinstance(value, dict):
        return {str(k): serialise(v, path) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [serialise(v, path) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((serialise(v, path) for v in value), key=repr)
    attributes = getattr(value, "__dict__", None)
    if attributes is None:
        slots = getattr(type(value), "__slots__", ())
        attributes = {s: getattr(value, s) for s in slots if hasattr(value, s)}
        if not attributes:
            return repr(value)
    kind = type(value).__name__
    kept = {k: v for k, v in attributes.items() if (kind, k) not in IGNORED}
    return {"__type__": kind, **serialise(kept, path)}
