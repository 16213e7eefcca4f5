"""Account facts: what the account is, as typed, frozen data, read once per run for every control.

Controls (wizard/controls.py) are pure functions of these facts. The reads are the ones the steps send
(same operations, same parameters), so in check and plan the read cache answers each of them once,
whoever asks first. Everything is read at once (Aws.parallel): one round trip per level of dependency
(list the users, then every user's five reads together), not one per user.

A fact that cannot be read (AccessDenied, a trail of another account) is recorded in `unread` with the
reason, never guessed: the controls that need it say MANUAL with that reason.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import unquote

from wizard.aws import GLOBAL_REGION, Aws, Caller
from wizard.errors import describe
from wizard.reads import absent_is_none
from wizard.retry import error_code

T = TypeVar("T")

# Every read the facts send (the write guard lets only declared reads through: wizard/write_guard.py).
FACT_READS = frozenset({
    "iam:ListUsers", "iam:GetLoginProfile", "iam:ListMFADevices", "iam:ListAttachedUserPolicies",
    "iam:ListUserPolicies", "iam:ListGroupsForUser", "iam:ListGroups", "iam:GetGroup",
    "iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies", "iam:ListRoles", "iam:ListAttachedRolePolicies",
    "iam:GetAccountPasswordPolicy", "iam:GetAccountSummary", "iam:ListVirtualMFADevices",
    "iam:GetCredentialReport", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed",
    "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors",
    "s3:ListBuckets", "s3:GetBucketAcl", "s3:GetBucketPolicy", "s3:GetBucketPolicyStatus",
    "s3:GetPublicAccessBlock",
    # the guardrails' facts, in every enabled region
    "ec2:DescribeRegions", "ec2:GetEbsEncryptionByDefault", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
    "ec2:DescribeInternetGateways", "ec2:DescribeNetworkInterfaces", "s3control:GetPublicAccessBlock",
    "account:GetAlternateContact", "account:GetContactInformation", "freetier:GetAccountPlanState",
    "guardduty:ListDetectors", "guardduty:GetDetector", "accessanalyzer:ListAnalyzers",
})  # fmt: skip
# What read_user sends for one user (a step that reads a user through it declares these).
USER_READS = frozenset({
    "iam:GetUser", "iam:GetLoginProfile", "iam:ListMFADevices", "iam:ListAttachedUserPolicies",
    "iam:ListUserPolicies", "iam:ListGroupsForUser", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed",
})
ROOT_ROW = "<root_account>"  # the credential report's name for the root user
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


# --- IAM ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AttachedPolicy:
    name: str
    arn: str


@dataclass(frozen=True)
class AccessKey:
    """ListAccessKeys' metadata and GetAccessKeyLastUsed's answer for one key (read live, not from the
    credential report, which may be four hours old)."""

    key_id: str
    status: str  # Active or Inactive
    created: datetime | None
    last_used: datetime | None = None  # None: never used (AWS keeps no use before 2015-04-22 either)
    last_service: str | None = None
    last_region: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "Active"

    def observed(self) -> dict[str, Any]:
        return {"access_key_id": self.key_id, "status": self.status, "created": _iso(self.created),
                "last_used": _iso(self.last_used), "last_used_service": self.last_service,
                "last_used_region": self.last_region}


@dataclass(frozen=True)
class User:
    name: str
    arn: str
    login_profile: bool
    password_reset_required: bool | None = None  # None without a login profile
    mfa_serials: tuple[str, ...] = ()
    attached_policies: tuple[AttachedPolicy, ...] = ()
    inline_policies: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    created: datetime | None = None
    password_last_used: datetime | None = None  # ListUsers' PasswordLastUsed; None: never (or not since 2014)
    password_created: datetime | None = None  # the login profile's CreateDate
    access_keys: tuple[AccessKey, ...] = ()
    user_id: str = ""
    path: str = "/"
    # GetUser's alone (ListUsers returns neither): read_user fills them, read_users leaves them empty.
    tags: Mapping[str, str] = field(default_factory=dict)
    permissions_boundary: str | None = None

    @property
    def console(self) -> bool:
        return self.login_profile

    def as_get_user(self) -> dict[str, Any]:
        """The user in GetUser's shape (what steps/provenance.py decides ownership from)."""
        shape: dict[str, Any] = {"UserName": self.name, "UserId": self.user_id, "Arn": self.arn, "Path": self.path,
                                 "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()]}
        if self.permissions_boundary is not None:
            shape["PermissionsBoundary"] = {"PermissionsBoundaryArn": self.permissions_boundary,
                                            "PermissionsBoundaryType": "Policy"}
        return shape


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Group:
    name: str
    arn: str
    members: tuple[str, ...] = ()
    attached_policies: tuple[AttachedPolicy, ...] = ()
    inline_policies: tuple[str, ...] = ()
    group_id: str = ""
    path: str = "/"

    def as_get_group(self) -> dict[str, Any]:
        """GetGroup's Group element (what steps/provenance.py decides ownership from)."""
        return {"GroupName": self.name, "GroupId": self.group_id, "Arn": self.arn, "Path": self.path}


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    path: str
    trust_policy: Mapping[str, Any]
    attached_policies: tuple[AttachedPolicy, ...] = ()


@dataclass(frozen=True)
class PasswordPolicy:
    """The account's password policy; `present` False means none is set and IAM's default applies
    (the values below are that default, as Prowler assumes it: length 8, no character classes)."""

    present: bool
    minimum_length: int = 8
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase: bool = False
    require_lowercase: bool = False
    allow_users_to_change: bool = True
    expire_passwords: bool = False
    max_age: int | None = None
    reuse_prevention: int | None = None
    hard_expiry: bool | None = None

    def observed(self) -> dict[str, Any]:
        return {
            "present": self.present, "MinimumPasswordLength": self.minimum_length,
            "RequireSymbols": self.require_symbols, "RequireNumbers": self.require_numbers,
            "RequireUppercaseCharacters": self.require_uppercase,
            "RequireLowercaseCharacters": self.require_lowercase,
            "PasswordReusePrevention": self.reuse_prevention, "MaxPasswordAge": self.max_age,
        }


@dataclass(frozen=True)
class AccountSummary:
    """GetAccountSummary's SummaryMap (root's MFA and keys are the `Account*` entries)."""

    values: Mapping[str, int]

    @property
    def root_mfa(self) -> bool:
        return bool(self.values.get("AccountMFAEnabled"))

    @property
    def root_access_keys(self) -> bool:
        return bool(self.values.get("AccountAccessKeysPresent"))


@dataclass(frozen=True)
class VirtualMfaDevice:
    serial: str
    user_arn: str | None  # the user it is assigned to (root: arn:...:root)


ROOT_VIRTUAL_DEVICE = "root-account-mfa-device"  # the name AWS gives root's virtual device


def is_root_device(device: VirtualMfaDevice, account: str) -> bool:
    """Root's virtual device: assigned to the account's root ARN, or under the serial AWS gives root's device."""
    return (device.user_arn or "").endswith(f":{account}:root") or device.serial.endswith(
        f":{account}:mfa/{ROOT_VIRTUAL_DEVICE}")


@dataclass(frozen=True)
class CredentialRow:
    """One row of the credential report, as AWS writes it (strings: "true", "N/A", ISO dates...)."""

    values: Mapping[str, str]

    @property
    def user(self) -> str:
        return self.values.get("user", "")

    @property
    def arn(self) -> str:
        return self.values.get("arn", "")

    def flag(self, column: str) -> bool:
        return self.values.get(column, "").lower() == "true"

    def date(self, column: str) -> datetime | None:
        """The column as a UTC time; None for N/A, no_information, not_supported and the like."""
        raw = self.values.get(column, "")
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CredentialReport:
    """GetCredentialReport. Only read: generating one (GenerateCredentialReport) is a write, so check
    and plan never start one; `state` says why there is none."""

    state: Literal["present", "absent", "expired", "in-progress"]
    generated: datetime | None = None
    rows: tuple[CredentialRow, ...] = ()

    @property
    def root(self) -> CredentialRow | None:
        return next((r for r in self.rows if r.user == ROOT_ROW), None)


# --- CloudTrail and its buckets -----------------------------------------------------------------
@dataclass(frozen=True)
class EventSelector:
    read_write_type: str
    include_management_events: bool
    data_resources: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class AdvancedEventSelector:
    name: str | None
    field_selectors: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Trail:
    name: str
    arn: str
    home_region: str
    s3_bucket: str | None
    multi_region: bool
    organization: bool
    global_events: bool
    log_file_validation: bool
    kms_key_id: str | None = None
    log_group_arn: str | None = None
    is_logging: bool | None = None  # None when the status could not be read (see status_error)
    status_error: str | None = None
    event_selectors: tuple[EventSelector, ...] = ()
    advanced_selectors: tuple[AdvancedEventSelector, ...] = ()
    # As GetEventSelectors answered (the cloudtrail step writes them back changed), and CloudTrail's logs role.
    raw_event_selectors: tuple[Mapping[str, Any], ...] = ()
    raw_advanced_selectors: tuple[Mapping[str, Any], ...] = ()
    logs_role_arn: str | None = None
    selectors_read: bool = True  # False: GetEventSelectors failed (see status_error)

    @property
    def account(self) -> str:
        return self.arn.split(":")[4] if self.arn.count(":") >= 5 else ""

    @property
    def logs_management_read_write(self) -> bool:
        """Management events, read and write, as Prowler's cloudtrail_multi_region_enabled_logging_
        management_events reads them: a basic selector with ReadWriteType All and management events, or
        an advanced selector named "Management events selector" that does not filter on readOnly. An
        advanced selector of another name that selects eventCategory Management counts too (Prowler
        requires the console's name; AWS logs the events whatever the name)."""
        basic = any(s.read_write_type == "All" and s.include_management_events for s in self.event_selectors)
        advanced = any(
            (s.name == "Management events selector" or _management_category(s))
            and all(f.get("Field") != "readOnly" for f in s.field_selectors)
            for s in self.advanced_selectors
        )
        return basic or advanced


def _management_category(selector: AdvancedEventSelector) -> bool:
    return any(f.get("Field") == "eventCategory" and "Management" in (f.get("Equals") or ())
               for f in selector.field_selectors)


@dataclass(frozen=True)
class BucketAccess:
    """Who can reach a bucket: its ACL grantees, its policy, its public access block."""

    name: str
    in_account: bool  # listed by ListBuckets: a bucket of another account is not readable here
    acl_grantee_uris: tuple[str, ...] = ()
    public_access_block: Mapping[str, bool] | None = None
    policy: Mapping[str, Any] | None = None
    policy_is_public: bool | None = None  # GetBucketPolicyStatus; None without a policy
    error: str | None = None


# --- the whole account ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountFacts:
    account: str
    partition: str
    region: str
    read_at: datetime
    users: tuple[User, ...] = ()
    groups: tuple[Group, ...] = ()
    roles: tuple[Role, ...] = ()
    password_policy: PasswordPolicy = field(default_factory=lambda: PasswordPolicy(False))
    summary: AccountSummary = field(default_factory=lambda: AccountSummary({}))
    virtual_mfa_devices: tuple[VirtualMfaDevice, ...] = ()
    credential_report: CredentialReport = field(default_factory=lambda: CredentialReport("absent"))
    trails: tuple[Trail, ...] = ()
    buckets: Mapping[str, BucketAccess] = field(default_factory=dict)
    guardrails: Guardrails = field(default_factory=lambda: Guardrails())
    # fact name ("users", "trails", ...) -> why it could not be read; its field then holds the default.
    unread: Mapping[str, str] = field(default_factory=dict)

    @property
    def root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:root"

    def user(self, name: str) -> User | None:
        return next((u for u in self.users if u.name == name), None)

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.name == name), None)


