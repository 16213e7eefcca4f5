"""Bad input, one table: each case gives a clear one-line reason and a non-zero exit (or, for a value
typed at a prompt, the reason and the question again, as designed), never a traceback, and loses
nothing: no change is left half-done in the journal, what was done stays done, and where a case says
so, a re-run with good input picks up and finishes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests import faults, harness
from tests.conftest import Account
from tests.full_run import answers_file, apply, inventory, journal_lines, operator, prepare
from tests.lockdown_support import create_admin
from tests.test_faults import CONVERGED
from wizard.cli import MIN_WIDTH
from wizard.interaction import ENTER_CODES, SKIP

CTRL_C = KeyboardInterrupt  # as an answer: the operator presses Ctrl-C at that prompt


@dataclass
class Ctx:
    account: Account
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    hooks: list[Callable[[Any, str, str], None]] = field(default_factory=list)


# Arranging may return a decorator the run goes through (e.g. moto's IAM authorization switch).
Wrap = Callable[[Callable[[], Any]], Callable[[], Any]]
Arrange = Callable[[Ctx], Wrap | None]


@dataclass(frozen=True)
class Case:
    id: str
    argv: Sequence[str]  # "{answers}" stands for the answers file
    answers: str = ""  # the answers file's TOML
    prompts: dict[str, list[object]] | None = None  # None: no terminal, or --yes
    arrange: Arrange | None = None
    width: int = 120
    code: int = 1
    message: str | tuple[str, ...] = ""  # in the one line on stderr (code 1 or 130), else in the output
    rejected: str = ""  # a prompt refused a typed value with this reason, then asked again
    rerun: Sequence[str] = ()  # a run with good input afterwards, which must pick up and finish (exit 0)
    after: Callable[[Ctx], None] | None = None  # what must (still) be in the account


# --- arranging and checking the account ---------------------------------------------------------------
def users(ctx: Ctx) -> list[str]:
    return sorted(u["UserName"] for u in ctx.account.raw("iam").list_users()["Users"])


def no_users(ctx: Ctx) -> None:
    assert users(ctx) == []


def only_admin(ctx: Ctx) -> None:
    assert users(ctx) == ["admin"]


def with_admin(ctx: Ctx) -> None:
    create_admin(ctx.account.raw("iam"))


def answer_at(service: str, operation: str, code: str, status: int, times: int = 1_000) -> Arrange:
    """AWS answering `operation` with an error, `times` times."""

    def arrange(ctx: Ctx) -> None:
        left = [times]

        def hook(client: Any, name: str, region: str) -> None:
            def before_send(request: Any, **_: Any) -> Any:
                if left[0] <= 0:
                    return None
                left[0] -= 1
                faults.unsent(request)
                return faults.error_response(client.meta.service_model, code, "refused here", status)

            if name == service:
                hyphenized = client.meta.service_model.service_id.hyphenize()
                client.meta.events.register_first(f"before-send.{hyphenized}.{operation}", before_send)

        ctx.hooks.append(hook)

    return arrange


def no_credentials(ctx: Ctx) -> None:
    # Empty, as botocore reads unset (deleting them would upset moto's own clean-up of these variables).
    ctx.monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")
    ctx.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")


def caller_without_permissions(ctx: Ctx) -> Wrap:
    """An IAM user with no policy, and moto enforcing IAM authorization during the run (its switch is a
    decorator: the run is the function it wraps)."""
    from moto.core import set_initial_no_auth_action_count

    iam = ctx.account.raw("iam")
    iam.create_user(UserName="intern")
    key = iam.create_access_key(UserName="intern")["AccessKey"]
    ctx.monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    ctx.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    return set_initial_no_auth_action_count(0)  # type: ignore[no-any-return]


def no_mfa_devices(ctx: Ctx) -> None:
    assert ctx.account.raw("iam").list_virtual_mfa_devices()["VirtualMFADevices"] == []


def root_key_kept(ctx: Ctx) -> None:
    from wizard.sandbox.root_user import ROOT_NAME

    keys = ctx.account.raw("iam").list_access_keys(UserName=ROOT_NAME)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [ctx.account.root_key]


def alias_is(alias: str) -> Callable[[Ctx], None]:
    def check(ctx: Ctx) -> None:
        assert ctx.account.raw("iam").list_account_aliases()["AccountAliases"] == [alias]

    return check


def default_vpcs_kept(ctx: Ctx) -> None:
    from tests.moto_regions import TEST_REGIONS

    for region in TEST_REGIONS:
        vpcs = ctx.account.raw("ec2", region).describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
        assert len(vpcs["Vpcs"]) == 1, region


def no_contacts(ctx: Ctx) -> None:
    account = ctx.account.raw("account")
    with pytest.raises(account.exceptions.ResourceNotFoundException):
        account.get_alternate_contact(AlternateContactType="SECURITY")


def contact(**changes: str) -> str:
    fields = {"name": "Security team", "title": "Security", "email": "security@example.com", "phone": "+1 555 0100",
              **changes}
    return "[account-contacts]\nsecurity = { " + ", ".join(f'{k} = "{v}"' for k, v in fields.items()) + " }\n"


YES = ["apply", "--yes", "--answers", "{answers}"]
ADMIN = ["--only", "admin-user"]
APPLY = "Apply "
NAME = "Name of the IAM admin user"
KEY = "access key for the AWS CLI"
BUDGET = {"Name of the monthly cost budget": [None], "Email address": ["you@example.com"]}

CASES = [
    # -- values typed at a prompt: the reason, then the question again --
    Case("user name typed wrong", ["apply", *ADMIN], prompts={NAME: ["bad name!", "alice"], KEY: [False],
                                                              APPLY: [True]},
         code=0, rejected="only letters, digits and + = , . @ _ -",
         after=lambda ctx: None if users(ctx) == ["alice"] else pytest.fail(str(users(ctx)))),
    Case("group name typed wrong", ["apply", "--only", "admin-user,admin-group"],
         prompts={NAME: [None], KEY: [False], "Name of the admin group": ["ops team", "Admins"], APPLY: [True, True]},
         code=0, rejected="only letters, digits"),
    Case("budget amount typed as words, then negative", ["apply", "--only", "budget-alarm"],
         prompts={**BUDGET, "Monthly budget in USD": ["lots", "-3", "25"], APPLY: [True]},
         code=0, rejected="the amount must be more than 0 USD"),
    Case("budget email typed wrong", ["apply", "--only", "budget-alarm"],
         prompts={"Name of the monthly cost budget": [None], "Monthly budget in USD": ["25"],
                  "Email address": ["you at example", "you@example.com"], APPLY: [True]},
         code=0, rejected="'you' is not a valid email address"),
    Case("alias taken, asked again", ["apply", "--only", "signin-link"],
         arrange=answer_at("iam", "CreateAccountAlias", "EntityAlreadyExists", 409, times=1),
         prompts={"Account alias": ["example-corp", "example-corp-2"], APPLY: [True, True]},
         code=0, message="the alias 'example-corp' is taken by another AWS account; choose another",
         after=alias_is("example-corp-2")),
    Case("wrong MFA codes three times", ["apply", "--only", "user-mfa"], arrange=with_admin,
         prompts={"Also enroll": [False], "Require MFA": [False], APPLY: [True], "Then:": [ENTER_CODES] * 3,
                  "First code": ["111111"] * 3, "Next code": ["222222"] * 3},
         code=2, message="MFA enrollment for admin did not finish; the unused device was deleted",
         after=no_mfa_devices),
    # -- the answers file: checked whole before anything runs --
    Case("invalid user name in the answers file", [*YES, *ADMIN], '[admin-user]\nname = "bad name!"\n',
         message="[admin-user] name = 'bad name!': only letters", after=no_users, rerun=["apply", "--yes", *ADMIN]),
    Case("group name too long", YES, f'[admin-group]\nname = "{"g" * 129}"\n', message="at most 128 characters",
         after=no_users),
    Case("invalid alias", YES, '[signin-link]\nalias = "-Example_Corp-"\n', message="lowercase letters, digits"),
    Case("invalid budget emails", YES, '[budget-alarm]\nemails = "you@example.com, nobody"\n',
         message="'nobody' is not a valid email address"),
    Case("invalid alerts email", YES, '[cloudtrail]\nalerts_email = "ops@"\n', message="an email address like"),
    Case("budget amount not a number", YES, '[budget-alarm]\namount = "lots"\n',
         message="[budget-alarm] amount = 'lots': expected float"),
    Case("negative budget amount", YES, "[budget-alarm]\namount = -5\n", message="more than 0 USD"),
    Case("password age out of range", YES, "[password-policy]\nmax_age = 5000\n", message="max_age = 5000"),
    Case("malformed answers file", YES, "[admin-user\nname = 'x'\n", message="is not valid TOML"),
    Case("unknown key in the answers file", YES, '[admin-user]\nnmae = "x"\n', message="has no question 'nmae'"),
    Case("unknown table in the answers file", YES, '[admin-users]\nname = "x"\n',
         message="unknown step [admin-users]"),
    # -- the team's list (issue 14): one reason, naming the entry, before anything runs --
    Case("team: unknown group", YES, '[team-users]\nusers = [{ name = "dana", group = "Admins" }]\n',
         message="users[1] (dana): unknown group 'Admins' (one of ReadOnly, Developers, Billing, SecurityAudit)",
         after=no_users),
    Case("team: a name with spaces", YES, '[team-users]\nusers = [{ name = "dana smith", group = "ReadOnly" }]\n',
         message="users[1] name 'dana smith': only letters", after=no_users),
    Case("team: the same person twice", YES, '[team-users]\nusers = [{ name = "dana", group = "ReadOnly" }, '
         '{ name = "Dana", group = "Developers" }]\n', message="users[2] (Dana): listed twice", after=no_users),
    Case("team: 200 users", YES, "[team-users]\nusers = [" + ", ".join(
        f'{{ name = "u{n}", group = "ReadOnly" }}' for n in range(200)) + "]\n",
         message=("[team-users] users: 200 entries; at most 100", "IAM Identity Center"), after=no_users),
    Case("team: a row without its group", YES, '[team-users]\nusers = [{ name = "dana" }]\n',
         message="users[1]: group is required", after=no_users),
    Case("delegation: not an account id", YES, '[delegation-roles]\nroles = [{ name = "auditor", account = "12", '
         'access = "SecurityAudit" }]\n', message="account '12' is not a 12-digit AWS account id", after=no_users),
    Case("hygiene: a bad name to deactivate", YES, '[credential-hygiene]\ndeactivate = ["a b"]\n',
         message="'a b': only letters", after=no_users),
    Case("answers file missing", ["apply", "--yes", "--answers", "nowhere.toml"], message="answers file not found"),
    Case("alias taken, unattended", [*YES, "--only", "admin-user,signin-link"], '[signin-link]\nalias = "taken"\n',
         arrange=answer_at("iam", "CreateAccountAlias", "EntityAlreadyExists", 409),
         message="signin-link: the alias 'taken' is taken by another AWS account", after=only_admin,
         rerun=["apply", "--yes", "--only", "admin-user,signin-link"]),
    Case("invalid contact email in the answers file", YES, contact(email="security@example"),
         message="[account-contacts] security = ", after=no_contacts),
    Case("invalid contact phone in the answers file", YES, contact(phone="call me"),
         message="phone: digits, spaces and + ( ) - only", after=no_contacts),
    Case("contact without a phone in the answers file", YES,
         '[account-contacts]\nsecurity = { name = "S", title = "T", email = "s@example.com" }\n',
         message="security = {'name': 'S', 'title': 'T', 'email': 's@example.com'}: missing field 'phone'"),
    Case("contact name with an escape sequence", YES, contact(name="\\u001b[31mred"),
         message="name: no control characters", after=no_contacts),
    Case("unknown region in the default VPC regions", YES, '[default-vpcs]\nregions = ["us-east-1", "moon-base-1"]\n',
         message="[default-vpcs] regions: unknown region 'moon-base-1'",
         after=default_vpcs_kept),
    Case("default VPC regions not a list", YES, '[default-vpcs]\nregions = "us-east-1"\n',
         message="regions = 'us-east-1': expected list", after=default_vpcs_kept),
    Case("GuardDuty answer not a boolean", YES, '[guardduty]\nenable = "yes"\n',
         message="[guardduty] enable = 'yes': expected confirm"),
    Case("contact email typed wrong", ["apply", "--only", "account-contacts"],
         prompts={"Security contact": ["Security team", "Security", "sec@@example.com", "sec@example.com",
                                       "+1 555 0100"], "Billing contact": [""], "Operations contact": [""],
                  APPLY: [True]},
         code=2, rejected="'sec@@example.com' is not an email address AWS accepts"),
    Case("region typed wrong at the default VPC deletion", ["apply", "--only", "default-vpcs"],
         prompts={APPLY: [True], "To go ahead, type": ["us-east-2", "", ""]}, code=2,
         rejected="that is not", message="Still to do: default-vpcs", after=default_vpcs_kept),
    Case("Ctrl-C at the typed region", ["apply", "--only", "default-vpcs"],
         prompts={APPLY: [True], "To go ahead, type": [CTRL_C]}, code=130, message="interrupted",
         after=default_vpcs_kept),
    # -- credentials, profile, region, endpoint, permissions --
    Case("no credentials at all", ["check"], arrange=no_credentials, message="no AWS credentials found"),
    Case("expired credentials", [*YES, *ADMIN], arrange=answer_at("sts", "GetCallerIdentity", "ExpiredToken", 400),
         message="the credentials have expired; refresh them", after=no_users),
    Case("unknown profile", ["check", "--profile", "nope"], message="The config profile (nope) could not be found"),
    Case("invalid region", ["check", "--region", "mars-north-1"], message="unknown region 'mars-north-1'"),
    Case("unreachable endpoint", ["check", "--endpoint-url", "http://127.0.0.1:9"], message="cannot reach AWS"),
    Case("caller without IAM permissions", [*YES, *ADMIN], arrange=caller_without_permissions,
         message=("admin-user: ", "failed: AccessDenied: the caller is not allowed to do this"),
         after=lambda ctx: None if users(ctx) == ["intern"] else pytest.fail(str(users(ctx)))),
    # -- Ctrl-C at each kind of prompt: 130, one line, and what was done stays done --
    Case("Ctrl-C at a text question", ["apply"], prompts={NAME: [CTRL_C]}, code=130, message="interrupted",
         after=no_users),
    Case("Ctrl-C at a yes/no question", ["apply"], prompts={NAME: [None], KEY: [CTRL_C]}, code=130,
         message="interrupted", after=no_users),
    Case("Ctrl-C at the agreement to the second step", ["apply", "--only", "admin-user,admin-group"],
         prompts={NAME: [None], KEY: [False], "Name of the admin group": [None], APPLY: [True, CTRL_C]},
         code=130, message="interrupted", after=only_admin,
         rerun=["apply", "--yes", "--only", "admin-user,admin-group"]),
    Case("Ctrl-C at a choice question", ["apply", "--only", "billing-report"],
         prompts={"S3 bucket": [None], "Prefix": [None], "File format": [CTRL_C]}, code=130, message="interrupted"),
    Case("Ctrl-C at the MFA enrollment choice", ["apply", "--only", "user-mfa"], arrange=with_admin,
         prompts={"Also enroll": [False], "Require MFA": [False], APPLY: [True], "Then:": [CTRL_C]},
         code=130, message="interrupted during user-mfa", after=no_mfa_devices),
    Case("Ctrl-C at an MFA code", ["apply", "--only", "user-mfa"], arrange=with_admin,
         prompts={"Also enroll": [False], "Require MFA": [False], APPLY: [True], "Then:": [ENTER_CODES],
                  "First code": ["123456"], "Next code": [CTRL_C]},
         code=130, message="interrupted during user-mfa", after=no_mfa_devices),
    Case("Ctrl-C at the typed root key confirmation", ["apply", "--only", "root-access-keys"], arrange=with_admin,
         prompts={"To go ahead, type": [CTRL_C]}, code=130, message="interrupted", after=root_key_kept),
    Case("Ctrl-C at the operator's console task", ["apply", "--only", "root-mfa"],
         prompts={"assign an MFA device to the root user": [CTRL_C]}, code=130, message="interrupted"),
    Case("operator skips the console task", ["apply", "--only", "root-mfa"],
         prompts={"assign an MFA device to the root user": [SKIP]}, code=2, message="Still to do: root-mfa"),
    # -- the terminal --
    Case("stdin closed", ["apply"], prompts={}, message="input ended before a question was answered (stdin closed)",
         after=no_users),
    Case("no terminal and no --yes", ["apply"], message="apply asks questions and needs a terminal", after=no_users),
    Case("terminal too narrow", ["apply"], prompts={}, width=40,
         message=f"the terminal is 40 columns wide and apply needs at least {MIN_WIDTH}", after=no_users),
    Case("check in a narrow terminal wraps", ["check", "--only", "admin-user"], width=40, code=2,
         message="account 123456789012"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = Ctx(account, tmp_path, monkeypatch)
    answers = tmp_path / "answers.toml"
    answers.write_text(case.answers)
    monkeypatch.chdir(tmp_path)
    wrap = case.arrange(ctx) if case.arrange else None
    result = (wrap or (lambda call: call))(lambda: run_case(ctx, case, answers))()
    code, out, err, script = result.code, result.out, result.err, result.prompter
    where = f"{case.id}: exit {code}\n{out}{err}"
    assert code == case.code, where
    assert "Traceback" not in out + err, where
    parts = (case.message,) if isinstance(case.message, str) else case.message
    if case.code in (1, 130):
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and all(part in lines[0] for part in parts), where
    else:
        assert all(part in " ".join((out + err).split()) for part in parts), where
    if case.rejected:
        assert script is not None and any(case.rejected in why for _, why in script.rejected), script
    assert_no_change_left_open(where)
    if case.after:
        case.after(ctx)
    if case.rerun:
        again = harness.run(*(a.replace("{answers}", str(answers)) for a in case.rerun), stdin="pipe")
        assert again.code == 0, f"{case.id}: the re-run did not finish"
        assert_no_change_left_open(case.id)


def run_case(ctx: Ctx, case: Case, answers: Path) -> harness.Result:
    """The case's command; a terminal to answer on when it has prompts; the arranged hooks on every client."""

    def hooks(client: Any, service: str, region: str) -> None:
        for hook in ctx.hooks:
            hook(client, service, region)

    return harness.run(*(a.replace("{answers}", str(answers)) for a in case.argv),
                       answers=harness.Script(keyed=case.prompts) if case.prompts is not None else None,
                       stdin="pipe" if case.prompts is None else "tty", width=case.width, on_client=hooks)


