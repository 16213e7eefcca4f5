"""A full apply of every step from a fresh account, as a person at the terminal would run it: every
option on (answers file), every change agreed, the admin's MFA enrolled with codes read off a phone.

Used by the fault and bad-input tests, through tests/harness.py's run: its Result holds each request sent
with the change it belongs to, and its `on_send` answers a request with a fault.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring
import pytest

from tests import harness
from tests.conftest import Account
from tests.guardrail_answers import ANSWERS as GUARDRAIL_ANSWERS
from tests.harness import OnSend, Phone, Result, Script
from tests.moto_regions import TEST_REGIONS
from wizard.interaction import ENTER_CODES
from wizard.journal import state_dir
from wizard.sandbox.root_user import assign_root_mfa
from wizard.secrets import redact_aws_logs

ACCOUNT_ID = "123456789012"
METRIC_NAMES = (
    "UnauthorizedAPICalls", "ConsoleSignInWithoutMFA", "RootAccountUsage", "IAMPolicyChanges", "CloudTrailChanges",
    "ConsoleAuthenticationFailures", "DisableOrDeleteKMSKeys", "S3BucketPolicyChanges", "AWSConfigChanges",
    "SecurityGroupChanges", "NACLChanges", "NetworkGatewayChanges", "RouteTableChanges", "VPCChanges",
    "OrganizationsChanges",
)  # fmt: skip


# What a clean full apply (with answers_file) leaves; a run after faults or Ctrl-C must leave exactly this.
CONVERGED = {
    "users": ["admin"],
    "admin access keys": 1,
    "root access keys": 0,
    "groups": ["FullAccess"],
    "roles": ["aws-harden-cloudtrail-to-logs", "aws-harden-support"],
    "mfa devices": ["admin", "root-account-mfa-device"],  # none unassigned
    "aliases": ["example-corp"],
    "kms keys": 1,
    "kms aliases": ["alias/aws-harden-cloudtrail"],
    "buckets": ["aws-harden-billing-123456789012", "aws-harden-cloudtrail-123456789012-us-east-1"],
    "trails": ["aws-harden-trail"],
    "log groups": ["/aws-harden/cloudtrail"],
    # the fifteen CIS monitoring filters (v5.0 4.1-4.15 / v7.0 5.1-5.15), each with its alarm
    "metric filters": sorted(METRIC_NAMES),
    "alarms": sorted(f"aws-harden-{name}" for name in METRIC_NAMES),
    "topics": ["aws-harden-alerts"],
    "subscriptions": ["alerts@example.com"],
    "rules": ["aws-harden-cloudtrail-changes", "aws-harden-guardduty-findings", "aws-harden-iam-policy-changes",
              "aws-harden-root-api-activity", "aws-harden-root-console-sign-in"],
    "exports": ["aws-harden-cur2"],
    "budgets": ["aws-harden-monthly"],
    "budget alarms": 3,
    "budget subscribers": 3,
    "alternate contacts": ["BILLING", "OPERATIONS", "SECURITY"],
    "s3 account public access block": ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                       "RestrictPublicBuckets"],
    # Per enabled region (tests/moto_regions.py): EBS encryption on, one analyzer, one detector, no default VPC.
    "regions": {region: {"ebs encryption": True, "analyzers": ["aws-harden-external-access"], "detectors": 1,
                         "default vpcs": 0, "internet gateways": 0} for region in TEST_REGIONS},
}


def answers_file(tmp_path: Path, root_key: str) -> Path:
    """Every option that makes writes: programmatic access, an alias, enforcement, KMS, retention, alerts,
    metric filters, a budget; and the confirmation that lets the running root key go last."""
    path = tmp_path / "answers.toml"
    path.write_text(f"""
