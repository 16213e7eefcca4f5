"""One IAM user per person on the team, each in one least-privilege group of the catalogue (steps/team_catalogue.py).

Users get console access with a generated password that must be changed at the first sign-in, no access
keys (CIS: none at initial setup) and nothing attached directly. The password goes to the keyring under the
account and the user, or, for a person who is here, is shown once on this terminal (never to a redirected
stdout). Whose a user or group is, is decided as for the admin (steps/provenance.py): a user or group of
the same name aws-harden did not make is never taken over without the operator's typed consent, and a
group's other members never gain access without it. Removing someone from the list never deletes them.

The whole directory is read in one paginated call (GetAccountAuthorizationDetails), and each listed user's
login profile once; nothing is read again per change for a user this run made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from steps import provenance
from steps.admin_user import password_rules
from steps.provenance import ADOPT_ANSWER, Ownership
from steps.resources import attach_group_policy, create_group
from steps.team_catalogue import BY_NAME, CATALOGUE, NAMES, Access, policy_name
from wizard.answers import rows_from_line, rows_line, rows_problem
from wizard.aws import Aws
from wizard.facts import (
    Directory,
    DirectoryGroup,
    DirectoryUser,
    read_directory,
    read_login_profile,
    read_password_policy,
)
from wizard.protocol import (
    KNOWN_AFTER_APPLY,
    SHOWN_ONCE,
    Action,
    AnswerValue,
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
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff
from wizard.secrets import KEYRING_SERVICE, PasswordRules, generate_password, keyring_entry

FIELDS = ("name", "group")
# More people than this are better served by IAM Identity Center with an identity provider (one sign-in,
# no IAM user each), which AWS recommends for a workforce (IAM User Guide, "Security best practices in IAM").
MAX_USERS = 100
GROUP_PATH = provenance.GROUP_PATH
ADMIN_ACCESS = "AdministratorAccess"


def users_problem(value: AnswerValue) -> str | None:
    """Before anything runs: the list's shape, names, groups and duplicates, one reason naming the entry."""
    shape = rows_problem(value, "users", FIELDS, MAX_USERS)
    if shape is not None:
        if isinstance(value, list) and len(value) > MAX_USERS:
            return (f"{shape} (for a larger team, AWS recommends IAM Identity Center with an identity provider "
                    "instead of one IAM user each)")
        return shape
    assert isinstance(value, list)
    seen: dict[str, str] = {}
    for number, row in enumerate(value, start=1):
        name, group = row["name"], row["group"]
        problem = iam_name_problem(name, 64)
        if problem is not None:
            return f"users[{number}] name {name!r}: {problem}"
        if group not in BY_NAME:
            return f"users[{number}] ({name}): unknown group {group!r} (one of {', '.join(NAMES)})"
        # IAM user names are unique regardless of case (IAM User Guide, "IAM identifiers").
        if name.lower() in seen:
            return f"users[{number}] ({name}): listed twice (IAM names ignore case: {seen[name.lower()]!r} too)"
        seen[name.lower()] = name
    return None


@dataclass(frozen=True)
class GroupState:
    access: Access
    wanted: tuple[str, ...]  # policy ARNs
    found: DirectoryGroup | None
    ownership: Ownership
    listed: tuple[str, ...]  # the team members the list puts in it

    @property
    def missing(self) -> tuple[str, ...]:
        have = self.found.attached_policies if self.found else ()
        return tuple(p for p in self.wanted if p not in have)

    @property
    def extra(self) -> tuple[str, ...]:
        return tuple(p for p in self.found.attached_policies if p not in self.wanted) if self.found else ()

    @property
    def strangers(self) -> tuple[str, ...]:
        """Members the list does not put in it: they would gain whatever is attached now."""
        listed = {n.lower() for n in self.listed}
        return tuple(m for m in self.found.members if m.lower() not in listed) if self.found else ()

    @property
    def needs_consent(self) -> bool:
        return self.found is not None and (not self.ownership.usable or (bool(self.missing) and bool(self.strangers)))


