"""Controls: what auditors and scanners check, evaluated on the whole account, one verdict per resource.

A control is one Prowler check (its id is Prowler's check id) with the requirement ids it maps to in CIS
AWS Foundations v7.0 and v5.0 and in AWS Security Hub, and an evaluation: a pure function of the account
facts (wizard/facts.py) returning PASS / FAIL / MANUAL per resource with the observed values and a one-line
reason, as Prowler reports them (one finding per user for console MFA, one per trail, one for the
account's password policy). Steps say which controls they bring to PASS (`Step.remediates`); a control no
step remediates is still evaluated and reported, with the fix aws-harden leaves to the operator.

Sources, checked against Prowler's repository (prowler-cloud/prowler, version 5.40):
- CIS ids: prowler/compliance/aws/cis_7.0_aws.json and cis_5.0_aws.json, requirement -> Checks.
- Security Hub ids: prowler/compliance/aws/aws_foundational_security_best_practices_aws.json where it maps
  the check; IAM.2, IAM.9 (no check there), IAM.15 and IAM.16 (CIS-standard controls) from the AWS
  Security Hub control reference. IAM.19 ("MFA for all IAM users") is left out on purpose: Prowler maps it to
  the console-MFA check, which passes a user without a console password that IAM.19 fails.
- Semantics and severity: each check's prowler/providers/aws/services/<service>/<check>/<check>.py and
  .metadata.json. Where aws-harden deliberately differs, the evaluation's docstring says so (README too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from wizard.facts import AccountFacts, BucketAccess, CredentialRow, Trail

from wizard.facts import is_root_device

CIS7, CIS5, SECURITY_HUB, PROWLER = "CIS AWS v7.0", "CIS AWS v5.0", "AWS Security Hub", "Prowler"
FRAMEWORKS = (CIS7, CIS5, SECURITY_HUB, PROWLER)

VerdictStatus = Literal["PASS", "FAIL", "MANUAL"]
STATUSES: tuple[VerdictStatus, ...] = ("PASS", "FAIL", "MANUAL")
Severity = Literal["critical", "high", "medium", "low", "informational"]
# OCSF severity ids: 1 informational, 2 low, 3 medium, 4 high, 5 critical.
SEVERITY_ID: dict[str, int] = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

# Prowler's iam_avoid_root_usage: FAIL when root was used `maximum_access_days` (1) or fewer whole days ago.
ROOT_USE_DAYS = 1
# AWS makes a new credential report only when the last is older than four hours: an older report may miss
# root's use since, so it cannot show that root was unused (IAM User Guide, "Getting credential reports").
REPORT_FRESH = timedelta(hours=4)


@dataclass(frozen=True)
class Requirement:
    """One requirement of one framework (e.g. CIS AWS v7.0 2.14), as accepted exceptions name them."""

    framework: str
    id: str
    title: str

    def label(self) -> str:
        return f"{self.framework} {self.id}"

    def as_record(self) -> dict[str, str]:
        return {"framework": self.framework, "id": self.id, "title": self.title}


@dataclass(frozen=True)
class Verdict:
    """One resource's result for one control, with what was observed and, on FAIL, how to fix it."""

    resource: str
    status: VerdictStatus
    reason: str
    observed: Mapping[str, Any] = field(default_factory=dict)
    fix: str = ""
    arn: str = ""
    region: str = ""

    def as_record(self) -> dict[str, Any]:
        return {"id": self.resource, "arn": self.arn, "region": self.region, "status": self.status,
                "reason": self.reason, "evidence": dict(self.observed), "fix": self.fix}


Evaluation = Callable[["AccountFacts"], list[Verdict]]


@dataclass(frozen=True)
class Control:
    id: str  # Prowler's check id
    title: str
    severity: Severity
    evaluate_facts: Evaluation
    needs: tuple[str, ...]  # facts (AccountFacts.unread names) the evaluation reads
    cis7: tuple[str, ...] = ()
    cis5: tuple[str, ...] = ()
    hub: tuple[str, ...] = ()

    @property
    def ids(self) -> dict[str, list[str]]:
        return {CIS7: list(self.cis7), CIS5: list(self.cis5), SECURITY_HUB: list(self.hub), PROWLER: [self.id]}

    def requirements(self) -> list[str]:
        """'CIS AWS v7.0 2.6', ..., 'Prowler iam_root_hardware_mfa_enabled': this control's ids only."""
        return [f"{framework} {i}" for framework, ids in self.ids.items() for i in ids]

    def evaluate(self, facts: AccountFacts) -> list[Verdict]:
        missing = [f"{name}: {facts.unread[name]}" for name in self.needs if name in facts.unread]
        if missing:
            return [Verdict(facts.account, "MANUAL", "could not read " + "; ".join(missing))]
        return self.evaluate_facts(facts)


@dataclass(frozen=True)
class ControlResult:
    control: Control
    verdicts: tuple[Verdict, ...]
    remediated_by: tuple[str, ...]

    @property
    def status(self) -> VerdictStatus:
        """FAIL if any resource fails, else MANUAL if any needs a person, else PASS (none to check: PASS)."""
        return worst(v.status for v in self.verdicts)

    @property
    def failures(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status != "PASS"]


def worst(statuses: Iterable[VerdictStatus]) -> VerdictStatus:
    seen = set(statuses)
    return "FAIL" if "FAIL" in seen else "MANUAL" if "MANUAL" in seen else "PASS"


# --- evaluations ------------------------------------------------------------------------------------
def _root(facts: AccountFacts, status: VerdictStatus, reason: str, fix: str = "",
          observed: Mapping[str, Any] | None = None) -> Verdict:
    return Verdict("<root_account>", status, reason, dict(observed or {}), fix, facts.root_arn, "global")


