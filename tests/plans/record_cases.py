"""Pure plan fixtures for the steps that keep records (cloudtrail, billing-report, budget-alarm): a step's
inspected state (as data) and answers in, the planned changes out, with no AWS and no moto. The finer
cloudtrail rules (kept encryption, documented policy statements) are pure tests in test_cloudtrail.py and
test_cloudtrail_aws_rules.py; the moto tiers prove the same plans applied."""

from __future__ import annotations

from steps import cloudtrail_operations
from steps.billing_report import STEP as BILLING_REPORT
from steps.billing_report import BillingState, BucketState, CreateExport
from steps.budget_alarm import STEP as BUDGET_ALARM
from steps.budget_alarm import AddSubscriber, BudgetState, CreateBudget, CreateNotification, Notice, UpdateNotification
from steps.cloudtrail import STEP as CLOUDTRAIL
from steps.cloudtrail import default_bucket
from steps.cloudtrail_operations import StartLogging
from steps.cloudtrail_state import Bucket, CloudTrailState, Trail
from steps.resources import (
    BucketEncryption,
    BucketOwnership,
    BucketPolicy,
    BucketPublicAccessBlock,
    BucketVersioning,
    CreateBucket,
)
from tests.plan_support import ACCOUNT, Case, Planned
from wizard.protocol import Action

C, U = Action.CREATE, Action.UPDATE

HOME = "us-east-1"
TRAIL_BUCKET = default_bucket(ACCOUNT, HOME)
ON_BUCKET = f's3 bucket "{TRAIL_BUCKET}"'
TRAIL = "aws-harden-trail"
TRAIL_ARN = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{TRAIL}"
TRAIL_FIELDS = {"bucket": (None, TRAIL_BUCKET), "multi-region": (None, True), "global service events": (None, True),
                "log file validation": (None, True),
                "management events": (None, "read and write (a new trail's default)")}
BUCKET_SETTINGS = [  # the one S3 bucket layer (steps/resources.py); the policy's statements are compared by Sid
    Planned(C, f"public access block of {ON_BUCKET}", fields={"blocked": (None, "all four")},
            operation=BucketPublicAccessBlock(TRAIL_BUCKET, HOME)),
    Planned(C, f"object ownership of {ON_BUCKET}", fields={"ownership": (None, "BucketOwnerEnforced")},
            operation=BucketOwnership(TRAIL_BUCKET, HOME)),
    Planned(C, f"default encryption of {ON_BUCKET}", fields={"encryption": (None, "AES256")},
            operation=BucketEncryption(TRAIL_BUCKET, HOME)),  # SSE-S3: no KMS key named
    Planned(C, f"versioning of {ON_BUCKET}", fields={"versioning": (None, "Enabled")},
            operation=BucketVersioning(TRAIL_BUCKET, HOME)),
    Planned(C, f"policy of {ON_BUCKET}", operation=BucketPolicy, fields={"statements": (
        None, "AWSCloudTrailAclCheck20150319, AWSCloudTrailWrite20150319, DenyInsecureTransport")}),
]
BILLING_BUCKET = f"aws-harden-billing-{ACCOUNT}"
ON_BILLING = f's3 bucket "{BILLING_BUCKET}"'
BUDGET = "aws-harden-monthly"
ANSWERED = {"budget-alarm": {"amount": 25, "emails": "ops@example.com"}}
WANTED = (Notice("ACTUAL", "GREATER_THAN", 80.0), Notice("ACTUAL", "GREATER_THAN", 100.0),
          Notice("FORECASTED", "GREATER_THAN", 100.0))
ALARMS = ("actual > 80%", "actual > 100%", "forecasted > 100%")
EMAILS = ("ops@example.com",)


def budget(*notices: Notice, amount: str = "25", emails: tuple[str, ...] = ("ops@example.com",)) -> BudgetState:
    return BudgetState(BUDGET, ACCOUNT, True, amount, "USD", "MONTHLY", "COST", notices=notices,
                       subscribers=dict.fromkeys(notices, emails))