@dataclass(frozen=True)
class Member:
    name: str
    group: str
    found: DirectoryUser | None
    ownership: Ownership
    console: bool = False

    @property
    def usable(self) -> bool:
        return self.found is not None and self.ownership.usable


@dataclass(frozen=True)
class TeamState:
    admin: str
    members: tuple[Member, ...]  # the list, less the admin user
    groups: tuple[GroupState, ...]  # the catalogue groups the list uses
    left_alone: tuple[tuple[str, str], ...] = ()  # (user, group): aws-harden's users no longer listed
    password_rules: PasswordRules = field(default_factory=PasswordRules)
    ours: frozenset[str] = frozenset()  # catalogue groups (lower-case) on aws-harden's path
    admin_listed: str | None = None  # the admin user's name, when the list names it too

    def group(self, name: str) -> GroupState:
        return next(g for g in self.groups if g.access.name == name)


def listed_users(ctx: StepContext) -> list[dict[str, str]]:
    value = ctx.answer_of("team-users", "users") or []
    return [dict(row) for row in value if isinstance(row, dict)]


# --- operations --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdoptGroup(Operation):
    """Record the operator's consent to use the group, if it is still the one planned (same id)."""

    group: str
    group_id: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        provenance.adopt_group(aws, ctx, self.group, self.group_id)


@dataclass(frozen=True)
class CreateGroup(Operation):
    """The group on aws-harden's path, then its catalogue policies."""

    group: str
    policies: tuple[str, ...]

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        create_group(iam, self.group)
        provenance.note(aws, "team-group", self.group)
        for arn in self.policies:
            attach_group_policy(iam, self.group, arn)


@dataclass(frozen=True)
class AttachPolicy(Operation):
    """A catalogue policy on an existing group; with `consent`, only once this run recorded the adoption."""

    group: str
    policy_arn: str
    group_id: str
    consent: bool

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        if self.consent and not provenance.noted(aws, "adopted", self.group_id):
            raise ChangeSkipped(f"group {self.group} is not aws-harden's or has members the list does not name, and "
                                "nobody agreed to use it; nothing was attached")
        attach_group_policy(aws.client("iam"), self.group, self.policy_arn)


@dataclass(frozen=True)
class AdoptUser(Operation):
    """Record the operator's consent to use the user, if it is still the one planned (same id)."""

    user: str
    user_id: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        provenance.adopt_user(aws, ctx, self.user, self.user_id)


@dataclass(frozen=True)
class CreateUser(Operation):
    """The password is kept (or shown) before the user exists: if it cannot be, nothing is created."""

    user: str
    minimum_length: int

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam, name = aws.client("iam"), self.user
        password = generate_password(PasswordRules(minimum_length=self.minimum_length))
        where = ctx.keep_secret(f"{name}/{provenance.PASSWORD_ENTRY}", f"console password for {name}", password,
                                offer_show=True)
        try:
            created = with_backoff(lambda: iam.create_user(UserName=name, Tags=provenance.TAGS))["User"]
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            _forget_password(ctx.caller.account, name)  # it must not make a stranger's user look like ours
            raise ChangeSkipped(f"an IAM user named {name} appeared meanwhile; run again to see whose") from None
        user_id = str(created["UserId"])
        provenance.note(aws, "created", user_id)
        provenance.note(aws, "team-user", name)
        with_backoff(lambda: iam.create_login_profile(UserName=name, Password=password.reveal(),
                                                      PasswordResetRequired=True),
                     retry_codes=TRANSIENT_CODES | {"NoSuchEntity"})  # a just-created user may not be visible yet
        _after_password(aws, ctx, name, user_id, where)


