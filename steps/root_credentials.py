"""Store the root user's credentials securely: the guidance's last lockdown step.

What can be read is verified and shown: root's MFA and access keys (GetAccountSummary; the root-mfa and
root-access-keys steps change them), how many MFA devices root has (AWS allows up to eight per user and
recommends a second one kept apart, for when the first is lost), and the account's primary contact
(account:GetContactInformation), for the operator to confirm it is current. What cannot be read (where the
root password lives, who reads the root email) is a short checklist the operator confirms; the confirmation
is recorded with the time in the journal and shown as MANUAL evidence, never as verified. The step is
compliant once a confirmation of the last year is on record here: a confirmation made on another machine is
not seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from wizard.aws import Aws
from wizard.facts import (
    AccountSummary,
    PrimaryContact,
    is_root_device,
    read_guardrails,
    read_summary,
    read_virtual_mfa_devices,
)
from wizard.protocol import Action, ApplyContext, Change, Finding, Operation, Question, Step, StepContext

CHECKLIST = (
    "The root user's password is in a password manager, or sealed in a place only the people responsible "
    "can open, and is not written anywhere else.",
    "The root user's email address is a mailbox more than one person can reach (a group or distribution "
    "list), so a password reset or an AWS notice is never lost with one person.",
    "Root's MFA device (and a second one, kept apart) is stored as safely as the password.",
    "The account's primary contact shown above is current (console: account menu > Account > Contact "
    "information).",
)
CONFIRM_WORD = "confirmed"
REVIEW_EVERY = timedelta(days=365)  # a year-old confirmation is asked again (people and mailboxes change)
MFA_DEVICES_LIMIT = 8  # per user, root included (IAM User Guide, "IAM and AWS STS quotas")


@dataclass(frozen=True)
class Confirmation:
    time: datetime
    caller: str


@dataclass(frozen=True)
class RootCredentialsState:
    summary: AccountSummary
    root_devices: int | None  # None: not readable (only root can list root's devices)
    root_virtual_devices: int
    primary_contact: PrimaryContact | None
    confirmed: Confirmation | None
    now: datetime

    @property
    def current(self) -> bool:
        return self.confirmed is not None and self.now - self.confirmed.time < REVIEW_EVERY


def last_confirmation(entries: Sequence[Mapping[str, Any]]) -> Confirmation | None:
    """The newest journaled confirmation of the checklist (a change this step applied)."""
    found = None
    for e in entries:
        change = e.get("change") or {}
        if e.get("result") == "ok" and change.get("key") == RecordChecklist().key:
            try:
                found = Confirmation(datetime.fromisoformat(str(e["time"])), str(e.get("caller", "")))
            except (KeyError, ValueError):
                continue
    return found


@dataclass(frozen=True)
class RecordChecklist(Operation):
    """Nothing goes to AWS: the engine journals the confirmed change with the time (the MANUAL evidence)."""

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        ctx.output("root credentials checklist", "confirmed by the operator (MANUAL evidence, not verified); "
                   f"recorded at {datetime.now(UTC).isoformat(timespec='seconds')}")


class RootCredentials(Step[RootCredentialsState]):
    id = "root-credentials"
    title = "Root credentials stored securely"
    remediates = ()  # CIS 2.2 (contact details) stays MANUAL: a person confirms it, aws-harden records that
    checks = ("root's MFA devices and keys and the primary contact shown; the operator's checklist (password "
              "stored safely, root email reachable by more than one person) confirmed and journaled")
    writes = frozenset()
    reads = frozenset({"iam:GetAccountSummary", "iam:ListMFADevices", "iam:ListVirtualMFADevices",
                       "account:GetContactInformation"})

    def questions(self) -> Sequence[Question]:
        return (Question("checklist_confirmed", "The root credentials checklist is done", default=False,
                         kind="confirm", prompted=False,
                         help="answers file only (for --yes); at a prompt you type 'confirmed'"),)

    def inspect(self, aws: Aws, ctx: StepContext) -> RootCredentialsState:
        iam = aws.client("iam")
        as_root = ctx.caller.kind == "root"
        summary, devices, own, facts = aws.parallel(
            lambda: read_summary(aws),
            lambda: read_virtual_mfa_devices(aws),
            # Without UserName, ListMFADevices lists the signer's own devices: root's, when root signs.
            lambda: len(iam.list_mfa_devices()["MFADevices"]) if as_root else None,
            lambda: read_guardrails(aws, ctx.caller, only=("primary contact",), strict=True),
        )
        virtual = sum(1 for d in devices if is_root_device(d, ctx.caller.account))
        return RootCredentialsState(summary, own, virtual, facts.primary_contact, last_confirmation(ctx.journal()),
                                    datetime.now(UTC))

    def findings(self, state: RootCredentialsState, ctx: StepContext) -> list[Finding]:
        s = state.summary
        found = []
        if s.root_mfa:
            if state.root_devices is not None:
                count = state.root_devices
                text = f"root has MFA: {count} device{'s' if count != 1 else ''} (AWS allows up to {MFA_DEVICES_LIMIT})"
                if count < 2:
                    text += "; AWS recommends a second one, kept apart, for when the first is lost"
                found.append(Finding(text, severity="warning" if count < 2 else "info",
                                     observed={"AccountMFAEnabled": 1, "root_mfa_devices": count}))
            else:
                found.append(Finding(
                    f"root has MFA (only root can list its devices: {state.root_virtual_devices} virtual); AWS "
                    "allows up to 8 and recommends a second one, kept apart",
                    observed={"AccountMFAEnabled": 1, "root_virtual_devices": state.root_virtual_devices}))
        else:
            found.append(Finding("root has no MFA: the root-mfa step guides you", severity="warning",
                                 observed={"AccountMFAEnabled": 0}))
        if s.root_access_keys:
            found.append(Finding("root has an access key: the root-access-keys step deletes it", severity="warning",
                                 observed={"AccountAccessKeysPresent": 1}))
        else:
            found.append(Finding("root has no access key", observed={"AccountAccessKeysPresent": 0}))
        c = state.primary_contact
        if c is not None:
            where = ", ".join(p for p in (c.company, c.city, c.country_code) if p)
            found.append(Finding(
                f"primary contact (AWS writes here about the account): {c.full_name}"
                + (f", {where}" if where else "") + f", {c.phone}: confirm it is current",
                observed={"full_name": c.full_name, "company": c.company, "country_code": c.country_code}))
        else:
            found.append(Finding("primary contact: not readable here (account:GetContactInformation said none)",
                                 severity="warning"))
        if state.confirmed is not None:
            when = state.confirmed.time.isoformat(timespec="seconds")
            text = (f"checklist confirmed by the operator at {when} (as {state.confirmed.caller}): MANUAL evidence, "
                    "recorded in the journal, not verified by aws-harden")
            if not state.current:
                text += "; more than a year ago, so it is asked again"
            found.append(Finding(text, observed={"confirmed_at": when, "confirmed_by": state.confirmed.caller,
                                                 "evidence": "MANUAL"}))
        return found

    def plan(self, state: RootCredentialsState, ctx: StepContext) -> list[Change]:
        if state.current:
            return []
        return [Change(
            Action.CREATE, RecordChecklist(), "root credentials checklist",
            "confirm the checklist below; the confirmation is journaled with the time as MANUAL evidence "
            "(aws-harden cannot verify it)",
            instructions=tuple(f"{n}. {item}" for n, item in enumerate(CHECKLIST, start=1)),
            confirm_value=CONFIRM_WORD, confirm_answer="checklist_confirmed",
        )]


STEP = RootCredentials()
