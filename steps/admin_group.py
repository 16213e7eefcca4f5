"""The admin group: administrator access granted through a group, with the admin user in it.

The wizard creates the group on the path /aws-harden/ (its mark: groups cannot be tagged, see
steps/provenance.py). A group of that name it did not create is shown in full and used only after the
operator types its name; AdministratorAccess never goes to a group whose other members the wizard did
not add without that same consent, because they would become administrators too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from steps import provenance
from steps.provenance import ADOPT_ANSWER, GROUP_PATH, Ownership
from steps.resources import attach_group_policy, create_group
from wizard import facts
from wizard.aws import Aws
from wizard.protocol import (
    Action,
    ApplyContext,
    Change,
    ChangeSkipped,
    FieldChange,
    Finding,
    Operation,
    Question,
    Step,
    StepContext,
    iam_name_problem,
)
from wizard.retry import TRANSIENT_CODES, with_backoff

ADMIN_POLICY_NAME = "AdministratorAccess"
NO_GROUP = Ownership("absent", "no such group")


def admin_policy_arn(partition: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{ADMIN_POLICY_NAME}"


def has_admin_access(user: facts.User, groups: Sequence[facts.Group | None], partition: str) -> bool:
    """The user (as wizard/facts.py reads it) has AdministratorAccess attached directly or through one of
    its groups (`groups`: facts.read_group of each of user.groups; None for one gone meanwhile)."""
    wanted = admin_policy_arn(partition)
    attached = [p.arn for p in user.attached_policies] + [
        p.arn for g in groups if g is not None for p in g.attached_policies]
    return wanted in attached


def read_admin_access(aws: Aws, user: facts.User | None, partition: str) -> bool:
    """has_admin_access, reading the user's groups; False for no user."""
    if user is None:
        return False
    return has_admin_access(user, aws.parallel(*(lambda g=g: facts.read_group(aws, g) for g in user.groups)), partition)


@dataclass(frozen=True)
class AdminGroupState:
    group: str
    member: str
    policy_arn: str
    exists: bool
    attached_policies: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    ownership: Ownership = NO_GROUP
    group_id: str | None = None
    path: str | None = None
    inline_policies: tuple[str, ...] = ()
    admin: Ownership = field(default_factory=lambda: Ownership("ours", "aws-harden's"))  # the admin user's

    @property
    def others(self) -> tuple[str, ...]:
        """Members the wizard did not add: everyone but its own (or adopted) admin user."""
        return tuple(m for m in self.members if m != self.member or not self.admin.usable)

    @property
    def foreign(self) -> bool:
        return self.exists and not self.ownership.usable

    @property
    def grants_to_others(self) -> bool:
        """Attaching AdministratorAccess now would make members the wizard did not add administrators."""
        return self.policy_arn not in self.attached_policies and bool(self.others)


@dataclass(frozen=True)
class Adopt(Operation):
    group: str
    group_id: str | None

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        provenance.adopt_group(aws, ctx, self.group, self.group_id)


@dataclass(frozen=True)
class CreateGroup(Operation):
    group: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        create_group(aws.client("iam"), self.group)


@dataclass(frozen=True)
class AttachPolicy(Operation):
    group: str
    policy_arn: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        _ensure_usable(aws, self.group, ctx)
        attach_group_policy(aws.client("iam"), self.group, self.policy_arn)


@dataclass(frozen=True)
class AddMember(Operation):
    group: str
    user: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        _ensure_usable(aws, self.group, ctx)
        iam = aws.client("iam")
        with_backoff(lambda: iam.add_user_to_group(GroupName=self.group, UserName=self.user),
                     retry_codes=TRANSIENT_CODES | {"NoSuchEntity"})


def _ensure_usable(aws: Aws, group: str, ctx: ApplyContext) -> None:
    """Read again at the moment of widening it: the group must still be aws-harden's or adopted, and,
    when AdministratorAccess is not on it yet, its other members must be the ones agreed to."""
    state = with_backoff(lambda: STEP.inspect(aws, ctx), retry_codes=TRANSIENT_CODES)
    if state.exists and (state.foreign or (state.grants_to_others and not provenance.noted(
            aws, "adopted", str(state.group_id)))):
        raise ChangeSkipped(f"group {group} is not aws-harden's or has members it did not add; nothing "
                            "was attached or added")


