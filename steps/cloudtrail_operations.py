"""What the cloudtrail step changes, one operation per kind of change (planned by cloudtrail_plan, applied by
the engine). The log bucket's own settings are the shared ones in steps/resources.py."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from steps import cloudtrail_policies as docs
from steps.cloudtrail_state import KEY_ALIAS, TOPIC_NAME
from steps.resources import TAG_MAP, TAGS, kms_tags, merged, resolve_key
from wizard.aws import Aws
from wizard.errors import WizardError
from wizard.protocol import ApplyContext, Operation
from wizard.reads import absent_is_none
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff

KEY_DESCRIPTION = "aws-harden: encrypts CloudTrail log files"
ROLE_DESCRIPTIONS = {
    docs.LOGS_ROLE: "aws-harden: lets CloudTrail deliver to CloudWatch Logs",
    docs.FORWARD_ROLE: "aws-harden: lets EventBridge forward root sign-ins to us-east-1",
}
# CloudTrail checks the bucket policy, key policy and logs role as it creates or updates a trail; just
# written, they can take seconds to be seen (IAM is eventually consistent).
PROPAGATION_CODES = TRANSIENT_CODES | {
    "InsufficientS3BucketPolicyException",
    "InsufficientEncryptionPolicyException",
    "InvalidCloudWatchLogsRoleArnException",
    "InvalidCloudWatchLogsLogGroupArnException",
}
Document = Mapping[str, Any]


# --- KMS ----------------------------------------------------------------------------------------
def unaliased_key(kms: Any) -> str | None:
    """A key this step created whose alias never followed (the run stopped between CreateKey and
    CreateAlias): it is given the alias instead of a second key being made."""
    for page in kms.get_paginator("list_keys").paginate():
        for listed in page["Keys"]:
            key = kms.describe_key(KeyId=listed["KeyId"])["KeyMetadata"]
            if (key.get("KeyManager") != "CUSTOMER" or key.get("KeyState") != "Enabled"
                    or key.get("Description") != KEY_DESCRIPTION):
                continue
            tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]}
            if tags.get("created-by") == "aws-harden" and not kms.list_aliases(KeyId=key["KeyId"])["Aliases"]:
                return str(key["KeyId"])
    return None


@dataclass(frozen=True)
class KmsKey(Operation):
    region: str
    policy: Document

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        kms = aws.client("kms", self.region)
        if resolve_key(aws, self.region, KEY_ALIAS, missing_ok=True):
            return
        key_id = unaliased_key(kms) or kms.create_key(
            Policy=json.dumps(self.policy), Description=KEY_DESCRIPTION, Tags=kms_tags(),
        )["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key_id)


@dataclass(frozen=True)
class KmsKeyPolicy(Operation):
    region: str
    statements: tuple[Document, ...]

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        kms = aws.client("kms", self.region)
        key_id = resolve_key(aws, self.region, KEY_ALIAS)
        current = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
        document = merged(current, self.statements)
        kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(document))


@dataclass(frozen=True)
class KmsRotation(Operation):
    region: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("kms", self.region).enable_key_rotation(KeyId=resolve_key(aws, self.region, KEY_ALIAS))


# --- the bucket's lifecycle (its other settings: steps/resources.py) ----------------------------
@dataclass(frozen=True)
class BucketLifecycle(Operation):
    bucket: str
    region: str
    days: int

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        s3 = aws.client("s3", self.region)
        current = absent_is_none(lambda: s3.get_bucket_lifecycle_configuration(Bucket=self.bucket),
                                 ("NoSuchLifecycleConfiguration",))
        rules = [r for r in (current or {}).get("Rules", []) if r.get("ID") != docs.RETENTION_RULE_ID]
        rules.append(docs.retention_rule(self.days))
        s3.put_bucket_lifecycle_configuration(Bucket=self.bucket, LifecycleConfiguration={"Rules": rules})


# --- CloudWatch Logs delivery and the forwarding role ------------------------------------------------
@dataclass(frozen=True)
class LogGroup(Operation):
    region: str
    group: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        try:
            aws.client("logs", self.region).create_log_group(logGroupName=self.group, tags=dict(TAG_MAP))
        except Exception as exc:
            if error_code(exc) != "ResourceAlreadyExistsException":
                raise


@dataclass(frozen=True)
class ServiceRole(Operation):
    """Either role of the step (CloudTrail's to CloudWatch Logs, EventBridge's to forward events): created,
    or its trust policy put back when it differs."""

    role: str
    trust: Document
    update: bool

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        trust = json.dumps(self.trust)
        if self.update:
            with_backoff(lambda: iam.update_assume_role_policy(RoleName=self.role, PolicyDocument=trust))
            return
        try:
            with_backoff(lambda: iam.create_role(RoleName=self.role, AssumeRolePolicyDocument=trust,
                                                 Description=ROLE_DESCRIPTIONS[self.role], Tags=TAGS))
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise


@dataclass(frozen=True)
class LogsRole(ServiceRole):
    pass


@dataclass(frozen=True)
class ForwardRole(ServiceRole):
    pass


@dataclass(frozen=True)
class RolePolicy(Operation):
    role: str
    policy_name: str
    policy: Document

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        document = json.dumps(self.policy)
        with_backoff(
            lambda: iam.put_role_policy(RoleName=self.role, PolicyName=self.policy_name, PolicyDocument=document),
            retry_codes=TRANSIENT_CODES | {"NoSuchEntity"},
        )


@dataclass(frozen=True)
class LogsRolePolicy(RolePolicy):
    pass


@dataclass(frozen=True)
class ForwardRolePolicy(RolePolicy):
    pass


# --- the trail ----------------------------------------------------------------------------------------
TRAIL_FIELDS = (  # the API's name, the Trail's attribute, and the label shown
    ("IsMultiRegionTrail", "multi_region", "multi-region"),
    ("IncludeGlobalServiceEvents", "global_events", "global service events"),
    ("EnableLogFileValidation", "validation", "log file validation"),
)


@dataclass(frozen=True)
class TrailOperation(Operation):
    """A trail's settings, created (Trail) or updated in place (TrailSettings): multi-region, global events,
    validation, and the KMS key and CloudWatch Logs group when asked (ARNs read when the change is made)."""

    region: str
    kms: bool
    logs_group_arn: str | None

    def settings(self, aws: Aws) -> dict[str, Any]:
        settings: dict[str, Any] = {api: True for api, _, _ in TRAIL_FIELDS}
        if self.kms:
            settings["KmsKeyId"] = resolve_key(aws, self.region, KEY_ALIAS)
        if self.logs_group_arn:
            settings["CloudWatchLogsLogGroupArn"] = self.logs_group_arn
            settings["CloudWatchLogsRoleArn"] = aws.client("iam").get_role(RoleName=docs.LOGS_ROLE)["Role"]["Arn"]
        return settings


@dataclass(frozen=True)
class Trail(TrailOperation):
    name: str
    bucket: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        cloudtrail = aws.client("cloudtrail", self.region)
        settings = self.settings(aws)
        try:
            with_backoff(
                lambda: cloudtrail.create_trail(Name=self.name, S3BucketName=self.bucket, TagsList=TAGS, **settings),
                retry_codes=PROPAGATION_CODES, attempts=7, first_delay=1.0,
            )
        except Exception as exc:
            if error_code(exc) != "TrailAlreadyExistsException":
                raise


@dataclass(frozen=True)
class TrailSettings(TrailOperation):
    arn: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        cloudtrail = aws.client("cloudtrail", self.region)
        settings = self.settings(aws)
        with_backoff(lambda: cloudtrail.update_trail(Name=self.arn, **settings),
                     retry_codes=PROPAGATION_CODES, attempts=7, first_delay=1.0)


@dataclass(frozen=True)
class StartLogging(Operation):
    region: str
    arn: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("cloudtrail", self.region).start_logging(Name=self.arn)


@dataclass(frozen=True)
class EventSelectors(Operation):
    region: str
    arn: str
    kind: Literal["EventSelectors", "AdvancedEventSelectors"]
    selectors: tuple[Document, ...]

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        client = aws.client("cloudtrail", self.region)
        selectors = [dict(s) for s in self.selectors]
        if self.kind == "AdvancedEventSelectors":
            client.put_event_selectors(TrailName=self.arn, AdvancedEventSelectors=selectors)
        else:
            client.put_event_selectors(TrailName=self.arn, EventSelectors=selectors)


# --- alerts ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Topic(Operation):
    region: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("sns", self.region).create_topic(Name=TOPIC_NAME, Tags=TAGS)


@dataclass(frozen=True)
class TopicPolicy(Operation):
    region: str
    topic: str
    statements: tuple[Document, ...]

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        sns = aws.client("sns", self.region)
        current = sns.get_topic_attributes(TopicArn=self.topic)["Attributes"].get("Policy")
        document = merged(json.loads(current) if current else None, self.statements)
        sns.set_topic_attributes(TopicArn=self.topic, AttributeName="Policy", AttributeValue=json.dumps(document))


@dataclass(frozen=True)
class Subscription(Operation):
    region: str
    topic: str
    email: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("sns", self.region).subscribe(TopicArn=self.topic, Protocol="email", Endpoint=self.email)
        ctx.output(f"alerts ({self.region})",
                   f"AWS sent a confirmation email to {self.email}: open it and confirm, or no alert reaches you")


@dataclass(frozen=True)
class Rule(Operation):
    region: str
    rule: str
    pattern: Document
    description: str
    state: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("events", self.region).put_rule(Name=self.rule, EventPattern=json.dumps(self.pattern),
                                                   State=self.state, Description=self.description, Tags=TAGS)


@dataclass(frozen=True)
class RuleTarget(Operation):
    region: str
    rule: str
    topic: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("events", self.region).put_targets(Rule=self.rule, Targets=[{"Id": TOPIC_NAME, "Arn": self.topic}])


@dataclass(frozen=True)
class ForwardWork:
    """One region's share of the forwarding: its rule, its target, or both."""

    region: str
    rule: bool
    target: bool
    new: bool  # the rule does not exist there yet


