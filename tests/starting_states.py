"""Random starting accounts for the convergence property: small data, arranged in moto with plain boto3.

A `Start` says what an account looks like before the wizard runs, for every step at once; `arrange()`
makes it so, `snapshot()` reads back (from moto's backends, cheaply) what must survive the wizard, and
`answers_toml()` writes the answers file the run uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import keyring
from hypothesis import strategies as st

from steps.billing_report import export_definition
from tests.moto_regions import TEST_REGIONS
from wizard.sandbox.root_user import ROOT_NAME, assign_root_mfa

ACCOUNT = "123456789012"
REGION = "us-east-1"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
BILLING = "arn:aws:iam::aws:policy/job-function/Billing"
ADMIN_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
DEFAULT_TRAIL_BUCKET = f"aws-harden-cloudtrail-{ACCOUNT}-{REGION}"
BILLING_BUCKET = f"aws-harden-billing-{ACCOUNT}"
KEEP_SID = "KeptFromBefore"  # a statement of someone else's in a bucket policy: must survive
# A statement under CloudTrail's documented Sid, but without aws:SourceArn: the wizard replaces it.
OLD_WRITE = {
    "Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": "s3:PutObject", "Resource": "arn:aws:s3:::{bucket}/AWSLogs/*",
}


@dataclass(frozen=True)
class OtherUser:
    name: str
    console: bool
    mfa: bool
    in_group: bool


@dataclass(frozen=True)
class Iam:
    admin_name: str
    admin: str  # "absent", "user" (no console) or "console"
    admin_direct_policies: bool
    admin_mfa: bool
    group_name: str
    group_policy: bool  # only when the group exists
    group_member: bool
    group_exists: bool
    group_extra_policy: bool
    others: tuple[OtherUser, ...]
    password_policy: dict[str, Any] | None
    alias: str | None
    wanted_alias: str
    root_extra_key: str | None  # None, "Active" or "Inactive"
    root_mfa: bool
    enforce: bool
    confirm_running_key: bool
    # Whose the admin is: "wizard" (an earlier run here: the tag, and its password in this keyring),
    # "tagged" (the tag, but nothing held here) or "foreign" (someone else's); whether the answers name it.
    admin_origin: str = "wizard"
    adopt_admin: bool = False
    admin_reset: bool = False  # a wizard-made login profile whose first-sign-in reset is still pending
    group_path: str = "/aws-harden/"  # "/aws-harden/" is the wizard's mark on a group; "/" someone else's
    adopt_group: bool = False
    # team-users (issue 14): the people listed, with their catalogue group; a catalogue group an earlier run
    # left half set up (on the wizard's path, no policy yet); a role of someone else's with AWSSupportAccess.
    team: tuple[tuple[str, str], ...] = ()
    half_team_group: bool = False
    support_role_elsewhere: bool = False

    @property
    def admin_usable(self) -> bool:
        """What the wizard may use as its admin without asking: its own, one it creates, or one named."""
        return self.admin == "absent" or self.admin_origin == "wizard" or self.adopt_admin

    @property
    def group_consent_needed(self) -> bool:
        """A group of someone else's, or one whose members the wizard did not add would get admin rights."""
        if not self.group_exists:
            return False
        others = any(o.in_group for o in self.others) or (self.group_member and not self.admin_usable)
        return self.group_path != "/aws-harden/" or (not self.group_policy and others)

    @property
    def group_usable(self) -> bool:
        """The wizard may widen the group (attach AdministratorAccess, add the admin)."""
        return not self.group_consent_needed or self.adopt_group

    @property
    def group_owned(self) -> bool:
        """The group is the wizard's (its path) or named: it may at least tighten it (MFA enforcement)."""
        return not self.group_exists or self.group_path == "/aws-harden/" or self.adopt_group

    @property
    def admin_password_held(self) -> bool:
        """The operator holds the admin's console password once the run is over."""
        return self.admin_usable and (self.admin != "console" or self.admin_origin == "wizard")

    @property
    def admin_reset_pending(self) -> bool:
        """At the time user-mfa runs: a password the wizard set (now or earlier) not yet changed."""
        if not self.admin_usable:
            return False
        return self.admin != "console" or (self.admin_origin == "wizard" and self.admin_reset)


