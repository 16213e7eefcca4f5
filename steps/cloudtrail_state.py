"""What the cloudtrail step reads: every trail the account can see, the log bucket, the key and the alerts.

Only reads (the write guard refuses anything else). Each piece the step would set is read back here,
so a second apply finds nothing to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from steps import cloudtrail_policies as docs
from wizard.aws import GLOBAL_REGION, Aws
from wizard.errors import WizardError
from wizard.reads import absent_is_none
from wizard.retry import error_code

T = TypeVar("T")


def absent_on(codes: set[str], call: Callable[[], T]) -> T | None:
    """The call's result, or None when AWS says the thing does not exist (any of `codes`)."""
    return absent_is_none(call, tuple(sorted(codes)))


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

    @property
    def qualifies(self) -> bool:
        """CIS 3.1/3.2: multi-region, global service events, validated log files, and logging now."""
        return self.multi_region and self.global_events and self.validation and self.logging


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
    enabled: bool
    targets: tuple[str, ...] = ()


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

    def named(self) -> Trail | None:
        """The wizard's own trail (the answer's name, in this account), if it exists."""
        return next((t for t in self.trails if t.name == self.trail_name and t.account == self.account), None)


# --- trails -----------------------------------------------------------------------------------
def read_trails(aws: Aws) -> tuple[Trail, ...]:
    listed = aws.client("cloudtrail").describe_trails(includeShadowTrails=True)["trailList"]
    unique: dict[str, Mapping[str, Any]] = {}
    for t in listed:
        unique.setdefault(t["TrailARN"], t)  # shadow copies repeat a trail
    return tuple(aws.parallel(*(lambda t=t: read_trail(aws, t) for t in unique.values())))


def read_trail(aws: Aws, t: Mapping[str, Any]) -> Trail:
    home = t.get("HomeRegion") or aws.region
    client = aws.client("cloudtrail", home)  # status and selectors answer only in the home region
    status, selectors = aws.parallel(
        lambda: client.get_trail_status(Name=t["TrailARN"]),
        lambda: client.get_event_selectors(TrailName=t["TrailARN"]),
    )
    basic = tuple(selectors.get("EventSelectors") or ())
    advanced = bool(selectors.get("AdvancedEventSelectors"))
    management_all = advanced or any(
        s.get("IncludeManagementEvents", True) and s.get("ReadWriteType", "All") == "All" for s in basic
    )
    return Trail(
        name=t["Name"],
        arn=t["TrailARN"],
        home_region=home,
        bucket=t.get("S3BucketName"),
        multi_region=bool(t.get("IsMultiRegionTrail")),
        global_events=bool(t.get("IncludeGlobalServiceEvents")),
        validation=bool(t.get("LogFileValidationEnabled")),
        logging=bool(status.get("IsLogging")),
        organization=bool(t.get("IsOrganizationTrail")),
        account=t["TrailARN"].split(":")[4],
        management_all=management_all,
        advanced_selectors=advanced,
        selectors=basic,
        kms_key=t.get("KmsKeyId"),
        log_group_arn=t.get("CloudWatchLogsLogGroupArn"),
        logs_role_arn=t.get("CloudWatchLogsRoleArn"),
    )


