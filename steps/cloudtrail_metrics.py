"""The fifteen CIS monitoring metric filters, each with CIS's own filter pattern and its alarm.

CIS AWS Foundations Benchmark v5.0.0 sections 4.1-4.15 (v7.0.0: 5.1-5.15, the same text): for each, "Create a
metric filter based on the provided filter pattern", then an alarm (Sum over 300 s, threshold 1,
GreaterThanOrEqualToThreshold, one evaluation period) that notifies an SNS topic. The patterns below are the
benchmark's remediation patterns verbatim (as Prowler's compliance/aws/cis_5.0_aws.json and cis_7.0_aws.json
quote them); tests/test_cloudtrail_metrics.py holds them against a table copied from the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricFilterSpec:
    name: str  # the filter, its metric and (prefixed) its alarm
    cis: str  # "v5.0 4.N / v7.0 5.N"
    pattern: str
    description: str


def _any_event(*names: str) -> str:
    return " || ".join(f"($.eventName = {n})" for n in names)


METRIC_NAMESPACE = "aws-harden/CloudTrail"
METRIC_FILTERS: tuple[MetricFilterSpec, ...] = (
    MetricFilterSpec(
        "UnauthorizedAPICalls", "v5.0 4.1 / v7.0 5.1",
        "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && "
        "($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }",
        "API calls were refused",
    ),
    MetricFilterSpec(
        "ConsoleSignInWithoutMFA", "v5.0 4.2 / v7.0 5.2",
        "{ ($.eventName = ConsoleLogin) && ($.additionalEventData.MFAUsed != Yes) }",
        "someone signed in to the console without MFA",
    ),
    MetricFilterSpec(
        "RootAccountUsage", "v5.0 4.3 / v7.0 5.3",
        "{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }",
        "the root user was used (console sign-in or API call, in any region)",
    ),
    MetricFilterSpec(
        "IAMPolicyChanges", "v5.0 4.4 / v7.0 5.4",
        "{" + "||".join(f"($.eventName={n})" for n in (
            "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
            "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
            "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy",
            "DetachGroupPolicy")) + "}",
        "an IAM policy changed",
    ),
    MetricFilterSpec(
        "CloudTrailChanges", "v5.0 4.5 / v7.0 5.5",
        "{ " + _any_event("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging") + " }",
        "a CloudTrail trail was created, changed, started, stopped or deleted",
    ),
    MetricFilterSpec(
        "ConsoleAuthenticationFailures", "v5.0 4.6 / v7.0 5.6",
        "{ ($.eventName = ConsoleLogin) && ($.errorMessage = Failed authentication) }",
        "a console sign-in failed",
    ),
    MetricFilterSpec(
        "DisableOrDeleteKMSKeys", "v5.0 4.7 / v7.0 5.7",
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
        "a KMS key was disabled or scheduled for deletion",
    ),
    MetricFilterSpec(
        "S3BucketPolicyChanges", "v5.0 4.8 / v7.0 5.8",
        "{ ($.eventSource = s3.amazonaws.com) && (" + _any_event(
            "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
            "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication") + ") }",
        "an S3 bucket policy, ACL, CORS, lifecycle or replication setting changed",
    ),
    MetricFilterSpec(
        "AWSConfigChanges", "v5.0 4.9 / v7.0 5.9",
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
        "($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||"
        "($.eventName=PutConfigurationRecorder)) }",
        "the AWS Config recorder or delivery channel changed",
    ),
    MetricFilterSpec(
        "SecurityGroupChanges", "v5.0 4.10 / v7.0 5.10",
        "{ " + _any_event(
            "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
            "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup", "ModifySecurityGroupRules",
        ) + " }",
        "a security group changed",
    ),
    MetricFilterSpec(
        "NACLChanges", "v5.0 4.11 / v7.0 5.11",
        "{ " + _any_event(
            "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation") + " }",
        "a network ACL changed",
    ),
    MetricFilterSpec(
        "NetworkGatewayChanges", "v5.0 4.12 / v7.0 5.12",
        "{ " + _any_event(
            "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway",
            "DeleteInternetGateway", "DetachInternetGateway") + " }",
        "a network gateway changed",
    ),
    MetricFilterSpec(
        "RouteTableChanges", "v5.0 4.13 / v7.0 5.13",
        "{ " + _any_event(
            "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable",
            "DeleteRoute", "DisassociateRouteTable") + " }",
        "a route table changed",
    ),
    MetricFilterSpec(
        "VPCChanges", "v5.0 4.14 / v7.0 5.14",
        "{ " + _any_event(
            "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
            "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
            "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink") + " }",
        "a VPC or VPC peering changed",
    ),
    MetricFilterSpec(
        "OrganizationsChanges", "v5.0 4.15 / v7.0 5.15",
        "{ ($.eventSource = organizations.amazonaws.com) && (" + _any_event(
            "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy",
            "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy",
            "DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization",
            "MoveAccount", "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit") + ") }",
        "AWS Organizations changed (accounts, units, policies, handshakes)",
    ),
)
ROOT_USAGE = "RootAccountUsage"  # the filter that sees the root user in every region (a multi-region trail)