ROOT_CONSOLE = "console only (signed in as root): account menu > Security credentials > "


def root_mfa_enabled(facts: AccountFacts) -> list[Verdict]:
    """Prowler reads the credential report's mfa_active and reports only while root has an active access
    key (the report's password_enabled is always not_supported for root); aws-harden reads
    GetAccountSummary's AccountMFAEnabled and always reports."""
    if facts.summary.root_mfa:
        return [_root(facts, "PASS", "root has MFA (AccountMFAEnabled = 1)", observed={"AccountMFAEnabled": 1})]
    return [_root(facts, "FAIL", "root has no MFA (AccountMFAEnabled = 0)",
                  ROOT_CONSOLE + "Assign MFA device (aws-harden's root-mfa step guides you)", {"AccountMFAEnabled": 0})]


def root_hardware_mfa_enabled(facts: AccountFacts) -> list[Verdict]:
    """As Prowler: FAIL without MFA, FAIL when a virtual device is assigned to root, else PASS."""
    fix = (ROOT_CONSOLE + "assign a hardware TOTP token or a FIDO security key, then remove the virtual "
           "device; aws-harden cannot do this (root's MFA is console only)")
    if not facts.summary.root_mfa:
        return [_root(facts, "FAIL", "root has no MFA at all (AccountMFAEnabled = 0)", fix, {"AccountMFAEnabled": 0})]
    virtual = [d.serial for d in facts.virtual_mfa_devices if is_root_device(d, facts.account)]
    if virtual:
        return [_root(facts, "FAIL", f"root's MFA is a virtual device ({', '.join(virtual)})", fix,
                      {"AccountMFAEnabled": 1, "root_virtual_devices": virtual})]
    return [_root(facts, "PASS", "root's MFA is not a virtual device (a hardware token or security key)",
                  observed={"AccountMFAEnabled": 1, "root_virtual_devices": []})]


def no_root_access_key(facts: AccountFacts) -> list[Verdict]:
    """CIS 2.4 and Security Hub IAM.4 ask that no root key exists; GetAccountSummary counts every key.
    Prowler fails only active keys (credential report), so an inactive root key is FAIL here, PASS there."""
    row = facts.credential_report.root
    active = {f"access_key_{n}_active": row.values.get(f"access_key_{n}_active") for n in (1, 2)} if row else {}
    if facts.summary.root_access_keys:
        return [_root(facts, "FAIL", "root has an access key (AccountAccessKeysPresent = 1)",
                      "delete it: as root, aws-harden's root-access-keys step does; or " + ROOT_CONSOLE
                      + "Access keys > Delete", {"AccountAccessKeysPresent": 1, **active})]
    return [_root(facts, "PASS", "root has no access key (AccountAccessKeysPresent = 0)",
                  observed={"AccountAccessKeysPresent": 0, **active})]


ROOT_USE_COLUMNS = ("password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date")


def avoid_root_usage(facts: AccountFacts) -> list[Verdict]:
    """Root's last use from the credential report: FAIL when it was at most ROOT_USE_DAYS whole days ago.

    Prowler takes the first of the three columns that has a date; aws-harden takes the latest, so a root
    key used today fails even when root's password was used long ago. check never generates a report
    (GenerateCredentialReport is a write): without one, or with one too old to show recent use, MANUAL."""
    report = facts.credential_report
    generate = "run 'aws iam generate-credential-report' (or any Prowler scan does it), then check again"
    if report.state != "present":
        return [_root(facts, "MANUAL", f"no credential report to read root's last use from ({report.state}); "
                      "check never makes one, that is a write", generate, {"credential_report": report.state})]
    row = report.root
    if row is None:
        return [_root(facts, "MANUAL", "the credential report has no <root_account> row", generate)]
    observed: dict[str, Any] = {c: row.values.get(c) for c in ROOT_USE_COLUMNS}
    generated = report.generated.isoformat(timespec="seconds") if report.generated else None
    observed["report_generated"] = generated
    used = [d for d in (row.date(c) for c in ROOT_USE_COLUMNS) if d is not None]
    if used:
        last = max(used)
        days = (facts.read_at - last).days
        observed["days_since_last_use"] = days
        if days <= ROOT_USE_DAYS:
            return [_root(facts, "FAIL", f"root was used {days} day{'s' if days != 1 else ''} ago "
                          f"({last.isoformat(timespec='seconds')})",
                          "work as the IAM admin (its sign-in URL is in the signin-link step) and leave root "
                          "unused; this passes once root has not been used for more than a day", observed)]
    if report.generated is None or facts.read_at - report.generated > REPORT_FRESH:
        return [_root(facts, "MANUAL", f"the credential report is from {generated}, older than 4 hours: root's "
                      "use since then would not show", generate, observed)]
    why = f"root last used {observed['days_since_last_use']} days ago" if used else "root not used in the report"
    return [_root(facts, "PASS", why, observed=observed)]


def _password(check: Callable[[Any], bool], passing: str, failing: Callable[[Any], str]) -> Evaluation:
    def evaluate(facts: AccountFacts) -> list[Verdict]:
        p = facts.password_policy
        where = "" if p.present else "no password policy: IAM's default applies; "
        ok = p.present and check(p)
        return [Verdict(facts.account, "PASS" if ok else "FAIL", passing if ok else where + failing(p), p.observed(),
                        "" if ok else "aws-harden's password-policy step sets it (never weakening a stricter value); "
                        "or aws iam update-account-password-policy", region="global")]
    return evaluate