class AdminGroup(Step[AdminGroupState]):
    id = "admin-group"
    title = "Admin group with administrator access"
    remediates = ()  # grants admin through a group; no control checks that it exists
    checks = "a group with AdministratorAccess exists and the admin user is a member"
    writes = frozenset({"iam:CreateGroup", "iam:AttachGroupPolicy", "iam:AddUserToGroup"})
    reads = frozenset({"iam:GetGroup", "iam:ListAttachedGroupPolicies"}) | provenance.ADMIN_PATH_READS

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                "name",
                "Name of the admin group",
                default="FullAccess",
                validate=lambda v: iam_name_problem(v, 128),
            ),
            Question(
                ADOPT_ANSWER,
                "Name of an existing group aws-harden did not create (or whose other members would become "
                "administrators), to use it unattended",
                default=None,
                help="answers file only; at a terminal the wizard shows the group and asks you to type its name",
                validate=lambda v: iam_name_problem(v, 128),
                prompted=False,
            ),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> AdminGroupState:
        """The group as the controls read it (wizard/facts.py) and whose the admin user is."""
        group = str(ctx.answer("name"))
        member = str(ctx.answer_of("admin-user", "name"))
        policy_arn = admin_policy_arn(ctx.caller.partition)
        found, user = aws.parallel(lambda: facts.read_group(aws, group),
                                   lambda: provenance.read_user(aws.client("iam"), member))
        admin = provenance.user_ownership(aws, ctx.caller, user)
        if found is None:
            return AdminGroupState(group, member, policy_arn, exists=False, admin=admin)
        return AdminGroupState(group, member, policy_arn, True, tuple(p.arn for p in found.attached_policies),
                               found.members, provenance.group_ownership(aws, ctx.caller.account, found.as_get_group()),
                               found.group_id, found.path, found.inline_policies, admin)

    def findings(self, state: AdminGroupState, ctx: StepContext) -> list[Finding]:
        if not state.exists:
            return [Finding(f"no IAM group named {state.group}", observed={"group": None})]
        policies = ", ".join(p.split("/")[-1] for p in state.attached_policies) or "none"
        found = [
            Finding(
                f"group {state.group}: policies {policies}; members {provenance.listing(state.members)}; inline "
                f"policies {provenance.listing(state.inline_policies)} ({state.ownership.reason})",
                severity="warning" if state.foreign else "info",
                observed={"path": state.path, "policies": list(state.attached_policies),
                          "inline_policies": list(state.inline_policies), "members": list(state.members)},
            )
        ]
        if state.others and state.policy_arn in state.attached_policies:
            found.append(Finding(
                f"members of {state.group} that aws-harden did not add are administrators too: "
                f"{', '.join(state.others)}; review them in the IAM console",
                severity="warning", observed={"members_not_added_by_aws_harden": list(state.others)}))
        return found

    def plan(self, state: AdminGroupState, ctx: StepContext) -> list[Change]:
        changes: list[Change] = []
        if state.foreign or state.grants_to_others:
            changes.append(self._adopt(state))
        if not state.exists:
            changes.append(
                Change(Action.CREATE, CreateGroup(state.group), f'iam group "{state.group}"',
                       f"create group {state.group} on the path {GROUP_PATH} (aws-harden's mark)",
                       operations=("iam:CreateGroup",), fields=(FieldChange("path", None, GROUP_PATH),))
            )
        if state.policy_arn not in state.attached_policies:
            changes.append(
                Change(
                    Action.CREATE,
                    AttachPolicy(state.group, state.policy_arn),
                    f'policy {ADMIN_POLICY_NAME} on group "{state.group}"',
                    f"attach {ADMIN_POLICY_NAME} to {state.group}",
                    operations=("iam:AttachGroupPolicy",),
                )
            )
        if state.member not in state.members:
            waits = provenance.waits_for_admin(state.member, state.admin, absent_too=True)
            changes.append(
                Change(
                    Action.CREATE,
                    AddMember(state.group, state.member),
                    f'member "{state.member}" of group "{state.group}"',
                    f"add {state.member} to {state.group}" + (f" (waits: {waits})" if waits else ""),
                    operations=("iam:AddUserToGroup",),
                    waits_for=waits,
                )
            )
        return changes

    @staticmethod
    def _adopt(state: AdminGroupState) -> Change:
        why = [state.ownership.reason] if state.foreign else []
        if state.grants_to_others:
            why.append(f"members aws-harden did not add would become administrators: {', '.join(state.others)}")
        return Change(
            Action.UPDATE,
            Adopt(state.group, state.group_id),
            f'iam group "{state.group}"',
            f"use group {state.group} as the admin group ({'; '.join(why)}); type its name to agree",
            fields=(FieldChange("aws-harden's", "no", "yes, adopted as it is"),),
            instructions=(
                f"path {state.path}",
                f"attached policies: {provenance.listing(state.attached_policies)}",
                f"inline policies: {provenance.listing(state.inline_policies)}",
                f"members: {provenance.listing(state.members)}",
            ),
            confirm_value=state.group,
            confirm_answer=ADOPT_ANSWER,
            others_depend_on_it=True,
        )


STEP = AdminGroup()
