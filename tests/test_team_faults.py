"""Faults at every write of team-users, and delegation-roles' (the support role's are in the full apply of
tests/test_faults.py): each fault stops the run with one line naming the step and the call, never a
traceback; a clean re-run finishes and no change is done twice.

Runs only these steps (`--only`), not a full apply: what the faults prove is the step's own re-run path, and
the full apply's faults already cover the engine around it (kept small for the suite's time budget).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import keyring
import pytest

from tests import faults
from tests.conftest import Account, Waits, run_cli
from tests.lockdown_support import journal_entries, run

TEAM = '[team-users]\nusers = [{ name = "dana", group = "Developers" }]\n'
TEAM_WRITES = ("iam:CreateGroup", "iam:AttachGroupPolicy", "iam:CreateUser", "iam:CreateLoginProfile",
               "iam:AddUserToGroup")
ROLES = ('[delegation-roles]\nroles = [{ name = "auditor", account = "210987654321", access = "SecurityAudit" }]\n')
ROLE_WRITES = ("iam:CreateRole", "iam:AttachRolePolicy")


class Fault:
    """`kind` at every attempt of the first call of `operation` (its retries included), nothing else."""

    def __init__(self, operation: str, kind: str) -> None:
        self.operation, self.kind = operation.split(":")[1], kind
        self.attempts = 0
        self.done = False

    def hook(self, client: Any, service: str, region: str) -> None:
        def before_send(request: Any, **_: Any) -> Any:
            if self.done:
                return None
            self.attempts += 1
            return faults.answer(self.kind, client.meta.service_model, request)

        def after_call(**_: Any) -> None:
            if self.attempts:
                self.done = True

        if service == "iam":
            client.meta.events.register_first(f"before-send.iam.{self.operation}", before_send)
            client.meta.events.register(f"after-call.iam.{self.operation}", after_call)
            client.meta.events.register(f"after-call-error.iam.{self.operation}", after_call)


def chain(tmp_path: Path, answers_text: str, only: str, writes: tuple[str, ...]) -> list[Any]:
    answers = tmp_path / "answers.toml"
    answers.write_text(answers_text)
    argv = ["apply", "--yes", "--only", only, "--answers", str(answers)]
    for operation in writes:
        for kind in faults.KINDS:
            fault = Fault(operation, kind)
            result = run(argv, hook=fault.hook, tty=False)
            where = f"{kind} at {operation}: exit {result.code}\n{result.text}"
            assert fault.attempts, f"never reached: {where}"
            assert result.code == (130 if kind == "interrupt" else 1), where
            assert "Traceback" not in result.text, where
            lines = [line for line in result.text.splitlines() if line.startswith("aws-harden: ")]
            assert len(lines) == 1 and only in lines[0] and operation.split(":")[1] in lines[0], where
            assert faults.REASONS[kind] in lines[0], where
    clean = run(argv, tty=False)
    assert clean.code == 0, clean.text
    done = Counter((e["step"], e["change"]["resource"]) for e in journal_entries() if e["result"] == "ok")
    assert [change for change, times in done.items() if times > 1] == [], "a change was done twice"
    again = run(argv, tty=False)
    assert again.writes == [] and again.code == 0, again.text
    return [clean, again]


def test_every_fault_at_every_team_users_write_then_a_rerun_converges(
        account: Account, tmp_path: Path, waits: Waits) -> None:
    chain(tmp_path, TEAM, "team-users", TEAM_WRITES)
    iam = account.raw("iam")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="dana")["Groups"]] == ["Developers"]
    assert iam.get_login_profile(UserName="dana")["LoginProfile"]["PasswordResetRequired"] is True
    assert sorted(p["PolicyName"] for p in iam.list_attached_group_policies(GroupName="Developers")[
        "AttachedPolicies"]) == ["IAMUserChangePassword", "PowerUserAccess"]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["dana"]  # made once
    assert keyring.get_password("aws-harden", "123456789012/dana/console-password")


@pytest.mark.parametrize("only", ["delegation-roles"])
def test_every_fault_at_every_delegation_write_then_a_rerun_converges(
        account: Account, tmp_path: Path, waits: Waits, only: str) -> None:
    chain(tmp_path, ROLES, only, ROLE_WRITES)
    iam = account.raw("iam")
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["auditor"]
    attached = iam.list_attached_role_policies(RoleName="auditor")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["SecurityAudit"]
    held = keyring.get_password("aws-harden", "123456789012/role:auditor/external-id")
    trust = iam.get_role(RoleName="auditor")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": held}}
    # check shows how the other account assumes it, the external id only as where to fetch it (the leak
    # guard searches this output, the journal and the logs for every external id made above)
    check = run_cli(["check", "--output", "json", "--only", only, "--answers", str(tmp_path / "answers.toml")])
    assert check.code == 0, check.text
    text = " ".join(f["text"] for f in json.loads(check.out)["steps"][0]["findings"])
    assert "keyring get aws-harden 123456789012/role:auditor/external-id" in text, text
    assert ("aws sts assume-role --role-arn arn:aws:iam::123456789012:role/aws-harden/auditor "
            "--role-session-name auditor --external-id <the external id>") in text
