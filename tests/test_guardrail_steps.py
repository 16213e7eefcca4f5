"""The guardrail steps, pure: account facts (wizard/facts.py's Guardrails) and answers in, changes out; and
their controls on the same facts. No AWS here."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore
import pytest

import steps as step_registry
from steps import account_plan
from steps.access_analyzer import ANALYZER_NAME, AnalyzerState
from steps.access_analyzer import STEP as ANALYZER
from steps.account_contacts import ASKED_AT_APPLY, EMAIL_PATTERN, PHONE_PATTERN, ContactsState
from steps.account_contacts import STEP as CONTACTS
from steps.cloudtrail_state import Rule, Topic
from steps.default_vpcs import STEP as DEFAULT_VPCS
from steps.default_vpcs import DefaultVpcState, DeleteDefaultVpc
from steps.ebs_encryption import STEP as EBS
from steps.ebs_encryption import EbsState
from steps.guardduty import FINDINGS_PATTERN, RULE_NAME, GuardDutyState
from steps.guardduty import STEP as GUARDDUTY
from steps.root_credentials import STEP as ROOT_CREDENTIALS
from steps.root_credentials import Confirmation, RootCredentialsState, last_confirmation
from steps.s3_public_access import SETTINGS, PublicAccessState
from steps.s3_public_access import STEP as PUBLIC_ACCESS
from wizard.aws import Caller
from wizard.controls import evaluate
from wizard.facts import (
    ALL_USERS,
    AccountFacts,
    AccountPlan,
    AccountSummary,
    AlternateContact,
    Analyzer,
    BucketExposure,
    DefaultVpc,
    Detector,
    Guardrails,
    PrimaryContact,
)
from wizard.protocol import Action, ApplyContext, ChangeSkipped, StepContext

ACCOUNT = "123456789012"
ROOT = Caller(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, ACCOUNT)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REGIONS = ("eu-west-1", "us-east-1")
SECURITY = {"name": "Security team", "title": "Security", "email": "security@example.com", "phone": "+1 555 0100"}


def ctx(step_id: str, answers: dict[str, Any] | None = None, interactive: bool = False) -> ApplyContext:
    values = answers or {}
    base = StepContext(step_id, ROOT, "us-east-1", lambda s, k: values.get(k) if s == step_id else None)
    return ApplyContext(base, lambda *a: "", lambda *a: None, interactive=interactive)


def keys(changes: list[Any]) -> list[tuple[str, str, str]]:
    return [(c.action.value, c.key, c.resource) for c in changes]


def verdicts(control_id: str, g: Guardrails) -> list[tuple[str, str, str]]:
    result = next(r for r in evaluate(AccountFacts(ACCOUNT, "aws", "us-east-1", NOW, guardrails=g),
                                      step_registry.available()) if r.control.id == control_id)
    return [(v.status, v.region, v.resource) for v in result.verdicts]


# --- account-contacts ---------------------------------------------------------------------------
def contact(kind: str, **changes: str) -> AlternateContact:
    base = AlternateContact(kind, "Security team", "Security", "security@example.com", "+1 555 0100")
    return replace(base, **changes)


def test_contacts_fresh_account_plans_each_contact_and_says_why_security_matters() -> None:
    state = ContactsState.of(Guardrails(), lambda key: SECURITY if key == "security" else None)
    changes = CONTACTS.plan(state, ctx("account-contacts"))
    assert keys(changes) == [("+", "put-contact", "security contact"), ("+", "put-contact", "billing contact"),
                             ("+", "put-contact", "operations contact")]
    assert "security notices" in changes[0].summary
    assert {f.name: f.new for f in changes[0].fields} == SECURITY
    assert all(f.new == ASKED_AT_APPLY for f in changes[1].fields)  # not answered: asked at apply
    with pytest.raises(ChangeSkipped, match=r"billing = \{ name"):
        changes[1].operation.apply(None, ctx("account-contacts"))  # type: ignore[arg-type]


def test_contacts_existing_ones_are_kept_unless_the_answers_change_them() -> None:
    current = {"SECURITY": contact("SECURITY"), "BILLING": contact("BILLING", name="Finance"),
               "OPERATIONS": contact("OPERATIONS", name="Ops")}
    facts = Guardrails(alternate_contacts=current)
    assert CONTACTS.plan(ContactsState.of(facts, lambda key: None), ctx("account-contacts")) == []
    # The same contact with the email in another case is the same contact.
    same = {**SECURITY, "email": "Security@Example.com"}
    assert CONTACTS.plan(ContactsState.of(facts, lambda key: same if key == "security" else None),
                         ctx("account-contacts")) == []
    other = {**SECURITY, "phone": "+44 20 7946 0000"}
    (change,) = CONTACTS.plan(ContactsState.of(facts, lambda key: other if key == "security" else None),
                              ctx("account-contacts"))
    assert change.action is Action.UPDATE
    assert [(f.name, f.old, f.new) for f in change.fields] == [("phone", "+1 555 0100", "+44 20 7946 0000")]


def botocore_pattern(service: str, shape: str) -> str:
    """A shape's pattern as botocore's shipped model states it."""
    folder = next((Path(botocore.__file__).parent / "data" / service).iterdir())
    with gzip.open(folder / "service-2.json.gz") as fh:
        model = json.loads(fh.read())
    return str(model["shapes"][shape]["pattern"])


def test_contact_answers_are_checked_as_the_api_checks_them() -> None:
    assert botocore_pattern("account", "EmailAddress") == EMAIL_PATTERN
    assert botocore_pattern("account", "PhoneNumber") == PHONE_PATTERN
    (security, *_) = CONTACTS.questions()
    assert security.check(SECURITY) is None
    assert security.check({}) is None  # empty: keep the current one
    bad = {
        "email": ("not-an-email", "no-domain@example", "a@b.c d", "ü@example.com"),
        "phone": ("call me", "555-0100 ext. 3", "+" * 26, "()"),
        "name": ("", "x" * 65, "evil\x1b[31m"),
        "title": ("y" * 51,),
    }
    for key, values in bad.items():
        for value in values:
            assert security.check({**SECURITY, key: value}) is not None, (key, value)
    assert security.check({**SECURITY, "phone": "(555) 0100-22"}) is None
    assert "missing field 'phone'" in str(security.check({k: v for k, v in SECURITY.items() if k != "phone"}))
    assert "unknown field 'mobile'" in str(security.check({**SECURITY, "mobile": "1"}))


# --- s3-public-access ------------------------------------------------------------------------------
def test_public_access_block_fresh_account_names_the_buckets_that_stop_being_public() -> None:
    buckets = (
        BucketExposure("site", acl_grantee_uris=(ALL_USERS,)),
        BucketExposure("shared", policy_is_public=True),
        BucketExposure("guarded", acl_grantee_uris=(ALL_USERS,), public_access_block={"IgnorePublicAcls": True}),
        BucketExposure("private"),
    )
    state = PublicAccessState.of(Guardrails(buckets=buckets), ACCOUNT)
    (change,) = PUBLIC_ACCESS.plan(state, ctx("s3-public-access"))
    assert change.action is Action.CREATE and [f.name for f in change.fields] == list(SETTINGS)
    assert change.summary.endswith("these buckets stop being public: shared, site")
    warnings = [f.text for f in PUBLIC_ACCESS.findings(state, ctx("s3-public-access")) if f.severity == "warning"]
    assert warnings == ["bucket site is public today (its ACL grants AllUsers): it stops being public once the "
                        "block is on", "bucket shared is public today (its bucket policy is public): it stops "
                        "being public once the block is on"]


def test_public_access_block_only_turns_settings_on() -> None:
    partial = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
               "RestrictPublicBuckets": False}
    (change,) = PUBLIC_ACCESS.plan(PublicAccessState(ACCOUNT, partial), ctx("s3-public-access"))
    assert change.action is Action.UPDATE
    assert [(f.name, f.old, f.new) for f in change.fields] == [("BlockPublicPolicy", "off", "on"),
                                                              ("RestrictPublicBuckets", "off", "on")]
    on = dict.fromkeys(SETTINGS, True)
    assert PUBLIC_ACCESS.plan(PublicAccessState(ACCOUNT, on), ctx("s3-public-access")) == []
    # A bucket's ACL no longer counts once the account ignores public ACLs.
    ignoring = Guardrails(account_public_access_block={"IgnorePublicAcls": True},
                          buckets=(BucketExposure("site", acl_grantee_uris=(ALL_USERS,)),))
    assert ignoring.public_buckets() == {}


# --- ebs-encryption and access-analyzer ------------------------------------------------------------------
def test_ebs_encryption_one_change_per_region_where_it_is_off() -> None:
    state = EbsState.of(Guardrails(ebs_encryption={"eu-west-1": True, "us-east-1": False}))
    assert keys(EBS.plan(state, ctx("ebs-encryption"))) == [("~", "enable", "EBS encryption by default (us-east-1)")]
    assert EBS.plan(EbsState({"us-east-1": True}), ctx("ebs-encryption")) == []
    assert verdicts("ec2_ebs_default_encryption", Guardrails(ebs_encryption={"eu-west-1": True, "us-east-1": False})) \
        == [("PASS", "eu-west-1", ACCOUNT), ("FAIL", "us-east-1", ACCOUNT)]


def analyzer(region: str, kind: str = "ACCOUNT", status: str = "ACTIVE", name: str = "external") -> Analyzer:
    return Analyzer(name, f"arn:aws:access-analyzer:{region}:{ACCOUNT}:analyzer/{name}", kind, status, region)


def test_access_analyzer_counts_only_active_external_access_analyzers() -> None:
    facts = Guardrails(analyzers={
        "ap-south-1": (analyzer("ap-south-1"),),
        "eu-west-1": (analyzer("eu-west-1", kind="ACCOUNT_UNUSED_ACCESS"),),  # not about external access
        "us-east-1": (),
        "us-west-2": (analyzer("us-west-2", status="CREATING"),),  # just made
        "sa-east-1": (analyzer("sa-east-1", status="DISABLED", name=ANALYZER_NAME),),
    })
    changes = ANALYZER.plan(AnalyzerState.of(facts), ctx("access-analyzer"))
    assert keys(changes) == [
        ("+", "create-analyzer", f"access analyzer {ANALYZER_NAME} (eu-west-1)"),
        ("!", "replace-analyzer", f"access analyzer {ANALYZER_NAME} (sa-east-1)"),
        ("+", "create-analyzer", f"access analyzer {ANALYZER_NAME} (us-east-1)"),
    ]
    assert [s for s, *_ in verdicts("accessanalyzer_enabled", facts)] == ["PASS", "FAIL", "FAIL", "FAIL", "FAIL"]


# --- guardduty ---------------------------------------------------------------------------------------
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:aws-harden-alerts"


def guardduty(detectors: dict[str, tuple[Detector, ...]], alerts: bool = False, topic: bool = True,
              rule: Rule | None = None) -> GuardDutyState:
    topics = {"us-east-1": Topic("us-east-1", TOPIC, topic)} if alerts else {}
    rules = {"us-east-1": rule or Rule(RULE_NAME, "us-east-1", None, None)} if alerts else {}
    return GuardDutyState.of(Guardrails(detectors=detectors), True, alerts, topics, rules)


def test_guardduty_turns_on_or_resumes_a_detector_per_region_never_deleting() -> None:
    state = guardduty({"eu-west-1": (Detector("d1", "eu-west-1", "DISABLED"),), "us-east-1": (),
                       "us-west-2": (Detector("d2", "us-west-2", "ENABLED"),)})
    changes = GUARDDUTY.plan(state, ctx("guardduty"))
    assert keys(changes) == [("~", "resume-detector", "GuardDuty detector d1 (eu-west-1)"),
                             ("+", "create-detector", "GuardDuty detector (us-east-1)")]
    assert all("30-day free trial" in c.summary for c in changes)
    assert [s for s, *_ in verdicts("guardduty_is_enabled", Guardrails(detectors=state.detectors))] == [
        "FAIL", "FAIL", "PASS"]


def test_guardduty_costs_money_so_it_is_asked_and_never_assumed() -> None:
    (enable,) = GUARDDUTY.questions()
    assert enable.default is False and enable.prompt_default is True  # --yes: off unless answered; prompt: yes
    assert "USD" in enable.help and "30 days" in enable.help
    change = GUARDDUTY.plan(guardduty({"us-east-1": ()}), ctx("guardduty"))[0]
    with pytest.raises(ChangeSkipped, match="enable = true"):
        change.operation.apply(None, ctx("guardduty", {"enable": False}))  # type: ignore[arg-type]
    with pytest.raises(ChangeSkipped, match="you chose not to"):
        change.operation.apply(None, ctx("guardduty", {"enable": False}, interactive=True))  # type: ignore[arg-type]


def test_guardduty_findings_go_to_the_alerts_topic_when_alerts_are_on() -> None:
    on = {"us-east-1": (Detector("d", "us-east-1", "ENABLED"),)}
    assert keys(GUARDDUTY.plan(guardduty(on, alerts=True), ctx("guardduty"))) == [
        ("+", "put-rule", f"EventBridge rule {RULE_NAME} (us-east-1)"), ("+", "put-target", f"target {TOPIC}")]
    done = Rule(RULE_NAME, "us-east-1", FINDINGS_PATTERN, "ENABLED", (TOPIC,))
    assert GUARDDUTY.plan(guardduty(on, alerts=True, rule=done), ctx("guardduty")) == []
    assert FINDINGS_PATTERN["detail"]["severity"] == [{"numeric": [">=", 4]}]  # medium (4.0) and above
    # No topic yet (the cloudtrail step makes it): no rule, and a warning that says so.
    no_topic = guardduty(on, alerts=True, topic=False)
    assert GUARDDUTY.plan(no_topic, ctx("guardduty")) == []
    assert any(f.severity == "warning" for f in GUARDDUTY.findings(no_topic, ctx("guardduty")))


# --- default-vpcs -----------------------------------------------------------------------------------------
def test_default_vpcs_only_unused_ones_are_offered_each_confirmed_by_its_region() -> None:
    unused = DefaultVpc("vpc-1", "eu-west-1", "172.31.0.0/16", ("subnet-a", "subnet-b"), ("igw-1",))
    used = DefaultVpc("vpc-2", "us-east-1", "172.31.0.0/16", ("subnet-c",), ("igw-2",), ("eni-1",))
    state = DefaultVpcState.of(Guardrails(default_vpcs={"eu-west-1": (unused,), "us-east-1": (used,)}))
    (change,) = DEFAULT_VPCS.plan(state, ctx("default-vpcs"))
    assert change.action is Action.DELETE and change.resource == "default VPC vpc-1 (eu-west-1)"
    assert (change.confirm_value, change.confirm_answer) == ("eu-west-1", "regions")
    assert change.operation == DeleteDefaultVpc("eu-west-1", "vpc-1", ("subnet-a", "subnet-b"), ("igw-1",))
    warnings = [f.text for f in DEFAULT_VPCS.findings(state, ctx("default-vpcs")) if f.severity == "warning"]
    assert len(warnings) == 1 and "vpc-2 in us-east-1 is in use (1 network interfaces): kept" in warnings[0]


def test_default_vpc_regions_answer_names_known_regions_only() -> None:
    (regions,) = DEFAULT_VPCS.questions()
    assert regions.check(["us-east-1", "eu-west-1"]) is None
    assert regions.check(["us-east-1", "moon-base-1"]) == "unknown region 'moon-base-1'"
    assert regions.check("us-east-1") is not None and regions.check([1]) is not None


# --- root-credentials -------------------------------------------------------------------------------------
def root_state(confirmed: Confirmation | None = None, devices: int | None = 1,
               mfa: bool = True) -> RootCredentialsState:
    summary = AccountSummary({"AccountMFAEnabled": int(mfa), "AccountAccessKeysPresent": 0})
    return RootCredentialsState(summary, devices, 0, PrimaryContact("Ana Owner", "+1 555 0199", "Example Corp"),
                                confirmed, NOW)


def test_root_credentials_checklist_is_asked_until_confirmed_and_shown_as_manual_evidence() -> None:
    (change,) = ROOT_CREDENTIALS.plan(root_state(), ctx("root-credentials"))
    assert change.key == "record-checklist" and change.confirm_value == "confirmed"
    assert change.confirm_answer == "checklist_confirmed" and len(change.instructions) == 4
    assert "password manager" in change.instructions[0] and "more than one person" in change.instructions[1]
    recent = Confirmation(NOW - timedelta(days=30), ROOT.arn)
    assert ROOT_CREDENTIALS.plan(root_state(recent), ctx("root-credentials")) == []
    texts = [f.text for f in ROOT_CREDENTIALS.findings(root_state(recent), ctx("root-credentials"))]
    assert any("MANUAL evidence" in t and "not verified" in t and "2026-11-01T12:00:00" in t for t in texts)
    assert any("Ana Owner" in t and "confirm it is current" in t for t in texts)
    old = Confirmation(NOW - timedelta(days=400), ROOT.arn)
    assert len(ROOT_CREDENTIALS.plan(root_state(old), ctx("root-credentials"))) == 1  # asked again after a year


def test_root_credentials_reports_what_it_can_read_about_root() -> None:
    one = next(f for f in ROOT_CREDENTIALS.findings(root_state(devices=1), ctx("root-credentials"))
               if "MFA" in f.text)
    assert one.severity == "warning" and "a second one, kept apart" in one.text and "up to 8" in one.text
    two = [f for f in ROOT_CREDENTIALS.findings(root_state(devices=2), ctx("root-credentials")) if "MFA" in f.text]
    assert two[0].severity == "info"
    none = ROOT_CREDENTIALS.findings(root_state(mfa=False), ctx("root-credentials"))
    assert any(f.severity == "warning" and "root-mfa step" in f.text for f in none)


def test_the_last_journaled_confirmation_counts() -> None:
    def entry(result: str, key: str, time: str) -> dict[str, Any]:
        return {"result": result, "time": time, "caller": ROOT.arn, "change": {"key": key}}

    entries = [entry("ok", "record-checklist", "2026-01-01T00:00:00+00:00"),
               entry("declined", "record-checklist", "2026-06-01T00:00:00+00:00"),
               entry("ok", "record-checklist", "2026-03-01T00:00:00+00:00"),
               entry("ok", "other", "2026-09-01T00:00:00+00:00")]
    found = last_confirmation(entries)
    assert found is not None and found.time == datetime(2026, 3, 1, tzinfo=UTC)
    assert last_confirmation([]) is None


# --- account plan and the contact controls ------------------------------------------------------------------
def test_account_plan_free_plan_says_charges_stop_at_the_credits() -> None:
    free = AccountPlan("FREE", "ACTIVE", 182.5, "USD", datetime(2027, 5, 1, tzinfo=UTC))
    (finding,) = account_plan.findings(free)
    assert "charges nothing beyond its credits" in finding.text and "182.50 USD" in finding.text
    assert finding.output == ("account plan", "Free plan, 182.50 USD of credits left, ends 2027-05-01")
    (paid,) = account_plan.findings(AccountPlan("PAID", "ACTIVE"))
    assert "Paid plan" in paid.text
    assert account_plan.findings(None) == []  # the API does not answer: nothing is said


def test_security_contact_and_contact_details_controls() -> None:
    assert verdicts("account_security_contact_information_is_registered", Guardrails()) == [
        ("FAIL", "global", ACCOUNT)]
    with_security = Guardrails(alternate_contacts={"SECURITY": contact("SECURITY")})
    assert verdicts("account_security_contact_information_is_registered", with_security)[0][0] == "PASS"
    # Only a person can say the primary contact is current: MANUAL, as Prowler.
    assert verdicts("account_maintain_current_contact_details", Guardrails(
        primary_contact=PrimaryContact("Ana", "+1 555 0199")))[0][0] == "MANUAL"
    all_on = Guardrails(account_public_access_block=dict.fromkeys(SETTINGS, True))
    assert verdicts("s3_account_level_public_access_blocks", all_on)[0][0] == "PASS"
    two = Guardrails(account_public_access_block={"IgnorePublicAcls": True, "RestrictPublicBuckets": True})
    assert verdicts("s3_account_level_public_access_blocks", two)[0][0] == "FAIL"  # CIS and S3.1 ask all four
