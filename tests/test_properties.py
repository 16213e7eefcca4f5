"""The pure property tier: "never weakens, never deletes, never acts on what is not the wizard's without
typed consent", over many generated account states, as pure functions of state (no AWS, no moto).

Each property reads a step's plan the way the operator does (action, resource, shown fields, consent), not its
internal keys or parameters. The engine's side of the promise (a change with `confirm_value` applied only
once that value is typed or answered; one that `waits_for` never applied; `others_depend_on_it` refused,
nothing else of the step applied) is proven against moto in test_guardrails.py, test_admin_path.py and
test_convergence.py; here, that every plan asks for it.

PROPERTY_EXAMPLES (default 300) sets the examples per property.
"""

from __future__ import annotations

import os
from dataclasses import fields as dataclass_fields
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from steps.access_analyzer import STEP as ACCESS_ANALYZER
from steps.access_analyzer import AnalyzerState
from steps.account_contacts import STEP as ACCOUNT_CONTACTS
from steps.account_contacts import ContactsState
from steps.admin_group import STEP as ADMIN_GROUP
from steps.admin_group import AdminGroupState
from steps.admin_user import STEP as ADMIN_USER
from steps.admin_user import AdminUserState, ExistingUser
from steps.default_vpcs import STEP as DEFAULT_VPCS
from steps.default_vpcs import DefaultVpcState
from steps.ebs_encryption import STEP as EBS_ENCRYPTION
from steps.ebs_encryption import EbsState
from steps.guardduty import STEP as GUARDDUTY
from steps.guardduty import GuardDutyState
from steps.member_root_credentials import STEP as MEMBER_ROOT
from steps.member_root_credentials import MemberRoot, MemberRootState
from steps.password_policy import MAX_AGE_LIMIT, PasswordPolicyState, Policy
from steps.password_policy import STEP as PASSWORD_POLICY
from steps.provenance import Ownership
from steps.root_access_keys import STEP as ROOT_ACCESS_KEYS
from steps.root_access_keys import RootKey, RootKeysState
from steps.s3_public_access import SETTINGS, PublicAccessState
from steps.s3_public_access import STEP as S3_PUBLIC_ACCESS
from steps.user_mfa import STEP as USER_MFA
from steps.user_mfa import IamUser, UserMfaState
from tests.plan_support import ACCOUNT, ADMIN_ARN, ADMIN_CALLER, ROOT, ctx, shown_fields
from wizard.aws import Caller
from wizard.facts import AlternateContact, Analyzer, DefaultVpc, Detector
from wizard.organization import OrgAccount, Standing
from wizard.protocol import Action, Change

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "300"))
many = settings(max_examples=EXAMPLES, deadline=None, database=None)

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")
NAMES = ("admin", "alice", "bob", "ops")
OWNERSHIPS = st.sampled_from([Ownership("ours", "created by aws-harden"), Ownership("adopted", "adopted"),
                              Ownership("foreign", "not aws-harden's")])
CALLERS = st.sampled_from([ROOT, ADMIN_CALLER, Caller(f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT, "AIDAALICE")])


def typed(change: Change) -> bool:
    return change.confirm_value is not None


# --- password-policy: never weaker than the account's, never short of the guidance ------------------------
def unshown(name: str, value: object) -> object:
    """A field's value as the API has it, from how the plan shows it."""
    return 0 if (name, value) in (("MaxPasswordAge", "never expires"), ("PasswordReusePrevention", "off")) else value


def at_least_as_strict(new: Policy, old: Policy) -> list[str]:
    """Fields where `new` is looser than `old` (0 days is "never expires", the loosest age)."""
    looser = []
    for f in dataclass_fields(Policy):
        a, b = getattr(new, f.name), getattr(old, f.name)
        if f.name == "MaxPasswordAge":
            if b and not (a and a <= b):
                looser.append(f.name)
        elif a < b:
            looser.append(f.name)
    return looser


policies = st.builds(
    Policy, st.integers(6, 128), st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans(),
    st.integers(0, MAX_AGE_LIMIT), st.integers(0, 24), st.booleans())


