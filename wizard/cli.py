"""The command line: parse the arguments into a RunConfig, run it (wizard/run.py builds the run), and turn
every outcome and every failure into an exit code.

Heavy imports (boto3, moto, rich's consoles) happen inside functions so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wizard import __version__
from wizard.errors import Interrupted, Terminated, WizardError, describe
from wizard.outcome import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_PENDING
from wizard.run import MIN_WIDTH, Environment, RunConfig

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PENDING", "MIN_WIDTH", "Environment", "main"]

COMMANDS = ("apply", "check", "plan", "steps", "export")
EXPORTS = ("prowler-mutelist",)

DESCRIPTION = """\
Lock down a new AWS account one verified step at a time.

commands:
  apply   the guided wizard (default): inspect, show the plan, ask, apply, verify
  check   inspect only; exit 0 compliant, 2 not compliant, 1 error
  plan    dry-run preview (+ create, ~ update, - delete, ! operator action); writes nothing
  steps   list the steps and the controls they cover
  export prowler-mutelist
          a Prowler mutelist for the deviations aws-harden makes on purpose (stdout)
  credential-process --account ID --user NAME [--mfa-serial ARN]
          for the AWS CLI profile aws-harden writes: prints the admin's key from the OS keyring, or,
          when the admin has an MFA device, an MFA session (the code is asked on the terminal)