@dataclass(frozen=True)
class TrailStart:
    name: str
    multi_region: bool
    global_events: bool
    validation: bool
    logging: bool
    wrong_policy: bool


@dataclass(frozen=True)
class BucketStart:
    encryption: str | None  # None, "AES256" or "aws:kms"
    keep_statement: bool
    versioning: str | None  # None or "Suspended"


@dataclass(frozen=True)
class Trails:
    trails: tuple[TrailStart, ...]
    default_bucket: BucketStart | None
    kms: bool
    retention_days: int
    alerts: bool
    metric_filters: bool


@dataclass(frozen=True)
class Billing:
    exports: tuple[str, ...]  # granularity of each existing CUR 2.0 export
    legacy: str | None  # time unit of an existing legacy report
    bucket: str | None  # None: no dedicated bucket yet; "bare" or "keep" (with someone else's statement)


@dataclass(frozen=True)
class Budget:
    exists: bool
    amount: str
    notices: tuple[tuple[str, float], ...]
    subscribers: tuple[str, ...]
    other_budget: bool
    answer_amount: float
    answer_emails: tuple[str, ...]


@dataclass(frozen=True)
class GuardrailStart:
    """The account-wide guardrails before the wizard: someone else's contacts and settings, and the answers."""

    regions: tuple[str, ...] = TEST_REGIONS  # the account's enabled regions
    contacts: tuple[str, ...] = ()  # alternate contact types already set (with someone else's details)
    answer_contacts: bool = True  # the answers file gives all three contacts
    block: str | None = None  # account-level S3 Block Public Access: None, "partial" (two of four) or "all"
    ebs_on: tuple[str, ...] = ()  # regions where EBS encryption by default is already on
    analyzer: str | None = None  # None, "unused" (an unused-access analyzer) or "external" (an active one)
    detectors: tuple[tuple[str, bool], ...] = ()  # (region, enabled): GuardDuty detectors already there
    enable_guardduty: bool = True
    vpc_in_use: str | None = None  # the region whose default VPC has a network interface
    vpc_regions: tuple[str, ...] | None = None  # the answers file's default-vpcs regions (None: all)
    public_bucket: bool = False  # a bucket that is public through its ACL today
    checklist: bool = True  # the answers file confirms the root credentials checklist


@dataclass(frozen=True)
class Start:
    iam: Iam
    trails: Trails
    billing: Billing
    budget: Budget
    guardrails: GuardrailStart = GuardrailStart()


# --- strategies -----------------------------------------------------------------------------
def password_policies() -> st.SearchStrategy[dict[str, Any] | None]:
    policy = st.fixed_dictionaries({
        "MinimumPasswordLength": st.sampled_from([6, 8, 14, 20, 32]),
        "RequireSymbols": st.booleans(),
        "RequireNumbers": st.booleans(),
        "RequireUppercaseCharacters": st.booleans(),
        "RequireLowercaseCharacters": st.booleans(),
        "AllowUsersToChangePassword": st.booleans(),
        "MaxPasswordAge": st.sampled_from([0, 30, 90, 1095]),
        "PasswordReusePrevention": st.sampled_from([0, 5, 24]),
        "HardExpiry": st.booleans(),
    })
    return st.none() | policy


@st.composite
def iam_starts(draw: st.DrawFn) -> Iam:
    admin = draw(st.sampled_from(["absent", "user", "console"]))
    group_exists = draw(st.booleans())
    others = []
    for name in ("alice", "bob")[: draw(st.integers(0, 2))]:
        others.append(OtherUser(name, draw(st.booleans()), draw(st.booleans()), group_exists and draw(st.booleans())))
    alias = draw(st.sampled_from([None, "acme-old"]))
    origin = draw(st.sampled_from(["wizard", "tagged", "foreign"])) if admin != "absent" else "wizard"
    return Iam(
        admin_name=draw(st.sampled_from(["admin", "ops.alice"])),
        admin=admin,
        admin_direct_policies=admin != "absent" and draw(st.booleans()),
        admin_mfa=admin != "absent" and draw(st.booleans()),
        group_name=draw(st.sampled_from(["FullAccess", "Admins"])),
        group_exists=group_exists,
        group_policy=group_exists and draw(st.booleans()),
        group_member=group_exists and admin != "absent" and draw(st.booleans()),
        group_extra_policy=group_exists and draw(st.booleans()),
        others=tuple(others),
        password_policy=draw(password_policies()),
        alias=alias,
        wanted_alias=draw(st.sampled_from(["", "acme-new", alias or ""])),
        root_extra_key=draw(st.sampled_from([None, "Active", "Inactive"])),
        root_mfa=draw(st.booleans()),
        enforce=draw(st.booleans()),
        confirm_running_key=draw(st.booleans()),
        admin_origin=origin,
        adopt_admin=origin != "wizard" and draw(st.booleans()),
        admin_reset=admin == "console" and origin == "wizard" and draw(st.booleans()),
        group_path=draw(st.sampled_from(["/aws-harden/", "/"])) if group_exists else "/aws-harden/",
        adopt_group=group_exists and draw(st.booleans()),
        team=tuple((name, draw(st.sampled_from(["Developers", "ReadOnly", "Billing", "SecurityAudit"])))
                   for name in ("dana", "erin")[: draw(st.integers(0, 2))]),
        half_team_group=draw(st.booleans()),
        support_role_elsewhere=draw(st.booleans()),
    )


