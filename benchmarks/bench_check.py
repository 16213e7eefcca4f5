"""How fast `check` is, on a moto server that delays every request (a far region) and on one that does not.

Run on demand (not part of the test suite):

    .venv/bin/python benchmarks/bench_check.py [--delay 0.1] [--repeat 3]

It reports the API calls `check` sends, wall times with and without the delay, the round trips on the
critical path ((with delay - without) / delay; target: at most 5), the ratio of `check` to a plain
script sending the same reads one after another without delay (target: at most 1.3), and the time of
`aws-harden --help` (target: under 0.25 s).
"""

from __future__ import annotations

import argparse
import contextlib
import io
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
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from wizard.sandbox import budgets_ext, managed_policies, root_user

    root_user.install()
    budgets_ext.install()
    managed_policies.limit_to_used()
    app = DelayingApp(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, f"http://127.0.0.1:{server.server_address[1]}"


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


def run_check(endpoint: str, key: str, secret: str) -> tuple[float, list[tuple[str, str, str, dict[str, Any]]]]:
    """Time one `check`; return the reads it sent (service, region, operation, params)."""
    from wizard.cli import Environment, main

    seen: list[Any] = []
    os.environ.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1")
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), stdin_isatty=False, observe_aws=seen.append)
    start = time.perf_counter()
    code = main(["check", "--endpoint-url", endpoint, "--output", "json"], env)
    elapsed = time.perf_counter() - start
    if code not in (0, 2):
        raise SystemExit(f"check failed ({code}): {env.stderr.getvalue()}")  # type: ignore[attr-defined]
    return elapsed, recorded_reads(seen[0])


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

    start = time.perf_counter()
    session = isolated_session(key, secret, "us-east-1")  # shares the warm model loader, as check does
    clients: dict[tuple[str, str], Any] = {}
    for service, region, operation, params in reads:
        client = clients.get((service, region))
        if client is None:
            client = clients[(service, region)] = session.client(
                service, region_name=region, endpoint_url=endpoint, config=Config(retries={"mode": "standard"})
            )
        with contextlib.suppress(client.exceptions.ClientError):
            getattr(client, xform_name(operation))(**params)
    return time.perf_counter() - start


def apply_everything(endpoint: str, key: str, secret: str) -> None:
    """An applied account has more to read (users, groups, trails, budgets) than a fresh one."""
    import keyring

    from wizard.cli import Environment, main
    from wizard.secrets import memory_keyring

    keyring.set_keyring(memory_keyring())

    os.environ.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1")
    err = io.StringIO()
    answers = Path(os.environ["AWS_HARDEN_STATE_DIR"]) / "answers.toml"
    answers.write_text('[budget-alarm]\namount = 25\nemails = "ops@example.com"\n'
                       '[cloudtrail]\nalerts_email = "ops@example.com"\n')
    argv = ["apply", "--yes", "--endpoint-url", endpoint, "--answers", str(answers)]
    code = main(argv, Environment(stdout=io.StringIO(), stderr=err))
    if code not in (0, 2):
        raise SystemExit(f"apply failed ({code}): {err.getvalue()}")


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

        fast_s, slow_s, plain_s = statistics.median(fast), statistics.median(slow), statistics.median(plain)
        result = {
            "api_calls_per_check": calls,
            "distinct_reads": len({(s, r, o, json.dumps(p, sort_keys=True, default=str)) for s, r, o, p in reads}),
            "check_seconds_no_delay": round(fast_s, 3),
            "check_seconds_with_delay": round(slow_s, 3),
            "delay_seconds": args.delay,
            "round_trips_on_critical_path": round((slow_s - fast_s) / args.delay, 2),
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
