"""Cost and usage data delivered to S3 every day, so a surprise on the bill can be traced to a resource.

Any existing Data Export of CUR 2.0 or legacy Cost and Usage Report that delivers daily or hourly data
satisfies the step: the wizard never makes a second one. Otherwise it makes a CUR 2.0 export (daily,
with resource ids) into a bucket whose policy lets only the billing services, for this account, write.
Billing APIs live in us-east-1 whatever --region says; the bucket lives in --region.

Activating IAM user and role access to billing information is root-only, console-only, and has no API
to read it: the step says so in a warning finding every time, and never claims it is done.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steps.resources import (
    MISSING_BUCKET,
    PUBLIC_ACCESS_BLOCK,
    TAGS,
    BucketPolicy,
    BucketPublicAccessBlock,
    CreateBucket,
    bucket_name_problem,
    bucket_region,
    grants,
    read_bucket_policy,
    read_public_access_block,
)
from wizard.aws import BILLING_REGION, Aws
from wizard.errors import WizardError
from wizard.protocol import (
    Action,
    AnswerValue,
    ApplyContext,
    Change,
    FieldChange,
    Finding,
    Operation,
    Question,
    Step,
    StepContext,
)
from wizard.retry import TRANSIENT_CODES, error_code, with_backoff

CUR2_TABLE = "COST_AND_USAGE_REPORT"
EXPORT, LEGACY = "data export", "legacy CUR"
DELIVERING = frozenset({"DAILY", "HOURLY"})
POLICY_SID = "EnableAWSDataExportsToWriteToS3AndCheckPolicy"
PUBLIC_ACCESS_FLAGS = tuple(PUBLIC_ACCESS_BLOCK)
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
    return bucket_name_problem(value)  # empty: the dedicated default bucket


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


@dataclass(frozen=True)
class CreateExport(Operation):
    export: Mapping[str, Any]  # the Data Exports definition (export_definition)
    fresh_policy: bool  # the bucket policy is written by this run, a moment before

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        client = aws.client("bcm-data-exports", BILLING_REGION)
        existing = {
            ref["ExportName"]
            for page in client.get_paginator("list_exports").paginate()
            for ref in page.get("Exports", [])
        }
        if self.export["Name"] in existing:  # a re-run after the create went through but the run did not finish
            return
        # A bucket policy written a moment ago may not be in effect yet ("Bucket configurations have an eventual
        # consistency model", Amazon S3 User Guide, "Amazon S3 data consistency model"), and Data Exports then
        # refuses the bucket (ValidationException): retried for about 15 s, only right after the policy was put.
        retry = TRANSIENT_CODES | {"ValidationException"} if self.fresh_policy else TRANSIENT_CODES
        with_backoff(lambda: client.create_export(Export=dict(self.export), ResourceTags=TAGS), retry_codes=retry,
                     attempts=5, first_delay=1.0)


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
        if code in MISSING_BUCKET:
            return BucketState(name, default_region, exists=False)
        if code in ("403", "AccessDenied"):
            raise WizardError(
                f"billing-report: bucket {name} exists but this account cannot use it (it may belong to "
                "another account); choose another bucket"
            ) from None
        raise

    # A bucket in another region is followed by botocore's S3 redirector: no need to wait for its location.
    location, blocks, document = aws.parallel(
        lambda: s3.get_bucket_location(Bucket=name).get("LocationConstraint"),
        lambda: read_public_access_block(s3, name),
        lambda: read_bucket_policy(s3, name),
    )
    return BucketState(name, bucket_region(location), True, blocks, document)


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
        changes: list[Change] = []
        if not bucket.exists:
            changes.append(
                Change(Action.CREATE, CreateBucket(bucket.name, bucket.region), where,
                       f"create bucket {bucket.name} for billing data",
                       operations=("s3:CreateBucket",),
                       fields=(FieldChange("name", None, bucket.name),
                               FieldChange("region", None, bucket.region)))
            )
        blocked = bucket.public_access or {}
        if not all(blocked.get(f) for f in PUBLIC_ACCESS_FLAGS):
            action = Action.UPDATE if bucket.public_access is not None else Action.CREATE
            changes.append(
                Change(action, BucketPublicAccessBlock(bucket.name, bucket.region), f"public access block on {where}",
                       f"block all public access to {bucket.name}",
                       operations=("s3:PutPublicAccessBlock",),
                       fields=tuple(FieldChange(f, blocked.get(f) if bucket.public_access else None, True)
                                    for f in PUBLIC_ACCESS_FLAGS if not blocked.get(f)))
            )
        statement = policy_statement(bucket.name, state.account, state.partition)
        if not grants(bucket.policy, statement):
            action = Action.UPDATE if bucket.policy else Action.CREATE
            changes.append(
                Change(action, BucketPolicy(bucket.name, bucket.region, (statement,)), f"bucket policy on {where}",
                       "let the billing services (for this account only) write to " + bucket.name,
                       operations=("s3:PutBucketPolicy",),
                       fields=(FieldChange("statement", None if action is Action.CREATE else "(not present)",
                                           f"{POLICY_SID}: billingreports + bcm-data-exports may PutObject, "
                                           f"aws:SourceAccount {state.account}"),))
            )
        name, prefix = str(ctx.answer("export_name")), str(ctx.answer("prefix"))
        output = str(ctx.answer("format"))
        changes.append(
            Change(Action.CREATE,
                   CreateExport(export_definition(name, bucket.name, prefix, bucket.region, output),
                                fresh_policy=any(isinstance(c.operation, BucketPolicy) for c in changes)),
                   f'data export "{name}"',
                   f"export daily CUR 2.0 with resource ids to s3://{bucket.name}/{prefix}",
                   operations=("bcm-data-exports:CreateExport",),
                   fields=(FieldChange("table", None, CUR2_TABLE), FieldChange("granularity", None, "DAILY"),
                           FieldChange("resource_ids", None, True), FieldChange("format", None, output),
                           FieldChange("destination", None,
                                       f"s3://{bucket.name}/{prefix} ({bucket.region})")))
        )
        return changes


STEP = BillingReport()