[admin-user]
programmatic_access = true
[root-access-keys]
confirm_delete_running_key = "{root_key}"
[password-policy]
max_age = 90
[signin-link]
alias = "example-corp"
[user-mfa]
enforce = true
[cloudtrail]
kms = true
retention_days = 365
alerts_email = "alerts@example.com"
metric_filters = true
[billing-report]
format = "csv"
[budget-alarm]
amount = 25
emails = "you@example.com"
""" + GUARDRAIL_ANSWERS)
    return path


def prepare(account: Account, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Phone:
    """A fresh account whose root has MFA (only root can do that, in the console) so that every other
    step, and then the running root key's deletion, can complete; the admin's AWS CLI profile goes to a
    file under tmp_path."""
    redact_aws_logs()  # as the product does before its first call: the seed below is in the response body
    assign_root_mfa(account.raw("iam"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    return Phone(monkeypatch)


def operator(phone: Phone, interrupted: set[str] | None = None, endpoint_url: str | None = None) -> Script:
    """Agrees to every change, keeps every default the answers file leaves open, enrolls MFA with two
    codes from the phone. With `interrupted` given, presses Ctrl-C at the first prompt not in it (and
    adds it there), so successive runs stop at each prompt in turn. `endpoint_url`: where the admin signs
    in (a sandbox server, else in-process moto)."""

    def answer(message: str) -> object:
        if interrupted is not None and message not in interrupted:
            interrupted.add(message)
            raise KeyboardInterrupt
        if message.startswith("First code"):
            return phone.code(-1)
        if message.startswith("Next code"):
            return phone.code(0)
        if message == "Then:":
            return ENTER_CODES
        if message.startswith("Apply "):
            if "signin-link" in message:  # the sign-in URL is on the screen: the operator signs in as the admin
                first_sign_in(endpoint_url)
            return True
        return None  # the default

    return Script(keyed={"": answer})


def apply(answers: Path, script: Script, *extra: str, on_send: OnSend | None = None) -> Result:
    """The full apply, at a terminal (tests/harness.py's run)."""
    return harness.run("apply", "--answers", str(answers), *extra, answers=script, width=200, on_send=on_send)


ADMINS_OWN_PASSWORD = "Admins-Own-Passw0rd-77!"  # what the operator types at the first sign-in (a test value)


def first_sign_in(endpoint_url: str | None = None) -> None:
    """The admin's first console sign-in, where AWS asks for a new password (iam:ChangePassword, which its
    group's AdministratorAccess allows), done with the admin's own key. Once, while the reset is pending.
    (The keyring keeps the entry the wizard wrote; the leak guard checks that generated password.)"""
    from wizard.aws import isolated_session

    stored = keyring.get_password("aws-harden", f"{ACCOUNT_ID}/admin/console-password")
    if stored is None or keyring.get_password("aws-harden", f"{ACCOUNT_ID}/admin/access-key") is None:
        return
    key, secret = admin_credentials()
    iam = isolated_session(key, secret, "us-east-1").client("iam", endpoint_url=endpoint_url)
    if not iam.get_login_profile(UserName="admin")["LoginProfile"]["PasswordResetRequired"]:
        return
    iam.change_password(OldPassword=stored, NewPassword=ADMINS_OWN_PASSWORD)


def journal_lines() -> list[dict[str, Any]]:
    path = state_dir() / "journal" / f"{ACCOUNT_ID}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def admin_credentials() -> tuple[str, str]:
    """The admin's access key, where the wizard put it: the keyring."""
    stored = keyring.get_password("aws-harden", f"{ACCOUNT_ID}/admin/access-key")
    assert stored, "the admin's access key is not in the keyring"
    pair = json.loads(stored)
    return pair["AccessKeyId"], pair["SecretAccessKey"]


def inventory(account: Account) -> dict[str, Any]:
    """What the account holds, by name, with counts where names differ from run to run (key ids)."""
    from wizard.aws import isolated_session
    from wizard.sandbox.root_user import ROOT_NAME

    # Read as a key that belongs to nobody (the test world evaluates no policy for it): under the MFA
    # enforcement this run attaches, the admin's own long-term key is denied nearly everything.
    session = isolated_session("AKIASETUP00000000000", "x", "us-east-1")
    iam = session.client("iam")
    mfa = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    logs = session.client("logs")
    budgets = session.client("budgets")
    notifications = budgets.describe_notifications_for_budget(AccountId=ACCOUNT_ID, BudgetName="aws-harden-monthly")
    kms = session.client("kms")
    sns = session.client("sns")
    return {
        "users": sorted(u["UserName"] for u in iam.list_users()["Users"]),
        "admin access keys": len(iam.list_access_keys(UserName="admin")["AccessKeyMetadata"]),
        "root access keys": len(iam.list_access_keys(UserName=ROOT_NAME)["AccessKeyMetadata"]),
        "groups": sorted(g["GroupName"] for g in iam.list_groups()["Groups"]),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "mfa devices": sorted(d["SerialNumber"].split("/")[-1] + ("" if "User" in d else " (unassigned)")
                              for d in mfa),
        "aliases": iam.list_account_aliases()["AccountAliases"],
        "kms keys": len(kms.list_keys()["Keys"]),
        "kms aliases": sorted(a["AliasName"] for a in kms.list_aliases()["Aliases"]
                              if not a["AliasName"].startswith("alias/aws/")),
        "buckets": sorted(b["Name"] for b in session.client("s3").list_buckets()["Buckets"]),
        "trails": sorted(t["Name"] for t in session.client("cloudtrail").describe_trails()["trailList"]),
        "log groups": sorted(g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]),
        "metric filters": sorted(f["filterName"] for f in logs.describe_metric_filters()["metricFilters"]),
        "alarms": sorted(a["AlarmName"] for a in session.client("cloudwatch").describe_alarms()["MetricAlarms"]),
        "topics": sorted(t["TopicArn"].split(":")[-1] for t in sns.list_topics()["Topics"]),
        "subscriptions": sorted(s["Endpoint"] for s in sns.list_subscriptions()["Subscriptions"]),
        "rules": sorted(r["Name"] for r in session.client("events").list_rules()["Rules"]),
        "exports": sorted(e["ExportName"] for e in session.client("bcm-data-exports").list_exports()["Exports"]),
        "budgets": sorted(b["BudgetName"] for b in budgets.describe_budgets(AccountId=ACCOUNT_ID)["Budgets"]),
        "budget alarms": len(notifications["Notifications"]),
        **guardrails(session),
        "budget subscribers": sum(
            len(budgets.describe_subscribers_for_notification(
                AccountId=ACCOUNT_ID, BudgetName="aws-harden-monthly", Notification=n)["Subscribers"])
            for n in notifications["Notifications"]),
    }