@many
@given(current=st.none() | policies, max_age=st.integers(0, MAX_AGE_LIMIT))
def test_password_policy_never_weakens_and_always_meets_the_guidance(current: Policy | None, max_age: int) -> None:
    changes = PASSWORD_POLICY.plan(PasswordPolicyState(current, max_age), ctx("password-policy"))
    assert len(changes) <= 1 and all(c.action is not Action.DELETE for c in changes)
    shown = shown_fields(changes[0]) if changes else {}
    after = Policy(**{f.name: unshown(f.name, shown[f.name][1]) if f.name in shown else getattr(current, f.name)
                      for f in dataclass_fields(Policy)}) if changes or current is not None else None
    if after is None:
        raise AssertionError("no policy and nothing planned")
    # UpdateAccountPasswordPolicy replaces the whole policy: a fresh account's plan must show every field.
    assert current is not None or set(shown) == {f.name for f in dataclass_fields(Policy)}
    assert not at_least_as_strict(after, current or Policy()), (current, after)
    wanted = Policy(14, True, True, True, True, True, max_age, 24, False)
    assert not at_least_as_strict(after, wanted), (max_age, after)
    assert PASSWORD_POLICY.plan(PasswordPolicyState(after, max_age), ctx("password-policy")) == [], "not converged"


# --- root-access-keys: the key in use goes last, typed, and only once an admin can take over -----------------
key_ids = st.lists(st.from_regex(r"AKIA[A-Z0-9]{16}", fullmatch=True), max_size=3, unique=True)


@many
@given(as_root=st.booleans(), keys=key_ids, statuses=st.lists(st.sampled_from(["Active", "Inactive"]), min_size=3,
                                                                 max_size=3),
       running=st.integers(-1, 2), problem=st.none() | st.just("there is no IAM user admin"))
def test_root_keys_never_delete_the_running_key_without_typing_it_and_a_way_back_in(
        as_root: bool, keys: list[str], statuses: list[str], running: int, problem: str | None) -> None:
    root_keys = tuple(RootKey(k, s) for k, s in zip(keys, statuses, strict=False))
    running_key = keys[running] if 0 <= running < len(keys) else "AKIANOTROOTS0000000"
    state = (RootKeysState(True, len(keys), root_keys, running_key, "admin", problem if running_key in keys else None)
             if as_root else RootKeysState(False, len(keys)))
    changes = ROOT_ACCESS_KEYS.plan(state, ctx("root-access-keys", caller=ROOT if as_root else ADMIN_CALLER))
    if not as_root:  # only root can delete root's keys: the operator does, in the console
        assert [c.action for c in changes] == ([Action.OPERATOR] if keys else [])
        return
    assert [c.resource for c in changes] == [f'root access key "{k}"' for k in keys]
    for change, key in zip(changes, keys, strict=True):
        assert change.action is Action.DELETE
        if key == running_key:
            assert change.confirm_value == key and change.run_last, "the key in use goes last, its id typed"
            assert (change.waits_for is not None) == (problem is not None), "deleted without a way back in"
        else:
            assert not change.run_last and change.waits_for is None


# --- admin-user and admin-group: nothing someone else made is used without typing its name --------------------
EXISTING = ExistingUser("AIDAX", f"arn:aws:iam::{ACCOUNT}:user/admin", "2020-01-01", "never", True, False, (), (), (),
                        (), None, (), ())


@many
@given(exists=st.booleans(), console=st.booleans(), ownership=OWNERSHIPS, attached=st.sampled_from([(), (ADMIN_ARN,)]),
       reset=st.booleans(), self_service=st.booleans())
def test_admin_user_never_uses_a_foreign_user_untyped_and_never_deletes(
        exists: bool, console: bool, ownership: Ownership, attached: tuple[str, ...], reset: bool,
        self_service: bool) -> None:
    state = AdminUserState("admin", exists, EXISTING.arn if exists else None, console and exists, attached,
                           ownership=ownership if exists else Ownership("absent", "no such user"),
                           existing=EXISTING if exists else None, password_reset_pending=reset,
                           self_service=self_service)
    changes = ADMIN_USER.plan(state, ctx("admin-user"))
    assert all(c.action is not Action.DELETE for c in changes)
    if state.foreign:
        adopt, *rest = changes
        assert adopt.confirm_value == "admin" and adopt.others_depend_on_it, "a foreign user used without consent"
        assert not any(typed(c) for c in rest)
    else:
        assert not any(typed(c) for c in changes)
    if exists and console and not state.foreign:
        assert changes == [], "a usable admin with console access is compliant"


@many
@given(exists=st.booleans(), attached=st.sampled_from([(), (ADMIN_ARN,)]), members=st.sets(st.sampled_from(NAMES)),
       ownership=OWNERSHIPS, admin=OWNERSHIPS | st.just(Ownership("absent", "no such user")))
