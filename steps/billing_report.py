"""Cost and usage data delivered to S3 every day, so a surprise on the bill can be traced to a resource.

Any existing Data Export of CUR 2.0 or legacy Cost and Usage Report that delivers daily or hourly data
satisfies the step: the wizard never makes a second one. Otherwise it makes a CUR 2.0 export (daily,
with resource ids) into a bucket whose policy lets only the billing services, for this account, write.
Billing APIs live in us-east-1 whatever --region says; the bucket lives in --region.

Activating IAM user and role access to billing information is root-only, console-only, and has no API
to read it: the step says so in a warning finding every time, and never claims it is done.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wizard.aws import BILLING_REGION, Aws
from wizard.errors import WizardError
from wizard.protocol import (
    Action,
    AnswerValue,
    ApplyContext,
    Change,
    FieldChange,
    Finding,
    Question,
    Step,
    StepContext,
)
from wizard.reads import absent_is_none
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff

CUR2_TABLE = "COST_AND_USAGE_REPORT"
EXPORT, LEGACY = "data export", "legacy CUR"
DELIVERING = frozenset({"DAILY", "HOURLY"})
POLICY_SID = "EnableAWSDataExportsToWriteToS3AndCheckPolicy"
PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
TAGS = [{"Key": "created-by", "Value": "aws-harden"}]
FORMATS = {  # answer -> (Format, Compression) as Data Exports names them
    "parquet": ("PARQUET", "PARQUET"),
    "csv": ("TEXT_OR_CSV", "GZIP"),
}
# The CUR 2.0 columns a first look at a bill needs: who, what, which resource, when, how much.
COLUMNS = (
    "bill_billing_period_start_date",
    "bill_payer_account_id",
    "identity_line_item_id",
    "identity_time_interval",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_operation",
    "line_item_resource_id",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_usage_amount",
    "line_item_unblended_cost",
    "line_item_currency_code",
    "line_item_line_item_description",
    "pricing_unit",
    "product",
)
BILLING_ACCESS_URL = "https://console.aws.amazon.com/billing/home#/account"
FROM_RE = re.compile(r"\bFROM\s+([A-Za-z0-9_]+)", re.IGNORECASE)
BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
EXPORT_NAME_RE = re.compile(r"[0-9A-Za-z_-]{1,128}", re.ASCII)
PREFIX_RE = re.compile(r"[0-9A-Za-z!_.*'()/-]{1,256}", re.ASCII)


@dataclass(frozen=True)
class Delivery:
    """An existing export or legacy report definition, reduced to what decides if it satisfies the step."""

    kind: str  # EXPORT or LEGACY
    name: str
    table: str
    granularity: str | None  # None: not set on the export, so the table's default applies
    bucket: str
    prefix: str
    problem: str | None = None  # what its status says is wrong with delivery, if anything

    @property
    def satisfies(self) -> bool:
        if self.kind == LEGACY:
            return self.granularity in DELIVERING
        # An export that leaves TIME_GRANULARITY unset gets the table's default, never "none": counted,
        # so the wizard does not make a duplicate of an export someone set up on purpose.
        return self.table == CUR2_TABLE and (self.granularity is None or self.granularity in DELIVERING)

    @property
    def label(self) -> str:
        every = (self.granularity or "table default").lower()
        return f"{self.kind} {self.name} ({every}) -> s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class BucketState:
    name: str
    region: str
    exists: bool
    public_access: Mapping[str, bool] | None = None  # None: no public access block on the bucket
    policy: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class BillingState:
    account: str
    partition: str
    deliveries: tuple[Delivery, ...]
    bucket: BucketState | None = None  # read only when nothing delivers yet


# --- answers ------------------------------------------------------------------------------
def bucket_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str):
        return "a bucket name is text"
    if value == "":
        return None  # the dedicated default bucket
    if not BUCKET_RE.fullmatch(value) or ".." in value or re.fullmatch(r"[0-9.]+", value):
        return "3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if value.startswith(("xn--", "sthree-")) or value.endswith(("-s3alias", "--ol-s3")):
        return "that prefix or suffix is reserved by S3"
    return None


def prefix_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or not PREFIX_RE.fullmatch(value) or value.startswith("/") or value[-1] == "/":
        return "letters, digits and ! - _ . * ' ( ) /, not starting or ending with /"
    return None


def export_name_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or not EXPORT_NAME_RE.fullmatch(value):
        return "1-128 letters, digits, - and _"
    return None


def dedicated_bucket(account: str) -> str:
    return f"aws-harden-billing-{account}"


# --- what AWS documents -------------------------------------------------------------------
def policy_statement(bucket: str, account: str, partition: str) -> dict[str, Any]:
    """The bucket policy statement the Data Exports guide gives for CUR 2.0 and legacy CUR delivery."""
    return {
        "Sid": POLICY_SID,
        "Effect": "Allow",
        "Principal": {"Service": ["billingreports.amazonaws.com", "bcm-data-exports.amazonaws.com"]},
        "Action": ["s3:PutObject", "s3:GetBucketPolicy"],
        "Resource": [f"arn:{partition}:s3:::{bucket}/*", f"arn:{partition}:s3:::{bucket}"],
        "Condition": {
            "StringLike": {
                "aws:SourceAccount": account,
                "aws:SourceArn": [
                    f"arn:{partition}:cur:us-east-1:{account}:definition/*",
                    f"arn:{partition}:bcm-data-exports:us-east-1:{account}:export/*",
                ],
            }
        },
    }


def export_definition(name: str, bucket: str, prefix: str, region: str, output: str) -> dict[str, Any]:
    data_format, compression = FORMATS[output]
    return {
        "Name": name,
        "Description": "Daily CUR 2.0 with resource ids, made by aws-harden",
        "DataQuery": {
            "QueryStatement": f"SELECT {', '.join(COLUMNS)} FROM {CUR2_TABLE}",
            "TableConfigurations": {
                CUR2_TABLE: {
                    "TIME_GRANULARITY": "DAILY",
                    "INCLUDE_RESOURCES": "TRUE",
                    "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "FALSE",
                    "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "FALSE",
                }
            },
        },
        "DestinationConfigurations": {
            "S3Destination": {
                "S3Bucket": bucket,
                "S3Prefix": prefix,
                "S3Region": region,
                "S3OutputConfigurations": {
                    "OutputType": "CUSTOM",
                    "Format": data_format,
                    "Compression": compression,
                    "Overwrite": "OVERWRITE_REPORT",
                },
            }
        },
        "RefreshCadence": {"Frequency": "SYNCHRONOUS"},
    }


def canonical(value: Any) -> Any:
    """A policy value compared by meaning: order and one-element lists versus strings do not matter."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        items = sorted((canonical(v) for v in value), key=lambda v: json.dumps(v))
        return items[0] if len(items) == 1 else tuple(items)
    return value


