"""Building a run, in one place: from its typed configuration (RunConfig, what the command line said) and
its Environment (streams, terminal, prompter) to the Ui, the steps and answers, the operator, the sandbox,
the AWS layer (session, write guard, read cache), the journal and the outputs; then one account's command.

cli.py parses arguments into a RunConfig and turns what happens here into exit codes; org_run.py runs the
same pieces across an organization. Heavy imports happen inside functions so `--help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from wizard.errors import WizardError

if TYPE_CHECKING:
    from wizard.aws import Aws, Caller
    from wizard.engine import Engine
    from wizard.interaction import Interaction
    from wizard.journal import Journal
    from wizard.prompts import Prompter
    from wizard.protocol import Step
    from wizard.read_cache import ReadCache
    from wizard.render import Ui
    from wizard.write_guard import WriteGuard

# Interactive apply draws QR codes and plans that are unreadable when wrapped; check, plan and --yes wrap.
MIN_WIDTH = 60

Render = tuple[Callable[[dict[str, Any]], str], Callable[[dict[str, Any]], str]]


@dataclass(frozen=True)
class RunConfig:
    """What the command line asked for, typed (the field names are the options' names)."""

    command: str = "apply"
    what: str | None = None  # export's subject
    sandbox: bool = False
    sandbox_reset: bool = False
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    only: str | None = None
    yes: bool = False
    answers: Path | None = None
    output: str = "text"
    report: Path | None = None
    organization: bool = False
    org_role: str | None = None
    accounts: str | None = None
    max_concurrency: int | None = None
    debug: bool = False

    @property
    def read_only(self) -> bool:
        """plan, check and export: the write guard is locked before the first step runs."""
        return self.command in ("plan", "check", "export")

    @property
    def in_sandbox(self) -> bool:
        return self.sandbox or self.sandbox_reset

    @property
    def text(self) -> bool:
        """Text output (not JSON or OCSF): the context lines and spinners are shown."""
        return self.output == "text"


@dataclass(frozen=True)
class Environment:
    """What the program reads from and writes to, so a run can be driven whole (httpie's pattern)."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    stdin_isatty: bool = field(default_factory=lambda: sys.stdin.isatty())
    # Where secrets (QR codes, keys as text, a password shown once) may go, given stdout: see
    # wizard.terminal.open_terminal (stdout if a terminal, else /dev/tty, else None).
    terminal: Callable[[IO[str]], IO[str] | None] | None = None
    # Who answers the questions: questionary on the terminal when None.
    prompter: Prompter | None = None
    width: int | None = None
    sandbox_keyring: bool = True
    # How the wizard waits between re-checks of an operator action, and opens a console page.
    sleep: Callable[[float], None] | None = None
    open_url: Callable[[str], bool] | None = None


class Run:
    """One run's pieces, each built once; `prepared` makes it (and stops its sandbox at the end)."""

    def __init__(
        self, config: RunConfig, env: Environment, ui: Ui, known: Sequence[Step[Any]], selected: Sequence[Step[Any]],
        file_answers: dict[str, dict[str, Any]], prompter: Prompter | None, sandbox: Any,
    ) -> None:
        self.config = config
        self.env = env
        self.ui = ui
        self.known = list(known)
        self.selected = list(selected)
        self.file_answers = file_answers
        self.prompter = prompter
        self.sandbox = sandbox

    def connect(self) -> tuple[Aws, Path]:
        """The run's AWS layer (the write guard locked in plan, check and export) and where its journal goes."""
        import steps as step_registry
        from wizard.aws import build_session, known_region
        from wizard.journal import state_dir
        from wizard.write_guard import WriteGuard

        config = self.config
        guard = WriteGuard(reads=step_registry.declared_reads())
        if config.read_only:
            guard.lock()
        region = config.region
        if region is not None and not known_region(region) and not (config.endpoint_url or self.sandbox):
            raise WizardError(f"unknown region '{region}'")
        if self.sandbox is not None:
            creds = self.sandbox.credentials()
            session = build_session(None, region, credentials={"key": creds.key, "secret": creds.secret})
            aws = build_aws(session, guard, endpoint_url=self.sandbox.endpoint_url, sandbox=True,
                            client_hook=self.sandbox.hook_client, read_cache=read_cache_for(config.read_only))
            return aws, Path(self.sandbox.directory)
        session = build_session(config.profile, region)
        return build_aws(session, guard, endpoint_url=config.endpoint_url,
                         read_cache=read_cache_for(config.read_only)), state_dir()

    def answer_book(self) -> Any:
        from wizard.answers import AnswerBook

        return AnswerBook(self.file_answers, self.known)

    def interaction(self, ui: Ui | None = None) -> Interaction:
        """The operator of this run (asked through the prompter; --yes agrees without asking)."""
        from wizard.interaction import Interaction
        from wizard.render import Renderer

        operator = Interaction(self.prompter, Renderer(ui or self.ui), yes=self.config.yes)
        if self.env.sleep is not None:
            operator.sleep = self.env.sleep
        if self.env.open_url is not None:
            operator.open_url = self.env.open_url
        return operator

    def engine(
        self, aws: Aws, steps: Sequence[Step[Any]], journal: Journal | None = None,
        history: Callable[[], Sequence[Any]] | None = None, ui: Ui | None = None, asks: bool = True,
    ) -> Engine:
        """An engine over `steps` drawing on `ui` (the run's own by default); `asks` False: nobody is asked."""
        from wizard.engine import Engine
        from wizard.render import Renderer

        listener = Renderer(ui or self.ui)
        return Engine(aws, steps, self.answer_book(), listener, self.interaction(ui) if asks else None, journal,
                      history=history)

    def write_report(self, path: Path, evidence: dict[str, Any], render: Render | None = None) -> None:
        """The evidence report, Markdown or HTML by the name's suffix (`render`: another report's two writers)."""
        from wizard import report

        markdown, html = render or (report.markdown, report.html_report)
        text = html(evidence) if path.suffix.lower() == ".html" else markdown(evidence)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise WizardError(f"cannot write the report {path}: {exc.strerror}") from exc
        if self.config.text:
            self.ui.line("Evidence report written to ", (str(path), "bold"))


def build_aws(
    session: Any, guard: WriteGuard, endpoint_url: str | None = None, sandbox: bool = False,
    client_hook: Callable[[Any, str, str], None] | None = None, read_cache: ReadCache | None = None,
) -> Aws:
    """The one place a run's own AWS layer is made (an organization's accounts get theirs from it)."""
    from wizard.aws import Aws

    return Aws(session, guard, endpoint_url=endpoint_url, sandbox=sandbox, client_hook=client_hook,
               read_cache=read_cache)


@contextmanager
def prepared(config: RunConfig, env: Environment) -> Iterator[Run]:
    """The Ui, the steps, the answers file read and checked, the operator, and the sandbox started (and stopped
    when the run ends), before anything goes to AWS."""
    import steps as step_registry
    from wizard.answers import load_answers_file, validate_answers
    from wizard.render import Ui

    ui = Ui(out=env.stdout, err=env.stderr, width=env.width, terminal=env.terminal)
    known = step_registry.available() + step_registry.organization_steps()
    selected = select_steps(known, config.only, organization=config.organization)
    file_answers: dict[str, dict[str, Any]] = {}
    if config.answers is not None:
        file_answers = load_answers_file(config.answers)
        validate_answers(file_answers, {s.id: s.questions() for s in known}, f"answers file {config.answers}")
    prompter = operator_prompter(config, env, ui)
    sandbox = start_sandbox(config, env, ui) if config.in_sandbox else None
    try:
        yield Run(config, env, ui, known, selected, file_answers, prompter, sandbox)
    finally:
        if sandbox is not None:
            sandbox.stop()


def operator_prompter(config: RunConfig, env: Environment, ui: Ui) -> Prompter | None:
    """apply without --yes asks: the environment's prompter, else questionary on a wide enough terminal."""
    prompter = env.prompter
    if config.command != "apply" or config.yes:
        return prompter
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
    return prompter


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


def start_sandbox(config: RunConfig, env: Environment, ui: Ui) -> Any:
    from wizard.journal import state_dir

    try:
        import moto.server  # noqa: F401  (the extra; wizard.sandbox itself imports it only when it starts)

        from wizard.sandbox import OrganizationSandbox, Sandbox
    except ImportError as exc:  # moto is an extra
        raise WizardError(
            f"the sandbox needs the 'sandbox' extra ({exc.name or 'moto'} is not installed): "
            "pip install 'aws-harden[sandbox]', or with pipx: pipx install 'aws-harden[sandbox]'"
        ) from None
    if config.profile or config.endpoint_url:
        raise WizardError("--sandbox cannot be combined with --profile or --endpoint-url")
    if env.sandbox_keyring:
        import keyring

        from wizard.secrets import memory_keyring

        keyring.set_keyring(memory_keyring())
    sandbox = Sandbox(state_dir() / "sandbox") if not config.organization else OrganizationSandbox(
        state_dir() / "sandbox-organization")
    if config.sandbox_reset:
        sandbox.reset()
    ui.banner_sandbox(str(sandbox.directory), to_err=not config.text)
    with ui.working("Starting the sandbox account…"):
        sandbox.start()
    for problem in sandbox.replay_problems:
        ui.warn(f"sandbox: could not restore a change from an earlier run: {problem}")
    return sandbox


def read_cache_for(read_only: bool) -> ReadCache | None:
    """In check and plan the account does not change during the run, so each distinct read is sent once."""
    if not read_only:
        return None
    from wizard.read_cache import ReadCache

    return ReadCache()


def run_account(run: Run) -> int:
    """One account's apply, check, plan or export; the exit code its outcomes mean."""
    from wizard.journal import Journal
    from wizard.outcome import exit_code_for

    config, ui = run.config, run.ui
    aws, journal_dir = run.connect()
    with ui.working("Asking AWS who is calling…"):
        caller = aws.caller()
    journal = Journal(journal_dir, caller.account, caller.arn, config.command) if config.command == "apply" else None
    if config.command == "export":
        return export(run, caller)
    if config.text:
        ui.context(config.command, caller.arn, caller.kind, caller.account, aws.region)
    # Every command reads the journal (local evidence a step may show, e.g. an operator's confirmation).
    history = Journal(journal_dir, caller.account, caller.arn, config.command)
    engine = run.engine(aws, run.selected, journal, history=lambda: list(history.entries()))

    if config.command == "apply":
        outcomes = engine.apply()
        if run.sandbox is not None and engine.credentials_retired:
            admin = str(engine.answers.lookup("admin-user", "name"))
            how = run.sandbox.continue_as(admin)
            ui.line((" SANDBOX ", "bold black on yellow"), " later sandbox runs act as IAM user ",
                    (admin, "bold"), f", with {how}")
        return exit_code_for("apply", outcomes)

    from wizard import report
    from wizard.account_check import check_account

    # The steps and the account facts the controls need, all at once, through the one read cache.
    checked = check_account(config.command, engine, aws, caller, run.known)
    outcomes, results, evidence = checked.outcomes, checked.results, checked.report
    if config.output == "json":
        ui.json(evidence)
    elif config.output == "ocsf":
        run.env.stdout.write(json.dumps(report.ocsf(evidence), indent=2) + "\n")
    elif config.command == "plan":
        ui.plan(outcomes)
    else:
        ui.check_table(outcomes)
        ui.controls_summary(results)
    if config.report is not None:
        run.write_report(config.report, evidence)
    return exit_code_for(config.command, outcomes, results, run.selected)


def export(run: Run, caller: Caller) -> int:
    from wizard import report
    from wizard.outcome import EXIT_OK

    exceptions = report.accepted_exceptions(run.answer_book().lookup, None)
    run.env.stdout.write(report.prowler_mutelist(caller.account, exceptions))
    return EXIT_OK