"""

EPILOG = """\
exit codes: 0 compliant / no changes / all verified; 2 changes pending; 1 error; 130 interrupted.
Try it without an AWS account: aws-harden --sandbox
"""


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit(2), which means "pending" here
        raise UsageError(message)


def build_parser() -> Parser:
    p = Parser(
        prog="aws-harden",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("command", nargs="?", choices=COMMANDS, default="apply", help=argparse.SUPPRESS)
    p.add_argument("what", nargs="?", choices=EXPORTS, help=argparse.SUPPRESS)
    p.add_argument("--sandbox", action="store_true", help="run against a simulated fresh account on this machine")
    p.add_argument("--sandbox-reset", action="store_true", help="start the sandbox account fresh (implies --sandbox)")
    p.add_argument("--profile", help="AWS CLI profile (SSO profiles included); default: AWS_PROFILE or the chain")
    p.add_argument("--region", help="AWS region; default: AWS_REGION / AWS_DEFAULT_REGION / profile / us-east-1")
    p.add_argument("--endpoint-url", help="send every AWS request to this URL (as the AWS CLI option)")
    p.add_argument("--only", metavar="ID[,ID...]", help="run only these steps (see 'aws-harden steps')")
    p.add_argument("-y", "--yes", action="store_true", help="apply without asking, using --answers and defaults")
    p.add_argument("--answers", metavar="FILE", type=Path, help="TOML answers, one table per step id")
    p.add_argument(
        "--output", choices=("text", "json", "ocsf"), default="text",
        help="text, json (check and plan) or ocsf (check: OCSF Detection Findings)",
    )
    p.add_argument("--report", metavar="FILE", type=Path, help="check: also write an evidence report (.md or .html)")
    org = p.add_argument_group("organization (run with management-account or delegated-administrator credentials)")
    org.add_argument("--organization", action="store_true",
                     help="check, plan or apply every ACTIVE account of the caller's AWS Organization")
    org.add_argument("--org-role", metavar="NAME",
                     help="the role assumed in each member account (default: OrganizationAccountAccessRole)")
    org.add_argument("--accounts", metavar="ID[,ID...]", help="only these accounts of the organization")
    org.add_argument("--max-concurrency", metavar="N", type=int, help="accounts checked at once (default: 10)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("--version", action="version", version=f"aws-harden {__version__}")
    return p


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    with sigterm_as_interrupt():
        return _main(argv, env)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM takes Ctrl-C's path (exit 130, the change in flight journaled "interrupted", a half-made MFA
    device deleted) instead of killing the run mid-change. Only the main thread can install a handler."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(signum: int, frame: Any) -> None:
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: Sequence[str] | None, env: Environment | None) -> int:
    from dataclasses import replace

    from wizard.terminal import fit_stream

    env = env or Environment()
    env = replace(env, stdout=fit_stream(env.stdout), stderr=fit_stream(env.stderr))  # an ASCII-only console
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["credential-process"]:
        from wizard.credential_process import run as credential_process

        return credential_process(argv[1:], env.stdout, env.stderr)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        from wizard.printable import printable

        env.stderr.write(f"aws-harden: error: {printable(exc)} (see aws-harden --help)\n")
        return EXIT_ERROR
    config = RunConfig(**vars(args))
    try:
        return run(config, env)
    except KeyboardInterrupt as exc:
        where = f" during {exc.where}" if isinstance(exc, Interrupted) else ""
        signal_name = " (SIGTERM)" if isinstance(exc, Terminated) or isinstance(exc.__context__, Terminated) else ""
        env.stderr.write(
            f"\naws-harden: interrupted{signal_name}{where}; nothing more was changed. Run again to pick up where it "
            "stopped.\n"
        )
        return EXIT_INTERRUPTED
    except EOFError:
        env.stderr.write("aws-harden: error: input ended before a question was answered (stdin closed)\n")
        return EXIT_ERROR
    except Exception as exc:
        if config.debug:
            raise
        env.stderr.write(f"aws-harden: error: {describe(exc)}\n")
        return EXIT_ERROR


def run(config: RunConfig, env: Environment) -> int:
    """The command, in one account or (--organization) across an organization."""
    if config.command == "steps":
        return show_steps(env)
    validate_combination(config)

    from wizard.run import prepared, run_account

    with prepared(config, env) as built:
        if config.organization:
            from wizard.org_run import run_organization

            return run_organization(built)
        return run_account(built)


def validate_combination(config: RunConfig) -> None:
    """Options that do not go together, refused before anything is built."""
    if config.command == "export" and config.what is None:
        raise WizardError(f"export what? one of: {', '.join(EXPORTS)}")
    if config.what is not None and config.command != "export":
        raise WizardError(f"unexpected argument '{config.what}'")
    if config.output == "json" and config.command not in ("check", "plan"):
        raise WizardError("--output json is for check and plan; apply is interactive")
    if config.output == "ocsf" and config.command != "check":
        raise WizardError("--output ocsf is for check")
    if config.report is not None:
        if config.command != "check":
            raise WizardError("--report is for check")
        if config.report.suffix.lower() not in (".md", ".html"):
            raise WizardError(f"--report {config.report}: the file name must end in .md or .html")
    if config.organization:
        from wizard.org_run import validate_organization_options

        validate_organization_options(config)
    else:
        for option, value in (("--accounts", config.accounts), ("--org-role", config.org_role),
                              ("--max-concurrency", config.max_concurrency)):
            if value is not None:
                raise WizardError(f"{option} is for --organization")


def show_steps(env: Environment) -> int:
    """The steps in apply's order, with the controls each brings to PASS; then the controls no step
    remediates (check still evaluates and reports them)."""
    import steps as step_registry
    from wizard.controls import BY_ID, CONTROLS, cis_summary
    from wizard.render import Ui

    ui = Ui(out=env.stdout, err=env.stderr, width=env.width)
    from rich.table import Table
    from rich.text import Text

    table = Table(title="aws-harden steps, in the order apply runs them")
    for column in ("id", "title", "checks", "remediates (Prowler check id)", "CIS AWS Foundations", "Security Hub"):
        table.add_column(column)
    built = {s.id: s for s in step_registry.available() + step_registry.organization_steps()}
    for step_id in step_registry.all_ids() + step_registry.organization_ids():
        step = built.get(step_id)
        if step is None:
            table.add_row(Text(step_id), Text("not built yet", style="dim"), Text("—"), Text("—"), Text("—"),
                          Text("—"))
            continue
        hub = sorted({h for c in step.remediates for h in BY_ID[c].hub})
        title = step.title + ("\n(organization: management account; --organization or --only)"
                              if step_id in step_registry.organization_ids() else "")
        table.add_row(Text(step_id), Text(title), Text(step.checks), Text("\n".join(step.remediates) or "—"),
                      Text(cis_summary(step)), Text(", ".join(hub) or "—"))
    ui.out.print(table)
    remediated = {c for s in built.values() for c in s.remediates}
    others = Table(title="controls no step remediates (check evaluates and reports them too)")
    for column in ("Prowler check id", "CIS v7.0", "CIS v5.0", "Security Hub"):
        others.add_column(column)
    for c in CONTROLS:
        if c.id not in remediated:
            others.add_row(Text(c.id), Text(", ".join(c.cis7) or "—"), Text(", ".join(c.cis5) or "—"),
                           Text(", ".join(c.hub) or "—"))
    ui.out.print(others)
    return EXIT_OK
