"""The documents the cloudtrail step writes, built from AWS's published examples, and how to compare them.

Kept apart from the step so tests can hold each one against the documentation statement by statement.
Policies are compared as parsed, normalised objects: AWS may reorder keys or collapse one-item lists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PREFIX = "aws-harden"
ACL_CHECK_SID = "AWSCloudTrailAclCheck20150319"
WRITE_SID = "AWSCloudTrailWrite20150319"
DENY_TLS_SID = "DenyInsecureTransport"
EVENTS_PUBLISH_SID = "AllowEventBridgeRulesToPublish"
ALARMS_PUBLISH_SID = "AllowCloudWatchAlarmsToPublish"
CLOUDTRAIL = "cloudtrail.amazonaws.com"


def trail_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{name}"


# --- comparing --------------------------------------------------------------------------------
def normalise(value: Any) -> Any:
    """A canonical form: one-item lists become the item, string lists are sorted, keys are sorted."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return normalise(parsed) if isinstance(parsed, dict | list) else value
    if isinstance(value, Mapping):
        return {k: normalise(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        items = [normalise(v) for v in value]
        if len(items) == 1:
            return items[0]
        if all(isinstance(i, str | int | float | bool) for i in items):
            return sorted(items, key=str)
        return items
    return value


def same(a: Any, b: Any) -> bool:
    return bool(normalise(a) == normalise(b))


def statements(policy: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not policy:
        return []
    found = policy.get("Statement", [])
    return [dict(s) for s in (found if isinstance(found, list) else [found])]


def merged(existing: Mapping[str, Any] | None, ours: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Our statements (replacing any with the same Sid) after everything else already there, never less."""
    sids = {s["Sid"] for s in ours}
    kept = [s for s in statements(existing) if s.get("Sid") not in sids]
    version = (existing or {}).get("Version", "2012-10-17")
    document: dict[str, Any] = {"Version": version}
    if existing and "Id" in existing:
        document["Id"] = existing["Id"]
    document["Statement"] = [*kept, *(dict(s) for s in ours)]
    return document


def contains(existing: Mapping[str, Any] | None, ours: Sequence[Mapping[str, Any]]) -> bool:
    """True when each of our statements is present, as written, under its Sid."""
    by_sid = {s.get("Sid"): s for s in statements(existing)}
    return all(s["Sid"] in by_sid and same(by_sid[s["Sid"]], s) for s in ours)


# --- S3 -------------------------------------------------------------------------------------
def bucket_statements(
    partition: str, bucket: str, account: str, source_trail_arn: str
) -> list[dict[str, Any]]:
    """AWS's documented CloudTrail bucket policy (with aws:SourceArn), plus a deny of plain HTTP."""
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    return [
        {
            "Sid": ACL_CHECK_SID,
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": {"StringEquals": {"aws:SourceArn": source_trail_arn}},
        },
        {
            "Sid": WRITE_SID,
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/AWSLogs/{account}/*",
            "Condition": {
                "StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "aws:SourceArn": source_trail_arn,
                }
            },
        },
        {
            "Sid": DENY_TLS_SID,
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]


PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
RETENTION_RULE_ID = f"{PREFIX}-cloudtrail-retention"


def retention_rule(days: int) -> dict[str, Any]:
    return {
        "ID": RETENTION_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": "AWSLogs/"},
        "Expiration": {"Days": days},
        "NoncurrentVersionExpiration": {"NoncurrentDays": days},
    }


# --- KMS ------------------------------------------------------------------------------------
def key_policy(partition: str, account: str, region: str) -> dict[str, Any]:
    """AWS's documented key policy for CloudTrail: encrypt for this account's trails, decrypt in it."""
    trails = f"arn:{partition}:cloudtrail:*:{account}:trail/*"
    return {
        "Version": "2012-10-17",
        "Id": f"{PREFIX}-cloudtrail-key",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "Allow CloudTrail to encrypt logs",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudtrail:{region}:{account}:trail/*"},
                },
            },
            {
                "Sid": "Allow CloudTrail to describe key",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "kms:DescribeKey",
                "Resource": "*",
            },
            {
                "Sid": "Allow principals in the account to decrypt log files",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:CallerAccount": account},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails},
                },
            },
        ],
    }


# --- SNS and EventBridge --------------------------------------------------------------------
def topic_statements(partition: str, region: str, account: str, topic_arn: str) -> list[dict[str, Any]]:
    return [
        {
            "Sid": EVENTS_PUBLISH_SID,
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:events:{region}:{account}:rule/{PREFIX}-*"}
            },
        },
        {
            "Sid": ALARMS_PUBLISH_SID,
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"}
            },
        },
    ]


API_CALL = "AWS API Call via CloudTrail"
IAM_POLICY_EVENTS = (
    "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
    "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
    "SetDefaultPolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
    "AttachGroupPolicy", "DetachGroupPolicy",
)  # fmt: skip
CLOUDTRAIL_CHANGE_EVENTS = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors")


@dataclass(frozen=True)
class RuleSpec:
    name: str
    description: str
    pattern: dict[str, Any]
    # "global": us-east-1, where IAM and console sign-in events land; "home": the trail's home region;
    # "both": each of them.
    where: str


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        f"{PREFIX}-root-console-sign-in",
        "The root user signed in to the console",
        {
            "detail-type": ["AWS Console Sign In via CloudTrail"],
            "detail": {"userIdentity": {"type": ["Root"]}},
        },
        "global",
    ),
    RuleSpec(
        f"{PREFIX}-root-api-activity",
        "The root user called an AWS API",
        {"detail-type": [API_CALL], "detail": {"userIdentity": {"type": ["Root"]}}},
        "both",
    ),
    RuleSpec(
        f"{PREFIX}-cloudtrail-changes",
        "Someone stopped, deleted or changed a CloudTrail trail",
        {
            "source": ["aws.cloudtrail"],
            "detail-type": [API_CALL],
            "detail": {"eventSource": [CLOUDTRAIL], "eventName": list(CLOUDTRAIL_CHANGE_EVENTS)},
        },
        "home",
    ),
    RuleSpec(
        f"{PREFIX}-iam-policy-changes",
        "Someone changed an IAM policy",
        {
            "source": ["aws.iam"],
            "detail-type": [API_CALL],
            "detail": {"eventSource": ["iam.amazonaws.com"], "eventName": list(IAM_POLICY_EVENTS)},
        },
        "global",
    ),
)


# --- CloudWatch Logs (CIS metric filters) ---------------------------------------------------
@dataclass(frozen=True)
class MetricFilterSpec:
    name: str
    pattern: str
    description: str


METRIC_NAMESPACE = "aws-harden/CloudTrail"
METRIC_FILTERS: tuple[MetricFilterSpec, ...] = (
    MetricFilterSpec(
        "RootAccountUsage",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
        '&& $.eventType != "AwsServiceEvent" }',
        "the root user was used",
    ),
    MetricFilterSpec(
        "UnauthorizedAPICalls",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") '
        '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
        "API calls were refused",
    ),
    MetricFilterSpec(
        "ConsoleSignInWithoutMFA",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
        '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        "an IAM user signed in to the console without MFA",
    ),
    MetricFilterSpec(
        "IAMPolicyChanges",
        "{ "
        + " || ".join(f"($.eventName = {e})" for e in IAM_POLICY_EVENTS if e != "SetDefaultPolicyVersion")
        + " }",
        "an IAM policy changed",
    ),
    MetricFilterSpec(
        "CloudTrailChanges",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) "
        "|| ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
        "a CloudTrail trail was created, changed, started, stopped or deleted",
    ),
)


def alarm_settings(metric: str, actions: Sequence[str]) -> dict[str, Any]:
    """The CloudWatch alarm fields the wizard sets and reads back (one event in 5 minutes is enough)."""
    return {
        "AlarmName": f"{PREFIX}-{metric}",
        "MetricName": metric,
        "Namespace": METRIC_NAMESPACE,
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": list(actions),
    }


LOG_GROUP = f"/{PREFIX}/cloudtrail"
LOGS_ROLE = f"{PREFIX}-cloudtrail-to-logs"
LOGS_ROLE_POLICY = "deliver-to-cloudwatch-logs"


def log_group_arn(partition: str, region: str, account: str, group: str) -> str:
    """The form CloudTrail expects (and DescribeTrails returns): the group ARN with ':*'."""
    return f"arn:{partition}:logs:{region}:{account}:log-group:{group}:*"


def logs_trust_policy(partition: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def logs_role_policy(group_arn: str) -> dict[str, Any]:
    """AWS's documented role policy for CloudTrail delivery to CloudWatch Logs."""
    streams = group_arn.removesuffix(":*") + ":log-stream:*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailCreateLogStream",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": streams,
            }
        ],
    }