def user_mfa_console(facts: AccountFacts) -> list[Verdict]:
    out = []
    for user in facts.users:
        observed = {"console_password": user.console, "mfa_devices": list(user.mfa_serials)}
        if not user.console:
            out.append(Verdict(user.name, "PASS", f"{user.name} has no console password", observed, arn=user.arn))
        elif user.mfa_serials:
            out.append(Verdict(user.name, "PASS", f"{user.name} has a console password and MFA", observed,
                               arn=user.arn))
        else:
            out.append(Verdict(
                user.name, "FAIL", f"{user.name} has a console password and no MFA", observed,
                "enroll a device with the user at the terminal: aws-harden apply --only user-mfa (other users: "
                "[user-mfa] other_users = true), or IAM console > Users > Security credentials > Assign MFA",
                user.arn))
    return out


OTHERS_POLICIES = "aws-harden does not change other users' policies"


def policies_only_through_groups(facts: AccountFacts) -> list[Verdict]:
    """As Prowler: one FAIL per policy attached to or inline in a user (resource user/policy), one PASS per
    user with none. No step changes a user's own policies, the admin's included: the fix is the operator's."""
    out = []
    for user in facts.users:
        direct = [(p.name, f"aws iam detach-user-policy --user-name {user.name} --policy-arn {p.arn}")
                  for p in user.attached_policies]
        direct += [(p, f"aws iam delete-user-policy --user-name {user.name} --policy-name {p}")
                   for p in user.inline_policies]
        if not direct:
            out.append(Verdict(user.name, "PASS", f"{user.name} has no policies of its own",
                               {"attached": [], "inline": [], "groups": list(user.groups)}, arn=user.arn))
        for policy, command in direct:
            kind = "inline policy" if policy in user.inline_policies else "policy"
            out.append(Verdict(
                f"{user.name}/{policy}", "FAIL", f"{user.name} has the {kind} {policy} of its own",
                {"attached": [p.arn for p in user.attached_policies], "inline": list(user.inline_policies),
                 "groups": list(user.groups)},
                f"{OTHERS_POLICIES}: grant it through a group instead (IAM console > User groups), then remove "
                f"it from the user (IAM console > Users > {user.name} > Permissions, or `{command}`)",
                user.arn))
    return out


# --- credentials in use (CIS v7.0 2.11, 2.12; v5.0 1.11-1.13) -------------------------------------------
UNUSED_DAYS = 45  # CIS 2.11: "credentials unused for 45 days or more are disabled"
ROTATION_DAYS = 90  # CIS 2.12: "access keys are rotated every 90 days or less"
HYGIENE = "aws-harden's credential-hygiene step deactivates it once you type the user's name (never deletes it)"
SUPPORT_POLICY = "AWSSupportAccess"


def _days(facts: AccountFacts, since: datetime | None) -> int | None:
    return None if since is None else (facts.read_at - since).days


def _root_key_verdicts(facts: AccountFacts, judge: Callable[[CredentialRow], Verdict | None],
                       passing: str) -> list[Verdict]:
    """Root's keys, which only root can list, as the credential report shows them (its <root_account> row, as
    Prowler reads it); no report: PASS when GetAccountSummary counts no root key, else MANUAL."""
    row = facts.credential_report.root
    if not facts.summary.root_access_keys:
        return [_root(facts, "PASS", "root has no access key (AccountAccessKeysPresent = 0)",
                      observed={"AccountAccessKeysPresent": 0})]
    if row is None:
        return [_root(facts, "MANUAL", "root has an access key, and only the credential report shows its age and "
                      f"last use ({facts.credential_report.state})",
                      "run 'aws iam generate-credential-report', then check again (or delete root's keys: the "
                      "root-access-keys step)", {"AccountAccessKeysPresent": 1})]
    found = judge(row)
    return [found] if found is not None else [_root(facts, "PASS", passing, observed=dict(row.values))]


def _report_days(facts: AccountFacts, row: CredentialRow, column: str) -> int | None:
    return _days(facts, row.date(column))


def access_keys_unused(facts: AccountFacts) -> list[Verdict]:
    """One verdict per user (and per stale key), as Prowler's iam_user_accesskey_unused. Read live
    (ListAccessKeys, GetAccessKeyLastUsed), not from the credential report, which may be four hours old.
    Deliberately as CIS 2.11 where Prowler differs: an active key never used counts from its creation
    (Prowler passes it), and the 45th day fails (Prowler fails from the 46th)."""
    out = []
    for user in facts.users:
        stale = [(n, k, _days(facts, k.last_used or k.created)) for n, k in enumerate(user.access_keys, 1)
                 if k.active]
        stale = [(n, k, d) for n, k, d in stale if d is not None and d >= UNUSED_DAYS]
        for n, key, days in stale:
            used = (f"last used {_iso_of(key.last_used)}" if key.last_used
                    else f"never used, created {_iso_of(key.created)}")
            out.append(Verdict(f"{user.name}/AccessKey{n}", "FAIL",
                               f"{user.name}'s access key {key.key_id} is active and unused for {days} days ({used})",
                               key.observed(), HYGIENE, user.arn))
        if not stale:
            active = sum(1 for k in user.access_keys if k.active)
            out.append(Verdict(user.name, "PASS", f"{user.name} has no active access key unused for {UNUSED_DAYS} "
                               f"days ({active} active)", {"access_keys": [k.observed() for k in user.access_keys]},
                               arn=user.arn))

    def root(row: CredentialRow) -> Verdict | None:
        for n in (1, 2):
            if row.flag(f"access_key_{n}_active"):
                days = _report_days(facts, row, f"access_key_{n}_last_used_date") or _report_days(
                    facts, row, f"access_key_{n}_last_rotated")
                if days is not None and days >= UNUSED_DAYS:
                    return _root(facts, "FAIL", f"root's access key {n} is unused for {days} days",
                                 "delete root's keys: the root-access-keys step", dict(row.values))
        return None

    return out + _root_key_verdicts(facts, root, "root has no access key unused for 45 days")


