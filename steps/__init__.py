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
    # The guidance's "store the root credentials securely", after the sign-in link (sign out of root).
    ("root-credentials", "steps.root_credentials"),
    ("team-users", "steps.team_users"),
    ("support-role", "steps.support_role"),
    ("delegation-roles", "steps.delegation_roles"),
    ("user-mfa", "steps.user_mfa"),
    ("root-mfa", "steps.root_mfa"),
    ("cloudtrail", "steps.cloudtrail"),
    ("billing-report", "steps.billing_report"),
    ("budget-alarm", "steps.budget_alarm"),
    # AWS's Startup Security Baseline: account-wide guardrails.
    ("account-contacts", "steps.account_contacts"),
    ("s3-public-access", "steps.s3_public_access"),
    ("ebs-encryption", "steps.ebs_encryption"),
    ("access-analyzer", "steps.access_analyzer"),
    ("guardduty", "steps.guardduty"),
    ("default-vpcs", "steps.default_vpcs"),
    ("credential-hygiene", "steps.credential_hygiene"),
)


# Steps for an organization, run in its management account: part of `--organization` runs (and of a single-account
# run that names them with --only), never of a plain one, whose account may be in no organization at all.
ORGANIZATION_STEP_MODULES: tuple[tuple[str, str], ...] = (
    ("org-root-access", "steps.org_root_access"),
    ("member-root-credentials", "steps.member_root_credentials"),
)


@dataclass(frozen=True)
class Missing:
    id: str
    module: str


def available(modules: tuple[tuple[str, str], ...] = STEP_MODULES) -> list[Step[Any]]:
    found: list[Step[Any]] = []
    for step_id, module in modules:
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


def organization_steps() -> list[Step[Any]]:
    return available(ORGANIZATION_STEP_MODULES)


def organization_ids() -> list[str]:
    return [step_id for step_id, _ in ORGANIZATION_STEP_MODULES]


def declared_reads(steps: Sequence[Step[Any]] | None = None) -> frozenset[str]:
    """What the write guard lets through as reads: every step's declared reads, the facts', the organization
    fan-out's and the wizard's own."""
    from wizard.facts import FACT_READS  # the controls' facts: read in check and plan beside the steps
    from wizard.organization import ORGANIZATION_READS  # listing accounts and opening sessions in them

    chosen = [*available(), *organization_steps()] if steps is None else steps
    return frozenset().union(*(s.reads for s in chosen)) | WIZARD_READS | FACT_READS | ORGANIZATION_READS
