"""AWS Budgets as strict as AWS on what the wizard relies on: names, and one set of filters.

moto's CreateBudget and UpdateBudget (the latter added in budgets_ext.py) store any budget. AWS refuses,
with InvalidParameterException:
- a BudgetName outside botocore's pattern for it, `^(?![^:\\\\]*/action/|(?i).*<script>.*</script>.*)[^:\\\\]+$`
  (1 to 100 characters): "The : and \\ characters, and the "/action/" substring, aren't allowed in
  BudgetName" (botocore's Budgets model, Budget.BudgetName);
- a budget with both filter sets: "only one set of filter and metric selections can be present in the syntax
  at one time. Either FilterExpression and Metrics or CostFilters and CostTypes, not both or a different
  combination" (botocore's Budgets model, UpdateBudget).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# botocore's budgets model, shape BudgetName (min 1, max 100), pattern
# ^(?![^:\\]*/action/|(?i).*<script>.*</script>.*)[^:\\]+$; matched whole (Python's `$` would admit a trailing
# newline that the service's anchors do not).
NAME_PATTERN = re.compile(r"(?![^:\\]*/action/|(?i:.*<script>.*</script>.*))[^:\\]+", re.S)
NEW_SET, OLD_SET = ("FilterExpression", "Metrics"), ("CostFilters", "CostTypes")
_installed = False


def budget_problem(budget: Mapping[str, Any]) -> str | None:
    """Why AWS would refuse this Budget structure, or None."""
    name = str(budget.get("BudgetName", ""))
    if not 1 <= len(name) <= 100 or not NAME_PATTERN.fullmatch(name):
        return f"BudgetName {name!r} does not match the pattern AWS requires (no ':', '\\' or '/action/')"
    if any(budget.get(k) for k in NEW_SET) and any(budget.get(k) for k in OLD_SET):
        return "either FilterExpression and Metrics or CostFilters and CostTypes, not both"
    return None


def install() -> None:
    """Patch moto's Budgets backend in this process (after budgets_ext.install()). Idempotent."""
    global _installed
    if _installed:
        return
    from moto.budgets.models import BudgetsBackend
    from moto.core.exceptions import JsonRESTError

    from wizard.sandbox import budgets_ext

    budgets_ext.install()

    class InvalidParameter(JsonRESTError):
        code = 400

        def __init__(self, message: str) -> None:
            super().__init__("InvalidParameterException", message)

    create, update = BudgetsBackend.create_budget, BudgetsBackend.update_budget  # type: ignore[attr-defined]

    def strict_create(self: BudgetsBackend, account_id: str, budget: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        problem = budget_problem(budget)
        if problem:
            raise InvalidParameter(problem)
        return create(self, account_id, budget, *args, **kwargs)

    def strict_update(self: BudgetsBackend, account_id: str, new_budget: dict[str, Any]) -> Any:
        problem = budget_problem(new_budget)
        if problem:
            raise InvalidParameter(problem)
        return update(self, account_id, new_budget)

    BudgetsBackend.create_budget = strict_create  # type: ignore[method-assign, assignment]
    BudgetsBackend.update_budget = strict_update  # type: ignore[attr-defined]
    _installed = True