# --- readers ------------------------------------------------------------------------------------------
def _pages(client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    return [item for page in client.get_paginator(operation).paginate(**params) for item in page[key]]


def _captured(call: Callable[[], T]) -> T | Exception:
    """The result, or the exception it raised, for reads that may fail on their own."""
    try:
        return call()
    except Exception as exc:
        return exc


def _attached(items: list[Mapping[str, Any]]) -> tuple[AttachedPolicy, ...]:
    return tuple(AttachedPolicy(str(p["PolicyName"]), str(p["PolicyArn"])) for p in items)


def _document(raw: Any) -> Mapping[str, Any]:
    """A policy document: boto3 decodes IAM's URL-encoded JSON; a raw string is decoded here."""
    if isinstance(raw, str):
        decoded: Mapping[str, Any] = json.loads(unquote(raw))
        return decoded
    return dict(raw or {})


def read_users(aws: Aws) -> tuple[User, ...]:
    """Every IAM user with its login profile, MFA devices, policies, groups and access keys: six reads per
    user (and one per key), all users at once. The sandbox's stand-in root is not a user (ListUsers hides it)."""
    listed = _pages(aws.client("iam"), "list_users", "Users")
    return tuple(aws.parallel(*(lambda u=u: _user_details(aws, u) for u in listed)))


def read_user(aws: Aws, name: str) -> User | None:
    """One user by name (GetUser, which adds its tags and permissions boundary), with the same per-user reads
    read_users sends: in check and plan the read cache answers a step's user and the controls' from one read."""
    found = absent_is_none(lambda: aws.client("iam").get_user(UserName=name))
    return None if found is None else _user_details(aws, found["User"])


def read_login_profile(aws: Aws, name: str) -> Mapping[str, Any] | None:
    """GetLoginProfile's answer for one user (None: no console password), the read read_user sends."""
    return absent_is_none(lambda: aws.client("iam").get_login_profile(UserName=name))


def _user_details(aws: Aws, user: Mapping[str, Any]) -> User:
    iam = aws.client("iam")
    name = str(user["UserName"])

    def keys() -> tuple[AccessKey, ...]:
        listed_keys = _pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
        uses = aws.parallel(*(lambda k=k: iam.get_access_key_last_used(AccessKeyId=k["AccessKeyId"]).get(
            "AccessKeyLastUsed", {}) for k in listed_keys))
        return tuple(AccessKey(str(k["AccessKeyId"]), str(k["Status"]), _utc(k.get("CreateDate")),
                               _utc(u.get("LastUsedDate")), u.get("ServiceName"), u.get("Region"))
                     for k, u in zip(listed_keys, uses, strict=True))

    login, mfa, attached, inline, groups, access_keys = aws.parallel(
        lambda: read_login_profile(aws, name),
        lambda: _pages(iam, "list_mfa_devices", "MFADevices", UserName=name),
        lambda: _pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name),
        lambda: _pages(iam, "list_user_policies", "PolicyNames", UserName=name),
        lambda: _pages(iam, "list_groups_for_user", "Groups", UserName=name),
        keys,
    )
    profile = (login or {}).get("LoginProfile")
    return User(
        name=name,
        arn=str(user["Arn"]),
        login_profile=profile is not None,
        password_reset_required=bool(profile.get("PasswordResetRequired")) if profile is not None else None,
        mfa_serials=tuple(str(d["SerialNumber"]) for d in mfa),
        attached_policies=_attached(attached),
        inline_policies=tuple(str(p) for p in inline),
        groups=tuple(str(g["GroupName"]) for g in groups),
        created=_utc(user.get("CreateDate")),
        password_last_used=_utc(user.get("PasswordLastUsed")),
        password_created=_utc(profile.get("CreateDate")) if profile is not None else None,
        access_keys=access_keys,
        user_id=str(user.get("UserId", "")),
        path=str(user.get("Path", "/")),
        tags={str(t["Key"]): str(t["Value"]) for t in user.get("Tags") or []},
        permissions_boundary=(user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
    )


# --- the IAM directory in one read (GetAccountAuthorizationDetails) ------------------------------------
@dataclass(frozen=True)
class DirectoryUser:
    """A user as GetAccountAuthorizationDetails lists it: with its tags, groups and policies (ListUsers
    returns no tags), which is what deciding whose it is needs (steps/provenance.py)."""

    name: str
    user_id: str
    arn: str
    path: str
    tags: Mapping[str, str]
    groups: tuple[str, ...] = ()
    attached_policies: tuple[str, ...] = ()  # ARNs
    inline_policies: tuple[str, ...] = ()

    def as_get_user(self) -> dict[str, Any]:
        """The user in GetUser's shape (what provenance.user_ownership reads)."""
        return {"UserName": self.name, "UserId": self.user_id, "Arn": self.arn, "Path": self.path,
                "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()]}


@dataclass(frozen=True)
class DirectoryGroup:
    name: str
    group_id: str
    arn: str
    path: str
    attached_policies: tuple[str, ...] = ()  # ARNs
    inline_policies: tuple[str, ...] = ()
    members: tuple[str, ...] = ()

    def as_get_group(self) -> dict[str, Any]:
        return {"GroupName": self.name, "GroupId": self.group_id, "Arn": self.arn, "Path": self.path}


@dataclass(frozen=True)
class Directory:
    users: Mapping[str, DirectoryUser]  # by name, lower-cased: IAM names are unique regardless of case
    groups: Mapping[str, DirectoryGroup]

    def user(self, name: str) -> DirectoryUser | None:
        return self.users.get(name.lower())

    def group(self, name: str) -> DirectoryGroup | None:
        return self.groups.get(name.lower())


def read_directory(aws: Aws) -> Directory:
    """Every user and group with their tags, paths, memberships and policies, in one paginated read
    (IAM API reference, GetAccountAuthorizationDetails: up to 1,000 entities a page), instead of four
    reads per user. Filtered to users and groups: the managed policies' documents are not needed."""
    iam = aws.client("iam")
    users: dict[str, DirectoryUser] = {}
    groups: dict[str, tuple[Mapping[str, Any], list[str]]] = {}
    for page in iam.get_paginator("get_account_authorization_details").paginate(Filter=["User", "Group"]):
        for u in page.get("UserDetailList", []):
            users[str(u["UserName"]).lower()] = DirectoryUser(
                str(u["UserName"]), str(u["UserId"]), str(u["Arn"]), str(u.get("Path", "/")),
                {str(t["Key"]): str(t["Value"]) for t in u.get("Tags") or []}, tuple(u.get("GroupList") or ()),
                tuple(str(p["PolicyArn"]) for p in u.get("AttachedManagedPolicies") or ()),
                tuple(str(p["PolicyName"]) for p in u.get("UserPolicyList") or ()))
        for g in page.get("GroupDetailList", []):
            groups[str(g["GroupName"]).lower()] = (g, [])
    for user in users.values():
        for name in user.groups:
            if name.lower() in groups:
                groups[name.lower()][1].append(user.name)
    return Directory(users, {key: DirectoryGroup(
        str(g["GroupName"]), str(g["GroupId"]), str(g["Arn"]), str(g.get("Path", "/")),
        tuple(str(p["PolicyArn"]) for p in g.get("AttachedManagedPolicies") or ()),
        tuple(str(p["PolicyName"]) for p in g.get("GroupPolicyList") or ()), tuple(sorted(members)))
        for key, (g, members) in groups.items()})


def read_groups(aws: Aws) -> tuple[Group, ...]:
    listed = _pages(aws.client("iam"), "list_groups", "Groups")
    found = aws.parallel(*(lambda g=g: read_group(aws, str(g["GroupName"])) for g in listed))
    return tuple(g for g in found if g is not None)  # None: deleted between the listing and its reads


def read_group(aws: Aws, name: str) -> Group | None:
    """One group by name with its members and policies (the reads read_groups sends for each), or None."""
    iam = aws.client("iam")

    def members() -> tuple[Mapping[str, Any], tuple[str, ...]]:
        pages = list(iam.get_paginator("get_group").paginate(GroupName=name))
        return pages[0]["Group"], tuple(str(u["UserName"]) for page in pages for u in page["Users"])

    found, attached, inline = aws.parallel(
        lambda: absent_is_none(members),
        lambda: absent_is_none(lambda: _pages(iam, "list_attached_group_policies", "AttachedPolicies",
                                              GroupName=name)),
        lambda: absent_is_none(lambda: _pages(iam, "list_group_policies", "PolicyNames", GroupName=name)),
    )
    if found is None or attached is None:
        return None
    details, users = found
    return Group(str(details["GroupName"]), str(details["Arn"]), users, _attached(attached),
                 tuple(str(p) for p in inline or ()), str(details.get("GroupId", "")), str(details.get("Path", "/")))


def read_roles(aws: Aws) -> tuple[Role, ...]:
    iam = aws.client("iam")
    listed = _pages(iam, "list_roles", "Roles")

    def read(role: Mapping[str, Any]) -> Role:
        name = str(role["RoleName"])
        attached = _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)
        return Role(name, str(role["Arn"]), str(role.get("Path", "/")),
                    _document(role.get("AssumeRolePolicyDocument")), _attached(attached))

    return tuple(aws.parallel(*(lambda r=r: read(r) for r in listed)))


def read_password_policy(aws: Aws) -> PasswordPolicy:
    found = absent_is_none(lambda: aws.client("iam").get_account_password_policy())
    if found is None:
        return PasswordPolicy(False)
    p = found["PasswordPolicy"]
    return PasswordPolicy(
        present=True,
        minimum_length=int(p.get("MinimumPasswordLength", 6)),
        require_symbols=bool(p.get("RequireSymbols")),
        require_numbers=bool(p.get("RequireNumbers")),
        require_uppercase=bool(p.get("RequireUppercaseCharacters")),
        require_lowercase=bool(p.get("RequireLowercaseCharacters")),
        allow_users_to_change=bool(p.get("AllowUsersToChangePassword")),
        expire_passwords=bool(p.get("ExpirePasswords")),
        max_age=p.get("MaxPasswordAge"),
        reuse_prevention=p.get("PasswordReusePrevention"),
        hard_expiry=p.get("HardExpiry"),
    )


def read_summary(aws: Aws) -> AccountSummary:
    summary = aws.client("iam").get_account_summary()["SummaryMap"]
    return AccountSummary({str(k): int(v) for k, v in summary.items()})


def read_virtual_mfa_devices(aws: Aws) -> tuple[VirtualMfaDevice, ...]:
    """Assigned virtual devices (the same read root-mfa sends): root's shows whether it is virtual."""
    devices = _pages(aws.client("iam"), "list_virtual_mfa_devices", "VirtualMFADevices", AssignmentStatus="Assigned")
    return tuple(VirtualMfaDevice(str(d["SerialNumber"]), d.get("User", {}).get("Arn")) for d in devices)


REPORT_STATES: dict[str, Literal["absent", "expired", "in-progress"]] = {
    "ReportNotPresent": "absent", "ReportExpired": "expired", "ReportInProgress": "in-progress",
}


def read_credential_report(aws: Aws) -> CredentialReport:
    try:
        answer = aws.client("iam").get_credential_report()
    except Exception as exc:
        state = REPORT_STATES.get(error_code(exc) or "")
        if state is None:
            raise
        return CredentialReport(state)
    return parse_credential_report(answer["Content"], answer.get("GeneratedTime"))


def parse_credential_report(content: bytes | str, generated: datetime | None) -> CredentialReport:
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    rows = tuple(CredentialRow(dict(row)) for row in csv.DictReader(io.StringIO(text)))
    if generated is not None and generated.tzinfo is None:
        generated = generated.replace(tzinfo=UTC)
    return CredentialReport("present", generated, rows)


def list_trails(aws: Aws) -> list[Mapping[str, Any]]:
    """Every trail this region sees (shadow copies of multi-region and organization trails included), once."""
    listed = aws.client("cloudtrail").describe_trails(includeShadowTrails=True)["trailList"]
    unique: dict[str, Mapping[str, Any]] = {}
    for t in listed:
        unique.setdefault(str(t["TrailARN"]), t)
    return list(unique.values())


def read_trails(aws: Aws, strict_for: str | None = None) -> tuple[Trail, ...]:
    """The trails with their status and selectors, each read in its home region (see read_trail)."""
    return tuple(aws.parallel(*(lambda t=t: read_trail(aws, t, strict_for) for t in list_trails(aws))))


# What a member account may be told when it asks for another account's organization trail (botocore's
# GetTrailStatus / GetEventSelectors errors): the trail is then counted as its management account keeps it.
REFUSED_FOREIGN = frozenset({
    "TrailNotFoundException", "CloudTrailARNInvalidException", "OperationNotPermittedException",
    "UnsupportedOperationException", "AccessDenied", "AccessDeniedException",
})  # fmt: skip


def read_trail(aws: Aws, t: Mapping[str, Any], strict_for: str | None = None) -> Trail:
    """One trail. Status and selectors may fail to read (e.g. an organization trail seen from a member): the
    error is kept in status_error; with `strict_for` (the caller's account, for a step that changes trails) a
    failure is raised instead, except another account's trail refusing with one of REFUSED_FOREIGN."""
    home = str(t.get("HomeRegion") or aws.region)
    client = aws.client("cloudtrail", home)
    arn = str(t["TrailARN"])

    status, selectors = aws.parallel(
        lambda: _captured(lambda: client.get_trail_status(Name=arn)),
        lambda: _captured(lambda: client.get_event_selectors(TrailName=arn)),
    )
    failed = next((r for r in (status, selectors) if isinstance(r, Exception)), None)
    if failed is not None and strict_for is not None:
        foreign = arn.split(":")[4] != strict_for if arn.count(":") >= 5 else False
        if not (foreign and error_code(failed) in REFUSED_FOREIGN):
            raise failed
    picked = {} if isinstance(selectors, Exception) else selectors
    return Trail(
        name=str(t["Name"]),
        arn=arn,
        home_region=home,
        s3_bucket=t.get("S3BucketName"),
        multi_region=bool(t.get("IsMultiRegionTrail")),
        organization=bool(t.get("IsOrganizationTrail")),
        global_events=bool(t.get("IncludeGlobalServiceEvents")),
        log_file_validation=bool(t.get("LogFileValidationEnabled")),
        kms_key_id=t.get("KmsKeyId"),
        log_group_arn=t.get("CloudWatchLogsLogGroupArn"),
        is_logging=None if isinstance(status, Exception) else bool(status.get("IsLogging")),
        status_error=describe(failed) if failed is not None else None,
        event_selectors=tuple(
            EventSelector(str(s.get("ReadWriteType", "All")), bool(s.get("IncludeManagementEvents", True)),
                          tuple(s.get("DataResources") or ()))
            for s in picked.get("EventSelectors") or ()
        ),
        advanced_selectors=tuple(
            AdvancedEventSelector(s.get("Name"), tuple(s.get("FieldSelectors") or ()))
            for s in picked.get("AdvancedEventSelectors") or ()
        ),
        raw_event_selectors=tuple(picked.get("EventSelectors") or ()),
        raw_advanced_selectors=tuple(picked.get("AdvancedEventSelectors") or ()),
        logs_role_arn=t.get("CloudWatchLogsRoleArn"),
        selectors_read=not isinstance(selectors, Exception),
    )


def read_bucket_access(aws: Aws, name: str) -> BucketAccess:
    """All five reads at once (one round trip): whether the account lists the bucket, and who can reach it.
    The four about access fail for a bucket of another account; then only "not in this account" counts."""
    s3 = aws.client("s3")
    listed, acl, pab, policy, status = aws.parallel(
        lambda: s3.list_buckets(Prefix=name)["Buckets"],  # the cloudtrail step's ownership read, shared
        lambda: _captured(lambda: s3.get_bucket_acl(Bucket=name)),
        lambda: _captured(lambda: absent_is_none(lambda: s3.get_public_access_block(Bucket=name),
                                                 ("NoSuchPublicAccessBlockConfiguration",))),
        lambda: _captured(lambda: absent_is_none(lambda: s3.get_bucket_policy(Bucket=name), ("NoSuchBucketPolicy",))),
        lambda: _captured(lambda: absent_is_none(lambda: s3.get_bucket_policy_status(Bucket=name),
                                                 ("NoSuchBucketPolicy",))),
    )
    if not any(b["Name"] == name for b in listed):
        return BucketAccess(name, in_account=False)
    failed = next((r for r in (acl, pab, policy, status) if isinstance(r, Exception)), None)
    if failed is not None:
        raise failed
    return BucketAccess(
        name=name,
        in_account=True,
        acl_grantee_uris=tuple(str(g["Grantee"]["URI"]) for g in acl.get("Grants", []) if g["Grantee"].get("URI")),
        public_access_block=(pab or {}).get("PublicAccessBlockConfiguration"),
        policy=json.loads(policy["Policy"]) if policy else None,
        policy_is_public=bool(status["PolicyStatus"].get("IsPublic")) if status else None,
    )


def read_facts(aws: Aws, caller: Caller, now: datetime | None = None) -> AccountFacts:
    """All facts at once. A fact that fails to read is left at its default and named in `unread`."""
    unread: dict[str, str] = {}

    def attempt(name: str, call: Callable[[], T], default: T) -> Callable[[], T]:
        def run() -> T:
            try:
                return call()
            except Exception as exc:
                unread[name] = describe(exc)
                return default
        return run

    def bucket(name: str) -> BucketAccess:
        try:
            return read_bucket_access(aws, name)
        except Exception as exc:
            return BucketAccess(name, in_account=True, error=describe(exc))

    def trails_and_buckets() -> tuple[tuple[Trail, ...], dict[str, BucketAccess]]:
        """Listed once; then every trail's status and selectors and every bucket's access, all at once."""
        try:
            listed = list_trails(aws)
        except Exception as exc:
            unread["trails"] = describe(exc)
            return (), {}
        names = sorted({str(t["S3BucketName"]) for t in listed if t.get("S3BucketName")})
        found = aws.parallel(*(lambda t=t: read_trail(aws, t) for t in listed), *(lambda n=n: bucket(n) for n in names))
        return tuple(found[:len(listed)]), {b.name: b for b in found[len(listed):]}

    users, groups, roles, policy, summary, devices, report, (trails, buckets), guardrails = aws.parallel(
        attempt("users", lambda: read_users(aws), ()),
        attempt("groups", lambda: read_groups(aws), ()),
        attempt("roles", lambda: read_roles(aws), ()),
        attempt("password policy", lambda: read_password_policy(aws), PasswordPolicy(False)),
        attempt("account summary", lambda: read_summary(aws), AccountSummary({})),
        attempt("virtual MFA devices", lambda: read_virtual_mfa_devices(aws), ()),
        attempt("credential report", lambda: read_credential_report(aws), CredentialReport("absent")),
        trails_and_buckets,
        lambda: read_guardrails(aws, caller),
        width=9,  # all nine at once
    )
    unread.update(guardrails.unread)
    return AccountFacts(
        account=caller.account, partition=caller.partition, region=aws.region, read_at=now or datetime.now(UTC),
        users=users, groups=groups, roles=roles, password_policy=policy, summary=summary,
        virtual_mfa_devices=devices, credential_report=report, trails=trails, buckets=buckets, guardrails=guardrails,
        unread=dict(unread),
    )


# --- account-wide guardrails (AWS's Startup Security Baseline) ---------------------------------------
# Read for the controls and by the steps that bring them about (the same operations and parameters, so in
# check and plan the read cache sends each once). Regional facts are read in every enabled region, all
# regions at once: one round trip per level of dependency however many regions there are.
REGIONAL_WIDTH = 64  # threads for a fan-out over regions (one client per region, so no pool is shared)
CONTACT_TYPES = ("SECURITY", "BILLING", "OPERATIONS")
# DescribeRegions without AllRegions lists the enabled regions (EC2 API reference); these are the statuses
# an enabled region has, checked again here in case an endpoint lists others.
ENABLED_OPT_IN = ("opt-in-not-required", "opted-in")
EXTERNAL_ANALYZER_TYPES = ("ACCOUNT", "ORGANIZATION")  # external access; the *_UNUSED_ACCESS types are not
# The default-vpcs step tags a default VPC's internet gateway with the VPC's id before detaching it, so a run
# stopped between detaching and deleting it finds it again (a detached gateway names no VPC).
GATEWAY_OF_TAG = "aws-harden:gateway-of"


@dataclass(frozen=True)
class AlternateContact:
    type: str  # SECURITY, BILLING or OPERATIONS
    name: str
    title: str
    email: str
    phone: str

    def fields(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "email": self.email, "phone": self.phone}


@dataclass(frozen=True)
class PrimaryContact:
    """The account's primary contact (account:GetContactInformation), shown for the operator to confirm."""

    full_name: str
    phone: str
    company: str | None = None
    country_code: str | None = None
    city: str | None = None


@dataclass(frozen=True)
class BucketExposure:
    """Whether a bucket is public today: its ACL's grantees, its policy status, its own public access block."""

    name: str
    acl_grantee_uris: tuple[str, ...] = ()
    policy_is_public: bool | None = None  # None: no bucket policy
    public_access_block: Mapping[str, bool] | None = None
    error: str | None = None

    def reasons(self, account_block: Mapping[str, bool] | None = None) -> list[str]:
        """Why the bucket is public, with the account's block and its own both applied; empty if it is not."""
        block = {k: bool((self.public_access_block or {}).get(k)) or bool((account_block or {}).get(k))
                 for k in ("IgnorePublicAcls", "RestrictPublicBuckets")}
        found = []
        if not block["IgnorePublicAcls"]:
            found += [f"its ACL grants {uri.rsplit('/', 1)[-1]}" for uri in self.acl_grantee_uris
                      if uri in (ALL_USERS, AUTHENTICATED_USERS)]
        if self.policy_is_public and not block["RestrictPublicBuckets"]:
            found.append("its bucket policy is public")
        return found


@dataclass(frozen=True)
class Analyzer:
    name: str
    arn: str
    type: str
    status: str
    region: str

    @property
    def external_access(self) -> bool:
        return self.type in EXTERNAL_ANALYZER_TYPES


@dataclass(frozen=True)
class Detector:
    id: str
    region: str
    status: str  # ENABLED, or DISABLED (suspended)


@dataclass(frozen=True)
class DefaultVpc:
    id: str
    region: str
    cidr: str
    subnets: tuple[str, ...] = ()
    internet_gateways: tuple[str, ...] = ()
    network_interfaces: tuple[str, ...] = ()  # anything using the VPC has one (instances, endpoints, ...)

    @property
    def in_use(self) -> bool:
        return bool(self.network_interfaces)


@dataclass(frozen=True)
class AccountPlan:
    """freetier:GetAccountPlanState, for accounts made since July 2025 (Free or Paid plan)."""

    type: str  # FREE or PAID
    status: str  # NOT_STARTED, ACTIVE or EXPIRED
    remaining_credits: float | None = None
    currency: str | None = None
    expires: datetime | None = None


@dataclass(frozen=True)
class Guardrails:
    regions: tuple[str, ...] = ()
    alternate_contacts: Mapping[str, AlternateContact | None] = field(default_factory=dict)
    primary_contact: PrimaryContact | None = None
    account_public_access_block: Mapping[str, bool] | None = None
    buckets: tuple[BucketExposure, ...] = ()
    ebs_encryption: Mapping[str, bool] = field(default_factory=dict)  # region -> on by default
    analyzers: Mapping[str, tuple[Analyzer, ...]] = field(default_factory=dict)  # by region
    detectors: Mapping[str, tuple[Detector, ...]] = field(default_factory=dict)  # by region
    default_vpcs: Mapping[str, tuple[DefaultVpc, ...]] = field(default_factory=dict)  # by region
    account_plan: AccountPlan | None = None  # None where the API does not answer (older accounts, the sandbox)
    unread: Mapping[str, str] = field(default_factory=dict)

    def public_buckets(self) -> dict[str, list[str]]:
        """Bucket -> why it is public today (the account's current block applied)."""
        found = {b.name: b.reasons(self.account_public_access_block) for b in self.buckets if b.error is None}
        return {name: reasons for name, reasons in found.items() if reasons}


REGIONAL_FACTS = ("ebs encryption", "access analyzers", "guardduty detectors", "default vpcs")
GUARDRAIL_FACTS = ("regions", "alternate contacts", "primary contact", "account public access block",
                   "bucket exposure", *REGIONAL_FACTS, "account plan")


def read_regions(aws: Aws) -> tuple[str, ...]:
    listed = aws.client("ec2").describe_regions()["Regions"]
    return tuple(sorted(str(r["RegionName"]) for r in listed if r.get("OptInStatus", ENABLED_OPT_IN[0])
                        in ENABLED_OPT_IN))


def per_region(aws: Aws, regions: tuple[str, ...], read: Callable[[str], T]) -> dict[str, T]:
    """`read(region)` in every region, all at once."""
    found = aws.parallel(*(lambda r=r: read(r) for r in regions), width=REGIONAL_WIDTH)
    return dict(zip(regions, found, strict=True))


def read_alternate_contacts(aws: Aws) -> dict[str, AlternateContact | None]:
    client = aws.client("account", GLOBAL_REGION)

    def read(kind: str) -> AlternateContact | None:
        found = absent_is_none(lambda: client.get_alternate_contact(AlternateContactType=kind),
                               ("ResourceNotFoundException",))
        if found is None:
            return None
        c = found["AlternateContact"]
        return AlternateContact(kind, str(c.get("Name", "")), str(c.get("Title", "")), str(c.get("EmailAddress", "")),
                                str(c.get("PhoneNumber", "")))

    return dict(zip(CONTACT_TYPES, aws.parallel(*(lambda k=k: read(k) for k in CONTACT_TYPES)), strict=True))


def read_primary_contact(aws: Aws) -> PrimaryContact | None:
    found = absent_is_none(lambda: aws.client("account", GLOBAL_REGION).get_contact_information(),
                           ("ResourceNotFoundException",))
    if found is None:
        return None
    c = found["ContactInformation"]
    return PrimaryContact(str(c.get("FullName", "")), str(c.get("PhoneNumber", "")), c.get("CompanyName"),
                          c.get("CountryCode"), c.get("City"))


def read_account_public_access_block(aws: Aws, account: str) -> Mapping[str, bool] | None:
    found = absent_is_none(lambda: aws.client("s3control").get_public_access_block(AccountId=account),
                           ("NoSuchPublicAccessBlockConfiguration",))
    return None if found is None else {k: bool(v) for k, v in found["PublicAccessBlockConfiguration"].items()}


def read_bucket_exposure(aws: Aws) -> tuple[BucketExposure, ...]:
    """ListBuckets, then every bucket's ACL, policy status and own block, all at once (the same reads the
    trail buckets' facts send, so the read cache shares them)."""
    s3 = aws.client("s3")
    names = [str(b["Name"]) for b in _pages(s3, "list_buckets", "Buckets")]

    def read(name: str) -> BucketExposure:
        acl, pab, status = aws.parallel(
            lambda: _captured(lambda: s3.get_bucket_acl(Bucket=name)),
            lambda: _captured(lambda: absent_is_none(lambda: s3.get_public_access_block(Bucket=name),
                                                     ("NoSuchPublicAccessBlockConfiguration",))),
            lambda: _captured(lambda: absent_is_none(lambda: s3.get_bucket_policy_status(Bucket=name),
                                                     ("NoSuchBucketPolicy",))),
        )
        failed = next((r for r in (acl, pab, status) if isinstance(r, Exception)), None)
        if failed is not None:
            return BucketExposure(name, error=describe(failed))
        return BucketExposure(
            name,
            tuple(str(g["Grantee"]["URI"]) for g in acl.get("Grants", []) if g["Grantee"].get("URI")),
            bool(status["PolicyStatus"].get("IsPublic")) if status else None,
            (pab or {}).get("PublicAccessBlockConfiguration"),
        )

    return tuple(aws.parallel(*(lambda n=n: read(n) for n in names), width=REGIONAL_WIDTH))


def read_ebs_encryption(aws: Aws, regions: tuple[str, ...]) -> dict[str, bool]:
    return per_region(aws, regions, lambda r: bool(
        aws.client("ec2", r).get_ebs_encryption_by_default()["EbsEncryptionByDefault"]))


def read_analyzers(aws: Aws, regions: tuple[str, ...]) -> dict[str, tuple[Analyzer, ...]]:
    def read(region: str) -> tuple[Analyzer, ...]:
        listed = _pages(aws.client("accessanalyzer", region), "list_analyzers", "analyzers")
        return tuple(Analyzer(str(a["name"]), str(a["arn"]), str(a["type"]), str(a["status"]), region) for a in listed)

    return per_region(aws, regions, read)


def read_detectors(aws: Aws, regions: tuple[str, ...]) -> dict[str, tuple[Detector, ...]]:
    def read(region: str) -> tuple[Detector, ...]:
        client = aws.client("guardduty", region)
        ids = [str(i) for i in _pages(client, "list_detectors", "DetectorIds")]
        found = aws.parallel(*(lambda i=i: client.get_detector(DetectorId=i) for i in ids))
        return tuple(Detector(i, region, str(d.get("Status", ""))) for i, d in zip(ids, found, strict=True))

    return per_region(aws, regions, read)


def read_default_vpcs(aws: Aws, regions: tuple[str, ...]) -> dict[str, tuple[DefaultVpc, ...]]:
    """Each region's default VPC, with what deleting it needs gone first (subnets, internet gateways) and
    what would show it is in use (network interfaces): those three reads at once, per VPC."""
    def read(region: str) -> tuple[DefaultVpc, ...]:
        ec2 = aws.client("ec2", region)
        vpcs = _pages(ec2, "describe_vpcs", "Vpcs", Filters=[{"Name": "is-default", "Values": ["true"]}])

        def details(vpc: Mapping[str, Any]) -> DefaultVpc:
            vpc_id = str(vpc["VpcId"])
            by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
            subnets, attached, marked, interfaces = aws.parallel(
                lambda: _pages(ec2, "describe_subnets", "Subnets", Filters=by_vpc),
                lambda: _pages(ec2, "describe_internet_gateways", "InternetGateways",
                               Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]),
                # A gateway a stopped deletion already detached: it is tagged with the VPC before detaching.
                lambda: _pages(ec2, "describe_internet_gateways", "InternetGateways",
                               Filters=[{"Name": f"tag:{GATEWAY_OF_TAG}", "Values": [vpc_id]}]),
                lambda: _pages(ec2, "describe_network_interfaces", "NetworkInterfaces", Filters=by_vpc),
            )
            gateways = dict.fromkeys(str(g["InternetGatewayId"]) for g in [*attached, *marked])
            return DefaultVpc(vpc_id, region, str(vpc.get("CidrBlock", "")),
                              tuple(str(s["SubnetId"]) for s in subnets), tuple(gateways),
                              tuple(str(i["NetworkInterfaceId"]) for i in interfaces))

        return tuple(aws.parallel(*(lambda v=v: details(v) for v in vpcs)))

    return per_region(aws, regions, read)


