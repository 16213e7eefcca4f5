"""Pure plan fixtures for the account-wide guardrail steps and the organization's steps: each case is a step's
inspected state (as data) and answers in, the planned changes out (action, resource, shown fields, consent),
with no AWS and no moto. The moto tiers (test_guardrails.py, test_convergence.py, test_faults.py) prove the
same plans applied."""

from __future__ import annotations

import json

from steps import member_root_credentials, org_root_access
from steps.access_analyzer import STEP as ACCESS_ANALYZER
from steps.access_analyzer import AnalyzerState, CreateAnalyzer, ReplaceAnalyzer
from steps.account_contacts import STEP as ACCOUNT_CONTACTS
from steps.account_contacts import ContactsState, PutContact
from steps.cloudtrail_state import Rule, Topic
from steps.default_vpcs import STEP as DEFAULT_VPCS
from steps.default_vpcs import DefaultVpcState, DeleteDefaultVpc
from steps.ebs_encryption import STEP as EBS_ENCRYPTION
from steps.ebs_encryption import EbsState, Enable
from steps.guardduty import FINDINGS_PATTERN, CreateDetector, GuardDutyState, PutRule, PutTarget, ResumeDetector
from steps.guardduty import STEP as GUARDDUTY
from steps.member_root_credentials import STEP as MEMBER_ROOT
from steps.member_root_credentials import Audit, Delete, MemberRoot, MemberRootState
from steps.org_root_access import STEP as ORG_ROOT
from steps.org_root_access import AllFeatures, Features, OrgRootState, RootCredentialsManagement, TrustedAccess
from steps.s3_public_access import SETTINGS, BlockPublicAccess, PublicAccessState
from steps.s3_public_access import STEP as S3_PUBLIC_ACCESS
from tests.plan_support import ACCOUNT, Case, Planned
from wizard.facts import AlternateContact, Analyzer, DefaultVpc, Detector
from wizard.organization import OrgAccount, Standing
from wizard.protocol import Action

C, U, D, OP = Action.CREATE, Action.UPDATE, Action.DELETE, Action.OPERATOR

E1, W1 = "us-east-1", "eu-west-1"
SEC = AlternateContact("SECURITY", "Sec Team", "Security", "sec@example.com", "+1 555 0100")
SEC_TABLE = {"name": "Ops", "title": "Security", "email": "ops@example.com", "phone": "+1 555 0199"}
NONE_CONTACTS = dict.fromkeys(("SECURITY", "BILLING", "OPERATIONS"))
ASKED = "(asked at apply)"
ASKED_FIELDS = dict.fromkeys(("name", "title", "email", "phone"), (None, ASKED))
ACCOUNT_ANALYZER = Analyzer("ours", "arn:a", "ACCOUNT", "ACTIVE", E1)
UNUSED_ANALYZER = Analyzer("unused", "arn:u", "ACCOUNT_UNUSED_ACCESS", "ACTIVE", W1)
TOPIC = f"arn:aws:sns:{E1}:{ACCOUNT}:aws-harden-alerts"
MGMT = Standing("management", "o-abc", ACCOUNT)
MEMBER = OrgAccount("444455556666", "dev", "ACTIVE")
PATTERN = json.dumps(FINDINGS_PATTERN, sort_keys=True)
VPC = DefaultVpc("vpc-1", W1, "172.31.0.0/16", ("subnet-a", "subnet-b"), ("igw-1",))
USED_VPC = DefaultVpc("vpc-2", E1, "172.31.0.0/16", ("subnet-c",), ("igw-2",), ("eni-1",))

