"""The write guard: plan and check send no write even when a step tries; apply refuses undeclared writes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

import steps
from steps.admin_user import AdminUser, AdminUserState
from tests.conftest import Account
from wizard.answers import AnswerBook
from wizard.aws import Aws
from wizard.engine import Engine, StepFailed
from wizard.errors import WriteRefused
from wizard.interaction import Interaction
from wizard.protocol import ApplyContext, Change, Operation, StepContext
from wizard.render import Renderer, Ui
from wizard.write_guard import WriteGuard


class RogueInspect(AdminUser):
    """A buggy step that writes while inspecting."""

    def inspect(self, aws: Aws, ctx: StepContext) -> AdminUserState:
        aws.client("iam").create_user(UserName="rogue")
        return super().inspect(aws, ctx)


@dataclass(frozen=True)
class AttachingToo(Operation):
    """A step's planned operation, then a write the step never declared."""

    inner: Operation

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        self.inner.apply(aws, ctx)
        aws.client("iam").attach_user_policy(
            UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )


class UndeclaredWrite(AdminUser):
    """Declares CreateUser/CreateLoginProfile, then also tries to attach a policy."""

    def plan(self, state: AdminUserState, ctx: StepContext) -> list[Change]:
        return [replace(c, operation=AttachingToo(c.operation)) for c in super().plan(state, ctx)]


def engine(aws: Aws, steps: Sequence[Any], yes: bool = True) -> Engine:
    listener = Renderer(Ui(out=io.StringIO(), err=io.StringIO(), width=100))
    return Engine(aws, steps, AnswerBook({}, steps), listener, Interaction(None, listener, yes=yes))


def users(account: Account) -> list[str]:
    return [u["UserName"] for u in account.raw("iam").list_users()["Users"]]


@pytest.mark.parametrize("mode", ["check", "plan"])
def test_read_only_modes_refuse_a_rogue_write(account: Account, mode: str) -> None:
    aws = account.aws()
    outcomes = getattr(engine(aws, [RogueInspect()]), mode)()
    assert outcomes[0].status.value == "error"
    assert "write guard refused iam:CreateUser" in outcomes[0].reason
    assert aws.guard.sent_writes == [] and aws.guard.refused_writes == ["iam:CreateUser"]
    assert "rogue" not in users(account)


def test_locked_guard_refuses_apply_itself(account: Account) -> None:
    aws = account.aws(locked=True)
    with pytest.raises(StepFailed, match="read-only"):
        engine(aws, [AdminUser()]).apply()
    assert users(account) == []


def test_apply_refuses_undeclared_write(account: Account) -> None:
    aws = account.aws()
    with pytest.raises(StepFailed, match="iam:AttachUserPolicy"):
        engine(aws, [UndeclaredWrite()]).apply()
    assert aws.guard.refused_writes == ["iam:AttachUserPolicy"]
    attached = account.raw("iam").list_attached_user_policies(UserName="admin")["AttachedPolicies"]
    assert attached == []


def test_inspect_phase_of_apply_is_read_only_too(account: Account) -> None:
    aws = account.aws()
    with pytest.raises(StepFailed, match="write guard refused iam:CreateUser"):
        engine(aws, [RogueInspect()]).apply()
    assert "rogue" not in users(account)


def test_reads_are_an_allow_list_not_a_verb() -> None:
    """Get/List names that mint credentials or were never declared are not reads."""
    guard = WriteGuard(reads=steps.declared_reads())
    for op in ("iam:GetUser", "iam:ListUsers", "cloudtrail:DescribeTrails", "s3:HeadBucket", "sts:GetCallerIdentity"):
        assert guard.is_read(op)
    for op in ("sts:GetSessionToken", "sts:GetFederationToken", "sso:GetRoleCredentials", "iam:GetSSHPublicKey",
               "iam:CreateUser", "iam:GenerateCredentialReport", "s3:PutBucketPolicy", "cloudtrail:StartLogging"):
        assert not guard.is_read(op)
    guard.lock()
    with pytest.raises(WriteRefused, match="sts:GetSessionToken: this run is read-only"):
        guard.check("sts:GetSessionToken")


def test_guard_allows_only_inside_allowing() -> None:
    guard = WriteGuard()
    with pytest.raises(WriteRefused):
        guard.check("iam:CreateUser")
    with guard.allowing(frozenset({"iam:CreateUser"})):
        guard.check("iam:CreateUser")
        with pytest.raises(WriteRefused):
            guard.check("iam:DeleteUser")
    with pytest.raises(WriteRefused):
        guard.check("iam:CreateUser")
    assert guard.sent_writes == ["iam:CreateUser"]


def test_a_stubbed_write_is_refused_before_the_stubber_answers(account: Account) -> None:
    """The guard is on each step client from its creation, so a Stubber (or moto, or any hook) added later
    cannot answer a write first; the credential lookup, on the session, is never guarded."""
    from botocore.stub import Stubber

    aws = account.aws(locked=True)
    iam = aws.client("iam")
    with Stubber(iam) as stubber:
        stubber.add_response("create_user", {"User": {"Path": "/", "UserName": "x", "UserId": "AIDAEXAMPLE0000000000",
                                                      "Arn": "arn:aws:iam::123456789012:user/x",
                                                      "CreateDate": "2026-01-01T00:00:00Z"}})
        with pytest.raises(WriteRefused, match="iam:CreateUser"):
            iam.create_user(UserName="x")
        assert len(stubber._queue) == 1  # the stubbed answer was never reached
    assert aws.guard.refused_writes == ["iam:CreateUser"]
    # The session itself carries no guard (botocore's credential providers make their clients from it).
    aws.session.client("sts").get_session_token()
    assert aws.guard.refused_writes == ["iam:CreateUser"]
