"""Amazon GuardDuty in every enabled region (AWS Startup Security Baseline ACCT.11; Security Hub GuardDuty.1),
and, when the cloudtrail step's alerts are on, its findings of medium severity and above emailed through the
same alerts topic.

GuardDuty costs money after its 30-day free trial, so the step asks (yes by default at a prompt) and under
--yes turns it on only when the answers file says `enable = true`. A suspended detector is resumed, never
deleted. The findings rule goes where the alerts topic is (us-east-1 and the run's region, as the cloudtrail
step's alerts): an EventBridge rule can send to an SNS topic of its own region only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from steps.cloudtrail_state import Rule, Topic, alert_regions, read_rule, read_topic, topic_arn
from wizard.aws import Aws
from wizard.facts import Detector, Guardrails, read_guardrails
from wizard.protocol import (
    Action,
    ApplyContext,
    Change,
    ChangeSkipped,
    FieldChange,
    Finding,
    Operation,
    Question,
    Step,
    StepContext,
)

RULE_NAME = "aws-harden-guardduty-findings"
# GuardDuty's severities: low 1.0-3.9, medium 4.0-6.9, high 7.0-8.9, critical 9.0 and up (GuardDuty user
# guide, "Severity levels of findings"); its findings reach EventBridge as "GuardDuty Finding" events.
FINDINGS_PATTERN: dict[str, Any] = {
    "source": ["aws.guardduty"],
    "detail-type": ["GuardDuty Finding"],
    "detail": {"severity": [{"numeric": [">=", 4]}]},
}
COST = ("GuardDuty is free for 30 days in each region, then charged by what it analyses: about USD 4 per million "
        "CloudTrail management events and USD 1 per GB of VPC flow and DNS logs, less at volume (a quiet new "
        "account typically pays cents to a few USD a month per region; the GuardDuty console shows the estimate "
        "during the trial)")
TAGS = {"created-by": "aws-harden"}


@dataclass(frozen=True)
class GuardDutyState:
    detectors: Mapping[str, tuple[Detector, ...]]  # every enabled region -> its detectors
    enable: bool
    alerts: bool  # the cloudtrail step's alerts are on
    topics: Mapping[str, Topic] = field(default_factory=dict)  # alert region -> the alerts topic
    rules: Mapping[str, Rule] = field(default_factory=dict)  # alert region -> the findings rule

    @classmethod
    def of(cls, facts: Guardrails, enable: bool, alerts: bool, topics: Mapping[str, Topic],
           rules: Mapping[str, Rule]) -> GuardDutyState:
        return cls(dict(facts.detectors), enable, alerts, dict(topics), dict(rules))


def _consented(ctx: ApplyContext) -> None:
    """GuardDuty costs money: every one of its changes waits for the operator's yes (or the answers file's)."""
    if not ctx.answer("enable"):
        raise ChangeSkipped(
            ("you chose not to turn on GuardDuty" if ctx.interactive else
             f"GuardDuty costs money after its trial, so --yes turns it on only with enable = true under "
             f"[{ctx.step_id}] in the answers file") + " (it stays off; the step stays pending)")


@dataclass(frozen=True)
class CreateDetector(Operation):
    region: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        _consented(ctx)
        aws.client("guardduty", self.region).create_detector(Enable=True, Tags=TAGS)


@dataclass(frozen=True)
class ResumeDetector(Operation):
    region: str
    detector: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        _consented(ctx)
        aws.client("guardduty", self.region).update_detector(DetectorId=self.detector, Enable=True)


@dataclass(frozen=True)
class PutRule(Operation):
    region: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        _consented(ctx)
        aws.client("events", self.region).put_rule(
            Name=RULE_NAME, EventPattern=json.dumps(FINDINGS_PATTERN), State="ENABLED",
            Description="aws-harden: GuardDuty findings of medium severity and above",
            Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()])


@dataclass(frozen=True)
class PutTarget(Operation):
    region: str
    topic: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        _consented(ctx)
        aws.client("events", self.region).put_targets(
            Rule=RULE_NAME, Targets=[{"Id": "aws-harden-alerts", "Arn": self.topic}])


class GuardDuty(Step[GuardDutyState]):
    id = "guardduty"
    title = "GuardDuty in every region, findings by email"
    remediates = ("guardduty_is_enabled",)
    checks = ("a GuardDuty detector enabled in every enabled region (charged after a 30-day trial); findings of "
              "medium severity and above to the alerts topic when the cloudtrail step's alerts are on")
    writes = frozenset({"guardduty:CreateDetector", "guardduty:UpdateDetector", "events:PutRule",
                        "events:PutTargets"})
    reads = frozenset({"ec2:DescribeRegions", "guardduty:ListDetectors", "guardduty:GetDetector",
                       "events:DescribeRule", "events:ListTargetsByRule", "sns:GetTopicAttributes",
                       "sns:ListSubscriptionsByTopic"})

    def questions(self) -> list[Question]:
        return [Question("enable", "Turn on GuardDuty in every enabled region?", default=False, kind="confirm",
                         prompt_default=True, help=COST)]

    def inspect(self, aws: Aws, ctx: StepContext) -> GuardDutyState:
        alerts = bool(ctx.answer_of("cloudtrail", "alerts_email"))
        account, partition = ctx.caller.account, ctx.caller.partition
        regions = alert_regions(ctx.region) if alerts else ()
        facts, *alerting = aws.parallel(
            lambda: read_guardrails(aws, ctx.caller, only=("guardduty detectors",), strict=True),
            *(lambda r=r: read_topic(aws, r, topic_arn(partition, r, account)) for r in regions),
            *(lambda r=r: read_rule(aws, r, RULE_NAME) for r in regions),
        )
        topics = dict(zip(regions, alerting[:len(regions)], strict=True))
        rules = dict(zip(regions, alerting[len(regions):], strict=True))
        return GuardDutyState.of(facts, bool(ctx.answer("enable")), alerts, topics, rules)

    def findings(self, state: GuardDutyState, ctx: StepContext) -> list[Finding]:
        on = sorted(r for r, ds in state.detectors.items() if any(d.status == "ENABLED" for d in ds))
        found = [Finding(f"GuardDuty: enabled in {len(on)} of {len(state.detectors)} enabled regions",
                         observed={r: [f"{d.id} {d.status}" for d in ds] for r, ds in state.detectors.items()})]
        if len(on) < len(state.detectors):
            found.append(Finding(COST, observed={"enable": state.enable}))
        for region, topic in state.topics.items():
            if not topic.exists:
                found.append(Finding(f"the alerts topic does not exist in {region} yet (the cloudtrail step makes "
                                     "it): GuardDuty findings are not emailed from there", severity="warning",
                                     observed={"topic": topic.arn}))
        return found

    def plan(self, state: GuardDutyState, ctx: StepContext) -> list[Change]:
        changes = []
        for region, detectors in sorted(state.detectors.items()):
            if any(d.status == "ENABLED" for d in detectors):
                continue
            cost = "charged after a 30-day free trial"
            if detectors:
                d = detectors[0]
                changes.append(Change(
                    Action.UPDATE, ResumeDetector(region, d.id), f"GuardDuty detector {d.id} ({region})",
                    f"resume the suspended GuardDuty detector in {region} ({cost})",
                    operations=("guardduty:UpdateDetector",), fields=(FieldChange("status", d.status, "ENABLED"),)))
            else:
                changes.append(Change(
                    Action.CREATE, CreateDetector(region), f"GuardDuty detector ({region})",
                    f"turn on GuardDuty in {region} ({cost})", operations=("guardduty:CreateDetector",),
                    fields=(FieldChange("status", None, "ENABLED"),)))
        for region, topic in sorted(state.topics.items()):
            if topic.exists:
                changes += self._rule_changes(state.rules[region], topic.arn)
        return changes

    @staticmethod
    def _rule_changes(rule: Rule, topic: str) -> list[Change]:
        region = rule.region
        changes = []
        if rule.pattern != FINDINGS_PATTERN or rule.state != "ENABLED":
            old = None if rule.pattern is None else json.dumps(rule.pattern, sort_keys=True)
            old_state = None if rule.pattern is None else rule.state
            changes.append(Change(
                Action.UPDATE if rule.pattern is not None else Action.CREATE, PutRule(region),
                f"EventBridge rule {RULE_NAME} ({region})",
                f"GuardDuty findings of medium severity and above in {region} to the alerts topic",
                operations=("events:PutRule",),
                fields=(FieldChange("pattern", old, json.dumps(FINDINGS_PATTERN, sort_keys=True)),
                        FieldChange("state", old_state, "ENABLED"))))
        if topic not in rule.targets:
            changes.append(Change(
                Action.CREATE, PutTarget(region, topic), f"target {topic}",
                f"the rule {RULE_NAME} in {region} emails through "
                "the alerts topic", operations=("events:PutTargets",),
                fields=(FieldChange("target", None, topic),)))
        return changes


STEP = GuardDuty()
