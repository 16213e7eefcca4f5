"""check / plan / apply --organization over an organization in moto: compliant, not compliant, erroring and
unreachable accounts; the table, the JSON (each account's report the single-account one), OCSF, the evidence
report, exit codes; no write in any account for plan; Ctrl-C; the progress display; apply's allow-list."""

from __future__ import annotations

import _thread
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests import harness
from tests.conftest import Account, run_cli
from tests.moto_world import serialise
from tests.org_world import MANAGEMENT, OrgWorld, organization
from wizard.sandbox.organization import STRONG_POLICY, Member

GOOD, WEAK, BROKEN, LEGACY = (Member("good", password_policy=True), Member("weak"), Member("broken"),
                              Member("legacy", role=False))


@pytest.fixture
def org(account: Account, monkeypatch: pytest.MonkeyPatch) -> OrgWorld:
    world = organization(account, (GOOD, WEAK, BROKEN, LEGACY), monkeypatch)
    world.client("iam").update_account_password_policy(**STRONG_POLICY)  # the management account is compliant
    return world


def account_of(aws: Any) -> str:
    """The account an Aws signs into (moto knows each key's account), without sending a request."""
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(aws.session.get_credentials().access_key))


def failing_in(account: str, operation: str = "GetAccountPasswordPolicy") -> Any:
    """An observer that makes one account's `operation` answer AccessDenied, as AWS would to a role without it."""
    from botocore.awsrequest import AWSResponse

    def observe(aws: Any) -> None:
        if account_of(aws) != account:
            return

        def deny(**_: Any) -> Any:
            return AWSResponse(None, 403, {}, None), {"Error": {"Code": "AccessDenied", "Message": "no"}}

        aws.session.events.register(f"before-call.iam.{operation}", deny)

    return observe


def run(argv: list[str], observe: Any = None, tty: bool = False) -> tuple[int, str, str]:
    """tests/harness.py's run, unattended; `observe` sees each account's Aws; `tty`: stdout is a terminal."""
    result = harness.run(*argv, stdin="pipe", stdout="tty" if tty else "pipe", observe=observe)
    return result.code, result.out, result.err


def statuses(payload: dict[str, Any]) -> dict[str, str]:
    return {a["id"]: a["status"] for a in payload["accounts"]}


# --- check: the table, the JSON, the exit codes -------------------------------------------------------------
def test_check_reports_every_kind_of_account(org: OrgWorld) -> None:
    code, out, err = run(["check", "--organization", "--only", "password-policy"], failing_in(org.id("broken")))
    assert code == 1, out + err  # an account errored, another could not be reached
    assert "5 accounts: 2 compliant, 1 not compliant, 1 error, 1 unreachable" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()[:12].isdigit()}
    assert "compliant" in rows[MANAGEMENT] and "ok" in rows[MANAGEMENT]
    assert "compliant" in rows[org.id("good")] and "ok" in rows[org.id("good")]
    assert "not compliant" in rows[org.id("weak")] and "NOT" in rows[org.id("weak")]
    assert "error" in rows[org.id("broken")]
    assert "unreachable" in rows[org.id("legacy")]
    # Each problem is named in one line, and the run went on past them.
    assert "cannot assume the role OrganizationAccountAccessRole (AccessDenied)" in out
    assert "GetAccountPasswordPolicy failed: AccessDenied" in out


