"""Shared test fixtures: no real network, no real credentials, no real keyring, moto for AWS."""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring
import pytest

import steps
from tests import harness, leak_guard, schema_guard
from tests.harness import Result
from wizard.aws import Aws, isolated_session
from wizard.secrets import memory_keyring
from wizard.write_guard import WriteGuard

LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Block every non-loopback connection and hide any real AWS configuration."""
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if not str(host).startswith(LOOPBACK) and self.family in (socket.AF_INET, socket.AF_INET6):
            raise ConnectionRefusedError(f"tests may not reach {host}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    for var in list(os.environ):
        if var.startswith("AWS_") or var.startswith("MOTO_"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_HARDEN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NO_COLOR", "1")
    keyring.set_keyring(memory_keyring())
    yield


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "shows_secret(reason): the test shows a secret on the terminal on purpose; the leak guard "
        "then skips its terminal output (logs, journal and files are still searched)")
    config.addinivalue_line(
        "markers", "many_runs(reason): the test runs the program hundreds of times (hypothesis tests are "
        "detected); the leak guard does not switch botocore's body logs to DEBUG for it")


# The longest tests (the convergence sweep's shards, mypy, real processes driving the sandbox, the fault chains),
# run first: with --maxschedchunk 1 (pyproject's addopts) xdist hands each free worker the next test, so the long
# ones spread over the workers and no worker starts a long one while the other sits idle at the end. Test speed
# only: every test still runs, and the order within each group is kept.
LONG_FIRST = ("tests/test_convergence.py::test_apply_converges", "tests/test_code_quality.py", "tests/test_terminal.py",
              "tests/test_sandbox_organization.py", "tests/test_faults.py::test_every_fault", "tests/test_sandbox",
              "tests/test_mfa_session_terminal.py", "tests/test_bad_input.py::test_ctrl_c_at_every_prompt")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((n for n, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)), len(LONG_FIRST))

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def no_secret_leaks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                    tmp_path: Path) -> Iterator[leak_guard.LeakGuard]:
    """Every test, automatically: no secret the product made (password, secret access key, MFA seed, MFA
    session token) appears in the program's output, pytest's captured output, the logs, or any file under tmp_path."""
    guard = leak_guard.LeakGuard()
    many_runs = request.node.get_closest_marker("many_runs") is not None or getattr(
        getattr(request.node, "obj", None), "is_hypothesis_test", False)
    guard.install(monkeypatch, debug_logs=not many_runs)
    try:
        yield guard
    finally:
        guard.uninstall()
    leak_guard.check(guard, request.node, tmp_path)


@pytest.fixture(autouse=True)
def json_output_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[schema_guard.SchemaGuard]:
    """Every test, automatically: whatever the program prints with --output json matches the shipped schema."""
    guard = schema_guard.SchemaGuard()
    guard.install(monkeypatch)
    yield guard
    assert not guard.errors, "--output json does not match wizard/report-schema.json:\n" + "\n".join(guard.errors)


@dataclass
class Terminal:
    """What the test's controlling terminal (/dev/tty) received: where the product shows a secret when its
    stdout is redirected (a test's StringIO always is). `present = False`: there is no terminal at all."""

    stream: io.StringIO = field(default_factory=io.StringIO)
    present: bool = True

    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture(autouse=True)
def tty(monkeypatch: pytest.MonkeyPatch, no_secret_leaks: leak_guard.LeakGuard) -> Terminal:
    """No test writes to the real /dev/tty: the product's opener gets this stand-in (watched for leaks)."""
    import wizard.terminal

    terminal = Terminal()
    no_secret_leaks.watch_stream("the terminal (/dev/tty)", terminal.stream)

    def open_terminal(out: Any) -> Any:
        isatty = getattr(out, "isatty", None)
        if callable(isatty) and isatty():
            return out
        return terminal.stream if terminal.present else None

    monkeypatch.setattr(wizard.terminal, "open_terminal", open_terminal)
    return terminal


@dataclass
class Waits:
    """The waits that were asked for instead of waited: the wizard's backoff, botocore's retry delays."""

    backoff: list[float] = field(default_factory=list)
    botocore: list[float] = field(default_factory=list)


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> Waits:
    """No test sleeps through a retry: wizard/retry.py's backoff and botocore's retry delays are recorded."""
    import types

    import botocore.endpoint

    import wizard.retry

    recorded = Waits()
    monkeypatch.setattr(wizard.retry, "pause_for", recorded.backoff.append)
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=recorded.botocore.append))
    return recorded


