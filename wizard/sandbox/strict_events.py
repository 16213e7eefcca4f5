"""EventBridge as strict as AWS on what the wizard relies on: rule states and where a target may live.

moto's PutRule stores any State and its PutTargets any ARN. AWS refuses, with ValidationException:
- a State outside botocore's RuleState enum (ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS),
  and ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS on a partner event bus: "This value is only valid for
  rules on the default event bus or custom event buses. It does not apply to partner event buses"
  (botocore's EventBridge model, PutRule State);
- a target in another Region that is not an event bus: "Both the EventBridge rule and the source event that
  it monitors must exist in the same AWS Region ... Use cross-Region and cross-account event buses as targets
  to ... invoke targets in a different Region" (AWS re:Post knowledge center, use-eventbridge-rule-across-regions;
  EventBridge User Guide, "Sending and receiving events between AWS Regions",
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html), and an event bus in another
  Region named without the IAM role EventBridge sends the events with (the same guide's "Execution role" step).
"""

from __future__ import annotations

from typing import Any

RULE_STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
_installed = False


def target_problem(rule_region: str, target: dict[str, Any]) -> str | None:
    """Why EventBridge would refuse this target for a rule in `rule_region`, or None."""
    parts = str(target.get("Arn", "")).split(":")
    if len(parts) < 6 or not parts[3] or parts[3] == rule_region:
        return None
    if parts[2] != "events" or not parts[5].startswith("event-bus/"):
        return f"a target in {parts[3]} for a rule in {rule_region}: only an event bus may be in another Region"
    if not target.get("RoleArn"):
        return f"the event bus {target['Arn']} is in another Region: the target needs a RoleArn"
    return None


def state_problem(state: str | None, event_bus: str | None) -> str | None:
    if state is None:
        return None
    if state not in RULE_STATES:
        return f"State {state!r} is not one of {', '.join(RULE_STATES)}"
    bus = str(event_bus or "default").split(":event-bus/")[-1]  # a name or an ARN
    if state == RULE_STATES[2] and bus.startswith("aws.partner/"):
        return f"State {state} does not apply to partner event buses"
    return None


def install() -> None:
    """Patch moto's EventBridge backend in this process. Idempotent."""
    global _installed
    if _installed:
        return
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventsBackend

    put_rule, put_targets = EventsBackend.put_rule, EventsBackend.put_targets

    def strict_put_rule(self: EventsBackend, name: str, *args: Any, **kwargs: Any) -> Any:
        problem = state_problem(kwargs.get("state"), kwargs.get("event_bus_arn"))
        if problem:
            raise ValidationException(problem)
        return put_rule(self, name, *args, **kwargs)

    def strict_put_targets(self: EventsBackend, name: str, event_bus_arn: str | None,
                           targets: list[dict[str, Any]]) -> Any:
        for target in targets:
            problem = target_problem(self.region_name, target)
            if problem:
                raise ValidationException(problem)
        return put_targets(self, name, event_bus_arn, targets)

    EventsBackend.put_rule = strict_put_rule  # type: ignore[method-assign]
    EventsBackend.put_targets = strict_put_targets  # type: ignore[method-assign]
    _installed = True
