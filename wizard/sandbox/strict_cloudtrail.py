"""CloudTrail as strict as AWS where the wizard relies on it and moto checks nothing.

moto's CreateTrail and UpdateTrail take any bucket, key and role; AWS checks each against what CloudTrail
will do with it and refuses the call. Installed in the sandbox and the test fixtures (wizard/sandbox/strict.py),
this patch makes moto refuse the same calls, with the error codes of botocore's CloudTrail model:

- InsufficientS3BucketPolicyException: the bucket policy must let cloudtrail.amazonaws.com call
  s3:GetBucketAcl on the bucket and s3:PutObject on `[prefix/]AWSLogs/<account>/*` with the ACL
  bucket-owner-full-control, for this trail's aws:SourceArn and aws:SourceAccount (CloudTrail User Guide,
  "Amazon S3 bucket policy for CloudTrail",
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html).
- InsufficientEncryptionPolicyException: with KmsKeyId, the key policy must let cloudtrail.amazonaws.com call
  kms:GenerateDataKey* (encryption context aws:cloudtrail:arn = the trail) and kms:DescribeKey, and, when
  the bucket has an S3 Bucket Key (BucketKeyEnabled), kms:Decrypt: "If you are using an existing S3 bucket
  with an S3 Bucket Key, kms:Decrypt permissions are required to create or update a trail with SSE-KMS
  encryption enabled" (CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail",
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
- InvalidCloudWatchLogsLogGroupArnException / InvalidCloudWatchLogsRoleArnException: the log group must exist
  in the account, and the role must exist, trust cloudtrail.amazonaws.com for sts:AssumeRole and allow
  logs:CreateLogStream and logs:PutLogEvents on the trail's log stream in that group ("Sending events to
  CloudWatch Logs" and "Role policy document for CloudTrail to use CloudWatch Logs for monitoring",
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html).
  The trust policy is evaluated with no condition keys in the request: AWS documents none that CloudTrail
  sends when it assumes the role, so a trust policy that needs one (aws:SourceAccount, say) is refused.

UpdateTrail checks only what it is given (a bucket, a key, a log group), as AWS validates the settings a
call changes. Also modelled:
- A trail created without event selectors records all read and write management events: "By default, trails
  created without specific event selectors will be configured to log all read and write management events"
  (botocore's CloudTrail model, EventSelector). moto gives such a trail none.
- Organization trails seen from a member account: DescribeTrails (shadow trails included) lists the
  management account's organization trails, as AWS does; GetTrailStatus and GetEventSelectors on such a
  trail's ARN fail with TrailNotFoundException, the failure a member account meets (aws-harden issue 12;
  botocore's GetTrailStatus documentation says a member must pass the full ARN, and this world takes the
  stricter reading so the wizard is proven to cope with the refusal).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from wizard.sandbox.strict_policy import Request, allows, statements

CLOUDTRAIL = "cloudtrail.amazonaws.com"
DEFAULT_SELECTORS = [
    {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}
]
_installed = False


def bucket_policy_problem(
    policy: Any, bucket: str, prefix: str | None, account: str, trail_arn: str, partition: str = "aws"
) -> str | None:
    """Why CloudTrail may not deliver to this bucket under `policy`, or None when it may."""
    context = {"aws:SourceArn": trail_arn, "aws:SourceAccount": account, "aws:SecureTransport": "true"}
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    folder = f"{prefix.strip('/')}/" if prefix else ""
    key = f"{bucket_arn}/{folder}AWSLogs/{account}/CloudTrail/us-east-1/example.json.gz"
    if policy is None:
        return f"the bucket {bucket} has no bucket policy"
    if not allows(policy, Request(CLOUDTRAIL, "s3:GetBucketAcl", bucket_arn, context)):
        return f"the policy of bucket {bucket} does not let CloudTrail call s3:GetBucketAcl for {trail_arn}"
    write = {**context, "s3:x-amz-acl": "bucket-owner-full-control"}
    if not allows(policy, Request(CLOUDTRAIL, "s3:PutObject", key, write)):
        return f"the policy of bucket {bucket} does not let CloudTrail write {folder}AWSLogs/{account}/ for {trail_arn}"
    return None


def key_policy_problem(policy: Any, key_arn: str, account: str, trail_arn: str, bucket_key: bool) -> str | None:
    """Why CloudTrail may not use this KMS key for the trail, or None when it may."""
    context = {"aws:SourceArn": trail_arn, "aws:SourceAccount": account}
    encrypt = {**context, "kms:EncryptionContext:aws:cloudtrail:arn": trail_arn}
    if not allows(policy, Request(CLOUDTRAIL, "kms:GenerateDataKey", key_arn, encrypt)):
        return "the key policy does not let CloudTrail call kms:GenerateDataKey* for this trail"
    if not allows(policy, Request(CLOUDTRAIL, "kms:DescribeKey", key_arn, context)):
        return "the key policy does not let CloudTrail call kms:DescribeKey"
    if bucket_key and not allows(policy, Request(CLOUDTRAIL, "kms:Decrypt", key_arn, context)):
        return "the bucket has an S3 Bucket Key and the key policy does not let CloudTrail call kms:Decrypt"
    return None


def logs_role_problem(trust: Any, policies: list[Any], group_arn: str, account: str, region: str) -> str | None:
    """Why CloudTrail may not deliver to the log group through this role, or None when it may."""
    if not allows(trust, Request(CLOUDTRAIL, "sts:AssumeRole", "*", {})):
        return "the role's trust policy does not let cloudtrail.amazonaws.com assume it"
    stream = f"{group_arn.removesuffix(':*')}:log-stream:{account}_CloudTrail_{region}"
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        # Identity policies name no principal: evaluate each statement as if it named CloudTrail.
        granted = [dict(s, Principal={"Service": CLOUDTRAIL}) for p in policies for s in statements(p)]
        if not allows({"Statement": granted}, Request(CLOUDTRAIL, action, stream)):
            return f"the role's policies do not allow {action} on {stream}"
    return None


def install() -> None:
    """Patch moto's CloudTrail backend in this process. Idempotent."""
    global _installed
    if _installed:
        return
    from moto.cloudtrail import exceptions as cx
    from moto.cloudtrail.models import CloudTrailBackend, Trail, cloudtrail_backends
    from moto.core.exceptions import JsonRESTError

    class Refused(JsonRESTError):
        code = 400

    create, update = CloudTrailBackend.create_trail, CloudTrailBackend.update_trail
    describe, status, selectors = (
        CloudTrailBackend.describe_trails, CloudTrailBackend.get_trail_status, CloudTrailBackend.get_event_selectors
    )  # fmt: skip
    trail_init = Trail.__init__

    def checked(backend: CloudTrailBackend, arn: str, bucket: str | None, prefix: str | None,
                kms_key: str | None, group_arn: str | None, role_arn: str | None) -> None:
        partition = arn.split(":")[1]
        found = _bucket(bucket, backend.account_id, partition) if bucket else None
        if bucket and found is not None:
            problem = bucket_policy_problem(found.policy and found.policy.decode(), bucket, prefix,
                                            backend.account_id, arn, partition)
            if problem:
                raise Refused("InsufficientS3BucketPolicyException", f"Incorrect S3 bucket policy is detected for "
                              f"bucket: {bucket} ({problem})")
        if kms_key:
            from moto.kms.models import kms_backends

            try:
                key = kms_backends[backend.account_id][backend.region_name].describe_key(kms_key)
            except Exception:
                raise Refused("KmsKeyNotFoundException", f"KMS key {kms_key} not found") from None
            if bucket is None:  # UpdateTrail without a bucket: the trail's own
                bucket = backend.get_trail(arn).bucket_name
                found = _bucket(bucket, backend.account_id, partition)
            problem = key_policy_problem(key.policy, key.arn, backend.account_id, arn, _bucket_key(found))
            if problem:
                raise Refused("InsufficientEncryptionPolicyException",
                              f"Insufficient permissions to access S3 bucket {bucket} or KMS key {key.arn} ({problem})")
        if group_arn or role_arn:
            _check_logs(backend, arn, group_arn, role_arn, Refused)

    def create_trail(self: CloudTrailBackend, name: str, bucket_name: str, s3_key_prefix: str, *args: Any,
                     **kwargs: Any) -> Any:
        # The positional order of moto's create_trail: ..., is_org_trail, cw_log_group_arn, cw_role_arn, kms_key_id
        values = dict(zip(("sns_topic_name", "is_global", "is_multi_region", "log_validation", "is_org_trail",
                           "cw_log_group_arn", "cw_role_arn", "kms_key_id", "tags_list"), args, strict=False))
        values.update(kwargs)
        arn = f"arn:{_partition(self.region_name)}:cloudtrail:{self.region_name}:{self.account_id}:trail/{name}"
        if name not in self.trails:
            checked(self, arn, bucket_name, s3_key_prefix, values.get("kms_key_id"),
                    values.get("cw_log_group_arn"), values.get("cw_role_arn"))
        return create(self, name, bucket_name, s3_key_prefix, *args, **kwargs)

    def update_trail(self: CloudTrailBackend, name: str, s3_bucket_name: str, s3_key_prefix: str,
                     *args: Any, **kwargs: Any) -> Any:
        values = dict(zip(("sns_topic_name", "include_global_service_events", "is_multi_region_trail",
                           "enable_log_file_validation", "is_organization_trail", "cw_log_group_arn",
                           "cw_role_arn", "kms_key_id"), args, strict=False))
        values.update(kwargs)
        trail = self.get_trail(name)
        checked(self, trail.arn, s3_bucket_name, s3_key_prefix if s3_bucket_name else None,
                values.get("kms_key_id"), values.get("cw_log_group_arn"), values.get("cw_role_arn"))
        return update(self, name, s3_bucket_name, s3_key_prefix, *args, **kwargs)

    def describe_trails(self: CloudTrailBackend, include_shadow_trails: bool) -> Any:
        found = list(describe(self, include_shadow_trails))
        if include_shadow_trails:
            found += _organization_trails(self, cloudtrail_backends)
        return found

    def own_only(call: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(self: CloudTrailBackend, *args: Any, **kwargs: Any) -> Any:
            name = str(args[0] if args else next(iter(kwargs.values())))
            if name.startswith("arn:") and name.split(":")[4] != self.account_id:
                raise cx.TrailNotFoundException(account_id=self.account_id, name=name)
            return call(self, *args, **kwargs)

        return guarded

    def init_with_default_selectors(trail: Trail, *args: Any, **kwargs: Any) -> None:
        trail_init(trail, *args, **kwargs)
        trail.event_selectors = json.loads(json.dumps(DEFAULT_SELECTORS))

    CloudTrailBackend.create_trail = create_trail  # type: ignore[method-assign]
    CloudTrailBackend.update_trail = update_trail  # type: ignore[method-assign]
    CloudTrailBackend.describe_trails = describe_trails  # type: ignore[method-assign]
    CloudTrailBackend.get_trail_status = own_only(status)  # type: ignore[method-assign]
    CloudTrailBackend.get_event_selectors = own_only(selectors)  # type: ignore[method-assign]
    Trail.__init__ = init_with_default_selectors  # type: ignore[method-assign, assignment]
    _installed = True


def _partition(region: str) -> str:
    from moto.utilities.utils import get_partition

    return str(get_partition(region))


def _bucket(name: str | None, account: str, partition: str) -> Any:
    """The bucket, in this account or another (a central log bucket); None when it exists nowhere."""
    from moto.s3.models import s3_backends

    if not name:
        return None
    for owner in [account, *(a for a in list(s3_backends) if a != account)]:
        bucket = s3_backends[owner][partition].buckets.get(name)
        if bucket is not None:
            return bucket
    return None


def _bucket_key(bucket: Any) -> bool:
    rule = ((getattr(bucket, "encryption", None) or {}).get("Rule")) or {}
    rules = rule if isinstance(rule, list) else [rule]
    return any(str(r.get("BucketKeyEnabled", "false")).lower() == "true" for r in rules)


def _check_logs(backend: Any, arn: str, group_arn: str | None, role_arn: str | None, refused: Any) -> None:
    from moto.iam.models import iam_backends
    from moto.logs.models import logs_backends

    if not group_arn or not role_arn:
        raise refused("InvalidParameterCombinationException",
                      "CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn are given together")
    parts = group_arn.split(":")
    if len(parts) < 7 or parts[4] != backend.account_id or parts[6] not in logs_backends[parts[4]][parts[3]].groups:
        raise refused("InvalidCloudWatchLogsLogGroupArnException", f"Access denied. Check the log group {group_arn}")
    iam = iam_backends[backend.account_id][arn.split(":")[1]]
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception:
        raise refused("InvalidCloudWatchLogsRoleArnException", f"Access denied. Check the role {role_arn}") from None
    policies: list[Any] = list(role.policies.values())
    policies += [v.document for p in role.managed_policies.values() for v in p.versions if v.is_default]
    problem = logs_role_problem(role.assume_role_policy_document, policies, group_arn, backend.account_id, parts[3])
    if problem:
        raise refused("InvalidCloudWatchLogsRoleArnException",
                      f"Access denied. Verify in IAM that the role has adequate permissions ({problem})")


def _organization_trails(backend: Any, backends: Any) -> list[Any]:
    """The organization trails a member account sees: those of its organization's management account."""
    from moto.organizations.models import organizations_backends

    management = organizations_backends.master_accounts.get(backend.account_id)
    if management is None or management[0] == backend.account_id:
        return []
    found = []
    for region_backend in dict.values(backends[management[0]]):
        for trail in region_backend.trails.values():
            if trail.is_org_trail and (trail.is_multi_region or trail.region_name == backend.region_name):
                found.append(trail)
    return found
