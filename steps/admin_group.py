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
from wizard import facts
from wizard.aws import Aws
from wizard.protocol import (
    Action,
    ApplyContext,
    Change,
    ChangeSkipped,
    FieldChange,
    Finding,
    Question,
    Step,
    StepContext,
    iam_name_problem,
)
from wizard.reads import absent_is_none
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff

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
                Change(Action.CREATE, "create-group", f'iam group "{state.group}"',
                       f"create group {state.group} on the path {GROUP_PATH} (aws-harden's mark)",
                       operations=("iam:CreateGroup",), fields=(FieldChange("path", None, GROUP_PATH),),
                       params={"group": state.group})
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
            waits = provenance.waits_for_admin(state.member, state.admin, absent_too=True)
            changes.append(
                Change(
                    Action.CREATE,
                    "add-member",
                    f'member "{state.member}" of group "{state.group}"',
                    f"add {state.member} to {state.group}" + (f" (waits: {waits})" if waits else ""),
                    operations=("iam:AddUserToGroup",),
                    params={"group": state.group, "user": state.member},
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
            "adopt",
            f'iam group "{state.group}"',
            f"use group {state.group} as the admin group ({'; '.join(why)}); type its name to agree",
            fields=(FieldChange("aws-harden's", "no", "yes, adopted as it is"),),
            params={"group": state.group, "group_id": state.group_id},
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

    def apply(self, aws: Aws, change: Change, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        group = str(change.params["group"])
        if change.key == "adopt":
            found = absent_is_none(lambda: iam.get_group(GroupName=group))
            if found is None or str(found["Group"]["GroupId"]) != change.params["group_id"]:
                raise ChangeSkipped(f"group {group} changed since the plan; run again to see it")
            if not provenance.record_adoption(aws, ctx.caller.account, provenance.group_entry(group),
                                              str(change.params["group_id"])):
                ctx.output(f"adoption of group {group}", "for this run only: no working keyring to remember it")
        elif change.key == "create-group":
            try:
                with_backoff(lambda: iam.create_group(GroupName=group, Path=GROUP_PATH))
            except Exception as exc:
                if error_code(exc) != "EntityAlreadyExists":
                    raise
                raise ChangeSkipped(f"a group named {group} appeared meanwhile; run again to see whose") from None
        elif change.key == "attach-policy":
            self._ensure_usable(aws, group, ctx)
            with_backoff(
                lambda: iam.attach_group_policy(GroupName=group, PolicyArn=str(change.params["policy_arn"])),
                retry_codes=TRANSIENT_CODES | {"NoSuchEntity"},
            )
        elif change.key == "add-member":
            self._ensure_usable(aws, group, ctx)
            with_backoff(
                lambda: iam.add_user_to_group(GroupName=group, UserName=str(change.params["user"])),
                retry_codes=TRANSIENT_CODES | {"NoSuchEntity"},
            )
        else:
            raise ValueError(f"unknown change {change.key}")

    def _ensure_usable(self, aws: Aws, group: str, ctx: ApplyContext) -> None:
        """Read again at the moment of widening it: the group must still be aws-harden's or adopted, and,
        when AdministratorAccess is not on it yet, its other members must be the ones agreed to."""
        state = with_backoff(lambda: self.inspect(aws, ctx), retry_codes=TRANSIENT_CODES)
        if state.exists and (state.foreign or (state.grants_to_others and not provenance.noted(
                aws, "adopted", str(state.group_id)))):
            raise ChangeSkipped(f"group {group} is not aws-harden's or has members it did not add; nothing "
                                "was attached or added")


STEP = AdminGroup()
