"""The cloudtrail step where AWS checks what moto does not (issue 12): organization trails seen from a member
account, the KMS key with an S3 Bucket Key, rule states for read-only events, root sign-ins in every enabled
region, advanced and basic event selectors, and the CloudWatch Logs role's documented trust policy. Each runs
in the strict test world (wizard/sandbox/strict.py), which refuses what AWS refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from steps import cloudtrail_policies as docs
from tests.conftest import Account, run_cli
from tests.starting_states import cloudtrail_may_write
from tests.test_cloudtrail import ACCOUNT, answers, applied, make_trail, plan_json
from tests.test_idempotence import run_observed

MANAGEMENT = "999999999999"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/aws-harden-trail"
# Spelled out rather than imported, so each test fails on the code before issue 12 by what it does.
DECRYPT_SID = "Allow CloudTrail to decrypt a trail"
ALL_MANAGEMENT = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
FORWARD_RULE, FORWARD_ROLE, FORWARD_TARGET = (
    "aws-harden-forward-root-sign-in", "aws-harden-events-forward-to-us-east-1", "us-east-1-default-bus")
ROOT_SIGN_IN = {"detail-type": ["AWS Console Sign In via CloudTrail"], "detail": {"userIdentity": {"type": ["Root"]}}}


# --- 1. an organization trail of the management account, seen from a member account ------------------------
def org_trail_in_management_account(account: Account, monkeypatch: pytest.MonkeyPatch) -> str:
    """The management account's organization trail, and this account a member of its organization."""
    from moto.organizations.models import organizations_backends

    monkeypatch.setenv("MOTO_ACCOUNT_ID", MANAGEMENT)
    s3, cloudtrail = account.raw("s3"), account.raw("cloudtrail")
    account.raw("organizations").create_organization(FeatureSet="ALL")
    arn = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/org-trail"
    s3.create_bucket(Bucket="org-central-logs")
    policy = cloudtrail_may_write("org-central-logs", arn)
    policy["Statement"][1]["Resource"] = f"arn:aws:s3:::org-central-logs/AWSLogs/{MANAGEMENT}/*"
    s3.put_bucket_policy(Bucket="org-central-logs", Policy=json.dumps(policy))
    cloudtrail.create_trail(Name="org-trail", S3BucketName="org-central-logs", IsMultiRegionTrail=True,
                            IncludeGlobalServiceEvents=True, EnableLogFileValidation=True, IsOrganizationTrail=True)
    cloudtrail.start_logging(Name="org-trail")
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    # moto has no invitations: membership as CreateAccount would record it (a test-side seam).
    monkeypatch.setitem(organizations_backends.master_accounts, ACCOUNT, (MANAGEMENT, "aws"))
    return arn


def test_an_organization_trail_owned_by_the_management_account_is_org_managed_not_an_error(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = org_trail_in_management_account(account, monkeypatch)
    listed = account.raw("cloudtrail").describe_trails()["trailList"]
    assert [t["TrailARN"] for t in listed] == [arn]  # a member sees it, as on AWS
    code, step = plan_json()
    assert code == 0 and step["status"] == "compliant" and step["changes"] == [], step
    texts = [f["text"] for f in step["findings"]]
    assert any("managed there" in t and "read in the management account" in t for t in texts), texts
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail"])
    assert code == 0 and writes == [], text  # never modified, never duplicated
    assert [t["TrailARN"] for t in account.raw("cloudtrail").describe_trails()["trailList"]] == [arn]


# --- 2. SSE-KMS with the S3 Bucket Key: the key policy lets CloudTrail decrypt ----------------------------
def test_kms_with_a_bucket_key_gets_the_documented_decrypt_statement_and_aws_takes_the_trail(
    account: Account, tmp_path: Path
) -> None:
    file = answers(tmp_path, "kms = true\n")
    code, step = plan_json("--answers", file)
    assert code == 2
    fields = {f["name"]: f["new"] for c in step["changes"] for f in c["fields"]}
    assert "bucket key" in fields and "for this trail only" in fields["cloudtrail decrypt"], fields
    code, _, text = run_observed(["apply", "--yes", "--only", "cloudtrail", "--answers", file])
    assert code == 0, text  # the strict world refused the trail before the fix (InsufficientEncryptionPolicy)
    kms = account.raw("kms")
    key = kms.describe_key(KeyId="alias/aws-harden-cloudtrail")["KeyMetadata"]["KeyId"]
    statements = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])["Statement"]
    decrypt = next(s for s in statements if s["Sid"] == DECRYPT_SID)
    assert decrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
    sse = account.raw("s3").get_bucket_encryption(Bucket=f"aws-harden-cloudtrail-{ACCOUNT}-us-east-1")
    assert sse["ServerSideEncryptionConfiguration"]["Rules"][0]["BucketKeyEnabled"] is True