CASES: dict[str, Case] = {
    # --- account-contacts: an existing contact stays unless the answers give another -----------------------
    "account-contacts/none-asked-at-apply": (ACCOUNT_CONTACTS, ContactsState(NONE_CONTACTS, NONE_CONTACTS), {}, [
        Planned(C, f"{kind} contact", fields=ASKED_FIELDS, operation=PutContact(kind.upper(), None))
        for kind in ("security", "billing", "operations")]),
    "account-contacts/existing-kept": (
        ACCOUNT_CONTACTS, ContactsState({**NONE_CONTACTS, "SECURITY": SEC}, NONE_CONTACTS), {},
        [Planned(C, f"{kind} contact", fields=ASKED_FIELDS, operation=PutContact(kind.upper(), None))
         for kind in ("billing", "operations")]),
    "account-contacts/existing-changed-when-answered": (
        ACCOUNT_CONTACTS, ContactsState({"SECURITY": SEC, "BILLING": SEC, "OPERATIONS": SEC},
                                        {**NONE_CONTACTS, "SECURITY": AlternateContact("SECURITY", **SEC_TABLE)}), {},
        [Planned(U, "security contact", summary=["change the security contact"], fields={
            "name": ("Sec Team", "Ops"), "email": ("sec@example.com", "ops@example.com"),
            "phone": ("+1 555 0100", "+1 555 0199")},
            operation=PutContact("SECURITY", AlternateContact("SECURITY", **SEC_TABLE)))]),
    "account-contacts/same-email-any-case": (
        ACCOUNT_CONTACTS, ContactsState({"SECURITY": SEC, "BILLING": SEC, "OPERATIONS": SEC}, {
            **NONE_CONTACTS, "SECURITY": AlternateContact("SECURITY", "Sec Team", "Security", "SEC@example.com",
                                                          "+1 555 0100")}), {}, []),
    # --- s3-public-access: only ever turned on ------------------------------------------------------------
    "s3-public-access/none-names-public-buckets": (
        S3_PUBLIC_ACCESS, PublicAccessState(ACCOUNT, None, {"www": ["ACL grants AllUsers"]}), {},
        [Planned(C, "S3 Block Public Access (account)", summary=["these buckets stop being public: www"],
                 fields=dict.fromkeys(SETTINGS, ("off", "on")), operation=BlockPublicAccess(ACCOUNT))]),
    "s3-public-access/half-on": (
        S3_PUBLIC_ACCESS, PublicAccessState(ACCOUNT, {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                                      "BlockPublicPolicy": False, "RestrictPublicBuckets": False}), {},
        [Planned(U, "S3 Block Public Access (account)", operation=BlockPublicAccess(ACCOUNT), fields={
            "BlockPublicPolicy": ("off", "on"), "RestrictPublicBuckets": ("off", "on")})]),
    "s3-public-access/on": (S3_PUBLIC_ACCESS, PublicAccessState(ACCOUNT, dict.fromkeys(SETTINGS, True)), {}, []),
    # --- ebs-encryption: a change per region where it is off ------------------------------------------------------
    "ebs-encryption/one-region-off": (EBS_ENCRYPTION, EbsState({E1: True, W1: False}), {}, [
        Planned(U, f"EBS encryption by default ({W1})", fields={"encryption by default": ("off", "on")},
                operation=Enable(W1))]),
    "ebs-encryption/on": (EBS_ENCRYPTION, EbsState({E1: True, W1: True}), {}, []),
    # --- access-analyzer: unused-access analyzers do not count; a broken one of ours is the operator's --------------
    "access-analyzer/missing-and-unused-only": (
        ACCESS_ANALYZER, AnalyzerState({E1: (ACCOUNT_ANALYZER,), W1: (UNUSED_ANALYZER,)}), {},
        [Planned(C, f"access analyzer aws-harden-external-access ({W1})", fields={"type": (None, "ACCOUNT")},
                 operation=CreateAnalyzer(W1))]),
    "access-analyzer/ours-failed": (
        ACCESS_ANALYZER, AnalyzerState({E1: (Analyzer("aws-harden-external-access", "arn", "ACCOUNT", "FAILED", E1),)}),
        {}, [Planned(OP, f"access analyzer aws-harden-external-access ({E1})", summary=["delete it in the console"],
                     operation=ReplaceAnalyzer(E1))]),
    "access-analyzer/organization-analyzer-counts": (
        ACCESS_ANALYZER, AnalyzerState({E1: (Analyzer("org", "arn", "ORGANIZATION", "ACTIVE", E1),)}), {}, []),
    # --- guardduty: a suspended detector is resumed, never replaced; findings to the alerts topic --------------------
    "guardduty/off-and-suspended": (
        GUARDDUTY, GuardDutyState({E1: (), W1: (Detector("d-1", W1, "DISABLED"),)}, True, False), {}, [
            Planned(U, f"GuardDuty detector d-1 ({W1})", summary=["resume"], fields={
                "status": ("DISABLED", "ENABLED")}, operation=ResumeDetector(W1, "d-1")),
            Planned(C, f"GuardDuty detector ({E1})", summary=["charged after a 30-day free trial"],
                    fields={"status": (None, "ENABLED")}, operation=CreateDetector(E1))]),
    "guardduty/findings-rule-to-the-topic": (
        GUARDDUTY, GuardDutyState({E1: (Detector("d-1", E1, "ENABLED"),)}, True, True,
                                  {E1: Topic(E1, TOPIC, True)}, {E1: Rule("aws-harden-guardduty-findings", E1, None,
                                                                          None)}), {}, [
            Planned(C, f"EventBridge rule aws-harden-guardduty-findings ({E1})", fields={
                "pattern": (None, PATTERN), "state": (None, "ENABLED")}, operation=PutRule(E1)),
            Planned(C, f"target {TOPIC}", fields={"target": (None, TOPIC)}, operation=PutTarget(E1, TOPIC))]),
    "guardduty/no-topic-yet": (
        GUARDDUTY, GuardDutyState({E1: (Detector("d-1", E1, "ENABLED"),)}, True, True,
                                  {E1: Topic(E1, TOPIC, False)}, {E1: Rule("r", E1, None, None)}), {}, []),
    # --- default-vpcs: an unused one goes when its region is typed; one in use stays ---------------------------------
    "default-vpcs/unused-and-used": (DEFAULT_VPCS, DefaultVpcState({E1: (USED_VPC,), W1: (VPC,)}), {}, [
        Planned(D, f"default VPC vpc-1 ({W1})", summary=["2 subnets and 1 internet gateway"], confirm_value=W1,
                fields={"cidr": ("172.31.0.0/16", None), "subnets": (2, None)},
                operation=DeleteDefaultVpc(W1, "vpc-1", ("subnet-a", "subnet-b"), ("igw-1",)))]),
    "default-vpcs/none": (DEFAULT_VPCS, DefaultVpcState({E1: (), W1: ()}), {}, []),
    # --- org-root-access ----------------------------------------------------------------------------------------
    "org-root-access/standalone": (ORG_ROOT, OrgRootState(Standing("standalone")), {}, []),
    "org-root-access/consolidated-billing-only": (
        ORG_ROOT, OrgRootState(Standing("management", "o-abc", ACCOUNT, all_features=False)), {},
        [Planned(OP, "organization o-abc", summary=["enable all features"], operation=AllFeatures())]),
    "org-root-access/management-from-scratch": (ORG_ROOT, OrgRootState(MGMT), {}, [
        Planned(C, "trusted access for iam.amazonaws.com", fields={}, operation=TrustedAccess()),
        Planned(C, "IAM feature RootCredentialsManagement", fields={}, operation=RootCredentialsManagement()),
        Planned(C, "IAM feature RootSessions", fields={}, operation=org_root_access.RootSessions())]),
    "org-root-access/member-asks-the-management-account": (
        ORG_ROOT, OrgRootState(Standing("member", "o-abc", "999988887777"), features=("RootSessions",)), {},
        [Planned(OP, "organization o-abc", summary=["RootCredentialsManagement", "999988887777"],
                 operation=Features())]),
    # --- member-root-credentials: each deletion typed by its account id -------------------------------------------
    "member-root-credentials/needs-root-sessions": (
        MEMBER_ROOT, MemberRootState(MGMT), {}, [Planned(OP, "root sessions in organization o-abc",
                                                         operation=member_root_credentials.RootSessions())]),
    "member-root-credentials/standalone": (MEMBER_ROOT, MemberRootState(Standing("standalone")), {}, []),
    "member-root-credentials/every-member-clean": (
        MEMBER_ROOT, MemberRootState(MGMT, True, (MemberRoot(MEMBER),)), {}, []),
    "member-root-credentials/deletes-each-typed": (
        MEMBER_ROOT, MemberRootState(MGMT, True, (
            MemberRoot(MEMBER, True, ("AKIAMEMBER0000000000",)),
            MemberRoot(OrgAccount("777788889999", "clean", "ACTIVE")),
            MemberRoot(OrgAccount("222233334444", "", "ACTIVE"), error="AccessDenied"))), {}, [
            Planned(D, "root user credentials of 444455556666 (dev)", confirm_value="444455556666", fields={
                "console password": ("deleted", None), "access keys": ("AKIAMEMBER0000000000: deleted", None)},
                operation=Delete("444455556666", True, ("AKIAMEMBER0000000000",), (), ())),
            Planned(OP, "root user of 222233334444", summary=["AccessDenied"], operation=Audit("222233334444"))]),
}