def test_admin_group_makes_nobody_an_administrator_untyped(
        exists: bool, attached: tuple[str, ...], members: set[str], ownership: Ownership, admin: Ownership) -> None:
    state = AdminGroupState("FullAccess", "admin", ADMIN_ARN, exists, attached if exists else (),
                            tuple(sorted(members)) if exists else (), ownership if exists else Ownership(
                                "absent", "no such group"), "AGPAX", "/", admin=admin)
    changes = ADMIN_GROUP.plan(state, ctx("admin-group"))
    assert all(c.action is not Action.DELETE for c in changes)
    adopts = [c for c in changes if typed(c)]
    grants = any(c.resource.startswith("policy AdministratorAccess") for c in changes)
    others = [m for m in state.members if m != "admin" or not admin.usable]
    needs_consent = state.foreign or (grants and bool(others))
    assert len(adopts) == (1 if needs_consent else 0), (state, changes)
    if adopts:
        assert changes[0] is adopts[0] and adopts[0].confirm_value == "FullAccess" and adopts[0].others_depend_on_it
    for change in changes:
        if change.resource.startswith('member "admin"'):
            assert (change.waits_for is not None) == (not admin.usable), "a stranger's user made an admin"


# --- user-mfa: MFA is never enforced on someone who cannot satisfy it --------------------------------------------
users = st.lists(st.builds(IamUser, st.sampled_from(NAMES), st.booleans(),
                           st.sampled_from([(), ("arn:aws:iam::1:mfa/d",)]), st.booleans()),
                 max_size=4, unique_by=lambda u: u.name)


@many
@given(users=users, members=st.sets(st.sampled_from(NAMES)), group_exists=st.booleans(), admin=OWNERSHIPS,
       group=OWNERSHIPS, enforce=st.booleans(), others=st.booleans(), caller=CALLERS)
def test_mfa_is_never_enforced_before_every_member_can_satisfy_it(
        users: list[IamUser], members: set[str], group_exists: bool, admin: Ownership, group: Ownership,
        enforce: bool, others: bool, caller: Caller) -> None:
    state = UserMfaState("admin", tuple(users), "FullAccess", group_exists, tuple(sorted(members)) if group_exists
                         else (), None, admin, group)
    changes = USER_MFA.plan(state, ctx("user-mfa", {"user-mfa": {"enforce": enforce, "other_users": others}}, caller))
    assert all(c.action is not Action.DELETE for c in changes)
    enrolled = {c.resource.split('"')[1] for c in changes
                if c.resource.startswith("virtual MFA device") and c.waits_for is None}
    for change in changes:
        if change.resource == 'virtual MFA device for "admin"':
            assert (change.waits_for is not None) == (admin.kind == "foreign"), "a stranger's admin enrolled"
    if not any(c.resource.startswith("policy aws-harden-require-mfa") for c in changes):
        return
    assert enforce and (not group_exists or group.usable)
    by_name = {u.name: u for u in users}
    for name in set(state.members) | {"admin"}:
        user = by_name.get(name)
        assert name in enrolled or (user is not None and user.mfa_serials), f"{name} would be locked out"
        assert user is None or not user.password_reset_required, f"{name} could never set its first password"
    assert not (caller.kind == "user" and caller.name in set(state.members) | {"admin"}), "the run locks itself out"


# --- the account-wide guardrails: only ever turned on; a default VPC in use is never deleted ----------------------
region_sets = st.sets(st.sampled_from(REGIONS), min_size=1)


@many
@given(regions=region_sets, data=st.data())
def test_default_vpcs_in_use_are_never_deleted_and_each_deletion_is_typed(regions: set[str], data: Any) -> None:
    vpcs = {r: tuple(DefaultVpc(f"vpc-{i}", r, "172.31.0.0/16", ("subnet-1",), ("igw-1",),
                                ("eni-1",) if data.draw(st.booleans(), label=f"{r} in use") else ())
                     for i in range(data.draw(st.integers(0, 1), label=f"{r} has one")))
            for r in sorted(regions)}
    changes = DEFAULT_VPCS.plan(DefaultVpcState(vpcs), ctx("default-vpcs"))
    unused = [v for vs in vpcs.values() for v in vs if not v.in_use]
    assert [c.resource for c in changes] == [f"default VPC {v.id} ({v.region})" for v in unused]
    assert all(c.action is Action.DELETE and c.confirm_value == v.region for c, v in zip(changes, unused, strict=True))


