"""Faults at every write of a full apply, and the retries that are not faults.

A full apply from a fresh account (tests/full_run.py: every option on, MFA enrolled at the prompt, the
running root key deleted last) sends the writes in WRITES. For each of them, five faults are injected at
that very call, one run after the other: AccessDenied, throttling that outlasts botocore's retries, an
endpoint that cannot be reached (retried too), expired credentials, Ctrl-C. Each faulted run must stop
with exit 1 (130 for Ctrl-C), one line on stderr naming the step and the AWS operation, no traceback, and
a journal that holds every change done before the fault and the failed one.

For speed, the calls of one step (up to 8; cloudtrail's in three chains) are faulted in one chain from a
fresh account: the first fault at a call stops a full apply, the next four re-run the step (`--only`)
from the state the previous fault left; the full apply of the next call's first fault is then also the
re-run that must get past the previous call without its fault. At the end a full run without faults
must converge: exit 0 (every step read back compliant), no change done twice in the whole chain
(journal), `check` as the admin compliant, and the account holding exactly what a clean full apply
leaves (nothing twice).

Faults are made at the wire (botocore before-send, the service's own error format), so botocore parses
and retries them as it would AWS's answers; its retry delays are recorded, not slept (conftest `waits`).
A write a step sends several times (four EventBridge rules, fifteen metric filters) is faulted at its first
occurrence: the later ones take the same code path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keyring
import pytest

from tests import faults, harness
from tests.conftest import Account, Waits
from tests.full_run import (
    CONVERGED,
    admin_credentials,
    answers_file,
    apply,
    check_as_admin,
    inventory,
    operator,
    prepare,
)
from tests.harness import Result, Sent
from tests.leak_guard import LeakGuard
from wizard.aws import client_config

# (step, operation) of every distinct write of the full apply, in the order it is sent.
WRITES = [
    ("admin-user", "iam:CreateUser"),
    ("admin-user", "iam:CreateLoginProfile"),
    ("admin-user", "iam:CreateAccessKey"),
    ("admin-group", "iam:CreateGroup"),
    ("admin-group", "iam:AttachGroupPolicy"),
    ("admin-group", "iam:AddUserToGroup"),
    ("password-policy", "iam:UpdateAccountPasswordPolicy"),
    ("signin-link", "iam:CreateAccountAlias"),
    ("support-role", "iam:CreateRole"),  # team-users' and delegation-roles' writes: tests/test_team_faults.py
    ("support-role", "iam:AttachRolePolicy"),
    ("user-mfa", "iam:CreateVirtualMFADevice"),
    ("user-mfa", "iam:EnableMFADevice"),
    ("user-mfa", "iam:PutGroupPolicy"),
    ("cloudtrail", "kms:CreateKey"),
    ("cloudtrail", "kms:CreateAlias"),
    ("cloudtrail", "kms:EnableKeyRotation"),
    ("cloudtrail", "s3:CreateBucket"),
    ("cloudtrail", "s3:PutPublicAccessBlock"),
    ("cloudtrail", "s3:PutBucketOwnershipControls"),
    ("cloudtrail", "s3:PutBucketEncryption"),
    ("cloudtrail", "s3:PutBucketVersioning"),
    ("cloudtrail", "s3:PutBucketPolicy"),
    ("cloudtrail", "s3:PutBucketLifecycleConfiguration"),
    ("cloudtrail", "logs:CreateLogGroup"),
    ("cloudtrail", "iam:CreateRole"),
    ("cloudtrail", "iam:PutRolePolicy"),
    ("cloudtrail", "cloudtrail:CreateTrail"),
    ("cloudtrail", "cloudtrail:StartLogging"),  # a new trail records all management events: no PutEventSelectors
    ("cloudtrail", "sns:CreateTopic"),
    ("cloudtrail", "sns:SetTopicAttributes"),
    ("cloudtrail", "sns:Subscribe"),
    ("cloudtrail", "events:PutRule"),
    ("cloudtrail", "events:PutTargets"),
    ("cloudtrail", "logs:PutMetricFilter"),
    ("cloudtrail", "cloudwatch:PutMetricAlarm"),
    ("billing-report", "s3:CreateBucket"),
    ("billing-report", "s3:PutPublicAccessBlock"),
    ("billing-report", "s3:PutBucketPolicy"),
    ("billing-report", "bcm-data-exports:CreateExport"),
    ("budget-alarm", "budgets:CreateBudget"),
    ("budget-alarm", "budgets:CreateNotification"),
    ("account-contacts", "account:PutAlternateContact"),
    ("s3-public-access", "s3control:PutPublicAccessBlock"),
    ("ebs-encryption", "ec2:EnableEbsEncryptionByDefault"),
    ("access-analyzer", "accessanalyzer:CreateAnalyzer"),
    ("guardduty", "guardduty:CreateDetector"),
    ("guardduty", "events:PutRule"),
    ("guardduty", "events:PutTargets"),
    ("default-vpcs", "ec2:CreateTags"),
    ("default-vpcs", "ec2:DetachInternetGateway"),
    ("default-vpcs", "ec2:DeleteInternetGateway"),
    ("default-vpcs", "ec2:DeleteSubnet"),
    ("default-vpcs", "ec2:DeleteVpc"),
    ("root-access-keys", "iam:DeleteAccessKey"),  # the running key, last
]


# botocore's standard retry mode as wizard/aws.py configures it: one try, then `max_attempts` retries.
MAX_ATTEMPTS = int(client_config().retries["max_attempts"]) + 1
RETRIED = {"throttled", "unreachable"}


class FaultAt:
    """A before-send fault at the first call of `operation` in `step`, and at every retry of it."""

    def __init__(self, target: tuple[str, str], kind: str) -> None:
        self.target, self.kind = target, kind
        self.change: str | None = None
        self.attempts: list[Sent] = []

    def __call__(self, write: Sent, request: Any, client: Any) -> Any:
        if not write.is_write or (write.step, write.operation) != self.target:
            return None
        if self.change is None:
            self.change = write.change
        if write.change != self.change:
            return None
        self.attempts.append(write)
        return faults.answer(self.kind, client.meta.service_model, request)


def test_a_clean_full_apply_sends_these_writes_and_leaves_this_account(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_secret_leaks: LeakGuard
) -> None:
    """The list the faults below walk is the real one: a change in what apply sends fails here first.
    (And the leak guard knows the secrets this run made, so its search at teardown is not empty.)"""
    phone = prepare(account, monkeypatch, tmp_path)
    answers = answers_file(tmp_path, account.root_key)
    run = apply(answers, operator(phone))
    assert run.code == 0, run.text
    distinct: list[tuple[str, str]] = []
    for write in writes_of(run):
        if (write.step, write.operation) not in distinct:
            distinct.append((write.step, write.operation))
    assert distinct == WRITES
    assert inventory(account) == CONVERGED
    assert check_as_admin(answers, phone).code == 0
    password = keyring.get_password("aws-harden", "123456789012/admin/console-password")
    secret_key = admin_credentials()[1]
    seed = phone.seeds[-1].reveal()
    assert {password, secret_key, seed} <= set(no_secret_leaks.secrets)


# One chain per step; a step with many writes (cloudtrail) is split so the chains run on several cores.
CHAIN_LENGTH = 8
CHAINS = [
    targets[i:i + CHAIN_LENGTH]
    for targets in ([w for w in WRITES if w[0] == step] for step in dict.fromkeys(s for s, _ in WRITES))
    for i in range(0, len(targets), CHAIN_LENGTH)
]


@pytest.mark.parametrize("chain", CHAINS, ids=[f"{c[0][0]}:{c[0][1].split(':')[1]}..." for c in CHAINS])
def test_every_fault_at_every_write_stops_cleanly_and_a_rerun_converges(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, waits: Waits,
    chain: list[tuple[str, str]],
) -> None:
    phone = prepare(account, monkeypatch, tmp_path)
    answers = answers_file(tmp_path, account.root_key)
    runs: list[Result] = []
    step = chain[0][0]
    for target in chain:
        for number, kind in enumerate(faults.KINDS):
            fault = FaultAt(target, kind)
            waits.botocore.clear()
            # The first fault at a call stops a full apply (which also re-runs whatever the previous
            # call's faults left); the next four re-run the step from the state the previous one left.
            run = apply(answers, operator(phone), *(["--only", step] if number else []), on_send=fault)
            runs.append(run)
            where = f"{kind} at {target[0]} {target[1]}"
            assert fault.attempts, f"{where}: the run never reached the call:\n{run.text}"
            assert_stopped_cleanly(run, target, kind, where)
            assert_retried(fault, waits, kind, where)
            assert_journal_holds_what_was_done(run, fault, kind, where)

    clean = apply(answers, operator(phone))
    runs.append(clean)
    assert clean.code == 0, f"the re-run after the faults in {step}:\n{clean.text}"
    assert "Traceback" not in clean.text
    done = Counter((e["step"], e["change"]["resource"]) for run in runs for e in run.journal if e["result"] == "ok")
    assert [change for change, times in done.items() if times > 1] == [], "a change was done twice"
    assert inventory(account) == CONVERGED
    admin = check_as_admin(answers, phone)
    assert admin.code == 0, admin.text


def writes_of(run: Result) -> list[Sent]:
    """Every write attempt of the run (botocore retries included), in order, each with its change."""
    return [sent for sent in run.sent if sent.is_write]


def assert_stopped_cleanly(run: Result, target: tuple[str, str], kind: str, where: str) -> None:
    step, operation = target
    assert run.code == (130 if kind == "interrupt" else 1), f"{where}: exit {run.code}\n{run.text}"
    assert "Traceback" not in run.text, where
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert len(lines) == 1, f"{where}: stderr is not one line: {lines}"
    (line,) = lines
    assert line.startswith("aws-harden: "), line
    assert step in line and operation.split(":")[1] in line, f"{where}: {line}"
    assert faults.REASONS[kind] in line, f"{where}: {line}"


def assert_retried(fault: FaultAt, waits: Waits, kind: str, where: str) -> None:
    """Throttling and unreachable endpoints go through botocore's retries (without waiting in tests)."""
    if kind in RETRIED:
        assert len(fault.attempts) == MAX_ATTEMPTS, f"{where}: {len(fault.attempts)} attempts"
        assert len(waits.botocore) == MAX_ATTEMPTS - 1 and all(d >= 0 for d in waits.botocore), where
    else:
        assert len(fault.attempts) == 1, f"{where}: {len(fault.attempts)} attempts"


