"""Credentials resolve the way the AWS CLI resolves them, outside the write guard; the guard lets through only
the reads the steps declared, so calls that look like reads and mint credentials are refused in plan and check."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import steps
from steps.admin_user import AdminUser, AdminUserState
from tests import harness
from tests.conftest import Account, run_cli
from wizard.aws import Aws
from wizard.protocol import StepContext

ROLE = "arn:aws:iam::123456789012:role/ops"


def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    config = tmp_path / "config"
    config.write_text(text)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")  # empty: botocore skips the environment provider
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")


def source_profile(account: Account) -> str:
    return (f"[profile root-keys]\naws_access_key_id = {account.root_key}\n"
            f"aws_secret_access_key = {account.root_secret}\nregion = us-east-1\n")


def test_role_arn_with_source_profile(account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's AssumeRole provider sends sts:AssumeRole itself: the guard must not see it. The source is an
    IAM user, and the role exists and trusts the account: AWS refuses root's AssumeRole (sandbox/strict_sts.py)."""
    iam = account.raw("iam")
    iam.create_user(UserName="operator")
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}
    iam.create_role(RoleName="ops", AssumeRolePolicyDocument=json.dumps(trust))
    write_config(tmp_path, monkeypatch,
                 f"[profile operator]\naws_access_key_id = {key['AccessKeyId']}\n"
                 f"aws_secret_access_key = {key['SecretAccessKey']}\nregion = us-east-1\n"
                 f"[profile ops]\nrole_arn = {ROLE}\nsource_profile = operator\nregion = us-east-1\n")
    result = run_cli(["check", "--profile", "ops", "--only", "admin-user,password-policy"])
    assert result.code == 2, result.text  # a fresh account: not compliant, and no error
    assert "write guard refused" not in result.text
    assert "arn:aws:sts::123456789012:assumed-role/ops/" in result.out


