"""The sandbox organization (`--sandbox --organization`): a management account and four member accounts in the
same moto server, for trying check / plan / apply --organization and the central root lockdown.

- the management account 123456789012, fresh but for the organization (all features) and an IAM user
  `org-admin` with AdministratorAccess, which the wizard runs as (AWS refuses sts:AssumeRoot to root, and the
  management account's root should not be used day to day);
- `dev`, fresh: no password policy; its root user has a password and an access key;
- `staging`, half-hardened: the wizard's password policy; root has a password and a virtual MFA device;
- `prod`, hardened as far as a member goes without the wizard: the password policy, and no root credentials;
- `legacy`, an account whose OrganizationAccountAccessRole is gone (as in an invited account): it cannot be
  reached through the role, and says so; its root has a password.

Each member account was created through Organizations, so it has OrganizationAccountAccessRole trusting the
management account (with AdministratorAccess, as Organizations attaches it), and a root user modelled like the
sandbox's own (root_user.py). Accounts and ids come out the same on every start (moto's random source is seeded);
later changes are replayed from the write log like the single account's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.sandbox import root_user
from wizard.sandbox.replay import seed_moto
from wizard.sandbox.server import DUMMY_SECRET, SETUP_KEY, Sandbox, SandboxCredentials

ADMIN_USER = "org-admin"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
ROLE = "OrganizationAccountAccessRole"
# Root's console password in the sandbox's member accounts: a placeholder (moto stores passwords as given), never
# anything the wizard made or shows.
ROOT_PASSWORD = "Sandbox-Member-Root-Placeholder-1!"
STRONG_POLICY = {
    "MinimumPasswordLength": 14, "RequireSymbols": True, "RequireNumbers": True, "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True, "AllowUsersToChangePassword": True, "PasswordReusePrevention": 24,
}


@dataclass(frozen=True)
class Member:
    name: str
    password_policy: bool = False
    root_password: bool = True
    root_key: bool = False
    root_mfa: bool = False
    role: bool = True


MEMBERS = (
    Member("dev", root_key=True),
    Member("staging", password_policy=True, root_mfa=True),
    Member("prod", password_policy=True, root_password=False),
    Member("legacy", role=False),
)


class OrganizationSandbox(Sandbox):
    """The sandbox account as an organization's management account, with MEMBERS."""

    admin_key = ""
    member_ids: dict[str, str]

    def seed(self) -> None:
        from wizard.secrets import redact_aws_logs

        redact_aws_logs()  # a member's root MFA seed passes through the logs below
        seed_moto(-2)
        iam = self._admin_client("iam", "us-east-1")
        iam.create_user(UserName=ADMIN_USER)
        iam.attach_user_policy(UserName=ADMIN_USER, PolicyArn=ADMIN_POLICY)
        self.admin_key = str(iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]["AccessKeyId"])
        organizations = self._admin_client("organizations", "us-east-1")
        organizations.create_organization(FeatureSet="ALL")
        self.member_ids = {}
        for index, member in enumerate(MEMBERS):
            seed_moto(-10 - index)
            created = organizations.create_account(AccountName=member.name, Email=f"{member.name}@example.com")
            account = str(created["CreateAccountStatus"]["AccountId"])
            self.member_ids[member.name] = account
            self._arrange(member, account)

    def _arrange(self, member: Member, account: str) -> None:
        arrange_member(self._client_as("iam", "us-east-1", SETUP_KEY, account), member)

    def credentials(self) -> SandboxCredentials:
        """The management account's `org-admin` (never root: AWS refuses sts:AssumeRoot to root)."""
        return SandboxCredentials(self.admin_key, DUMMY_SECRET)

    def describe(self) -> str:
        members = ", ".join(f"{name} {account}" for name, account in self.member_ids.items())
        return f"an organization: management account 123456789012 and members {members}"


def arrange_member(iam: Any, member: Member) -> None:
    """A member account's root user and settings as `member` says, through an unguarded client acting in it."""
    if member.root_key:
        root_user.create_root(iam)
    else:
        root_user.create_root_without_keys(iam)
    if member.root_password:
        iam.create_login_profile(UserName=root_user.ROOT_NAME, Password=ROOT_PASSWORD)
    if member.root_mfa:
        root_user.assign_root_mfa(iam)
    if member.password_policy:
        iam.update_account_password_policy(**STRONG_POLICY)
    if member.role:
        iam.attach_role_policy(RoleName=ROLE, PolicyArn=ADMIN_POLICY)
    else:
        iam.delete_role(RoleName=ROLE)
