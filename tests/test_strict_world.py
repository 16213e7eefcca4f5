"""The strict test world's validators themselves: each refuses what AWS documents it refuses and accepts AWS's
own documented examples (wizard/sandbox/strict_*.py cite the rules). If a validator were too lenient, the
tests that lean on it would prove nothing; if too strict, they would prove the wrong thing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from steps import cloudtrail_policies as docs
from tests.conftest import Account
from tests.starting_states import cloudtrail_may_write
from wizard.sandbox import strict_policy
from wizard.sandbox.strict_budgets import budget_problem
from wizard.sandbox.strict_cloudtrail import bucket_policy_problem, key_policy_problem, logs_role_problem
from wizard.sandbox.strict_events import state_problem, target_problem

ACCOUNT = "111122223333"
TRAIL = f"arn:aws:cloudtrail:us-east-2:{ACCOUNT}:trail/trailName"
CT = {"Service": "cloudtrail.amazonaws.com"}
BUCKET = "amzn-s3-demo-bucket"
KEY = f"arn:aws:kms:us-east-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail", the "S3 bucket policy" example with the
# placeholders filled in (no prefix).
DOCUMENTED_BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow", "Principal": CT,
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{BUCKET}",
         "Condition": {"StringEquals": {"aws:SourceArn": TRAIL}}},
        {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow", "Principal": CT,
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL}}},
    ],
}  # fmt: skip

# CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail": the three required sections for a
# trail (encrypt with the trail's aws:SourceArn, decrypt as "Allow CloudTrail to decrypt a trail", describe).
DOCUMENTED_KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Allow CloudTrail to encrypt logs", "Effect": "Allow", "Principal": CT,
         "Action": "kms:GenerateDataKey*", "Resource": KEY,
         "Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": [
                           f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"]},
                       "StringEquals": {"aws:SourceArn": TRAIL}}},
        {"Sid": "Allow CloudTrail to decrypt a trail", "Effect": "Allow",
         "Principal": CT, "Action": "kms:Decrypt", "Resource": "*"},
        {"Sid": "Allow CloudTrail access", "Effect": "Allow", "Principal": CT,
         "Action": "kms:DescribeKey", "Resource": KEY, "Condition": {"StringEquals": {"aws:SourceArn": TRAIL}}},
    ],
}  # fmt: skip

# CloudTrail User Guide, "Sending events to CloudWatch Logs" (the role's trust policy) and "Role policy document
# for CloudTrail to use CloudWatch Logs for monitoring" (its permissions), for log group log_group_name.
GROUP = f"arn:aws:logs:us-east-2:{ACCOUNT}:log-group:log_group_name:*"
STREAMS = f"arn:aws:logs:us-east-2:{ACCOUNT}:log-group:log_group_name:log-stream:{ACCOUNT}_CloudTrail_us-east-2*"
DOCUMENTED_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Sid": "", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
DOCUMENTED_ROLE_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "AWSCloudTrailCreateLogStream2014110", "Effect": "Allow", "Action": ["logs:CreateLogStream"],
     "Resource": [STREAMS]},
    {"Sid": "AWSCloudTrailPutLogEvents20141101", "Effect": "Allow", "Action": ["logs:PutLogEvents"],
     "Resource": [STREAMS]},
]}  # fmt: skip


def copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


# --- bucket policy ------------------------------------------------------------------------------------
def test_the_documented_bucket_policy_and_the_wizards_are_accepted() -> None:
    assert bucket_policy_problem(DOCUMENTED_BUCKET_POLICY, BUCKET, None, ACCOUNT, TRAIL) is None
    ours = {"Statement": docs.bucket_statements("aws", BUCKET, ACCOUNT, TRAIL)}  # with its deny of plain HTTP
    assert bucket_policy_problem(ours, BUCKET, None, ACCOUNT, TRAIL) is None


@pytest.mark.parametrize(("why", "edit"), [
    ("no ACL check", lambda p: p["Statement"].pop(0)),
    ("another trail's SourceArn", lambda p: p["Statement"][1]["Condition"]["StringEquals"].update(
        {"aws:SourceArn": f"arn:aws:cloudtrail:us-east-2:{ACCOUNT}:trail/other"})),
    ("another account's folder", lambda p: p["Statement"][1].update(Resource=f"arn:aws:s3:::{BUCKET}/AWSLogs/999/*")),
    ("another principal", lambda p: p["Statement"][1].update(Principal={"Service": "config.amazonaws.com"})),
    ("an explicit deny", lambda p: p["Statement"].append(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"})),
    ("an unknown operator", lambda p: p["Statement"][1]["Condition"].update({"NumericEquals": {"x": "1"}})),
])  # fmt: skip
def test_a_bucket_policy_cloudtrail_cannot_use_is_refused(why: str, edit: Any) -> None:
    policy = copy(DOCUMENTED_BUCKET_POLICY)
    edit(policy)
    assert bucket_policy_problem(policy, BUCKET, None, ACCOUNT, TRAIL), why


def test_no_bucket_policy_and_a_prefix_the_policy_does_not_name_are_refused() -> None:
    assert bucket_policy_problem(None, BUCKET, None, ACCOUNT, TRAIL)
    assert bucket_policy_problem(DOCUMENTED_BUCKET_POLICY, BUCKET, "logs", ACCOUNT, TRAIL)


# --- key policy ---------------------------------------------------------------------------------------
def test_the_documented_key_policy_is_accepted_with_and_without_a_bucket_key() -> None:
    for bucket_key in (False, True):
        assert key_policy_problem(DOCUMENTED_KEY_POLICY, KEY, ACCOUNT, TRAIL, bucket_key) is None


def test_the_old_key_policy_is_refused_with_a_bucket_key_and_the_fixed_one_is_accepted() -> None:
    """Before issue 12 the wizard's key policy let only account principals decrypt: with the S3 Bucket Key it
    sets on the log bucket, AWS refuses the trail (InsufficientEncryptionPolicyException)."""
    fixed = docs.key_policy("aws", ACCOUNT, "us-east-2", TRAIL)
    old = {**fixed, "Statement": [s for s in fixed["Statement"] if s["Sid"] != docs.DECRYPT_SID]}
    assert key_policy_problem(old, KEY, ACCOUNT, TRAIL, bucket_key=False) is None
    assert "kms:Decrypt" in str(key_policy_problem(old, KEY, ACCOUNT, TRAIL, bucket_key=True))
    assert key_policy_problem(fixed, KEY, ACCOUNT, TRAIL, bucket_key=True) is None
    other_trail = f"arn:aws:cloudtrail:us-east-2:{ACCOUNT}:trail/other"
    assert key_policy_problem(fixed, KEY, ACCOUNT, other_trail, bucket_key=True), "decrypt is for this trail only"


def test_a_key_policy_without_describe_or_encrypt_is_refused() -> None:
    for sid in ("Allow CloudTrail access", "Allow CloudTrail to encrypt logs"):
        kept = [s for s in DOCUMENTED_KEY_POLICY["Statement"] if s["Sid"] != sid]
        policy = {**DOCUMENTED_KEY_POLICY, "Statement": kept}
        assert key_policy_problem(policy, KEY, ACCOUNT, TRAIL, bucket_key=False), sid


# --- the CloudWatch Logs role ---------------------------------------------------------------------------
def test_the_documented_logs_role_is_accepted_and_a_trust_needing_source_account_is_refused() -> None:
    assert logs_role_problem(DOCUMENTED_TRUST, [DOCUMENTED_ROLE_POLICY], GROUP, ACCOUNT, "us-east-2") is None
    ours = docs.logs_role_policy(GROUP)
    assert logs_role_problem(docs.logs_trust_policy(), [ours], GROUP, ACCOUNT, "us-east-2") is None
    old_trust = copy(DOCUMENTED_TRUST)  # the wizard's trust before issue 12
    old_trust["Statement"][0]["Condition"] = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert "trust" in str(logs_role_problem(old_trust, [ours], GROUP, ACCOUNT, "us-east-2"))
    elsewhere = docs.logs_role_policy(f"arn:aws:logs:us-east-2:{ACCOUNT}:log-group:other:*")
    assert "logs:CreateLogStream" in str(logs_role_problem(DOCUMENTED_TRUST, [elsewhere], GROUP, ACCOUNT, "us-east-2"))


# --- the evaluator's own rules --------------------------------------------------------------------------
def test_negated_operators_pass_on_a_missing_key_and_if_exists_does_too() -> None:
    def allowed(condition: dict[str, Any], context: dict[str, str]) -> bool:
        policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*",
                                 "Condition": condition}]}
        return strict_policy.allows(policy, strict_policy.Request("x.amazonaws.com", "s3:PutObject", "r", context))

    assert allowed({"StringNotEquals": {"aws:SourceAccount": "1"}}, {})
    assert not allowed({"StringEquals": {"aws:SourceAccount": "1"}}, {})
    assert allowed({"StringEqualsIfExists": {"aws:SourceAccount": "1"}}, {})
    assert allowed({"Null": {"aws:SourceArn": "true"}}, {}) and not allowed({"Null": {"aws:SourceArn": "false"}}, {})
    assert allowed({"ArnLike": {"aws:SourceArn": "arn:aws:x:*:1:y/*"}}, {"aws:SourceArn": "arn:aws:x:eu-west-1:1:y/z"})
    assert not allowed({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"})


# --- EventBridge and Budgets ----------------------------------------------------------------------------
def test_rule_states_and_cross_region_targets() -> None:
    assert state_problem("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", None) is None
    assert state_problem("ON", None)
    assert state_problem("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", "aws.partner/example.com/123/bus")
    bus = "arn:aws:events:us-east-1:1:event-bus/default"
    assert target_problem("eu-west-1", {"Arn": bus, "RoleArn": "arn:aws:iam::1:role/r"}) is None
    assert target_problem("eu-west-1", {"Arn": bus})  # another region's bus needs the role
    assert target_problem("eu-west-1", {"Arn": "arn:aws:sns:us-east-1:1:topic"})  # not an event bus
    assert target_problem("us-east-1", {"Arn": "arn:aws:sns:us-east-1:1:topic"}) is None


def test_budgets_names_and_filter_sets() -> None:
    budget = {"BudgetName": "monthly", "BudgetType": "COST", "TimeUnit": "MONTHLY"}
    assert budget_problem(budget) is None
    assert budget_problem({**budget, "BudgetName": "a/action/b"})
    assert budget_problem({**budget, "BudgetName": "a:b"})
    assert budget_problem({**budget, "BudgetName": "x" * 101})
    assert budget_problem({**budget, "FilterExpression": {"Dimensions": {}}, "Metrics": ["UnblendedCost"]}) is None
    assert budget_problem({**budget, "CostTypes": {"IncludeTax": True}}) is None
    assert budget_problem({**budget, "Metrics": ["UnblendedCost"], "CostTypes": {"IncludeTax": True}})


# --- installed: moto now answers as AWS does ------------------------------------------------------------
def test_moto_refuses_a_trail_without_the_bucket_policy_then_takes_it(account: Account) -> None:
    s3, cloudtrail = account.raw("s3"), account.raw("cloudtrail")
    s3.create_bucket(Bucket="logs-for-strict")
    with pytest.raises(ClientError) as refused:
        cloudtrail.create_trail(Name="trail1", S3BucketName="logs-for-strict")
    assert refused.value.response["Error"]["Code"] == "InsufficientS3BucketPolicyException"
    arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/trail1"
    s3.put_bucket_policy(Bucket="logs-for-strict", Policy=json.dumps(cloudtrail_may_write("logs-for-strict", arn)))
    assert cloudtrail.create_trail(Name="trail1", S3BucketName="logs-for-strict")["TrailARN"] == arn
    selectors = cloudtrail.get_event_selectors(TrailName="trail1")["EventSelectors"]
    assert selectors[0]["ReadWriteType"] == "All" and selectors[0]["IncludeManagementEvents"]  # AWS's default


def test_moto_refuses_a_rule_state_aws_does_not_know(account: Account) -> None:
    events = account.raw("events")
    with pytest.raises(ClientError) as refused:
        events.put_rule(Name="r", EventPattern='{"source": ["aws.iam"]}', State="ON")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