def assert_journal_holds_what_was_done(run: Result, fault: FaultAt, kind: str, where: str) -> None:
    entries = [e for e in run.journal if "change" in e]
    last = entries[-1]
    assert last["step"] == fault.target[0] and last["change"]["resource"] == fault.change, f"{where}: {last}"
    if kind == "interrupt":
        assert last["result"] == "interrupted", f"{where}: {last}"
    else:
        assert last["result"] == "failed", f"{where}: {last}"
        assert fault.target[1].split(":")[1] in last["detail"], f"{where}: {last}"
    assert_every_change_closed(entries, where)
    done = {(w.step, w.change) for w in writes_of(run) if w.change != fault.change or w.step != fault.target[0]}
    recorded = {(e["step"], e["change"]["resource"]) for e in entries if e["result"] == "ok"}
    assert done <= recorded, f"{where}: writes sent but not journaled as done: {done - recorded}"


def assert_every_change_closed(entries: Sequence[dict[str, Any]], where: str) -> None:
    open_changes: set[tuple[str, str]] = set()
    for entry in entries:
        key = (entry["step"], entry["change"]["resource"])
        if entry["result"] == "started":
            open_changes.add(key)
        else:
            open_changes.discard(key)
    assert not open_changes, f"{where}: changes started and never closed in the journal: {open_changes}"


