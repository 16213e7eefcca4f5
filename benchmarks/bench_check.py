"""How fast `check` is, on a moto server that delays every request (a far region) and on one that does not.

Run on demand (not part of the test suite):

    .venv/bin/python benchmarks/bench_check.py [--delay 0.1] [--repeat 3]

It reports the API calls `check` sends, wall times with and without the delay, the round trips on the
critical path (the longest chain of reads sent one after another, counted: see CriticalPath; target: at most
5; the timed estimate (with delay - without) / delay is shown too), the ratio of `check` to a plain
script sending the same reads one after another without delay (target: at most 1.3), and the time of
`aws-harden --help` (target: under 0.25 s).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class DelayingApp:
    """WSGI middleware: counts requests and sleeps before each, like a far-away endpoint."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.delay = 0.0
        self.requests = 0
        self._lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self._lock:
            self.requests += 1
        if self.delay:
            time.sleep(self.delay)
        return self.app(environ, start_response)


def start_server() -> tuple[DelayingApp, str]:
    """moto with the sandbox's extensions and, in front, the guardrail stand-in (Access Analyzer, Free Tier,
    GetContactInformation); every request, the stand-in's too, delayed alike."""
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from tests.standin_wsgi import serve
    from wizard.sandbox import budgets_ext, managed_policies, regions, root_user
    from wizard.sandbox.guardrail_standin import GuardrailStandIn

    root_user.install()
    budgets_ext.install()
    regions.install()  # the aws partition's regions (every one moto lists as enabled), default VPCs as AWS's
    managed_policies.limit_to_used()
    apps: list[DelayingApp] = []

    def delaying(app: Any) -> DelayingApp:
        apps.append(DelayingApp(app))
        return apps[-1]

    _, endpoint = serve(GuardrailStandIn("123456789012"), wrap=delaying)
    return apps[0], endpoint.replace("localhost", "127.0.0.1")


def delayed_billing_standin(app: DelayingApp) -> Any:
    """moto lacks cur and bcm-data-exports; the sandbox's stand-in answers them, as slowly as the server."""
    from wizard.sandbox.billing_standin import BillingStandIn

    standin = BillingStandIn("123456789012")
    answer = standin.answer

    def slow_answer(*args: Any, **kwargs: Any) -> Any:
        with app._lock:
            app.requests += 1
        if app.delay:
            time.sleep(app.delay)
        return answer(*args, **kwargs)

    standin.answer = slow_answer  # type: ignore[method-assign]
    return standin.answering_every_session()


def seed_account(endpoint: str) -> tuple[str, str]:
    from wizard.aws import isolated_session
    from wizard.sandbox import root_user

    iam = isolated_session("AKIASETUP00000000000", "x", "us-east-1").client("iam", endpoint_url=endpoint)
    return root_user.create_root(iam)


