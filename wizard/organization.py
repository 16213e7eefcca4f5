"""The organization behind a management account: its accounts, and a guarded session in each.

Listing the accounts needs the management account or a delegated administrator for Organizations
(organizations:ListAccounts refuses anyone else). A member account is reached through a role its management
account may assume in it (`--org-role`, default OrganizationAccountAccessRole: Organizations creates it, with
AdministratorAccess and a trust in the management account, in every account it creates; an invited account has
it only if someone made it). The caller's own account is read with the caller's own credentials.

Each account's session is its own `Aws`: its own write guard (locked in check and plan, exactly as a
single-account run's), its own read cache, and botocore's adaptive retries, so throttling slows the fan-out down
instead of failing it. Root sessions (sts:AssumeRoot) for the central root lockdown are made here too; they share
their caller's guard, so the engine's permission for a step's declared writes covers them and nothing else does.
Temporary credentials are Secrets from the moment they arrive: never printed, logged or written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wizard.aws import Aws, Caller, RetryMode, isolated_session
from wizard.errors import WizardError
from wizard.read_cache import ReadCache
from wizard.retry import error_code
from wizard.secrets import Secret
from wizard.write_guard import WriteGuard

DEFAULT_ROLE = "OrganizationAccountAccessRole"
SESSION_NAME = "aws-harden"
ROLE_SECONDS = 3600
# AssumeRoot's longest session (botocore's STS model: RootDurationSecondsType, at most 900 seconds).
ROOT_SECONDS = 900
AUDIT_ROOT = "IAMAuditRootUserCredentials"
DELETE_ROOT = "IAMDeleteRootUserCredentials"
CREATE_ROOT_PASSWORD = "IAMCreateRootUserPassword"
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)  # IAM's role name rule (botocore's roleNameType)
ACCOUNT_ID = re.compile(r"[0-9]{12}")
GLOBAL_STS = ("https://sts.amazonaws.com",)  # the legacy global endpoint, which AssumeRoot refuses
# What the fan-out reads beside the steps: the organization and its accounts, and sessions in them. AssumeRole and
# AssumeRoot change nothing in any account: they hand out temporary credentials, and every session made from them
# is guarded like the caller's own (locked in check and plan).
ORGANIZATION_READS = frozenset({
    "organizations:DescribeOrganization", "organizations:ListAccounts", "sts:AssumeRole", "sts:AssumeRoot",
})


class NotInOrganization(WizardError):
    """The caller's account belongs to no organization."""


@dataclass(frozen=True)
class OrgAccount:
    id: str
    name: str
    state: str  # ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED (Organizations' AccountState)
    management: bool = False

    @property
    def active(self) -> bool:
        return self.state == "ACTIVE"

    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


@dataclass(frozen=True)
class Organization:
    id: str
    arn: str
    management_account: str
    feature_set: str
    accounts: tuple[OrgAccount, ...]

    @property
    def active(self) -> list[OrgAccount]:
        return [a for a in self.accounts if a.active]

    @property
    def inactive(self) -> list[OrgAccount]:
        return [a for a in self.accounts if not a.active]

    def as_record(self) -> dict[str, Any]:
        return {
            "id": self.id, "arn": self.arn, "management_account": self.management_account,
            "feature_set": self.feature_set,
            "inactive_accounts": [{"id": a.id, "name": a.name, "state": a.state} for a in self.inactive],
        }


def role_problem(role: str) -> str | None:
    return None if ROLE_NAME.fullmatch(role) else (
        f"--org-role {role!r}: a role name is 1 to 64 letters, digits and + = , . @ _ -")


