"""CloudTrail: a multi-region trail with validated log files in a locked-down bucket, and alerts that matter.

An existing trail that already qualifies (an organization trail included) is kept: no duplicate. The
wizard's own trail, or another trail of this account that is close, is updated in place. Each resource
(bucket setting, trail, topic, rule, filter, alarm) is its own change, so a re-run completes only what is
missing. The decisions live in plan_cloudtrail (pure); reading lives in cloudtrail_state.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

from steps import cloudtrail_policies as docs
from steps import resources
from steps.cloudtrail_plan import Mode, choose, plan_cloudtrail
from steps.cloudtrail_state import (
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
from steps.resources import bucket_name_problem
from wizard.aws import Aws
from wizard.errors import WizardError
from wizard.protocol import AnswerValue, Change, Finding, Question, Step, StepContext

TRAIL_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{1,126})[A-Za-z0-9]", re.ASCII)


def default_bucket(account: str, region: str) -> str:
    return f"{docs.PREFIX}-cloudtrail-{account}-{region}"


bucket_problem = bucket_name_problem  # S3's naming rules; empty means the default name


def trail_name_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or not TRAIL_NAME_RE.fullmatch(value):
        return "3 to 128 letters, digits, . _ -, starting and ending with a letter or digit"
    if re.search(r"[._-]{2}", value):
        return "no two adjacent . _ - characters"
    return None


def email_problem(value: AnswerValue) -> str | None:
    return resources.email_problem(value, empty="no alerts")


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
