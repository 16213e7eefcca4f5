"""How fast `check --organization` reads an organization of 100 member accounts, each request 100 ms away.

Run on demand (not part of the test suite):

    .venv/bin/python benchmarks/bench_organization.py [--members 100] [--delay 0.1] [--max-concurrency N]

A moto server in this process (127.0.0.1, the sandbox's root-user extension and strict world, so AssumeRole
needs its role) holds an organization: the management account and `--members` fresh member accounts, each with
OrganizationAccountAccessRole. Every request then waits `--delay` seconds, as a far region would. `aws-harden check
--organization` of the IAM and CloudTrail steps runs as a separate process (its own memory, measured with
wait4) against it, over 10 member accounts and over all of them, `--repeat` times each (the median run is
reported, every run's time too, with the machine's load average). Reported: the wall time, accounts per second,
requests in all and per account, the process's peak memory, and how the time grows from 10 to all accounts
(it should grow with accounts / concurrency, not with accounts). Targets: all accounts in 15 s or less, peak
memory under 500 MB; it exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_check import DelayingApp  # noqa: E402

STEPS = "admin-user,admin-group,root-access-keys,password-policy,signin-link,user-mfa,root-mfa,cloudtrail"
TARGET_SECONDS, TARGET_MB = 15.0, 500.0


def start_server() -> tuple[DelayingApp, str]:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    import threading

    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from wizard.sandbox import root_user, strict

    root_user.install()
    strict.install()
    # The simulated AWS's own CPU is not aws-harden's: two pure lookups moto and botocore redo on every request are
    # memoised here, as the test suite's World does (tests/moto_world.py). The check runs in another process.
    from tests.moto_world import _memoised_lookups

    _memoised_lookups().__enter__()
    app = DelayingApp(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, f"http://127.0.0.1:{server.server_address[1]}"


def seed_organization(endpoint: str, members: int) -> tuple[str, list[str]]:
    """The management account's admin (its key id) and the member accounts, each with a root user (no keys)."""
    from wizard.aws import isolated_session
    from wizard.sandbox import root_user
    from wizard.sandbox.server import SETUP_KEY, in_account

    def client(service: str, key: str = SETUP_KEY, account: str | None = None) -> Any:
        made = isolated_session(key, "x", "us-east-1").client(service, endpoint_url=endpoint)
        if account is not None:
            in_account(made, account)
        return made

    iam = client("iam")
    iam.create_user(UserName="org-admin")
    admin = str(iam.create_access_key(UserName="org-admin")["AccessKey"]["AccessKeyId"])
    organizations = client("organizations", admin)
    organizations.create_organization(FeatureSet="ALL")
    ids = []
    for number in range(members):
        created = organizations.create_account(AccountName=f"member-{number:03d}", Email=f"m{number}@example.com")
        account = str(created["CreateAccountStatus"]["AccountId"])
        root_user.create_root_without_keys(client("iam", account=account))
        ids.append(account)
    return admin, ids


def run_check(endpoint: str, admin_key: str, accounts: list[str] | None, concurrency: int | None,
              state: str) -> dict[str, Any]:
    """One `check --organization` in its own process: wall time, exit code, peak memory, the report."""
    argv = [sys.executable, "-m", "wizard", "check", "--organization", "--only", STEPS, "--output", "json",
            "--endpoint-url", endpoint]
    if accounts is not None:
        argv += ["--accounts", ",".join(accounts)]
    if concurrency is not None:
        argv += ["--max-concurrency", str(concurrency)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env.update(AWS_ACCESS_KEY_ID=admin_key, AWS_SECRET_ACCESS_KEY="x", AWS_REGION="us-east-1",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true",
               AWS_HARDEN_STATE_DIR=state, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # its own peak memory and CPU time
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if code not in (0, 2):
        raise SystemExit(f"check --organization failed ({code}): {errors.strip()[-2000:]}")
    report = json.loads(text)
    return {"seconds": elapsed, "peak_mb": usage.ru_maxrss / 1024, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "report": report}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--max-concurrency", type=int, default=None, help="default: aws-harden's own")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each size; the median is reported")
    args = parser.parse_args()
    from wizard.fanout import DEFAULT_CONCURRENCY

    concurrency = args.max_concurrency or DEFAULT_CONCURRENCY
    app, endpoint = start_server()
    admin, members = seed_organization(endpoint, args.members)
    with tempfile.TemporaryDirectory() as state:
        run_check(endpoint, admin, members[:2], args.max_concurrency, state)  # warm-up: imports, .pyc files
        app.delay = args.delay
        runs = {}
        for label, accounts in (("10", members[:10]), ("all", None)):
            tries = []
            for _ in range(args.repeat):
                before = app.requests
                result = run_check(endpoint, admin, accounts, args.max_concurrency, state)
                result["requests"] = app.requests - before
                result["accounts"] = len(result["report"]["accounts"])
                tries.append(result)
            runs[label] = sorted(tries, key=lambda r: r["seconds"])[len(tries) // 2]  # the median run
            runs[label]["all_seconds"] = [round(r["seconds"], 2) for r in tries]
            runs[label]["peak_mb"] = max(r["peak_mb"] for r in tries)
        app.delay = 0.0
    small, full = runs["10"], runs["all"]
    summary = full["report"]["summary"]
    result = {
        "member_accounts": args.members,
        "accounts_checked": full["accounts"],
        "steps": STEPS.split(","),
        "delay_seconds": args.delay,
        "max_concurrency": concurrency,
        "seconds_10_accounts": round(small["seconds"], 2),
        "seconds_all_accounts": round(full["seconds"], 2),
        "runs_seconds": {"10_accounts": small["all_seconds"], "all_accounts": full["all_seconds"]},
        "load_average": round(os.getloadavg()[0], 1),
        "accounts_per_second": round(full["accounts"] / full["seconds"], 1),
        "requests_all_accounts": full["requests"],
        "requests_per_account": round(full["requests"] / full["accounts"], 1),
        "peak_memory_mb": round(max(small["peak_mb"], full["peak_mb"]), 1),
        "check_cpu_seconds_all_accounts": round(full["cpu_seconds"], 2),
        "growth_10_to_all": round(full["seconds"] / small["seconds"], 2),
        "growth_of_accounts": round(full["accounts"] / small["accounts"], 1),
        # accounts / concurrency: how many accounts each worker reads one after the other
        "accounts_per_worker": {"10_accounts": math.ceil(small["accounts"] / concurrency),
                                "all_accounts": math.ceil(full["accounts"] / concurrency)},
        "account_statuses": {k: v for k, v in summary.items() if k != "line"},
        "targets": {"seconds_all_accounts": TARGET_SECONDS, "peak_memory_mb": TARGET_MB},
    }
    result["met"] = {"seconds_all_accounts": full["seconds"] <= TARGET_SECONDS,
                     "peak_memory_mb": result["peak_memory_mb"] < TARGET_MB}
    print(json.dumps(result, indent=2))
    if not all(result["met"].values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
