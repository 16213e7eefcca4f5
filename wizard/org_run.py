"""check / plan / apply --organization: every ACTIVE account of the caller's organization, in one command.

check and plan read every account at once (wizard/fanout.py), each with the single-account check
(wizard/account_check.py) in a session of its own (wizard/organization.py), and print one table, one JSON
report (each account's part the report a single-account check prints), OCSF findings or an evidence report over
all accounts. apply goes through the accounts one at a time, each plan shown and agreed (or --yes), and only
for the steps in FAN_OUT_SAFE: settings that are the same in every account and cannot lock anyone out.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wizard.errors import Aborted, Interrupted, WizardError, describe
from wizard.fanout import (
    DEFAULT_CONCURRENCY,
    AccountRun,
    AccountStatus,
    FanOut,
    Skipped,
    concurrency_problem,
    fan_out,
    stopper,
)

if TYPE_CHECKING:
    from wizard.aws import Aws
    from wizard.organization import OrgAccount
    from wizard.render import Ui
    from wizard.run import Run, RunConfig

# Steps apply --organization may run in every account: one account-wide setting each, the same everywhere,
# nothing that makes or removes an identity or a credential. The issue-15 steps join as they are built.
FAN_OUT_SAFE = ("password-policy", "account-contacts", "s3-public-access", "ebs-encryption", "access-analyzer")
# And the central root lockdown, which runs in the management account alone (each deletion typed per account).
MANAGEMENT_STEPS = ("org-root-access", "member-root-credentials")
APPLY_IN_ORGANIZATION = (*FAN_OUT_SAFE, *MANAGEMENT_STEPS)


def validate_organization_options(config: RunConfig) -> None:
    from wizard.organization import role_problem

    if config.command not in ("check", "plan", "apply"):
        raise WizardError("--organization is for check, plan and apply")
    problem = role_problem(config.org_role) if config.org_role is not None else None
    if problem is None and config.max_concurrency is not None:
        problem = concurrency_problem(config.max_concurrency)
    if problem:
        raise WizardError(problem)


def fan_out_steps(command: str, selected: Sequence[Any], only: str | None) -> list[Any]:
    """check and plan: the selected steps. apply: only those safe to fan out; naming any other is refused."""
    if command != "apply":
        return list(selected)
    unsafe = [s.id for s in selected if s.id not in APPLY_IN_ORGANIZATION]
    if only and unsafe:
        raise WizardError(
            f"apply --organization runs only the steps that are safe in every account ({', '.join(FAN_OUT_SAFE)}; "
            f"those not built yet are skipped) and, in the management account, {', '.join(MANAGEMENT_STEPS)}: "
            f"not {', '.join(unsafe)}; run that in one account without --organization instead")
    safe = [s for s in selected if s.id in APPLY_IN_ORGANIZATION]
    if not safe:
        raise WizardError("apply --organization: none of the steps safe to fan out is selected")
    return safe


def steps_for(account: OrgAccount, steps: Sequence[Any]) -> tuple[list[Any], tuple[Skipped, ...]]:
    """The steps to run in this account, and those whose subject lives in the management account only."""
    if account.management:
        return list(steps), ()
    here = [s for s in steps if not s.management_account_only]
    return here, tuple(Skipped(s.id, s.management_account_only) for s in steps if s.management_account_only)


def quiet_ui() -> Ui:
    """A run's own Ui for one account of a fan-out: no spinner (only one can draw), nothing printed."""
    from wizard.render import Ui

    return Ui(out=io.StringIO(), err=io.StringIO())


def run_organization(run: Run) -> int:
    from wizard.organization import DEFAULT_ROLE, read_organization, select_accounts

    config, ui = run.config, run.ui
    steps = fan_out_steps(config.command, run.selected, config.only)
    role = config.org_role or DEFAULT_ROLE
    base, journal_dir = run.connect()
    # Nothing drawn on stdout but the JSON or OCSF when that is the output, even on a terminal.
    with ui.working("Reading the organization…") if config.output == "text" else contextlib.nullcontext():
        caller = base.caller()
        organization = read_organization(base)
    if caller.kind == "root":
        raise WizardError(
            "--organization cannot run as the root user: AWS lets root assume no role (\"Roles may not be assumed by "
            "root accounts\") and refuses it sts:AssumeRoot; run it as an IAM user or role of the management account "
            "(the admin aws-harden makes, say: --profile aws-harden-admin)")
    accounts = select_accounts(organization, config.accounts)
    if config.output == "text":
        ui.context(f"{config.command} --organization", caller.arn, caller.kind, caller.account, base.region)
        ui.line(f"  organization {organization.id}, management account {organization.management_account}: "
                f"{len(accounts)} account{'s' if len(accounts) != 1 else ''}"
                + (f" ({len(organization.inactive)} not ACTIVE, skipped)" if organization.inactive else ""))
    if config.command == "apply":
        ui.line("  steps: ", ", ".join(s.id for s in steps),
                ("  (apply --organization runs only the steps safe in every account, and the root lockdown in "
                 "the management account)", "dim"))
        runs = apply_accounts(run, base, role, accounts, steps, journal_dir)
    else:
        runs = check_accounts(run, base, role, accounts, steps)
    fanout = FanOut(organization, config.command, role, runs)
    return show(run, fanout, caller, base.sandbox, [s.id for s in steps])


