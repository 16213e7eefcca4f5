"""A newcomer's walk through billing-report and budget-alarm in the sandbox, restarts included,
with every connection the process attempts recorded: none may leave the machine."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from tests.conftest import run_cli

STEPS = "billing-report,budget-alarm"


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host anything in this process tries to connect to (the conftest guard still refuses others)."""
    seen: list[str] = []
    guarded = socket.socket.connect

    def spy(self: socket.socket, address: Any) -> Any:
        seen.append(str(address[0] if isinstance(address, tuple) else address))
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return seen


def test_sandbox_walk_through_survives_restarts_and_stays_local(connections: list[str]) -> None:
    script = [
        None,
        None,
        None,
        None,  # billing-report: bucket, prefix, format, export name: the defaults
        True,  # apply its 4 changes
        None,
        "abc",
        "0",
        "20",  # budget-alarm: name; amount, retyped until valid
        "me@",
        "me@example.com",  # emails, retyped until valid
        True,  # apply its 4 changes
    ]
    result = run_cli(["--sandbox", "apply", "--only", STEPS], answers=script)
    assert result.code == 0, result.text
    assert result.prompter is not None and result.prompter.answers == type(result.prompter.answers)()
    assert [r[1] for r in result.prompter.rejected] == [
        "enter a number",
        "the amount must be more than 0 USD",
        "'me@' is not a valid email address",
    ]
    assert "cannot verify IAM user and role access to billing information" in result.out

    # A new process: the sandbox replays the recorded writes, the billing stand-in's included.
    check = run_cli(["--sandbox", "check", "--only", STEPS, "--output", "json"])
    assert check.code == 0, check.text
    report = json.loads(check.out)
    assert [s["status"] for s in report["steps"]] == ["compliant", "compliant"]
    billing = report["steps"][0]
    assert any(
        f["observed"].get("name") == "aws-harden-cur2" and f["observed"].get("satisfies")
        for f in billing["findings"]
    )
    assert "warning: sandbox" not in check.err  # every recorded write replayed cleanly

    plan = run_cli(["--sandbox", "plan", "--only", STEPS])
    assert plan.code == 0 and "No changes." in plan.out, plan.text

    assert connections and all(host.startswith(("127.", "::1", "localhost")) for host in connections), (
        connections
    )
