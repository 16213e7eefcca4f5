"""budget-alarm against moto (with wizard/sandbox/budgets_ext.py for the four calls moto lacks)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steps.budget_alarm import STEP as BUDGET
from tests import harness
from tests.conftest import Account, run_cli
from wizard.sandbox import budgets_ext

ACCOUNT = "123456789012"
WANTED = [("ACTUAL", 80.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0)]


@pytest.fixture
def budgets(account: Account) -> Iterator[Any]:
    budgets_ext.install()
    yield account.raw("budgets", "us-east-1")


def answers(tmp_path: Path, body: str) -> str:
    path = tmp_path / "answers.toml"
    path.write_text(body)
    return str(path)


def run(argv: list[str]) -> tuple[int, list[str], str]:
    result = harness.run(*argv, stdin="pipe", width=200)
    return result.code, result.writes, result.text


def alarms(budgets: Any, name: str = "aws-harden-monthly") -> dict[tuple[str, float], list[str]]:
    found = {}
    for n in budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=name)["Notifications"]:
        subs = budgets.describe_subscribers_for_notification(
            AccountId=ACCOUNT, BudgetName=name, Notification=n
        )
        found[(n["NotificationType"], n["Threshold"])] = sorted(s["Address"] for s in subs["Subscribers"])
    return found


def notification(kind: str, threshold: float) -> dict[str, Any]:
    return {
        "NotificationType": kind,
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": threshold,
        "ThresholdType": "PERCENTAGE",
    }


def test_four_runs_create_then_nothing(budgets: Any, tmp_path: Path) -> None:
    file = answers(tmp_path, '[budget-alarm]\namount = 25\nemails = "a@example.com, b@example.org"\n')
    code, writes, text = run(["plan", "--only", "budget-alarm", "--answers", file])
    assert code == 2 and writes == [] and "Plan: 4 to add, 0 to change" in text, text

    code, writes, text = run(["apply", "--yes", "--only", "budget-alarm", "--answers", file])
    assert code == 0, text
    assert writes == ["budgets:CreateBudget"] + ["budgets:CreateNotification"] * 3
    budget = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="aws-harden-monthly")["Budget"]
    assert (budget["BudgetLimit"], budget["TimeUnit"], budget["BudgetType"]) == (
        {"Amount": "25", "Unit": "USD"},
        "MONTHLY",
        "COST",
    )
    assert alarms(budgets) == {w: ["a@example.com", "b@example.org"] for w in WANTED}

    code, writes, text = run(["check", "--only", "budget-alarm", "--answers", file])
    assert code == 0 and writes == [], text
    code, writes, text = run(["apply", "--yes", "--only", "budget-alarm", "--answers", file])
    assert code == 0 and writes == [] and "already compliant" in text, text


def test_same_name_other_amount_and_threshold_is_an_update_not_a_replacement(
    budgets: Any, tmp_path: Path
) -> None:
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "aws-harden-monthly",
            "BudgetLimit": {"Amount": "50", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CostFilters": {"Service": ["Amazon EC2"]},
        },
        NotificationsWithSubscribers=[
            {
                "Notification": notification("ACTUAL", 90.0),
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "old@example.com"}],
            },
            {
                "Notification": notification("FORECASTED", 100.0),
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "me@example.com"}],
            },
        ],
    )
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "team-budget",
            "BudgetLimit": {"Amount": "5", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
    )
    file = answers(tmp_path, '[budget-alarm]\namount = 20\nemails = "me@example.com"\n')

    code, writes, text = run(["plan", "--only", "budget-alarm", "--answers", file])
    assert code == 2 and writes == [], text
    assert '~ budget "aws-harden-monthly"' in text and "~ amount: 50 USD -> 20 USD" in text
    assert "~ threshold: 90 -> 80" in text
    # ~ budget, ~ alarm 90% -> 80%; + me@ on that alarm, + the 100% actual alarm
    assert "Plan: 2 to add, 2 to change, 0 to delete" in text
    assert "other budgets, left as they are: team-budget" in text
    assert "cost filters" in text  # kept, and said so

    code, writes, text = run(["apply", "--yes", "--only", "budget-alarm", "--answers", file])
    assert code == 0, text
    assert writes == [
        "budgets:UpdateBudget",
        "budgets:UpdateNotification",
        "budgets:CreateSubscriber",
        "budgets:CreateNotification",
    ]
    budget = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="aws-harden-monthly")["Budget"]
    assert budget["BudgetLimit"] == {"Amount": "20", "Unit": "USD"}
    assert budget["CostFilters"] == {"Service": ["Amazon EC2"]}  # the rest of the budget is untouched
    assert alarms(budgets) == {
        ("ACTUAL", 80.0): ["me@example.com", "old@example.com"],  # the updated alarm keeps its subscriber
        ("FORECASTED", 100.0): ["me@example.com"],
        ("ACTUAL", 100.0): ["me@example.com"],
    }
    other = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="team-budget")["Budget"]
    assert other["BudgetLimit"] == {"Amount": "5", "Unit": "USD"}
    code, writes, _ = run(["apply", "--yes", "--only", "budget-alarm", "--answers", file])
    assert code == 0 and writes == []


def test_an_update_sends_only_the_filter_set_the_budget_uses(budgets: Any, tmp_path: Path) -> None:
    """AWS takes FilterExpression and Metrics or CostFilters and CostTypes, never both (botocore, UpdateBudget);
    echoing DescribeBudget's answer sent both (moto's adds CostTypes, as AWS may): the strict world refuses."""
    expression = {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Elastic Compute Cloud - Compute"]}}
    budgets.create_budget(AccountId=ACCOUNT, Budget={
        "BudgetName": "aws-harden-monthly", "BudgetLimit": {"Amount": "50", "Unit": "USD"}, "TimeUnit": "MONTHLY",
        "BudgetType": "COST", "FilterExpression": expression, "Metrics": ["AmortizedCost"],
    })  # fmt: skip
    described = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="aws-harden-monthly")["Budget"]
    assert "CostTypes" in described and "FilterExpression" in described  # both sets come back
    file = answers(tmp_path, '[budget-alarm]\namount = 20\nemails = "me@example.com"\n')
    code, writes, text = run(["apply", "--yes", "--only", "budget-alarm", "--answers", file])
    assert code == 0, text
    assert writes[0] == "budgets:UpdateBudget"
    budget = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="aws-harden-monthly")["Budget"]
    assert budget["BudgetLimit"] == {"Amount": "20", "Unit": "USD"}
    assert (budget["FilterExpression"], budget["Metrics"]) == (expression, ["AmortizedCost"])  # kept


def test_check_without_answers_accepts_the_existing_amount_and_any_email(
    budgets: Any, tmp_path: Path
) -> None:
    file = answers(tmp_path, '[budget-alarm]\namount = 7.5\nemails = "me@example.com"\n')
    assert run(["apply", "--yes", "--only", "budget-alarm", "--answers", file])[0] == 0
    code, writes, text = run(["check", "--only", "budget-alarm"])
    assert code == 0 and writes == [], text
    code, _, text = run(
        ["plan", "--only", "budget-alarm", "--answers", answers(tmp_path, "[budget-alarm]\namount = 9\n")]
    )
    assert code == 2 and "~ amount: 7.5 USD -> 9 USD" in text


def test_apply_without_email_stops_before_any_write(budgets: Any, tmp_path: Path) -> None:
    code, writes, text = run(
        [
            "apply",
            "--yes",
            "--only",
            "budget-alarm",
            "--answers",
            answers(tmp_path, "[budget-alarm]\namount = 10\n"),
        ]
    )
    assert code == 1 and writes == []
    assert "Traceback" not in text
    # One line, the step's own reason: no AWS call named (none failed), the step named once.
    assert ("aws-harden: error: budget-alarm: no email address for the alarms; answer the question, or set "
            'emails = "you@example.com" under [budget-alarm] in the answers file') in " ".join(text.split())
    assert budgets.describe_budgets(AccountId=ACCOUNT).get("Budgets", []) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("amount = 0", "more than 0"),
        ("amount = -5", "more than 0"),
        ("amount = 10.005", "2 decimal places"),
        ('amount = "ten"', "expected float"),
        ("amount = nan", "finite"),
        ('emails = "not-an-email"', "'not-an-email' is not a valid email address"),
        ('emails = "a@example.com, a@b"', "'a@b' is not a valid email address"),
        ('emails = ""', "at least one email address"),
        ('emails = "x@example.com,X@example.com"', "listed twice"),
        ('name = "a:b"', "without ':'"),
        ('name = "team/action/monthly"', "'/action/'"),  # botocore's BudgetName pattern (issue 12)
    ],
)
def test_bad_answers_are_refused_before_anything_runs(tmp_path: Path, body: str, reason: str) -> None:
    result = run_cli(
        ["plan", "--only", "budget-alarm", "--answers", answers(tmp_path, f"[budget-alarm]\n{body}\n")]
    )
    assert result.code == 1
    assert reason in result.err and "Traceback" not in result.err
    assert result.err.count("\n") == 1  # one line


def test_prompt_rejects_bad_amount_and_email_until_valid(budgets: Any) -> None:
    script = [None, "abc", "0", "12.50", "me@", "me@example.com", True]
    result = run_cli(["apply", "--only", "budget-alarm"], answers=script)
    assert result.code == 0, result.text
    assert result.prompter is not None
    assert [r[1] for r in result.prompter.rejected] == [
        "enter a number",
        "the amount must be more than 0 USD",
        "'me@' is not a valid email address",
    ]
    budget = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="aws-harden-monthly")["Budget"]
    assert budget["BudgetLimit"]["Amount"] == "12.5"


def test_budgets_ext_calls_follow_the_api(budgets: Any) -> None:
    """The four calls the extension adds, with the errors AWS documents."""
    from botocore.exceptions import ClientError

    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "b",
            "BudgetLimit": {"Amount": "1", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
    )
    with pytest.raises(ClientError, match="NotFoundException"):
        budgets.describe_subscribers_for_notification(
            AccountId=ACCOUNT, BudgetName="b", Notification=notification("ACTUAL", 80.0)
        )
    budgets.create_notification(
        AccountId=ACCOUNT,
        BudgetName="b",
        Notification=notification("ACTUAL", 80.0),
        Subscribers=[{"SubscriptionType": "EMAIL", "Address": "a@example.com"}],
    )
    with pytest.raises(ClientError, match="DuplicateRecordException"):
        budgets.create_subscriber(
            AccountId=ACCOUNT,
            BudgetName="b",
            Notification=notification("ACTUAL", 80.0),
            Subscriber={"SubscriptionType": "EMAIL", "Address": "a@example.com"},
        )
    budgets.create_notification(
        AccountId=ACCOUNT,
        BudgetName="b",
        Notification=notification("ACTUAL", 90.0),
        Subscribers=[{"SubscriptionType": "EMAIL", "Address": "a@example.com"}],
    )
    with pytest.raises(ClientError, match="DuplicateRecordException"):
        budgets.update_notification(
            AccountId=ACCOUNT,
            BudgetName="b",
            OldNotification=notification("ACTUAL", 90.0),
            NewNotification=notification("ACTUAL", 80.0),
        )
    with pytest.raises(ClientError, match="NotFoundException"):
        budgets.update_budget(
            AccountId=ACCOUNT,
            NewBudget={
                "BudgetName": "nope",
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
                "BudgetLimit": {"Amount": "1", "Unit": "USD"},
            },
        )


def test_pairing_is_per_type_and_in_threshold_order() -> None:
    from steps.budget_alarm import BudgetState, Notice

    state = BudgetState(
        "b",
        ACCOUNT,
        True,
        "10",
        "USD",
        "MONTHLY",
        "COST",
        notices=(
            Notice("ACTUAL", "GREATER_THAN", 50.0),
            Notice("FORECASTED", "GREATER_THAN", 100.0),
            Notice("FORECASTED", "GREATER_THAN", 120.0),
        ),
    )
    pairs = {(o.type, o.threshold): (n.type, n.threshold) for o, n in BUDGET._paired(state).items()}
    # FORECASTED 100% exists, so FORECASTED 120% is someone else's alarm: kept, not "updated" away.
    assert pairs == {("ACTUAL", 50.0): ("ACTUAL", 80.0)}


def test_readme_answers_example_is_valid() -> None:
    """The answers file the README shows must load and pass the same checks as a real one."""
    import re
    import tomllib

    import steps as registry
    from wizard.answers import validate_answers

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## The answers file.*?```toml\n(.*?)```", readme, re.S)
    assert block is not None
    data = tomllib.loads(block.group(1))
    assert {"billing-report", "budget-alarm"} <= set(data)
    every = registry.available() + registry.organization_steps()
    validate_answers(data, {s.id: s.questions() for s in every}, "README")