CASES: dict[str, Case] = {
    # --- cloudtrail ------------------------------------------------------------------------------------------
    "cloudtrail/fresh": (CLOUDTRAIL, CloudTrailState(ACCOUNT, "aws", HOME, TRAIL, (), Bucket(
        TRAIL_BUCKET, HOME, "missing")), {}, [
        Planned(C, ON_BUCKET, fields={"name": (None, TRAIL_BUCKET), "region": (None, HOME)},
                operation=CreateBucket(TRAIL_BUCKET, HOME)), *BUCKET_SETTINGS,
        Planned(C, f'cloudtrail trail "{TRAIL}" ({HOME})', fields=TRAIL_FIELDS, operation=cloudtrail_operations.Trail(
            HOME, kms=False, logs_group_arn=None, name=TRAIL, bucket=TRAIL_BUCKET)),
        Planned(C, f'logging of cloudtrail trail "{TRAIL}" ({HOME})', fields={"logging": (None, True)},
                operation=StartLogging(HOME, TRAIL_ARN))]),
    "cloudtrail/stopped-trail-on-a-bare-bucket": (CLOUDTRAIL, CloudTrailState(ACCOUNT, "aws", HOME, TRAIL, (
        Trail(TRAIL, TRAIL_ARN, HOME, TRAIL_BUCKET, True, True, True, False, False, ACCOUNT),), Bucket(
        TRAIL_BUCKET, HOME, "own")), {}, [
        *BUCKET_SETTINGS,
        Planned(U, f'logging of cloudtrail trail "{TRAIL}" ({HOME})', fields={"logging": (False, True)},
                operation=StartLogging(HOME, TRAIL_ARN))]),
    # --- billing-report ---------------------------------------------------------------------------------------
    "billing-report/fresh": (BILLING_REPORT, BillingState(ACCOUNT, "aws", (), BucketState(BILLING_BUCKET, HOME, False)),
                             {}, [
        Planned(C, ON_BILLING, fields={"name": (None, BILLING_BUCKET), "region": (None, HOME)},
                operation=CreateBucket(BILLING_BUCKET, HOME)),
        Planned(C, f"public access block on {ON_BILLING}", operation=BucketPublicAccessBlock(BILLING_BUCKET, HOME),
                fields=dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                      "RestrictPublicBuckets"), (None, True))),
        Planned(C, f"bucket policy on {ON_BILLING}", operation=BucketPolicy, fields={"statement": (
            None, "EnableAWSDataExportsToWriteToS3AndCheckPolicy: billingreports + bcm-data-exports may PutObject, "
            f"aws:SourceAccount {ACCOUNT}")}),
        Planned(C, 'data export "aws-harden-cur2"', operation=CreateExport, fields={
            "table": (None, "COST_AND_USAGE_REPORT"), "granularity": (None, "DAILY"), "resource_ids": (None, True),
            "format": (None, "parquet"), "destination": (None, f"s3://{BILLING_BUCKET}/cost-and-usage ({HOME})")})]),
    # --- budget-alarm -------------------------------------------------------------------------------------------
    "budget-alarm/fresh": (BUDGET_ALARM, BudgetState(BUDGET, ACCOUNT, False), ANSWERED, [
        Planned(C, f'budget "{BUDGET}"', fields={"amount": (None, "25 USD"), "time_unit": (None, "MONTHLY"),
                                                 "budget_type": (None, "COST")},
                operation=CreateBudget(ACCOUNT, BUDGET, EMAILS, "25")),
        *(Planned(C, f'alarm "{a}" on budget "{BUDGET}"',
                  fields={"alarm": (None, a), "email": (None, "ops@example.com")},
                  operation=CreateNotification(ACCOUNT, BUDGET, EMAILS, n))
          for a, n in zip(ALARMS, WANTED, strict=True))]),
    "budget-alarm/fresh-unanswered-asks-at-apply": (BUDGET_ALARM, BudgetState(BUDGET, ACCOUNT, False), {}, [
        Planned(C, f'budget "{BUDGET}"', summary=["(asked at apply)"], fields=None,
                operation=CreateBudget(ACCOUNT, BUDGET, (), None)),  # amount and emails read when applied
        *(Planned(C, f'alarm "{a}" on budget "{BUDGET}"', fields={"alarm": (None, a), "email": (
            None, "(asked at apply)")}, operation=CreateNotification(ACCOUNT, BUDGET, (), n))
          for a, n in zip(ALARMS, WANTED, strict=True))]),
    "budget-alarm/other-threshold-updated-in-place": (
        BUDGET_ALARM, budget(Notice("ACTUAL", "GREATER_THAN", 50.0), *WANTED[1:]), ANSWERED,
        [Planned(U, f'alarm "actual > 80%" on budget "{BUDGET}"', summary=["change alarm actual > 50%"],
                 fields={"threshold": ("50", "80")}, operation=UpdateNotification(
                     ACCOUNT, BUDGET, EMAILS, Notice("ACTUAL", "GREATER_THAN", 50.0), WANTED[0]))]),
    "budget-alarm/new-subscriber-added": (BUDGET_ALARM, budget(*WANTED, emails=("old@example.com",)), ANSWERED, [
        Planned(C, f'email ops@example.com on alarm "{a}"', fields={"email": (None, "ops@example.com")},
                operation=AddSubscriber(ACCOUNT, BUDGET, EMAILS, n, "ops@example.com"))
        for a, n in zip(ALARMS, WANTED, strict=True)]),
    "budget-alarm/compliant": (BUDGET_ALARM, budget(*WANTED), ANSWERED, []),
}