def test_web_identity_profile(account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.signature")
    write_config(tmp_path, monkeypatch,
                 f"[profile ci]\nrole_arn = {ROLE}\nweb_identity_token_file = {token}\nregion = us-east-1\n")
    result = run_cli(["check", "--profile", "ci", "--only", "password-policy"])
    assert result.code == 2, result.text
    assert "assumed-role/ops/" in result.out


def test_credential_process_profile(account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    printer = tmp_path / "print_key.py"
    pair = {"Version": 1, "AccessKeyId": account.root_key, "SecretAccessKey": account.root_secret}
    printer.write_text(f"print({json.dumps(json.dumps(pair))})\n")
    write_config(tmp_path, monkeypatch,
                 f"[profile proc]\ncredential_process = {sys.executable} {printer}\nregion = us-east-1\n")
    result = run_cli(["check", "--profile", "proc", "--only", "password-policy"])
    assert result.code == 2, result.text
    assert "arn:aws:iam::123456789012:root" in result.out


@pytest.fixture
def sso_portal(account: Account) -> Iterator[list[str]]:
    """The SSO portal (sso:GetRoleCredentials), which moto lacks, answering for every botocore session with
    root's key; yields the operations it answered."""
    from botocore.awsrequest import AWSResponse
    from botocore.handlers import BUILTIN_HANDLERS

    answered: list[str] = []

    class Raw:
        def __init__(self, body: bytes) -> None:
            self.body = body

        def stream(self, **_: Any) -> Iterator[bytes]:
            yield self.body

    def answer(request: Any, **_: Any) -> AWSResponse:
        answered.append(request.url.split("?")[0].rsplit("/", 1)[-1])
        body = json.dumps({"roleCredentials": {
            "accessKeyId": account.root_key, "secretAccessKey": account.root_secret,
            "sessionToken": "sso-session-token", "expiration": 4102444800000}}).encode()
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, Raw(body))  # type: ignore[arg-type]

    spec = ("before-send.sso", answer)
    BUILTIN_HANDLERS.insert(0, spec)
    try:
        yield answered
    finally:
        BUILTIN_HANDLERS.remove(spec)


def test_sso_profile_after_login(account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 sso_portal: list[str]) -> None:
    import botocore.credentials
    import botocore.tokens

    cache = tmp_path / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    for where in (botocore.credentials.SSOProvider, botocore.tokens.SSOTokenProvider):  # fixed at import time
        monkeypatch.setattr(where, "_SSO_TOKEN_CACHE_DIR", str(cache))
    (cache / f"{hashlib.sha1(b'corp').hexdigest()}.json").write_text(json.dumps({
        "startUrl": "https://example.awsapps.com/start", "region": "us-east-1",
        "accessToken": "cached-sso-access-token", "expiresAt": "2099-01-01T00:00:00Z"}))
    write_config(tmp_path, monkeypatch,
                 "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\n"
                 "region = us-east-1\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n"
                 "sso_region = us-east-1\n")
    result = run_cli(["check", "--profile", "sso", "--only", "password-policy"])
    assert result.code == 2, result.text
    assert sso_portal == ["credentials"], sso_portal  # the portal answered, outside the guard


# --- the guard's allow-list --------------------------------------------------------------------------------

class MintsCredentials(AdminUser):
    """A buggy step that asks STS for credentials while inspecting (the name looks like a read)."""

    def inspect(self, aws: Aws, ctx: StepContext) -> AdminUserState:
        aws.client("sts").get_session_token()
        return super().inspect(aws, ctx)


@pytest.mark.parametrize("mode", ["check", "plan"])
def test_get_session_token_is_refused_in_plan_and_check(account: Account, mode: str) -> None:
    from tests.test_write_guard import engine

    aws = account.aws(locked=True)
    sent: list[str] = []
    aws.client_hook = lambda client, service, region: client.meta.events.register(
        "before-send", lambda request, **_: sent.append(str(request.body)) and None)
    outcomes = getattr(engine(aws, [MintsCredentials()]), mode)()
    assert outcomes[0].status.value == "error"
    assert "write guard refused sts:GetSessionToken: this run is read-only" in outcomes[0].reason
    assert aws.guard.refused_writes == ["sts:GetSessionToken"] and aws.guard.sent_writes == []
    assert sent and not any("GetSessionToken" in body for body in sent)  # it never left the machine


def test_every_call_a_full_run_sends_is_declared(account: Account, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    """A full interactive apply (every option, MFA enrolled, the root key deleted last), then check and plan
    as the admin: every call that reached the guard is a declared read of some step, the wizard's own
    GetCallerIdentity, or a write its step declared; none was refused."""
    from tests import full_run
    from wizard.write_guard import WriteGuard

    asked: list[str] = []
    refused: list[str] = []
    original = WriteGuard.check

    def check(guard: WriteGuard, operation: str) -> None:
        asked.append(operation)
        try:
            original(guard, operation)
        except Exception:
            refused.append(operation)
            raise

    monkeypatch.setattr(WriteGuard, "check", check)
    phone = full_run.prepare(account, monkeypatch, tmp_path)
    answers = full_run.answers_file(tmp_path, account.root_key)
    applied = full_run.apply(answers, full_run.operator(phone))
    assert applied.code == 0, applied.text
    # As the admin, from an MFA session (the enforcement this run attached refuses its key alone).
    from wizard.aws import isolated_session

    key, secret = full_run.admin_credentials()
    admin = isolated_session(key, secret, "us-east-1")
    (device,) = admin.client("iam").list_mfa_devices(UserName="admin")["MFADevices"]
    session = admin.client("sts").get_session_token(SerialNumber=device["SerialNumber"],
                                                    TokenCode=phone.code(0))["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", session["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", session["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", session["SessionToken"])
    for command in ("check", "plan"):
        result = run_cli([command, "--answers", str(answers)])
        assert result.code == 0, result.text

    from wizard.organization import ORGANIZATION_READS  # an organization run's: tested in test_organization.py

    declared = steps.declared_reads(steps.available()) - ORGANIZATION_READS
    writes = frozenset().union(*(s.writes | s.sandbox_writes for s in steps.available()))
    assert refused == []
    assert sorted(set(asked) - declared - writes) == []
    # And no declaration is stale: only the orphaned-KMS-key adoption (a run stopped between CreateKey and
    # CreateAlias) reads what a clean run does not. A fresh account has no inline policy or policy version to
    # evaluate where SimulatePrincipalPolicy cannot answer. (The last use of access keys is read for every user:
    # credential-hygiene and its controls; the guardrails read the enabled regions.)
    assert declared - set(asked) == {"kms:ListResourceTags", "kms:ListAliases",
                                     "iam:GetUserPolicy", "iam:GetPolicy", "iam:GetPolicyVersion"}


def test_a_full_check_refuses_nothing(account: Account) -> None:
    result = harness.run("check", stdin="pipe")
    assert result.code == 2
    assert result.aws[0].guard.refused_writes == []
