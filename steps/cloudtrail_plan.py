"""The cloudtrail step's decisions, pure: which trail counts, and each change that is still missing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from steps import cloudtrail_operations as ops
from steps import cloudtrail_policies as docs
from steps import resources
from steps.cloudtrail_operations import TRAIL_FIELDS
from steps.cloudtrail_state import (
    KEY_ALIAS,
    Bucket,
    CloudTrailState,
    Key,
    Logs,
    Role,
    Rule,
    Trail,
    advanced_records_all,
    alert_regions,
    basic_records_all,
    is_management_selector,
    rule_regions,
    topic_arn,
)
from wizard.aws import GLOBAL_REGION
from wizard.protocol import KNOWN_AFTER_APPLY, Action, Change, FieldChange, Finding, Operation, StepContext


class Mode(Enum):
    OWN = "own"  # the wizard's trail (by name) exists: keep it and its bucket as asked
    ADOPTED = "adopted"  # another trail already qualifies: no duplicate, nothing to change on trails
    CLOSE = "close"  # a trail of this account is close: update it in place
    CREATE = "create"  # nothing usable: a new bucket and trail


def choose(trails: Sequence[Trail], trail_name: str, account: str) -> tuple[Mode, Trail | None]:
    named = next((t for t in trails if t.name == trail_name and t.account == account), None)
    if named is not None:
        return Mode.OWN, named
    qualifying = [t for t in trails if t.qualifies]
    if qualifying:
        own_first = sorted(qualifying, key=lambda t: t.account != account)
        return Mode.ADOPTED, own_first[0]
    mine = [t for t in trails if t.account == account]
    if mine:
        closest = max(
            mine, key=lambda t: (t.multi_region, t.global_events, t.validation, t.logging, t.management_all)
        )
        return Mode.CLOSE, closest
    return Mode.CREATE, None


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


# --- findings -----------------------------------------------------------------------------------
def findings(state: CloudTrailState, ctx: StepContext) -> list[Finding]:
    found: list[Finding] = []
    for t in state.trails:
        status = (
            f"logging {yes_no(t.logging)}"
            if t.readable
            else "logging and event selectors read in the management account"
        )
        found.append(
            Finding(
                f"trail {t.name} (home {t.home_region}{', organization trail' if t.organization else ''}"
                f"{'' if t.account == state.account else f', account {t.account}'}): "
                f"multi-region {yes_no(t.multi_region)}, global service events {yes_no(t.global_events)}, "
                f"log file validation {yes_no(t.validation)}, {status}",
                observed={
                    "arn": t.arn,
                    "multi_region": t.multi_region,
                    "global_events": t.global_events,
                    "validation": t.validation,
                    "logging": t.logging if t.readable else None,
                    "organization": t.organization,
                },
            )
        )
    mode, trail = choose(state.trails, state.trail_name, state.account)
    if not state.trails:
        found.append(Finding("no trail: only the last 90 days of management events are kept (event history)"))
    if mode is Mode.ADOPTED and trail is not None and trail.org_managed:
        found.append(
            Finding(
                f"organization trail {trail.name} of the management account {trail.account} covers this account: "
                "it is managed there (its logging status and event selectors are read in the management "
                "account; a member account may not read or change them), so it counts here and the wizard "
                "neither changes nor duplicates it",
                observed={"arn": trail.arn, "org_managed": True, "readable": trail.readable},
            )
        )
    elif mode is Mode.ADOPTED and trail is not None:
        found.append(
            Finding(
                f"trail {trail.name} already satisfies this step; no new trail is created",
                observed={"arn": trail.arn},
            )
        )
        if ctx.answer("kms") and not trail.kms_key:
            found.append(Finding(f"trail {trail.name} is not KMS-encrypted; the wizard leaves it as it is"))
    if mode is Mode.CLOSE and trail is not None:
        found.append(
            Finding(
                f"trail {trail.name} is close: it is updated in place, not replaced",
                severity="warning",
                observed={"arn": trail.arn},
            )
        )
    if trail is not None and not trail.management_all:
        found.append(
            Finding(
                f"trail {trail.name} does not record all management events (read and write)",
                severity="warning",
            )
        )
        if mode in (Mode.OWN, Mode.CLOSE) and not trail.advanced_selectors and fixed_basic(trail.selectors) is None:
            found.append(
                Finding(
                    f"trail {trail.name} has five event selectors, none of which can take management events "
                    "without changing what data events it records: add management events in the console",
                    severity="warning",
                )
            )
    if trail is not None and trail.excluded_sources:
        found.append(
            Finding(
                f"trail {trail.name} leaves out management events from {', '.join(trail.excluded_sources)}",
                observed={"excluded_sources": list(trail.excluded_sources)},
            )
        )
    if mode is Mode.OWN and trail is not None and state.bucket is None:
        found.append(
            Finding(
                f"the bucket of trail {trail.name} ({trail.bucket}) is not in this account; "
                "its settings are not checked here"
            )
        )
    email = str(ctx.answer("alerts_email") or "").lower()
    for topic in state.topics:
        if topic.subscriptions.get(email):
            found.append(
                Finding(
                    f"the alert subscription for {email} ({topic.region}) is not confirmed yet: "
                    "open the email from AWS Notifications and confirm it",
                    severity="warning",
                )
            )
    if ctx.answer("metric_filters") and state.logs is None:
        found.append(
            Finding(
                "CIS metric filters need the trail to deliver to CloudWatch Logs in this account; "
                "the trail that qualifies does not, and the wizard leaves it as it is",
                severity="warning",
            )
        )
    if email:
        found.append(sign_in_coverage(state, trail.home_region if trail is not None else ctx.region))
    if ctx.answer("metric_filters") and not ctx.answer("alerts_email"):
        found.append(
            Finding(
                "metric filter alarms have no one to notify: no alerts email was given", severity="warning"
            )
        )
    return found


# --- plan ---------------------------------------------------------------------------------------
def plan_cloudtrail(state: CloudTrailState, ctx: StepContext) -> list[Change]:
    mode, trail = choose(state.trails, state.trail_name, state.account)
    home = trail.home_region if trail is not None else ctx.region
    kms = bool(ctx.answer("kms")) and mode in (Mode.OWN, Mode.CREATE)
    changes: list[Change] = []
    arn = (
        trail.arn
        if trail is not None
        else docs.trail_arn(state.partition, home, state.account, state.trail_name)
    )
    if kms and state.key is not None:
        changes += plan_key(state.key, state, home, arn)
    if state.bucket is not None:
        changes += plan_bucket(state.bucket, state, arn, kms, home, int(ctx.answer("retention_days") or 0))
    manage_logs = state.logs is not None and state.logs.group == docs.LOG_GROUP and mode is not Mode.ADOPTED
    if manage_logs and state.logs is not None:
        changes += plan_logs_delivery(state.logs, state)
    logs_arn = (
        docs.log_group_arn(state.partition, home, state.account, docs.LOG_GROUP) if manage_logs else None
    )
    changes += plan_trail(mode, trail, state, home, kms, logs_arn)
    email = str(ctx.answer("alerts_email") or "")
    if email:
        changes += plan_alerts(state, home, email)
    if state.logs is not None:
        changes += plan_metric_filters(state.logs, state, bool(email))
    return changes


BUCKET_KEY_NOTE = "CloudTrail may kms:Decrypt, for this trail only (the bucket's S3 Bucket Key needs it)"


def plan_key(key: Key, state: CloudTrailState, home: str, trail_arn: str) -> list[Change]:
    policy = docs.key_policy(state.partition, state.account, home, trail_arn)
    resource = f'kms key "{KEY_ALIAS}" ({home})'
    if key.arn is None:
        return [
            Change(
                Action.CREATE,
                ops.KmsKey(home, policy),
                resource,
                "create a KMS key for CloudTrail log files",
                operations=("kms:CreateKey", "kms:CreateAlias"),
                fields=(
                    FieldChange("alias", None, KEY_ALIAS),
                    FieldChange("arn", None, KNOWN_AFTER_APPLY),
                    FieldChange("cloudtrail decrypt", None, BUCKET_KEY_NOTE),
                ),
            ),
            rotation_change(home, resource, new_key=True),
        ]
    changes = []
    missing = _missing_sids(key.policy, policy["Statement"])
    if missing:
        fields = [FieldChange("statements", "without " + ", ".join(missing), "with CloudTrail's")]
        if docs.DECRYPT_SID in missing:
            fields.append(FieldChange("cloudtrail decrypt", None, BUCKET_KEY_NOTE))
        changes.append(
            Change(
                Action.UPDATE,
                ops.KmsKeyPolicy(home, tuple(policy["Statement"])),
                f"policy of {resource}",
                "let CloudTrail use the key",
                operations=("kms:PutKeyPolicy",),
                fields=tuple(fields),
            )
        )
    if not key.rotation:
        changes.append(rotation_change(home, resource))
    return changes


def _missing_sids(policy: Mapping[str, Any] | None, ours: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(s["Sid"]) for s in ours if not docs.contains(policy, [s])]


def rotation_change(home: str, resource: str, new_key: bool = False) -> Change:
    return Change(
        Action.CREATE if new_key else Action.UPDATE,
        ops.KmsRotation(home),
        f"rotation of {resource}",
        "rotate the key every year",
        operations=("kms:EnableKeyRotation",),
        fields=(FieldChange("rotation", None if new_key else False, True),),
    )


def plan_bucket(
    bucket: Bucket, state: CloudTrailState, source_arn: str, kms: bool, home: str, retention: int
) -> list[Change]:
    res = f's3 bucket "{bucket.name}"'
    name, region = bucket.name, bucket.region
    changes: list[Change] = []

    def add(op: Operation, what: str, summary: str, operation: str, field: FieldChange, *more: FieldChange) -> None:
        action = Action.CREATE if bucket.owner == "missing" or field.old is None else Action.UPDATE
        changes.append(Change(action, op, f"{what} of {res}", summary, operations=(operation,), fields=(field, *more)))

    if bucket.owner == "missing":
        changes.append(
            Change(
                Action.CREATE,
                resources.CreateBucket(name, region),
                res,
                f"create bucket {bucket.name} for the log files",
                operations=("s3:CreateBucket",),
                fields=(FieldChange("name", None, bucket.name), FieldChange("region", None, bucket.region)),
            )
        )
    pab = bucket.public_access_block or {}
    if not all(pab.get(k) for k in docs.PUBLIC_ACCESS_BLOCK):
        off = [k for k in docs.PUBLIC_ACCESS_BLOCK if not pab.get(k)]
        add(
            resources.BucketPublicAccessBlock(name, region),
            "public access block",
            "block every kind of public access",
            "s3:PutPublicAccessBlock",
            FieldChange(
                "blocked", "all but " + ", ".join(off) if bucket.public_access_block else None, "all four"
            ),
        )
    if bucket.object_ownership != "BucketOwnerEnforced":
        add(
            resources.BucketOwnership(name, region),
            "object ownership",
            "bucket owner owns every object (ACLs off)",
            "s3:PutBucketOwnershipControls",
            FieldChange("ownership", bucket.object_ownership, "BucketOwnerEnforced"),
        )
    algorithm = (bucket.encryption or {}).get("SSEAlgorithm")
    key_id = (bucket.encryption or {}).get("KMSMasterKeyID")
    wanted_key = state.key.arn if state.key is not None and state.key.arn else KNOWN_AFTER_APPLY
    if kms and not (algorithm == "aws:kms" and key_id == wanted_key):
        add(
            resources.BucketEncryption(name, region, kms_alias=KEY_ALIAS, key_region=home),
            "default encryption",
            f"encrypt new objects with {KEY_ALIAS}",
            "s3:PutBucketEncryption",
            FieldChange("encryption", algorithm, f"aws:kms ({KEY_ALIAS})"),
            FieldChange("bucket key", None, "on: fewer KMS requests; the key policy lets CloudTrail decrypt"),
        )
    elif not kms and algorithm is None:  # any existing encryption is as strong or stronger: kept
        add(
            resources.BucketEncryption(name, region),
            "default encryption",
            "encrypt new objects (SSE-S3)",
            "s3:PutBucketEncryption",
            FieldChange("encryption", None, "AES256"),
        )
    if bucket.versioning != "Enabled":
        add(
            resources.BucketVersioning(name, region),
            "versioning",
            "keep every version of each log file",
            "s3:PutBucketVersioning",
            FieldChange("versioning", bucket.versioning, "Enabled"),
        )
    ours = docs.bucket_statements(state.partition, bucket.name, state.account, source_arn)
    if not docs.contains(bucket.policy, ours):
        add(
            resources.BucketPolicy(name, region, tuple(ours)),
            "policy",
            "let only this trail write, and refuse plain HTTP",
            "s3:PutBucketPolicy",
            FieldChange(
                "statements",
                None if bucket.policy is None else "without this trail's",
                ", ".join(s["Sid"] for s in ours),
            ),
        )
    if retention > 0:
        rule = docs.retention_rule(retention)
        current = next((r for r in bucket.lifecycle_rules if r.get("ID") == docs.RETENTION_RULE_ID), None)
        if current is None or not docs.same(current, rule):
            old = (current or {}).get("Expiration", {}).get("Days")
            add(
                ops.BucketLifecycle(name, region, retention),
                "lifecycle",
                f"delete log files after {retention} days",
                "s3:PutBucketLifecycleConfiguration",
                FieldChange("retention_days", old, retention),
            )
    return changes


def plan_logs_delivery(logs: Logs, state: CloudTrailState) -> list[Change]:
    changes: list[Change] = []
    if not logs.group_exists:
        changes.append(
            Change(
                Action.CREATE,
                ops.LogGroup(logs.region, logs.group),
                f'log group "{logs.group}" ({logs.region})',
                "create a CloudWatch Logs group for the trail",
                operations=("logs:CreateLogGroup",),
            )
        )
    policy = docs.logs_role_policy(
        docs.log_group_arn(state.partition, logs.region, state.account, logs.group)
    )
    role = Role(docs.LOGS_ROLE, logs.role_arn, logs.trust_policy, logs.role_policy)
    changes += plan_role(
        role, ops.LogsRole, ops.LogsRolePolicy, "a role CloudTrail assumes to write to CloudWatch Logs",
        docs.logs_trust_policy(), policy, docs.LOGS_ROLE_POLICY, "allow writing to that log group only",
        docs.CLOUDTRAIL,
    )
    return changes


def plan_trail(
    mode: Mode, trail: Trail | None, state: CloudTrailState, home: str, kms: bool, logs_arn: str | None
) -> list[Change]:
    if mode is Mode.ADOPTED:
        return []
    if trail is None:
        bucket = state.bucket.name if state.bucket is not None else ""
        res = f'cloudtrail trail "{state.trail_name}" ({home})'
        fields = [
            FieldChange("bucket", None, bucket),
            *(FieldChange(label, None, True) for _, _, label in TRAIL_FIELDS),
            # "By default, trails created without specific event selectors will be configured to log all read
            # and write management events" (botocore's CloudTrail model, EventSelector): nothing to send.
            FieldChange("management events", None, "read and write (a new trail's default)"),
        ]
        if kms:
            fields.append(FieldChange("kms key", None, KEY_ALIAS))
        if logs_arn:
            fields.append(FieldChange("cloudwatch logs", None, docs.LOG_GROUP))
        arn = docs.trail_arn(state.partition, home, state.account, state.trail_name)
        return [
            Change(
                Action.CREATE,
                ops.Trail(home, kms, logs_arn, state.trail_name, bucket),
                res,
                "create a multi-region trail with log file validation",
                operations=("cloudtrail:CreateTrail",),
                fields=tuple(fields),
            ),
            Change(
                Action.CREATE,
                ops.StartLogging(home, arn),
                f"logging of {res}",
                "start logging, from the home region",
                operations=("cloudtrail:StartLogging",),
                fields=(FieldChange("logging", None, True),),
            ),
        ]
    res = f'cloudtrail trail "{trail.name}" ({home})'
    changes: list[Change] = []
    fields = [
        FieldChange(label, getattr(trail, attr), True)
        for _, attr, label in TRAIL_FIELDS
        if not getattr(trail, attr)
    ]
    wanted_key = state.key.arn if state.key is not None and state.key.arn else None
    if kms and (wanted_key is None or trail.kms_key != wanted_key):
        fields.append(FieldChange("kms key", trail.kms_key, KEY_ALIAS))
    if logs_arn and trail.log_group_arn != logs_arn:
        fields.append(FieldChange("cloudwatch logs", trail.log_group_arn, docs.LOG_GROUP))
    if fields:
        changes.append(
            Change(
                Action.UPDATE,
                ops.TrailSettings(home, kms, logs_arn if logs_arn and trail.log_group_arn != logs_arn else None,
                                  trail.arn),
                res,
                f"update trail {trail.name} in place",
                operations=("cloudtrail:UpdateTrail",),
                fields=tuple(fields),
            )
        )
    if not trail.logging:
        changes.append(
            Change(
                Action.UPDATE,
                ops.StartLogging(home, trail.arn),
                f"logging of {res}",
                "start logging, from the home region",
                operations=("cloudtrail:StartLogging",),
                fields=(FieldChange("logging", False, True),),
            )
        )
    if not trail.management_all:
        change = selectors_change(res, home, trail)
        if change is not None:
            changes.append(change)
    return changes


def fixed_basic(selectors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]] | None:
    """The basic selectors, changed as little as possible to record all management events, read and write.

    An existing management selector is changed in place rather than a second one added (a trail takes at most
    five); a selector with data resources keeps its read/write setting (that would change which data events it
    records). None when five selectors leave no room."""
    out = [dict(s) for s in selectors]
    if any(basic_records_all(s) for s in out):
        return out
    for s in out:
        if s.get("IncludeManagementEvents", True) and not s.get("DataResources"):
            s["ReadWriteType"] = "All"
            return out
    for s in out:
        if not s.get("IncludeManagementEvents", True) and not s.get("DataResources"):
            s.update(IncludeManagementEvents=True, ReadWriteType="All")
            return out
    if len(out) < MAX_BASIC_SELECTORS:
        return [*out, {"ReadWriteType": "All", "IncludeManagementEvents": True}]
    return None


MAX_BASIC_SELECTORS = 5  # "You can configure up to five event selectors for a trail" (botocore, EventSelector)
MANAGEMENT_SELECTOR = {
    "Name": f"Management events, read and write ({docs.PREFIX})",
    "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
}


def fixed_advanced(selectors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The advanced selectors recording all management events: a read-only or write-only management selector
    loses its readOnly condition (in place); without one that can, a management selector is added."""
    out = [dict(s) for s in selectors]
    if any(advanced_records_all(s) for s in out):
        return out
    for i, s in enumerate(out):
        if is_management_selector(s):
            widened = {**s, "FieldSelectors": [f for f in s["FieldSelectors"] if f.get("Field") != "readOnly"]}
            if advanced_records_all(widened):
                out[i] = widened
                return out
    return [*out, dict(MANAGEMENT_SELECTOR)]


