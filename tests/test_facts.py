"""Account facts read from moto: typed, complete enough for the controls (and, later, the steps' plans)."""

from __future__ import annotations

import json

from tests.conftest import Account
from tests.starting_states import cloudtrail_may_write
from wizard.facts import read_facts
from wizard.sandbox.root_user import ROOT_NAME, assign_root_mfa
from wizard.secrets import redact_aws_logs

ADMIN_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "support.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def test_facts_describe_the_whole_account(account: Account) -> None:
    redact_aws_logs()  # as the product does before its first call: the raw clients below log MFA seeds
    iam, s3, cloudtrail = account.raw("iam"), account.raw("s3"), account.raw("cloudtrail")
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Facts-only-1!", PasswordResetRequired=True)
    iam.attach_user_policy(UserName="alice", PolicyArn=ADMIN_ACCESS)
    own = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
    iam.put_user_policy(UserName="alice", PolicyName="own", PolicyDocument=json.dumps(own))
    iam.create_group(GroupName="Ops")
    iam.attach_group_policy(GroupName="Ops", PolicyArn=ADMIN_ACCESS)
    iam.add_user_to_group(GroupName="Ops", UserName="alice")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    iam.create_role(RoleName="Support", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="Support", PolicyArn=ADMIN_ACCESS)
    iam.update_account_password_policy(MinimumPasswordLength=20, PasswordReusePrevention=24, RequireSymbols=True)
    assign_root_mfa(iam)
    s3.create_bucket(Bucket="trail-logs")
    trail_arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"
    s3.put_bucket_policy(Bucket="trail-logs", Policy=json.dumps(cloudtrail_may_write("trail-logs", trail_arn)))
    cloudtrail.create_trail(Name="main", S3BucketName="trail-logs", IsMultiRegionTrail=True,
                            EnableLogFileValidation=True)
    cloudtrail.start_logging(Name="main")
    cloudtrail.put_event_selectors(TrailName="main", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])  # moto's new trail has none, AWS's has this
    iam.generate_credential_report()

    facts = read_facts(account.aws(locked=True), account.aws().caller())
    assert facts.unread == {}
    alice = facts.user("alice")
    assert alice is not None and alice.console and alice.password_reset_required is not None
    assert alice.mfa_serials == (serial,) and [p.name for p in alice.attached_policies] == ["AdministratorAccess"]
    assert alice.inline_policies == ("own",) and alice.groups == ("Ops",)
    assert [u.name for u in facts.users] == ["alice"]  # the sandbox's hidden root is no user
    ops = facts.group("Ops")
    assert ops is not None and ops.members == ("alice",) and ops.attached_policies[0].arn == ADMIN_ACCESS
    (role,) = facts.roles
    assert role.name == "Support" and role.trust_policy == TRUST and role.attached_policies[0].arn == ADMIN_ACCESS
    assert facts.password_policy.present and facts.password_policy.minimum_length == 20
    assert facts.summary.root_mfa and facts.summary.root_access_keys
    assert any(d.serial.endswith(":mfa/root-account-mfa-device") for d in facts.virtual_mfa_devices)
    (trail,) = facts.trails
    assert trail.multi_region and trail.is_logging and trail.log_file_validation and trail.logs_management_read_write
    bucket = facts.buckets["trail-logs"]
    assert bucket.in_account and bucket.policy is not None and not bucket.policy_is_public
    assert facts.credential_report.state == "present" and facts.credential_report.root is not None


def test_sandbox_credential_report_has_roots_row_as_aws_writes_it(account: Account) -> None:
    iam = account.raw("iam")
    iam.create_user(UserName="alice")
    iam.generate_credential_report()
    answer = iam.get_credential_report()
    rows = answer["Content"].decode().splitlines()
    assert rows[1].startswith("<root_account>,arn:aws:iam::123456789012:root,")
    fields = dict(zip(rows[0].split(","), rows[1].split(","), strict=True))
    assert fields["password_enabled"] == "not_supported" and fields["password_last_used"] == "no_information"
    assert fields["access_key_1_active"] == "true" and fields["access_key_1_last_used_date"] != "N/A"
    assert not any(r.startswith(f"{ROOT_NAME},") for r in rows)  # the stand-in user is root, not a user
    assert answer["GeneratedTime"].year >= 2026  # when it was generated, not moto's fixed 2015


