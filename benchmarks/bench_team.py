"""How `plan` scales with the team: 50 people listed, on a moto server that delays every request (a far region).

Run on demand (not part of the test suite):

    .venv/bin/python benchmarks/bench_team.py [--people 50] [--delay 0.1]

It applies the team once (no delay), then times `plan --only team-users,user-mfa,credential-hygiene` with and
without the delay, and reports the requests it sends, the most frequent read (target: at most one per person
and the admin, whatever the number of steps) and the round trips on the critical path ((with delay - without)
/ delay; target: at most 8: the reads per person go out in parallel, not one after another).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_check import delayed_billing_standin, seed_account, start_server  # noqa: E402

STEPS = "team-users,user-mfa,credential-hygiene"


def run(argv: list[str], endpoint: str) -> tuple[int, float, Counter[str]]:
    from tests import harness

    start = time.perf_counter()
    result = harness.run(*argv, "--endpoint-url", endpoint, stdin="pipe", width=None)
    if result.code not in (0, 2):
        raise SystemExit(f"{argv[0]} failed ({result.code}): {result.err}")
    return result.code, time.perf_counter() - start, Counter(result.operations)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()
    import keyring

    from wizard.secrets import memory_keyring

    keyring.set_keyring(memory_keyring())
    with tempfile.TemporaryDirectory() as state:
        os.environ.update(AWS_HARDEN_STATE_DIR=state, AWS_CONFIG_FILE=os.devnull,
                          AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        app, endpoint = start_server()
        stack = contextlib.ExitStack()
        stack.enter_context(delayed_billing_standin(app))
        key, secret = seed_account(endpoint)
        os.environ.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1")
        answers = Path(state) / "answers.toml"
        answers.write_text("[team-users]\nusers = [" + ", ".join(
            f'{{ name = "p{n}", group = "ReadOnly" }}' for n in range(args.people)) + "]\n")
        common = ["--only", STEPS, "--answers", str(answers)]
        _, apply_seconds, applied = run(["apply", "--yes", *common], endpoint)
        run(["plan", *common], endpoint)  # warm-up
        before = app.requests
        _, fast, sent = run(["plan", *common], endpoint)
        requests = app.requests - before
        app.delay = args.delay
        _, slow, _ = run(["plan", *common], endpoint)
        app.delay = 0.0
        busiest, most = sent.most_common(1)[0]
        result = {
            "people": args.people,
            "apply_seconds_no_delay": round(apply_seconds, 2),
            "apply_requests": sum(applied.values()),
            "plan_requests": requests,
            "plan_most_frequent_read": {busiest: most},
            "plan_seconds_no_delay": round(fast, 3),
            "plan_seconds_with_delay": round(slow, 3),
            "delay_seconds": args.delay,
            "round_trips_on_critical_path": round((slow - fast) / args.delay, 2),
            "targets": {"most_frequent_read": args.people + 1, "round_trips": 8},
        }
        result["met"] = {"most_frequent_read": most <= args.people + 1,
                         "round_trips": result["round_trips_on_critical_path"] <= 8}
        print(json.dumps(result, indent=2))
        if not all(result["met"].values()):
            raise SystemExit(1)


if __name__ == "__main__":
    main()