def assert_no_change_left_open(where: str) -> None:
    """Every change the journal saw start also ended (ok, failed, interrupted, skipped ...)."""
    open_changes: set[tuple[str, str]] = set()
    for entry in journal_lines():
        if "change" not in entry:
            continue
        key = (entry["step"], entry["change"]["resource"])
        (open_changes.add if entry["result"] == "started" else open_changes.discard)(key)
    assert not open_changes, f"{where}: left open in the journal: {open_changes}"


def test_there_are_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20


def test_ctrl_c_at_every_prompt_of_a_full_apply_in_turn_then_it_finishes(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run presses Ctrl-C at the next prompt not interrupted yet: each stops with 130 and one line,
    leaves no change open, and the next picks up without redoing anything; the last one finishes."""
    phone = prepare(account, monkeypatch, tmp_path)
    answers = answers_file(tmp_path, account.root_key)
    interrupted: set[str] = set()
    runs = []
    while True:
        run = apply(answers, operator(phone, interrupted=interrupted))
        runs.append(run)
        if run.code != 130:
            break
        lines = [line for line in run.err.splitlines() if line.strip()]
        assert len(lines) == 1 and "interrupted" in lines[0] and "Traceback" not in run.text, run.text
        assert_no_change_left_open(f"Ctrl-C number {len(runs)}")
        assert len(runs) <= 40, "no end to the prompts"
    assert run.code == 0, run.text
    assert len(interrupted) >= 15  # every question, agreement and code prompt of the day-one flow
    done = Counter((e["step"], e["change"]["resource"]) for r in runs for e in r.journal if e["result"] == "ok")
    assert [change for change, times in done.items() if times > 1] == []
    assert inventory(account) == CONVERGED
