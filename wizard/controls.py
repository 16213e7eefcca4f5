"""Which published controls each step covers: the one mapping table, rendered by `aws-harden steps`,
the JSON output and the evidence reports.

CIS AWS Foundations Benchmark numbers for v7.0 and v5.0 differ (v6 moved IAM to section 2 and later
releases dropped a few controls), so both are listed. AWS Security Hub (CSPM) control ids and Prowler
check ids let auditors line our result up with theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

CIS7, CIS5, SECURITY_HUB, PROWLER = "CIS AWS v7.0", "CIS AWS v5.0", "AWS Security Hub", "Prowler"


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str

    def label(self) -> str:
        return f"{self.framework} {self.id}"

    def as_record(self) -> dict[str, str]:
        return {"framework": self.framework, "id": self.id, "title": self.title}


def cis(v7: str, v5: str, title: str) -> tuple[Control, Control]:
    return Control(CIS7, v7, title), Control(CIS5, v5, title)


def hub(control_id: str, title: str) -> Control:
    return Control(SECURITY_HUB, control_id, title)


def prowler(*checks: str) -> tuple[Control, ...]:
    return tuple(Control(PROWLER, check, check) for check in checks)


CONTROLS: dict[str, tuple[Control, ...]] = {
    "admin-user": (
        *cis("2.7", "1.6", "Eliminate use of the 'root' user for administrative and daily tasks"),
        *prowler("iam_avoid_root_usage"),
    ),
    "admin-group": (
        *cis("2.13", "1.14", "Ensure IAM users receive permissions only through groups"),
        hub("IAM.2", "IAM users should not have IAM policies attached"),
        *prowler("iam_policy_attached_only_to_group_or_roles"),
    ),
    "root-access-keys": (
        *cis("2.4", "1.3", "Ensure no 'root' user account access key exists"),
        hub("IAM.4", "IAM root user access key should not exist"),
        *prowler("iam_no_root_access_key"),
    ),
    "password-policy": (
        *cis("2.8", "1.7", "Ensure IAM password policy requires minimum length of 14 or greater"),
        *cis("2.9", "1.8", "Ensure IAM password policy prevents password reuse"),
        hub("IAM.7", "Password policies for IAM users should have strong configurations"),
        hub("IAM.15", "Ensure IAM password policy requires minimum password length of 14 or greater"),
        hub("IAM.16", "Ensure IAM password policy prevents password reuse"),
        *prowler(
            "iam_password_policy_minimum_length_14",
            "iam_password_policy_reuse_24",
            "iam_password_policy_uppercase",
            "iam_password_policy_lowercase",
            "iam_password_policy_number",
            "iam_password_policy_symbol",
        ),
    ),
    "signin-link": (
        *cis("2.7", "1.6", "Eliminate use of the 'root' user for administrative and daily tasks"),
        *prowler("iam_avoid_root_usage"),
    ),
    "user-mfa": (
        *cis("2.10", "1.9", "Ensure MFA is enabled for all IAM users that have a console password"),
        hub("IAM.5", "MFA should be enabled for all IAM users that have a console password"),
        *prowler("iam_user_mfa_enabled_console_access"),
    ),
    "root-mfa": (
        *cis("2.5", "1.4", "Ensure MFA is enabled for the 'root' user account"),
        *cis("2.6", "1.5", "Ensure hardware MFA is enabled for the 'root' user account (informational here)"),
        hub("IAM.9", "MFA should be enabled for the root user"),
        hub("IAM.6", "Hardware MFA should be enabled for the root user"),
        *prowler("iam_root_mfa_enabled", "iam_root_hardware_mfa_enabled"),
    ),
    "cloudtrail": (
        *cis("4.1", "3.1", "Ensure CloudTrail is enabled in all regions"),
        *cis("4.2", "3.2", "Ensure CloudTrail log file validation is enabled"),
        hub("CloudTrail.1", "CloudTrail should be enabled with a multi-Region trail with read and write events"),
        hub("CloudTrail.4", "CloudTrail log file validation should be enabled"),
        hub("CloudTrail.6", "The S3 bucket used to store CloudTrail logs should not be publicly accessible"),
        *prowler(
            "cloudtrail_multi_region_enabled",
            "cloudtrail_log_file_validation_enabled",
            "cloudtrail_logs_s3_bucket_is_not_publicly_accessible",
        ),
    ),
    "billing-report": (),
    "budget-alarm": (),
}


@dataclass(frozen=True)
class AcceptedException:
    """A deliberate deviation from a control: recorded with its reason, never hidden."""

    step_id: str
    controls: tuple[Control, ...]
    resource_answer: tuple[str, str]  # (step id, question key) naming the resource it applies to
    reason: str
    extra_resources: tuple[str, ...] = ()  # other resource ids scanners report the same finding on


ADMIN_GROUP_EXCEPTION = AcceptedException(
    step_id="admin-group",
    controls=(
        *cis("2.14", "1.15", "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached"),
        hub("IAM.1", "IAM policies should not allow full \"*\" administrative privileges"),
        *prowler("iam_aws_attached_policy_no_administrative_privileges", "iam_group_administrator_access_policy"),
    ),
    resource_answer=("admin-group", "name"),
    reason=(
        "The account's first administrators need full access: the guidance this tool follows creates one "
        "group with AdministratorAccess so that nobody works as root. Narrow it once the team's roles are known."
    ),
    extra_resources=("AdministratorAccess",),
)

EXCEPTIONS: tuple[AcceptedException, ...] = (ADMIN_GROUP_EXCEPTION,)


def controls_for(step_id: str) -> tuple[Control, ...]:
    return CONTROLS.get(step_id, ())


def exceptions_for(step_id: str) -> tuple[AcceptedException, ...]:
    return tuple(e for e in EXCEPTIONS if e.step_id == step_id)


def cis_summary(step_id: str) -> str:
    """'CIS v7.0 2.8, 2.9 · v5.0 1.7, 1.8' for the steps table."""
    parts = []
    for framework, short in ((CIS7, "v7.0"), (CIS5, "v5.0")):
        ids = [c.id for c in controls_for(step_id) if c.framework == framework]
        if ids:
            parts.append(f"{short} {', '.join(ids)}")
    return ("CIS " + " · ".join(parts)) if parts else "—"


# OCSF severity ids: 1 informational, 2 low, 3 medium, 4 high, 5 critical.
SEVERITY: dict[str, int] = {
    "admin-user": 3,
    "admin-group": 3,
    "root-access-keys": 5,
    "password-policy": 3,
    "signin-link": 1,
    "user-mfa": 4,
    "root-mfa": 5,
    "cloudtrail": 4,
    "billing-report": 2,
    "budget-alarm": 2,
}
