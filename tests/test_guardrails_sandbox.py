"""The guardrail steps in the sandbox (a moto server on 127.0.0.1, two regions pinned for speed): S3 Control
behind a local endpoint, the stand-in for Access Analyzer and GetContactInformation over HTTP clients, each
region read apart behind the one endpoint, and every change kept across restarts by the replay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.moto_regions import pinned
from tests.test_guardrails import ANSWERS, ONLY


@pytest.fixture
def two_regions() -> Iterator[None]:
    with pinned():
        yield


def test_the_sandbox_keeps_the_guardrails_across_restarts(two_regions: None, tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    before = run_cli(["--sandbox", "plan", "--only", ONLY, "--output", "json"], tty=False)
    report = json.loads(before.out)
    vpcs = [c["resource"] for s in report["steps"] if s["id"] == "default-vpcs" for c in s["changes"]]
    assert len(vpcs) == 2 and len(set(v.split()[2] for v in vpcs)) == 2, vpcs  # each region's own VPC

    applied = run_cli(["--sandbox", "apply", "--yes", "--only", ONLY, "--answers", str(answers)], tty=False)
    assert applied.code == 0, applied.text

    # A new process: the sandbox restarts and replays the writes (analyzers rebuilt in the stand-in, the
    # default VPCs deleted again by the same ids, S3 Control's block put again through 127.0.0.1).
    after = run_cli(["--sandbox", "check", "--only", ONLY, "--answers", str(answers), "--output", "json"], tty=False)
    assert after.code == 0, after.text
    assert "could not restore" not in after.text
    report = json.loads(after.out)
    assert {s["id"]: s["status"] for s in report["steps"]} == dict.fromkeys(ONLY.split(","), "compliant")
    primary = next(s for s in report["steps"] if s["id"] == "root-credentials")
    assert any("Sandbox Owner" in f["text"] for f in primary["findings"])  # the stand-in's primary contact