def selectors_change(res: str, home: str, trail: Trail) -> Change | None:
    """Management events, read and write, on an existing trail: its own kind of selectors, fixed in place."""
    operation: ops.EventSelectors
    if trail.advanced_selectors:
        operation = ops.EventSelectors(home, trail.arn, "AdvancedEventSelectors", tuple(fixed_advanced(trail.advanced)))
    else:
        fixed = fixed_basic(trail.selectors)
        if fixed is None:
            return None
        operation = ops.EventSelectors(home, trail.arn, "EventSelectors", tuple(fixed))
    return Change(
        Action.UPDATE,
        operation,
        f"event selectors of {res}",
        "record all management events, read and write",
        operations=("cloudtrail:PutEventSelectors",),
        fields=(FieldChange("management events", "partial" if trail.selectors or trail.advanced else None,
                            "read and write"),),
    )


def plan_alerts(state: CloudTrailState, home: str, email: str) -> list[Change]:
    changes: list[Change] = []
    topics = {t.region: t for t in state.topics}
    for region in alert_regions(home):
        topic = topics.get(region)
        if topic is None:
            continue
        res = f'sns topic "{topic.arn.rsplit(":", 1)[-1]}" ({region})'
        if not topic.exists:
            changes.append(
                Change(
                    Action.CREATE,
                    ops.Topic(region),
                    res,
                    "a topic for security alerts",
                    operations=("sns:CreateTopic",),
                )
            )
        ours = docs.topic_statements(state.partition, region, state.account, topic.arn)
        if not topic.exists or not docs.contains(topic.policy, ours):
            changes.append(
                Change(
                    Action.CREATE if not topic.exists else Action.UPDATE,
                    ops.TopicPolicy(region, topic.arn, tuple(ours)),
                    f"policy of {res}",
                    "let EventBridge rules and CloudWatch alarms publish",
                    operations=("sns:SetTopicAttributes",),
                    fields=(FieldChange("statements", None, ", ".join(s["Sid"] for s in ours)),),
                )
            )
        if email.lower() not in topic.subscriptions:
            changes.append(
                Change(
                    Action.CREATE,
                    ops.Subscription(region, topic.arn, email),
                    f'email subscription "{email}" to {res}',
                    f"send alerts to {email} (AWS asks you to confirm by email)",
                    operations=("sns:Subscribe",),
                )
            )
    rules = {(r.name, r.region): r for r in state.rules}
    for spec in docs.RULES:
        for region in rule_regions(spec, home):
            rule = rules.get((spec.name, region))
            if rule is None:
                continue
            res = f'eventbridge rule "{spec.name}" ({region})'
            arn = topic_arn(state.partition, region, state.account)
            if needs_put_rule(rule, spec):
                fields = () if spec.state_ok(rule.state) or rule.pattern is None else (
                    FieldChange("state", rule.state, spec.state),)
                changes.append(
                    Change(
                        Action.CREATE if rule.pattern is None else Action.UPDATE,
                        ops.Rule(region, spec.name, spec.pattern, spec.description, spec.state),
                        res,
                        f"alert: {spec.description.lower()}",
                        operations=("events:PutRule",),
                        fields=fields,
                    )
                )
            if arn not in rule.targets:
                changes.append(
                    Change(
                        Action.CREATE,
                        ops.RuleTarget(region, spec.name, arn),
                        f"target of {res}",
                        "send it to the alerts topic",
                        operations=("events:PutTargets",),
                    )
                )
    return changes + plan_forwarding(state, rules)