def test_without_a_credential_report_check_reads_none_and_makes_none(account: Account) -> None:
    facts = read_facts(account.aws(locked=True), account.aws().caller())
    assert facts.credential_report.state == "absent" and "credential report" not in facts.unread


def test_a_fact_denied_is_named_and_the_rest_is_read(account: Account) -> None:
    aws = account.aws(locked=True)

    def deny(**_: object) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "ListRoles")

    aws.client("iam").meta.events.register("before-call.iam.ListRoles", deny)
    facts = read_facts(aws, account.aws().caller())
    assert set(facts.unread) == {"roles"} and "AccessDenied" in facts.unread["roles"]
    assert facts.summary.root_access_keys


def test_guardrail_facts_describe_every_enabled_region(account: Account) -> None:
    from tests.moto_regions import TEST_REGIONS
    from wizard.facts import ALL_USERS

    account.raw("account").put_alternate_contact(AlternateContactType="SECURITY", Name="Sec", Title="Security",
                                                 EmailAddress="sec@example.com", PhoneNumber="+1 555 0100")
    account.raw("s3control").put_public_access_block(AccountId="123456789012", PublicAccessBlockConfiguration={
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True})
    s3 = account.raw("s3")
    s3.create_bucket(Bucket="site")
    s3.put_bucket_ownership_controls(Bucket="site", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_bucket_acl(Bucket="site", ACL="public-read")
    account.raw("ec2", "eu-west-1").enable_ebs_encryption_by_default()
    account.raw("guardduty", "eu-west-1").create_detector(Enable=False)
    account.raw("accessanalyzer", "us-east-1").create_analyzer(analyzerName="theirs", type="ACCOUNT")

    facts = read_facts(account.aws(locked=True), account.aws().caller())
    g = facts.guardrails
    assert facts.unread == {} and g.regions == TEST_REGIONS
    security = g.alternate_contacts["SECURITY"]
    assert security is not None and security.email == "sec@example.com" and g.alternate_contacts["BILLING"] is None
    assert g.primary_contact is not None and g.primary_contact.full_name == "Sandbox Owner"
    assert g.account_public_access_block == {"BlockPublicAcls": False, "IgnorePublicAcls": True,
                                             "BlockPublicPolicy": False, "RestrictPublicBuckets": True}
    site = next(b for b in g.buckets if b.name == "site")
    assert ALL_USERS in site.acl_grantee_uris and g.public_buckets() == {}  # the account ignores public ACLs
    assert g.ebs_encryption == {"eu-west-1": True, "us-east-1": False}
    assert [d.status for d in g.detectors["eu-west-1"]] == ["DISABLED"] and g.detectors["us-east-1"] == ()
    assert [a.name for a in g.analyzers["us-east-1"]] == ["theirs"] and g.analyzers["eu-west-1"] == ()
    for region in TEST_REGIONS:
        (vpc,) = g.default_vpcs[region]
        assert vpc.subnets and len(vpc.internet_gateways) == 1 and not vpc.in_use
    assert g.account_plan is None  # the stand-in's account has no plan: nothing, and nothing unread


def test_a_guardrail_fact_denied_makes_its_control_manual(account: Account) -> None:
    import steps as step_registry
    from wizard.controls import evaluate

    aws = account.aws(locked=True)

    def deny(**_: object) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "ListDetectors")

    for region in ("eu-west-1", "us-east-1"):
        aws.client("guardduty", region).meta.events.register("before-call.guardduty.ListDetectors", deny)
    facts = read_facts(aws, account.aws().caller())
    assert set(facts.unread) == {"guardduty detectors"}
    result = next(r for r in evaluate(facts, step_registry.available()) if r.control.id == "guardduty_is_enabled")
    assert result.status == "MANUAL" and "AccessDenied" in result.verdicts[0].reason
    ebs = next(r for r in evaluate(facts, step_registry.available()) if r.control.id == "ec2_ebs_default_encryption")
    assert ebs.status == "FAIL"  # the other regional facts were read
