"""Controls evaluate facts; steps plan from the same facts (issue 13).

Two proofs. In a real `check` (in-process moto), one fact reader of wizard/facts.py is replaced by a
fixed answer: the step that inspects that part of the account and the controls that evaluate it both
follow it, so they read the account through the same reader (and, in check and plan, the read cache
sends each read once: tests/test_read_cache.py). And in the source: no step sends a read that a fact
reader owns, except the few listed below with the reason they are not the account's facts.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Account, run_cli
from wizard import facts

STEPS_DIR = Path(__file__).resolve().parent.parent / "steps"
STRICT_POLICY = facts.PasswordPolicy(True, 16, True, True, True, True, True, False, None, 24, False)


def check(*only: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """`check --output json` on the account: each step's status, and each control's verdict per resource."""
    result = run_cli(["check", "--output", "json", "--only", ",".join(only)], tty=False)
    assert result.code in (0, 2), result.text
    report = json.loads(result.out)
    return ({s["id"]: s["status"] for s in report["steps"]},
            {c["id"]: {r["id"]: r["status"] for r in c["resources"]} for c in report["controls"]})


def replaced(monkeypatch: pytest.MonkeyPatch, name: str, answer: Callable[..., Any]) -> list[int]:
    """Replace wizard.facts.<name> for this test; the list counts the calls it got."""
    calls: list[int] = []

    def fixed(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return answer(*args, **kwargs)

    monkeypatch.setattr(facts, name, fixed)
    return calls


def test_the_password_policy_step_and_its_controls_read_one_fact(account: Account,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    steps, controls = check("password-policy")
    assert steps["password-policy"] == "noncompliant"  # a fresh account has no policy
    assert set(controls["iam_password_policy_minimum_length_14"].values()) == {"FAIL"}

    calls = replaced(monkeypatch, "read_password_policy", lambda aws: STRICT_POLICY)
    steps, controls = check("password-policy")
    assert calls, "the fact reader was not used"
    assert steps["password-policy"] == "compliant"  # the step planned from the replaced fact...
    for control in ("iam_password_policy_minimum_length_14", "iam_password_policy_reuse_24",
                    "iam_password_policy_symbol", "iam_password_policy_uppercase"):
        assert set(controls[control].values()) == {"PASS"}, control  # ...and so did the controls


def test_root_mfa_step_and_controls_read_one_summary(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    steps, controls = check("root-mfa")
    assert steps["root-mfa"] == "manual"  # only root, in the console, can assign it
    assert set(controls["iam_root_mfa_enabled"].values()) == {"FAIL"}

    real = facts.read_summary
    replaced(monkeypatch, "read_summary",
             lambda aws: facts.AccountSummary({**real(aws).values, "AccountMFAEnabled": 1}))
    steps, controls = check("root-mfa")
    assert steps["root-mfa"] == "compliant"
    assert set(controls["iam_root_mfa_enabled"].values()) == {"PASS"}


def test_user_mfa_step_and_the_console_mfa_control_read_one_user_list(account: Account,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A user only the replaced reader knows of: the step reports it, and the control has a verdict for it."""
    real = facts.read_users
    ghost = facts.User("ghost", "arn:aws:iam::123456789012:user/ghost", login_profile=True)
    replaced(monkeypatch, "read_users", lambda aws: (*real(aws), ghost))
    result = run_cli(["check", "--output", "json", "--only", "user-mfa"], tty=False)
    report = json.loads(result.out)
    step = next(s for s in report["steps"] if s["id"] == "user-mfa")
    assert any("ghost: console access and no MFA" in f["text"] for f in step["findings"]), step
    control = next(c for c in report["controls"] if c["id"] == "iam_user_mfa_enabled_console_access")
    assert {r["id"]: r["status"] for r in control["resources"]}.get("ghost") == "FAIL", control


