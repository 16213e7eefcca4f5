"""Pure plan fixtures for the team steps (issue 14): team-users, support-role, delegation-roles and
credential-hygiene, each a state (as data) and answers in, the planned changes out, with no AWS and no moto.
The moto tiers (tests/test_team_users.py, test_convergence.py, test_faults.py) prove the plans reach it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steps import delegation_roles, support_role
from steps.credential_hygiene import STEP as CREDENTIAL_HYGIENE
from steps.credential_hygiene import DeactivateKey, DisablePassword, HygieneState, RotateKey, StaleKey, StalePassword
from steps.delegation_roles import STEP as DELEGATION_ROLES
from steps.delegation_roles import Delegated, DelegationState, Trust
from steps.provenance import Ownership
from steps.support_role import STEP as SUPPORT_ROLE
from steps.support_role import SupportRoleState
from steps.team_catalogue import BY_NAME
from steps.team_users import STEP as TEAM_USERS
from steps.team_users import CreateGroup, CreateUser, GroupState, JoinGroup, Member, TeamState
from tests.plan_support import ACCOUNT, Case, Planned
from wizard.facts import AccessKey, AttachedPolicy, DirectoryGroup, DirectoryUser, Role
from wizard.protocol import KNOWN_AFTER_APPLY, Action
from wizard.secrets import Secret

C, U, OP = Action.CREATE, Action.UPDATE, Action.OPERATOR
ABSENT_USER, ABSENT_GROUP = Ownership("absent", "no such user"), Ownership("absent", "no such group")
OURS = Ownership("ours", "created by aws-harden: its tag, and its credentials held here")
FOREIGN = Ownership("foreign", "it has no created-by = aws-harden tag")
POLICY = "arn:aws:iam::aws:policy/"
SELF = f"{POLICY}IAMUserChangePassword"
TEAM = {"team-users": {"users": [{"name": "dana", "group": "Developers"}, {"name": "erin", "group": "ReadOnly"}]}}
AUDITOR = {"delegation-roles": {"roles": [{"name": "auditor", "account": "210987654321", "access": "SecurityAudit"}]}}
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def group(name: str, listed: str, made: bool) -> GroupState:
    access = BY_NAME[name]
    wanted = (f"{POLICY}{access.policies[0]}", SELF)
    found = DirectoryGroup(name, f"AGPA{name.upper()}", f"arn:aws:iam::{ACCOUNT}:group/aws-harden/{name}",
                           "/aws-harden/", wanted, (), (listed,)) if made else None
    return GroupState(access, wanted, found, Ownership("ours", "created by aws-harden, on the path /aws-harden/")
                      if made else ABSENT_GROUP, (listed,))


def member(name: str, group_name: str, made: bool) -> Member:
    found = DirectoryUser(name, f"AIDA{name.upper()}", f"arn:aws:iam::{ACCOUNT}:user/{name}", "/",
                          {"created-by": "aws-harden"}, (group_name,)) if made else None
    return Member(name, group_name, found, OURS if made else ABSENT_USER, console=made)


def team(made: bool) -> TeamState:
    return TeamState("admin", (member("dana", "Developers", made), member("erin", "ReadOnly", made)),
                     (group("ReadOnly", "erin", made), group("Developers", "dana", made)))


def new_user(name: str) -> Planned:
    return Planned(C, f'iam user "{name}"', summary=["console access", "no access keys"], sensitive=frozenset(
        {"password"}), fields={"arn": (None, KNOWN_AFTER_APPLY), "password": (None, "generated"),
                               "password_reset_required": (None, True), "access_keys": (None, "none")},
                   operation=CreateUser(name, minimum_length=6))  # the state's password rules: AWS's default


def joins(name: str, group_name: str) -> Planned:
    """Into a group this run makes: neither is aws-harden's yet when planned, apply checks what the run made."""
    return Planned(C, f'member "{name}" of group "{group_name}"', fields={}, operation=JoinGroup(
        name, group_name, user_id="", group_id="", user_ready=False, group_ready=False))


SUPPORT_ARN = f"arn:aws:iam::{ACCOUNT}:role/aws-harden/aws-harden-support"
MFA_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Sid": "ThisAccountWithMFA", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}
SUPPORT = Role("aws-harden-support", SUPPORT_ARN, "/aws-harden/", MFA_TRUST,
               (AttachedPolicy("AWSSupportAccess", f"{POLICY}AWSSupportAccess"),))
EXTERNAL_ID = Secret("pq0L2w8gzMLSjDQMwDKJAx0qz9cpTk7u")
AUDITOR_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Sid": "DelegatedAccountWithExternalId", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
    "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID.reveal()}}}]}
AUDITOR_ROLE = Role("auditor", f"arn:aws:iam::{ACCOUNT}:role/aws-harden/auditor", "/aws-harden/", AUDITOR_TRUST,
                    (AttachedPolicy("SecurityAudit", f"{POLICY}SecurityAudit"),))