def test_an_existing_key_without_the_decrypt_statement_is_given_it_first(account: Account, tmp_path: Path) -> None:
    kms = account.raw("kms")
    old = docs.key_policy("aws", ACCOUNT, "us-east-1", TRAIL_ARN)  # what the wizard wrote before issue 12:
    old["Statement"] = [s for s in old["Statement"] if s["Sid"] != DECRYPT_SID]
    key = kms.create_key(Policy=json.dumps(old))["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/aws-harden-cloudtrail", TargetKeyId=key)
    kms.enable_key_rotation(KeyId=key)
    code, step = plan_json("--answers", answers(tmp_path, "kms = true\n"))
    first = step["changes"][0]
    assert first["key"] == "kms-key-policy", step["changes"]
    assert {f["name"] for f in first["fields"]} == {"statements", "cloudtrail decrypt"}
    code, _, text = run_observed(["apply", "--yes", "--only", "cloudtrail", "--answers",
                                  answers(tmp_path, "kms = true\n")])  # fmt: skip
    assert code == 0, text


# --- 3. the root API rule receives read-only management events ---------------------------------------------
def test_the_root_api_rule_takes_every_management_event_and_other_states_are_read_back(
    account: Account, tmp_path: Path
) -> None:
    file = applied(tmp_path, 'alerts_email = "ops@example.com"\nmetric_filters = true\n')
    events = account.raw("events")
    assert events.describe_rule(Name="aws-harden-root-api-activity")["State"] == ALL_MANAGEMENT
    assert events.describe_rule(Name="aws-harden-iam-policy-changes")["State"] == "ENABLED"
    # A rule that takes every management event does all ENABLED does: accepted as it is.
    rule = events.describe_rule(Name="aws-harden-iam-policy-changes")
    events.put_rule(Name=rule["Name"], EventPattern=rule["EventPattern"], State=ALL_MANAGEMENT,
                    Description=rule["Description"])
    # The root API rule back at ENABLED misses root's Get/List/Describe calls: updated, and the plan says so.
    api = events.describe_rule(Name="aws-harden-root-api-activity")
    events.put_rule(Name=api["Name"], EventPattern=api["EventPattern"], State="ENABLED", Description=api["Description"])
    code, step = plan_json("--answers", file)
    assert code == 2
    (change,) = step["changes"]
    assert change["resource"] == 'eventbridge rule "aws-harden-root-api-activity" (us-east-1)'
    assert [(f["name"], f["old"], f["new"]) for f in change["fields"]] == [
        ("state", "ENABLED", ALL_MANAGEMENT)]


# --- 4. root console sign-ins in every enabled region ------------------------------------------------------
def enabled_regions(account: Account) -> list[str]:
    import boto3

    served = set(boto3.Session().get_available_regions("events"))
    answered = account.raw("ec2").describe_regions()["Regions"]
    return sorted(r["RegionName"] for r in answered if r["OptInStatus"] != "not-opted-in" and r["RegionName"] in served)


