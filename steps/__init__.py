"""The steps, in the order the guidance walks them. A step is one module here exposing STEP.

Modules not written yet are listed too, so `aws-harden steps` can say plainly what is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wizard.protocol import Step
from wizard.write_guard import WIZARD_READS

# Order matters: the admin exists before root's keys go, and root-access-keys' deletion of the key the
# wizard runs on is deferred by the engine until every other selected step is verified.
STEP_MODULES: tuple[tuple[str, str], ...] = (
    ("admin-user", "steps.admin_user"),
    ("admin-group", "steps.admin_group"),
    ("root-access-keys", "steps.root_access_keys"),
    ("password-policy", "steps.password_policy"),
    ("signin-link", "steps.signin_link"),
    ("team-users", "steps.team_users"),
    ("support-role", "steps.support_role"),
    ("delegation-roles", "steps.delegation_roles"),
    ("user-mfa", "steps.user_mfa"),
    ("root-mfa", "steps.root_mfa"),
    ("cloudtrail", "steps.cloudtrail"),
    ("billing-report", "steps.billing_report"),
    ("budget-alarm", "steps.budget_alarm"),
    ("credential-hygiene", "steps.credential_hygiene"),
)


@dataclass(frozen=True)
class Missing:
    id: str
    module: str


def available() -> list[Step[Any]]:
    found: list[Step[Any]] = []
    for step_id, module in STEP_MODULES:
        if importlib.util.find_spec(module) is None:
            continue
        step = importlib.import_module(module).STEP
        assert step.id == step_id, f"{module} declares {step.id}, expected {step_id}"
        found.append(step)
    return found


def not_built() -> list[Missing]:
    return [Missing(i, m) for i, m in STEP_MODULES if importlib.util.find_spec(m) is None]


def all_ids() -> list[str]:
    return [step_id for step_id, _ in STEP_MODULES]


def declared_reads(steps: Sequence[Step[Any]] | None = None) -> frozenset[str]:
    """What the write guard lets through as reads: every step's declared reads, the facts' and the wizard's own."""
    from wizard.facts import FACT_READS  # the controls' facts: read in check and plan beside the steps

    return frozenset().union(*(s.reads for s in (available() if steps is None else steps))) | WIZARD_READS | FACT_READS
