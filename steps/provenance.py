"""Whose is it? The admin user and the admin group count as aws-harden's only on evidence a stranger cannot
fake from inside the account; anything else with the chosen name waits for the operator's typed consent.

- A user is the wizard's when it carries the tag the wizard creates it with (created-by = aws-harden) AND
  this operator holds a credential of it: its console password or its access key in this machine's
  keyring, a password this run set, or the run signs in as that very user. A tag alone is not enough:
  anyone who could create a user named `admin` could also tag it.
- A group is the wizard's when its path is /aws-harden/. IAM groups cannot be tagged (botocore's iam
  model: CreateGroup takes only GroupName and Path, and there is no TagGroup or ListGroupTags), and a path
  is set only by CreateGroup, is part of the group's ARN, and is read back by every GetGroup, from any
  machine. The path says who made the group, not who is in it: members the wizard did not add are looked
  at separately (admin-group never grants AdministratorAccess to them without consent).
- A role is the wizard's when its path is /aws-harden/, for the reason a group's is: CreateRole sets the
  path, nothing changes it, and it is part of the role's ARN (roles hold no credential a machine could keep).
- Anything else the operator adopted by typing its name (or by `adopt_existing` in the answers file).
  Consent is remembered in this machine's keyring, bound to the entity's unique id (a user or group
  deleted and re-created under the same name is a new one), so a later run does not ask again.

Consent and "set in this run" are also kept per run in memory, for when no keyring works.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from wizard.aws import Aws, Caller
from wizard.protocol import AnswerValue, ApplyContext, ChangeSkipped, iam_name_problem
from wizard.reads import absent_is_none
from wizard.secrets import KEYRING_SERVICE, keyring_entry

TAG_KEY, TAG_VALUE = "created-by", "aws-harden"
TAGS = [{"Key": TAG_KEY, "Value": TAG_VALUE}]
GROUP_PATH = "/aws-harden/"
PASSWORD_ENTRY = "console-password"
ACCESS_KEY_ENTRY = "access-key"
ADOPTED_ENTRY = "adopted"
# The operator chose to see a user's first password once instead of storing it: this entry holds the user's
# unique id (not a secret), so a later run still knows this machine set that password.
SHOWN_ENTRY = "password-shown"
ROLE_PATH = GROUP_PATH
ADOPT_ANSWER = "adopt_existing"

Kind = Literal["absent", "ours", "adopted", "foreign"]

# Every read whose answer decides whose a user or group is and whether the admin could act (shown in full
# when it is a stranger's, evaluated before root's key goes): the IAM steps that decide it declare these
# beside their own (the write guard lets only declared reads through).
ADMIN_PATH_READS = frozenset({
    "iam:GetUser", "iam:GetLoginProfile", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:ListMFADevices",
    "iam:ListAttachedUserPolicies", "iam:ListUserPolicies", "iam:GetUserPolicy", "iam:ListGroupsForUser",
    "iam:GetGroup", "iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies", "iam:GetGroupPolicy",
    "iam:GetPolicy", "iam:GetPolicyVersion", "iam:SimulatePrincipalPolicy", "iam:GetAccountPasswordPolicy",
})  # fmt: skip

# What this run (one Aws object) did that the keyring may not show: users it created or set a password
# for, and what the operator adopted. Keyed weakly by the run's Aws, so a new run starts empty.
_run_notes: weakref.WeakKeyDictionary[Aws, set[str]] = weakref.WeakKeyDictionary()


def _notes(aws: Aws) -> set[str]:
    return _run_notes.setdefault(aws, set())


def note(aws: Aws, what: str, entity_id: str) -> None:
    _notes(aws).add(f"{what}:{entity_id}")


def noted(aws: Aws, what: str, entity_id: str) -> bool:
    return f"{what}:{entity_id}" in _notes(aws)


def group_entry(name: str) -> str:
    """Keyring entries are <account>/<user>/...; ':' is not allowed in IAM names, so no user clashes."""
    return f"group:{name}"


def role_entry(name: str) -> str:
    return f"role:{name}"


@dataclass(frozen=True)
class Ownership:
    kind: Kind
    reason: str  # one line: why it counts as the wizard's, or why not

    @property
    def usable(self) -> bool:
        """The wizard may act on it (put the admin in a group, enroll MFA, rely on it for root's key)."""
        return self.kind in ("ours", "adopted")


def _keyring_value(entry: str) -> str | None:
    """An entry's value, or None when there is none or no keyring works. Callers only compare it (to None,
    or to a non-secret id) and drop it: a secret read here is never kept, shown or passed on."""
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(KEYRING_SERVICE, entry)
    except KeyringError:
        return None


def _held(account: str, *parts: str) -> bool:
    return _keyring_value(keyring_entry(account, *parts)) is not None


def adoption_recorded(account: str, entry: str, entity_id: str) -> bool:
    return _keyring_value(keyring_entry(account, entry, ADOPTED_ENTRY)) == entity_id


def record_adoption(aws: Aws, account: str, entry: str, entity_id: str) -> bool:
    """Remember the operator's consent (the entity's unique id: not a secret) in this machine's keyring;
    False when no keyring works (then it holds for this run only)."""
    import keyring
    from keyring.errors import KeyringError

    note(aws, "adopted", entity_id)
    name = keyring_entry(account, entry, ADOPTED_ENTRY)
    try:
        keyring.set_password(KEYRING_SERVICE, name, entity_id)
    except KeyringError:
        return False
    return _keyring_value(name) == entity_id


def adopt_user(aws: Aws, ctx: ApplyContext, name: str, user_id: str) -> None:
    """The operator agreed to this very user (its unique id): if it was replaced since the plan, ask again."""
    user = read_user(aws.client("iam"), name)
    if user is None or str(user["UserId"]) != user_id:
        raise ChangeSkipped(f"IAM user {name} changed since the plan (another user of that name); run again to see it")
    if not record_adoption(aws, ctx.caller.account, name, user_id):
        ctx.output(f"adoption of {name}", "for this run only: no working keyring to remember it")


def adopt_group(aws: Aws, ctx: ApplyContext, group: str, group_id: str | None) -> None:
    """As adopt_user, for a group (its unique id)."""
    iam = aws.client("iam")
    found = absent_is_none(lambda: iam.get_group(GroupName=group, MaxItems=1))
    if found is None or str(found["Group"]["GroupId"]) != group_id:
        raise ChangeSkipped(f"group {group} changed since the plan; run again to see it")
    if not record_adoption(aws, ctx.caller.account, group_entry(group), str(group_id)):
        ctx.output(f"adoption of group {group}", "for this run only: no working keyring to remember it")


def tags_of(user: Mapping[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value")) for t in user.get("Tags") or []}


def password_held(aws: Aws, account: str, user: Mapping[str, Any]) -> bool:
    """The operator holds the console password: in the keyring, or set by this run (shown once)."""
    return _held(account, str(user["UserName"]), PASSWORD_ENTRY) or noted(aws, "password", str(user["UserId"]))


def credential_held(aws: Aws, caller: Caller, user: Mapping[str, Any]) -> bool:
    name = str(user["UserName"])
    return (
        password_held(aws, caller.account, user)
        or _held(caller.account, name, ACCESS_KEY_ENTRY)
        or noted(aws, "created", str(user["UserId"]))
        or (caller.kind == "user" and caller.arn == user.get("Arn"))
        or _keyring_value(keyring_entry(caller.account, name, SHOWN_ENTRY)) == str(user["UserId"])
    )


def record_shown(aws: Aws, account: str, name: str, user_id: str) -> bool:
    """This machine set `name`'s first password and showed it once (not stored): remembered by the user's
    id in the keyring (for this run also in memory); False when no keyring works."""
    import keyring
    from keyring.errors import KeyringError

    note(aws, "password", user_id)
    entry = keyring_entry(account, name, SHOWN_ENTRY)
    try:
        keyring.set_password(KEYRING_SERVICE, entry, user_id)
    except KeyringError:
        return False
    return _keyring_value(entry) == user_id


def user_ownership(aws: Aws, caller: Caller, user: Mapping[str, Any] | None) -> Ownership:
    """`user` as GetUser returns it (its Tags included), or None when there is no such user."""
    if user is None:
        return Ownership("absent", "no such user")
    name, user_id = str(user["UserName"]), str(user["UserId"])
    marked = tags_of(user).get(TAG_KEY) == TAG_VALUE
    if marked and credential_held(aws, caller, user):
        return Ownership("ours", "created by aws-harden: its tag, and its credentials held here")
    if adoption_recorded(caller.account, name, user_id) or noted(aws, "adopted", user_id):
        return Ownership("adopted", "adopted by the operator")
    if marked:
        return Ownership("foreign", "it carries aws-harden's tag, but none of its credentials is in this "
                         "machine's keyring, so nothing shows this operator made it")
    return Ownership("foreign", f"it has no {TAG_KEY} = {TAG_VALUE} tag")


def group_ownership(aws: Aws, account: str, group: Mapping[str, Any] | None) -> Ownership:
    """`group` as GetGroup's Group element, or None when there is no such group."""
    if group is None:
        return Ownership("absent", "no such group")
    return _path_ownership(aws, account, group, group_entry(str(group["GroupName"])), "GroupId")


def role_ownership(aws: Aws, account: str, role: Mapping[str, Any] | None) -> Ownership:
    """`role` as GetRole's Role element, or None when there is no such role."""
    if role is None:
        return Ownership("absent", "no such role")
    return _path_ownership(aws, account, role, role_entry(str(role["RoleName"])), "RoleId")


def _path_ownership(aws: Aws, account: str, entity: Mapping[str, Any], entry: str, id_key: str) -> Ownership:
    """A group or role is aws-harden's by its path (both made on GROUP_PATH), or adopted by its id."""
    if entity.get("Path") == GROUP_PATH:
        return Ownership("ours", f"created by aws-harden, on the path {GROUP_PATH}")
    entity_id = str(entity[id_key])
    if adoption_recorded(account, entry, entity_id) or noted(aws, "adopted", entity_id):
        return Ownership("adopted", "adopted by the operator")
    return Ownership("foreign", f"its path is {entity.get('Path')}, not aws-harden's {GROUP_PATH}")


def waits_for_admin(name: str, ownership: Ownership, absent_too: bool = False) -> str | None:
    """Why a change acting on the admin user must wait: it is someone else's (admin-user asks about it),
    or, with `absent_too`, it does not exist yet. None when it need not wait."""
    if ownership.kind == "foreign":
        return f"IAM user {name} is not aws-harden's ({ownership.reason}); admin-user asks to adopt it"
    if ownership.kind == "absent" and absent_too:
        return f"there is no IAM user {name} yet (admin-user creates it)"
    return None


def read_user(iam: Any, name: str) -> dict[str, Any] | None:
    """GetUser: the user with its tags (IAM API reference: GetUser returns them), or None."""
    found = absent_is_none(lambda: iam.get_user(UserName=name))
    return None if found is None else dict(found["User"])


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def listing(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "none"


def names_problem(value: AnswerValue) -> str | None:
    """A list of IAM user (or group) names in the answers file, e.g. `adopt_existing = ["dana"]`."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return 'a list of user names, like ["dana"]'
    for name in value:
        problem = iam_name_problem(name, 64)
        if problem is not None:
            return f"{name!r}: {problem}"
    return None