def test_json_holds_each_accounts_single_account_report(org: OrgWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(["check", "--organization", "--only", "password-policy", "--output", "json"],
                       failing_in(org.id("broken")))
    payload = json.loads(out)  # the schema guard has validated it against wizard/report-schema.json
    assert code == 1
    assert payload["schema"] == "aws-harden/organization-report"
    assert payload["organization"]["id"] == org.organization_id
    assert payload["organization"]["management_account"] == MANAGEMENT
    assert statuses(payload) == {MANAGEMENT: "compliant", org.id("good"): "compliant", org.id("weak"): "noncompliant",
                                 org.id("broken"): "error", org.id("legacy"): "unassumable"}
    assert payload["summary"] == {"accounts": 5, "compliant": 2, "noncompliant": 1, "error": 1, "unassumable": 1,
                                  "line": "5 accounts: 2 compliant, 1 not compliant, 1 error, 1 unreachable"}
    legacy = next(a for a in payload["accounts"] if a["id"] == org.id("legacy"))
    assert legacy["report"] is None and "OrganizationAccountAccessRole" in legacy["reason"]

    # The weak account's part is what a single-account check of it prints, signed as the same role.
    weak = next(a for a in payload["accounts"] if a["id"] == org.id("weak"))["report"]
    org.act_as_role("weak", monkeypatch)
    code, single_out, _ = run(["check", "--only", "password-policy", "--output", "json"])
    single = json.loads(single_out)
    assert code == 2
    weak.pop("time"), single.pop("time")
    assert weak == single


def test_exit_codes(org: OrgWorld) -> None:
    good, weak = org.id("good"), org.id("weak")
    assert run(["check", "--organization", "--only", "password-policy", "--accounts", f"{MANAGEMENT},{good}"])[0] == 0
    assert run(["check", "--organization", "--only", "password-policy", "--accounts", f"{good},{weak}"])[0] == 2
    assert run(["plan", "--organization", "--only", "password-policy", "--accounts", good])[0] == 0
    code, out, _ = run(["plan", "--organization", "--only", "password-policy", "--accounts", f"{good},{weak}"])
    assert code == 2
    assert "2 accounts: 1 without changes, 1 with changes" in out
    assert f"# {weak} (weak)" in out and "+ account password policy" in out


def test_accounts_and_options_are_checked_before_anything_runs(org: OrgWorld) -> None:
    for argv, reason in (
        (["--accounts", "12345"], "is not an account id"),
        (["--accounts", "999999999999"], "is not an account of organization"),
        (["--org-role", "bad role!"], "a role name is"),
        (["--max-concurrency", "0"], "1 to 64 accounts"),
    ):
        code, _, err = run(["check", "--organization", *argv])
        assert code == 1 and reason in err, (argv, err)
        assert "Traceback" not in err
    code, _, err = run(["check", "--accounts", org.id("good")])
    assert code == 1 and "--accounts is for --organization" in err


def test_not_an_organization_is_said_in_one_line(account: Account) -> None:
    code, _, err = run(["check", "--organization"])
    assert code == 1
    assert "is not in an AWS Organization" in err and "Traceback" not in err


def test_root_is_told_to_run_as_an_iam_identity(org: OrgWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", org.account.root_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", org.account.root_secret)
    code, _, err = run(["check", "--organization"])
    assert code == 1 and "cannot run as the root user" in err and "Roles may not be assumed" in err


def test_a_member_account_cannot_list_the_organization(org: OrgWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS: ListAccounts only from the management account or a delegated administrator (the strict world)."""
    org.act_as_role("weak", monkeypatch)
    code, _, err = run(["check", "--organization"])
    assert code == 1 and "may not list organization" in err and MANAGEMENT in err


# --- plan writes nothing anywhere --------------------------------------------------------------------------------
def moto_state(accounts: list[str]) -> dict[str, Any]:
    """Every account's IAM, Organizations, CloudTrail, S3, ... state. Not state: the temporary keys moto files
    under IAM when a role is assumed (AWS makes no IAM resource for an STS session). moto makes a backend when a
    region is first asked about: they are all made first, so a first read does not look like a change."""
    from moto.backends import get_backend

    from tests.moto_world import BACKEND_KEYS

    found: dict[str, Any] = {}
    for service in ("iam", "organizations", "cloudtrail", "s3", "budgets", "sns", "events"):
        backends = get_backend(service)  # type: ignore[call-overload]
        for account in accounts:
            for region in {"organizations": ("aws",), **BACKEND_KEYS}.get(service, ("us-east-1",)):
                _ = backends[account][region]
        for account, regions in dict.items(backends):
            for region, backend in dict.items(regions):
                state = serialise(backend)
                if service == "iam":
                    state["access_keys"] = {k: v for k, v in state["access_keys"].items() if v["user_name"]}
                    for role in state["roles"].values():
                        role.pop("last_used")  # AWS records it too (RoleLastUsed): a read, not a change
                found[f"{service}/{account}/{region}"] = pruned(state)
    return found


def pruned(value: Any) -> Any:
    """Without empty containers: moto makes some on a first read (budgets' per-account dict)."""
    if isinstance(value, dict):
        kept = {k: pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ({}, [])}
    return [pruned(v) for v in value] if isinstance(value, list) else value


def test_plan_sends_no_write_in_any_account(org: OrgWorld) -> None:
    seen: list[Any] = []
    accounts = [MANAGEMENT, *org.members.values()]
    before = moto_state(accounts)
    code, out, err = run(["plan", "--organization"], seen.append)
    assert code == 1, out + err  # legacy is unreachable; every other account has changes
    assert {account_of(aws) for aws in seen} == {MANAGEMENT, org.id("good"), org.id("weak"), org.id("broken")}
    for aws in seen:
        assert aws.guard.locked
        assert aws.guard.attempts == [], aws.guard.attempts
    from tests.test_dry_run_proof import differences

    changed = differences(before, moto_state(accounts))
    assert changed == [], "\n".join(changed)


def test_check_locks_every_accounts_guard(org: OrgWorld) -> None:
    """The guard of each account's session is locked before its first request: a write there is refused."""
    from wizard.errors import WriteRefused

    refused: list[str] = []

    def try_a_write(aws: Any) -> None:
        if aws.guard.locked and account_of(aws) == org.id("weak"):
            try:
                aws.client("iam").update_account_password_policy(MinimumPasswordLength=20)
            except WriteRefused as exc:
                refused.append(str(exc))

    run(["check", "--organization", "--only", "password-policy"], try_a_write)
    assert refused and "read-only" in refused[0]
    assert "MinimumPasswordLength" not in str(org.client("iam", org.id("weak")).get_account_summary())


def test_each_account_has_its_own_guard_cache_and_adaptive_retries(org: OrgWorld) -> None:
    seen: list[Any] = []
    run(["check", "--organization", "--only", "password-policy"], seen.append)
    base, accounts = seen[0], seen[1:]
    assert len(accounts) == 4  # legacy's role could not be assumed, so it has no session
    assert len({id(a.guard) for a in seen}) == len({id(a.read_cache) for a in seen}) == 5
    for aws in accounts:
        assert aws.client("iam").meta.config.retries["mode"] == "adaptive"  # throttling slows, not fails, the run
        assert aws.read_cache.total_sent > 0
    assert base.client("iam").meta.config.retries["mode"] == "standard"


# --- OCSF and the evidence report ---------------------------------------------------------------------------------
def test_ocsf_findings_are_tagged_with_their_account_and_organization(org: OrgWorld) -> None:
    code, out, _ = run(["check", "--organization", "--only", "password-policy", "--output", "ocsf"])
    findings = json.loads(out)
    accounts = {f["cloud"]["account"]["uid"] for f in findings}
    assert accounts == {MANAGEMENT, org.id("good"), org.id("weak"), org.id("broken")}
    assert {f["cloud"]["org"]["uid"] for f in findings} == {org.organization_id}
    weak = [f for f in findings if f["cloud"]["account"]["uid"] == org.id("weak")
            and f["metadata"]["event_code"] == "iam_password_policy_minimum_length_14"]
    assert [f["status_code"] for f in weak] == ["FAIL"] and weak[0]["cloud"]["account"]["name"] == "weak"
    assert code == 1


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_report_covers_every_account(org: OrgWorld, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"evidence{suffix}"
    code, out, _ = run(["check", "--organization", "--only", "password-policy", "--report", str(path)])
    text = path.read_text()
    assert code == 1 and "Evidence report written to" in out
    assert org.organization_id in text
    for name in ("good", "weak", "broken"):
        assert f"AWS account hardening evidence: {org.id(name)}" in text
    assert org.id("legacy") in text and "OrganizationAccountAccessRole" in text  # named, not reported


# --- concurrency, progress, Ctrl-C ---------------------------------------------------------------------------------
def test_progress_shows_on_a_terminal_only(org: OrgWorld) -> None:
    _, out, _ = run(["check", "--organization", "--only", "password-policy"], tty=True)
    assert "Checking accounts: 5/5 done, 1 error" in out
    _, out, _ = run(["check", "--organization", "--only", "password-policy", "--output", "json"], tty=True)
    assert "Checking accounts" not in out
    json.loads(out)
    _, out, _ = run(["check", "--organization", "--only", "password-policy"])
    assert "Checking accounts" not in out


def test_accounts_are_read_at_once_up_to_max_concurrency(org: OrgWorld) -> None:
    """With a slow endpoint every account is in flight at the same time, never more than --max-concurrency."""
    active: set[str] = set()
    peak: list[int] = [0]
    lock = threading.Lock()

    def slow(aws: Any) -> None:
        account = account_of(aws)

        def before(**_: Any) -> None:
            with lock:
                active.add(account)
                peak[0] = max(peak[0], len(active))
            time.sleep(0.05)

        def after(**_: Any) -> None:
            with lock:
                active.discard(account)

        aws.session.events.register("before-send", before)
        aws.session.events.register("after-call", after)

    run(["check", "--organization", "--only", "password-policy", "--max-concurrency", "2"], slow)
    assert peak[0] == 2
    peak[0] = 0
    run(["check", "--organization", "--only", "password-policy"], slow)
    assert peak[0] >= 3


def test_ctrl_c_stops_every_account(org: OrgWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (KeyboardInterrupt in the main thread, as the signal gives it) while an account is read: the accounts
    not started never start, the running one sends nothing after its request in flight, and the run says so."""
    import wizard.fanout

    stops: list[threading.Event] = []
    original = wizard.fanout.stopper

    def stopper(stop: threading.Event) -> Any:
        stops.append(stop)
        return original(stop)

    monkeypatch.setattr(wizard.fanout, "stopper", stopper)
    monkeypatch.setattr("wizard.org_run.stopper", stopper)
    sent_after: list[str] = []
    seen: list[str] = []

    def press_ctrl_c(aws: Any) -> None:
        account = account_of(aws)
        seen.append(account)

        def before(**_: Any) -> None:
            if not stops:  # the organization is being read: the accounts' run has not begun
                return
            if stops[0].is_set():
                sent_after.append(account)
            elif account == org.id("good"):
                _thread.interrupt_main()
                assert stops[0].wait(30)  # this request is in flight until the main thread has taken Ctrl-C

        aws.session.events.register("before-send", before)

    code, out, err = run(["check", "--organization", "--only", "password-policy", "--max-concurrency", "1"],
                         press_ctrl_c)
    assert code == 130, out + err
    assert "interrupted during the organization run" in err and "accounts done" in err
    assert "Traceback" not in err
    assert sent_after == []  # nothing more went out after Ctrl-C
    assert seen[-1] == org.id("good")  # and no account was started after it
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name.startswith("aws-harden-account")]


# --- apply: the allow-list, one account after the other -----------------------------------------------------------
def test_apply_refuses_steps_not_safe_in_every_account(org: OrgWorld) -> None:
    code, _, err = run(["apply", "--organization", "--yes", "--only", "admin-user"])
    assert code == 1 and "apply --organization runs only the steps that are safe in every account" in err
    assert "not admin-user" in err
    code, _, err = run(["apply", "--organization", "--yes", "--only", "password-policy,nope"])
    assert code == 1 and "unknown step 'nope'" in err


def test_the_allow_list_names_the_issue_15_steps() -> None:
    """Those steps join apply --organization as they are built; any other step is refused, built or not."""
    from types import SimpleNamespace

    from wizard.errors import WizardError
    from wizard.org_run import FAN_OUT_SAFE, fan_out_steps

    assert FAN_OUT_SAFE == ("password-policy", "account-contacts", "s3-public-access", "ebs-encryption",
                            "access-analyzer")
    contacts, mfa = SimpleNamespace(id="account-contacts"), SimpleNamespace(id="user-mfa")
    assert fan_out_steps("apply", [contacts], "account-contacts") == [contacts]
    assert fan_out_steps("apply", [contacts, mfa], None) == [contacts]  # without --only: the safe ones
    with pytest.raises(WizardError, match="not user-mfa"):
        fan_out_steps("apply", [contacts, mfa], "account-contacts,user-mfa")
    assert fan_out_steps("check", [contacts, mfa], None) == [contacts, mfa]  # check and plan read every step


def test_apply_fans_out_the_password_policy(org: OrgWorld) -> None:
    seen: list[Any] = []
    code, out, err = run(["apply", "--organization", "--yes", "--only", "password-policy"], seen.append)
    assert code == 1, out + err  # legacy cannot be reached
    for name in ("good", "weak", "broken"):
        policy = org.client("iam", org.id(name)).get_account_password_policy()["PasswordPolicy"]
        assert policy["MinimumPasswordLength"] == 14 and policy["PasswordReusePrevention"] == 24
    assert "5 accounts: 4 verified, 1 unreachable" in out
    writes = {account_of(aws): aws.guard.sent_writes for aws in seen}
    assert writes[org.id("weak")] == ["iam:UpdateAccountPasswordPolicy"] and writes[org.id("good")] == []
    # Again: nothing to do anywhere.
    seen.clear()
    code, out, _ = run(["apply", "--organization", "--yes", "--only", "password-policy"], seen.append)
    assert all(aws.guard.sent_writes == [] for aws in seen)


def test_apply_goes_on_after_an_account_fails(org: OrgWorld) -> None:
    code, out, err = run(["apply", "--organization", "--yes", "--only", "password-policy"],
                         failing_in(org.id("broken")))
    assert code == 1
    assert "error" in out and org.id("broken") in err
    assert org.client("iam", org.id("weak")).get_account_password_policy()["PasswordPolicy"][
        "MinimumPasswordLength"] == 14


def test_ctrl_c_in_apply_names_the_account(org: OrgWorld) -> None:
    result = run_cli(["apply", "--organization", "--only", "password-policy", "--accounts", org.id("weak")],
                     answers=[KeyboardInterrupt])
    assert result.code == 130
    assert f"interrupted during account {org.id('weak')} (weak); nothing more was changed" in result.err
    with pytest.raises(Exception, match="NoSuchEntity"):
        org.client("iam", org.id("weak")).get_account_password_policy()


def test_session_tokens_and_secrets_never_reach_the_logs() -> None:
    """botocore logs request headers (the session token) and bodies (AssumeRole's and AssumeRoot's answers)."""
    import logging

    from wizard.secrets import RedactSecrets

    lines = ["Sending http request: <AWSPreparedRequest headers={'X-Amz-Security-Token': b'IQoJb3JpZ2lu+/=', "
             "'Authorization': b'AWS4-HMAC-SHA256 Credential=ASIA...'}>",
             "Response body: b'<Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>wJal/r+K</SecretAccessKey>"
             "<SessionToken>IQoJb3JpZ2lu+/=</SessionToken></Credentials>'",
             "CanonicalRequest:\nPOST\n/\n\nhost:sts.us-east-1.amazonaws.com\nx-amz-security-token:IQoJb3JpZ2lu+/=\n"]
    for line in lines:
        record = logging.LogRecord("botocore.endpoint", logging.DEBUG, __file__, 1, line, None, None)
        RedactSecrets().filter(record)
        assert "IQoJb3JpZ2lu" not in record.getMessage() and "wJal" not in record.getMessage()
        assert "(sensitive value)" in record.getMessage()


def test_apply_asks_in_each_account(org: OrgWorld) -> None:
    """Interactive: each account's plan is shown and agreed on its own; a no leaves that account pending."""
    result = run_cli(["apply", "--organization", "--only", "password-policy",
                      "--accounts", f"{org.id('weak')},{org.id('broken')}"], answers=[None, True, None, False])
    assert result.code == 2, result.text
    asked = [q for q in result.prompter.asked if q.startswith("Apply")]
    assert len(asked) == 2 and all("password-policy" in q for q in asked)
    assert org.client("iam", org.id("weak")).get_account_password_policy()["PasswordPolicy"][
        "MinimumPasswordLength"] == 14
    with pytest.raises(Exception, match="NoSuchEntity"):
        org.client("iam", org.id("broken")).get_account_password_policy()


def test_apply_fans_out_the_account_settings(org: OrgWorld, tmp_path: Path) -> None:
    """The guardrails that are the same in every account (issue 15's) go to every reachable account with
    --yes; a second run writes nothing anywhere. (access-analyzer is on the allow-list too, but the sandbox's
    Access Analyzer stand-in keeps one account's analyzers, so it is proven for one account in
    test_guardrails.py, not here.)"""
    from tests.guardrail_answers import CONTACTS

    answers = tmp_path / "answers.toml"
    answers.write_text(CONTACTS)
    only = "account-contacts,s3-public-access,ebs-encryption"
    seen: list[Any] = []
    code, out, err = run(["apply", "--organization", "--yes", "--only", only, "--answers", str(answers)],
                         seen.append)
    assert code == 1, out + err  # legacy cannot be reached
    for name in ("good", "weak", "broken"):
        account = org.id(name)
        block = org.client("s3control", account).get_public_access_block(AccountId=account)
        assert all(block["PublicAccessBlockConfiguration"].values()), name
        assert org.client("ec2", account).get_ebs_encryption_by_default()["EbsEncryptionByDefault"], name
        contact = org.client("account", account).get_alternate_contact(AlternateContactType="SECURITY")
        assert contact["AlternateContact"]["EmailAddress"] == "security@example.com", name
    assert "5 accounts: 4 verified, 1 unreachable" in out
    seen.clear()
    code, out, _ = run(["apply", "--organization", "--yes", "--only", only, "--answers", str(answers)],
                       seen.append)
    assert code == 1 and seen and all(aws.guard.sent_writes == [] for aws in seen)