def read_account_plan(aws: Aws) -> AccountPlan | None:
    """None when the account has no plan (ResourceNotFoundException: older accounts, the sandbox)."""
    state = absent_is_none(lambda: aws.client("freetier", GLOBAL_REGION).get_account_plan_state(),
                           ("ResourceNotFoundException",))
    if state is None:
        return None
    credits = state.get("accountPlanRemainingCredits") or {}
    expires = state.get("accountPlanExpirationDate")
    return AccountPlan(str(state["accountPlanType"]), str(state["accountPlanStatus"]),
                       float(credits["amount"]) if "amount" in credits else None, credits.get("unit"),
                       expires if isinstance(expires, datetime) else None)


def read_guardrails(aws: Aws, caller: Caller, only: Collection[str] | None = None, strict: bool = False) -> Guardrails:
    """The guardrail facts named in `only` (all by default), at once; regional ones after one DescribeRegions.

    strict (the steps): a read that fails raises. Otherwise (the controls) it is named in `unread`."""
    wanted = set(GUARDRAIL_FACTS if only is None else only)
    unknown = wanted - set(GUARDRAIL_FACTS)
    assert not unknown, f"unknown guardrail facts {unknown}"
    unread: dict[str, str] = {}
    found: dict[str, Any] = {}

    def attempt(name: str, call: Callable[[], Any], default: Any = None) -> Callable[[], None]:
        def run() -> None:
            try:
                found[name] = call()
            except Exception as exc:
                if strict:
                    raise
                unread[name] = describe(exc)
                found[name] = default
        return run

    regional: dict[str, Callable[[Aws, tuple[str, ...]], Any]] = {
        "ebs encryption": read_ebs_encryption, "access analyzers": read_analyzers,
        "guardduty detectors": read_detectors, "default vpcs": read_default_vpcs,
    }

    def regions_then_regional() -> None:
        attempt("regions", lambda: read_regions(aws), ())()
        names = [n for n in regional if n in wanted]
        if "regions" in unread:
            unread.update(dict.fromkeys(names, f"regions: {unread['regions']}"))
            found.update({name: {} for name in names})
            return
        def regional_read(name: str) -> Callable[[], Any]:
            return lambda: regional[name](aws, found["regions"])

        aws.parallel(*(attempt(n, regional_read(n), {}) for n in names))

    single: dict[str, tuple[Callable[[], Any], Any]] = {
        "alternate contacts": (lambda: read_alternate_contacts(aws), {}),
        "primary contact": (lambda: read_primary_contact(aws), None),
        "account public access block": (lambda: read_account_public_access_block(aws, caller.account), None),
        "bucket exposure": (lambda: read_bucket_exposure(aws), ()),
        "account plan": (lambda: read_account_plan(aws), None),
    }
    calls = [attempt(n, call, default) for n, (call, default) in single.items() if n in wanted]
    if wanted & {"regions", *regional}:
        calls.append(regions_then_regional)
    aws.parallel(*calls)
    return Guardrails(
        regions=found.get("regions", ()), alternate_contacts=found.get("alternate contacts", {}),
        primary_contact=found.get("primary contact"),
        account_public_access_block=found.get("account public access block"),
        buckets=found.get("bucket exposure", ()), ebs_encryption=found.get("ebs encryption", {}),
        analyzers=found.get("access analyzers", {}), detectors=found.get("guardduty detectors", {}),
        default_vpcs=found.get("default vpcs", {}), account_plan=found.get("account plan"), unread=unread,
    )
