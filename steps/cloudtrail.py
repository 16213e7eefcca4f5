"""CloudTrail: a multi-region trail with validated log files in a locked-down bucket, and alerts that matter.

An existing trail that already qualifies (an organization trail included) is kept: no duplicate. The
wizard's own trail, or another trail of this account that is close, is updated in place. Each resource
(bucket setting, trail, topic, rule, filter, alarm) is its own change, so a re-run completes only what is
missing. The decisions live in plan_cloudtrail (pure); reading lives in cloudtrail_state.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from steps import cloudtrail_policies as docs
from steps.cloudtrail_plan import Mode, choose, plan_cloudtrail
from steps.cloudtrail_state import (
    KEY_ALIAS,
    TOPIC_NAME,
    CloudTrailState,
    alert_regions,
    read_bucket,
    read_key,
    read_logs,
    read_regions,
    read_role,
    read_rule,
    read_topic,
    read_trails,
    rule_regions,
    topic_arn,
)
from wizard.aws import GLOBAL_REGION, Aws
from wizard.errors import WizardError
from wizard.protocol import EMAIL_RE, AnswerValue, ApplyContext, Change, Finding, Question, Step, StepContext
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff

TAGS = [{"Key": "created-by", "Value": "aws-harden"}]
KEY_DESCRIPTION = "aws-harden: encrypts CloudTrail log files"
ROLE_DESCRIPTIONS = {
    docs.LOGS_ROLE: "aws-harden: lets CloudTrail deliver to CloudWatch Logs",
    docs.FORWARD_ROLE: "aws-harden: lets EventBridge forward root sign-ins to us-east-1",
}
TRAIL_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{1,126})[A-Za-z0-9]", re.ASCII)
BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
# CloudTrail checks the bucket policy, key policy and logs role as it creates or updates a trail; just
# written, they can take seconds to be seen (IAM is eventually consistent).
PROPAGATION_CODES = TRANSIENT_CODES | {
    "InsufficientS3BucketPolicyException",
    "InsufficientEncryptionPolicyException",
    "InvalidCloudWatchLogsRoleArnException",
    "InvalidCloudWatchLogsLogGroupArnException",
}


def default_bucket(account: str, region: str) -> str:
    return f"{docs.PREFIX}-cloudtrail-{account}-{region}"


def bucket_problem(value: AnswerValue) -> str | None:
    """S3's naming rules; empty means the default name."""
    if value == "":
        return None
    if not isinstance(value, str) or not BUCKET_RE.fullmatch(value):
        return (
            "3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
        )
    if ".." in value or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value, re.ASCII):
        return "no two adjacent dots, and not an IP address"
    if value.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or value.endswith(("-s3alias", "--ol-s3")):
        return "that prefix or suffix is reserved by S3"
    return None


def trail_name_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or not TRAIL_NAME_RE.fullmatch(value):
        return "3 to 128 letters, digits, . _ -, starting and ending with a letter or digit"
    if re.search(r"[._-]{2}", value):
        return "no two adjacent . _ - characters"
    return None


def email_problem(value: AnswerValue) -> str | None:
    if value == "" or (isinstance(value, str) and EMAIL_RE.fullmatch(value)):
        return None
    return "an email address like ops@example.com (empty: no alerts)"


def retention_problem(value: AnswerValue) -> str | None:
    if isinstance(value, int) and 0 <= value <= 36500:
        return None
    return "a number of days from 1 to 36500, or 0 to keep log files forever"


