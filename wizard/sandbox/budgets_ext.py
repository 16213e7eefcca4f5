"""Four AWS Budgets calls moto 5.2 lacks, added as a small patch on its budgets backend.

moto models budgets with their notifications and subscribers, but has no UpdateBudget,
UpdateNotification, DescribeSubscribersForNotification or CreateSubscriber, which the budget-alarm
step needs to show and make an update in place. Each patched call follows the AWS API reference
(errors NotFoundException / DuplicateRecordException). Written for moto 5.2 (pinned in
pyproject.toml); tests/test_budget_alarm.py exercises each call through boto3.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_installed = False


def notice_key(details: Mapping[str, Any]) -> tuple[str, str, float, str]:
    """What identifies a notification: its state (OK/ALARM) is not part of it."""
    return (
        str(details["NotificationType"]),
        str(details["ComparisonOperator"]),
        float(details["Threshold"]),
        str(details.get("ThresholdType") or "PERCENTAGE"),
    )


def install() -> None:
    """Patch moto in this process. Idempotent."""
    global _installed
    if _installed:
        return
    from moto.budgets.exceptions import BudgetMissingLimit, DuplicateRecordException, NotFoundException
    from moto.budgets.models import Budget, BudgetsBackend, Notification
    from moto.budgets.responses import BudgetsResponse
    from moto.core.utils import unix_time

    def budget_of(backend: BudgetsBackend, account_id: str, name: str) -> Budget:
        if name not in backend.budgets[account_id]:
            raise NotFoundException(f"Unable to find budget: {name} - the budget doesn't exist.")
        return backend.budgets[account_id][name]

    def notification_of(budget: Budget, details: Mapping[str, Any]) -> Notification:
        for notification in budget.notifications:
            if notice_key(notification.details) == notice_key(details):
                return notification
        raise NotFoundException("Unable to find notification - the notification doesn't exist.")

    def update_budget(self: BudgetsBackend, account_id: str, new_budget: dict[str, Any]) -> None:
        current = budget_of(self, account_id, new_budget["BudgetName"])
        if "BudgetLimit" not in new_budget and "PlannedBudgetLimits" not in new_budget:
            raise BudgetMissingLimit()
        replaced = {k: v for k, v in new_budget.items() if k != "CalculatedSpend"}
        replaced.setdefault("TimePeriod", current.budget.get("TimePeriod"))
        replaced["LastUpdatedTime"] = unix_time()
        current.budget = replaced

    def update_notification(
        self: BudgetsBackend, account_id: str, name: str, old: dict[str, Any], new: dict[str, Any]
    ) -> None:
        budget = budget_of(self, account_id, name)
        notification = notification_of(budget, old)
        if notice_key(old) != notice_key(new) and any(
            notice_key(n.details) == notice_key(new) for n in budget.notifications
        ):
            raise DuplicateRecordException(record_type="notification", record_name=name)
        notification.details = new

    def subscribers_of(self: BudgetsBackend, account_id: str, name: str, details: dict[str, Any]) -> Any:
        return notification_of(budget_of(self, account_id, name), details).subscribers

    def create_subscriber(
        self: BudgetsBackend, account_id: str, name: str, details: dict[str, Any], subscriber: dict[str, Any]
    ) -> None:
        existing: Any = notification_of(budget_of(self, account_id, name), details).subscribers  # a list
        if any(s["Address"] == subscriber["Address"] for s in existing):
            raise DuplicateRecordException(record_type="subscriber", record_name=subscriber["Address"])
        existing.append(subscriber)

    def r_update_budget(self: BudgetsResponse) -> str:
        self.backend.update_budget(self._get_param("AccountId"), self._get_param("NewBudget"))  # type: ignore[attr-defined]
        return json.dumps({})

    def r_update_notification(self: BudgetsResponse) -> str:
        self.backend.update_notification(  # type: ignore[attr-defined]
            self._get_param("AccountId"), self._get_param("BudgetName"),
            self._get_param("OldNotification"), self._get_param("NewNotification"),
        )
        return json.dumps({})

    def r_describe_subscribers(self: BudgetsResponse) -> str:
        subscribers = self.backend.subscribers_of(  # type: ignore[attr-defined]
            self._get_param("AccountId"), self._get_param("BudgetName"), self._get_param("Notification")
        )
        return json.dumps({"Subscribers": subscribers})

    def r_create_subscriber(self: BudgetsResponse) -> str:
        self.backend.create_subscriber(  # type: ignore[attr-defined]
            self._get_param("AccountId"), self._get_param("BudgetName"),
            self._get_param("Notification"), self._get_param("Subscriber"),
        )
        return json.dumps({})

    BudgetsBackend.update_budget = update_budget  # type: ignore[attr-defined]
    BudgetsBackend.update_notification = update_notification  # type: ignore[attr-defined]
    BudgetsBackend.subscribers_of = subscribers_of  # type: ignore[attr-defined]
    BudgetsBackend.create_subscriber = create_subscriber  # type: ignore[attr-defined]
    BudgetsResponse.update_budget = r_update_budget  # type: ignore[attr-defined]
    BudgetsResponse.update_notification = r_update_notification  # type: ignore[attr-defined]
    BudgetsResponse.describe_subscribers_for_notification = r_describe_subscribers  # type: ignore[attr-defined]
    BudgetsResponse.create_subscriber = r_create_subscriber  # type: ignore[attr-defined]
    _installed = True
