"""Root MFA: only the root user can assign it, in the console, so the wizard guides and then verifies.

GetAccountSummary's AccountMFAEnabled answers for any caller allowed to read IAM (the admin too), and
ListVirtualMFADevices shows whether root's device is a virtual one (CIS 2.6 asks for hardware).
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard import facts
from wizard.aws import Aws
from wizard.protocol import Action, ApplyContext, Change, ConsoleTask, Finding, Step, StepContext

SECURITY_CREDENTIALS_URL = "https://console.aws.amazon.com/iam/home#/security_credentials"


@dataclass(frozen=True)
class RootMfaState:
    enabled: bool
    virtual_serials: tuple[str, ...] = ()  # root's assigned virtual devices, when any


@dataclass(frozen=True)
class AssignRootMfa(ConsoleTask):
    """Only root, signed in, can assign its own MFA device."""


class RootMfa(Step[RootMfaState]):
    id = "root-mfa"
    title = "MFA on the root user"
    remediates = ("iam_root_mfa_enabled",)  # not iam_root_hardware_mfa_enabled: a virtual device satisfies this step
    checks = "the root user has MFA (assigned in the console, verified here); reports whether it is virtual"
    writes = frozenset()
    reads = frozenset({"iam:GetAccountSummary", "iam:ListVirtualMFADevices"})
    sandbox_writes = frozenset({"iam:CreateVirtualMFADevice", "iam:EnableMFADevice"})

    def inspect(self, aws: Aws, ctx: StepContext) -> RootMfaState:
        """The facts the root MFA controls evaluate (wizard/facts.py): the account summary, then, with MFA
        on, the assigned virtual devices."""
        if not facts.read_summary(aws).root_mfa:
            return RootMfaState(False)
        devices = facts.read_virtual_mfa_devices(aws)
        return RootMfaState(True, tuple(d.serial for d in devices if facts.is_root_device(d, ctx.caller.account)))

    def findings(self, state: RootMfaState, ctx: StepContext) -> list[Finding]:
        if not state.enabled:
            return [Finding("root user: no MFA (AccountMFAEnabled = 0)", observed={"AccountMFAEnabled": 0})]
        if state.virtual_serials:
            return [
                Finding(
                    f"root user: MFA on, a virtual device ({', '.join(state.virtual_serials)}); "
                    "CIS 2.6 recommends "
                    "a hardware device or security key for root (informational)",
                    observed={"AccountMFAEnabled": 1, "root_virtual_devices": list(state.virtual_serials)},
                )
            ]
        return [
            Finding(
                "root user: MFA on, not a virtual device (a hardware device, security key or passkey)",
                observed={"AccountMFAEnabled": 1, "root_virtual_devices": []},
            )
        ]

    def plan(self, state: RootMfaState, ctx: StepContext) -> list[Change]:
        if state.enabled:
            return []
        return [
            Change(
                Action.OPERATOR,
                AssignRootMfa(),
                "MFA for the root user",
                "assign an MFA device to the root user in the console",
                instructions=(
                    "1. Sign in as the root user (choose 'Root user', then the account's email address).",
                    "2. Open the account menu (top right) > Security credentials.",
                    "3. Under 'Multi-factor authentication (MFA)', choose 'Assign MFA device'.",
                    "4. For root, prefer a passkey or security key (FIDO); an authenticator app also works.",
                    "5. Follow the prompts; keep the device (or a second one) somewhere safe for recovery.",
                ),
                url=SECURITY_CREDENTIALS_URL,
            )
        ]

    def sandbox_operator(self, aws: Aws, change: Change, ctx: ApplyContext) -> None:
        from wizard.sandbox.root_user import assign_root_mfa

        assign_root_mfa(aws.client("iam"))


STEP = RootMfa()