class CriticalPath:
    """The longest chain of reads `check` sends one after another, counted, not timed: each read's depth is one
    more than the deepest read its thread of work waited for (its own earlier reads, and, for threads Aws.parallel
    starts, their parent's, the parent going on at the deepest of its children). A read the read cache answers
    ends one after the first asker's start, as it waits for that answer. With 100 ms a request, the wall time
    on top of the CPU work is this many round trips; on this machine the CPU work (a moto server in the same
    process, a botocore client per service and region) hides the delays, so the timed estimate is only shown."""

    def __init__(self) -> None:
        import contextvars

        self.depth: contextvars.ContextVar[int] = contextvars.ContextVar("depth", default=0)
        self.first_start: dict[Any, int] = {}
        self.longest = 0
        self._lock = threading.Lock()

    def install(self) -> None:
        import contextvars

        from wizard.aws import Aws

        original = Aws.parallel
        path = self

        def parallel(aws: Any, *calls: Any, width: int = 8) -> list[Any]:
            if len(calls) <= 1:
                return original(aws, *calls, width=width)
            ends: list[int] = []

            def tracked(call: Any, context: Any) -> Any:
                def run() -> Any:
                    def inner() -> Any:
                        try:
                            return call()
                        finally:
                            with path._lock:
                                ends.append(path.depth.get())
                    return context.run(inner)
                return run

            results = original(aws, *(tracked(c, contextvars.copy_context()) for c in calls), width=width)
            path.depth.set(max([path.depth.get(), *ends]))
            return list(results)

        Aws.parallel = parallel  # type: ignore[method-assign]

    def observe(self, aws: Any) -> None:
        from wizard.read_cache import ReadCache

        def before_call(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            key = ReadCache._key(f"{model.service_model.service_name}:{model.name}", params)
            start = self.depth.get()
            with self._lock:
                self.first_start.setdefault(key, start)
            context["bench_key"], context["bench_start"] = key, start

        def after_call(context: dict[str, Any], **_: Any) -> None:
            if "bench_key" not in context:
                return
            end = max(context["bench_start"], self.first_start[context["bench_key"]]) + 1
            self.depth.set(end)
            with self._lock:
                self.longest = max(self.longest, end)

        aws.session.events.register_first("before-call", before_call, unique_id="bench-depth-before")
        aws.session.events.register("after-call", after_call, unique_id="bench-depth-after")
        aws.session.events.register("after-call-error", after_call, unique_id="bench-depth-error")


def run_check(endpoint: str, key: str, secret: str,
              path: CriticalPath | None = None) -> tuple[float, list[tuple[str, str, str, dict[str, Any]]]]:
    """Time one `check`; return the reads it sent (service, region, operation, params)."""
    from tests import harness

    os.environ.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1")
    start = time.perf_counter()
    result = harness.run("check", "--endpoint-url", endpoint, "--output", "json", stdin="pipe", width=None,
                         observe=path.observe if path is not None else None)
    elapsed = time.perf_counter() - start
    if result.code not in (0, 2):
        raise SystemExit(f"check failed ({result.code}): {result.err}")
    return elapsed, recorded_reads(result.aws[0])


_reads: list[tuple[str, str, str, dict[str, Any]]] = []


def recorded_reads(aws: Any) -> list[tuple[str, str, str, dict[str, Any]]]:
    return list(_reads)


def record_reads() -> None:
    """Remember the API parameters of every read any client sends (for the plain-script baseline)."""
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def spy(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        _reads.append((self.meta.service_model.service_name, self.meta.region_name, operation_name, api_params))
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = spy  # type: ignore[method-assign]


def plain_script(endpoint: str, key: str, secret: str, reads: list[tuple[str, str, str, dict[str, Any]]]) -> float:
    """The same reads, one after another, from a fresh session: the floor `check` is measured against."""
    from botocore import xform_name
    from botocore.config import Config

    from wizard.aws import isolated_session
    from wizard.local_endpoint import adapt

    start = time.perf_counter()
    session = isolated_session(key, secret, "us-east-1")  # shares the warm model loader, as check does
    clients: dict[tuple[str, str], Any] = {}
    for service, region, operation, params in reads:
        client = clients.get((service, region))
        if client is None:
            client = clients[(service, region)] = session.client(
                service, region_name=region, endpoint_url=endpoint, config=Config(retries={"mode": "standard"})
            )
            adapt(client, service, endpoint)  # S3 Control's account-id host label, on 127.0.0.1
        with contextlib.suppress(client.exceptions.ClientError):
            getattr(client, xform_name(operation))(**params)
    return time.perf_counter() - start


def apply_everything(endpoint: str, key: str, secret: str) -> None:
    """An applied account has more to read (users, groups, trails, budgets) than a fresh one."""
    import keyring

    from tests import harness
    from wizard.secrets import memory_keyring

    keyring.set_keyring(memory_keyring())

    os.environ.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1")
    answers = Path(os.environ["AWS_HARDEN_STATE_DIR"]) / "answers.toml"
    # The guardrails too (GuardDuty on: one more read per detector), but the default VPCs kept: each one
    # is read further (subnets, gateways, network interfaces), the deepest chain check has.
    answers.write_text('[budget-alarm]\namount = 25\nemails = "ops@example.com"\n'
                       '[cloudtrail]\nalerts_email = "ops@example.com"\n'
                       '[guardduty]\nenable = true\n[root-credentials]\nchecklist_confirmed = true\n'
                       '[account-contacts]\nsecurity = { name = "Sec", title = "Security", '
                       'email = "sec@example.com", phone = "+1 555 0100" }\n')
    applied = harness.run("apply", "--yes", "--endpoint-url", endpoint, "--answers", str(answers), stdin="pipe",
                          width=None)
    if applied.code not in (0, 2):
        raise SystemExit(f"apply failed ({applied.code}): {applied.err}")


def regions_of(endpoint: str, key: str, secret: str) -> list[str]:
    from wizard.aws import isolated_session
    from wizard.facts import read_regions

    class Reader:  # just what read_regions needs: the enabled regions as check counts them
        def __init__(self) -> None:
            self.ec2 = isolated_session(key, secret, "us-east-1").client("ec2", endpoint_url=endpoint)

        def client(self, service: str, region: str | None = None) -> Any:
            return self.ec2

    return list(read_regions(Reader()))  # type: ignore[arg-type]


def help_time(repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wizard", "--help"], cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="measure a fresh account instead of an applied one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        os.environ["AWS_HARDEN_STATE_DIR"] = state
        os.environ["AWS_CONFIG_FILE"] = os.devnull
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        app, endpoint = start_server()
        stack = contextlib.ExitStack()
        stack.enter_context(delayed_billing_standin(app))
        key, secret = seed_account(endpoint)
        if not args.fresh:
            apply_everything(endpoint, key, secret)
        record_reads()
        run_check(endpoint, key, secret)  # warm-up: imports, model loading

        fast, slow, plain = [], [], []
        for _ in range(args.repeat):
            _reads.clear()
            before = app.requests
            elapsed, reads = run_check(endpoint, key, secret)
            calls = app.requests - before
            fast.append(elapsed)
            plain.append(plain_script(endpoint, key, secret, reads))
        app.delay = args.delay
        for _ in range(args.repeat):
            slow.append(run_check(endpoint, key, secret)[0])
        app.delay = 0.0
        path = CriticalPath()
        path.install()
        run_check(endpoint, key, secret, path)

        fast_s, slow_s, plain_s = statistics.median(fast), statistics.median(slow), statistics.median(plain)
        result = {
            "enabled_regions": len(regions_of(endpoint, key, secret)),
            "api_calls_per_check": calls,
            "distinct_reads": len({(s, r, o, json.dumps(p, sort_keys=True, default=str)) for s, r, o, p in reads}),
            "check_seconds_no_delay": round(fast_s, 3),
            "check_seconds_with_delay": round(slow_s, 3),
            "delay_seconds": args.delay,
            "round_trips_on_critical_path": path.longest,  # counted (CriticalPath)
            "round_trips_timed_estimate": round((slow_s - fast_s) / args.delay, 2),
            "plain_script_seconds": round(plain_s, 3),
            "check_vs_plain_ratio": round(fast_s / plain_s, 2),
            "help_seconds": round(help_time(args.repeat), 3),
            "targets": {"round_trips": 5, "ratio": 1.3, "help_seconds": 0.25},
        }
        result["met"] = {
            "round_trips": result["round_trips_on_critical_path"] <= 5,
            "ratio": result["check_vs_plain_ratio"] <= 1.3,
            "help_seconds": result["help_seconds"] < 0.25,
        }
        print(json.dumps(result, indent=2))
        if not all(result["met"].values()):
            raise SystemExit(1)


if __name__ == "__main__":
    main()
