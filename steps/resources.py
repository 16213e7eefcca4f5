"""What more than one step makes the same way: IAM groups and roles, S3 buckets and their settings, policy
documents, tags, names.

How a step declares its operations (read this before adding a step or a change):

- Each kind of change is a small frozen dataclass subclassing `wizard.protocol.Operation`, with typed fields
  for exactly what the change needs (`CreateUser(name: str)`, `AttachPolicy(group: str, policy_arn: str)`),
  and its own `apply(self, aws, ctx) -> None`. Policy documents and other structures are held as the
  dicts or dataclasses they are (no json.dumps in the plan, no str(...) casts in apply).
- `plan` puts one in each Change: `Change(Action.CREATE, CreateUser(state.name), 'iam user "x"', ...)`. The
  step has no `apply` of its own; the engine calls `change.operation.apply(aws, ctx)`. An OPERATOR change
  carries a `ConsoleTask` subclass (a person does it in the console); `sandbox_operator` may act it out,
  choosing by `isinstance` on the operation.
- `Change.key` is the operation's class name in kebab case (`CreateUser` -> "create-user"): with the
  resource it is the change's identity in the journal and in `--output json`, so name the class after what
  the change does, and keep it when its fields change.
- No secret in an operation's fields: a password, key or seed is made or read inside `apply` and goes to
  `ctx.keep_secret` (the journal records `Change.as_record()`, which never includes an operation's fields).
- What several steps do alike lives here: IAM groups and roles on aws-harden's path (`create_group`,
  `attach_group_policy`, `create_role`, `attach_role_policy`, `role_still_ours`), a bucket (`CreateBucket`,
  `BucketPublicAccessBlock`, `BucketOwnership`, `BucketEncryption`, `BucketVersioning`, `BucketPolicy`),
  policy documents (`normalise`, `same`, `contains`, `grants`, `merged`), tags (`TAGS`, `TAG_MAP`,
  `kms_tags`), and names (`bucket_name_problem`, `email_problem`). The "absent is None" read helper is
  `wizard.reads.absent_is_none`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steps.provenance import GROUP_PATH, ROLE_PATH, TAG_KEY, TAG_VALUE
from steps.provenance import TAGS as TAGS
from wizard.aws import GLOBAL_REGION, Aws
from wizard.errors import WizardError
from wizard.protocol import EMAIL_RE, AnswerValue, ApplyContext, ChangeSkipped, Operation
from wizard.reads import absent_is_none
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff

# --- tags -------------------------------------------------------------------------------------
# TAGS (S3, IAM, SNS, EventBridge, CloudTrail, Data Exports) is steps/provenance.py's, the mark it reads.
TAG_MAP = {TAG_KEY: TAG_VALUE}  # GuardDuty, Access Analyzer, CloudWatch Logs


def kms_tags() -> list[dict[str, str]]:
    return [{"TagKey": TAG_KEY, "TagValue": TAG_VALUE}]


# --- names --------------------------------------------------------------------------------------
BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
EMAIL_LIMIT = 254  # SNS, Budgets and Account take addresses of up to 254 characters


def bucket_name_problem(value: AnswerValue) -> str | None:
    """S3's naming rules (Amazon S3 User Guide, "General purpose bucket naming rules"); empty means the
    step's default name."""
    if value == "":
        return None
    if not isinstance(value, str) or not BUCKET_RE.fullmatch(value):
        return "3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if ".." in value or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value, re.ASCII):
        return "no two adjacent dots, and not an IP address"
    if value.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or value.endswith(("-s3alias", "--ol-s3")):
        return "that prefix or suffix is reserved by S3"
    return None


def is_email(value: str) -> bool:
    return len(value) <= EMAIL_LIMIT and bool(EMAIL_RE.fullmatch(value))


def email_problem(value: AnswerValue, empty: str | None = None) -> str | None:
    """One address; `empty` is what an empty answer means, when it is allowed (None: it is not)."""
    if value == "" and empty is not None:
        return None
    if isinstance(value, str) and is_email(value):
        return None
    return "an email address like ops@example.com" + (f" (empty: {empty})" if empty else "")