def console_unused(facts: AccountFacts) -> list[Verdict]:
    """One verdict per user, as Prowler's iam_user_console_access_unused (ListUsers' PasswordLastUsed).
    Deliberately as CIS 2.11: a password never used counts from the login profile's creation (Prowler passes
    it), and the 45th day fails. AWS has no way to deactivate a password, only to delete it: the fix is yours."""
    out = []
    for user in facts.users:
        observed = {"console_password": user.console, "password_last_used": _iso_of(user.password_last_used),
                    "password_created": _iso_of(user.password_created)}
        days = _days(facts, user.password_last_used or user.password_created) if user.console else None
        if days is not None and days >= UNUSED_DAYS:
            used = (f"last used {_iso_of(user.password_last_used)}" if user.password_last_used
                    else f"never used, set {_iso_of(user.password_created)}")
            out.append(Verdict(user.name, "FAIL", f"{user.name}'s console password is unused for {days} days ({used})",
                               observed, f"disable it (this deletes the password; aws-harden never does): IAM console "
                               f"> Users > {user.name} > Security credentials > Manage console access > Disable, or "
                               f"`aws iam delete-login-profile --user-name {user.name}`", user.arn))
        else:
            why = ("has no console password" if not user.console
                   else f"used its console password within {UNUSED_DAYS} days")
            out.append(Verdict(user.name, "PASS", f"{user.name} {why}", observed, arn=user.arn))
    return out


def access_keys_rotated(facts: AccountFacts) -> list[Verdict]:
    """As Prowler's iam_rotate_access_key_90_days: an active key created more than 90 days ago fails."""
    out = []
    for user in facts.users:
        old = [(n, k, _days(facts, k.created)) for n, k in enumerate(user.access_keys, 1) if k.active]
        old = [(n, k, d) for n, k, d in old if d is not None and d > ROTATION_DAYS]
        for n, key, days in old:
            out.append(Verdict(f"{user.name}-access-key-{n}", "FAIL",
                               f"{user.name}'s access key {key.key_id} is active and {days} days old", key.observed(),
                               "rotate it: create a new key, move its users to it, then deactivate the old one ("
                               + HYGIENE + ")", user.arn))
        if not old:
            out.append(Verdict(user.name, "PASS", f"{user.name} has no active access key older than {ROTATION_DAYS} "
                               "days", {"access_keys": [k.observed() for k in user.access_keys]}, arn=user.arn))

    def root(row: CredentialRow) -> Verdict | None:
        for n in (1, 2):
            days = _report_days(facts, row, f"access_key_{n}_last_rotated")
            if row.flag(f"access_key_{n}_active") and days is not None and days > ROTATION_DAYS:
                return _root(facts, "FAIL", f"root's access key {n} is {days} days old",
                             "delete root's keys: the root-access-keys step", dict(row.values))
        return None

    return out + _root_key_verdicts(facts, root, "root has no access key older than 90 days")


def one_active_key(facts: AccountFacts) -> list[Verdict]:
    """As Prowler's iam_user_two_active_access_key: one verdict per user."""
    out = []
    for user in facts.users:
        active = [k for k in user.access_keys if k.active]
        observed = {"active_access_keys": [k.key_id for k in active]}
        if len(active) > 1:
            out.append(Verdict(user.name, "FAIL", f"{user.name} has {len(active)} active access keys", observed,
                               "keep the one in use and deactivate the other (" + HYGIENE + ")", user.arn))
        else:
            out.append(Verdict(user.name, "PASS", f"{user.name} has at most one active access key", observed,
                               arn=user.arn))

    def root(row: CredentialRow) -> Verdict | None:
        if row.flag("access_key_1_active") and row.flag("access_key_2_active"):
            return _root(facts, "FAIL", "root has 2 active access keys", "delete root's keys: the root-access-keys "
                         "step", dict(row.values))
        return None

    return out + _root_key_verdicts(facts, root, "root has at most one active access key")


def support_role(facts: AccountFacts) -> list[Verdict]:
    """As Prowler: PASS when some role has the AWSSupportAccess managed policy attached (one verdict, on the
    account)."""
    arn = f"arn:{facts.partition}:iam::aws:policy/{SUPPORT_POLICY}"
    roles = [r.name for r in facts.roles if any(p.arn == arn for p in r.attached_policies)]
    if roles:
        return [Verdict(facts.account, "PASS", f"{SUPPORT_POLICY} is attached to role {roles[0]}", {"roles": roles},
                        arn=arn, region="global")]
    return [Verdict(facts.account, "FAIL", f"{SUPPORT_POLICY} is attached to no role", {"roles": []},
                    "aws-harden's support-role step creates one (aws-harden-support, assumable by this account's "
                    "people with MFA)", arn, "global")]


