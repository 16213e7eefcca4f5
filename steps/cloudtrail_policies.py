"""The documents the cloudtrail step writes, built from AWS's published examples, and how to compare them.

Kept apart from the step so tests can hold each one against the documentation statement by statement.
Policies are compared as parsed, normalised objects (steps/resources.py: AWS may reorder keys or collapse
one-item lists).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steps.cloudtrail_metrics import METRIC_FILTERS, METRIC_NAMESPACE, ROOT_USAGE, MetricFilterSpec
from steps.resources import PUBLIC_ACCESS_BLOCK, contains, merged, normalise, same, statements

__all__ = ["METRIC_FILTERS", "METRIC_NAMESPACE", "PUBLIC_ACCESS_BLOCK", "ROOT_USAGE", "MetricFilterSpec", "contains",
           "merged", "normalise", "same", "statements"]

PREFIX = "aws-harden"
ACL_CHECK_SID = "AWSCloudTrailAclCheck20150319"
WRITE_SID = "AWSCloudTrailWrite20150319"
DENY_TLS_SID = "DenyInsecureTransport"
EVENTS_PUBLISH_SID = "AllowEventBridgeRulesToPublish"
ALARMS_PUBLISH_SID = "AllowCloudWatchAlarmsToPublish"
CLOUDTRAIL = "cloudtrail.amazonaws.com"


def trail_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{name}"


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
DECRYPT_SID = "Allow CloudTrail to decrypt a trail"


def key_policy(partition: str, account: str, region: str, trail: str) -> dict[str, Any]:
    """AWS's documented key policy for CloudTrail: encrypt for this account's trails, decrypt in it.

    CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail"
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
    The log bucket uses an S3 Bucket Key, and then "kms:Decrypt permissions are required to create or update a
    trail with SSE-KMS encryption enabled": the guide's "Allow CloudTrail to decrypt a trail" statement, kept to
    this trail with aws:SourceArn (the guide's best practice for every CloudTrail statement).
    """
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
                "Sid": DECRYPT_SID,
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail}},
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
SIGN_IN = "AWS Console Sign In via CloudTrail"
IAM_POLICY_EVENTS = (
    "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
    "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
    "SetDefaultPolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
    "AttachGroupPolicy", "DetachGroupPolicy",
)  # fmt: skip
CLOUDTRAIL_CHANGE_EVENTS = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors")
# EventBridge rule states (botocore's RuleState). ENABLED matches every event "except for Amazon Web Services
# management events delivered through CloudTrail" that are read-only; ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
# matches those too (EventBridge User Guide, "Receiving read-only management events from AWS services",
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html).
ENABLED = "ENABLED"
ENABLED_ALL_MANAGEMENT = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


@dataclass(frozen=True)
class RuleSpec:
    name: str
    description: str
    pattern: dict[str, Any]
    # "global": us-east-1, where IAM and console sign-in events land; "home": the trail's home region;
    # "both": each of them.
    where: str
    state: str = ENABLED

    def state_ok(self, state: str | None) -> bool:
        """The state read back does what this rule needs (all management events include the rest)."""
        return state == self.state or (self.state == ENABLED and state == ENABLED_ALL_MANAGEMENT)


ROOT_SIGN_IN = {"detail-type": [SIGN_IN], "detail": {"userIdentity": {"type": ["Root"]}}}
RULES: tuple[RuleSpec, ...] = (
    RuleSpec(f"{PREFIX}-root-console-sign-in", "The root user signed in to the console", ROOT_SIGN_IN, "global"),
    RuleSpec(
        f"{PREFIX}-root-api-activity",
        "The root user called an AWS API",
        {"detail-type": [API_CALL], "detail": {"userIdentity": {"type": ["Root"]}}},
        "both",
        # root's Get/List/Describe calls are read-only management events: without this state none alerts
        state=ENABLED_ALL_MANAGEMENT,
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

# Root console sign-ins in the other regions. A sign-in through a regional console endpoint is logged in that
# region (IAM User Guide, "Logging IAM and AWS STS API calls with AWS CloudTrail", "Logging user sign-in
# events"), and its EventBridge event goes to that region's default bus only. An EventBridge rule cannot target
# an SNS topic in another region; it can target another region's event bus, with a role allowed
# events:PutEvents on it (EventBridge User Guide, "Sending and receiving events between AWS Regions",
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html). So each other enabled region
# gets a rule forwarding root sign-ins to us-east-1's default bus, where the root-console-sign-in rule
# emails them.
FORWARD_RULE = RuleSpec(
    f"{PREFIX}-forward-root-sign-in",
    "Forward root console sign-ins to us-east-1, where aws-harden-root-console-sign-in emails them",
    ROOT_SIGN_IN,
    "others",
)
FORWARD_ROLE = f"{PREFIX}-events-forward-to-us-east-1"
FORWARD_ROLE_POLICY = "put-events-on-us-east-1-default-bus"
FORWARD_TARGET_ID = "us-east-1-default-bus"


def default_bus_arn(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:event-bus/default"


def forward_trust_policy() -> dict[str, Any]:
    """EventBridge assumes the role to put the event on the other region's bus."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }


def forward_role_policy(bus_arn: str) -> dict[str, Any]:
    """Only events:PutEvents, only on us-east-1's default bus (the guide's example role policy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_arn}],
    }


# --- CloudWatch Logs (CIS metric filters) ---------------------------------------------------
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


def logs_trust_policy() -> dict[str, Any]:
    """AWS's documented trust policy for the CloudTrail-to-CloudWatch Logs role, as the guide writes it: no
    condition (CloudTrail User Guide, "Sending events to CloudWatch Logs", creating the role with the AWS CLI,
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html).
    No AWS source shows which condition keys CloudTrail sends when it assumes the role, so none is required."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": CLOUDTRAIL}, "Action": "sts:AssumeRole"}
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