@dataclass(frozen=True)
class ConsoleAccess(Operation):
    """A console password for a user without one, if the user is (still) aws-harden's or adopted."""

    user: str
    minimum_length: int

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam, name = aws.client("iam"), self.user
        user: dict[str, Any] = with_backoff(lambda: iam.get_user(UserName=name)["User"],
                                            retry_codes=TRANSIENT_CODES | {"NoSuchEntity"})
        if not provenance.user_ownership(aws, ctx.caller, user).usable:  # read again at the moment of acting
            raise ChangeSkipped(f"IAM user {name} is not aws-harden's; nothing was given to it")
        password = generate_password(PasswordRules(minimum_length=self.minimum_length))
        where = ctx.keep_secret(f"{name}/{provenance.PASSWORD_ENTRY}", f"console password for {name}", password,
                                offer_show=True)
        with_backoff(lambda: iam.create_login_profile(UserName=name, Password=password.reveal(),
                                                      PasswordResetRequired=True))
        _after_password(aws, ctx, name, str(user["UserId"]), where)


def _after_password(aws: Aws, ctx: ApplyContext, name: str, user_id: str, where: str) -> None:
    provenance.note(aws, "password", user_id)
    if where == SHOWN_ONCE and not provenance.record_shown(aws, ctx.caller.account, name, user_id):
        ctx.output(f"{name} is aws-harden's", "for this run only: no working keyring to remember it")


@dataclass(frozen=True)
class JoinGroup(Operation):
    """Only aws-harden's (or adopted) user into aws-harden's (or adopted) group; decided from what the plan
    read (`user_ready`, `group_ready`) and what this run did, without reading again. An id is "" when the
    plan saw no such user or group."""

    user: str
    group: str
    user_id: str
    group_id: str
    user_ready: bool
    group_ready: bool

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        user_ready = (self.user_ready or provenance.noted(aws, "team-user", self.user)
                      or provenance.noted(aws, "adopted", self.user_id))
        group_ready = (self.group_ready or provenance.noted(aws, "team-group", self.group)
                       or provenance.noted(aws, "adopted", self.group_id))
        if not (user_ready and group_ready):
            which = f"IAM user {self.user}" if not user_ready else f"group {self.group}"
            raise ChangeSkipped(f"{which} is not aws-harden's and nobody agreed to use it; {self.user} was not added")
        iam = aws.client("iam")
        with_backoff(lambda: iam.add_user_to_group(GroupName=self.group, UserName=self.user),
                     retry_codes=TRANSIENT_CODES | {"NoSuchEntity"})


@dataclass(frozen=True)
class LeaveGroup(Operation):
    """Out of another of aws-harden's catalogue groups (never any other group)."""

    user: str
    group: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        iam = aws.client("iam")
        with_backoff(lambda: iam.remove_user_from_group(GroupName=self.group, UserName=self.user))