def check_accounts(
    run: Run, base: Aws, role: str, accounts: Sequence[OrgAccount], steps: Sequence[Any],
) -> list[AccountRun]:
    from wizard import org_render
    from wizard.account_check import check_account
    from wizard.organization import account_sessions, unassumable, unassumable_reason

    config, ui = run.config, run.ui
    stop = threading.Event()
    open_account = account_sessions(base, role, read_only=True, stop=stopper(stop))
    own = base.caller().account

    def check(account: OrgAccount) -> AccountRun:
        here, skipped = steps_for(account, steps)
        try:
            aws = open_account(account)
        except Exception as exc:
            if unassumable(exc):
                return AccountRun(account, "unassumable", unassumable_reason(exc, role, own), skipped=skipped)
            return AccountRun(account, "error", describe(exc), skipped=skipped)
        try:
            engine = run.engine(aws, here, ui=quiet_ui(), asks=False)
            checked = check_account(config.command, engine, aws, aws.caller(), run.known)
        except Exception as exc:
            return AccountRun(account, "error", describe(exc), skipped=skipped)
        code = checked.exit_code
        status: AccountStatus = "compliant" if code == 0 else "noncompliant" if code == 2 else "error"
        return AccountRun(account, status, account_reason(checked), checked, skipped)

    what = "Checking accounts" if config.command == "check" else "Planning accounts"
    with org_render.progress(ui, config.output == "text", what) as progress:
        return fan_out(accounts, check, config.max_concurrency or DEFAULT_CONCURRENCY, stop, progress)


def account_reason(checked: Any) -> str:
    errors = [o.reason for o in checked.outcomes if o.status.value == "error"]
    if errors:
        return "; ".join(errors)
    if checked.command == "plan":
        return str(checked.report["summary"])
    pending = [o.step_id for o in checked.outcomes if o.status.value != "compliant"]
    failing = [r.control.id for r in checked.results if r.status == "FAIL"]
    if not pending and checked.exit_code == 0:
        return "compliant"
    parts = [f"not compliant: {', '.join(pending)}"] if pending else []
    parts += [f"{len(failing)} control{'s' if len(failing) != 1 else ''} failing"] if failing else []
    return "; ".join(parts) or "controls the selected steps remediate do not pass"


def apply_accounts(
    run: Run, base: Aws, role: str, accounts: Sequence[OrgAccount], steps: Sequence[Any], journal_dir: Any,
) -> list[AccountRun]:
    """One account after the other: its plan shown and agreed (or --yes); a failed account never stops the rest."""
    from wizard.journal import Journal
    from wizard.organization import account_sessions, unassumable, unassumable_reason

    ui = run.ui
    open_account = account_sessions(base, role, read_only=False)
    runs: list[AccountRun] = []
    for index, account in enumerate(accounts, start=1):
        here, skipped = steps_for(account, steps)
        ui.blank()
        ui.line((f"== [{index}/{len(accounts)}] account ", "bold"), (account.label(), "bold cyan"))
        try:
            aws = open_account(account)
            caller = aws.caller()
        except Exception as exc:
            why = unassumable_reason(exc, role, base.caller().account) if unassumable(exc) else describe(exc)
            ui.error(f"{account.label()}: {why}")
            runs.append(AccountRun(account, "unassumable" if unassumable(exc) else "error", why, skipped=skipped))
            continue
        journal = Journal(journal_dir, caller.account, caller.arn, "apply")
        engine = run.engine(aws, here, journal)
        try:
            outcomes = engine.apply()
        except KeyboardInterrupt as exc:  # Ctrl-C: no further account either; the message names this one
            where = f", {exc.where}" if isinstance(exc, Interrupted) else ""
            raise Interrupted(f"account {account.label()}{where}") from None
        except (Aborted, EOFError):  # the operator stopped, or input ended: no further account either
            raise
        except Exception as exc:  # StepFailed and the like: this account errors, the next one runs
            ui.error(f"{account.label()}: {describe(exc)}")
            runs.append(AccountRun(account, "error", describe(exc), skipped=skipped))
            continue
        pending = [o.step_id for o in outcomes if o.status.value != "compliant"]
        status: AccountStatus = "noncompliant" if pending else "compliant"
        reason = f"left pending: {', '.join(pending)}" if pending else "compliant and verified"
        runs.append(AccountRun(account, status, reason, skipped=skipped, outcomes=outcomes))
    return runs


def show(run: Run, fanout: FanOut, caller: Any, sandbox: bool, step_ids: list[str]) -> int:
    from wizard import org_render, org_report

    config, ui, env = run.config, run.ui, run.env

    payload = org_report.build(fanout, caller, sandbox) if config.command != "apply" else None
    if config.output == "json" and payload is not None:
        ui.json(payload)
    elif config.output == "ocsf" and payload is not None:
        env.stdout.write(json.dumps(org_report.ocsf(payload), indent=2) + "\n")
    else:
        ui.blank()
        org_render.table(ui, fanout, step_ids)
        org_render.problems(ui, fanout)
        if config.command == "plan":
            org_render.plan_lines(ui, fanout)
        org_render.summary(ui, fanout)
    if config.report is not None and payload is not None:
        run.write_report(config.report, payload, render=(org_report.markdown, org_report.html_report))
    return fanout.exit_code
