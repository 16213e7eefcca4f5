"""credential-hygiene: stale, old and doubled access keys are found with their dates as evidence, deactivated
only for the users the operator named (never deleted), and the wizard's admin is left alone while it is the
only way in. Ages come from moto's own records, moved back in time (moto stamps every key with now)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from steps.credential_hygiene import STEP, HygieneState, stale_keys, stale_password
from tests.conftest import Account, run_cli
from tests.lockdown_support import run
from wizard.facts import AccessKey, User

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ONLY = ["--only", "credential-hygiene"]


def age_key(key_id: str, days: int) -> None:
    """Make a key `days` old in moto's backend (never used)."""
    from moto.iam.models import iam_backends

    for user in iam_backends["123456789012"]["aws"].users.values():
        for key in user.access_keys:
            if key.access_key_id == key_id:
                key.create_date = key.create_date - timedelta(days=days)


def answers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.toml"
    path.write_text(text)
    return path


def statuses(iam: Any, user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


def test_stale_keys_are_deactivated_only_for_named_users_and_never_deleted(account: Account, tmp_path: Path) -> None:
    iam = account.raw("iam")
    iam.create_user(UserName="bob")
    iam.create_user(UserName="carol")
    bob = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    carol = iam.create_access_key(UserName="carol")["AccessKey"]["AccessKeyId"]
    age_key(bob, 120)
    age_key(carol, 100)

    check = run_cli(["check", "--output", "json", *ONLY])
    assert check.code == 2, check.text
    report = json.loads(check.out)
    step = report["steps"][0]
    assert step["status"] == "noncompliant"
    evidence = " ".join(f["text"] for f in step["findings"])
    assert f"bob's access key {bob}: unused for 120 days (never used since" in evidence  # the dates as evidence
    controls = {c["id"]: {r["id"]: r["status"] for r in c["resources"]} for c in report["controls"]}
    assert controls["iam_rotate_access_key_90_days"]["bob-access-key-1"] == "FAIL"
    assert controls["iam_user_accesskey_unused"]["bob/AccessKey1"] == "FAIL"

    unnamed = run(["apply", "--yes", *ONLY], tty=False)  # --yes deactivates nobody's key unnamed
    assert unnamed.code == 2 and unnamed.writes == [], unnamed.text
    assert "not confirmed" in unnamed.text

    named = run(["apply", "--yes", *ONLY, "--answers", str(answers(tmp_path, '[credential-hygiene]\n'
                                                                             'deactivate = ["bob"]\n'))], tty=False)
    assert named.writes == ["iam:UpdateAccessKey"], named.text
    assert statuses(iam, "bob") == {bob: "Inactive"}  # deactivated, still there
    assert statuses(iam, "carol") == {carol: "Active"}  # not named: left
    assert named.code == 2  # carol's key is still to do

    again = run(["apply", "--yes", *ONLY, "--answers", str(tmp_path / "answers.toml")], tty=False)
    assert again.writes == [], again.text


def test_at_a_terminal_the_user_name_is_typed_to_deactivate(account: Account) -> None:
    from tests.lockdown_support import Driver

    iam = account.raw("iam")
    iam.create_user(UserName="bob")
    first = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    second = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    age_key(first, 10)  # two active keys: the older, less recently made one is the second one
    result = run(["apply", *ONLY], prompter=Driver({"type bob": ["bob"], "Apply": [True]}))
    assert result.code == 0, result.text
    assert statuses(iam, "bob") == {first: "Inactive", second: "Active"}


def key(created_days: int, used_days: int | None = None, status: str = "Active", key_id: str = "AKIA1") -> AccessKey:
    return AccessKey(key_id, status, NOW - timedelta(days=created_days),
                     None if used_days is None else NOW - timedelta(days=used_days))


def test_what_counts_as_stale_as_cis_says() -> None:
    """CIS 2.11: unused for 45 days or more (never used: since creation); 2.12: older than 90 days; v5 1.13:
    one active key (the most recently used is kept). Inactive keys are nobody's risk."""
    user = User("u", "arn:aws:iam::123456789012:user/u", "AIDAU", False, (),
                access_keys=(key(44), key(200, 1, "Inactive", "AKIA2")))
    assert stale_keys(user, NOW) == []
    user = User("u", "arn", "AIDAU", False, (), access_keys=(key(45),))
    assert [s.reasons for s in stale_keys(user, NOW)] == [("unused for 45 days (never used since "
                                                            f"{(NOW - timedelta(days=45)).isoformat()})",)]
    user = User("u", "arn", "AIDAU", False, (), access_keys=(key(91, 1),))
    assert stale_keys(user, NOW)[0].reasons == ("91 days old (rotate every 90 days or less)",)
    user = User("u", "arn", "AIDAU", False, (), access_keys=(key(10, 1, key_id="AKIA1"), key(5, 3, key_id="AKIA2")))
    assert [(s.key.key_id, s.reasons) for s in stale_keys(user, NOW)] == [
        ("AKIA2", ("a second active key (AKIA1 was used more recently)",))]
    console = User("u", "arn", "AIDAU", True, (), password_created=NOW - timedelta(days=50))
    assert stale_password(console, NOW) is not None
    assert stale_password(User("u", "arn", "AIDAU", True, (), password_created=NOW - timedelta(days=50),
                               password_last_used=NOW - timedelta(days=2)), NOW) is None


def test_the_admin_while_the_only_way_in_is_shown_how_to_rotate_not_deactivated() -> None:
    user = User("admin", "arn", "AIDAA", True, (), access_keys=(key(120),))
    state = HygieneState(NOW, tuple(stale_keys(user, NOW)), (), (), "admin", running_key=None,
                         admin_exempt="admin is aws-harden's admin and the only way in this machine holds")
    [change] = STEP.plan(state, None)  # type: ignore[arg-type]
    assert change.key == "rotate-key" and change.operations == ()
    assert "aws iam create-access-key --user-name admin" in change.instructions[0]
    running = HygieneState(NOW, tuple(stale_keys(user, NOW)), (), (), "someone", running_key="AKIA1")
    assert STEP.plan(running, None)[0].key == "rotate-key"  # type: ignore[arg-type]
