"""Account plan awareness (not a step): accounts created since July 2025 are on a Free or a Paid plan
(freetier:GetAccountPlanState). The budget step shows it; where the API does not answer (older accounts, the
sandbox) nothing is said rather than guessed."""

from __future__ import annotations

from wizard.aws import Aws
from wizard.facts import AccountPlan, read_account_plan
from wizard.protocol import Finding


def read(aws: Aws) -> AccountPlan | None:
    """The plan, or None where the API does not answer (any error: the budget step never fails on it)."""
    try:
        return read_account_plan(aws)
    except Exception:
        return None


def findings(plan: AccountPlan | None) -> list[Finding]:
    if plan is None:
        return []
    credits = (f"{plan.remaining_credits:.2f} {plan.currency or 'USD'}" if plan.remaining_credits is not None
               else "unknown")
    ends = plan.expires.date().isoformat() if plan.expires else "no end date given"
    observed = {"type": plan.type, "status": plan.status, "remaining_credits": plan.remaining_credits,
                "currency": plan.currency, "expires": plan.expires.isoformat() if plan.expires else None}
    if plan.type == "FREE":
        return [Finding(
            f"this account is on the Free plan ({plan.status.lower()}): AWS charges nothing beyond its credits "
            f"({credits} left, until {ends}); the budget still warns you as they are used up, and when the plan "
            "ends the account is closed unless you upgrade it to a Paid plan (Billing console > Account plan)",
            observed=observed, output=("account plan", f"Free plan, {credits} of credits left, ends {ends}"))]
    return [Finding(f"this account is on the {plan.type.capitalize()} plan: usage beyond any credits is charged "
                    f"(credits left: {credits})", observed=observed,
                    output=("account plan", f"{plan.type.capitalize()} plan, {credits} of credits left"))]