# --- policy documents ------------------------------------------------------------------------------
def normalise(value: Any) -> Any:
    """A canonical form: one-item lists become the item, scalar lists are sorted, keys are sorted, and a
    JSON string is read as the document it holds (AWS may reorder keys or collapse one-item lists)."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return normalise(parsed) if isinstance(parsed, dict | list) else value
    if isinstance(value, Mapping):
        return {k: normalise(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        items = [normalise(v) for v in value]
        if len(items) == 1:
            return items[0]
        if all(isinstance(i, str | int | float | bool) for i in items):
            return sorted(items, key=str)
        return items
    return value


def same(a: Any, b: Any) -> bool:
    return bool(normalise(a) == normalise(b))


def statements(policy: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not policy:
        return []
    found = policy.get("Statement", [])
    return [dict(s) for s in (found if isinstance(found, list) else [found])]


def merged(existing: Mapping[str, Any] | None, ours: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Our statements (replacing any with the same Sid) after everything else already there, never less."""
    sids = {s["Sid"] for s in ours}
    kept = [s for s in statements(existing) if s.get("Sid") not in sids]
    version = (existing or {}).get("Version", "2012-10-17")
    document: dict[str, Any] = {"Version": version}
    if existing and "Id" in existing:
        document["Id"] = existing["Id"]
    document["Statement"] = [*kept, *(dict(s) for s in ours)]
    return document


def contains(existing: Mapping[str, Any] | None, ours: Sequence[Mapping[str, Any]]) -> bool:
    """True when each of our statements is present, as written, under its Sid."""
    by_sid = {s.get("Sid"): s for s in statements(existing)}
    return all(s["Sid"] in by_sid and same(by_sid[s["Sid"]], s) for s in ours)


def grants(existing: Mapping[str, Any] | None, statement: Mapping[str, Any]) -> bool:
    """True when some statement says what ours says, whatever its Sid (someone may have written it first)."""
    wanted = {k: v for k, v in statement.items() if k != "Sid"}
    return any(same({k: v for k, v in s.items() if k != "Sid"}, wanted) for s in statements(existing))


# --- S3 buckets --------------------------------------------------------------------------------------
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
MISSING_BUCKET = frozenset({"404", "NoSuchBucket", "NotFound"})


def bucket_taken(step_id: str, name: str) -> WizardError:
    return WizardError(f"the S3 bucket name '{name}' is taken by another AWS account; choose another name "
                       f'(answers file: [{step_id}] bucket = "...")')


def bucket_region(location: str | None) -> str:
    """GetBucketLocation's answer as a region: none for us-east-1, "EU" for the oldest eu-west-1 buckets."""
    return {None: GLOBAL_REGION, "": GLOBAL_REGION, "EU": "eu-west-1"}.get(location, location) or GLOBAL_REGION


def read_bucket_policy(s3: Any, bucket: str) -> dict[str, Any] | None:
    found = absent_is_none(lambda: s3.get_bucket_policy(Bucket=bucket), ("NoSuchBucketPolicy",))
    return None if found is None else dict(json.loads(found["Policy"]))


def read_public_access_block(s3: Any, bucket: str) -> dict[str, bool] | None:
    found = absent_is_none(lambda: s3.get_public_access_block(Bucket=bucket),
                           ("NoSuchPublicAccessBlockConfiguration",))
    if found is None:
        return None
    config = found["PublicAccessBlockConfiguration"]
    return {f: bool(config.get(f)) for f in PUBLIC_ACCESS_BLOCK}


def resolve_key(aws: Aws, region: str, alias: str, missing_ok: bool = False) -> str:
    """The key ARN behind an alias: S3 and CloudTrail are given the ARN, never the alias."""
    try:
        return str(aws.client("kms", region).describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except Exception as exc:
        if missing_ok and error_code(exc) == "NotFoundException":
            return ""
        raise


@dataclass(frozen=True)
class CreateBucket(Operation):
    bucket: str
    region: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        extra: dict[str, Any] = {}
        if self.region != GLOBAL_REGION:  # us-east-1 refuses a LocationConstraint naming itself
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            aws.client("s3", self.region).create_bucket(Bucket=self.bucket, **extra)
        except Exception as exc:
            if error_code(exc) == "BucketAlreadyExists":
                raise bucket_taken(ctx.step_id, self.bucket) from None
            if error_code(exc) != "BucketAlreadyOwnedByYou":  # an earlier, interrupted run made it
                raise


@dataclass(frozen=True)
class BucketPublicAccessBlock(Operation):
    bucket: str
    region: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("s3", self.region).put_public_access_block(
            Bucket=self.bucket, PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK))