def grants(policy: Mapping[str, Any] | None, statement: Mapping[str, Any]) -> bool:
    if not policy:
        return False
    wanted = canonical({k: v for k, v in statement.items() if k != "Sid"})
    existing = policy.get("Statement", [])
    existing = [existing] if isinstance(existing, Mapping) else existing
    return any(canonical({k: v for k, v in s.items() if k != "Sid"}) == wanted for s in existing)


def with_statement(policy: Mapping[str, Any] | None, statement: Mapping[str, Any]) -> dict[str, Any]:
    """The policy with our statement added (or put in place of an older one with our Sid); others kept."""
    merged = dict(policy or {"Version": "2012-10-17"})
    existing = merged.get("Statement", [])
    existing = [existing] if isinstance(existing, Mapping) else list(existing)
    merged["Statement"] = [s for s in existing if s.get("Sid") != statement["Sid"]] + [dict(statement)]
    merged.setdefault("Version", "2012-10-17")
    return merged


# --- reading ------------------------------------------------------------------------------
def read_exports(client: Any) -> list[Delivery]:
    pages = client.get_paginator("list_exports").paginate()
    arns = [ref["ExportArn"] for page in pages for ref in page.get("Exports", [])]
    # One after another: accounts hold one or two exports, and Stubber-driven tests need a fixed order.
    return [read_export(client, arn) for arn in arns]