# --- retried, not failed: IAM's eventual consistency and its 409 conflicts -----------------------------
class OnceEach:
    """Fail the first attempt of every matching write with `code`, once per (change, call)."""

    def __init__(self, code: str, status: int, operations: Sequence[str] | None = None) -> None:
        self.code, self.status, self.operations = code, status, operations
        self.failed: list[Sent] = []

    def __call__(self, write: Sent, request: Any, client: Any) -> Any:
        if not write.is_write or not write.operation.startswith("iam:") or write in self.failed:
            return None
        if self.operations is not None and write.operation not in self.operations:
            return None
        self.failed.append(write)
        faults.unsent(request)
        return faults.error_response(client.meta.service_model, self.code, "injected once", self.status)


# Writes that name an IAM entity the same run created a moment before (a user, group, device, role).
EVENTUALLY_CONSISTENT = (
    "iam:CreateLoginProfile", "iam:CreateAccessKey", "iam:AttachGroupPolicy", "iam:AddUserToGroup",
    "iam:EnableMFADevice", "iam:PutGroupPolicy", "iam:PutRolePolicy",
)


@pytest.mark.parametrize(
    ("code", "status", "operations"),
    [
        ("ConcurrentModification", 409, None),  # every IAM write
        ("NoSuchEntity", 404, EVENTUALLY_CONSISTENT),  # "just created, not visible yet"
    ],
    ids=["ConcurrentModification-at-every-iam-write", "NoSuchEntity-right-after-create"],
)
def test_transient_iam_errors_are_retried_with_backoff_not_failed(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, waits: Waits,
    code: str, status: int, operations: Sequence[str] | None,
) -> None:
    phone = prepare(account, monkeypatch, tmp_path)
    answers = answers_file(tmp_path, account.root_key)
    once = OnceEach(code, status, operations)
    run = apply(answers, operator(phone), on_send=once)
    assert run.code == 0, run.text
    failed = sorted({w.operation for w in once.failed})
    expected = sorted({op for _, op in WRITES if op.startswith("iam:") and (operations is None or op in operations)})
    assert failed == expected  # each was refused once...
    assert len(waits.backoff) == len(once.failed)  # ...and retried after a backoff (recorded, not slept)
    assert all(delay > 0 for delay in waits.backoff)
    assert inventory(account) == CONVERGED


