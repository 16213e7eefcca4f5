"""`metric_filters = true` yields the fifteen CIS monitoring filters, each with CIS's exact pattern and an alarm
on the alerts topic. The table is copied from the CIS AWS Foundations Benchmark v5.0.0 (sections 4.1-4.15,
the remediation's `--filter-pattern`; v7.0.0 numbers them 5.1-5.15 with the same patterns), as Prowler's
compliance/aws/cis_5.0_aws.json and cis_7.0_aws.json quote it."""

from __future__ import annotations

from pathlib import Path

from steps import cloudtrail_policies as docs
from tests.conftest import Account
from tests.test_cloudtrail import applied

CIS_V5 = {
    "4.1": "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && "
           "($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }",
    "4.2": "{ ($.eventName = ConsoleLogin) && ($.additionalEventData.MFAUsed != Yes) }",
    "4.3": "{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }",
    "4.4": "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||"
           "($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||"
           "($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||"
           "($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
           "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||"
           "($.eventName=DetachGroupPolicy)}",
    "4.5": "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
           "($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    "4.6": "{ ($.eventName = ConsoleLogin) && ($.errorMessage = Failed authentication) }",
    "4.7": "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    "4.8": "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) "
           "|| ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = "
           "PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || "
           "($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    "4.9": "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
           "($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||"
           "($.eventName=PutConfigurationRecorder)) }",
    "4.10": "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
            "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
            "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) || "
            "($.eventName = ModifySecurityGroupRules) }",
    "4.11": "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = "
            "DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) "
            "|| ($.eventName = ReplaceNetworkAclAssociation) }",
    "4.12": "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = "
            "AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = "
            "DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    "4.13": "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || "
            "($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = "
            "DeleteRoute) || ($.eventName = DisassociateRouteTable) }",
    "4.14": "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || "
            "($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || "
            "($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || "
            "($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = "
            "DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    "4.15": "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || ($.eventName = "
            "AttachPolicy) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || "
            "($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) "
            "|| ($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = "
            "DetachPolicy) || ($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || "
            "($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || ($.eventName = "
            "MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdatePolicy) || "
            "($.eventName = UpdateOrganizationalUnit)) }",
}  # fmt: skip


def test_the_fifteen_filters_are_cis_section_by_section() -> None:
    assert len(docs.METRIC_FILTERS) == 15
    by_section = {spec.cis.split()[1]: spec for spec in docs.METRIC_FILTERS}
    assert sorted(by_section, key=lambda s: int(s.split(".")[1])) == list(CIS_V5)
    for section, pattern in CIS_V5.items():
        spec = by_section[section]
        assert spec.pattern == pattern, section
        assert spec.cis == f"v5.0 {section} / v7.0 5.{section.split('.')[1]}", section
    assert len({spec.name for spec in docs.METRIC_FILTERS}) == 15


def test_metric_filters_true_yields_fifteen_filters_and_alarms_on_the_alerts_topic(
    account: Account, tmp_path: Path
) -> None:
    applied(tmp_path, 'alerts_email = "ops@example.com"\nmetric_filters = true\n')
    filters = account.raw("logs").describe_metric_filters(logGroupName=docs.LOG_GROUP)["metricFilters"]
    assert sorted(f["filterPattern"] for f in filters) == sorted(CIS_V5.values())
    alarms = account.raw("cloudwatch").describe_alarms(AlarmNamePrefix="aws-harden-")["MetricAlarms"]
    topic = f"arn:aws:sns:us-east-1:{account.raw('sts').get_caller_identity()['Account']}:aws-harden-alerts"
    assert len(alarms) == 15
    for alarm in alarms:  # CIS's alarm: Sum over 300 s, threshold 1, one period, to the SNS topic
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"], alarm["EvaluationPeriods"]) == (
            "Sum", 300, 1.0, 1), alarm["AlarmName"]
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["AlarmActions"] == [topic]
    assert {a["MetricName"] for a in alarms} == {f["metricTransformations"][0]["metricName"] for f in filters}
