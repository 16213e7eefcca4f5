"""What the cloudtrail step reads: every trail the account can see, the log bucket, the key and the alerts.

Only reads (the write guard refuses anything else). Each piece the step would set is read back here,
so a second apply finds nothing to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from steps import cloudtrail_policies as docs
from steps import resources
from wizard import facts
from wizard.aws import GLOBAL_REGION, Aws
from wizard.reads import absent_is_none
from wizard.retry import error_code


@dataclass(frozen=True)
class Trail:
    name: str
    arn: str
    home_region: str
    bucket: str | None
    multi_region: bool
    global_events: bool
    validation: bool
    logging: bool
    organization: bool
    account: str
    management_all: bool = True
    advanced_selectors: bool = False
    selectors: tuple[Mapping[str, Any], ...] = ()
    kms_key: str | None = None
    log_group_arn: str | None = None
    logs_role_arn: str | None = None
    advanced: tuple[Mapping[str, Any], ...] = ()
    # An organization trail of another account (the management account): a member account sees it in
    # DescribeTrails, may be refused its status and event selectors, and may never change it.
    org_managed: bool = False
    readable: bool = True  # False: GetTrailStatus / GetEventSelectors refused it (logging and selectors unknown)
    excluded_sources: tuple[str, ...] = ()  # management event sources the selectors leave out

    @property
    def qualifies(self) -> bool:
        """CIS v5.0 3.1/3.2 (v7.0 4.1/4.2): multi-region, global service events, validated log files, logging,
        recording read and write management events. An organization trail whose status this member account
        may not read is taken as its management account keeps it: that is where it is read and changed."""
        shape = self.multi_region and self.global_events and self.validation
        if self.org_managed and not self.readable:
            return shape
        return shape and self.logging and self.management_all


@dataclass(frozen=True)
class Bucket:
    name: str
    region: str
    owner: Literal["missing", "own", "foreign"]
    public_access_block: Mapping[str, bool] | None = None
    object_ownership: str | None = None
    encryption: Mapping[str, Any] | None = None
    versioning: str | None = None
    policy: Mapping[str, Any] | None = None
    lifecycle_rules: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Key:
    alias: str
    arn: str | None = None
    policy: Mapping[str, Any] | None = None
    rotation: bool = False


@dataclass(frozen=True)
class Topic:
    region: str
    arn: str
    exists: bool
    policy: Mapping[str, Any] | None = None
    # email endpoint -> pending confirmation?
    subscriptions: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    name: str
    region: str
    pattern: Mapping[str, Any] | None
    state: str | None
    targets: tuple[str, ...] = ()
    target_roles: Mapping[str, str] = field(default_factory=dict)  # target ARN -> the role it is sent with


@dataclass(frozen=True)
class Role:
    """An IAM role the step makes (CloudTrail's to CloudWatch Logs, EventBridge's to forward events)."""

    name: str
    arn: str | None = None
    trust_policy: Mapping[str, Any] | None = None
    policy: Mapping[str, Any] | None = None  # its inline policy of the step's name


@dataclass(frozen=True)
class Logs:
    region: str
    group: str
    group_exists: bool
    role_arn: str | None = None
    trust_policy: Mapping[str, Any] | None = None
    role_policy: Mapping[str, Any] | None = None
    filters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    alarms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class CloudTrailState:
    account: str
    partition: str
    region: str
    trail_name: str
    trails: tuple[Trail, ...]
    bucket: Bucket | None = None
    key: Key | None = None
    topics: tuple[Topic, ...] = ()
    rules: tuple[Rule, ...] = ()
    logs: Logs | None = None
    # Enabled regions (read only when root sign-ins must be forwarded from them) and the forwarding role.
    regions: tuple[str, ...] = ()
    forward_role: Role | None = None

    def named(self) -> Trail | None:
        """The wizard's own trail (the answer's name, in this account), if it exists."""
        return next((t for t in self.trails if t.name == self.trail_name and t.account == self.account), None)


# --- trails -----------------------------------------------------------------------------------
def read_trails(aws: Aws, account: str) -> tuple[Trail, ...]:
    """The account's trails as wizard/facts.py reads them (one reader for controls and this step), strictly:
    a trail of this account whose status or selectors cannot be read fails the step."""
    return tuple(step_view(t, account) for t in facts.read_trails(aws, strict_for=account))


def step_view(t: facts.Trail, caller_account: str) -> Trail:
    """What the step decides from: an organization trail of another account is counted as its management
    account keeps it when this account may not read its status or selectors."""
    owner = t.account
    readable = t.is_logging is not None and t.selectors_read
    basic, advanced = t.raw_event_selectors, t.raw_advanced_selectors
    return Trail(
        name=t.name,
        arn=t.arn,
        home_region=t.home_region,
        bucket=t.s3_bucket,
        multi_region=t.multi_region,
        global_events=t.global_events,
        validation=t.log_file_validation,
        logging=bool(t.is_logging),
        organization=t.organization,
        account=owner,
        management_all=records_all_management(basic, advanced) if readable else True,
        advanced_selectors=bool(advanced),
        selectors=basic,
        kms_key=t.kms_key_id,
        log_group_arn=t.log_group_arn,
        logs_role_arn=t.logs_role_arn,
        advanced=advanced,
        org_managed=owner != caller_account and t.organization,
        readable=readable,
        excluded_sources=excluded_sources(basic, advanced),
    )


# --- event selectors ----------------------------------------------------------------------------
# Basic selectors (botocore's EventSelector): IncludeManagementEvents (default true) and ReadWriteType (default
# All) say what management events a selector records; "if the event matches any event selector, the trail
# processes and logs the event". Advanced selectors (CloudTrail API Reference, AdvancedEventSelector): the
# fields for management events are eventCategory (required, Equals Management), eventSource and readOnly.
# A trail records all management events, read and write, when one selector does; management events from a
# source left out (ExcludeManagementEventSources, or eventSource NotEquals) still count, as in CIS's audit
# ("IncludeManagementEvents set to true and ReadWriteType set to All"), and are reported.
def basic_records_all(selector: Mapping[str, Any]) -> bool:
    return bool(selector.get("IncludeManagementEvents", True)) and selector.get("ReadWriteType", "All") == "All"


def is_management_selector(selector: Mapping[str, Any]) -> bool:
    return any(
        f.get("Field") == "eventCategory" and list(f.get("Equals") or []) == ["Management"]
        for f in selector.get("FieldSelectors") or []
    )


def advanced_records_all(selector: Mapping[str, Any]) -> bool:
    """A management selector whose only other conditions leave event sources out (NotEquals and the like)."""
    if not is_management_selector(selector):
        return False
    for f in selector.get("FieldSelectors") or []:
        field_name = f.get("Field")
        if field_name == "eventCategory":
            if set(f) - {"Field", "Equals"}:
                return False
        elif field_name == "eventSource":
            if set(f) - {"Field", "NotEquals", "NotStartsWith", "NotEndsWith"}:
                return False
        else:  # readOnly (read-only or write-only) or anything else narrows it
            return False
    return True


def records_all_management(basic: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]]) -> bool:
    if advanced:
        return any(advanced_records_all(s) for s in advanced)
    return any(basic_records_all(s) for s in basic)


def excluded_sources(basic: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    found: list[str] = []
    for s in basic:
        if basic_records_all(s):
            found += s.get("ExcludeManagementEventSources") or []
    for s in advanced:
        if advanced_records_all(s):
            for f in s.get("FieldSelectors") or []:
                if f.get("Field") == "eventSource":
                    found += f.get("NotEquals") or []
    return tuple(dict.fromkeys(found))


# --- the bucket -------------------------------------------------------------------------------
def bucket_owner(aws: Aws, name: str, account: str) -> Literal["missing", "own", "foreign"]:
    """Own buckets are listed by ListBuckets; a name that answers HeadBucket but is not listed is foreign."""
    s3 = aws.client("s3")

    def head() -> str:
        try:
            s3.head_bucket(Bucket=name, ExpectedBucketOwner=account)
        except Exception as exc:
            if error_code(exc) in resources.MISSING_BUCKET:
                return "missing"
            if error_code(exc) not in {"403", "AccessDenied", "301", "400"}:
                raise
        return "exists"

    owned, headed = aws.parallel(lambda: s3.list_buckets(Prefix=name)["Buckets"], head)
    if any(b["Name"] == name for b in owned):
        return "own"
    return "missing" if headed == "missing" else "foreign"


def read_bucket(aws: Aws, name: str, account: str, default_region: str) -> Bucket:
    owner = bucket_owner(aws, name, account)
    if owner == "foreign":
        raise resources.bucket_taken("cloudtrail", name)
    if owner == "missing":
        return Bucket(name, default_region, "missing")
    s3 = aws.client("s3", default_region)  # a bucket elsewhere is followed by botocore's S3 redirector
    location, pab, ownership, encryption, policy, lifecycle, versioning = aws.parallel(
        lambda: s3.get_bucket_location(Bucket=name).get("LocationConstraint"),
        lambda: resources.read_public_access_block(s3, name),
        lambda: absent_is_none(lambda: s3.get_bucket_ownership_controls(Bucket=name),
                               ("OwnershipControlsNotFoundError",)),
        lambda: absent_is_none(lambda: s3.get_bucket_encryption(Bucket=name),
                               ("ServerSideEncryptionConfigurationNotFoundError",)),
        lambda: resources.read_bucket_policy(s3, name),
        lambda: absent_is_none(lambda: s3.get_bucket_lifecycle_configuration(Bucket=name),
                               ("NoSuchLifecycleConfiguration",)),
        lambda: s3.get_bucket_versioning(Bucket=name).get("Status"),
    )
    rules = (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    return Bucket(
        name=name,
        region=resources.bucket_region(location),
        owner="own",
        public_access_block=pab,
        object_ownership=next(
            (
                r.get("ObjectOwnership")
                for r in (ownership or {}).get("OwnershipControls", {}).get("Rules", [])
            ),
            None,
        ),
        encryption=rules[0].get("ApplyServerSideEncryptionByDefault") if rules else None,
        versioning=versioning,
        policy=policy,
        lifecycle_rules=tuple((lifecycle or {}).get("Rules", [])),
    )


# --- the key ----------------------------------------------------------------------------------
KEY_ALIAS = f"alias/{docs.PREFIX}-cloudtrail"


def read_key(aws: Aws, region: str) -> Key:
    kms = aws.client("kms", region)
    described = absent_is_none(lambda: kms.describe_key(KeyId=KEY_ALIAS), ("NotFoundException",))
    if described is None:
        return Key(KEY_ALIAS)
    meta = described["KeyMetadata"]
    policy, rotation = aws.parallel(
        lambda: kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"],
        lambda: kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"],
    )
    return Key(KEY_ALIAS, meta["Arn"], json.loads(policy), bool(rotation))


# --- alerts -----------------------------------------------------------------------------------
TOPIC_NAME = f"{docs.PREFIX}-alerts"


def topic_arn(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:sns:{region}:{account}:{TOPIC_NAME}"


def read_topic(aws: Aws, region: str, arn: str) -> Topic:
    sns = aws.client("sns", region)
    missing = {"NotFound", "NotFoundException"}

    def listed() -> list[Mapping[str, Any]]:
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
        return [s for page in pages for s in page["Subscriptions"]]

    attributes, found = aws.parallel(
        lambda: absent_is_none(lambda: sns.get_topic_attributes(TopicArn=arn), tuple(missing)),
        lambda: absent_is_none(listed, tuple(missing)),
    )
    if attributes is None:
        return Topic(region, arn, exists=False)
    policy = attributes["Attributes"].get("Policy")
    subscriptions: dict[str, bool] = {}
    for s in found or []:
        if s.get("Protocol") == "email":
            pending = s.get("SubscriptionArn") in ("PendingConfirmation", "Deleted")
            subscriptions[str(s["Endpoint"]).lower()] = pending
    return Topic(region, arn, True, json.loads(policy) if policy else None, subscriptions)


def read_rule(aws: Aws, region: str, name: str) -> Rule:
    events = aws.client("events", region)
    missing = {"ResourceNotFoundException"}
    described, listed = aws.parallel(
        lambda: absent_is_none(lambda: events.describe_rule(Name=name), tuple(missing)),
        lambda: absent_is_none(lambda: events.list_targets_by_rule(Rule=name)["Targets"], tuple(missing)),
    )
    if described is None:
        return Rule(name, region, None, None)
    targets = tuple(t["Arn"] for t in listed or [])
    roles = {t["Arn"]: t["RoleArn"] for t in listed or [] if t.get("RoleArn")}
    pattern = described.get("EventPattern")
    return Rule(name, region, json.loads(pattern) if pattern else None, described.get("State"), targets, roles)


def read_regions(aws: Aws, partition: str) -> tuple[str, ...]:
    """The regions enabled in this account (DescribeRegions without AllRegions lists only those), that
    EventBridge serves in the caller's partition."""
    answered = aws.client("ec2", GLOBAL_REGION).describe_regions()["Regions"]
    served = set(aws.session.get_available_regions("events", partition_name=partition))
    enabled = (r["RegionName"] for r in answered if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in")
    return tuple(sorted(r for r in enabled if r in served))


def read_role(aws: Aws, name: str, policy_name: str) -> Role:
    iam = aws.client("iam")
    role, inline = aws.parallel(
        lambda: absent_is_none(lambda: iam.get_role(RoleName=name), ("NoSuchEntity",)),
        lambda: absent_is_none(lambda: iam.get_role_policy(RoleName=name, PolicyName=policy_name), ("NoSuchEntity",)),
    )
    if role is None:
        return Role(name)
    return Role(
        name,
        role["Role"]["Arn"],
        decoded(role["Role"].get("AssumeRolePolicyDocument")),
        decoded(inline["PolicyDocument"]) if inline else None,
    )


def alert_regions(home: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((GLOBAL_REGION, home)))


def rule_regions(spec: docs.RuleSpec, home: str, regions: Sequence[str] = ()) -> tuple[str, ...]:
    if spec.where == "others":
        return tuple(r for r in regions if r != GLOBAL_REGION)
    return {"global": (GLOBAL_REGION,), "home": (home,), "both": alert_regions(home)}[spec.where]


# --- CloudWatch Logs --------------------------------------------------------------------------
def read_logs(aws: Aws, region: str, group: str) -> Logs:
    logs = aws.client("logs", region)
    cloudwatch = aws.client("cloudwatch", region)
    names = [docs.alarm_settings(f.name, [])["AlarmName"] for f in docs.METRIC_FILTERS]

    def metric_filters() -> dict[str, Mapping[str, Any]]:
        pages = logs.get_paginator("describe_metric_filters").paginate(logGroupName=group)
        return {f["filterName"]: f for page in pages for f in page["metricFilters"]}

    found, role, filters, alarms = aws.parallel(
        lambda: logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"],
        lambda: read_role(aws, docs.LOGS_ROLE, docs.LOGS_ROLE_POLICY),
        lambda: absent_is_none(metric_filters, ("ResourceNotFoundException",)),
        lambda: {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]},
    )
    exists = any(g["logGroupName"] == group for g in found)
    filters = (filters or {}) if exists else {}
    return Logs(
        region=region,
        group=group,
        group_exists=exists,
        role_arn=role.arn,
        trust_policy=role.trust_policy,
        role_policy=role.policy,
        filters=filters,
        alarms=alarms,
    )


def decoded(document: Any) -> Mapping[str, Any] | None:
    """IAM documents arrive as dicts from boto3, or URL-encoded JSON from some endpoints."""
    if document is None or isinstance(document, Mapping):
        return document
    from urllib.parse import unquote

    parsed: Mapping[str, Any] = json.loads(unquote(str(document)))
    return parsed