@st.composite
def trail_starts(draw: st.DrawFn) -> Trails:
    names = draw(st.lists(st.sampled_from(["aws-harden-trail", "audit", "legacy"]), max_size=2, unique=True))
    trails = []
    for name in names:
        multi_region, global_events, validation, logging, wrong = (draw(st.booleans()) for _ in range(5))
        # AWS (and moto) refuse a multi-region trail without global service events.
        trails.append(TrailStart(name, multi_region, global_events or multi_region, validation, logging, wrong))
    bucket = draw(st.none() | st.builds(
        BucketStart, st.sampled_from([None, "AES256", "aws:kms"]), st.booleans(), st.sampled_from([None, "Suspended"])
    ))
    rare = st.integers(0, 9).map(lambda n: n == 0)  # the costly options in about one example in ten
    return Trails(tuple(trails), bucket, draw(rare), draw(st.sampled_from([0, 30])), draw(rare), draw(rare))


@st.composite
def billing_starts(draw: st.DrawFn) -> Billing:
    exports = tuple(draw(st.lists(st.sampled_from(["DAILY", "HOURLY", "MONTHLY"]), max_size=2)))
    return Billing(exports, draw(st.sampled_from([None, "DAILY", "MONTHLY"])),
                   draw(st.sampled_from([None, "bare", "keep"])))


EMAILS = ("ops@example.com", "cfo@example.com", "finance@example.com")
NOTICES = (("ACTUAL", 80.0), ("ACTUAL", 90.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0), ("FORECASTED", 120.0))


@st.composite
def budget_starts(draw: st.DrawFn) -> Budget:
    return Budget(
        exists=draw(st.booleans()),
        amount=draw(st.sampled_from(["10", "25", "300"])),
        notices=tuple(draw(st.lists(st.sampled_from(NOTICES), max_size=3, unique=True))),
        subscribers=tuple(draw(st.lists(st.sampled_from(EMAILS), min_size=1, max_size=2, unique=True))),
        other_budget=draw(st.booleans()),
        answer_amount=draw(st.sampled_from([10, 25, 40.5])),
        answer_emails=tuple(draw(st.lists(st.sampled_from(EMAILS[:2]), min_size=1, max_size=2, unique=True))),
    )


CONTACT_TYPES = ("SECURITY", "BILLING", "OPERATIONS")
@st.composite
def guardrail_starts(draw: st.DrawFn, regions: tuple[str, ...]) -> GuardrailStart:
    subsets = st.sampled_from(sorted({(), (regions[-1],), regions}))
    return GuardrailStart(
        regions=regions,
        contacts=tuple(draw(st.lists(st.sampled_from(CONTACT_TYPES), max_size=3, unique=True))),
        answer_contacts=draw(st.booleans()),
        block=draw(st.sampled_from([None, "partial", "all"])),
        ebs_on=draw(subsets),
        analyzer=draw(st.sampled_from([None, "unused", "external"])),
        detectors=tuple(draw(st.lists(st.tuples(st.sampled_from(regions), st.booleans()), max_size=2,
                                      unique_by=lambda d: d[0]))),
        enable_guardduty=draw(st.booleans()),
        vpc_in_use=draw(st.sampled_from([None, *regions])),
        vpc_regions=draw(subsets),
        public_bucket=draw(st.booleans()),
        checklist=draw(st.booleans()),
    )