def read_export(client: Any, arn: str) -> Delivery:
    item = client.get_export(ExportArn=arn)
    export, status = item["Export"], item.get("ExportStatus") or {}
    match = FROM_RE.search(export["DataQuery"]["QueryStatement"])
    table = match.group(1).upper() if match else ""
    config = (export["DataQuery"].get("TableConfigurations") or {}).get(table, {})
    s3 = export["DestinationConfigurations"]["S3Destination"]
    problem = None
    if status.get("StatusCode") == "UNHEALTHY":
        problem = f"unhealthy: {status.get('StatusReason', 'no reason given')}"
    return Delivery(
        EXPORT, export["Name"], table, config.get("TIME_GRANULARITY"), s3["S3Bucket"], s3["S3Prefix"], problem
    )


def read_reports(client: Any) -> list[Delivery]:
    found: list[Delivery] = []
    for page in client.get_paginator("describe_report_definitions").paginate():
        for report in page.get("ReportDefinitions", []):
            last = (report.get("ReportStatus") or {}).get("lastStatus")
            problem = f"last delivery: {last}" if last and last != "SUCCESS" else None
            found.append(
                Delivery(LEGACY, report["ReportName"], "legacy CUR", report["TimeUnit"],
                         report["S3Bucket"], report.get("S3Prefix", ""), problem)
            )
    return found


def read_bucket(aws: Aws, name: str, default_region: str) -> BucketState:
    s3 = aws.client("s3", default_region)
    try:
        s3.head_bucket(Bucket=name)
    except Exception as exc:
        code = error_code(exc)
        if code in ("404", "NoSuchBucket", "NotFound"):
            return BucketState(name, default_region, exists=False)
        if code in ("403", "AccessDenied"):
            raise WizardError(
                f"billing-report: bucket {name} exists but this account cannot use it (it may belong to "
                "another account); choose another bucket"
            ) from None
        raise

    def public_access() -> dict[str, bool] | None:
        missing = ("NoSuchPublicAccessBlockConfiguration",)
        found = absent_is_none(lambda: s3.get_public_access_block(Bucket=name), missing)
        if found is None:
            return None
        config = found["PublicAccessBlockConfiguration"]
        return {f: bool(config.get(f)) for f in PUBLIC_ACCESS_FLAGS}

    def policy() -> dict[str, Any] | None:
        found = absent_is_none(lambda: s3.get_bucket_policy(Bucket=name), ("NoSuchBucketPolicy",))
        return None if found is None else dict(json.loads(found["Policy"]))

    # A bucket in another region is followed by botocore's S3 redirector: no need to wait for its location.
    location, blocks, document = aws.parallel(
        lambda: s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1",
        public_access,
        policy,
    )
    region = "eu-west-1" if location == "EU" else str(location)
    return BucketState(name, region, True, blocks, document)


