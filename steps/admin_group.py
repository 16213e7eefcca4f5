"""The admin group: administrator access granted through a group, with the admin user in it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wizard.aws import Aws
from wizard.protocol import (
    Action,
    ApplyContext,
    Change,
    Finding,
    Question,
    Step,
    StepContext,
    iam_name_problem,
)
from wizard.reads import absent_is_none
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff

ADMIN_POLICY_NAME = "AdministratorAccess"


def admin_policy_arn(partition: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{ADMIN_POLICY_NAME}"


@dataclass(frozen=True)
class AdminGroupState:
    group: str
    member: str
    policy_arn: str
    exists: bool
    attached_policies: tuple[str, ...] = ()
    members: tuple[str, ...] = ()


class AdminGroup(Step[AdminGroupState]):
    id = "admin-group"
    title = "Admin group with administrator access"
    remediates = ()  # grants admin through a group; no control checks that it exists
    checks = "a group with AdministratorAccess exists and the admin user is a member"
    writes = frozenset({"iam:CreateGroup", "iam:AttachGroupPolicy", "iam:AddUserToGroup"})
    reads = frozenset({"iam:GetGroup", "iam:ListAttachedGroupPolicies"})

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                "name",
                "Name of the admin group",
                default="FullAccess",
                validate=lambda v: iam_name_problem(v, 128),
            ),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> AdminGroupState:
        iam = aws.client("iam")
        group = str(ctx.answer("name"))
        member = str(ctx.answer_of("admin-user", "name"))
        policy_arn = admin_policy_arn(ctx.caller.partition)

        def members() -> tuple[str, ...]:
            pages = iam.get_paginator("get_group").paginate(GroupName=group)
            return tuple(u["UserName"] for page in pages for u in page["Users"])

        def attached() -> tuple[str, ...]:
            pages = iam.get_paginator("list_attached_group_policies").paginate(GroupName=group)
            return tuple(p["PolicyArn"] for page in pages for p in page["AttachedPolicies"])

        found_members, found_attached = aws.parallel(lambda: absent_is_none(members), lambda: absent_is_none(attached))
        if found_members is None or found_attached is None:
            return AdminGroupState(group, member, policy_arn, exists=False)
        return AdminGroupState(group, member, policy_arn, True, found_attached, found_members)

    def findings(self, state: AdminGroupState, ctx: StepContext) -> list[Finding]:
        if not state.exists:
            return [Finding(f"no IAM group named {state.group}", observed={"group": None})]
        policies = ", ".join(p.split("/")[-1] for p in state.attached_policies) or "none"
        return [
            Finding(
                f"group {state.group}: policies {policies}; members {', '.join(state.members) or 'none'}",
                observed={"policies": list(state.attached_policies), "members": list(state.members)},
            )
        ]

    def plan(self, state: AdminGroupState, ctx: StepContext) -> list[Change]:
        changes: list[Change] = []
        if not state.exists:
            changes.append(
                Change(Action.CREATE, "create-group", f'iam group "{state.group}"', f"create group {state.group}",
                       operations=("iam:CreateGroup",), params={"group": state.group})
            )
        if state.policy_arn not in state.attached_policies:
            changes.append(
                Change(
                    Action.CREATE,
                    "attach-policy",
                    f'policy {ADMIN_POLICY_NAME} on group "{state.group}"',
                    f"attach {ADMIN_POLICY_NAME} to {state.group}",
                    operations=("iam:AttachGroupPolicy",),
                    params={"group": state.group, "policy_arn": state.policy_arn},
                )
            )
        if state.member not in state.members:
            changes.append(
                Change(
                    Action.CREATE,
                    "add-member",
                    f'member "{state.member}" of group "{state.group}"',
                    f"add {state.member} to {state.group}",
                    operations=("iam:AddUserToGroup",),
                    params={"group": state.group, "user": state.member},
                )
            )
        return changes

    def apply(self, aws: Aws, change: Change, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        group = str(change.params["group"])
        if change.key == "create-group":
            try:
                with_backoff(lambda: iam.create_group(GroupName=group))
            except Exception as exc:
                if error_code(exc) != "EntityAlreadyExists":
                    raise
        elif change.key == "attach-policy":
            with_backoff(
                lambda: iam.attach_group_policy(GroupName=group, PolicyArn=str(change.params["policy_arn"])),
                retry_codes=TRANSIENT_CODES | {"NoSuchEntity"},
            )
        elif change.key == "add-member":
            with_backoff(
                lambda: iam.add_user_to_group(GroupName=group, UserName=str(change.params["user"])),
                retry_codes=TRANSIENT_CODES | {"NoSuchEntity"},
            )
        else:
            raise ValueError(f"unknown change {change.key}")


STEP = AdminGroup()
