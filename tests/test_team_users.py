"""team-users, support-role and the team's MFA, end to end against the strict test world (issue 14's "Done when").

From a fresh account, `apply --yes` with the issue's answers makes dana and erin, each only in their group, with
console access, no keys and nothing attached directly; the groups hold only their managed policies; the support
role exists with AWSSupportAccess; a second apply sends no write; `check` reports the team's MFA as what is left.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring
import pytest

from tests.conftest import Account, Terminal, run_cli
from tests.lockdown_support import Driver, journal_entries, run
from tests.lockdown_support import run as run_recorded

ISSUE_ANSWERS = """
[team-users]
users = [{ name = "dana", group = "Developers" }, { name = "erin", group = "ReadOnly" }]
"""
TEAM = "admin-user,admin-group,password-policy,team-users,support-role,user-mfa"
POLICY = "arn:aws:iam::aws:policy/"


def answers(tmp_path: Path, text: str = ISSUE_ANSWERS) -> Path:
    path = tmp_path / "answers.toml"
    path.write_text(text)
    return path


def policies(iam: Any, group: str) -> list[str]:
    return sorted(p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"])


def test_apply_yes_makes_the_team_and_a_second_apply_sends_no_write(account: Account, tmp_path: Path) -> None:
    path = answers(tmp_path)
    first = run(["apply", "--yes", "--only", TEAM, "--answers", str(path)], tty=False)
    assert first.code == 2, first.text  # MFA enrollment needs the people with their phones
    iam = account.raw("iam")
    for name, group in (("dana", "Developers"), ("erin", "ReadOnly")):
        assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]] == [group]
        assert iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"] is True
        assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"] == []
        assert iam.list_attached_user_policies(UserName=name)["AttachedPolicies"] == []
        assert iam.list_user_policies(UserName=name)["PolicyNames"] == []
        assert {"Key": "created-by", "Value": "aws-harden"} in iam.get_user(UserName=name)["User"]["Tags"]
        assert keyring.get_password("aws-harden", f"123456789012/{name}/console-password")
        assert f"123456789012/{name}/console-password" in " ".join(first.text.split())  # the summary says where
    assert policies(iam, "Developers") == [POLICY + "IAMUserChangePassword", POLICY + "PowerUserAccess"]
    assert policies(iam, "ReadOnly") == [POLICY + "IAMUserChangePassword", POLICY + "ReadOnlyAccess"]
    assert iam.get_group(GroupName="Developers")["Group"]["Path"] == "/aws-harden/"
    # the admin group stays the only one with AdministratorAccess
    assert [g for g in ("Developers", "ReadOnly") if POLICY + "AdministratorAccess" in policies(iam, g)] == []
    role = iam.get_role(RoleName="aws-harden-support")["Role"]
    assert role["Path"] == "/aws-harden/"
    attached = iam.list_attached_role_policies(RoleName="aws-harden-support")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSSupportAccess"]
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert "aws sts assume-role --role-arn arn:aws:iam::123456789012:role/aws-harden/aws-harden-support" in first.text
    assert "mfa_serial = arn:aws:iam::123456789012:mfa/admin" in first.text

    second = run(["apply", "--yes", "--only", TEAM, "--answers", str(path)], tty=False)
    assert second.writes == [], second.text
    assert second.code == 2

    check = run_cli(["check", "--output", "json", "--only", TEAM, "--answers", str(path)])
    report = json.loads(check.out)
    statuses = {s["id"]: s["status"] for s in report["steps"]}
    assert statuses == {"admin-user": "compliant", "admin-group": "compliant", "password-policy": "compliant",
                        "team-users": "compliant", "support-role": "compliant", "user-mfa": "noncompliant"}
    mfa = next(s for s in report["steps"] if s["id"] == "user-mfa")
    pending = {c["resource"] for c in mfa["changes"]}
    assert {'MFA for "dana"', 'MFA for "erin"'} <= pending  # the team's MFA is the remaining work
    controls = {c["id"]: c for c in report["controls"]}
    assert controls["iam_support_role_created"]["status"] == "PASS"
    console_mfa = {r["id"]: r["status"] for r in controls["iam_user_mfa_enabled_console_access"]["resources"]}
    assert console_mfa == {"admin": "FAIL", "dana": "FAIL", "erin": "FAIL"}
    direct = {r["id"]: r["status"] for r in controls["iam_policy_attached_only_to_group_or_roles"]["resources"]}
    assert direct == {"admin": "PASS", "dana": "PASS", "erin": "PASS"}


def test_removing_someone_from_the_list_leaves_them_and_moving_them_changes_only_their_group(
        account: Account, tmp_path: Path) -> None:
    assert run(["apply", "--yes", "--only", "team-users", "--answers", str(answers(tmp_path))], tty=False).code == 0
    moved = answers(tmp_path, '[team-users]\nusers = [{ name = "dana", group = "ReadOnly" }]\n')
    plan = run_cli(["plan", "--only", "team-users", "--answers", str(moved)])
    assert "erin: not in the list, left alone" in plan.out, plan.out
    assert '- member "dana" of group "Developers"' in plan.out and '+ member "dana" of group "ReadOnly"' in plan.out
    result = run(["apply", "--yes", "--only", "team-users", "--answers", str(moved)], tty=False)
    assert result.code == 0, result.text
    assert sorted(result.writes) == ["iam:AddUserToGroup", "iam:RemoveUserFromGroup"]
    iam = account.raw("iam")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="dana")["Groups"]] == ["ReadOnly"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="erin")["Groups"]] == ["ReadOnly"]
    assert iam.get_login_profile(UserName="erin")  # never deleted


def test_someone_elses_user_of_a_listed_name_is_not_taken_over_silently(account: Account, tmp_path: Path) -> None:
    iam = account.raw("iam")
    iam.create_user(UserName="dana")  # a stranger's: no tag, no credential held here
    result = run(["apply", "--yes", "--only", "team-users", "--answers", str(answers(tmp_path))], tty=False)
    assert result.code == 2, result.text
    assert "not confirmed" in result.text and "adopt_existing" in result.text
    assert iam.list_groups_for_user(UserName="dana")["Groups"] == []  # nothing given to it
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="dana")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="erin")["Groups"]] == ["ReadOnly"]  # erin made
    # Named in the answers file: adopted, then given console access and its group.
    named = answers(tmp_path, ISSUE_ANSWERS + 'adopt_existing = ["dana"]\n')
    result = run(["apply", "--yes", "--only", "team-users", "--answers", str(named)], tty=False)
    assert result.code == 0, result.text
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="dana")["Groups"]] == ["Developers"]
    assert iam.get_login_profile(UserName="dana")


def test_at_a_terminal_typing_the_name_adopts_and_a_person_here_may_see_the_password_once(
        account: Account, tmp_path: Path, tty: Terminal, no_secret_leaks: Any) -> None:
    account.raw("iam").create_user(UserName="dana")
    driver = Driver({"type dana": ["dana"], "Apply": [True], "Where should the console password for dana": [
        "Show it once"], "Where should the console password for erin": ["Keep it"]})
    result = run_recorded(["apply", "--only", "team-users", "--answers", str(answers(tmp_path))], prompter=driver)
    assert result.code == 0, result.text
    assert tty.text().count("(shown once; it is not stored)") == 1  # dana's, on the terminal only
    assert keyring.get_password("aws-harden", "123456789012/dana/console-password") is None
    assert keyring.get_password("aws-harden", "123456789012/erin/console-password")
    assert "console password for dana: shown once on this terminal (not stored)" in result.text
    # A later run still knows dana is aws-harden's (her id is in the keyring, not her password).
    again = run(["apply", "--yes", "--only", "team-users", "--answers", str(answers(tmp_path))], tty=False)
    assert again.writes == [] and again.code == 0, again.text
    dana_password = no_secret_leaks.secrets
    assert dana_password  # the leak guard searched everything for both passwords


test_at_a_terminal_typing_the_name_adopts_and_a_person_here_may_see_the_password_once = pytest.mark.shows_secret(
    "dana is at the terminal and chose to see her password once")(
    test_at_a_terminal_typing_the_name_adopts_and_a_person_here_may_see_the_password_once)


def test_a_stranger_in_a_catalogue_group_does_not_gain_its_policies_unasked(account: Account, tmp_path: Path) -> None:
    iam = account.raw("iam")
    iam.create_group(GroupName="Developers", Path="/aws-harden/")  # aws-harden's, but half set up
    iam.create_user(UserName="mallory")
    iam.add_user_to_group(GroupName="Developers", UserName="mallory")
    result = run(["apply", "--yes", "--only", "team-users", "--answers", str(answers(tmp_path))], tty=False)
    assert result.code == 2, result.text
    assert "members the list does not put in it would gain" in result.text and "mallory" in result.text
    assert policies(iam, "Developers") == []
    assert iam.list_groups_for_user(UserName="dana")["Groups"] == []  # not into a group nobody agreed to
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="erin")["Groups"]] == ["ReadOnly"]


def test_journal_records_each_person_and_no_password(account: Account, tmp_path: Path) -> None:
    assert run(["apply", "--yes", "--only", "team-users", "--answers", str(answers(tmp_path))], tty=False).code == 0
    done = [(e["step"], e["change"]["resource"]) for e in journal_entries() if e["result"] == "ok"]
    assert ("team-users", 'iam user "dana"') in done and ("team-users", 'member "erin" of group "ReadOnly"') in done


def test_fifty_people_are_planned_and_applied_with_one_read_per_person_not_per_step(
        account: Account, tmp_path: Path) -> None:
    """The directory is one paginated GetAccountAuthorizationDetails; what it lacks (the login profile) is one
    read per person that exists, shared by the steps (check's and plan's read cache); nothing per change."""
    from collections import Counter

    team = answers(tmp_path, "[team-users]\nusers = [" + ", ".join(
        f'{{ name = "p{n}", group = "{"ReadOnly" if n % 2 else "Developers"}" }}' for n in range(50)) + "]\n")
    applied = run(["apply", "--yes", "--only", "team-users", "--answers", str(team)], tty=False)
    assert applied.code == 0, applied.text
    sent = Counter(applied.operations)
    assert sent["CreateUser"] == 50 and sent["CreateLoginProfile"] == 50
    reads = {op: n for op, n in sent.items() if op.startswith(("Get", "List"))}
    assert reads["GetAccountAuthorizationDetails"] <= 2  # inspect, and verify
    assert max(reads.values()) <= 50, reads  # GetLoginProfile, at verify only: nobody existed before
    plan = run(["plan", "--only", "team-users,user-mfa,credential-hygiene", "--answers", str(team)], tty=False)
    assert plan.code == 2, plan.text  # the team's MFA is left
    per_kind = Counter(plan.operations)
    assert per_kind["GetAccountAuthorizationDetails"] == 1
    assert max(per_kind.values()) <= 51, per_kind  # 50 people and the admin: each read once for all three steps
