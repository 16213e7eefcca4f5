"""The admin's AWS CLI profile with MFA, end to end, as a person runs it: a full apply (programmatic access, the
admin's MFA enrolled, enforcement on, root's key deleted) against a moto server, then `aws-harden check
--profile aws-harden-admin` in a real terminal. botocore runs credential-process as a subprocess whose stdout
and stderr it captures; the code is asked on the terminal (pexpect's pseudo-terminal) and the session kept in
the keyring, so the next check asks nothing."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pexpect
import pytest

from tests import full_run, harness
from tests.file_keyring import NAME, JsonFileKeyring
from tests.leak_guard import LeakGuard
from wizard import totp
from wizard.sandbox import Sandbox
from wizard.sandbox.root_user import assign_root_mfa
from wizard.sandbox.server import DUMMY_SECRET
from wizard.secrets import redact_aws_logs

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / ".venv" / "bin" / "aws-harden"
IAM_STEPS = "admin-user,admin-group,root-access-keys,password-policy,signin-link,user-mfa,root-mfa"
PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/admin: "


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Sandbox]:
    """A moto server on 127.0.0.1, seeded as a fresh account with a root caller (the sandbox's)."""
    sandbox = Sandbox(tmp_path / "server")
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def shared_keyring(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One keyring for this process and its subprocesses, named as an operator would name it."""
    path = tmp_path_factory.mktemp("keyring") / "keyring.json"
    monkeypatch.setenv("AWS_HARDEN_TEST_KEYRING", str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NAME)
    keyring.set_keyring(JsonFileKeyring())
    return path


def apply_everything(server: Sandbox, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, harness.Phone]:
    """The first day, at a terminal, as root: returns the AWS config file, the answers and the phone."""
    assert server.root is not None
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.root.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    config = tmp_path / "aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    redact_aws_logs()  # as the product does before its first call: root's seed is in the response body
    assign_root_mfa(server._admin_client("iam", "us-east-1"))  # only root can, in the console
    phone = harness.Phone(monkeypatch)
    answers = full_run.answers_file(tmp_path, server.root.key)  # programmatic access, enforcement, ...
    operator = full_run.operator(phone, endpoint_url=server.endpoint_url)
    applied = full_run.apply(answers, operator, "--endpoint-url", server.endpoint_url, "--only", IAM_STEPS)
    text = applied.text
    assert applied.code == 0, text
    assert "next, as the admin on the command line" in text  # the hint for the next run
    assert "credential-process --account 123456789012 --user admin\n" in config.read_text()  # no serial yet
    return config, answers, phone


def spawn_check(server: Sandbox, config: Path, answers: Path, tmp_path: Path) -> pexpect.spawn:
    env = {"AWS_CONFIG_FILE": str(config), "AWS_ENDPOINT_URL": server.endpoint_url,
           "AWS_HARDEN_TEST_KEYRING": os.environ["AWS_HARDEN_TEST_KEYRING"], "PYTHON_KEYRING_BACKEND": NAME}
    return harness.spawn(["check", "--profile", "aws-harden-admin", "--only", IAM_STEPS, "--answers", str(answers)],
                         tmp_path, tmp_path / "state", env, program=[str(PROGRAM)], width=200)


def test_check_through_the_profile_uses_an_mfa_session(
    server: Sandbox, shared_keyring: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    no_secret_leaks: LeakGuard,
) -> None:
    config, answers, phone = apply_everything(server, tmp_path, monkeypatch)

    # The enforcement is real in the test world: the admin's long-term key alone is denied nearly everything.
    key = json.loads(keyring.get_password("aws-harden", "123456789012/admin/access-key") or "{}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    denied = harness.run("check", "--endpoint-url", server.endpoint_url, "--only", IAM_STEPS, "--answers", str(answers),
                         stdin="pipe", width=200)
    assert denied.code == 1 and "AccessDenied" in denied.text

    check = spawn_check(server, config, answers, tmp_path)
    check.expect_exact(PROMPT)  # on the terminal, though botocore captures credential-process's output
    check.send(totp.code_at(phone.seeds[-1], totp.counter_at(time.time())) + "\r")
    check.expect(pexpect.EOF)
    check.close()
    assert check.exitstatus == 0, check.before
    assert "arn:aws:iam::123456789012:user/admin" in (check.before or "")  # the admin, through its session
    session = json.loads(json.loads(shared_keyring.read_text())["aws-harden\n123456789012/admin/mfa-session"])
    no_secret_leaks.remember(json.dumps(session))  # made in a subprocess: searched for here too
    assert session["SerialNumber"] == "arn:aws:iam::123456789012:mfa/admin"

    again = spawn_check(server, config, answers, tmp_path)
    again.expect(pexpect.EOF)
    again.close()
    assert again.exitstatus == 0, again.before
    assert "Enter MFA code" not in (again.before or "")  # the kept session, until it expires


def test_an_mfa_protected_role_profile_asks_on_the_terminal(server: Sandbox, tmp_path: Path) -> None:
    """role_arn + source_profile + mfa_serial, as the AWS CLI documents it: botocore asks for the code
    itself (on the terminal) and sends sts:AssumeRole with it, outside the write guard."""
    assert server.root is not None
    # The source is an IAM user and the role trusts the account: AWS refuses root's AssumeRole, and so does the
    # sandbox (wizard/sandbox/strict_sts.py).
    from wizard.aws import isolated_session

    iam = isolated_session(server.root.key, DUMMY_SECRET, "us-east-1").client("iam", endpoint_url=server.endpoint_url)
    iam.create_user(UserName="ops-person")
    key = iam.create_access_key(UserName="ops-person")["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}
    iam.create_role(RoleName="ops", AssumeRolePolicyDocument=json.dumps(trust))
    config = tmp_path / "aws-config"
    config.write_text(
        f"[profile person]\naws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n"
        "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = person\n"
        "mfa_serial = arn:aws:iam::123456789012:mfa/ops-person\nregion = us-east-1\n")
    child = harness.spawn(["check", "--profile", "ops", "--only", "password-policy"], tmp_path, tmp_path / "state",
                          {"AWS_CONFIG_FILE": str(config), "AWS_ENDPOINT_URL": server.endpoint_url},
                          program=[str(PROGRAM)], width=200)
    child.expect_exact("Enter MFA code for arn:aws:iam::123456789012:mfa/ops-person: ")
    child.send("123456\r")  # moto's AssumeRole does not check the code; the point is the path it takes
    child.expect(pexpect.EOF)
    child.close()
    output = child.before or ""
    assert child.exitstatus == 2, output  # a fresh account's password policy: not compliant, and no error
    assert "assumed-role/ops/" in output and "write guard refused" not in output