@pytest.fixture(autouse=True, scope="session")
def shared_botocore_loader() -> Iterator[None]:
    """Each run builds new boto3 sessions, each reloading botocore's JSON models (~0.3 s): share a loader.

    Test speed only; the loader's data is read-only and the same for every session."""
    import botocore.loaders
    import botocore.session

    original = botocore.session.create_loader
    shared: dict[object, Any] = {}

    def create_loader(search_path_string: Any = None) -> Any:
        if search_path_string not in shared:
            shared[search_path_string] = original(search_path_string)
        return shared[search_path_string]

    botocore.session.create_loader = create_loader  # type: ignore[assignment]
    yield
    botocore.session.create_loader = original  # type: ignore[assignment]


@dataclass
class Account:
    """A moto account (in-process) with the sandbox's stand-in root user."""

    root_key: str
    root_secret: str
    region: str = "us-east-1"
    # The sandbox's stand-in for Access Analyzer, Free Tier and the primary contact (tests set its state).
    guardrails: Any = None

    def aws(self, locked: bool = False, key: str | None = None) -> Aws:
        guard = WriteGuard(reads=steps.declared_reads())
        session = isolated_session(key or self.root_key, self.root_secret, self.region)
        if locked:
            guard.lock()
        return Aws(session, guard)

    def raw(self, service: str, region: str | None = None) -> Any:
        """An unguarded client for arranging state in tests."""
        return isolated_session(self.root_key, self.root_secret, region or self.region).client(service)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    from moto import mock_aws

    from tests.moto_regions import pinned
    from wizard.sandbox import budgets_ext, iam_policy, managed_policies, regions, root_user, strict
    from wizard.sandbox.billing_standin import BillingStandIn
    from wizard.sandbox.guardrail_standin import GuardrailStandIn

    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # as the sandbox: no step needs AMIs
    root_user.install()
    iam_policy.install()  # the test world refuses what IAM policies refuse (explicit Denies, boundaries, MFA)
    iam_policy.forget_sessions()
    budgets_ext.install()  # the Budgets calls moto 5.2 lacks, as in the sandbox
    strict.install()  # moto refuses what AWS refuses, as in the sandbox (wizard/sandbox/strict.py)
    regions.install()  # the aws partition's regions; default VPCs with their internet gateway
    managed_policies.limit_to_used()
    # moto has no cur / bcm-data-exports and in-process would try the real endpoints: the sandbox's
    # stand-in answers them (a Stubber on a client, as in test_billing_report.py, still answers first).
    standin = BillingStandIn("123456789012")
    guardrails = GuardrailStandIn("123456789012")  # Access Analyzer, Free Tier, GetContactInformation
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}), standin.answering_every_session(), \
            guardrails.answering_every_session(), pinned():
        iam = isolated_session("AKIASETUP00000000000", "x", "us-east-1").client("iam")
        key, secret = root_user.create_root(iam)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        yield Account(key, secret, guardrails=guardrails)


def run_cli(
    argv: Sequence[str],
    answers: Sequence[object] | None = None,
    tty: bool = True,
    width: int = 120,
    sleep: Callable[[float], None] | None = None,
) -> Result:
    """The whole program in-process (tests/harness.py's run), prompts answered in order by a Script."""
    return harness.run(*argv, answers=answers, stdin="tty" if tty else "pipe", width=width, sleep=sleep)


@pytest.fixture
def cli() -> Any:
    return run_cli
