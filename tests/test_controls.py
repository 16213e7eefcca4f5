"""Controls are pure functions of account facts: facts in, one verdict per resource out (no moto here).

The three misstatements issue 13 found in the per-step evidence each have a test: a virtual root MFA
device, another user's directly attached AdministratorAccess, and the CloudTrail bucket's and root
usage's verdicts taken from steps that do not look at them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import steps as step_registry
from wizard.controls import BY_ID, CONTROLS, ControlResult, evaluate, framework_counts, remediated_by
from wizard.facts import (
    AccountFacts,
    AccountSummary,
    AttachedPolicy,
    BucketAccess,
    CredentialReport,
    CredentialRow,
    EventSelector,
    PasswordPolicy,
    Trail,
    User,
    VirtualMfaDevice,
    parse_credential_report,
)

ACCOUNT = "123456789012"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ADMIN_ACCESS = AttachedPolicy("AdministratorAccess", "arn:aws:iam::aws:policy/AdministratorAccess")
STEPS = step_registry.available()


def facts(**changes: Any) -> AccountFacts:
    return replace(AccountFacts(ACCOUNT, "aws", "us-east-1", NOW), **changes)


def result(control_id: str, f: AccountFacts) -> ControlResult:
    return next(r for r in evaluate(f, STEPS) if r.control.id == control_id)


def root_row(**values: str) -> CredentialRow:
    base = {"user": "<root_account>", "arn": f"arn:aws:iam::{ACCOUNT}:root", "password_enabled": "not_supported",
            "password_last_used": "no_information", "access_key_1_active": "false",
            "access_key_1_last_used_date": "N/A", "access_key_2_active": "false", "access_key_2_last_used_date": "N/A"}
    return CredentialRow({**base, **values})


def report(*rows: CredentialRow, generated: datetime = NOW) -> CredentialReport:
    return CredentialReport("present", generated, rows)


def trail(name: str = "aws-harden-trail", **changes: Any) -> Trail:
    base = Trail(name, f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{name}", "us-east-1", "logs-bucket",
                 multi_region=True, organization=False, global_events=True, log_file_validation=True,
                 is_logging=True, event_selectors=(EventSelector("All", True),))
    return replace(base, **changes)


# --- misstatement 1: a virtual root MFA device ---------------------------------------------------------
def test_a_virtual_root_mfa_device_fails_hardware_mfa_and_passes_mfa() -> None:
    phone = VirtualMfaDevice(f"arn:aws:iam::{ACCOUNT}:mfa/phone", f"arn:aws:iam::{ACCOUNT}:root")
    f = facts(summary=AccountSummary({"AccountMFAEnabled": 1}), virtual_mfa_devices=(phone,))
    hardware = result("iam_root_hardware_mfa_enabled", f)
    assert hardware.status == "FAIL" and "virtual device" in hardware.verdicts[0].reason
    assert hardware.remediated_by == ()  # root-mfa is satisfied by any device: it does not claim this one
    assert "hardware" in hardware.verdicts[0].fix
    assert result("iam_root_mfa_enabled", f).status == "PASS"
    assert result("iam_root_mfa_enabled", f).remediated_by == ("root-mfa",)


def test_root_device_named_as_aws_names_it_counts_as_root_virtual() -> None:
    serial = f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device"
    f = facts(summary=AccountSummary({"AccountMFAEnabled": 1}), virtual_mfa_devices=(VirtualMfaDevice(serial, None),))
    assert result("iam_root_hardware_mfa_enabled", f).status == "FAIL"


def test_root_mfa_without_a_virtual_device_is_hardware() -> None:
    other = VirtualMfaDevice(f"arn:aws:iam::{ACCOUNT}:mfa/alice", f"arn:aws:iam::{ACCOUNT}:user/alice")
    f = facts(summary=AccountSummary({"AccountMFAEnabled": 1}), virtual_mfa_devices=(other,))
    assert result("iam_root_hardware_mfa_enabled", f).status == "PASS"
    assert result("iam_root_hardware_mfa_enabled", facts()).status == "FAIL"  # no MFA at all


# --- misstatement 2: another user with AdministratorAccess attached directly ------------------------------
def test_another_users_direct_policy_fails_with_the_manual_fix() -> None:
    f = facts(users=(User("admin", "arn:aws:iam::123456789012:user/admin", True, groups=("FullAccess",)),
                     User("bob", "arn:aws:iam::123456789012:user/bob", False, attached_policies=(ADMIN_ACCESS,),
                          inline_policies=("extra",))))
    r = result("iam_policy_attached_only_to_group_or_roles", f)
    assert r.status == "FAIL"
    by_resource = {v.resource: v for v in r.verdicts}
    assert set(by_resource) == {"admin", "bob/AdministratorAccess", "bob/extra"}  # one per policy, as Prowler
    assert by_resource["admin"].status == "PASS"
    bob = by_resource["bob/AdministratorAccess"]
    assert bob.status == "FAIL" and "aws-harden does not change other users' policies" in bob.fix
    assert "aws iam detach-user-policy --user-name bob --policy-arn" in bob.fix
    assert "aws iam delete-user-policy --user-name bob --policy-name extra" in by_resource["bob/extra"].fix
    assert r.remediated_by == ()


# --- misstatement 3: the CloudTrail bucket and root usage, each on its own facts ---------------------------
def test_trail_bucket_is_judged_on_the_bucket_not_on_the_trail() -> None:
    weak = trail(log_file_validation=False, is_logging=False, multi_region=False)
    private = BucketAccess("logs-bucket", True)
    f = facts(trails=(weak,), buckets={"logs-bucket": private})
    assert result("cloudtrail_logs_s3_bucket_is_not_publicly_accessible", f).status == "PASS"
    assert result("cloudtrail_log_file_validation_enabled", f).status == "FAIL"

    public = BucketAccess("logs-bucket", True, acl_grantee_uris=("http://acs.amazonaws.com/groups/global/AllUsers",))
    r = result("cloudtrail_logs_s3_bucket_is_not_publicly_accessible",
               facts(trails=(weak,), buckets={"logs-bucket": public}))
    assert r.status == "FAIL" and "ACL grants AllUsers" in r.verdicts[0].reason

    blocked = replace(public, public_access_block={"IgnorePublicAcls": True})
    assert result("cloudtrail_logs_s3_bucket_is_not_publicly_accessible",
                  facts(trails=(weak,), buckets={"logs-bucket": blocked})).status == "PASS"
    policy = BucketAccess("logs-bucket", True, policy_is_public=True)
    assert result("cloudtrail_logs_s3_bucket_is_not_publicly_accessible",
                  facts(trails=(weak,), buckets={"logs-bucket": policy})).status == "FAIL"
    elsewhere = facts(trails=(weak,), buckets={"logs-bucket": BucketAccess("logs-bucket", False)})
    assert result("cloudtrail_logs_s3_bucket_is_not_publicly_accessible", elsewhere).status == "MANUAL"
    assert result("cloudtrail_logs_s3_bucket_is_not_publicly_accessible", facts()).verdicts == ()  # no trail


@pytest.mark.parametrize(("row", "expected"), [
    (root_row(access_key_1_active="true", access_key_1_last_used_date=(NOW - timedelta(hours=3)).isoformat()), "FAIL"),
    (root_row(password_last_used=(NOW - timedelta(days=1, hours=23)).isoformat()), "FAIL"),  # 1 whole day
    (root_row(password_last_used=(NOW - timedelta(days=2)).isoformat()), "PASS"),
    # The latest use counts: a password long unused does not hide a key used today (Prowler takes the first).
    (root_row(password_last_used=(NOW - timedelta(days=90)).isoformat(),
              access_key_2_last_used_date=NOW.isoformat()), "FAIL"),
    (root_row(), "PASS"),
])
def test_root_usage_from_the_credential_report(row: CredentialRow, expected: str) -> None:
    r = result("iam_avoid_root_usage", facts(credential_report=report(row)))
    assert r.status == expected, r.verdicts
    assert r.remediated_by == ()  # no step makes root unused; admin-user and signin-link do not claim it


def test_root_usage_without_a_fresh_report_needs_the_operator() -> None:
    absent = result("iam_avoid_root_usage", facts())
    assert absent.status == "MANUAL" and "generate-credential-report" in absent.verdicts[0].fix
    stale = report(root_row(), generated=NOW - timedelta(hours=5))
    old = result("iam_avoid_root_usage", facts(credential_report=stale))
    assert old.status == "MANUAL" and "older than 4 hours" in old.verdicts[0].reason
    # A use the old report shows is still a failure.
    used = root_row(access_key_1_last_used_date=(NOW - timedelta(hours=6)).isoformat())
    assert result("iam_avoid_root_usage", facts(credential_report=report(used, generated=NOW - timedelta(hours=5)))
                  ).status == "FAIL"


def test_credential_report_csv_is_parsed_as_aws_writes_it() -> None:
    csv_text = (b"user,arn,password_enabled,password_last_used,access_key_1_active,access_key_1_last_used_date\n"
                b"<root_account>,arn:aws:iam::123456789012:root,not_supported,2026-11-30T10:00:00+00:00,true,N/A\n"
                b"alice,arn:aws:iam::123456789012:user/alice,true,no_information,false,N/A\n")
    parsed = parse_credential_report(csv_text, datetime(2026, 12, 1, 11, 0))
    assert parsed.root is not None and parsed.root.flag("access_key_1_active")
    assert parsed.root.date("password_last_used") == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert parsed.root.date("access_key_1_last_used_date") is None and parsed.generated is not None
    assert result("iam_avoid_root_usage", facts(credential_report=parsed)).status == "FAIL"


# --- the rest of the table ---------------------------------------------------------------------------------
def test_no_password_policy_fails_each_password_control_once_for_the_account() -> None:
    weak = [r for r in evaluate(facts(), STEPS) if r.control.id.startswith("iam_password_policy_")]
    assert len(weak) == 6 and all(r.status == "FAIL" for r in weak)
    assert all([v.resource for v in r.verdicts] == [ACCOUNT] for r in weak)
    assert all(r.remediated_by == ("password-policy",) for r in weak)
    strong = PasswordPolicy(True, 14, True, True, True, True, reuse_prevention=24)
    assert all(result(r.control.id, facts(password_policy=strong)).status == "PASS" for r in weak)
    assert result("iam_password_policy_reuse_24", facts(password_policy=replace(strong, reuse_prevention=5))
                  ).status == "FAIL"


def test_console_mfa_is_one_verdict_per_user() -> None:
    users = (User("admin", "arn:a", True, mfa_serials=("arn:mfa",)), User("alice", "arn:b", True),
             User("ci", "arn:c", False))
    r = result("iam_user_mfa_enabled_console_access", facts(users=users))
    assert [(v.resource, v.status) for v in r.verdicts] == [("admin", "PASS"), ("alice", "FAIL"), ("ci", "PASS")]
    assert r.remediated_by == ("user-mfa",)


def test_root_access_keys_fail_while_any_exists() -> None:
    inactive = facts(summary=AccountSummary({"AccountAccessKeysPresent": 1}),
                     credential_report=report(root_row(access_key_1_active="false")))
    r = result("iam_no_root_access_key", inactive)
    assert r.status == "FAIL" and r.verdicts[0].observed["access_key_1_active"] == "false"
    assert result("iam_no_root_access_key", facts(summary=AccountSummary({"AccountAccessKeysPresent": 0}))
                  ).status == "PASS"


def test_trails_cover_regions_as_prowler_counts_them() -> None:
    assert result("cloudtrail_multi_region_enabled", facts(trails=(trail(),))).status == "PASS"
    stopped = result("cloudtrail_multi_region_enabled", facts(trails=(trail(is_logging=False),)))
    assert stopped.status == "FAIL"
    local = result("cloudtrail_multi_region_enabled", facts(trails=(trail(multi_region=False),)))
    assert {(v.region, v.status) for v in local.verdicts} == {("us-east-1", "PASS"), ("other regions", "FAIL")}
    write_only = trail(event_selectors=(EventSelector("WriteOnly", True),))
    assert result("cloudtrail_multi_region_enabled", facts(trails=(write_only,))).status == "PASS"
    assert result("cloudtrail_multi_region_enabled_logging_management_events",
                  facts(trails=(write_only,))).status == "FAIL"
    unknown = result("cloudtrail_multi_region_enabled", facts(trails=(trail(is_logging=None, status_error="denied"),)))
    assert "MANUAL" in {v.status for v in unknown.verdicts}


def test_a_fact_that_could_not_be_read_makes_its_controls_manual() -> None:
    f = facts(unread={"users": "AccessDenied: iam:ListUsers"})
    r = result("iam_user_mfa_enabled_console_access", f)
    assert r.status == "MANUAL" and "AccessDenied" in r.verdicts[0].reason
    assert result("iam_root_mfa_enabled", f).status == "FAIL"  # other facts still count


def test_every_step_declares_what_it_remediates_and_every_claim_is_a_control() -> None:
    for step in STEPS:
        assert "remediates" in type(step).__dict__, f"{step.id} does not declare remediates"
        assert set(step.remediates) <= set(BY_ID), step.id
    assert {c.id for c in CONTROLS} == set(BY_ID)
    assert remediated_by("iam_avoid_root_usage", STEPS) == ()
    assert remediated_by("iam_no_root_access_key", STEPS) == ("root-access-keys",)


def test_each_control_carries_its_own_ids_and_frameworks_count_requirements() -> None:
    hardware = BY_ID["iam_root_hardware_mfa_enabled"]
    assert hardware.requirements() == ["CIS AWS v7.0 2.6", "CIS AWS v5.0 1.5", "AWS Security Hub IAM.6",
                                       "Prowler iam_root_hardware_mfa_enabled"]
    results = evaluate(facts(), STEPS)
    counts = framework_counts(results)
    # CIS v7.0 2.2-2.13, 2.15, 2.18, 3.1.4, 4.1, 4.2, 6.1.1: eighteen requirements; 2.11 (unused keys, unused
    # passwords) and 4.1 are carried by two controls each, counted once.
    assert sum(counts["CIS AWS v7.0"].values()) == 18
    assert sum(counts["Prowler"].values()) == len(CONTROLS)


def test_check_exit_code_counts_the_controls_the_selected_steps_remediate() -> None:
    from wizard.outcome import StepOutcome, exit_code_for
    from wizard.protocol import Status

    results = evaluate(facts(), STEPS)  # root has no MFA, no trail, no password policy...
    for step_id, expected in (("root-mfa", 2), ("signin-link", 0)):
        selected = [s for s in STEPS if s.id == step_id]
        compliant = [StepOutcome(step_id, "title", Status.COMPLIANT, "compliant")]
        assert exit_code_for("check", compliant, results, selected) == expected, step_id
    assert exit_code_for("plan", [StepOutcome("root-mfa", "t", Status.COMPLIANT, "c")], results, STEPS) == 0
