"""The command line: parse, build the pieces, run the engine, and turn every outcome into an exit code.

Heavy imports (boto3, moto, rich's consoles) happen inside functions so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from wizard import __version__
from wizard.errors import Interrupted, Terminated, WizardError, describe

if TYPE_CHECKING:
    from wizard.controls import ControlResult
    from wizard.engine import StepOutcome
    from wizard.prompts import Prompter
    from wizard.render import Ui

COMMANDS = ("apply", "check", "plan", "steps", "export")
EXPORTS = ("prowler-mutelist",)
EXIT_OK, EXIT_ERROR, EXIT_PENDING, EXIT_INTERRUPTED = 0, 1, 2, 130
# Interactive apply draws QR codes and plans that are unreadable when wrapped; check, plan and --yes wrap.
MIN_WIDTH = 60

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


@dataclass
class Environment:
    """What the program reads from and writes to, so tests can run it whole (httpie's pattern)."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    stdin_isatty: bool = field(default_factory=lambda: sys.stdin.isatty())
    # Where secrets (QR codes, keys as text, a password shown once) may go, given stdout: see
    # wizard.terminal.open_terminal (stdout if a terminal, else /dev/tty, else None). Tests stand in for it.
    terminal: Callable[[IO[str]], IO[str] | None] | None = None
    prompter: Prompter | None = None
    width: int | None = None
    sandbox_keyring: bool = True
    # Tests observe the AWS layer (its write guard's record) through this; the program never needs it.
    observe_aws: Callable[[Any], None] | None = None
    # How the wizard waits between re-checks of an operator action, and opens a console page.
    sleep: Callable[[float], None] | None = None
    open_url: Callable[[str], bool] | None = None


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
    try:
        return run(args, env)
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
        if args.debug:
            raise
        env.stderr.write(f"aws-harden: error: {describe(exc)}\n")
        return EXIT_ERROR


def run(args: argparse.Namespace, env: Environment) -> int:
    from wizard.errors import WizardError

    if args.command == "steps":
        return show_steps(env)
    validate_combination(args)

    import steps as step_registry
    from wizard.answers import load_answers_file, validate_answers
    from wizard.render import Ui

    ui = Ui(out=env.stdout, err=env.stderr, width=env.width, terminal=env.terminal)
    known = step_registry.available() + step_registry.organization_steps()
    selected = select_steps(known, args.only, organization=args.organization)
    file_answers: dict[str, dict[str, Any]] = {}
    if args.answers is not None:
        file_answers = load_answers_file(args.answers)
        validate_answers(file_answers, {s.id: s.questions() for s in known}, f"answers file {args.answers}")

    prompter = env.prompter
    if args.command == "apply" and not args.yes:
        if prompter is None and not env.stdin_isatty:
            raise WizardError(
                "apply asks questions and needs a terminal; to run unattended use --yes (with --answers FILE)"
            )
        if prompter is None:
            from wizard.prompts import QuestionaryPrompter

            prompter = QuestionaryPrompter()
        if ui.out.width < MIN_WIDTH:
            raise WizardError(
                f"the terminal is {ui.out.width} columns wide and apply needs at least {MIN_WIDTH} (the MFA QR code "
                "alone takes about 45): widen the window, or run unattended with --yes"
            )

    sandbox = None
    if args.sandbox or args.sandbox_reset:
        sandbox = start_sandbox(args, env, ui)
    try:
        if args.organization:
            from wizard.org_run import run_organization

            return run_organization(args, env, ui, known, selected, file_answers, prompter, sandbox)
        return run_engine(args, env, ui, known, selected, file_answers, prompter, sandbox)
    finally:
        if sandbox is not None:
            sandbox.stop()


def validate_combination(args: argparse.Namespace) -> None:
    if args.command == "export" and args.what is None:
        raise WizardError(f"export what? one of: {', '.join(EXPORTS)}")
    if args.what is not None and args.command != "export":
        raise WizardError(f"unexpected argument '{args.what}'")
    if args.output == "json" and args.command not in ("check", "plan"):
        raise WizardError("--output json is for check and plan; apply is interactive")
    if args.output == "ocsf" and args.command != "check":
        raise WizardError("--output ocsf is for check")
    if args.report is not None:
        if args.command != "check":
            raise WizardError("--report is for check")
        if args.report.suffix.lower() not in (".md", ".html"):
            raise WizardError(f"--report {args.report}: the file name must end in .md or .html")
    if args.organization:
        from wizard.org_run import validate_organization_options

        validate_organization_options(args)
    else:
        for option, value in (("--accounts", args.accounts), ("--org-role", args.org_role),
                              ("--max-concurrency", args.max_concurrency)):
            if value is not None:
                raise WizardError(f"{option} is for --organization")


def select_steps(known: Sequence[Any], only: str | None, organization: bool = False) -> list[Any]:
    """--only's steps, else every step (the organization steps only with --organization)."""
    import steps as step_registry

    if not only:
        return [s for s in known if organization or s.id not in step_registry.organization_ids()]
    wanted = [s.strip() for s in only.split(",") if s.strip()]
    ids = {s.id for s in known}
    every = step_registry.all_ids() + step_registry.organization_ids()
    for step_id in wanted:
        if step_id not in every:
            raise WizardError(f"--only: unknown step '{step_id}' (known: {', '.join(every)})")
        if step_id not in ids:
            raise WizardError(f"--only: step '{step_id}' is not built yet in this version")
    return [s for s in known if s.id in wanted]


def start_sandbox(args: argparse.Namespace, env: Environment, ui: Ui) -> Any:
    from wizard.journal import state_dir

    try:
        import moto.server  # noqa: F401  (the extra; wizard.sandbox itself imports it only when it starts)

        from wizard.sandbox import OrganizationSandbox, Sandbox
    except ImportError as exc:  # moto is an extra
        raise WizardError(
            f"the sandbox needs the 'sandbox' extra ({exc.name or 'moto'} is not installed): "
            "pip install 'aws-harden[sandbox]', or with pipx: pipx install 'aws-harden[sandbox]'"
        ) from None
    if args.profile or args.endpoint_url:
        raise WizardError("--sandbox cannot be combined with --profile or --endpoint-url")
    if env.sandbox_keyring:
        import keyring

        from wizard.secrets import memory_keyring

        keyring.set_keyring(memory_keyring())
    sandbox = Sandbox(state_dir() / "sandbox") if not args.organization else OrganizationSandbox(
        state_dir() / "sandbox-organization")
    if args.sandbox_reset:
        sandbox.reset()
    ui.banner_sandbox(str(sandbox.directory), to_err=args.output != "text")
    with ui.working("Starting the sandbox account…"):
        sandbox.start()
    for problem in sandbox.replay_problems:
        ui.warn(f"sandbox: could not restore a change from an earlier run: {problem}")
    return sandbox


def run_engine(
    args: argparse.Namespace,
    env: Environment,
    ui: Ui,
    known: Sequence[Any],
    selected: Sequence[Any],
    file_answers: dict[str, dict[str, Any]],
    prompter: Prompter | None,
    sandbox: Any,
) -> int:
    from wizard.answers import AnswerBook
    from wizard.engine import Engine, StepFailed
    from wizard.journal import Journal

    aws, journal_dir = connect(args, env, sandbox)
    with ui.working("Asking AWS who is calling…"):
        caller = aws.caller()
    journal = Journal(journal_dir, caller.account, caller.arn, args.command) if args.command == "apply" else None
    if args.command == "export":
        return export(args, env, aws, caller, known, file_answers)
    if args.output == "text":
        ui.context(args.command, caller.arn, caller.kind, caller.account, aws.region)
    # Every command reads the journal (local evidence a step may show, e.g. an operator's confirmation).
    history = Journal(journal_dir, caller.account, caller.arn, args.command)
    engine = Engine(aws, selected, AnswerBook(file_answers, known), ui, prompter, journal, yes=args.yes,
                    history=lambda: list(history.entries()))
    if env.sleep is not None:
        engine.sleep = env.sleep
    if env.open_url is not None:
        engine.open_url = env.open_url

    if args.command == "apply":
        try:
            outcomes = engine.apply()
        except StepFailed:
            raise
        if sandbox is not None and engine.credentials_retired:
            admin = str(engine.answers.lookup("admin-user", "name"))
            how = sandbox.continue_as(admin)
            ui.line((" SANDBOX ", "bold black on yellow"), " later sandbox runs act as IAM user ",
                    (admin, "bold"), f", with {how}")
        return EXIT_OK if all(o.status.value == "compliant" for o in outcomes) else EXIT_PENDING

    from wizard import report
    from wizard.account_check import check_account

    # The steps and the account facts the controls need, all at once, through the one read cache.
    checked = check_account(args.command, engine, aws, caller, known)
    outcomes, results, evidence = checked.outcomes, checked.results, checked.report
    if args.output == "json":
        ui.json(evidence)
    elif args.output == "ocsf":
        env.stdout.write(json.dumps(report.ocsf(evidence), indent=2) + "\n")
    elif args.command == "plan":
        ui.plan(outcomes)
    else:
        ui.check_table(outcomes)
        ui.controls_summary(results)
    if args.report is not None:
        write_report(args.report, evidence, ui, quiet=args.output != "text")
    return exit_code_for(args.command, outcomes, results, selected)


def connect(args: argparse.Namespace, env: Environment, sandbox: Any) -> tuple[Any, Path]:
    """The run's AWS layer (the write guard locked in plan, check and export) and where its journal goes."""
    import steps as step_registry
    from wizard.aws import Aws, build_session, known_region
    from wizard.journal import state_dir
    from wizard.write_guard import WriteGuard

    guard = WriteGuard(reads=step_registry.declared_reads())
    read_only = args.command in ("plan", "check", "export")
    if read_only:
        guard.lock()
    region = args.region
    if region is not None and not known_region(region) and not (args.endpoint_url or sandbox):
        raise WizardError(f"unknown region '{region}'")
    if sandbox is not None:
        creds = sandbox.credentials()
        session = build_session(None, region, credentials={"key": creds.key, "secret": creds.secret})
        aws = Aws(
            session, guard, endpoint_url=sandbox.endpoint_url, sandbox=True, client_hook=sandbox.hook_client,
            read_cache=read_cache_for(read_only),
        )
        journal_dir = sandbox.directory
    else:
        session = build_session(args.profile, region)
        aws = Aws(session, guard, endpoint_url=args.endpoint_url, read_cache=read_cache_for(read_only))
        journal_dir = state_dir()
    if env.observe_aws is not None:
        env.observe_aws(aws)
    return aws, journal_dir


def write_report(
    path: Path, evidence: dict[str, Any], ui: Ui, quiet: bool,
    render: tuple[Callable[[dict[str, Any]], str], Callable[[dict[str, Any]], str]] | None = None,
) -> None:
    """The evidence report, Markdown or HTML by the name's suffix (`render`: another report's two writers)."""
    from wizard import report

    markdown, html = render or (report.markdown, report.html_report)
    text = html(evidence) if path.suffix.lower() == ".html" else markdown(evidence)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise WizardError(f"cannot write the report {path}: {exc.strerror}") from exc
    if not quiet:
        ui.line("Evidence report written to ", (str(path), "bold"))


def export(
    args: argparse.Namespace, env: Environment, aws: Any, caller: Any, known: Sequence[Any],
    file_answers: dict[str, dict[str, Any]],
) -> int:
    from wizard import report
    from wizard.answers import AnswerBook

    answers = AnswerBook(file_answers, known)
    exceptions = report.accepted_exceptions(answers.lookup, None)
    env.stdout.write(report.prowler_mutelist(caller.account, exceptions))
    return EXIT_OK


def read_cache_for(read_only: bool) -> Any:
    """In check and plan the account does not change during the run, so each distinct read is sent once."""
    if not read_only:
        return None
    from wizard.read_cache import ReadCache

    return ReadCache()


def exit_code_for(
    command: str, outcomes: Sequence[StepOutcome], controls: Sequence[ControlResult] = (),
    selected: Sequence[Any] = (),
) -> int:
    """check: 0 when the selected steps are compliant and every control they remediate passes."""
    statuses = {o.status.value for o in outcomes}
    if "error" in statuses:
        return EXIT_ERROR
    if command == "plan":
        return EXIT_PENDING if any(o.changes for o in outcomes) else EXIT_OK
    ids = {s.id for s in selected}
    failing = [r for r in controls if r.status != "PASS" and ids & set(r.remediated_by)]
    return EXIT_OK if statuses <= {"compliant"} and not failing else EXIT_PENDING


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