@dataclass(frozen=True)
class ForwardRules(Operation):
    """The forwarding rule and its target in each region that lacks them, the regions at once."""

    work: tuple[ForwardWork, ...]
    bus: str
    rule: str
    pattern: Document
    description: str
    state: str
    role: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        found = with_backoff(lambda: iam.get_role(RoleName=self.role), retry_codes=TRANSIENT_CODES | {"NoSuchEntity"})
        role_arn = found["Role"]["Arn"]
        pattern = json.dumps(self.pattern)

        def forward(work: ForwardWork) -> None:
            events = aws.client("events", work.region)
            if work.rule:
                events.put_rule(Name=self.rule, EventPattern=pattern, State=self.state,
                                Description=self.description, Tags=TAGS)
            if work.target:
                failed = events.put_targets(
                    Rule=self.rule, Targets=[{"Id": docs.FORWARD_TARGET_ID, "Arn": self.bus, "RoleArn": role_arn}]
                )
                if failed.get("FailedEntryCount"):
                    entry = failed["FailedEntries"][0]
                    raise WizardError(f"PutTargets in {work.region} failed: {entry.get('ErrorCode')}: "
                                      f"{entry.get('ErrorMessage')}")

        aws.parallel(*(functools.partial(forward, w) for w in self.work))


@dataclass(frozen=True)
class MetricFilter(Operation):
    region: str
    group: str
    filter: str
    pattern: str
    transformations: tuple[Mapping[str, str], ...]

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("logs", self.region).put_metric_filter(
            logGroupName=self.group, filterName=self.filter, filterPattern=self.pattern,
            metricTransformations=[dict(t) for t in self.transformations],
        )


@dataclass(frozen=True)
class Alarm(Operation):
    region: str
    settings: Document  # PutMetricAlarm's parameters but the description
    description: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("cloudwatch", self.region).put_metric_alarm(AlarmDescription=self.description, **self.settings)