# --- the bucket -------------------------------------------------------------------------------
def bucket_owner(aws: Aws, name: str, account: str) -> Literal["missing", "own", "foreign"]:
    """Own buckets are listed by ListBuckets; a name that answers HeadBucket but is not listed is foreign."""
    s3 = aws.client("s3")

    def head() -> str:
        try:
            s3.head_bucket(Bucket=name, ExpectedBucketOwner=account)
        except Exception as exc:
            if error_code(exc) in {"404", "NoSuchBucket", "NotFound"}:
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
        raise WizardError(
            f"the S3 bucket name '{name}' is taken by another AWS account; choose another name "
            '(answers file: [cloudtrail] bucket = "...")'
        )
    if owner == "missing":
        return Bucket(name, default_region, "missing")
    s3 = aws.client("s3", default_region)  # a bucket elsewhere is followed by botocore's S3 redirector
    location, pab, ownership, encryption, policy, lifecycle, versioning = aws.parallel(
        lambda: s3.get_bucket_location(Bucket=name).get("LocationConstraint"),
        lambda: absent_on({"NoSuchPublicAccessBlockConfiguration"}, lambda: s3.get_public_access_block(Bucket=name)),
        lambda: absent_on(
            {"OwnershipControlsNotFoundError"}, lambda: s3.get_bucket_ownership_controls(Bucket=name)
        ),
        lambda: absent_on(
            {"ServerSideEncryptionConfigurationNotFoundError"}, lambda: s3.get_bucket_encryption(Bucket=name)
        ),
        lambda: absent_on({"NoSuchBucketPolicy"}, lambda: s3.get_bucket_policy(Bucket=name)),
        lambda: absent_on(
            {"NoSuchLifecycleConfiguration"}, lambda: s3.get_bucket_lifecycle_configuration(Bucket=name)
        ),
        lambda: s3.get_bucket_versioning(Bucket=name).get("Status"),
    )
    region = {None: GLOBAL_REGION, "": GLOBAL_REGION, "EU": "eu-west-1"}.get(location, location)
    rules = (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    return Bucket(
        name=name,
        region=str(region),
        owner="own",
        public_access_block=(pab or {}).get("PublicAccessBlockConfiguration"),
        object_ownership=next(
            (
                r.get("ObjectOwnership")
                for r in (ownership or {}).get("OwnershipControls", {}).get("Rules", [])
            ),
            None,
        ),
        encryption=rules[0].get("ApplyServerSideEncryptionByDefault") if rules else None,
        versioning=versioning,
        policy=json.loads(policy["Policy"]) if policy else None,
        lifecycle_rules=tuple((lifecycle or {}).get("Rules", [])),
    )


# --- the key ----------------------------------------------------------------------------------
KEY_ALIAS = f"alias/{docs.PREFIX}-cloudtrail"


def read_key(aws: Aws, region: str) -> Key:
    kms = aws.client("kms", region)
    described = absent_on({"NotFoundException"}, lambda: kms.describe_key(KeyId=KEY_ALIAS))
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
        lambda: absent_on(missing, lambda: sns.get_topic_attributes(TopicArn=arn)),
        lambda: absent_on(missing, listed),
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
        lambda: absent_on(missing, lambda: events.describe_rule(Name=name)),
        lambda: absent_on(missing, lambda: events.list_targets_by_rule(Rule=name)["Targets"]),
    )
    if described is None:
        return Rule(name, region, None, False)
    targets = tuple(t["Arn"] for t in listed or [])
    pattern = described.get("EventPattern")
    return Rule(
        name, region, json.loads(pattern) if pattern else None, described.get("State") == "ENABLED", targets
    )


def alert_regions(home: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((GLOBAL_REGION, home)))


def rule_regions(spec: docs.RuleSpec, home: str) -> tuple[str, ...]:
    return {"global": (GLOBAL_REGION,), "home": (home,), "both": alert_regions(home)}[spec.where]


# --- CloudWatch Logs --------------------------------------------------------------------------
def read_logs(aws: Aws, region: str, group: str) -> Logs:
    logs = aws.client("logs", region)
    iam = aws.client("iam")
    cloudwatch = aws.client("cloudwatch", region)
    names = [docs.alarm_settings(f.name, [])["AlarmName"] for f in docs.METRIC_FILTERS]

    def metric_filters() -> dict[str, Mapping[str, Any]]:
        pages = logs.get_paginator("describe_metric_filters").paginate(logGroupName=group)
        return {f["filterName"]: f for page in pages for f in page["metricFilters"]}

    found, role, inline, filters, alarms = aws.parallel(
        lambda: logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"],
        lambda: absent_on({"NoSuchEntity"}, lambda: iam.get_role(RoleName=docs.LOGS_ROLE)),
        lambda: absent_on(
            {"NoSuchEntity"},
            lambda: iam.get_role_policy(RoleName=docs.LOGS_ROLE, PolicyName=docs.LOGS_ROLE_POLICY),
        ),
        lambda: absent_on({"ResourceNotFoundException"}, metric_filters),
        lambda: {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]},
    )
    exists = any(g["logGroupName"] == group for g in found)
    role_policy = inline["PolicyDocument"] if role is not None and inline else None
    filters = (filters or {}) if exists else {}
    return Logs(
        region=region,
        group=group,
        group_exists=exists,
        role_arn=role["Role"]["Arn"] if role else None,
        trust_policy=decoded(role["Role"].get("AssumeRolePolicyDocument")) if role else None,
        role_policy=decoded(role_policy),
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
