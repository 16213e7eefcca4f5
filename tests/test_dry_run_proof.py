"""Dry-run is provable: plan and check against an account that needs changes in every step attempt no write
(the write guard's record is empty, not merely "refused") and leave moto's whole state as it was.

The state is compared as a full dump of every backend of every service the steps touch, and of the billing
stand-in (tests/moto_world.py). The last test shows the dump is able to tell: an apply changes it, in
every one of those services.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import steps
from tests import harness
from tests.conftest import Account
from tests.moto_world import SERVICES, World
from tests.starting_states import Billing as BillingStart
from tests.starting_states import (
    BucketStart,
    Budget,
    Clients,
    GuardrailStart,
    Iam,
    OtherUser,
    Start,
    Trails,
    TrailStart,
    answers_toml,
    arrange,
)
from wizard.aws import isolated_session

# Every step has something to do here; the wizard's own trail exists but is weak (so its bucket and the
# KMS key are managed), and the cloudtrail options reach kms, sns, events, logs and cloudwatch.
NEEDS_CHANGES = Start(
    iam=Iam(
        admin_name="admin", admin="user", admin_direct_policies=True, admin_mfa=False, group_name="FullAccess",
        group_policy=False, group_member=False, group_exists=True, group_extra_policy=True,
        others=(OtherUser("alice", console=True, mfa=False, in_group=False),),
        password_policy={"MinimumPasswordLength": 8, "RequireSymbols": True, "RequireNumbers": False,
                         "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": False,
                         "AllowUsersToChangePassword": False, "MaxPasswordAge": 90, "PasswordReusePrevention": 5,
                         "HardExpiry": False},
        alias="acme-old", wanted_alias="acme-new", root_extra_key="Active", root_mfa=False, enforce=True,
        confirm_running_key=False, team=(("dana", "Developers"),),
    ),
    trails=Trails(
        trails=(TrailStart("aws-harden-trail", multi_region=False, global_events=False, validation=False, logging=False,
                           wrong_policy=True),),
        default_bucket=BucketStart(encryption=None, keep_statement=True, versioning="Suspended"),
        kms=True, retention_days=30, alerts=True, metric_filters=True,
    ),
    billing=BillingStart(exports=("MONTHLY",), legacy=None, bucket="keep"),
    budget=Budget(exists=True, amount="10", notices=(("ACTUAL", 90.0),), subscribers=("finance@example.com",),
                  other_budget=True, answer_amount=25, answer_emails=("ops@example.com",)),
    # Someone else's security contact, half the S3 block, an unused-access analyzer only, a suspended
    # detector, a public bucket; the answers let apply change each (the dump test below needs that).
    guardrails=GuardrailStart(contacts=("SECURITY",), block="partial", ebs_on=("eu-west-1",), analyzer="unused",
                              detectors=(("eu-west-1", False),), public_bucket=True),
)


DELEGATION = '[delegation-roles]\nroles = [{ name = "auditor", account = "210987654321", access = "SecurityAudit" }]\n'


def observed(argv: list[str]) -> tuple[int, Any, str]:
    """Run the program; return its exit code, its AWS layer (write guard and all) and its output."""
    result = harness.run(*argv, stdin="pipe", width=None)
    return result.code, result.aws[0], result.text


@pytest.fixture(scope="module")
def arranged_world() -> Iterator[tuple[World, Account, Path]]:
    """Arranged once for the module (moto in-process, reset): every dry run below reads the same account."""
    with World() as world, tempfile.TemporaryDirectory() as scratch:
        account = world.fresh(str(Path(scratch) / "state"))
        arrange(NEEDS_CHANGES, Clients(isolated_session("AKIASETUP00000000000", "x", "us-east-1")))
        answers = Path(scratch) / "answers.toml"
        answers.write_text(answers_toml(NEEDS_CHANGES) + DELEGATION)
        iam = isolated_session("AKIASETUP00000000000", "x", "us-east-1").client("iam")
        for _ in range(2):  # two active keys: credential-hygiene's work
            iam.create_access_key(UserName="alice")
        yield world, account, answers


@pytest.fixture
def arranged(arranged_world: tuple[World, Account, Path], monkeypatch: pytest.MonkeyPatch) -> tuple[World, Path]:
    """The `offline` fixture clears AWS_* for each test: sign as the arranged account's root again."""
    world, account, answers = arranged_world
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", account.root_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", account.root_secret)
    monkeypatch.setenv("AWS_REGION", account.region)
    return world, answers


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two dumps differ, as paths, so a failure says what changed."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            if key not in before or key not in after:
                found.append(f"{path}/{key}: {'added' if key not in before else 'removed'}")
            else:
                found += differences(before[key], after[key], f"{path}/{key}")
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        pairs = enumerate(zip(before, after, strict=True))
        return [d for i, (a, b) in pairs for d in differences(a, b, f"{path}[{i}]")]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"[:300]]


@pytest.mark.parametrize("only", [None, *steps.all_ids()])
@pytest.mark.parametrize("command", ["plan", "check"])
def test_plan_and_check_change_nothing(arranged: tuple[World, Path], command: str, only: str | None) -> None:
    world, answers = arranged
    before = world.dump()
    argv = [command, "--answers", str(answers), *(["--only", only] if only else [])]
    code, aws, text = observed(argv)
    # Something to do in every step (check: operator actions count as not compliant too), and no error.
    assert code == 2, text
    assert aws.guard.attempts == [], f"writes attempted: {aws.guard.attempts}"
    changed = differences(before, world.dump())
    assert changed == [], "\n".join(changed)


def test_every_step_has_changes_planned_here(arranged: tuple[World, Path]) -> None:
    """The state above really needs a change in every step, so the dry runs above had something to refuse."""
    import json

    _, answers = arranged
    code, _, text = observed(["plan", "--output", "json", "--answers", str(answers)])
    assert code == 2
    pending = {s["id"] for s in json.loads(text)["steps"] if s["changes"]}
    assert pending == set(steps.all_ids())


def test_the_dump_sees_an_apply_in_every_service() -> None:
    """The comparison above could fail: after apply --yes the dump differs, in each service's part."""
    with World() as world, tempfile.TemporaryDirectory() as scratch:
        world.fresh(str(Path(scratch) / "state"))
        arrange(NEEDS_CHANGES, Clients(isolated_session("AKIASETUP00000000000", "x", "us-east-1")))
        answers = Path(scratch) / "answers.toml"
        answers.write_text(answers_toml(NEEDS_CHANGES) + DELEGATION)
        iam = isolated_session("AKIASETUP00000000000", "x", "us-east-1").client("iam")
        for _ in range(2):  # two active keys: credential-hygiene's work
            iam.create_access_key(UserName="alice")
        before = world.dump()
        code, aws, text = observed(["apply", "--yes", "--answers", str(answers)])
        assert code == 2, text  # MFA and root's key are left pending, everything else is done
        assert aws.guard.sent_writes
        changed = {d.split("/")[1] for d in differences(before, world.dump())}
        touched = set(SERVICES) - {"sts"} | {"billing-standin", "guardrail-standin"}  # sts: GetCallerIdentity only
        assert touched <= changed, f"the dump did not see a change in {touched - changed}"
