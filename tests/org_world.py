"""An AWS Organization in in-process moto, for the organization tests: the `account` fixture's account as the
management account, an IAM admin there to run as (AssumeRoot refuses root), and a few member accounts arranged
as wizard/sandbox/organization.py's Member says (the sandbox organization arranges its members the same way).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import Account
from wizard.aws import isolated_session
from wizard.sandbox.organization import ADMIN_POLICY, ADMIN_USER, Member, arrange_member
from wizard.sandbox.server import SETUP_KEY, in_account

MANAGEMENT = "123456789012"


@dataclass
class OrgWorld:
    account: Account
    admin_key: str
    admin_secret: str
    organization_id: str
    members: dict[str, str] = field(default_factory=dict)  # name -> account id

    def client(self, service: str, account: str = MANAGEMENT) -> Any:
        """An unguarded client acting in `account`, for arranging and reading state."""
        client = isolated_session(SETUP_KEY, "x", "us-east-1").client(service)
        if account != MANAGEMENT:
            in_account(client, account)
        return client

    def admin(self, service: str) -> Any:
        return isolated_session(self.admin_key, self.admin_secret, "us-east-1").client(service)

    def id(self, name: str) -> str:
        return self.members[name]

    def act_as_role(self, name: str, monkeypatch: Any) -> None:
        """Later runs of the program sign as OrganizationAccountAccessRole in the member `name`."""
        credentials = self.admin("sts").assume_role(
            RoleArn=f"arn:aws:iam::{self.id(name)}:role/OrganizationAccountAccessRole",
            RoleSessionName="aws-harden")["Credentials"]
        for var, key in (("AWS_ACCESS_KEY_ID", "AccessKeyId"), ("AWS_SECRET_ACCESS_KEY", "SecretAccessKey"),
                         ("AWS_SESSION_TOKEN", "SessionToken")):
            monkeypatch.setenv(var, credentials[key])

    def add(self, member: Member) -> str:
        created = self.admin("organizations").create_account(AccountName=member.name,
                                                             Email=f"{member.name}@example.com")
        account = str(created["CreateAccountStatus"]["AccountId"])
        arrange_member(self.client("iam", account), member)
        self.members[member.name] = account
        return account


def organization(account: Account, members: Iterable[Member], monkeypatch: Any) -> OrgWorld:
    """The organization; later runs of the program sign as the management account's admin."""
    from wizard.secrets import redact_aws_logs

    redact_aws_logs()  # as the program does: the admin's secret below is one it later holds
    iam = account.raw("iam")
    iam.create_user(UserName=ADMIN_USER)
    iam.attach_user_policy(UserName=ADMIN_USER, PolicyArn=ADMIN_POLICY)
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    org = isolated_session(key["AccessKeyId"], key["SecretAccessKey"], "us-east-1").client("organizations")
    org_id = str(org.create_organization(FeatureSet="ALL")["Organization"]["Id"])
    world = OrgWorld(account, key["AccessKeyId"], key["SecretAccessKey"], org_id)
    for member in members:
        world.add(member)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin_secret)
    assert os.environ["AWS_REGION"] == "us-east-1"
    return world
