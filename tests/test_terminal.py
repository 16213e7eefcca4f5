"""The main flow driven in a real pseudo-terminal, typing answers as a person would."""

from __future__ import annotations

from pathlib import Path

import pexpect

from tests import harness

ENTER = "\r"


def test_person_walks_the_first_two_steps_in_the_sandbox(tmp_path: Path) -> None:
    child = harness.spawn(["--sandbox", "--only", "admin-user,admin-group"], tmp_path)
    child.expect("SANDBOX")
    child.expect("Name of the IAM admin user")
    child.send("\b" * 5 + "alice" + ENTER)  # clear the default "admin" and type another name
    child.expect("access key for the AWS CLI")
    child.send("n")  # no programmatic access
    child.expect(r"Apply 2 changes for admin-user\?")
    child.send("y")
    child.expect("verified")
    child.expect("Name of the admin group")
    child.send(ENTER)  # keep the default FullAccess
    child.expect(r"Apply 3 changes for admin-group\?")
    child.send("y")
    child.expect("Every selected step is compliant and verified.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    check = harness.spawn(["--sandbox", "check", "--only", "admin-user,admin-group", "--answers",
                           str(answers(tmp_path))], tmp_path)
    check.expect(pexpect.EOF)
    check.close()
    assert check.exitstatus == 0, check.before


def answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.toml"
    path.write_text('[admin-user]\nname = "alice"\n')
    return path


def test_ctrl_c_in_the_terminal_exits_130_without_traceback(tmp_path: Path) -> None:
    child = harness.spawn(["--sandbox"], tmp_path)
    child.expect("Name of the IAM admin user")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    output = child.before or ""
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in output and "interrupted" in output


DOWN = "\x1b[B"


def test_person_walks_the_whole_first_day_in_the_sandbox(tmp_path: Path) -> None:
    """Every step, typed as a person would, to the deletion of root's key; then check as the admin."""
    child = harness.spawn(["--sandbox"], tmp_path)
    child.expect("Name of the IAM admin user")
    child.send(ENTER)
    child.expect("access key for the AWS CLI")
    child.send("n")
    child.expect(r"Apply 2 changes for admin-user\?")
    child.send("y")
    child.expect("Name of the admin group")
    child.send(ENTER)
    child.expect(r"Apply 3 changes for admin-group\?")
    child.send("y")
    child.expect("Maximum password age")
    child.send(ENTER)
    child.expect(r"Apply 1 change for password-policy\?")
    child.send("y")
    child.expect("Account alias")
    child.send("first-day-co" + ENTER)
    child.expect(r"Apply 1 change for signin-link\?")
    child.send("y")
    child.expect("password manager")  # root-credentials: the checklist, confirmed by typing a word
    child.expect("To go ahead, type confirmed")
    child.send("confirmed" + ENTER)
    child.expect("People on the team")  # nobody else yet
    child.send(ENTER)
    child.expect("Name of the support role")
    child.send(ENTER)
    child.expect(r"Apply 1 change for support-role\?")
    child.send("y")
    child.expect("Roles another AWS account or a third party assumes")
    child.send(ENTER)
    child.expect("other IAM users with console access")
    child.send("n")
    child.expect("Require MFA for everything")
    child.send("n")
    child.expect(r"Apply 1 change for user-mfa\?")
    child.send("y")
    child.expect("scan this QR code")
    child.expect("Cancel this enrollment")
    child.send(DOWN + DOWN + ENTER)  # the sandbox's simulated authenticator
    child.expect("simulated app: 2 codes typed")
    child.expect("Skip for now")  # root MFA: the console choices
    child.send(DOWN + DOWN + DOWN + ENTER)  # the sandbox's stand-in for the console
    child.expect("stood in for the console")
    child.expect("Name of the trail")
    for _ in range(5):  # trail name, bucket, KMS, retention, alerts email: the defaults
        child.send(ENTER)
    child.expect("CloudWatch Logs with the CIS metric filters")
    child.send("n")
    child.expect(r"Apply 8 changes for cloudtrail\?")
    child.send("y")
    child.expect("S3 bucket for the cost and usage data")
    for _ in range(4):
        child.send(ENTER)
    child.expect(r"Apply 4 changes for billing-report\?")
    child.send("y")
    child.expect("Name of the monthly cost budget")
    child.send(ENTER)
    child.expect("Monthly budget in USD")
    child.send("abc" + ENTER)
    child.expect("enter a number")
    child.send("\b\b\b20" + ENTER)
    child.expect("Email address")
    child.send("me@example" + ENTER)
    child.expect("not a valid email address")
    child.send(".com" + ENTER)
    child.expect(r"Apply 4 changes for budget-alarm\?")
    child.send("y")
    walk_the_guardrails(child)  # ends at root's key's prompt
    child.send(child.match.group(1) + ENTER)
    child.expect("continue as the admin")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    check = harness.spawn(["--sandbox", "check"], tmp_path)
    check.expect("arn:aws:iam::123456789012:user/admin")
    check.expect(pexpect.EOF)
    check.close()
    assert check.exitstatus == 0, check.before


def walk_the_guardrails(child: pexpect.spawn) -> None:
    """The contacts field by field, the account's S3 block, EBS encryption, analyzers and GuardDuty (its cost
    shown, yes by default) in every region, then each default VPC's region typed to delete it; returns at root's
    key's typed confirmation (child.match holds the key id)."""
    for kind, email in (("Security", "security"), ("Billing", "billing"), ("Operations", "ops")):
        child.expect(f"{kind} contact.*: name")
        child.send(f"{kind} team" + ENTER)
        child.expect("title")
        child.send(kind + ENTER)
        child.expect("email")
        child.send(f"{email}@example.com" + ENTER)
        child.expect("phone")
        child.send("+1 555 0100" + ENTER)
    for step in ("account-contacts", "s3-public-access", "ebs-encryption", "access-analyzer"):
        child.expect(rf"Apply \d+ changes? for {step}\?")
        child.send("y")
    child.expect(r"Turn on GuardDuty in every enabled region\? \(GuardDuty is free for 30 days")
    child.send(ENTER)  # the default at a prompt: yes
    child.expect(r"Apply \d+ changes for guardduty\?")
    child.send("y")
    # Every default VPC's deletion is typed (no yes/no first): each region's name, until root's key is asked.
    deleted = 0
    while child.expect([r"To go ahead, type ([a-z]{2}(?:-[a-z]+)+-\d) \(leave empty",
                        r"To go ahead, type (AKIA[A-Z0-9]{16})"]) == 0:
        region = child.match.group(1)
        child.send(region + ENTER)
        child.expect(rf"✓ - default VPC \S+ \({region}\)")  # past this prompt's redraw
        deleted += 1
    assert deleted > 1  # the sandbox's regions, each with its default VPC
