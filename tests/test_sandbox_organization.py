"""--sandbox --organization: a management account and four members in the sandbox's moto server (fresh,
half-hardened, hardened, one whose role is gone), their root users modelled, and state kept between runs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from wizard.sandbox.organization import MEMBERS, OrganizationSandbox


def by_name(payload: dict[str, object]) -> dict[str, dict[str, object]]:
    return {str(a["name"]): a for a in payload["accounts"]}  # type: ignore[attr-defined, index]


def test_the_sandbox_organization(tmp_path: Path) -> None:
    result = run_cli(["--sandbox", "--organization", "check", "--output", "json", "--only",
                      "password-policy,member-root-credentials,org-root-access"])
    assert result.code == 1, result.text  # legacy cannot be reached
    payload = json.loads(result.out)
    accounts = by_name(payload)
    assert set(accounts) == {"master", *(m.name for m in MEMBERS)}
    assert payload["caller"]["arn"] == "arn:aws:iam::123456789012:user/org-admin"
    assert accounts["master"]["management"] and accounts["master"]["id"] == "123456789012"
    assert {n: accounts[n]["status"] for n in accounts} == {
        "master": "noncompliant", "dev": "noncompliant", "staging": "compliant", "prod": "compliant",
        "legacy": "unassumable"}
    assert "OrganizationAccountAccessRole" in str(accounts["legacy"]["reason"])
    assert "SANDBOX" in result.err  # the banner goes to stderr with --output json


def test_the_lockdown_in_the_sandbox_and_its_state_kept(tmp_path: Path) -> None:
    plan = run_cli(["--sandbox", "--organization", "apply", "--yes", "--only", "org-root-access"])
    assert plan.code == 1, plan.text  # applied in the management account; legacy unreachable
    audit = run_cli(["--sandbox", "--organization", "plan", "--only", "member-root-credentials", "--output", "json"])
    master = by_name(json.loads(audit.out))["master"]["report"]
    changes = {c["resource"]: c for c in master["steps"][0]["changes"]}  # type: ignore[index]
    members = {m.name: m for m in MEMBERS}
    with_credentials = {n for n, m in members.items() if m.root_password or m.root_key or m.root_mfa}
    assert {r.split(" (")[1].rstrip(")") for r in changes} == with_credentials  # legacy too: AssumeRoot needs no role
    dev = next(c for r, c in changes.items() if r.endswith("(dev)"))
    assert dev["summary"] == "delete its root user's console password, 1 access key"

    answers = tmp_path / "answers.toml"
    ids = [r.split("of ")[1].split(" ")[0] for r in changes]
    answers.write_text(f'[member-root-credentials]\nconfirm_accounts = "{", ".join(ids)}"\n')
    applied = run_cli(["--sandbox", "--organization", "apply", "--yes", "--only", "member-root-credentials",
                       "--answers", str(answers)])
    assert "verified" in applied.text, applied.text
    # A new run starts the sandbox again from its recorded writes, root sessions' deletions included.
    again = run_cli(["--sandbox", "--organization", "plan", "--only", "org-root-access,member-root-credentials",
                     "--accounts", "123456789012"])
    assert again.code == 0, again.text
    assert "1 account: 1 without changes" in again.text


def test_the_sandbox_organization_is_the_same_on_every_start(tmp_path: Path) -> None:
    ids = []
    for directory in ("a", "b"):
        sandbox = OrganizationSandbox(tmp_path / directory)
        sandbox.start()
        try:
            ids.append(dict(sandbox.member_ids))
        finally:
            sandbox.stop()
    assert ids[0] == ids[1] and len(ids[0]) == len(MEMBERS)


def test_changes_in_member_accounts_are_kept_between_runs(tmp_path: Path) -> None:
    """Writes made through a member's role session are replayed in that account on the next start."""
    applied = run_cli(["--sandbox", "--organization", "apply", "--yes", "--only", "password-policy"])
    assert applied.code == 1, applied.text  # legacy cannot be reached
    again = run_cli(["--sandbox", "--organization", "check", "--output", "json", "--only", "password-policy"])
    statuses = {n: a["status"] for n, a in by_name(json.loads(again.out)).items()}
    assert statuses == {"master": "compliant", "dev": "compliant", "staging": "compliant", "prod": "compliant",
                        "legacy": "unassumable"}