def test_without_metric_filters_every_other_enabled_region_forwards_root_sign_ins(
    account: Account, tmp_path: Path
) -> None:
    file = answers(tmp_path, 'alerts_email = "ops@example.com"\n')
    others = [r for r in enabled_regions(account) if r != "us-east-1"]
    assert others == ["eu-west-1"]  # the fixture pins the enabled regions to two (tests/moto_regions.py)
    code, step = plan_json("--answers", file)
    coverage = next(f for f in step["findings"] if f["text"].startswith("root console sign-in alerts"))
    assert coverage["observed"] == {"us-east-1": "rule", "forwarded from": others}
    forward = next(c for c in step["changes"] if c["key"] == "forward-rules")
    assert forward["resource"] == 'eventbridge rule "aws-harden-forward-root-sign-in" in 1 region'
    assert ", ".join(others) in forward["summary"]
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail", "--answers", file])
    assert code == 0, text
    assert writes.count("events:PutRule") == 4 + len(others)
    role = account.raw("iam").get_role(RoleName=FORWARD_ROLE)["Role"]["Arn"]
    bus = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
    for region in others:
        events = account.raw("events", region)
        rule = events.describe_rule(Name=FORWARD_RULE)
        assert json.loads(rule["EventPattern"]) == ROOT_SIGN_IN and rule["State"] == "ENABLED", region
        (target,) = events.list_targets_by_rule(Rule=FORWARD_RULE)["Targets"]
        assert (target["Arn"], target["RoleArn"]) == (bus, role), region
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail", "--answers", file])
    assert code == 0 and writes == [], text


def test_a_region_missing_its_forwarding_rule_is_the_only_one_planned(account: Account, tmp_path: Path) -> None:
    file = applied(tmp_path, 'alerts_email = "ops@example.com"\n')
    account.raw("events", "eu-west-1").remove_targets(Rule=FORWARD_RULE, Ids=[FORWARD_TARGET])
    account.raw("events", "eu-west-1").delete_rule(Name=FORWARD_RULE)
    code, step = plan_json("--answers", file)
    assert code == 2 and [c["resource"] for c in step["changes"]] == [
        'eventbridge rule "aws-harden-forward-root-sign-in" in 1 region']
    code, writes, _ = run_observed(["apply", "--yes", "--only", "cloudtrail", "--answers", file])
    assert code == 0 and writes == ["events:PutRule", "events:PutTargets"]


def test_with_metric_filters_the_root_usage_filter_covers_the_other_regions(account: Account, tmp_path: Path) -> None:
    file = answers(tmp_path, 'alerts_email = "ops@example.com"\nmetric_filters = true\n')
    code, step = plan_json("--answers", file)
    assert code == 2
    coverage = next(f for f in step["findings"] if f["text"].startswith("root console sign-in alerts"))
    assert "metric filter RootAccountUsage" in coverage["text"] and "/aws-harden/cloudtrail" in coverage["text"]
    assert not any(c["key"].startswith("forward") for c in step["changes"])


# --- 5. advanced event selectors, parsed --------------------------------------------------------------------
MANAGEMENT_ALL = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
WRITE_ONLY = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                 {"Field": "readOnly", "Equals": ["false"]}]}
DATA_ONLY = {"Name": "S3 objects", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                      {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}
NO_KMS = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                             {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]}