class CloudTrail(Step[CloudTrailState]):
    id = "cloudtrail"
    title = "CloudTrail: multi-region trail, locked-down bucket, alerts"
    remediates = ("cloudtrail_multi_region_enabled", "cloudtrail_multi_region_enabled_logging_management_events")
    checks = (
        "a multi-region trail with global service events and log file validation is logging, into a "
        "private, encrypted, versioned bucket; optional alerts on root use and trail or IAM policy changes"
    )
    writes = frozenset(
        {
            "s3:CreateBucket", "s3:PutPublicAccessBlock", "s3:PutBucketOwnershipControls",
            "s3:PutBucketEncryption", "s3:PutBucketVersioning", "s3:PutBucketPolicy",
            "s3:PutBucketLifecycleConfiguration",
            "kms:CreateKey", "kms:CreateAlias", "kms:PutKeyPolicy", "kms:EnableKeyRotation",
            "cloudtrail:CreateTrail", "cloudtrail:UpdateTrail", "cloudtrail:StartLogging",
            "cloudtrail:PutEventSelectors",
            "sns:CreateTopic", "sns:SetTopicAttributes", "sns:Subscribe",
            "events:PutRule", "events:PutTargets",
            "logs:CreateLogGroup", "logs:PutMetricFilter",
            "iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy",
            "cloudwatch:PutMetricAlarm",
        }
    )  # fmt: skip
    reads = frozenset({
        "cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus",
        "cloudwatch:DescribeAlarms", "ec2:DescribeRegions", "events:DescribeRule", "events:ListTargetsByRule",
        "iam:GetRole", "iam:GetRolePolicy", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
        "kms:ListAliases", "kms:ListKeys", "kms:ListResourceTags", "logs:DescribeLogGroups",
        "logs:DescribeMetricFilters",
        "s3:GetBucketEncryption", "s3:GetBucketLifecycleConfiguration", "s3:GetBucketLocation",
        "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy", "s3:GetBucketVersioning", "s3:GetPublicAccessBlock",
        "s3:HeadBucket", "s3:ListBuckets", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"
    })

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                "trail_name", "Name of the trail", default=f"{docs.PREFIX}-trail", validate=trail_name_problem
            ),
            Question(
                "bucket",
                "S3 bucket for the log files",
                default="",
                help=f"empty: {docs.PREFIX}-cloudtrail-<account id>-<region>",
                validate=bucket_problem,
            ),
            Question(
                "kms",
                "Encrypt the log files with a KMS key the wizard creates?",
                default=False,
                kind="confirm",
                help="costs about 1 USD a month; SSE-S3 otherwise",
            ),
            Question(
                "retention_days",
                "Delete log files after how many days?",
                default=0,
                kind="int",
                help="0: keep them forever",
                validate=retention_problem,
            ),
            Question(
                "alerts_email",
                "Email address for security alerts",
                default="",
                help="empty: no alerts",
                validate=email_problem,
            ),
            Question(
                "metric_filters",
                "Also deliver to CloudWatch Logs with the CIS metric filters and alarms?",
                default=False,
                kind="confirm",
                help="CloudWatch Logs ingestion is charged",
            ),
        )

    # --- reading ----------------------------------------------------------------------------
    def inspect(self, aws: Aws, ctx: StepContext) -> CloudTrailState:
        account, partition = ctx.caller.account, ctx.caller.partition
        trail_name = str(ctx.answer("trail_name") or f"{docs.PREFIX}-trail")
        # What the step reads besides the trails depends on the trail found. It is first read as if no trail
        # existed yet, alongside the trails, so check usually waits for two round trips here, not four;
        # anything the guess got wrong is read once the trail is known.
        guess = self._reads(aws, ctx, Mode.CREATE, None, ctx.region)
        trails, *early = aws.parallel(
            lambda: read_trails(aws, account), *(lambda f=f: _outcome(f) for f in guess.values())
        )
        known = dict(zip(guess, early, strict=True))
        mode, trail = choose(trails, trail_name, account)
        home = trail.home_region if trail is not None else ctx.region
        needed = self._reads(aws, ctx, mode, trail, home)
        late = [k for k in needed if k not in known]
        known.update(zip(late, aws.parallel(*(lambda f=needed[k]: _outcome(f) for k in late)), strict=True))
        regions: tuple[str, ...] = _value(known[("regions",)]) if ("regions",) in needed else ()
        forwarding = [
            (("rule", r, docs.FORWARD_RULE.name), functools.partial(read_rule, aws, r, docs.FORWARD_RULE.name))
            for r in rule_regions(docs.FORWARD_RULE, home, regions)
        ]  # one more round trip: which regions is known only now
        known.update(zip([k for k, _ in forwarding], aws.parallel(*(lambda f=f: _outcome(f) for _, f in forwarding)),
                         strict=True))
        needed.update(forwarding)

        found_bucket = None
        for k in needed:
            if k[0] == "bucket":
                ok, value = known[k]
                if not ok and mode is Mode.OWN and isinstance(value, WizardError):
                    value = None  # a central log bucket in another account: not the wizard's to change
                elif not ok:
                    raise value
                found_bucket = value
        values = {k: _value(known[k]) for k in needed if k[0] != "bucket"}
        found_key = next((v for k, v in values.items() if k[0] == "key"), None)
        logs = next((v for k, v in values.items() if k[0] == "logs"), None)
        topics = tuple(v for k, v in values.items() if k[0] == "topic")
        rules = tuple(v for k, v in values.items() if k[0] == "rule")
        forward_role = values.get(("forward-role",))
        return CloudTrailState(
            account, partition, ctx.region, trail_name, trails, found_bucket, found_key, topics, rules, logs,
            regions, forward_role,
        )

    def _reads(
        self, aws: Aws, ctx: StepContext, mode: Mode, trail: Any, home: str
    ) -> dict[tuple[str, ...], Callable[[], Any]]:
        """Every read that depends on the trail, keyed by what it reads, so a guess can be reused."""
        account, partition = ctx.caller.account, ctx.caller.partition
        reads: dict[tuple[str, ...], Callable[[], Any]] = {}
        bucket = None
        if mode is Mode.CREATE:
            bucket = str(ctx.answer("bucket") or "") or default_bucket(account, home)
        elif mode is Mode.OWN and trail is not None and trail.bucket:
            bucket = str(trail.bucket)
        if bucket:
            reads[("bucket", bucket, home)] = lambda: read_bucket(aws, bucket, account, home)
        if ctx.answer("kms") and mode in (Mode.OWN, Mode.CREATE):
            reads[("key", home)] = lambda: read_key(aws, home)
        where = self._logs_location(mode, trail, account, home) if ctx.answer("metric_filters") else None
        if where is not None:
            region, group = where
            reads[("logs", region, group)] = lambda: read_logs(aws, region, group)
        if ctx.answer("alerts_email"):
            for r in alert_regions(home):
                reads[("topic", r)] = functools.partial(read_topic, aws, r, topic_arn(partition, r, account))
            for spec in docs.RULES:
                for r in rule_regions(spec, home):
                    reads[("rule", r, spec.name)] = functools.partial(read_rule, aws, r, spec.name)
            if where is None:  # no CIS metric filter sees other regions' root sign-ins: forward them
                reads[("regions",)] = functools.partial(read_regions, aws, partition)
                reads[("forward-role",)] = functools.partial(
                    read_role, aws, docs.FORWARD_ROLE, docs.FORWARD_ROLE_POLICY
                )
        return reads

    @staticmethod
    def _logs_location(mode: Mode, trail: Any, account: str, home: str) -> tuple[str, str] | None:
        group_arn = trail.log_group_arn if trail is not None else None
        if group_arn:
            parts = group_arn.split(":")
            if parts[4] != account:
                return None  # delivered to another account's logs: filters belong there
            return parts[3], parts[6]
        if mode is Mode.ADOPTED:
            return None
        return home, docs.LOG_GROUP

    def findings(self, state: CloudTrailState, ctx: StepContext) -> list[Finding]:
        from steps.cloudtrail_plan import findings

        return findings(state, ctx)

    def plan(self, state: CloudTrailState, ctx: StepContext) -> list[Change]:
        return plan_cloudtrail(state, ctx)

    # --- changing ---------------------------------------------------------------------------
    def apply(self, aws: Aws, change: Change, ctx: ApplyContext) -> None:
        p = change.params
        handler = getattr(self, "_apply_" + change.key.replace("-", "_"), None)
        if handler is None:
            raise ValueError(f"unknown change {change.key}")
        handler(aws, p, ctx)

    # KMS
    def _apply_kms_key(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        kms = aws.client("kms", p["region"])
        if resolve_key(aws, p["region"], KEY_ALIAS, missing_ok=True):
            return
        key_id = unaliased_key(kms) or kms.create_key(
            Policy=p["policy"],
            Description=KEY_DESCRIPTION,
            Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in TAGS],
        )["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key_id)

    def _apply_kms_key_policy(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        kms = aws.client("kms", p["region"])
        key_id = resolve_key(aws, p["region"], KEY_ALIAS)
        current = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
        document = docs.merged(current, json.loads(p["statements"]))
        kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(document))

    def _apply_kms_rotation(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("kms", p["region"]).enable_key_rotation(KeyId=resolve_key(aws, p["region"], KEY_ALIAS))

    # S3
    def _apply_bucket(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        region, name = p["region"], p["bucket"]
        s3 = aws.client("s3", region)
        kwargs: dict[str, Any] = {"Bucket": name}
        if region != GLOBAL_REGION:
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**kwargs)
        except Exception as exc:
            if error_code(exc) == "BucketAlreadyOwnedByYou":
                return
            if error_code(exc) == "BucketAlreadyExists":
                raise WizardError(
                    f"the S3 bucket name '{name}' is taken by another AWS account; choose another name "
                    '(answers file: [cloudtrail] bucket = "...")'
                ) from None
            raise

    def _apply_bucket_public_access_block(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("s3", p["region"]).put_public_access_block(
            Bucket=p["bucket"], PublicAccessBlockConfiguration=docs.PUBLIC_ACCESS_BLOCK
        )

    def _apply_bucket_ownership(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("s3", p["region"]).put_bucket_ownership_controls(
            Bucket=p["bucket"], OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )

    def _apply_bucket_encryption(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        if p.get("kms"):
            key_arn = resolve_key(aws, p["key_region"], KEY_ALIAS)
            rule = {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                "BucketKeyEnabled": True,
            }
        aws.client("s3", p["region"]).put_bucket_encryption(
            Bucket=p["bucket"], ServerSideEncryptionConfiguration={"Rules": [rule]}
        )

    def _apply_bucket_versioning(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("s3", p["region"]).put_bucket_versioning(
            Bucket=p["bucket"], VersioningConfiguration={"Status": "Enabled"}
        )

    def _apply_bucket_policy(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        s3 = aws.client("s3", p["region"])
        from steps.cloudtrail_state import absent_on

        current = absent_on({"NoSuchBucketPolicy"}, lambda: s3.get_bucket_policy(Bucket=p["bucket"]))
        document = docs.merged(
            json.loads(current["Policy"]) if current else None, json.loads(p["statements"])
        )
        s3.put_bucket_policy(Bucket=p["bucket"], Policy=json.dumps(document))

    def _apply_bucket_lifecycle(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        s3 = aws.client("s3", p["region"])
        from steps.cloudtrail_state import absent_on

        current = absent_on(
            {"NoSuchLifecycleConfiguration"},
            lambda: s3.get_bucket_lifecycle_configuration(Bucket=p["bucket"]),
        )
        rules = [r for r in (current or {}).get("Rules", []) if r.get("ID") != docs.RETENTION_RULE_ID]
        rules.append(docs.retention_rule(int(p["days"])))
        s3.put_bucket_lifecycle_configuration(Bucket=p["bucket"], LifecycleConfiguration={"Rules": rules})

    # CloudWatch Logs delivery
    def _apply_log_group(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        try:
            aws.client("logs", p["region"]).create_log_group(
                logGroupName=p["group"], tags={"created-by": "aws-harden"}
            )
        except Exception as exc:
            if error_code(exc) != "ResourceAlreadyExistsException":
                raise

    def _apply_role(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        """Either role of the step (CloudTrail's to CloudWatch Logs, EventBridge's to forward events)."""
        iam = aws.client("iam")
        if p.get("update"):
            with_backoff(lambda: iam.update_assume_role_policy(RoleName=p["role"], PolicyDocument=p["trust"]))
            return
        try:
            with_backoff(lambda: iam.create_role(
                RoleName=p["role"],
                AssumeRolePolicyDocument=p["trust"],
                Description=ROLE_DESCRIPTIONS[p["role"]],
                Tags=TAGS,
            ))
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise

    def _apply_role_policy(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        with_backoff(
            lambda: iam.put_role_policy(RoleName=p["role"], PolicyName=p["policy_name"], PolicyDocument=p["policy"]),
            retry_codes=TRANSIENT_CODES | {"NoSuchEntity"},
        )

    _apply_logs_role = _apply_forward_role = _apply_role
    _apply_logs_role_policy = _apply_forward_role_policy = _apply_role_policy

    # the trail
    def _trail_settings(self, aws: Aws, p: Any) -> dict[str, Any]:
        settings: dict[str, Any] = dict(p["settings"])
        if p.get("kms"):
            settings["KmsKeyId"] = resolve_key(aws, p["region"], KEY_ALIAS)
        if p.get("logs_group_arn"):
            settings["CloudWatchLogsLogGroupArn"] = p["logs_group_arn"]
            settings["CloudWatchLogsRoleArn"] = aws.client("iam").get_role(RoleName=docs.LOGS_ROLE)["Role"][
                "Arn"
            ]
        return settings

    def _apply_trail(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        cloudtrail = aws.client("cloudtrail", p["region"])
        settings = self._trail_settings(aws, p)
        try:
            with_backoff(
                lambda: cloudtrail.create_trail(
                    Name=p["name"], S3BucketName=p["bucket"], TagsList=TAGS, **settings
                ),
                retry_codes=PROPAGATION_CODES,
                attempts=7,
                first_delay=1.0,
            )
        except Exception as exc:
            if error_code(exc) != "TrailAlreadyExistsException":
                raise

    def _apply_trail_settings(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        cloudtrail = aws.client("cloudtrail", p["region"])
        settings = self._trail_settings(aws, p)
        with_backoff(
            lambda: cloudtrail.update_trail(Name=p["arn"], **settings),
            retry_codes=PROPAGATION_CODES,
            attempts=7,
            first_delay=1.0,
        )

    def _apply_start_logging(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("cloudtrail", p["region"]).start_logging(Name=p["arn"])

    def _apply_event_selectors(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("cloudtrail", p["region"]).put_event_selectors(
            TrailName=p["arn"], **{p.get("kind", "EventSelectors"): json.loads(p["selectors"])}
        )

    # alerts
    def _apply_topic(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("sns", p["region"]).create_topic(Name=TOPIC_NAME, Tags=TAGS)

    def _apply_topic_policy(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        sns = aws.client("sns", p["region"])
        current = sns.get_topic_attributes(TopicArn=p["topic"])["Attributes"].get("Policy")
        document = docs.merged(json.loads(current) if current else None, json.loads(p["statements"]))
        sns.set_topic_attributes(
            TopicArn=p["topic"], AttributeName="Policy", AttributeValue=json.dumps(document)
        )

    def _apply_subscription(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("sns", p["region"]).subscribe(TopicArn=p["topic"], Protocol="email", Endpoint=p["email"])
        ctx.output(
            f"alerts ({p['region']})",
            f"AWS sent a confirmation email to {p['email']}: open it and confirm, or no alert reaches you",
        )

    def _apply_rule(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("events", p["region"]).put_rule(
            Name=p["rule"],
            EventPattern=p["pattern"],
            State=p.get("state", docs.ENABLED),
            Description=p["description"],
            Tags=TAGS,
        )

    def _apply_forward_rules(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        """The forwarding rule and its target in each region that lacks them, the regions at once."""
        iam = aws.client("iam")
        role = with_backoff(lambda: iam.get_role(RoleName=p["role"]), retry_codes=TRANSIENT_CODES | {"NoSuchEntity"})
        role_arn = role["Role"]["Arn"]

        def forward(work: Any) -> None:
            events = aws.client("events", work["region"])
            if work["rule"]:
                events.put_rule(Name=p["rule"], EventPattern=p["pattern"], State=p["state"],
                                Description=p["description"], Tags=TAGS)
            if work["target"]:
                failed = events.put_targets(
                    Rule=p["rule"], Targets=[{"Id": docs.FORWARD_TARGET_ID, "Arn": p["bus"], "RoleArn": role_arn}]
                )
                if failed.get("FailedEntryCount"):
                    entry = failed["FailedEntries"][0]
                    raise WizardError(f"PutTargets in {work['region']} failed: {entry.get('ErrorCode')}: "
                                      f"{entry.get('ErrorMessage')}")

        aws.parallel(*(functools.partial(forward, w) for w in p["work"]))

    def _apply_rule_target(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("events", p["region"]).put_targets(
            Rule=p["rule"], Targets=[{"Id": TOPIC_NAME, "Arn": p["topic"]}]
        )

    def _apply_metric_filter(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("logs", p["region"]).put_metric_filter(
            logGroupName=p["group"],
            filterName=p["filter"],
            filterPattern=p["pattern"],
            metricTransformations=json.loads(p["transformations"]),
        )

    def _apply_alarm(self, aws: Aws, p: Any, ctx: ApplyContext) -> None:
        aws.client("cloudwatch", p["region"]).put_metric_alarm(
            AlarmDescription=p["description"], **json.loads(p["settings"])
        )


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


def resolve_key(aws: Aws, region: str, alias: str, missing_ok: bool = False) -> str:
    """The key ARN behind the alias: S3 and CloudTrail are given the ARN, never the alias."""
    try:
        return str(aws.client("kms", region).describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except Exception as exc:
        if missing_ok and error_code(exc) == "NotFoundException":
            return ""
        raise


STEP = CloudTrail()


def _outcome(read: Callable[[], Any]) -> tuple[bool, Any]:
    """A read's result or its error, so a guessed read that was not needed cannot fail the step."""
    try:
        return True, read()
    except Exception as exc:
        return False, exc


def _value(outcome: tuple[bool, Any]) -> Any:
    ok, value = outcome
    if not ok:
        raise value
    return value