def guardrails(session: Any) -> dict[str, Any]:
    """The account-wide guardrails, in every enabled region."""
    contacts = session.client("account")
    present = []
    for kind in ("BILLING", "OPERATIONS", "SECURITY"):
        try:
            contacts.get_alternate_contact(AlternateContactType=kind)
            present.append(kind)
        except contacts.exceptions.ResourceNotFoundException:
            pass
    try:
        block = session.client("s3control").get_public_access_block(AccountId=ACCOUNT_ID)[
            "PublicAccessBlockConfiguration"]
    except Exception:
        block = {}
    regions = {}
    for region in TEST_REGIONS:
        ec2 = session.client("ec2", region_name=region)
        regions[region] = {
            "ebs encryption": ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"],
            "analyzers": sorted(a["name"] for a in session.client("accessanalyzer", region_name=region)
                                .list_analyzers()["analyzers"]),
            "detectors": len(session.client("guardduty", region_name=region).list_detectors()["DetectorIds"]),
            "default vpcs": len(ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]),
            "internet gateways": len(ec2.describe_internet_gateways()["InternetGateways"]),
        }
    return {"alternate contacts": present, "s3 account public access block": sorted(k for k, v in block.items() if v),
            "regions": regions}


def check_as_admin(answers: Path, phone: Phone) -> Result:
    """`aws-harden check` as the admin (the root key is gone after a full apply), from an MFA session made
    with its key and a code off the phone: the deny-unless-MFA policy refuses the key alone, as on AWS."""
    from wizard.aws import isolated_session

    key, secret = admin_credentials()
    iam = isolated_session(key, secret, "us-east-1")
    (device,) = iam.client("iam").list_mfa_devices(UserName="admin")["MFADevices"]
    session = iam.client("sts").get_session_token(SerialNumber=device["SerialNumber"],
                                                  TokenCode=phone.code(0))["Credentials"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", session["AccessKeyId"])
        patch.setenv("AWS_SECRET_ACCESS_KEY", session["SecretAccessKey"])
        patch.setenv("AWS_SESSION_TOKEN", session["SessionToken"])
        return harness.run("check", "--answers", str(answers), stdin="pipe", width=200)