def _iso_of(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "never"


def _regions(facts: AccountFacts, qualifies: Callable[[Trail], bool], what: str, fix: str) -> list[Verdict]:
    """Per region as Prowler: PASS where a trail homed there, or a multi-region one, qualifies. A multi-region
    trail covers every region (one PASS, 'all regions'); otherwise each region a trail is homed in or that this
    run reads, and one FAIL for the regions no trail covers."""
    covering = [t for t in facts.trails if t.multi_region and qualifies(t)]
    if covering:
        t = covering[0]
        return [Verdict(t.name, "PASS", f"multi-region trail {t.name} {what}", _trail_observed(t), arn=t.arn,
                        region="all regions")]
    out = []
    for t in facts.trails:
        if t.is_logging is None:
            out.append(Verdict(t.name, "MANUAL", f"trail {t.name}: status not readable ({t.status_error})",
                               _trail_observed(t), arn=t.arn, region=t.home_region))
    homes = sorted({t.home_region for t in facts.trails if not t.multi_region} | {facts.region})
    for region in homes:
        local = [t for t in facts.trails if t.home_region == region and not t.multi_region and qualifies(t)]
        if local:
            out.append(Verdict(local[0].name, "PASS", f"trail {local[0].name} {what} in {region}",
                               _trail_observed(local[0]), arn=local[0].arn, region=region))
        else:
            out.append(Verdict(facts.account, "FAIL", f"no trail {what} in {region}",
                               {"trails": [t.name for t in facts.trails]}, fix, region=region))
    out.append(Verdict(facts.account, "FAIL", f"no multi-region trail {what}: other regions are not covered",
                       {"trails": [t.name for t in facts.trails]}, fix, region="other regions"))
    return out


def _trail_observed(t: Trail) -> dict[str, Any]:
    return {"trail": t.arn, "home_region": t.home_region, "multi_region": t.multi_region,
            "is_logging": t.is_logging, "log_file_validation": t.log_file_validation,
            "organization": t.organization, "management_events_read_write": t.logs_management_read_write,
            "s3_bucket": t.s3_bucket}


TRAIL_FIX = "aws-harden's cloudtrail step creates (or updates) one multi-region trail and starts it logging"


def multi_region_logging(facts: AccountFacts) -> list[Verdict]:
    """Prowler's cloudtrail_multi_region_enabled: every region has a logging trail (its own or a multi-region
    one). Prowler reports the regions it scans; aws-harden reads one region, so without a multi-region trail it
    also fails 'other regions', as a scan of every region does."""
    return _regions(facts, lambda t: bool(t.is_logging), "is logging", TRAIL_FIX)


def multi_region_management_events(facts: AccountFacts) -> list[Verdict]:
    """Also read and write management events (CIS 4.1's audit procedure and Security Hub CloudTrail.1 ask
    for them; Prowler's cloudtrail_multi_region_enabled does not look)."""
    return _regions(facts, lambda t: bool(t.is_logging) and t.logs_management_read_write,
                    "is logging read and write management events", TRAIL_FIX)


def log_file_validation(facts: AccountFacts) -> list[Verdict]:
    """One verdict per trail, every trail this region sees (as Prowler)."""
    out = []
    for t in facts.trails:
        if t.log_file_validation:
            out.append(Verdict(t.name, "PASS", f"trail {t.name} validates its log files", _trail_observed(t),
                               arn=t.arn, region=t.home_region))
        else:
            out.append(Verdict(
                t.name, "FAIL", f"trail {t.name} does not validate its log files", _trail_observed(t),
                "aws-harden's cloudtrail step manages one trail (with validation); for this one: aws cloudtrail "
                f"update-trail --name {t.arn} --enable-log-file-validation --region {t.home_region}",
                t.arn, t.home_region))
    return out


def trail_bucket_not_public(facts: AccountFacts) -> list[Verdict]:
    """One verdict per trail on its bucket, evaluated on the bucket itself (not on any step's status).

    Prowler fails an ACL grant to AllUsers. aws-harden also fails a grant to AuthenticatedUsers (any AWS
    account) and a policy GetBucketPolicyStatus calls public, unless the bucket's public access block
    neutralises it (IgnorePublicAcls / RestrictPublicBuckets). A bucket of another account: MANUAL, as Prowler."""
    out = []
    for t in facts.trails:
        name = t.s3_bucket or ""
        bucket = facts.buckets.get(name)
        if bucket is None or not bucket.in_account:
            out.append(Verdict(t.name, "MANUAL", f"trail {t.name}'s bucket {name} is in another account or not "
                               "listed here: check it there", {"s3_bucket": name}, arn=t.arn, region=t.home_region))
            continue
        if bucket.error is not None:
            out.append(Verdict(t.name, "MANUAL", f"bucket {name} could not be read: {bucket.error}",
                               {"s3_bucket": name}, arn=t.arn, region=t.home_region))
            continue
        problems = bucket_exposure(bucket)
        observed = {"s3_bucket": name, "acl_grantees": list(bucket.acl_grantee_uris),
                    "public_access_block": dict(bucket.public_access_block or {}),
                    "policy_is_public": bucket.policy_is_public}
        if problems:
            out.append(Verdict(
                t.name, "FAIL", f"trail {t.name}'s bucket {name} is public: {'; '.join(problems)}", observed,
                f"block public access on it: aws s3api put-public-access-block --bucket {name} "
                "--public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,"
                "BlockPublicPolicy=true,RestrictPublicBuckets=true (the cloudtrail step does so on a bucket it makes)",
                t.arn, t.home_region))
        else:
            out.append(Verdict(t.name, "PASS", f"trail {t.name}'s bucket {name} is not public", observed,
                               arn=t.arn, region=t.home_region))
    return out


def bucket_exposure(bucket: BucketAccess) -> list[str]:
    block = bucket.public_access_block or {}
    problems = []
    if not block.get("IgnorePublicAcls"):
        problems += [f"its ACL grants {uri.rsplit('/', 1)[-1]}" for uri in bucket.acl_grantee_uris
                     if uri.endswith(("/global/AllUsers", "/global/AuthenticatedUsers"))]
    if bucket.policy_is_public and not block.get("RestrictPublicBuckets"):
        problems.append("its bucket policy is public")
    return problems


# --- account-wide guardrails ----------------------------------------------------------------------------
def _account(facts: AccountFacts, status: VerdictStatus, reason: str, fix: str = "",
             observed: Mapping[str, Any] | None = None, region: str = "global") -> Verdict:
    return Verdict(facts.account, status, reason, dict(observed or {}), fix, f"arn:{facts.partition}:iam::"
                   f"{facts.account}:root", region)


def security_contact(facts: AccountFacts) -> list[Verdict]:
    """The security alternate contact is set (GetAlternateContact SECURITY), as Security Hub Account.1 checks.
    Prowler's check is MANUAL: it only points at the console (the conformance run expects its MANUAL)."""
    contact = facts.guardrails.alternate_contacts.get("SECURITY")
    if contact is not None and contact.email:
        return [_account(facts, "PASS", f"the security contact is {contact.name} <{contact.email}>",
                         observed={"SECURITY": contact.fields()})]
    return [_account(facts, "FAIL", "no security alternate contact: AWS's security notices reach only root's email",
                     "aws-harden's account-contacts step sets it; or aws account put-alternate-contact "
                     "--alternate-contact-type SECURITY --name ... --title ... --email-address ... --phone-number ...",
                     {"SECURITY": None})]


def current_contact_details(facts: AccountFacts) -> list[Verdict]:
    """MANUAL, as Prowler: only a person can say the primary contact is current. The evidence is what
    GetContactInformation shows; the root-credentials step records the operator's confirmation."""
    c = facts.guardrails.primary_contact
    observed = {"primary_contact": None} if c is None else {
        "full_name": c.full_name, "company": c.company, "country_code": c.country_code, "phone_set": bool(c.phone)}
    return [_account(facts, "MANUAL", "a person confirms the account's primary contact is current"
                     + (f" ({c.full_name})" if c else " (none readable)"),
                     "console: account menu > Account > Contact information; aws-harden's root-credentials step "
                     "records your confirmation in the journal", observed)]


S3_BLOCK_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def account_public_access_blocks(facts: AccountFacts) -> list[Verdict]:
    """All four account-level settings, as CIS 3.1.4 and Security Hub S3.1 ask. Prowler passes IgnorePublicAcls
    and RestrictPublicBuckets alone, and reports nothing in an account without buckets."""
    block = facts.guardrails.account_public_access_block or {}
    observed = {k: bool(block.get(k)) for k in S3_BLOCK_SETTINGS}
    off = [k for k, v in observed.items() if not v]
    if not off:
        return [_account(facts, "PASS", "S3 Block Public Access is on for the whole account", observed=observed)]
    return [_account(facts, "FAIL", "account-level S3 Block Public Access is off: " + ", ".join(off),
                     "aws-harden's s3-public-access step turns all four on; or aws s3control put-public-access-block "
                     f"--account-id {facts.account} --public-access-block-configuration BlockPublicAcls=true,"
                     "IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true", observed)]


def ebs_default_encryption(facts: AccountFacts) -> list[Verdict]:
    """One verdict per enabled region. Prowler reports only regions with volumes (unless
    --scan-unused-services, which the conformance run passes); a new volume lands unencrypted all the same."""
    out = []
    for region, on in sorted(facts.guardrails.ebs_encryption.items()):
        if on:
            out.append(_account(facts, "PASS", f"EBS encryption by default is on in {region}",
                                observed={"EbsEncryptionByDefault": True}, region=region))
        else:
            out.append(_account(facts, "FAIL", f"EBS encryption by default is off in {region}",
                                f"aws-harden's ebs-encryption step; or aws ec2 enable-ebs-encryption-by-default "
                                f"--region {region}", {"EbsEncryptionByDefault": False}, region))
    return out


def access_analyzer_enabled(facts: AccountFacts) -> list[Verdict]:
    """Per enabled region: PASS with an active external-access analyzer (ACCOUNT or ORGANIZATION). Prowler
    passes any active analyzer, an unused-access one too; CIS 2.18 asks for external access."""
    out = []
    for region, analyzers in sorted(facts.guardrails.analyzers.items()):
        observed = {"analyzers": [f"{a.name} ({a.type}, {a.status})" for a in analyzers]}
        active = next((a for a in analyzers if a.external_access and a.status == "ACTIVE"), None)
        if active is not None:
            out.append(Verdict(active.name, "PASS", f"IAM Access Analyzer {active.name} is active in {region}",
                               observed, arn=active.arn, region=region))
            continue
        reason = (f"no active external-access analyzer in {region}" if analyzers
                  else f"IAM Access Analyzer is not enabled in {region}")
        out.append(_account(facts, "FAIL", reason, "aws-harden's access-analyzer step (free); or aws accessanalyzer "
                            f"create-analyzer --analyzer-name external --type ACCOUNT --region {region}", observed,
                            region))
    return out


def guardduty_enabled(facts: AccountFacts) -> list[Verdict]:
    """Per enabled region, as Prowler: FAIL without a detector or with a suspended one."""
    out = []
    fix = "aws-harden's guardduty step (charged after a 30-day trial); or aws guardduty create-detector --enable"
    for region, detectors in sorted(facts.guardrails.detectors.items()):
        if not detectors:
            out.append(_account(facts, "FAIL", f"GuardDuty is not enabled in {region}", f"{fix} --region {region}",
                                {"detectors": []}, region))
        for d in detectors:
            arn = f"arn:{facts.partition}:guardduty:{region}:{facts.account}:detector/{d.id}"
            if d.status == "ENABLED":
                out.append(Verdict(d.id, "PASS", f"GuardDuty detector {d.id} is enabled in {region}",
                                   {"status": d.status}, arn=arn, region=region))
            else:
                out.append(Verdict(d.id, "FAIL", f"GuardDuty detector {d.id} in {region} is suspended",
                                   {"status": d.status}, "resume it: aws-harden's guardduty step, or aws guardduty "
                                   f"update-detector --detector-id {d.id} --enable --region {region}", arn, region))
    return out


# --- the table --------------------------------------------------------------------------------------
PASSWORD_NEEDS = ("password policy",)

CONTROLS: tuple[Control, ...] = (
    Control("iam_no_root_access_key", "Root account has no active access keys", "critical", no_root_access_key,
            ("account summary",), ("2.4",), ("1.3",), ("IAM.4",)),
    Control("iam_root_mfa_enabled", "Root account has MFA enabled", "critical", root_mfa_enabled,
            ("account summary",), ("2.5",), ("1.4",), ("IAM.9",)),
    Control("iam_root_hardware_mfa_enabled", "Root account has a hardware MFA device enabled", "critical",
            root_hardware_mfa_enabled, ("account summary", "virtual MFA devices"), ("2.6",), ("1.5",), ("IAM.6",)),
    Control("iam_avoid_root_usage", "AWS account root user has not been used in the last day", "high",
            avoid_root_usage, ("credential report",), ("2.7",), ("1.6",)),
    Control("iam_password_policy_minimum_length_14", "IAM password policy requires passwords to be at least 14 "
            "characters long", "medium",
            _password(lambda p: p.minimum_length >= 14, "minimum length is 14 or more",
                      lambda p: f"minimum length is {p.minimum_length}"),
            PASSWORD_NEEDS, ("2.8",), ("1.7",), ("IAM.7", "IAM.15")),
    Control("iam_password_policy_reuse_24", "IAM password policy prevents reuse of the last 24 passwords", "medium",
            _password(lambda p: p.reuse_prevention == 24, "the last 24 passwords cannot be reused",
                      lambda p: f"reuse prevention is {p.reuse_prevention or 'not set'}"),
            PASSWORD_NEEDS, ("2.9",), ("1.8",), ("IAM.7", "IAM.16")),
    Control("iam_password_policy_uppercase", "IAM password policy requires at least one uppercase letter", "medium",
            _password(lambda p: p.require_uppercase, "an uppercase letter is required",
                      lambda p: "no uppercase letter required"), PASSWORD_NEEDS, hub=("IAM.7",)),
    Control("iam_password_policy_lowercase", "IAM password policy requires at least one lowercase letter", "low",
            _password(lambda p: p.require_lowercase, "a lowercase letter is required",
                      lambda p: "no lowercase letter required"), PASSWORD_NEEDS, hub=("IAM.7",)),
    Control("iam_password_policy_number", "IAM password policy requires at least one number", "medium",
            _password(lambda p: p.require_numbers, "a number is required", lambda p: "no number required"),
            PASSWORD_NEEDS, hub=("IAM.7",)),
    Control("iam_password_policy_symbol", "IAM password policy requires at least one symbol", "medium",
            _password(lambda p: p.require_symbols, "a symbol is required", lambda p: "no symbol required"),
            PASSWORD_NEEDS, hub=("IAM.7",)),
    Control("iam_user_mfa_enabled_console_access", "IAM user has MFA enabled for console access or no console "
            "password is set", "high", user_mfa_console, ("users",), ("2.10",), ("1.9",), ("IAM.5",)),
    Control("iam_policy_attached_only_to_group_or_roles", "IAM user has no inline or attached policies", "low",
            policies_only_through_groups, ("users",), ("2.13",), ("1.14",), ("IAM.2",)),
    Control("iam_user_accesskey_unused", "IAM user does not have unused access keys older than 45 days", "medium",
            access_keys_unused, ("users", "account summary"), ("2.11",), ("1.11",), ("IAM.8", "IAM.22")),
    Control("iam_user_console_access_unused", "IAM user console access is disabled, used within the configured "
            "inactivity period, or never used", "medium", console_unused, ("users",), ("2.11",), ("1.11",),
            ("IAM.8", "IAM.22")),
    Control("iam_rotate_access_key_90_days", "IAM user does not have active access keys older than 90 days",
            "medium", access_keys_rotated, ("users", "account summary"), ("2.12",), ("1.13",), ("IAM.3",)),
    Control("iam_user_two_active_access_key", "IAM user has at most one active access key", "medium",
            one_active_key, ("users", "account summary"), (), ("1.12",)),
    Control("iam_support_role_created", "At least one IAM role has the AWSSupportAccess managed policy attached",
            "low", support_role, ("roles",), ("2.15",), ("1.16",), ("IAM.18",)),
    Control("cloudtrail_multi_region_enabled", "Region has at least one CloudTrail trail logging", "high",
            multi_region_logging, ("trails",), ("4.1",), ("3.1",), ("CloudTrail.1",)),
    Control("cloudtrail_multi_region_enabled_logging_management_events", "CloudTrail trail logs management events "
            "for read and write operations", "low", multi_region_management_events, ("trails",), ("4.1",), ("3.1",),
            ("CloudTrail.1",)),
    Control("cloudtrail_log_file_validation_enabled", "CloudTrail trail has log file validation enabled", "medium",
            log_file_validation, ("trails",), ("4.2",), ("3.2",), ("CloudTrail.4",)),
    Control("cloudtrail_logs_s3_bucket_is_not_publicly_accessible", "CloudTrail trail S3 bucket is not publicly "
            "accessible", "critical", trail_bucket_not_public, ("trails",), hub=("CloudTrail.6",)),
    Control("account_security_contact_information_is_registered", "AWS account has security alternate contact "
            "registered", "medium", security_contact, ("alternate contacts",), ("2.3",), ("1.2",), ("Account.1",)),
    Control("account_maintain_current_contact_details", "AWS account contact information is current", "medium",
            current_contact_details, ("primary contact",), ("2.2",), ("1.1",)),
    Control("s3_account_level_public_access_blocks", "S3 account-level Block Public Access ignores public ACLs and "
            "restricts public buckets", "high", account_public_access_blocks, ("account public access block",),
            ("3.1.4",), ("2.1.4",), ("S3.1",)),
    Control("ec2_ebs_default_encryption", "EBS default encryption is enabled", "high", ebs_default_encryption,
            ("ebs encryption",), ("6.1.1",), hub=("EC2.7",)),
    # IAM.28 is Security Hub's CIS-standard control for it (AWS Security Hub control reference); Prowler's
    # FSBP table does not carry it.
    Control("accessanalyzer_enabled", "IAM Access Analyzer is enabled", "low", access_analyzer_enabled,
            ("access analyzers",), ("2.18",), ("1.19",), ("IAM.28",)),
    Control("guardduty_is_enabled", "GuardDuty detector is enabled and not suspended", "high", guardduty_enabled,
            ("guardduty detectors",), hub=("GuardDuty.1",)),
)
BY_ID: dict[str, Control] = {c.id: c for c in CONTROLS}


def remediated_by(control_id: str, steps: Sequence[Any]) -> tuple[str, ...]:
    return tuple(s.id for s in steps if control_id in s.remediates)


def evaluate(facts: AccountFacts, steps: Sequence[Any]) -> list[ControlResult]:
    """Every control on the whole account; `steps` (all known steps) say who remediates what."""
    return [ControlResult(c, tuple(c.evaluate(facts)), remediated_by(c.id, steps)) for c in CONTROLS]


def framework_counts(results: Sequence[ControlResult]) -> dict[str, dict[str, int]]:
    """Per framework, its requirements by status: a requirement fails when any control carrying it fails."""
    per: dict[str, dict[str, list[VerdictStatus]]] = {f: {} for f in FRAMEWORKS}
    for r in results:
        for framework, ids in r.control.ids.items():
            for i in ids:
                per[framework].setdefault(i, []).append(r.status)
    return {f: {s: sum(1 for v in reqs.values() if worst(v) == s) for s in STATUSES} for f, reqs in per.items()}


def requirement_statuses(results: Sequence[ControlResult]) -> dict[str, VerdictStatus]:
    """'CIS AWS v7.0 2.6' -> its status, over every control carrying it."""
    per: dict[str, list[VerdictStatus]] = {}
    for r in results:
        for label in r.control.requirements():
            per.setdefault(label, []).append(r.status)
    return {label: worst(s) for label, s in per.items()}


def cis_summary(step: Any) -> str:
    """'CIS v7.0 2.8, 2.9 · v5.0 1.7, 1.8' for the steps table: the CIS ids of what the step remediates."""
    parts = []
    for short, attr in (("v7.0", "cis7"), ("v5.0", "cis5")):
        ids = sorted({i for c in CONTROLS if c.id in step.remediates for i in getattr(c, attr)},
                     key=lambda i: [int(n) for n in i.split(".")])
        if ids:
            parts.append(f"{short} {', '.join(ids)}")
    return ("CIS " + " · ".join(parts)) if parts else "—"


# --- accepted exceptions ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AcceptedException:
    """A deliberate deviation from a control: recorded with its reason, never hidden."""

    step_id: str
    controls: tuple[Requirement, ...]
    resource_answer: tuple[str, str]  # (step id, question key) naming the resource it applies to
    reason: str
    extra_resources: tuple[str, ...] = ()  # other resource ids scanners report the same finding on


def _cis(v7: str, v5: str, title: str) -> tuple[Requirement, Requirement]:
    return Requirement(CIS7, v7, title), Requirement(CIS5, v5, title)


ADMIN_GROUP_EXCEPTION = AcceptedException(
    step_id="admin-group",
    controls=(
        *_cis("2.14", "1.15", "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached"),
        Requirement(SECURITY_HUB, "IAM.1", "IAM policies should not allow full \"*\" administrative privileges"),
        Requirement(PROWLER, "iam_aws_attached_policy_no_administrative_privileges",
                    "iam_aws_attached_policy_no_administrative_privileges"),
        Requirement(PROWLER, "iam_group_administrator_access_policy", "iam_group_administrator_access_policy"),
    ),
    resource_answer=("admin-group", "name"),
    reason=(
        "The account's first administrators need full access: the guidance this tool follows creates one "
        "group with AdministratorAccess so that nobody works as root. Narrow it once the team's roles are known."
    ),
    extra_resources=("AdministratorAccess",),
)

EXCEPTIONS: tuple[AcceptedException, ...] = (ADMIN_GROUP_EXCEPTION,)


def exceptions_for(step_id: str) -> tuple[AcceptedException, ...]:
    return tuple(e for e in EXCEPTIONS if e.step_id == step_id)


# OCSF severity of a step's own finding-less records (reports keep a per-step severity for the step table).
STEP_SEVERITY: dict[str, Severity] = {
    "admin-user": "medium", "admin-group": "medium", "root-access-keys": "critical", "password-policy": "medium",
    "signin-link": "informational", "user-mfa": "high", "root-mfa": "critical", "cloudtrail": "high",
    "billing-report": "low", "budget-alarm": "low", "root-credentials": "high", "account-contacts": "medium",
    "s3-public-access": "high", "ebs-encryption": "high", "access-analyzer": "low", "guardduty": "high",
    "default-vpcs": "low", "team-users": "medium", "support-role": "low", "delegation-roles": "medium",
    "credential-hygiene": "medium",
}