@pytest.mark.parametrize(("basic", "advanced", "records"), [
    ((), (MANAGEMENT_ALL,), True),
    ((), (DATA_ONLY,), False),  # before issue 12 any advanced selector counted
    ((), (WRITE_ONLY,), False),
    ((), (DATA_ONLY, NO_KMS), True),  # leaving a source out still records read and write (CIS's audit)
    ((), ({"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                              {"Field": "eventSource", "Equals": ["iam.amazonaws.com"]}]},), False),
    (({"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True},), (), False),
    (({"ReadWriteType": "All", "IncludeManagementEvents": False},), (), False),
    (({"ReadWriteType": "All"},), (), True),
])  # fmt: skip
def test_a_trail_records_all_management_events_only_when_a_selector_says_read_and_write(
    basic: tuple[Any, ...], advanced: tuple[Any, ...], records: bool
) -> None:
    from steps.cloudtrail_state import records_all_management

    assert records_all_management(basic, advanced) is records


def test_advanced_selectors_are_fixed_in_place_or_completed() -> None:
    from steps.cloudtrail_plan import fixed_advanced
    from steps.cloudtrail_state import records_all_management

    assert fixed_advanced([WRITE_ONLY]) == [MANAGEMENT_ALL]
    fixed = fixed_advanced([DATA_ONLY])
    assert fixed[0] == DATA_ONLY and records_all_management((), fixed) and len(fixed) == 2


def test_an_adopted_write_only_or_data_only_trail_does_not_qualify_and_is_updated(account: Account) -> None:
    arn = make_trail(account)
    account.raw("cloudtrail").put_event_selectors(TrailName=arn, AdvancedEventSelectors=[DATA_ONLY])
    code, step = plan_json()
    assert code == 2 and [c["key"] for c in step["changes"]] == ["event-selectors"], step
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail"])
    assert code == 0 and writes == ["cloudtrail:PutEventSelectors"], text
    now = account.raw("cloudtrail").get_event_selectors(TrailName=arn)["AdvancedEventSelectors"]
    assert now == [DATA_ONLY, {"Name": "Management events, read and write (aws-harden)", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}]}]


# --- 7. basic selectors: the existing management selector is changed, not a second one added ----------------
def test_a_write_only_basic_selector_is_changed_in_place(account: Account) -> None:
    arn = make_trail(account)
    account.raw("cloudtrail").put_event_selectors(
        TrailName=arn, EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    code, writes, text = run_observed(["apply", "--yes", "--only", "cloudtrail"])
    assert code == 0 and writes == ["cloudtrail:PutEventSelectors"], text
    (selector,) = account.raw("cloudtrail").get_event_selectors(TrailName=arn)["EventSelectors"]
    assert selector["ReadWriteType"] == "All" and selector["IncludeManagementEvents"]


def test_basic_selectors_keep_data_resources_and_the_limit_of_five() -> None:
    from steps.cloudtrail_plan import fixed_basic

    data = {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::b/"]}]}
    fixed = fixed_basic([data])
    assert fixed == [data, {"ReadWriteType": "All", "IncludeManagementEvents": True}]  # data events unchanged
    assert fixed_basic([data] * 5) is None  # no room: the plan says so instead of exceeding the limit


# --- 11. the CloudWatch Logs role: AWS's documented trust policy -------------------------------------------
def test_the_logs_role_trust_is_the_documented_one_and_an_old_one_is_replaced(account: Account, tmp_path: Path) -> None:
    documented = {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}
    old = {"Version": "2012-10-17", "Statement": [  # what the wizard wrote before issue 12
        {**documented, "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]}
    account.raw("iam").create_role(RoleName=docs.LOGS_ROLE, AssumeRolePolicyDocument=json.dumps(old))
    file = answers(tmp_path, "metric_filters = true\n")
    code, step = plan_json("--answers", file)
    role = next(c for c in step["changes"] if c["key"] == "logs-role")
    assert role["action"] == "~" and role["operations"] == ["iam:UpdateAssumeRolePolicy"]
    code, _, text = run_observed(["apply", "--yes", "--only", "cloudtrail", "--answers", file])
    assert code == 0, text  # with the old trust the strict world refused the trail (InvalidCloudWatchLogsRoleArn)
    trust = account.raw("iam").get_role(RoleName=docs.LOGS_ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [documented]


def test_the_sandbox_applies_every_cloudtrail_option_in_the_strict_world(tmp_path: Path) -> None:
    file = answers(tmp_path, 'kms = true\nmetric_filters = true\nalerts_email = "ops@example.com"\n')
    applied = run_cli(["--sandbox", "apply", "--yes", "--only", "cloudtrail", "--answers", file], tty=False)
    assert applied.code == 0, applied.text
    checked = run_cli(["--sandbox", "check", "--only", "cloudtrail", "--answers", file], tty=False)
    assert checked.code == 0, checked.text