def read_organization(aws: Aws) -> Organization:
    """DescribeOrganization and every account (ListAccounts, all pages); one-line reasons when refused."""
    org_client = aws.client("organizations")
    try:
        org = org_client.describe_organization()["Organization"]
    except Exception as exc:
        if error_code(exc) == "AWSOrganizationsNotInUseException":
            raise NotInOrganization(
                f"account {aws.caller().account} is not in an AWS Organization: --organization needs the "
                "organization's management account (or a delegated administrator)") from None
        raise
    management = str(org["MasterAccountId"])
    found: list[OrgAccount] = []
    try:
        for page in org_client.get_paginator("list_accounts").paginate():
            for account in page["Accounts"]:
                state = str(account.get("State") or account.get("Status") or "ACTIVE")
                found.append(OrgAccount(str(account["Id"]), str(account.get("Name", "")), state,
                                        str(account["Id"]) == management))
    except Exception as exc:
        if error_code(exc) in ("AccessDeniedException", "AccessDenied"):
            raise WizardError(
                f"ListAccounts: account {aws.caller().account} may not list organization {org['Id']}'s accounts: "
                f"run with credentials of the management account {management} or of a delegated administrator"
            ) from None
        raise
    return Organization(str(org["Id"]), str(org["Arn"]), management, str(org.get("FeatureSet", "")), tuple(found))


@dataclass(frozen=True)
class Standing:
    """Where the caller's account stands: alone, the management account of an organization, or a member."""

    kind: str  # "standalone", "management" or "member"
    organization_id: str = ""
    management_account: str = ""
    all_features: bool = True


def standing(aws: Aws) -> Standing:
    try:
        org = aws.client("organizations").describe_organization()["Organization"]
    except Exception as exc:
        if error_code(exc) == "AWSOrganizationsNotInUseException":
            return Standing("standalone")
        raise
    management = str(org["MasterAccountId"])
    kind = "management" if management == aws.caller().account else "member"
    return Standing(kind, str(org["Id"]), management, str(org.get("FeatureSet", "ALL")) == "ALL")


def select_accounts(org: Organization, wanted: str | None) -> list[OrgAccount]:
    """The ACTIVE accounts, or those `--accounts` names (each must be one)."""
    active = org.active
    if not wanted:
        return active
    ids = [w.strip() for w in wanted.split(",") if w.strip()]
    by_id = {a.id: a for a in org.accounts}
    for account_id in ids:
        if not ACCOUNT_ID.fullmatch(account_id):
            raise WizardError(f"--accounts: {account_id!r} is not an account id (12 digits)")
        if account_id not in by_id:
            raise WizardError(f"--accounts: {account_id} is not an account of organization {org.id}")
        if not by_id[account_id].active:
            raise WizardError(f"--accounts: {account_id} is {by_id[account_id].state}, not ACTIVE")
    return [a for a in active if a.id in ids]


@dataclass(frozen=True)
class TemporaryCredentials:
    access_key_id: str
    secret: Secret
    token: Secret
    expiration: datetime | None
    caller: Caller | None = None  # who they sign as, when the answer said (AssumeRole's AssumedRoleUser)

    @classmethod
    def from_api(cls, data: dict[str, Any], caller: Caller | None = None) -> TemporaryCredentials:
        return cls(str(data["AccessKeyId"]), Secret(str(data["SecretAccessKey"])),
                   Secret(str(data["SessionToken"])), data.get("Expiration"), caller)


def session_on(
    base: Aws,
    credentials: TemporaryCredentials,
    guard: WriteGuard,
    read_only: bool,
    retry_mode: RetryMode = "adaptive",
    stop: Callable[[], None] | None = None,
) -> Aws:
    """An `Aws` signing with these credentials: the guard on every client it makes (locked in check and plan),
    then (check, plan) a read cache of its own; the sandbox's hook and the endpoint as the base's. `stop`, called
    before every request, may raise to end the run (Ctrl-C in the fan-out)."""
    session = isolated_session(credentials.access_key_id, credentials.secret.reveal(), base.region,
                               token=credentials.token.reveal())
    if read_only:
        guard.lock()
    cache = ReadCache() if read_only else None
    if stop is not None:
        session.events.register("provide-client-params", lambda **_: stop(), unique_id="aws-harden-stop")
    return Aws(session, guard, endpoint_url=base.endpoint_url, sandbox=base.sandbox, client_hook=base.client_hook,
               read_cache=cache, retry_mode=retry_mode, caller=credentials.caller)