class TeamUsers(Step[TeamState]):
    id = "team-users"
    title = "One IAM user per person, in a least-privilege group"
    remediates = ()  # its users get permissions through groups only; every control is about the whole account
    checks = ("each person listed has their own IAM user with console access, in exactly one catalogue group "
              "holding only its AWS managed policies; no access keys, no direct policies")
    writes = frozenset({"iam:CreateGroup", "iam:AttachGroupPolicy", "iam:CreateUser", "iam:CreateLoginProfile",
                        "iam:AddUserToGroup", "iam:RemoveUserFromGroup"})
    reads = frozenset({"iam:GetAccountAuthorizationDetails", "iam:GetLoginProfile", "iam:GetUser", "iam:GetGroup",
                       "iam:GetAccountPasswordPolicy"})

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                "users", "People on the team, each with a group", default=[], kind="list",
                help=f"name:group, comma-separated (groups: {', '.join(NAMES)}); empty for none",
                validate=users_problem, parse=lambda line: rows_from_line(line, FIELDS),
                shown=lambda value: rows_line(value, FIELDS),
            ),
            Question(
                ADOPT_ANSWER, "Existing IAM users and groups aws-harden did not create, to use them unattended",
                default=None, kind="list", validate=provenance.names_problem, prompted=False,
                help="answers file only; at a terminal the wizard shows each and asks you to type its name",
            ),
        )

    # --- reading -------------------------------------------------------------------------------------
    def inspect(self, aws: Aws, ctx: StepContext) -> TeamState:
        admin = str(ctx.answer_of("admin-user", "name"))
        everyone = listed_users(ctx)
        rows = [r for r in everyone if r["name"].lower() != admin.lower()]
        directory, policy = aws.parallel(lambda: read_directory(aws), lambda: read_password_policy(aws))
        rules = password_rules(policy)
        found = [directory.user(r["name"]) for r in rows]
        consoles = aws.parallel(*(  # one read per listed user that exists: its login profile
            lambda u=u: u is not None and read_login_profile(aws, u.name) is not None
            for u in found))
        members = tuple(
            Member(r["name"], r["group"], u, provenance.user_ownership(aws, ctx.caller, u.as_get_user() if u else None),
                   bool(c))
            for r, u, c in zip(rows, found, consoles, strict=True))
        groups = tuple(self._group(aws, ctx, directory, a, members) for a in CATALOGUE
                       if any(m.group == a.name for m in members))
        ours = frozenset(a.name.lower() for a in CATALOGUE
                         if (g := directory.group(a.name)) is not None and g.path == GROUP_PATH)
        listed_admin = next((r["name"] for r in everyone if r["name"].lower() == admin.lower()), None)
        return TeamState(admin, members, groups, self._left_alone(aws, ctx, directory, members), rules, ours,
                         listed_admin)

    @staticmethod
    def _group(aws: Aws, ctx: StepContext, directory: Directory, access: Access,
               members: Sequence[Member]) -> GroupState:
        found = directory.group(access.name)
        return GroupState(access, access.group_policy_arns(ctx.caller.partition), found,
                          provenance.group_ownership(aws, ctx.caller.account, found.as_get_group() if found else None),
                          tuple(m.name for m in members if m.group == access.name))

    @staticmethod
    def _left_alone(aws: Aws, ctx: StepContext, directory: Directory,
                    members: Sequence[Member]) -> tuple[tuple[str, str], ...]:
        """aws-harden's users in its catalogue groups whom the list no longer names: shown, never removed."""
        listed = {m.name.lower() for m in members}
        out = []
        for access in CATALOGUE:
            group = directory.group(access.name)
            if group is None or group.path != GROUP_PATH:
                continue
            for name in group.members:
                user = directory.user(name)
                if name.lower() in listed or user is None:
                    continue
                if provenance.user_ownership(aws, ctx.caller, user.as_get_user()).usable:
                    out.append((name, access.name))
        return tuple(out)

    def findings(self, state: TeamState, ctx: StepContext) -> list[Finding]:
        found: list[Finding] = []
        if not state.members:
            found.append(Finding("no team members listed (answers [team-users] users, or at the prompt)"))
        else:
            by_group = "; ".join(f"{g.access.name}: {', '.join(g.listed)}" for g in state.groups)
            found.append(Finding(f"{provenance.plural(len(state.members), 'person')} listed ({by_group})",
                                 observed={"users": [{"name": m.name, "group": m.group} for m in state.members]}))
        if state.admin_listed is not None:
            found.append(Finding(f"{state.admin_listed} is the admin user (admin-user and admin-group manage it); not "
                                 "made a team member", severity="warning", observed={"user": state.admin_listed}))
        for m in state.members:
            found.extend(self._member_findings(m))
        for g in state.groups:
            found.extend(self._group_findings(g))
        for name, group in state.left_alone:
            found.append(Finding(f"{name}: not in the list, left alone (in {group}; aws-harden never deletes a user: "
                                 "remove them in the IAM console if they left)", severity="warning",
                                 observed={"user": name, "group": group}))
        return found

    @staticmethod
    def _member_findings(m: Member) -> list[Finding]:
        out: list[Finding] = []
        u = m.found
        if u is None:
            return out
        if not m.ownership.usable:
            out.append(Finding(f"IAM user {m.name} exists and is not aws-harden's: {m.ownership.reason}; groups "
                               f"{provenance.listing(u.groups)}, policies {provenance.listing(u.attached_policies)}",
                               severity="warning", observed={"user": m.name, "arn": u.arn, "groups": list(u.groups),
                                                             "tags": dict(u.tags)}))
        others = [g for g in u.groups if g not in BY_NAME and g.lower() != m.group.lower()]
        if others:
            out.append(Finding(f"{m.name} is also in {', '.join(others)} (not aws-harden's catalogue): left as it is; "
                               "review it in the IAM console", severity="warning",
                               observed={"user": m.name, "other_groups": others}))
        direct = [policy_name(p) for p in u.attached_policies] + list(u.inline_policies)
        if direct:
            out.append(Finding(f"{m.name} has policies of its own ({', '.join(direct)}); the team gets permissions "
                               "only through groups (CIS 2.13): detach them in the IAM console", severity="warning",
                               observed={"user": m.name, "attached": list(u.attached_policies),
                                         "inline": list(u.inline_policies)}))
        return out

    @staticmethod
    def _group_findings(g: GroupState) -> list[Finding]:
        if g.found is None:
            return []
        out = []
        if not g.ownership.usable:
            out.append(Finding(f"group {g.access.name} exists and is not aws-harden's: {g.ownership.reason}; members "
                               f"{provenance.listing(g.found.members)}", severity="warning",
                               observed={"group": g.access.name, "path": g.found.path,
                                         "members": list(g.found.members)}))
        if g.extra:
            admin = any(policy_name(p) == ADMIN_ACCESS for p in g.extra)
            out.append(Finding(
                f"group {g.access.name} also has {', '.join(policy_name(p) for p in g.extra)}, beyond its catalogue "
                f"policies; left as it is: review it in the IAM console"
                + ("; the admin group should be the only one with AdministratorAccess" if admin else ""),
                severity="warning", observed={"group": g.access.name, "extra_policies": list(g.extra)}))
        if g.found.inline_policies:
            out.append(Finding(f"group {g.access.name} has inline policies {', '.join(g.found.inline_policies)}; left "
                               "as they are", severity="warning",
                               observed={"group": g.access.name, "inline": list(g.found.inline_policies)}))
        return out

    # --- planning ------------------------------------------------------------------------------------
    def plan(self, state: TeamState, ctx: StepContext) -> list[Change]:
        changes: list[Change] = []
        for g in state.groups:
            changes.extend(self._group_changes(g))
        for m in state.members:
            if m.found is not None and not m.ownership.usable:
                changes.append(self._adopt_user(m))
        for m in state.members:
            changes.extend(self._member_changes(state, m))
        return changes

    @staticmethod
    def _group_changes(g: GroupState) -> list[Change]:
        name = g.access.name
        if g.found is None:
            return [Change(
                Action.CREATE, CreateGroup(name, tuple(g.wanted)), f'iam group "{name}"',
                f"create group {name} on the path {GROUP_PATH} with {', '.join(policy_name(p) for p in g.wanted)} "
                f"({g.access.purpose})",
                operations=("iam:CreateGroup", "iam:AttachGroupPolicy"),
                fields=(FieldChange("path", None, GROUP_PATH),
                        FieldChange("policies", None, ", ".join(policy_name(p) for p in g.wanted))))]
        changes = []
        if g.needs_consent:
            why = [g.ownership.reason] if not g.ownership.usable else []
            if g.missing and g.strangers:
                why.append(f"members the list does not put in it would gain {', '.join(map(policy_name, g.missing))}: "
                           f"{', '.join(g.strangers)}")
            changes.append(Change(
                Action.UPDATE, AdoptGroup(name, g.found.group_id), f'iam group "{name}"',
                f"use group {name} for the team ({'; '.join(why)}); type its name to agree",
                fields=(FieldChange("aws-harden's", "no", "yes, adopted as it is"),),
                instructions=(f"path {g.found.path}",
                              "attached policies: "
                              + provenance.listing([policy_name(p) for p in g.found.attached_policies]),
                              f"members: {provenance.listing(g.found.members)}"),
                confirm_value=name, confirm_answer=ADOPT_ANSWER))
        for arn in g.missing:
            changes.append(Change(
                Action.CREATE, AttachPolicy(name, arn, g.found.group_id, g.needs_consent),
                f'policy {policy_name(arn)} on group "{name}"', f"attach {policy_name(arn)} to {name}",
                operations=("iam:AttachGroupPolicy",)))
        return changes

    @staticmethod
    def _adopt_user(m: Member) -> Change:
        assert m.found is not None
        u = m.found
        return Change(
            Action.UPDATE, AdoptUser(m.name, u.user_id), f'iam user "{m.name}"',
            f"use IAM user {m.name} as the team member, though not aws-harden's ({m.ownership.reason}); whoever "
            "holds its password or keys keeps them: type its name to agree",
            fields=(FieldChange("aws-harden's", "no", "yes, adopted as it is"),),
            instructions=(f"arn {u.arn}", f"groups: {provenance.listing(u.groups)}",
                          f"attached policies: {provenance.listing([policy_name(p) for p in u.attached_policies])}",
                          f"inline policies: {provenance.listing(u.inline_policies)}",
                          f"tags: {provenance.listing([f'{k}={v}' for k, v in u.tags.items()])}"),
            confirm_value=m.name, confirm_answer=ADOPT_ANSWER)

    def _member_changes(self, state: TeamState, m: Member) -> list[Change]:
        group = state.group(m.group)
        changes = []
        if m.found is None:
            changes.append(Change(
                Action.CREATE, CreateUser(m.name, state.password_rules.minimum_length), f'iam user "{m.name}"',
                f"create IAM user {m.name} with console access (password to the keyring, or shown once; changed at "
                "first sign-in), no access keys",
                operations=("iam:CreateUser", "iam:CreateLoginProfile"),
                fields=(FieldChange("arn", None, KNOWN_AFTER_APPLY),
                        FieldChange("password", None, "generated", sensitive=True),
                        FieldChange("password_reset_required", None, True), FieldChange("access_keys", None, "none"))))
        elif not m.console:
            changes.append(Change(
                Action.CREATE, ConsoleAccess(m.name, state.password_rules.minimum_length),
                f'console access for "{m.name}"',
                f"give {m.name} a console password (keyring or shown once; changed at first sign-in)",
                operations=("iam:CreateLoginProfile",),
                fields=(FieldChange("password", None, "generated", sensitive=True),
                        FieldChange("password_reset_required", None, True))))
        in_groups = {g.lower() for g in (m.found.groups if m.found else ())}
        if m.group.lower() not in in_groups:
            changes.append(Change(
                Action.CREATE,
                JoinGroup(m.name, m.group, m.found.user_id if m.found else "",
                          group.found.group_id if group.found else "", user_ready=m.usable,
                          group_ready=group.found is not None and not group.needs_consent),
                f'member "{m.name}" of group "{m.group}"', f"add {m.name} to {m.group}",
                operations=("iam:AddUserToGroup",)))
        if m.usable:
            for other in CATALOGUE:  # aws-harden's own catalogue groups only; any other is left as it is
                key = other.name.lower()
                if key == m.group.lower() or key not in in_groups or key not in state.ours:
                    continue
                changes.append(Change(
                    Action.DELETE, LeaveGroup(m.name, other.name), f'member "{m.name}" of group "{other.name}"',
                    f"take {m.name} out of {other.name} (the list puts them in {m.group})",
                    operations=("iam:RemoveUserFromGroup",)))
        return changes


def _forget_password(account: str, name: str) -> None:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    with contextlib.suppress(KeyringError, PasswordDeleteError):
        keyring.delete_password(KEYRING_SERVICE, keyring_entry(account, name, provenance.PASSWORD_ENTRY))


STEP = TeamUsers()
