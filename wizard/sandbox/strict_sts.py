"""STS as strict as AWS where the organization fan-out relies on it: AssumeRole needs the role and its trust.

moto's AssumeRole hands out credentials for any role ARN, existing or not ("Note that the role does not need to
exist", moto/sts/models.py), so an account whose OrganizationAccountAccessRole is missing would look reachable.
AWS refuses with AccessDenied, "User: <caller> is not authorized to perform: sts:AssumeRole on resource: <role>",
when the role does not exist or its trust policy does not trust the caller: "To assume a role from a different
account, your Amazon Web Services account must be trusted by the role. The trust relationship is defined in the
role's trust policy" (STS API Reference, AssumeRole, as in botocore's sts model; IAM User Guide, "Troubleshoot
IAM roles", https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_roles.html). This patch makes moto
refuse the same way: the role must exist in the account its ARN names, and its trust policy must allow
sts:AssumeRole for the caller (its ARN, its account, or everyone), evaluated by strict_policy with no condition
keys in the request (a trust policy that needs one, MFA say, is refused: this world sends none).

The root user cannot assume a role at all: "Roles can be used by the following: an IAM user in the same AWS
account as the role, an IAM user in a different AWS account than the role, a web service offered by AWS, an
external user authenticated by an external identity provider" (IAM User Guide, "Roles terms and concepts",
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html), and AWS answers root's AssumeRole with
AccessDenied "Roles may not be assumed by root accounts."; so does this world.

The caller's own permission to call sts:AssumeRole (its identity policies) is not evaluated: moto evaluates no
identity policy unless its IAM enforcement is turned on.
"""

from __future__ import annotations

from typing import Any

from wizard.sandbox.strict_policy import Request, allows

_installed = False


def trust_problem(trust_policy: Any, role_arn: str, caller_arn: str, caller_account: str) -> str | None:
    """Why AWS would refuse this caller sts:AssumeRole on the role, or None when the trust policy allows it."""
    request = Request("", "sts:AssumeRole", role_arn, aws_caller=(caller_arn, caller_account))
    if allows(trust_policy, request):
        return None
    return f"the trust policy of {role_arn} does not allow {caller_arn} to assume it"


def install() -> None:
    """Patch moto's STS responses in this process. Idempotent."""
    global _installed
    if _installed:
        return
    from moto.core.exceptions import AccessDeniedError
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    from moto.sts.responses import TokenResponse
    from moto.utilities.utils import get_partition

    class Refused(AccessDeniedError):  # 403 AccessDenied with AWS's message
        def __init__(self, message: str) -> None:
            super(AccessDeniedError, self).__init__("AccessDenied", message)

    original = TokenResponse.assume_role

    def assume_role(self: TokenResponse) -> Any:
        role_arn = str(self._get_param("RoleArn") or "")
        parts = role_arn.split(":")
        partition = get_partition(self.region)
        _, caller_arn, caller_account = sts_backends[self.current_account][partition].get_caller_identity(
            self.get_access_key(), self.region)
        if str(caller_arn).endswith(":root"):
            raise Refused("Roles may not be assumed by root accounts.")
        denied = Refused(f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
        if len(parts) < 6 or not parts[5].startswith("role/"):
            raise denied
        try:
            role = iam_backends[parts[4]][partition].get_role_by_arn(role_arn)
        except Exception:
            raise denied from None
        if trust_problem(role.assume_role_policy_document, role_arn, caller_arn, str(caller_account)):
            raise denied
        return original(self)

    TokenResponse.assume_role = assume_role  # type: ignore[method-assign]
    _installed = True