def own_credentials(base: Aws) -> TemporaryCredentials:
    """The caller's credentials as they are now (an SSO or assumed-role session is frozen for this run)."""
    frozen = base.session.get_credentials().get_frozen_credentials()
    return TemporaryCredentials(str(frozen.access_key), Secret(str(frozen.secret_key)),
                                Secret(str(frozen.token or "")), None, base.caller())


def role_arn(partition: str, account_id: str, role: str) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{role}"


def assume_role(base: Aws, account_id: str, role: str) -> TemporaryCredentials:
    arn = role_arn(base.caller().partition, account_id, role)
    answer = base.client("sts").assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME, DurationSeconds=ROLE_SECONDS)
    # The session's identity is in the answer: no GetCallerIdentity (a round trip per account) is needed.
    user = answer["AssumedRoleUser"]
    caller = Caller(arn=str(user["Arn"]), account=account_id, user_id=str(user["AssumedRoleId"]))
    return TemporaryCredentials.from_api(answer["Credentials"], caller)


def regional_sts(base: Aws) -> Any:
    """An STS client on the Regional endpoint: "The STS global endpoint is not supported for AssumeRoot"
    (botocore's STS model). botocore defaults to Regional endpoints; a profile or AWS_STS_REGIONAL_ENDPOINTS
    set to legacy sends us-east-1 and others to the global one, so that case gets its Regional URL."""
    client = base.client("sts")
    if base.endpoint_url is None and str(client.meta.endpoint_url).rstrip("/") in GLOBAL_STS:
        from wizard.aws import client_config

        region = base.region
        regional = base.session.client("sts", region_name=region, endpoint_url=f"https://sts.{region}.amazonaws.com",
                                       config=client_config(base.retry_mode))
        base.guard.attach(regional)
        return regional
    return client


def assume_root(base: Aws, account_id: str, task: str) -> TemporaryCredentials:
    """A root session in a member account, limited to one root-task policy, for at most 15 minutes."""
    arn = f"arn:{base.caller().partition}:iam::aws:policy/root-task/{task}"
    answer = regional_sts(base).assume_root(TargetPrincipal=account_id, TaskPolicyArn={"arn": arn},
                                            DurationSeconds=ROOT_SECONDS)
    return TemporaryCredentials.from_api(answer["Credentials"])


def root_session(base: Aws, account_id: str, task: str) -> Aws:
    """The member's root user, within `task`: guarded by the caller's own guard (so a check stays locked and an
    apply lets through only the step's declared writes)."""
    credentials = assume_root(base, account_id, task)
    return session_on(base, credentials, base.guard, read_only=base.guard.locked, retry_mode=base.retry_mode)


def account_sessions(
    base: Aws, role: str, read_only: bool, stop: Callable[[], None] | None = None,
) -> Callable[[OrgAccount], Aws]:
    """How to open each account: the caller's own with its own credentials, every other through `role`."""
    own = base.caller().account

    def open_account(account: OrgAccount) -> Aws:
        if stop is not None:
            stop()
        credentials = own_credentials(base) if account.id == own else assume_role(base, account.id, role)
        return session_on(base, credentials, WriteGuard(reads=base.guard.reads), read_only, stop=stop)

    return open_account


def unassumable(exc: BaseException) -> bool:
    """The role could not be assumed (missing, untrusted, or the caller may not): the account is unreachable,
    which is a finding about the organization, not a failure of the run."""
    operation = getattr(exc, "operation_name", "")
    return operation == "AssumeRole" and error_code(exc) in ("AccessDenied", "AccessDeniedException")


def unassumable_reason(exc: BaseException, role: str, caller_account: str) -> str:
    code = error_code(exc) or "AccessDenied"
    return (f"cannot assume the role {role} ({code}): it does not exist in this account, or does not trust the "
            f"account {caller_account}, or the caller may not assume it (an invited account has "
            f"{DEFAULT_ROLE} only if someone made it)")
