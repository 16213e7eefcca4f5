"""check / plan / apply --organization: every ACTIVE account of the caller's organization, in one command.

check and plan read every account at once (wizard/fanout.py), each with the single-account check
(wizard/account_check.py) in a session of its own (wizard/organization.py), and print one table, one JSON
report (each account's part the report a single-account check prints), OCSF findings or an evidence report over
all accounts. apply goes through the accounts one at a time, each plan shown and agreed (or --yes), and only
for the steps in FAN_OUT_SAFE: settings that are the same in every account and cannot lock anyone out.
"""

from __future__ import annotations

import argparse
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
    from wizard.cli import Environment
    from wizard.organization import OrgAccount
    from wizard.prompts import Prompter
    from wizard.render import Ui

# Steps apply --organization may run in every account: one account-wide setting each, the same everywhere,
# nothing that makes or removes an identity or a credential. The issue-15 steps join as they are built.
FAN_OUT_SAFE = ("password-policy", "account-contacts", "s3-public-access", "ebs-encryption", "access-analyzer")
# And the central root lockdown, which runs in the management account alone (each deletion typed per account).
MANAGEMENT_STEPS = ("org-root-access", "member-root-credentials")
APPLY_IN_ORGANIZATION = (*FAN_OUT_SAFE, *MANAGEMENT_STEPS)


def validate_organization_options(args: argparse.Namespace) -> None:
    from wizard.organization import role_problem

    if args.command not in ("check", "plan", "apply"):
        raise WizardError("--organization is for check, plan and apply")
    problem = role_problem(args.org_role) if args.org_role is not None else None
    if problem is None and args.max_concurrency is not None:
        problem = concurrency_problem(args.max_concurrency)
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


def run_organization(
    args: argparse.Namespace,
    env: Environment,
    ui: Ui,
    known: Sequence[Any],
    selected: Sequence[Any],
    file_answers: dict[str, dict[str, Any]],
    prompter: Prompter | None,
    sandbox: Any,
) -> int:
    from wizard.cli import connect, write_report
    from wizard.organization import DEFAULT_ROLE, read_organization, select_accounts

    steps = fan_out_steps(args.command, selected, args.only)
    role = args.org_role or DEFAULT_ROLE
    base, journal_dir = connect(args, env, sandbox)
    # Nothing drawn on stdout but the JSON or OCSF when that is the output, even on a terminal.
    with ui.working("Reading the organization…") if args.output == "text" else contextlib.nullcontext():
        caller = base.caller()
        organization = read_organization(base)
    if caller.kind == "root":
        raise WizardError(
            "--organization cannot run as the root user: AWS lets root assume no role (\"Roles may not be assumed by "
            "root accounts\") and refuses it sts:AssumeRoot; run it as an IAM user or role of the management account "
            "(the admin aws-harden makes, say: --profile aws-harden-admin)")
    accounts = select_accounts(organization, args.accounts)
    if args.output == "text":
        ui.context(f"{args.command} --organization", caller.arn, caller.kind, caller.account, base.region)
        ui.line(f"  organization {organization.id}, management account {organization.management_account}: "
                f"{len(accounts)} account{'s' if len(accounts) != 1 else ''}"
                + (f" ({len(organization.inactive)} not ACTIVE, skipped)" if organization.inactive else ""))
    if args.command == "apply":
        ui.line("  steps: ", ", ".join(s.id for s in steps),
                ("  (apply --organization runs only the steps safe in every account, and the root lockdown in "
                 "the management account)", "dim"))
        runs = apply_accounts(args, base, role, accounts, steps, known, file_answers, ui, prompter, journal_dir,
                              env)
    else:
        runs = check_accounts(args, env, base, role, accounts, steps, known, file_answers, ui)
    fanout = FanOut(organization, args.command, role, runs)
    return show(args, env, ui, fanout, caller, base.sandbox, [s.id for s in steps], write_report)


def check_accounts(
    args: argparse.Namespace, env: Environment, base: Aws, role: str, accounts: Sequence[OrgAccount],
    steps: Sequence[Any], known: Sequence[Any], file_answers: dict[str, dict[str, Any]], ui: Ui,
) -> list[AccountRun]:
    from wizard import org_render
    from wizard.account_check import check_account
    from wizard.answers import AnswerBook
    from wizard.engine import Engine
    from wizard.organization import account_sessions, unassumable, unassumable_reason

    stop = threading.Event()
    open_account = account_sessions(base, role, read_only=True, stop=stopper(stop), observe=env.observe_aws)
    own = base.caller().account

    def run(account: OrgAccount) -> AccountRun:
        here, skipped = steps_for(account, steps)
        try:
            aws = open_account(account)
        except Exception as exc:
            if unassumable(exc):
                return AccountRun(account, "unassumable", unassumable_reason(exc, role, own), skipped=skipped)
            return AccountRun(account, "error", describe(exc), skipped=skipped)
        try:
            engine = Engine(aws, here, AnswerBook(file_answers, known), quiet_ui(), None, None)
            checked = check_account(args.command, engine, aws, aws.caller(), known)
        except Exception as exc:
            return AccountRun(account, "error", describe(exc), skipped=skipped)
        code = checked.exit_code
        status: AccountStatus = "compliant" if code == 0 else "noncompliant" if code == 2 else "error"
        return AccountRun(account, status, account_reason(checked), checked, skipped)

    what = "Checking accounts" if args.command == "check" else "Planning accounts"
    with org_render.progress(ui, args.output == "text", what) as progress:
        return fan_out(accounts, run, args.max_concurrency or DEFAULT_CONCURRENCY, stop, progress)


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
    args: argparse.Namespace, base: Aws, role: str, accounts: Sequence[OrgAccount], steps: Sequence[Any],
    known: Sequence[Any], file_answers: dict[str, dict[str, Any]], ui: Ui, prompter: Prompter | None,
    journal_dir: Any, env: Environment,
) -> list[AccountRun]:
    """One account after the other: its plan shown and agreed (or --yes); a failed account never stops the rest."""
    from wizard.answers import AnswerBook
    from wizard.engine import Engine
    from wizard.journal import Journal
    from wizard.organization import account_sessions, unassumable, unassumable_reason

    open_account = account_sessions(base, role, read_only=False, observe=env.observe_aws)
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
        engine = Engine(aws, here, AnswerBook(file_answers, known), ui, prompter, journal, yes=args.yes)
        if env.sleep is not None:
            engine.sleep = env.sleep
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


def show(
    args: argparse.Namespace, env: Environment, ui: Ui, fanout: FanOut, caller: Any, sandbox: bool,
    step_ids: list[str], write_report: Any,
) -> int:
    from wizard import org_render, org_report

    payload = org_report.build(fanout, caller, sandbox) if args.command != "apply" else None
    if args.output == "json" and payload is not None:
        ui.json(payload)
    elif args.output == "ocsf" and payload is not None:
        env.stdout.write(json.dumps(org_report.ocsf(payload), indent=2) + "\n")
    else:
        ui.blank()
        org_render.table(ui, fanout, step_ids)
        org_render.problems(ui, fanout)
        if args.command == "plan":
            org_render.plan_lines(ui, fanout)
        org_render.summary(ui, fanout)
    if args.report is not None and payload is not None:
        write_report(args.report, payload, ui, quiet=args.output != "text", render=(org_report.markdown,
                                                                                 org_report.html_report))
    return fanout.exit_code