def starts(regions: tuple[str, ...] = TEST_REGIONS) -> st.SearchStrategy[Start]:
    return st.builds(Start, iam_starts(), trail_starts(), billing_starts(), budget_starts(),
                     guardrail_starts(regions))


# --- arranging ------------------------------------------------------------------------------
class Clients:
    """Unguarded boto3 clients for arranging state; made once, valid across moto resets."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._regional: dict[tuple[str, str], Any] = {}
        self.iam = session.client("iam")
        self.s3 = session.client("s3")
        self.cloudtrail = session.client("cloudtrail")
        self.kms = session.client("kms")
        self.budgets = session.client("budgets")
        self.exports = session.client("bcm-data-exports")
        self.cur = session.client("cur")
        self.account = session.client("account")
        self.s3control = session.client("s3control")

    def regional(self, service: str, region: str) -> Any:
        if (service, region) not in self._regional:
            self._regional[(service, region)] = self.session.client(service, region_name=region)
        return self._regional[(service, region)]


def arrange(start: Start, c: Clients) -> None:
    arrange_iam(start.iam, c)
    arrange_trails(start.trails, c)
    arrange_billing(start.billing, c)
    arrange_budget(start.budget, c)
    arrange_guardrails(start.guardrails, c)


THEIR_CONTACT = {"Name": "Someone Else", "Title": "Before", "EmailAddress": "before@example.com",
                 "PhoneNumber": "+1 555 0199"}
PUBLIC_BUCKET = "team-public-site"


def arrange_guardrails(g: GuardrailStart, c: Clients) -> None:
    for kind in g.contacts:
        c.account.put_alternate_contact(AlternateContactType=kind, **THEIR_CONTACT)
    if g.block is not None:
        on = {"IgnorePublicAcls": True, "RestrictPublicBuckets": True}
        if g.block == "all":
            on.update(BlockPublicAcls=True, BlockPublicPolicy=True)
        c.s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=on)
    for region in g.ebs_on:
        c.regional("ec2", region).enable_ebs_encryption_by_default()
    if g.analyzer is not None:
        kind, region = ("ACCOUNT_UNUSED_ACCESS", g.regions[0]) if g.analyzer == "unused" else (
            "ACCOUNT", g.regions[-1])
        c.regional("accessanalyzer", region).create_analyzer(analyzerName=f"theirs-{g.analyzer}", type=kind)
    for region, enabled in g.detectors:
        c.regional("guardduty", region).create_detector(Enable=enabled)
    if g.vpc_in_use is not None:
        ec2 = c.regional("ec2", g.vpc_in_use)
        subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
        ec2.create_network_interface(SubnetId=subnet["SubnetId"])
    if g.public_bucket:
        c.s3.create_bucket(Bucket=PUBLIC_BUCKET)
        c.s3.put_bucket_ownership_controls(Bucket=PUBLIC_BUCKET, OwnershipControls={"Rules": [
            {"ObjectOwnership": "ObjectWriter"}]})
        c.s3.put_bucket_acl(Bucket=PUBLIC_BUCKET, ACL="public-read")


def enable_mfa(iam: Any, user: str) -> None:
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")


def arrange_iam(s: Iam, c: Clients) -> None:
    iam = c.iam
    if s.admin != "absent":
        tags = [{"Key": "created-by", "Value": "aws-harden"}] if s.admin_origin != "foreign" else []
        iam.create_user(UserName=s.admin_name, Tags=tags)
        if s.admin_origin == "wizard":  # the earlier run kept the password before setting it
            keyring.set_password("aws-harden", f"{ACCOUNT}/{s.admin_name}/console-password", "Before-the-wizard-1!")
        if s.admin == "console":
            iam.create_login_profile(UserName=s.admin_name, Password="Before-the-wizard-1!",
                                     PasswordResetRequired=s.admin_reset)
        if s.admin_direct_policies:
            iam.attach_user_policy(UserName=s.admin_name, PolicyArn=READ_ONLY)
            iam.put_user_policy(UserName=s.admin_name, PolicyName="own", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}))
        if s.admin_mfa:
            enable_mfa(iam, s.admin_name)
    if s.group_exists:
        iam.create_group(GroupName=s.group_name, Path=s.group_path)
        if s.group_policy:
            iam.attach_group_policy(GroupName=s.group_name, PolicyArn=ADMIN_ACCESS)
        if s.group_extra_policy:
            iam.attach_group_policy(GroupName=s.group_name, PolicyArn=BILLING)
        if s.group_member:
            iam.add_user_to_group(GroupName=s.group_name, UserName=s.admin_name)
    for other in s.others:
        iam.create_user(UserName=other.name)
        if other.console:
            iam.create_login_profile(UserName=other.name, Password="Before-the-wizard-1!")
        if other.mfa:
            enable_mfa(iam, other.name)
        if other.in_group:
            iam.add_user_to_group(GroupName=s.group_name, UserName=other.name)
    if s.password_policy is not None:
        iam.update_account_password_policy(**{k: v for k, v in s.password_policy.items() if v != 0})
    if s.alias:
        iam.create_account_alias(AccountAlias=s.alias)
    if s.root_extra_key:
        key = iam.create_access_key(UserName=ROOT_NAME)["AccessKey"]["AccessKeyId"]
        iam.update_access_key(UserName=ROOT_NAME, AccessKeyId=key, Status=s.root_extra_key)
    if s.root_mfa:
        assign_root_mfa(iam)
    if s.half_team_group:
        iam.create_group(GroupName="ReadOnly", Path="/aws-harden/")
    if s.support_role_elsewhere:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
        iam.create_role(RoleName="incident-support", AssumeRolePolicyDocument=json.dumps(trust))
        iam.attach_role_policy(RoleName="incident-support", PolicyArn="arn:aws:iam::aws:policy/AWSSupportAccess")


def bucket_policy(bucket: str, keep: bool, old_write: bool) -> dict[str, Any] | None:
    statements = []
    if keep:
        statements.append({"Sid": KEEP_SID, "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
                           "Resource": f"arn:aws:s3:::{bucket}"})
    if old_write:
        statements.append(json.loads(json.dumps(OLD_WRITE).replace("{bucket}", bucket)))
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def put_policy(s3: Any, bucket: str, policy: dict[str, Any] | None) -> None:
    if policy is not None:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def cloudtrail_may_write(bucket: str, trail_arn: str, policy: dict[str, Any] | None = None) -> dict[str, Any]:
    """AWS's documented CloudTrail bucket policy for the trail, merged under `policy`'s statements: CreateTrail
    refuses a bucket without it (the strict world checks, as AWS does)."""
    from steps import cloudtrail_policies as docs

    documented = docs.bucket_statements("aws", bucket, ACCOUNT, trail_arn)[:2]
    return docs.merged({"Version": "2012-10-17", "Statement": documented}, docs.statements(policy))


def arrange_trails(s: Trails, c: Clients) -> None:
    for t in s.trails:
        bucket = f"trail-logs-{t.name}"
        c.s3.create_bucket(Bucket=bucket)
        arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{t.name}"
        # An old write statement (no aws:SourceArn) still lets CloudTrail write: the trail could be made with it.
        put_policy(c.s3, bucket, cloudtrail_may_write(bucket, arn, bucket_policy(bucket, True, t.wrong_policy)))
        c.cloudtrail.create_trail(Name=t.name, S3BucketName=bucket, IsMultiRegionTrail=t.multi_region,
                                  IncludeGlobalServiceEvents=t.global_events, EnableLogFileValidation=t.validation)
        if t.logging:
            c.cloudtrail.start_logging(Name=t.name)
    b = s.default_bucket
    if b is not None:
        c.s3.create_bucket(Bucket=DEFAULT_TRAIL_BUCKET)
        if b.encryption == "AES256":
            rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        elif b.encryption == "aws:kms":
            key = c.kms.create_key(Description="someone else's key")["KeyMetadata"]["Arn"]
            rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}
        if b.encryption:
            c.s3.put_bucket_encryption(Bucket=DEFAULT_TRAIL_BUCKET,
                                       ServerSideEncryptionConfiguration={"Rules": [rule]})
        if b.versioning:
            c.s3.put_bucket_versioning(Bucket=DEFAULT_TRAIL_BUCKET, VersioningConfiguration={"Status": b.versioning})
        put_policy(c.s3, DEFAULT_TRAIL_BUCKET, bucket_policy(DEFAULT_TRAIL_BUCKET, b.keep_statement, True))


def arrange_billing(s: Billing, c: Clients) -> None:
    if s.exports or s.legacy:
        c.s3.create_bucket(Bucket="finance-reports")
    for i, granularity in enumerate(s.exports):
        export = export_definition(f"finance-{i}", "finance-reports", "cur", REGION, "csv")
        export["DataQuery"]["TableConfigurations"]["COST_AND_USAGE_REPORT"]["TIME_GRANULARITY"] = granularity
        c.exports.create_export(Export=export)
    if s.legacy:
        c.cur.put_report_definition(ReportDefinition={
            "ReportName": "finance-legacy", "TimeUnit": s.legacy, "Format": "textORcsv", "Compression": "GZIP",
            "AdditionalSchemaElements": ["RESOURCES"], "S3Bucket": "finance-reports", "S3Prefix": "legacy",
            "S3Region": REGION,
        })
    if s.bucket is not None:
        c.s3.create_bucket(Bucket=BILLING_BUCKET)
        put_policy(c.s3, BILLING_BUCKET, bucket_policy(BILLING_BUCKET, s.bucket == "keep", False))


def arrange_budget(s: Budget, c: Clients) -> None:
    def budget(name: str, amount: str) -> dict[str, Any]:
        return {"BudgetName": name, "BudgetLimit": {"Amount": amount, "Unit": "USD"}, "TimeUnit": "MONTHLY",
                "BudgetType": "COST"}

    if s.exists:
        notifications = [
            {"Notification": {"NotificationType": kind, "ComparisonOperator": "GREATER_THAN", "Threshold": threshold,
                              "ThresholdType": "PERCENTAGE"},
             "Subscribers": [{"SubscriptionType": "EMAIL", "Address": e} for e in s.subscribers]}
            for kind, threshold in s.notices
        ]
        c.budgets.create_budget(AccountId=ACCOUNT, Budget=budget("aws-harden-monthly", s.amount),
                                NotificationsWithSubscribers=notifications)
    if s.other_budget:
        c.budgets.create_budget(AccountId=ACCOUNT, Budget=budget("team-sandbox", "5"))


def answers_toml(start: Start) -> str:
    i, t, b = start.iam, start.trails, start.budget
    lines = [
        "[admin-user]", f'name = "{i.admin_name}"', *([f'adopt_existing = "{i.admin_name}"'] if i.adopt_admin else []),
        "[admin-group]", f'name = "{i.group_name}"', *([f'adopt_existing = "{i.group_name}"'] if i.adopt_group else []),
        "[signin-link]", f'alias = "{i.wanted_alias}"',
        "[user-mfa]", f"enforce = {str(i.enforce).lower()}",
        "[cloudtrail]", f"kms = {str(t.kms).lower()}", f"retention_days = {t.retention_days}",
        f'alerts_email = "{"security@example.com" if t.alerts else ""}"',
        f"metric_filters = {str(t.metric_filters).lower()}",
        "[budget-alarm]", f"amount = {b.answer_amount}", f'emails = "{", ".join(b.answer_emails)}"',
        *guardrail_answers(start.guardrails),
        "[team-users]", "users = [" + ", ".join(f'{{ name = "{n}", group = "{g}" }}' for n, g in i.team) + "]",
    ]
    return "\n".join(lines) + "\n"


OUR_CONTACTS = {kind: {"name": f"{kind.capitalize()} team", "title": kind.capitalize(),
                       "email": f"{kind.lower()}@example.com", "phone": "+1 555 0100"} for kind in CONTACT_TYPES}


def vpc_regions(g: GuardrailStart) -> tuple[str, ...]:
    return g.regions if g.vpc_regions is None else g.vpc_regions


def guardrail_answers(g: GuardrailStart) -> list[str]:
    lines = ["[root-credentials]", f"checklist_confirmed = {str(g.checklist).lower()}",
             "[guardduty]", f"enable = {str(g.enable_guardduty).lower()}",
             "[default-vpcs]", "regions = [" + ", ".join(f'"{r}"' for r in vpc_regions(g)) + "]"]
    if g.answer_contacts:
        lines.append("[account-contacts]")
        for kind, fields in OUR_CONTACTS.items():
            lines.append(f"{kind.lower()} = {{ " + ", ".join(f'{k} = "{v}"' for k, v in fields.items()) + " }")
    return lines


# --- reading back what must survive ------------------------------------------------------------
def snapshot(regions: tuple[str, ...] = TEST_REGIONS) -> dict[str, Any]:
    """What exists, read from moto's backends directly (no API round trips): users and what they hold,
    groups, root's keys and MFA, alias, password policy, trails, buckets, budgets, billing deliveries."""
    from moto.budgets.models import budgets_backends
    from moto.cloudtrail.models import cloudtrail_backends
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends

    iam = iam_backends[ACCOUNT]["aws"]
    users = {
        name: {
            "console": u.password is not None,
            "mfa": sorted(u.mfa_devices),
            "managed": sorted(u.managed_policies),
            "inline": sorted(u.policies),
            "keys": sorted(k.access_key_id for k in u.access_keys),
        }
        for name, u in iam.users.items()
    }
    groups = {
        name: {"members": sorted(u.name for u in g.users), "managed": sorted(g.managed_policies),
               "inline": sorted(g.policies)}
        for name, g in iam.groups.items()
    }
    policy = iam.account_password_policy
    trails = {
        name: {"multi_region": t.is_multi_region, "global_events": t.include_global_service_events,
               "validation": t.log_validation, "logging": t.status.is_logging}
        for name, t in cloudtrail_backends[ACCOUNT][REGION].trails.items()
    }
    buckets = {
        name: {
            "encryption": ((b.encryption or {}).get("Rule") or {}).get("ApplyServerSideEncryptionByDefault", {}),
            "versioning": b.versioning_status,
            "sids": sorted(s.get("Sid", "") for s in json.loads(b.policy)["Statement"]) if b.policy else [],
        }
        for name, b in s3_backends[ACCOUNT]["aws"].buckets.items()
    }
    budgets = {
        name: {
            "amount": b.budget.get("BudgetLimit", {}).get("Amount"),
            "notifications": len(b.notifications),
            "subscribers": sorted({s["Address"] for n in b.notifications for s in n.subscribers}),
        }
        for name, b in budgets_backends[ACCOUNT]["global"].budgets[ACCOUNT].items()
    }
    return {
        **guardrails_snapshot(regions),
        "users": users,
        "groups": groups,
        "aliases": list(iam.account_aliases),
        "password_policy": None if policy is None else {
            "MinimumPasswordLength": policy.minimum_password_length,
            "RequireSymbols": policy.require_symbols,
            "RequireNumbers": policy.require_numbers,
            "RequireUppercaseCharacters": policy.require_uppercase_characters,
            "RequireLowercaseCharacters": policy.require_lowercase_characters,
            "AllowUsersToChangePassword": policy.allow_users_to_change_password,
            "MaxPasswordAge": policy.max_password_age or 0,
            "PasswordReusePrevention": policy.password_reuse_prevention or 0,
            "HardExpiry": policy.hard_expiry,
        },
        "trails": trails,
        "buckets": buckets,
        "budgets": budgets,
    }


def guardrails_snapshot(regions: tuple[str, ...]) -> dict[str, Any]:
    """The guardrails as moto's backends hold them: contacts, the account's S3 block, and per enabled region
    EBS encryption, detectors (enabled or not) and default VPCs (with their network interfaces)."""
    from moto.account.models import account_backends
    from moto.ec2.models import ec2_backends
    from moto.guardduty.models import guardduty_backends
    from moto.s3control.models import s3control_backends

    contacts = account_backends[ACCOUNT]["aws"]._alternate_contacts
    block = s3control_backends[ACCOUNT]["aws"].public_access_block
    per_region = {}
    for region in regions:
        ec2 = ec2_backends[ACCOUNT][region]
        per_region[region] = {
            "ebs": ec2.ebs_encryption_by_default,
            "detectors": {d.id: d.enabled for d in guardduty_backends[ACCOUNT][region].detectors.values()},
            "default vpcs": {v.id: sorted(e.id for e in ec2.enis.values() if e.subnet.vpc_id == v.id)
                             for v in ec2.vpcs.values() if v.is_default},
        }
    return {
        "contacts": {kind: c.email_address for kind, c in contacts.items()},
        "s3 block": None if not block else block.to_config_dict(),
        "regions": per_region,
    }
