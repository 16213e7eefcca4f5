"""The four-run idiom against moto, per step: plan shows changes, apply, check passes, apply sends no write."""

from __future__ import annotations

from typing import Any

import pytest

from tests import harness
from tests.conftest import Account, run_cli
from tests.lockdown_support import mark_as_wizards


def run_observed(argv: list[str]) -> tuple[int, list[str], str]:
    result = harness.run(*argv, stdin="pipe", width=None)
    return result.code, result.writes, result.text


@pytest.mark.parametrize(
    ("step_id", "expected_writes"),
    [
        ("admin-user", ["iam:CreateUser", "iam:CreateLoginProfile"]),
        ("admin-user,admin-group", ["iam:CreateUser", "iam:CreateLoginProfile", "iam:CreateGroup",
                                    "iam:AttachGroupPolicy", "iam:AddUserToGroup"]),
    ],
)
def test_four_runs(account: Account, step_id: str, expected_writes: list[str]) -> None:
    code, writes, text = run_observed(["plan", "--only", step_id])
    assert code == 2 and writes == [] and "to add" in text

    code, writes, text = run_observed(["apply", "--yes", "--only", step_id])
    assert code == 0, text
    assert writes == expected_writes

    code, writes, text = run_observed(["check", "--only", step_id])
    assert code == 0 and writes == [], text

    code, writes, text = run_observed(["apply", "--yes", "--only", step_id])
    assert code == 0 and writes == [], text
    assert "already compliant" in text


def test_admin_group_alone_adds_the_wizards_user(account: Account) -> None:
    account.raw("iam").create_user(UserName="admin")
    mark_as_wizards(account.raw("iam"), "admin")
    code, writes, text = run_observed(["apply", "--yes", "--only", "admin-group"])
    assert code == 0, text
    assert writes == ["iam:CreateGroup", "iam:AttachGroupPolicy", "iam:AddUserToGroup"]
    group = account.raw("iam").get_group(GroupName="FullAccess")
    assert [u["UserName"] for u in group["Users"]] == ["admin"]
    assert group["Group"]["Path"] == "/aws-harden/"  # the wizard's mark on its group


def test_the_wizards_user_is_not_recreated_only_login_profile_added(account: Account) -> None:
    account.raw("iam").create_user(UserName="admin")
    mark_as_wizards(account.raw("iam"), "admin")  # an earlier run stopped before the login profile
    code, writes, _ = run_observed(["apply", "--yes", "--only", "admin-user"])
    assert code == 0 and writes == ["iam:CreateLoginProfile"]


def test_the_wizards_partial_group_gets_only_missing_pieces(account: Account) -> None:
    iam = account.raw("iam")
    iam.create_user(UserName="admin")
    mark_as_wizards(iam, "admin")
    iam.create_group(GroupName="FullAccess", Path="/aws-harden/")
    iam.add_user_to_group(GroupName="FullAccess", UserName="admin")
    code, writes, _ = run_observed(["apply", "--yes", "--only", "admin-group"])
    assert code == 0 and writes == ["iam:AttachGroupPolicy"]


def test_a_user_the_wizard_did_not_make_is_adopted_only_when_named(account: Account, tmp_path: Any) -> None:
    account.raw("iam").create_user(UserName="admin")
    code, writes, text = run_observed(["apply", "--yes", "--only", "admin-user"])
    assert code == 2 and writes == [], text
    assert 'adopt_existing = "admin" under [admin-user]' in text
    answers = tmp_path / "answers.toml"
    answers.write_text('[admin-user]\nadopt_existing = "admin"\n')
    code, writes, text = run_observed(["apply", "--yes", "--only", "admin-user", "--answers", str(answers)])
    assert code == 0 and writes == ["iam:CreateLoginProfile"], text
    code, writes, text = run_observed(["apply", "--yes", "--only", "admin-user"])  # remembered: no answer needed
    assert code == 0 and writes == [], text


def test_custom_names_from_answers_file(account: Account, tmp_path: Any) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('[admin-user]\nname = "ops.alice"\n[admin-group]\nname = "Admins"\n')
    argv = ["apply", "--yes", "--only", "admin-user,admin-group", "--answers", str(answers)]
    result = run_cli(argv, tty=False)
    assert result.code == 0, result.text
    iam = account.raw("iam")
    assert [u["UserName"] for u in iam.get_group(GroupName="Admins")["Users"]] == ["ops.alice"]
    iam.get_login_profile(UserName="ops.alice")