def needs_put_rule(rule: Rule, spec: docs.RuleSpec) -> bool:
    return rule.pattern is None or not docs.same(rule.pattern, spec.pattern) or not spec.state_ok(rule.state)


def plan_role(role: Role, kind: type[ops.ServiceRole], policy_kind: type[ops.RolePolicy], summary: str,
              trust: Mapping[str, Any], policy: Mapping[str, Any], policy_name: str, policy_summary: str,
              trusted: str) -> list[Change]:
    """A role the step makes, trusted by one service, with one inline policy: what is missing of it."""
    changes: list[Change] = []
    res = f'iam role "{role.name}"'
    if role.arn is None or not docs.same(role.trust_policy, trust):
        update = role.arn is not None
        changes.append(
            Change(
                Action.UPDATE if update else Action.CREATE,
                kind(role.name, trust, update),
                res,
                summary,
                operations=("iam:UpdateAssumeRolePolicy" if update else "iam:CreateRole",),
                fields=(FieldChange("trusted", None, trusted),),
            )
        )
    if not docs.same(role.policy, policy):
        changes.append(
            Change(
                Action.CREATE if role.policy is None else Action.UPDATE,
                policy_kind(role.name, policy_name, policy),
                f'policy "{policy_name}" of {res}',
                policy_summary,
                operations=("iam:PutRolePolicy",),
            )
        )
    return changes