@many
@given(regions=region_sets, data=st.data(), enable=st.booleans())
def test_guardduty_detectors_are_resumed_never_replaced_or_deleted(regions: set[str], data: Any, enable: bool) -> None:
    detectors = {r: tuple(Detector(f"d-{r}-{i}", r, data.draw(st.sampled_from(["ENABLED", "DISABLED"]), label=r))
                          for i in range(data.draw(st.integers(0, 2), label=f"{r} detectors")))
                 for r in sorted(regions)}
    changes = GUARDDUTY.plan(GuardDutyState(detectors, enable, False), ctx("guardduty"))
    assert all(c.action is not Action.DELETE for c in changes)
    off = [r for r, ds in detectors.items() if not any(d.status == "ENABLED" for d in ds)]
    assert len(changes) == len(off)
    for change, region in zip(changes, off, strict=True):
        assert change.resource.endswith(f"({region})")
        assert change.action is (Action.UPDATE if detectors[region] else Action.CREATE), "a detector replaced"


@many
@given(block=st.none() | st.fixed_dictionaries({k: st.booleans() for k in SETTINGS}),
       encryption=st.dictionaries(st.sampled_from(REGIONS), st.booleans(), min_size=1))
def test_s3_block_and_ebs_encryption_are_only_ever_turned_on(block: dict[str, bool] | None,
                                                             encryption: dict[str, bool]) -> None:
    for change in [*S3_PUBLIC_ACCESS.plan(PublicAccessState(ACCOUNT, block), ctx("s3-public-access")),
                   *EBS_ENCRYPTION.plan(EbsState(encryption), ctx("ebs-encryption"))]:
        assert change.action in (Action.CREATE, Action.UPDATE)
        assert {new for _, new in shown_fields(change).values()} == {"on"}, change


@many
@given(regions=region_sets, data=st.data())
def test_access_analyzers_are_only_ever_added(regions: set[str], data: Any) -> None:
    analyzers = {r: tuple(Analyzer(f"a{i}", "arn", data.draw(st.sampled_from(
        ["ACCOUNT", "ORGANIZATION", "ACCOUNT_UNUSED_ACCESS"])), data.draw(st.sampled_from(
        ["ACTIVE", "CREATING", "DISABLED", "FAILED"])), r) for i in range(data.draw(st.integers(0, 2))))
        for r in sorted(regions)}
    state = AnalyzerState(analyzers)
    changes = ACCESS_ANALYZER.plan(state, ctx("access-analyzer"))
    assert all(c.action in (Action.CREATE, Action.OPERATOR) for c in changes)
    assert [c.resource.rsplit("(", 1)[1] for c in changes] == [f"{r})" for r in analyzers if not state.covering(r)]


contacts = st.builds(AlternateContact, st.just("SECURITY"), st.sampled_from(["Sec", "Ops"]), st.just("Security"),
                     st.sampled_from(["sec@example.com", "SEC@example.com", "ops@example.com"]), st.just("+1 555 0100"))


@many
@given(current=st.none() | contacts, wanted=st.none() | contacts)
def test_an_existing_contact_changes_only_to_the_one_answered(current: AlternateContact | None,
                                                              wanted: AlternateContact | None) -> None:
    others = {"BILLING": None, "OPERATIONS": None}
    changes = [c for c in ACCOUNT_CONTACTS.plan(ContactsState({"SECURITY": current, **others},
                                                              {"SECURITY": wanted, **others}), ctx("account-contacts"))
               if c.resource == "security contact"]
    if current is not None and (wanted is None or current.fields() | {"email": current.email.lower()}
                                == wanted.fields() | {"email": wanted.email.lower()}):
        assert changes == [], "an existing contact replaced unasked"
        return
    (change,) = changes
    assert change.action is (Action.UPDATE if current else Action.CREATE)
    if wanted is not None:
        assert all(new == wanted.fields()[name] for name, (_, new) in shown_fields(change).items())


# --- member-root-credentials: each member's root is deleted only by typing its account id --------------------------
members = st.lists(st.builds(
    MemberRoot, st.builds(OrgAccount, st.from_regex(r"[0-9]{12}", fullmatch=True), st.just("m"), st.just("ACTIVE")),
    st.booleans(), st.sampled_from([(), ("AKIAM",)]), st.sampled_from([(), ("arn:mfa/root",)]), st.just(()),
    st.none() | st.just("AccessDenied")), max_size=4, unique_by=lambda m: m.account.id)


@many
@given(members=members, sessions=st.booleans())
def test_member_roots_are_deleted_only_typed_by_account(members: list[MemberRoot], sessions: bool) -> None:
    state = MemberRootState(Standing("management", "o-abc", ACCOUNT), sessions, tuple(members))
    changes = MEMBER_ROOT.plan(state, ctx("member-root-credentials"))
    deleted = [c for c in changes if c.action is Action.DELETE]
    expected = [m for m in members if m.has_credentials and not m.error] if sessions else []
    assert [c.confirm_value for c in deleted] == [m.account.id for m in expected]
    assert all(m.account.id in c.resource for c, m in zip(deleted, expected, strict=True))
