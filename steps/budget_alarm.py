"""A monthly cost budget that emails the operator before a surprise bill: 80% and 100% of actual
spend, 100% of forecasted spend.

An existing budget of the same name is updated in place (shown as `~`, old -> new), never deleted and
re-created; notifications and subscribers of its own that the wizard does not need are left alone, and
so are all other budgets. Budgets live in us-east-1 whatever --region says.
"""

from __future__ import annotations

import math
import re
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from steps import account_plan
from wizard.aws import BILLING_REGION, Aws
from wizard.errors import WizardError
from wizard.facts import AccountPlan
from wizard.protocol import (
    EMAIL_RE,
    Action,
    AnswerValue,
    ApplyContext,
    Change,
    FieldChange,
    Finding,
    Operation,
    Question,
    Step,
    StepContext,
)
from wizard.reads import absent_is_none
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff

CURRENCY = "USD"
TIME_UNIT = "MONTHLY"
BUDGET_TYPE = "COST"
MAX_AMOUNT = Decimal("1000000000")
MAX_EMAILS = 10  # AWS Budgets: at most 10 email subscribers per notification
# botocore's Budgets model, shape BudgetName: 1 to 100 characters, pattern
# ^(?![^:\\]*/action/|(?i).*<script>.*</script>.*)[^:\\]+$ ("The : and \ characters, and the "/action/"
# substring, aren't allowed in BudgetName"); narrowed to printable ASCII (a control character or a
# look-alike letter would mislead whoever reads the name).
BUDGET_NAME_RE = re.compile(r"(?![^:\\]*/action/|(?i:.*<script>.*</script>.*))[ -9;-\[\]-~]{1,100}", re.ASCII)
ASKED_AT_APPLY = "(asked at apply)"
# Fields DescribeBudget returns that UpdateBudget must not be sent back.
READ_ONLY_BUDGET_FIELDS = ("CalculatedSpend", "LastUpdatedTime", "HealthStatus")
# UpdateBudget takes "only one set of filter and metric selections ... Either FilterExpression and Metrics or
# CostFilters and CostTypes, not both or a different combination" (botocore's Budgets model, UpdateBudget).
FILTER_SETS = (("FilterExpression", "Metrics"), ("CostFilters", "CostTypes"))


def filter_set_in_use(budget: Mapping[str, Any]) -> tuple[str, str]:
    """Which of the two sets a budget read back uses: the one holding its filter; without a filter, the one
    holding its cost settings (CostTypes say more than Metrics when both are there)."""
    new, old = FILTER_SETS
    if budget.get("FilterExpression"):
        return new
    if budget.get("CostFilters") or budget.get("CostTypes"):
        return old
    return new if budget.get("Metrics") else old


@dataclass(frozen=True, order=True)
class Notice:
    """One budget notification, compared by what it alarms on (its OK/ALARM state is not part of it)."""

    type: str
    comparison: str
    threshold: float
    threshold_type: str = "PERCENTAGE"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Notice:
        return cls(
            str(data["NotificationType"]),
            str(data["ComparisonOperator"]),
            float(data["Threshold"]),
            str(data.get("ThresholdType") or "PERCENTAGE"),
        )

    def as_api(self) -> dict[str, Any]:
        return {
            "NotificationType": self.type,
            "ComparisonOperator": self.comparison,
            "Threshold": self.threshold,
            "ThresholdType": self.threshold_type,
        }

    @property
    def label(self) -> str:
        op = {"GREATER_THAN": ">", "LESS_THAN": "<", "EQUAL_TO": "="}.get(self.comparison, self.comparison)
        unit = "%" if self.threshold_type == "PERCENTAGE" else f" {CURRENCY}"
        return f"{self.type.lower()} {op} {self.threshold:g}{unit}"


WANTED = (
    Notice("ACTUAL", "GREATER_THAN", 80.0),
    Notice("ACTUAL", "GREATER_THAN", 100.0),
    Notice("FORECASTED", "GREATER_THAN", 100.0),
)