# --- the step -----------------------------------------------------------------------------
class BillingReport(Step[BillingState]):
    id = "billing-report"
    title = "Cost and usage data exported to S3"
    remediates = ()
    management_account_only = "an organization's bill (consolidated billing) is exported from its management account"
    checks = "a Data Export (CUR 2.0) or legacy Cost and Usage Report delivers daily or hourly data to S3"
    writes = frozenset(
        {
            "s3:CreateBucket",
            "s3:PutPublicAccessBlock",
            "s3:PutBucketPolicy",
            "bcm-data-exports:CreateExport",
        }
    )
    reads = frozenset({
        "bcm-data-exports:GetExport", "bcm-data-exports:ListExports", "cur:DescribeReportDefinitions",
        "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetPublicAccessBlock", "s3:HeadBucket"
    })

    def questions(self) -> Sequence[Question]:
        return (
            Question("bucket", "S3 bucket for the cost and usage data", default="",
                     help="empty: a dedicated bucket aws-harden-billing-<account id>",
                     validate=bucket_problem),
            Question("prefix", "Prefix (folder) in the bucket", default="cost-and-usage",
                     validate=prefix_problem),
            Question("format", "File format", default="parquet", kind="choice", choices=tuple(FORMATS)),
            Question("export_name", "Name of the Data Export", default="aws-harden-cur2",
                     validate=export_name_problem),
        )

    def _bucket_name(self, ctx: StepContext) -> str:
        return str(ctx.answer("bucket") or "") or dedicated_bucket(ctx.caller.account)

    def inspect(self, aws: Aws, ctx: StepContext) -> BillingState:
        def chosen_bucket() -> BucketState | WizardError:
            try:
                return read_bucket(aws, self._bucket_name(ctx), ctx.region)
            except WizardError as exc:  # raised below only if the bucket turns out to be needed
                return exc

        # The bucket is read alongside the existing deliveries (it is needed only when none qualifies).
        exports, reports, found_bucket = aws.parallel(
            lambda: read_exports(aws.client("bcm-data-exports", BILLING_REGION)),
            lambda: read_reports(aws.client("cur", BILLING_REGION)),
            chosen_bucket,
        )
        deliveries = exports + reports
        state = BillingState(ctx.caller.account, ctx.caller.partition, tuple(deliveries))
        if any(d.satisfies for d in deliveries):
            return state
        name = str(ctx.answer("export_name"))
        if any(d.kind == EXPORT and d.name == name for d in deliveries):
            raise WizardError(
                f"billing-report: a Data Export named {name} exists but does not deliver daily or hourly "
                "CUR 2.0 data; choose another export_name, or change that export in the Billing console"
            )
        if isinstance(found_bucket, WizardError):
            raise found_bucket
        return BillingState(state.account, state.partition, state.deliveries, found_bucket)

    def findings(self, state: BillingState, ctx: StepContext) -> list[Finding]:
        found: list[Finding] = []
        for d in state.deliveries:
            counts = "delivers cost and usage data" if d.satisfies else "does not count: not daily/hourly CUR"
            found.append(
                Finding(f"{d.label}: {counts}",
                        observed={"kind": d.kind, "name": d.name, "table": d.table,
                                  "granularity": d.granularity, "bucket": d.bucket, "satisfies": d.satisfies})
            )
            if d.problem:
                found.append(
                    Finding(f"{d.kind} {d.name} may not be delivering ({d.problem}); check it in the Billing "
                            "console", severity="warning", observed={"name": d.name, "status": d.problem})
                )
        if not state.deliveries:
            found.append(
                Finding("no Data Export and no legacy Cost and Usage Report", observed={"deliveries": []})
            )
        found.append(
            Finding(
                "cannot verify IAM user and role access to billing information (root-only console setting, "
                "no API): as root, Account > 'IAM user and role access to Billing information' > Activate, "
                f"at {BILLING_ACCESS_URL}",
                severity="warning",
                observed={"iam_access_to_billing": "unknown: root-only console setting, no API"},
            )
        )
        return found

    def plan(self, state: BillingState, ctx: StepContext) -> list[Change]:
        if any(d.satisfies for d in state.deliveries) or state.bucket is None:
            return []
        bucket = state.bucket
        where = f's3 bucket "{bucket.name}"'
        common = {"bucket": bucket.name, "region": bucket.region}
        changes: list[Change] = []
        if not bucket.exists:
            changes.append(
                Change(Action.CREATE, "create-bucket", where, f"create bucket {bucket.name} for billing data",
                       operations=("s3:CreateBucket",),
                       fields=(FieldChange("name", None, bucket.name),
                               FieldChange("region", None, bucket.region)),
                       params=common)
            )
        blocked = bucket.public_access or {}
        if not all(blocked.get(f) for f in PUBLIC_ACCESS_FLAGS):
            action = Action.UPDATE if bucket.public_access is not None else Action.CREATE
            changes.append(
                Change(action, "public-access-block", f"public access block on {where}",
                       f"block all public access to {bucket.name}",
                       operations=("s3:PutPublicAccessBlock",),
                       fields=tuple(FieldChange(f, blocked.get(f) if bucket.public_access else None, True)
                                    for f in PUBLIC_ACCESS_FLAGS if not blocked.get(f)),
                       params=common)
            )
        statement = policy_statement(bucket.name, state.account, state.partition)
        if not grants(bucket.policy, statement):
            action = Action.UPDATE if bucket.policy else Action.CREATE
            changes.append(
                Change(action, "bucket-policy", f"bucket policy on {where}",
                       "let the billing services (for this account only) write to " + bucket.name,
                       operations=("s3:PutBucketPolicy",),
                       fields=(FieldChange("statement", None if action is Action.CREATE else "(not present)",
                                           f"{POLICY_SID}: billingreports + bcm-data-exports may PutObject, "
                                           f"aws:SourceAccount {state.account}"),),
                       params={**common, "statement": statement})
            )
        name, prefix = str(ctx.answer("export_name")), str(ctx.answer("prefix"))
        output = str(ctx.answer("format"))
        changes.append(
            Change(Action.CREATE, "create-export", f'data export "{name}"',
                   f"export daily CUR 2.0 with resource ids to s3://{bucket.name}/{prefix}",
                   operations=("bcm-data-exports:CreateExport",),
                   fields=(FieldChange("table", None, CUR2_TABLE), FieldChange("granularity", None, "DAILY"),
                           FieldChange("resource_ids", None, True), FieldChange("format", None, output),
                           FieldChange("destination", None,
                                       f"s3://{bucket.name}/{prefix} ({bucket.region})")),
                   params={"export": export_definition(name, bucket.name, prefix, bucket.region, output),
                           "fresh_policy": any(c.key == "bucket-policy" for c in changes)})
        )
        return changes

    def apply(self, aws: Aws, change: Change, ctx: ApplyContext) -> None:
        if change.key == "create-export":
            self._create_export(aws, change.params["export"], bool(change.params.get("fresh_policy")))
            return
        bucket, region = str(change.params["bucket"]), str(change.params["region"])
        s3 = aws.client("s3", region)
        if change.key == "create-bucket":
            extra: dict[str, Any] = {}
            if region != "us-east-1":  # us-east-1 refuses a LocationConstraint naming itself
                extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
            try:
                s3.create_bucket(Bucket=bucket, **extra)
            except Exception as exc:
                if error_code(exc) == "BucketAlreadyExists":
                    raise WizardError(
                        f"billing-report: the bucket name {bucket} is taken by another account; "
                        "choose another bucket"
                    ) from None
                if error_code(exc) != "BucketAlreadyOwnedByYou":
                    raise
        elif change.key == "public-access-block":
            s3.put_public_access_block(
                Bucket=bucket, PublicAccessBlockConfiguration=dict.fromkeys(PUBLIC_ACCESS_FLAGS, True)
            )
        elif change.key == "bucket-policy":
            # Re-read right before writing: a bucket policy is replaced whole, and others' statements stay.
            try:
                current: dict[str, Any] | None = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
            except Exception as exc:
                if error_code(exc) != "NoSuchBucketPolicy":
                    raise
                current = None
            policy = with_statement(current, change.params["statement"])
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        else:
            raise ValueError(f"unknown change {change.key}")

    @staticmethod
    def _create_export(aws: Aws, export: Mapping[str, Any], fresh_policy: bool) -> None:
        client = aws.client("bcm-data-exports", BILLING_REGION)
        existing = {
            ref["ExportName"]
            for page in client.get_paginator("list_exports").paginate()
            for ref in page.get("Exports", [])
        }
        if export["Name"] in existing:  # a re-run after the create went through but the run did not finish
            return
        # A bucket policy written a moment ago may not be in effect yet ("Bucket configurations have an eventual
        # consistency model", Amazon S3 User Guide, "Amazon S3 data consistency model"), and Data Exports then
        # refuses the bucket (ValidationException): retried for about 15 s, only right after the policy was put.
        retry = TRANSIENT_CODES | {"ValidationException"} if fresh_policy else TRANSIENT_CODES
        with_backoff(lambda: client.create_export(Export=dict(export), ResourceTags=TAGS), retry_codes=retry,
                     attempts=5, first_delay=1.0)


STEP = BillingReport()