def plan_forwarding(state: CloudTrailState, rules: Mapping[tuple[str, str], Rule]) -> list[Change]:
    """Root console sign-ins through other regions' console endpoints, forwarded to us-east-1's default bus
    (only when no CIS metric filter on a multi-region trail's log group sees them already)."""
    role = state.forward_role
    if role is None:
        return []
    spec = docs.FORWARD_RULE
    bus = docs.default_bus_arn(state.partition, GLOBAL_REGION, state.account)
    changes = plan_role(
        role, ops.ForwardRole, ops.ForwardRolePolicy, "a role EventBridge assumes to forward events to us-east-1",
        docs.forward_trust_policy(), docs.forward_role_policy(bus), docs.FORWARD_ROLE_POLICY,
        "allow events:PutEvents on us-east-1's default event bus only", "events.amazonaws.com",
    )
    work: list[ops.ForwardWork] = []
    for region in rule_regions(spec, GLOBAL_REGION, state.regions):
        rule = rules.get((spec.name, region)) or Rule(spec.name, region, None, None)
        put_rule = needs_put_rule(rule, spec)
        put_target = bus not in rule.targets or (role.arn is not None and rule.target_roles.get(bus) != role.arn)
        if put_rule or put_target:
            work.append(ops.ForwardWork(region, put_rule, put_target, new=rule.pattern is None))
    if work:
        regions = [w.region for w in work]
        new = all(w.new for w in work)
        changes.append(
            Change(
                Action.CREATE if new else Action.UPDATE,
                ops.ForwardRules(tuple(work), bus, spec.name, spec.pattern, spec.description, spec.state, role.name),
                f'eventbridge rule "{spec.name}" in {len(regions)} region{"s" if len(regions) != 1 else ""}',
                f"forward root console sign-ins from {', '.join(regions)} to us-east-1's default event bus, "
                f"where {docs.RULES[0].name} emails them",
                operations=("events:PutRule", "events:PutTargets"),
                fields=(FieldChange("regions", None if new else "not all", ", ".join(regions)),),
            )
        )
    return changes