@dataclass(frozen=True)
class BudgetState:
    name: str
    account: str
    exists: bool
    amount: str | None = None
    unit: str | None = None
    time_unit: str | None = None
    budget_type: str | None = None
    limit_kind: str = "fixed"  # fixed, planned (per-period limits) or auto-adjusting
    filtered: bool = False
    notices: tuple[Notice, ...] = ()
    # Email subscribers of each of this budget's notifications, lower-cased.
    subscribers: Mapping[Notice, tuple[str, ...]] = field(default_factory=dict)
    other_budgets: tuple[str, ...] = ()
    plan: AccountPlan | None = None  # the account plan, where the API answers (account_plan.py)


# --- operations ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BudgetOperation(Operation):
    """What every change to the budget names: whose budget, and the alarms' email addresses."""

    account: str
    name: str
    emails: tuple[str, ...]
    # Sends an email address; a new budget needs one too, so none is created without alarms.
    needs_emails: ClassVar[bool] = False

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        if not self.emails and self.needs_emails:
            raise WizardError(
                "no email address for the alarms; answer the question, or set "
                'emails = "you@example.com" under [budget-alarm] in the answers file'
            )
        self.send(aws.client("budgets", BILLING_REGION))

    @abstractmethod
    def send(self, budgets: Any) -> None:
        """The Budgets call(s), once the inputs are known to be there."""

    @property
    def subscribers(self) -> list[dict[str, str]]:
        return [{"SubscriptionType": "EMAIL", "Address": e} for e in self.emails]


def _amount(amount: str | None) -> str:
    if amount is None:
        raise WizardError(
            "budget-alarm: no budget amount; answer the question, or set amount = 10 under "
            "[budget-alarm] in the answers file"
        )
    return amount


@dataclass(frozen=True)
class CreateBudget(BudgetOperation):
    amount: str | None  # None: not answered yet (plan, check), asked before apply
    needs_emails: ClassVar[bool] = True

    def send(self, budgets: Any) -> None:
        budget = {
            "BudgetName": self.name,
            "BudgetLimit": {"Amount": _amount(self.amount), "Unit": CURRENCY},
            "TimeUnit": TIME_UNIT,
            "BudgetType": BUDGET_TYPE,
        }
        _tolerate_duplicate(lambda: budgets.create_budget(AccountId=self.account, Budget=budget))


@dataclass(frozen=True)
class UpdateBudget(BudgetOperation):
    amount: str | None

    def send(self, budgets: Any) -> None:
        amount = _amount(self.amount)
        # Re-read right before writing: UpdateBudget replaces the whole budget, and everything but
        # the limit, period and type (filters, cost types, period dates) must stay as it is.
        current = dict(budgets.describe_budget(AccountId=self.account, BudgetName=self.name)["Budget"])
        for key in (*READ_ONLY_BUDGET_FIELDS, "PlannedBudgetLimits", "AutoAdjustData"):
            current.pop(key, None)
        kept = filter_set_in_use(current)
        for key in (k for pair in FILTER_SETS if pair != kept for k in pair):
            current.pop(key, None)
        current.update(
            BudgetLimit={"Amount": amount, "Unit": CURRENCY},
            TimeUnit=TIME_UNIT,
            BudgetType=BUDGET_TYPE,
        )
        budgets.update_budget(AccountId=self.account, NewBudget=current)


@dataclass(frozen=True)
class CreateNotification(BudgetOperation):
    notice: Notice
    needs_emails: ClassVar[bool] = True

    def send(self, budgets: Any) -> None:
        _tolerate_duplicate(
            lambda: with_backoff(
                lambda: budgets.create_notification(
                    AccountId=self.account, BudgetName=self.name, Notification=self.notice.as_api(),
                    Subscribers=self.subscribers,
                ),
                retry_codes=TRANSIENT_CODES | {"NotFoundException"},  # a just-created budget
            )
        )


@dataclass(frozen=True)
class UpdateNotification(BudgetOperation):
    old: Notice
    new: Notice

    def send(self, budgets: Any) -> None:
        budgets.update_notification(
            AccountId=self.account, BudgetName=self.name,
            OldNotification=self.old.as_api(), NewNotification=self.new.as_api(),
        )