def test_the_admin_user_is_read_as_the_controls_read_users(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    """admin-user's view of its user (policies of its own) comes from facts.read_user, the per-user reads
    read_users sends: a policy the replaced reader adds shows in the step and in Prowler's group-or-role check."""
    iam = account.raw("iam")
    iam.create_user(UserName="admin")
    real_user, real_users = facts.read_user, facts.read_users
    direct = facts.AttachedPolicy("ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess")

    def with_direct(user: facts.User | None) -> facts.User | None:
        if user is None or user.name != "admin":
            return user
        from dataclasses import replace
        return replace(user, attached_policies=(direct,))

    replaced(monkeypatch, "read_user", lambda aws, name: with_direct(real_user(aws, name)))
    replaced(monkeypatch, "read_users", lambda aws: tuple(with_direct(u) for u in real_users(aws)))
    result = run_cli(["check", "--output", "json", "--only", "admin-user"], tty=False)
    report = json.loads(result.out)
    step = next(s for s in report["steps"] if s["id"] == "admin-user")
    assert any("has policies of its own (arn:aws:iam::aws:policy/ReadOnlyAccess)" in f["text"]
               for f in step["findings"]), step
    control = next(c for c in report["controls"] if c["id"] == "iam_policy_attached_only_to_group_or_roles")
    assert {r["id"]: r["status"] for r in control["resources"]}.get("admin/ReadOnlyAccess") == "FAIL", control


# --- in the source ---------------------------------------------------------------------------------
# The boto3 methods whose answers are the account's facts (wizard/facts.py reads them for the controls).
FACT_METHODS = frozenset({
    "get_account_password_policy", "get_account_summary", "list_virtual_mfa_devices", "list_users",
    "get_login_profile", "list_mfa_devices", "list_attached_user_policies", "list_user_policies",
    "list_groups_for_user", "list_groups", "get_group", "list_attached_group_policies", "list_group_policies",
    "list_roles", "list_attached_role_policies", "get_credential_report", "list_access_keys",
    "get_access_key_last_used", "describe_trails", "get_trail_status", "get_event_selectors",
})  # fmt: skip
# A step may still send one of them itself where what it reads is not the account's fact (each says why).
NOT_THE_ACCOUNTS_FACT = {
    ("member_root_credentials.py", "get_login_profile"): "a member account's root, through its AssumeRoot session",
    ("member_root_credentials.py", "list_mfa_devices"): "a member account's root, through its AssumeRoot session",
    ("member_root_credentials.py", "list_access_keys"): "a member account's root, through its AssumeRoot session",
    ("root_credentials.py", "list_mfa_devices"): "root's own devices, asked as root (no UserName)",
    ("root_access_keys.py", "list_access_keys"): "root's own keys, asked as root (no UserName)",
    ("provenance.py", "get_group"): "at apply: the group's id again, just before its adoption is recorded",
    ("user_mfa.py", "list_virtual_mfa_devices"): "at apply: the unassigned device a stopped enrollment left "
                                                 "(the facts read the assigned ones)",
}


def fact_reads_sent_by_steps() -> set[tuple[str, str]]:
    """(module, method) for every fact method a step module calls: `client.method(...)`, or its name given
    to a call (`client.get_paginator("method")`, a local paging helper)."""
    found: set[tuple[str, str]] = set()
    for path in sorted(STEPS_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in FACT_METHODS:
                found.add((path.name, func.attr))
            for arg in node.args:  # get_paginator("method"), or a local helper given the method's name
                if isinstance(arg, ast.Constant) and arg.value in FACT_METHODS:
                    found.add((path.name, str(arg.value)))
    return found


def test_no_step_reads_a_fact_itself() -> None:
    sent = fact_reads_sent_by_steps()
    assert sent - set(NOT_THE_ACCOUNTS_FACT) == set(), "read these through wizard/facts.py"
    assert set(NOT_THE_ACCOUNTS_FACT) - sent == set(), "listed as an exception but no longer sent"


def test_the_source_scan_finds_a_fact_read() -> None:
    """The scan above can fail: it finds the reads wizard/facts.py itself sends."""
    tree = ast.parse((STEPS_DIR.parent / "wizard" / "facts.py").read_text())
    methods = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
    assert {"get_account_password_policy", "get_account_summary", "get_login_profile"} <= methods