def test_with_backoff_retries_only_transient_codes_doubling_the_wait() -> None:
    from botocore.exceptions import ClientError

    from wizard.retry import with_backoff

    def failing(code: str, times: int) -> Any:
        calls: list[int] = []

        def call() -> str:
            calls.append(1)
            if len(calls) <= times:
                raise ClientError({"Error": {"Code": code, "Message": "x"}}, "CreateUser")
            return "done"

        return call, calls

    slept: list[float] = []
    call, calls = failing("ConcurrentModification", 2)
    assert with_backoff(call, sleep=slept.append) == "done" and len(calls) == 3 and slept == [0.5, 1.0]

    slept.clear()
    call, calls = failing("ConcurrentModification", 10)
    with pytest.raises(ClientError):
        with_backoff(call, attempts=4, sleep=slept.append)
    assert len(calls) == 4 and slept == [0.5, 1.0, 2.0]  # gives up after `attempts`, no wait after the last

    call, calls = failing("AccessDenied", 1)
    with pytest.raises(ClientError):
        with_backoff(call, sleep=slept.append)
    assert len(calls) == 1  # not transient: fails at once


def test_a_just_created_user_not_yet_readable_when_verifying_is_waited_for(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, waits: Waits
) -> None:
    """IAM reads lag its writes: the GetUser right after CreateUser (the apply reading whose the user is
    before giving it a password, or the verify) may say NoSuchEntity."""
    phone = prepare(account, monkeypatch, tmp_path)
    answers = answers_file(tmp_path, account.root_key)
    created: list[str] = []
    lagging: list[str] = []

    def lag(client: Any, service: str, region: str) -> None:
        def before_send(request: Any, event_name: str, **_: Any) -> Any:
            operation = event_name.rsplit(".", 1)[-1]
            if operation == "CreateUser":
                created.append(operation)
            elif operation == "GetUser" and created and len(lagging) < 2:  # the next two reads lag
                lagging.append(operation)
                faults.unsent(request)
                return faults.error_response(client.meta.service_model, "NoSuchEntity", "no user admin", 404)
            return None

        if service == "iam":
            client.meta.events.register_first("before-send.iam", before_send)

    run = harness.run("apply", "--answers", str(answers), "--only", "admin-user", answers=operator(phone), width=200,
                      on_client=lag)
    assert run.code == 0, run.text
    assert lagging == ["GetUser", "GetUser"] and len(waits.backoff) >= 2, waits.backoff
    assert [u["UserName"] for u in account.raw("iam").list_users()["Users"]] == ["admin"]


def test_the_chains_cover_every_write_once() -> None:
    assert [target for chain in CHAINS for target in chain] == WRITES