@dataclass(frozen=True)
class AddSubscriber(BudgetOperation):
    notice: Notice
    email: str
    needs_emails: ClassVar[bool] = True

    def send(self, budgets: Any) -> None:
        subscriber = {"SubscriptionType": "EMAIL", "Address": self.email}
        _tolerate_duplicate(
            lambda: budgets.create_subscriber(
                AccountId=self.account, BudgetName=self.name, Notification=self.notice.as_api(),
                Subscriber=subscriber,
            )
        )


def _tolerate_duplicate(call: Callable[[], object]) -> None:
    try:
        call()
    except Exception as exc:
        if error_code(exc) != "DuplicateRecordException":
            raise


# --- answers ------------------------------------------------------------------------------
def amount_problem(value: AnswerValue) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return "enter an amount in USD, like 25 or 12.50"
    if isinstance(value, float) and not math.isfinite(value):
        return "the amount must be a finite number"
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return "enter an amount in USD, like 25 or 12.50"
    if amount <= 0:
        return "the amount must be more than 0 USD"
    if amount > MAX_AMOUNT:
        return f"the amount must be at most {MAX_AMOUNT} USD"
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return "at most 2 decimal places (cents)"
    return None


def parse_emails(value: str) -> list[str]:
    return [e.strip() for e in re.split(r"[,;\s]+", value) if e.strip()]


def emails_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or not parse_emails(value):
        return "at least one email address is required (several: separate them with commas)"
    emails = parse_emails(value)
    for email in emails:
        if len(email) > 254 or not EMAIL_RE.fullmatch(email):
            return f"'{email}' is not a valid email address"
    if len({e.lower() for e in emails}) != len(emails):
        return "an email address is listed twice"
    if len(emails) > MAX_EMAILS:
        return f"at most {MAX_EMAILS} email addresses (an AWS Budgets limit)"
    return None


def budget_name_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "a budget name is required"
    if not BUDGET_NAME_RE.fullmatch(value):
        return "at most 100 printable ASCII characters, without ':', '\\', '/action/' or a <script> tag"
    return None


def amount_text(value: object) -> str:
    """The amount as AWS shows it back: '25', '12.5'; plain decimal, never an exponent."""
    text = format(Decimal(str(value)).normalize(), "f")
    return text


