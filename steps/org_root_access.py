"""Centralized root access for an organization's member accounts (IAM, November 2024), enabled from the
management account: trusted access for IAM in Organizations, then IAM's two organization features.

- RootCredentialsManagement: the management account can delete (and let recover) member accounts' root
  credentials, and accounts created from now on have none;
- RootSessions: it can take the root-only actions in a member account through a short root session
  (sts:AssumeRoot, at most 15 minutes, scoped to one root-task policy), which member-root-credentials uses.

AWS documents the order: trusted access for iam.amazonaws.com first ("Enable trusted access for Identity and
Access Management in Organizations", the botocore IAM model's EnableOrganizationsRoot* documentation), then the
features (IAM User Guide, "Centralize root access for member accounts"). Neither changes anything inside a member
account; the organization must have all features enabled, which this step only reports (enabling them asks every
member account to agree, in the Organizations console).
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.aws import Aws
from wizard.organization import Standing, standing
from wizard.protocol import Action, ApplyContext, Change, ConsoleTask, Finding, Operation, Step, StepContext
from wizard.retry import error_code

IAM_PRINCIPAL = "iam.amazonaws.com"
MANAGEMENT_ONLY = "centralized root access is run from the organization's management account"
CONSOLE = "https://console.aws.amazon.com/iam/home#/root-access-management"


@dataclass(frozen=True)
class AllFeatures(ConsoleTask):
    """Every invited member account must agree, in the Organizations console."""


@dataclass(frozen=True)
class Features(ConsoleTask):
    """A member account: only the management account enables the features."""


@dataclass(frozen=True)
class TrustedAccess(Operation):
    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("organizations").enable_aws_service_access(ServicePrincipal=IAM_PRINCIPAL)


@dataclass(frozen=True)
class RootCredentialsManagement(Operation):
    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("iam").enable_organizations_root_credentials_management()


@dataclass(frozen=True)
class RootSessions(Operation):
    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("iam").enable_organizations_root_sessions()


# IAM's organization features, each with its operation, the call it sends, and what it does.
FEATURES: dict[str, tuple[Operation, str, str]] = {
    "RootCredentialsManagement": (
        RootCredentialsManagement(),
        "iam:EnableOrganizationsRootCredentialsManagement",
        "let the management account delete and restore member accounts' root credentials (new accounts get none)",
    ),
    "RootSessions": (
        RootSessions(),
        "iam:EnableOrganizationsRootSessions",
        "let the management account take root-only actions in member accounts in short root sessions (AssumeRoot)",
    ),
}


@dataclass(frozen=True)
class OrgRootState:
    standing: Standing
    trusted_access: bool = False
    features: tuple[str, ...] = ()
    readable: bool = True  # False: a member account that may not read the features (neither management nor delegated)


def read_features(aws: Aws) -> tuple[str, ...] | None:
    """ListOrganizationsFeatures; () before trusted access for IAM; None for an account that may not ask."""
    try:
        return tuple(aws.client("iam").list_organizations_features().get("EnabledFeatures", ()))
    except Exception as exc:
        code = error_code(exc)
        if code == "ServiceAccessNotEnabledException":
            return ()
        if code in ("AccountNotManagementOrDelegatedAdministratorException", "AccessDenied"):
            return None
        raise


class OrgRootAccess(Step[OrgRootState]):
    id = "org-root-access"
    title = "Centralized root access for member accounts"
    checks = ("in an organization's management account: trusted access for IAM, and IAM's root credentials "
              "management and root sessions enabled (ListOrganizationsFeatures)")
    reads = frozenset({"organizations:DescribeOrganization", "organizations:ListAWSServiceAccessForOrganization",
                       "iam:ListOrganizationsFeatures"})
    writes = frozenset({"organizations:EnableAWSServiceAccess", *(call for _, call, _ in FEATURES.values())})
    remediates = ()
    management_account_only = MANAGEMENT_ONLY

    def inspect(self, aws: Aws, ctx: StepContext) -> OrgRootState:
        where = standing(aws)
        if where.kind == "standalone":
            return OrgRootState(where)
        trusted = False
        if where.kind == "management":
            client = aws.client("organizations")
            principals = [p["ServicePrincipal"]
                          for page in client.get_paginator("list_aws_service_access_for_organization").paginate()
                          for p in page["EnabledServicePrincipals"]]
            trusted = IAM_PRINCIPAL in principals
        features = read_features(aws) if trusted or where.kind == "member" else ()
        return OrgRootState(where, trusted, features or (), features is not None)

    def findings(self, state: OrgRootState, ctx: StepContext) -> list[Finding]:
        where = state.standing
        if where.kind == "standalone":
            return [Finding("the account is not in an AWS Organization: centralized root access is for an "
                            "organization's member accounts; nothing to do here", observed={"organization": None})]
        if where.kind == "member" and not state.readable:
            return [Finding(f"a member account of {where.organization_id}: its root user is managed from the "
                            f"management account {where.management_account}",
                            observed={"organization": where.organization_id})]
        observed = {"organization": where.organization_id, "all_features": where.all_features,
                    "trusted_access_iam": state.trusted_access, "enabled_features": list(state.features)}
        access = ""
        if where.kind == "management":
            access = f"trusted access for IAM {'on' if state.trusted_access else 'off'}; "
        enabled = ", ".join(state.features) or "none"
        text = f"organization {where.organization_id}: {access}IAM features enabled: {enabled}"
        return [Finding(text, observed=observed)]

    def plan(self, state: OrgRootState, ctx: StepContext) -> list[Change]:
        where = state.standing
        if where.kind == "standalone" or not state.readable:
            return []
        if not where.all_features:
            return [Change(Action.OPERATOR, AllFeatures(), f"organization {where.organization_id}",
                           "enable all features in the organization (every member account must agree)",
                           instructions=("AWS Organizations console > Settings > Enable all features; each "
                                         "invited member account accepts the request",),
                           url="https://console.aws.amazon.com/organizations/v2/home/settings")]
        missing = [f for f in FEATURES if f not in state.features]
        if where.kind == "member":
            return [Change(Action.OPERATOR, Features(), f"organization {where.organization_id}",
                           f"enable {', '.join(missing)} from the management account {where.management_account}",
                           url=CONSOLE)] if missing else []
        changes = []
        if not state.trusted_access:
            changes.append(Change(Action.CREATE, TrustedAccess(), f"trusted access for {IAM_PRINCIPAL}",
                                  f"let IAM work across organization {where.organization_id}",
                                  operations=("organizations:EnableAWSServiceAccess",)))
        for feature in missing:
            operation, call, summary = FEATURES[feature]
            changes.append(Change(Action.CREATE, operation, f"IAM feature {feature}", summary,
                                  operations=(call,)))
        return changes


STEP = OrgRootAccess()