OLD_KEY = AccessKey("AKIABOBOLD0000000000", "Active", NOW - timedelta(days=200), NOW - timedelta(days=100))


def hygiene(keys: tuple[StaleKey, ...] = (), passwords: tuple[StalePassword, ...] = ()) -> HygieneState:
    return HygieneState(NOW, keys, passwords, (), "admin", running_key="AKIARUNNING000000000")


CASES: dict[str, Case] = {
    # --- team-users: the catalogue's groups on demand, each person in one, console access, no keys ---------------
    "team-users/fresh": (TEAM_USERS, team(made=False), TEAM, [
        Planned(C, 'iam group "ReadOnly"', summary=["ReadOnlyAccess, IAMUserChangePassword"],
                fields={"path": (None, "/aws-harden/"), "policies": (None, "ReadOnlyAccess, IAMUserChangePassword")},
                operation=CreateGroup("ReadOnly", (f"{POLICY}ReadOnlyAccess", SELF))),
        Planned(C, 'iam group "Developers"', summary=["PowerUserAccess, IAMUserChangePassword"],
                fields={"path": (None, "/aws-harden/"), "policies": (None, "PowerUserAccess, IAMUserChangePassword")},
                operation=CreateGroup("Developers", (f"{POLICY}PowerUserAccess", SELF))),
        new_user("dana"), joins("dana", "Developers"),
        new_user("erin"), joins("erin", "ReadOnly"),
    ]),
    "team-users/done": (TEAM_USERS, team(made=True), TEAM, []),
    "team-users/nobody-listed": (TEAM_USERS, TeamState("admin", (), ()), {}, []),
    # --- support-role: AWSSupportAccess, assumable by the account's own principals with MFA ---------------------
    "support-role/fresh": (SUPPORT_ROLE, SupportRoleState("aws-harden-support", None, (), "admin", None), {}, [
        Planned(C, 'iam role "aws-harden-support"', summary=["AWSSupportAccess", "with MFA"], fields={
            "arn": (None, SUPPORT_ARN), "policy": (None, "AWSSupportAccess"),
            "trusted": (None, f"account {ACCOUNT}, with MFA")},
            operation=support_role.CreateRole("aws-harden-support", f"{POLICY}AWSSupportAccess"))]),
    "support-role/done": (SUPPORT_ROLE, SupportRoleState("aws-harden-support", SUPPORT, ("aws-harden-support",),
                                                         "admin", None), {}, []),
    # --- delegation-roles: a role another account assumes with an external id (a secret, to the keyring) --------
    "delegation-roles/fresh": (DELEGATION_ROLES, DelegationState((Delegated(
        "auditor", "210987654321", "SecurityAudit", None, None, None),)), AUDITOR, [
        Planned(C, 'iam role "auditor"', summary=["account 210987654321", "external id"],
                sensitive=frozenset({"external_id"}), fields={
                    "trusted": (None, "account 210987654321, with the external id"),
                    "external_id": (None, "generated, to the keyring"), "policies": (None, "SecurityAudit")},
                operation=delegation_roles.CreateRole("auditor", "210987654321", (f"{POLICY}SecurityAudit",)))]),
    "delegation-roles/done": (DELEGATION_ROLES, DelegationState((Delegated(
        "auditor", "210987654321", "SecurityAudit", AUDITOR_ROLE, EXTERNAL_ID,
        Trust("210987654321", EXTERNAL_ID, True)),)), AUDITOR, []),
    "delegation-roles/none-asked": (DELEGATION_ROLES, DelegationState(()), {}, []),
    # --- credential-hygiene: deactivation (typed consent), never deletion; the key in use left to the operator ---
    "credential-hygiene/clean": (CREDENTIAL_HYGIENE, hygiene(), {}, []),
    "credential-hygiene/old-key": (CREDENTIAL_HYGIENE, hygiene(keys=(StaleKey(
        "bob", OLD_KEY, ("older than 90 days",)),)), {}, [
        Planned(U, 'access key AKIABOBOLD0000000000 of "bob"', summary=["deactivate bob's key", "type bob"],
                confirm_value="bob", operation=DeactivateKey("bob", "AKIABOBOLD0000000000"))]),
    "credential-hygiene/running-key": (CREDENTIAL_HYGIENE, hygiene(keys=(StaleKey(
        "admin", AccessKey("AKIARUNNING000000000", "Active", NOW - timedelta(days=120)),
        ("older than 90 days",)),)), {}, [
        Planned(OP, 'access key AKIARUNNING000000000 of "admin"', summary=["this run signs with it"],
                operation=RotateKey("admin", "AKIARUNNING000000000"))]),
    "credential-hygiene/unused-password": (CREDENTIAL_HYGIENE, hygiene(passwords=(StalePassword(
        "bob", 60, NOW - timedelta(days=60), NOW - timedelta(days=400)),)), {}, [
        Planned(OP, 'console password of "bob"', summary=["unused for 60 days", "never does"],
                operation=DisablePassword("bob"))]),
}