@dataclass(frozen=True)
class BucketOwnership(Operation):
    """ACLs off: the bucket owner owns every object (BucketOwnerEnforced)."""

    bucket: str
    region: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("s3", self.region).put_bucket_ownership_controls(
            Bucket=self.bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})


@dataclass(frozen=True)
class BucketEncryption(Operation):
    """Default encryption: SSE-S3, or SSE-KMS with an S3 Bucket Key under the KMS key `kms_alias` (in
    `key_region`), whose ARN is looked up when the change is made (the key may be made by this run)."""

    bucket: str
    region: str
    kms_alias: str | None = None
    key_region: str | None = None

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        if self.kms_alias is not None:
            key_arn = resolve_key(aws, self.key_region or self.region, self.kms_alias)
            rule = {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                "BucketKeyEnabled": True,
            }
        aws.client("s3", self.region).put_bucket_encryption(
            Bucket=self.bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})


@dataclass(frozen=True)
class BucketVersioning(Operation):
    bucket: str
    region: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("s3", self.region).put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})


@dataclass(frozen=True)
class BucketPolicy(Operation):
    """Our statements into the bucket policy, read again right before writing: a bucket policy is replaced
    whole, and others' statements stay."""

    bucket: str
    region: str
    statements: tuple[Mapping[str, Any], ...]

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        s3 = aws.client("s3", self.region)
        document = merged(read_bucket_policy(s3, self.bucket), self.statements)
        s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(document))


# --- IAM groups and roles, on aws-harden's path (its mark: steps/provenance.py) ---------------------------
# An entity made a moment ago may not be visible to the next call yet (IAM is eventually consistent).
JUST_MADE = TRANSIENT_CODES | {"NoSuchEntity"}


def create_group(iam: Any, group: str) -> None:
    """A group of that name that appeared since the plan is someone else's: nothing is made, the run goes on."""
    try:
        with_backoff(lambda: iam.create_group(GroupName=group, Path=GROUP_PATH))
    except Exception as exc:
        if error_code(exc) != "EntityAlreadyExists":
            raise
        raise ChangeSkipped(f"a group named {group} appeared meanwhile; run again to see whose") from None


def attach_group_policy(iam: Any, group: str, arn: str) -> None:
    with_backoff(lambda: iam.attach_group_policy(GroupName=group, PolicyArn=arn), retry_codes=JUST_MADE)


def create_role(iam: Any, role: str, trust: Mapping[str, Any], description: str) -> None:
    """Tagged, on aws-harden's path; as for a group, one that appeared since the plan is left alone."""
    document = json.dumps(trust)
    try:
        with_backoff(lambda: iam.create_role(RoleName=role, Path=ROLE_PATH, AssumeRolePolicyDocument=document,
                                             Tags=TAGS, Description=description))
    except Exception as exc:
        if error_code(exc) != "EntityAlreadyExists":
            raise
        raise ChangeSkipped(f"a role named {role} appeared meanwhile; run again to see whose") from None


def attach_role_policy(iam: Any, role: str, arn: str) -> None:
    with_backoff(lambda: iam.attach_role_policy(RoleName=role, PolicyArn=arn), retry_codes=JUST_MADE)


def role_still_ours(iam: Any, role: str, nothing: str = "changed") -> None:
    """Read again at the moment of changing it: a role not (any more) on aws-harden's path is left as it is."""
    found = absent_is_none(lambda: iam.get_role(RoleName=role))
    if found is None or found["Role"].get("Path") != ROLE_PATH:
        raise ChangeSkipped(f"role {role} is not aws-harden's (any more); nothing was {nothing}")