# --- the step -----------------------------------------------------------------------------
class BudgetAlarm(Step[BudgetState]):
    id = "budget-alarm"
    title = "Monthly cost budget with email alarms"
    remediates = ()
    management_account_only = "a budget for the organization's spend belongs in its management account"
    checks = (
        "a monthly USD cost budget with email alarms at 80% and 100% of actual and 100% of forecasted spend"
    )
    writes = frozenset(
        {
            "budgets:CreateBudget",
            "budgets:UpdateBudget",
            "budgets:CreateNotification",
            "budgets:UpdateNotification",
            "budgets:CreateSubscriber",
        }
    )
    reads = frozenset({
        "budgets:DescribeBudget", "budgets:DescribeBudgets", "budgets:DescribeNotificationsForBudget",
        "budgets:DescribeSubscribersForNotification"
    })

    def questions(self) -> Sequence[Question]:
        return (
            Question("name", "Name of the monthly cost budget", default="aws-harden-monthly",
                     validate=budget_name_problem),
            Question("amount", "Monthly budget in USD", default=None, kind="float",
                     help="for example 10; alarms at 80% and 100% of actual and 100% of forecasted spend",
                     validate=amount_problem),
            Question("emails", "Email address(es) for the budget alarms", default=None,
                     help="comma-separated", validate=emails_problem),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> BudgetState:
        budgets = aws.client("budgets", BILLING_REGION)
        account = ctx.caller.account
        name = str(ctx.answer("name"))

        def other_budgets() -> tuple[str, ...]:
            pages = budgets.get_paginator("describe_budgets").paginate(AccountId=account)
            return tuple(b["BudgetName"] for page in pages for b in page.get("Budgets", []) if b["BudgetName"] != name)

        def notices() -> tuple[Notice, ...]:
            pages = budgets.get_paginator("describe_notifications_for_budget").paginate(
                AccountId=account, BudgetName=name
            )
            return tuple(Notice.from_api(n) for page in pages for n in page.get("Notifications", []))

        # Independent reads at once. Notifications are read only once the budget is known to exist
        # (moto fails on a missing one instead of answering NotFoundException).
        missing = ("NotFoundException",)
        others, found, plan = aws.parallel(
            other_budgets,
            lambda: absent_is_none(lambda: budgets.describe_budget(AccountId=account, BudgetName=name), missing),
            lambda: account_plan.read(aws),
        )
        if found is None:
            return BudgetState(name, account, exists=False, other_budgets=others, plan=plan)
        budget = found["Budget"]
        notices_read = notices()
        emails = aws.parallel(*(lambda n=n: self._emails(budgets, account, name, n) for n in notices_read))
        subscribers = dict(zip(notices_read, emails, strict=True))
        limit = budget.get("BudgetLimit") or {}
        kind = "planned" if budget.get("PlannedBudgetLimits") else "fixed"
        kind = "auto-adjusting" if budget.get("AutoAdjustData") else kind
        return BudgetState(
            name,
            account,
            exists=True,
            amount=limit.get("Amount"),
            unit=limit.get("Unit"),
            time_unit=budget.get("TimeUnit"),
            budget_type=budget.get("BudgetType"),
            limit_kind=kind,
            filtered=bool(budget.get("CostFilters") or budget.get("FilterExpression")),
            notices=notices_read,
            subscribers=subscribers,
            other_budgets=others,
            plan=plan,
        )

    @staticmethod
    def _emails(budgets: Any, account: str, name: str, notice: Notice) -> tuple[str, ...]:
        pages = budgets.get_paginator("describe_subscribers_for_notification").paginate(
            AccountId=account, BudgetName=name, Notification=notice.as_api()
        )
        return tuple(
            s["Address"].lower()
            for page in pages
            for s in page.get("Subscribers", [])
            if s.get("SubscriptionType") == "EMAIL"
        )

    def findings(self, state: BudgetState, ctx: StepContext) -> list[Finding]:
        found: list[Finding] = account_plan.findings(state.plan)
        if state.other_budgets:
            found.append(
                Finding(f"other budgets, left as they are: {', '.join(state.other_budgets)}",
                        observed={"other_budgets": list(state.other_budgets)})
            )
        if not state.exists:
            found.append(Finding(f"no budget named {state.name}", observed={"budget": None}))
            return found
        found.append(
            Finding(
                f"budget {state.name}: {state.amount} {state.unit} {str(state.time_unit).lower()} "
                f"{str(state.budget_type).lower()}; "
                f"alarms: {', '.join(n.label for n in state.notices) or 'none'}",
                observed={
                    "amount": state.amount,
                    "unit": state.unit,
                    "time_unit": state.time_unit,
                    "budget_type": state.budget_type,
                    "notifications": [n.as_api() for n in state.notices],
                },
            )
        )
        if state.filtered:
            found.append(
                Finding(
                    f"budget {state.name} has cost filters, so it watches only part of the spend; "
                    "the wizard keeps them. Review them in the Budgets console.",
                    severity="warning",
                    observed={"filtered": True},
                )
            )
        kept = [n.label for n in state.notices if n not in WANTED and n not in self._paired(state)]
        if kept:
            found.append(Finding(f"other alarms on {state.name}, left as they are: {', '.join(kept)}"))
        return found

    # --- plan -------------------------------------------------------------------------------
    @staticmethod
    def _paired(state: BudgetState) -> dict[Notice, Notice]:
        """Existing notifications of a wanted kind but another threshold, each paired with a missing one.

        Pairing, per notification type, in threshold order, makes a changed threshold an update (`~`)
        rather than a new alarm next to the old one.
        """
        pairs: dict[Notice, Notice] = {}
        for kind in sorted({w.type for w in WANTED}):
            missing = sorted(w for w in WANTED if w.type == kind and w not in state.notices)
            extra = sorted(n for n in state.notices if n.type == kind and n not in WANTED)
            pairs.update(zip(extra, missing, strict=False))
        return pairs

    def plan(self, state: BudgetState, ctx: StepContext) -> list[Change]:
        answered = ctx.answer("amount")
        # Not answered (check or plan without an answers file): an existing budget's amount is accepted.
        amount = amount_text(answered) if answered is not None else None
        shown_amount = f"{amount} {CURRENCY}" if amount else ASKED_AT_APPLY
        raw_emails = ctx.answer("emails")
        emails = parse_emails(str(raw_emails)) if raw_emails else []
        common = (state.account, state.name, tuple(emails))
        budget_label = f'budget "{state.name}"'
        changes: list[Change] = []
        if not state.exists:
            changes.append(
                Change(
                    Action.CREATE, CreateBudget(*common, amount), budget_label,
                    f"create a monthly cost budget of {shown_amount}",
                    operations=("budgets:CreateBudget",),
                    fields=(
                        FieldChange("amount", None, shown_amount),
                        FieldChange("time_unit", None, TIME_UNIT),
                        FieldChange("budget_type", None, BUDGET_TYPE),
                    ),
                )
            )
        else:
            update = self._budget_fields(state, amount)
            if update:
                changes.append(
                    Change(
                        Action.UPDATE, UpdateBudget(*common, amount), budget_label,
                        f"update budget {state.name}: " + ", ".join(f.name for f in update),
                        operations=("budgets:UpdateBudget",),
                        fields=tuple(update),
                    )
                )
        paired = self._paired(state)
        updated = {new: old for old, new in paired.items()}
        shown_emails = ", ".join(emails) if emails else ASKED_AT_APPLY
        for wanted in WANTED:
            resource = f'alarm "{wanted.label}" on budget "{state.name}"'
            if wanted in updated:
                old = updated[wanted]
                changes.append(
                    Change(
                        Action.UPDATE, UpdateNotification(*common, old, wanted), resource,
                        f"change alarm {old.label} to {wanted.label}",
                        operations=("budgets:UpdateNotification",),
                        fields=tuple(
                            FieldChange(n, a, b)
                            for n, a, b in (
                                ("comparison", old.comparison, wanted.comparison),
                                ("threshold", f"{old.threshold:g}", f"{wanted.threshold:g}"),
                                ("threshold_type", old.threshold_type, wanted.threshold_type),
                            )
                            if a != b
                        ),
                    )
                )
            elif wanted not in state.notices:
                changes.append(
                    Change(
                        Action.CREATE, CreateNotification(*common, wanted), resource,
                        f"email {shown_emails} when {wanted.label}",
                        operations=("budgets:CreateNotification",),
                        fields=(FieldChange("alarm", None, wanted.label),
                                FieldChange("email", None, shown_emails)),
                    )
                )
                continue
            have = state.subscribers.get(updated.get(wanted, wanted), ())
            missing = [e for e in emails if e.lower() not in have] if emails or have else [ASKED_AT_APPLY]
            for email in missing:
                changes.append(
                    Change(
                        Action.CREATE, AddSubscriber(*common, wanted, email),
                        f'email {email} on alarm "{wanted.label}"',
                        f"email {email} when {wanted.label}",
                        operations=("budgets:CreateSubscriber",),
                        fields=(FieldChange("email", None, email),),
                    )
                )
        return changes

    @staticmethod
    def _budget_fields(state: BudgetState, amount: str | None) -> list[FieldChange]:
        fields: list[FieldChange] = []
        differs = amount is not None and (state.amount is None or Decimal(state.amount) != Decimal(amount))
        if differs or state.unit != CURRENCY or state.limit_kind != "fixed":
            new = f"{amount} {CURRENCY}" if amount else ASKED_AT_APPLY
            fields.append(FieldChange("amount", f"{state.amount} {state.unit}", new))
        if state.time_unit != TIME_UNIT:
            fields.append(FieldChange("time_unit", state.time_unit, TIME_UNIT))
        if state.budget_type != BUDGET_TYPE:
            fields.append(FieldChange("budget_type", state.budget_type, BUDGET_TYPE))
        if state.limit_kind != "fixed":
            fields.append(FieldChange("limit", state.limit_kind, "fixed"))
        return fields


STEP = BudgetAlarm()
