"""The small catalogue of least-privilege access the team steps offer: one group each, AWS managed policies only.

A team member joins one of these groups (team-users); a role another account assumes gets the same access
(delegation-roles). Every group also holds IAMUserChangePassword: a new user must set a new password at the
first sign-in, which needs iam:ChangePassword on itself (IAM User Guide, "Permissions for changing
passwords"), whatever the account's password policy says. AdministratorAccess is in none of them: the admin
group (admin-group) stays the only one with it.

There is no AWS managed policy that lets users manage their own MFA device, so these groups cannot enroll
their own: the user-mfa step enrolls them at the keyboard, or an administrator does in the IAM console.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.protocol import AnswerValue

SELF_SERVICE = "IAMUserChangePassword"


@dataclass(frozen=True)
class Access:
    name: str  # the group's name
    policies: tuple[str, ...]  # AWS managed policies, by their path under arn:aws:iam::aws:policy/
    purpose: str
    assumes_roles: bool = False  # its policies allow sts:AssumeRole (so its members can use the support role)

    def group_policy_arns(self, partition: str) -> tuple[str, ...]:
        return tuple(policy_arn(partition, p) for p in (*self.policies, SELF_SERVICE))

    def role_policy_arns(self, partition: str) -> tuple[str, ...]:
        """A role has no password to change: the access policies only."""
        return tuple(policy_arn(partition, p) for p in self.policies)


CATALOGUE: tuple[Access, ...] = (
    Access("ReadOnly", ("ReadOnlyAccess",), "read every resource, change nothing"),
    Access("Developers", ("PowerUserAccess",), "everything but IAM, Organizations and account settings",
           assumes_roles=True),
    Access("Billing", ("job-function/Billing",), "billing, costs and budgets"),
    Access("SecurityAudit", ("SecurityAudit",), "read the security configuration of every service"),
)
BY_NAME = {a.name: a for a in CATALOGUE}
NAMES = tuple(a.name for a in CATALOGUE)


def policy_arn(partition: str, path: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{path}"


def policy_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def access_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or value not in BY_NAME:
        return f"unknown group {value!r} (one of {', '.join(NAMES)})"
    return None
