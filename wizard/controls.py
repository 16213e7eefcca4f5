"""Which published controls each step covers: the one mapping table, rendered by `aws-harden steps`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str

    def label(self) -> str:
        return f"{self.framework} {self.id}"


def cis(v7: str, v5: str, title: str) -> tuple[Control, Control]:
    return (
        Control("CIS AWS v7.0", v7, title),
        Control("CIS AWS v5.0", v5, title),
    )


CONTROLS: dict[str, tuple[Control, ...]] = {
    "admin-user": cis("2.7", "1.6", "Eliminate use of the 'root' user for administrative and daily tasks"),
    "admin-group": cis("2.15", "1.14", "Ensure IAM users receive permissions only through groups"),
    "root-access-keys": cis("2.4", "1.3", "Ensure no 'root' user account access key exists"),
    "password-policy": (
        *cis("2.8", "1.7", "Ensure IAM password policy requires minimum length of 14 or greater"),
        *cis("2.9", "1.8", "Ensure IAM password policy prevents password reuse"),
    ),
    "signin-link": cis("2.7", "1.6", "Eliminate use of the 'root' user for administrative and daily tasks"),
    "user-mfa": cis(
        "2.10", "1.9", "Ensure MFA is enabled for all IAM users that have a console password"
    ),
    "root-mfa": (
        *cis("2.5", "1.4", "Ensure MFA is enabled for the 'root' user account"),
        *cis("2.6", "1.5", "Ensure hardware MFA is enabled for the 'root' user account"),
    ),
    "cloudtrail": (
        *cis("4.1", "3.1", "Ensure CloudTrail is enabled in all regions"),
        *cis("4.2", "3.2", "Ensure CloudTrail log file validation is enabled"),
    ),
    "billing-report": (),
    "budget-alarm": (),
}


def controls_for(step_id: str) -> tuple[Control, ...]:
    return CONTROLS.get(step_id, ())