def sign_in_coverage(state: CloudTrailState, home: str) -> Finding:
    """Which mechanism covers root console sign-ins in which region (the plan says it as well as the result)."""
    first = f"root console sign-in alerts: rule {docs.RULES[0].name} in us-east-1 (the global sign-in endpoint)"
    if state.logs is not None:
        text = (f"{first}; every other region's console endpoint through the CIS metric filter "
                f"{docs.ROOT_USAGE} on the multi-region trail's log group {state.logs.group} ({state.logs.region})")
        observed: dict[str, Any] = {"us-east-1": "rule", "other regions": f"metric filter {docs.ROOT_USAGE}"}
    else:
        others = rule_regions(docs.FORWARD_RULE, home, state.regions)
        text = (f"{first}; rule {docs.FORWARD_RULE.name} forwards them from the {len(others)} other enabled "
                f"regions: {', '.join(others) or 'none'}")
        observed = {"us-east-1": "rule", "forwarded from": list(others)}
    return Finding(text, observed=observed)


def plan_metric_filters(logs: Logs, state: CloudTrailState, notify: bool) -> list[Change]:
    changes: list[Change] = []
    actions = [topic_arn(state.partition, logs.region, state.account)] if notify else []
    for spec in docs.METRIC_FILTERS:
        transformations = [
            {"metricName": spec.name, "metricNamespace": docs.METRIC_NAMESPACE, "metricValue": "1"}
        ]
        current = logs.filters.get(spec.name)
        now = (
            None
            if current is None
            else {
                "pattern": current.get("filterPattern"),
                "transformations": [
                    {k: t.get(k) for k in ("metricName", "metricNamespace", "metricValue")}
                    for t in current.get("metricTransformations", [])
                ],
            }
        )
        if now is None or not docs.same(now, {"pattern": spec.pattern, "transformations": transformations}):
            changes.append(
                Change(
                    Action.CREATE if current is None else Action.UPDATE,
                    ops.MetricFilter(logs.region, logs.group, spec.name, spec.pattern, tuple(transformations)),
                    f'metric filter "{spec.name}" on "{logs.group}" ({logs.region})',
                    f"count events where {spec.description}",
                    operations=("logs:PutMetricFilter",),
                )
            )
        settings = docs.alarm_settings(spec.name, actions)
        alarm = logs.alarms.get(settings["AlarmName"])
        if alarm is None or not docs.same({k: alarm.get(k) for k in settings}, settings):
            changes.append(
                Change(
                    Action.CREATE if alarm is None else Action.UPDATE,
                    ops.Alarm(logs.region, settings, f"aws-harden (CIS {spec.cis}): {spec.description}"),
                    f'cloudwatch alarm "{settings["AlarmName"]}" ({logs.region})',
                    f"alarm when {spec.description}",
                    operations=("cloudwatch:PutMetricAlarm",),
                )
            )
    return changes
