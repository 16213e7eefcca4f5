"""The central root lockdown, run from the management account: org-root-access enables IAM's organization features,
member-root-credentials audits every member's root user in a root session and deletes its credentials only after
the operator types that account's id (or the answers file lists it under --yes); a re-run finds nothing to do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import harness
from tests.conftest import Account, run_cli
from tests.org_world import MANAGEMENT, OrgWorld, organization
from wizard.sandbox.organization import Member
from wizard.sandbox.root_user import ROOT_NAME

STEPS = "org-root-access,member-root-credentials"


@pytest.fixture
def org(account: Account, monkeypatch: pytest.MonkeyPatch) -> OrgWorld:
    return organization(account, (Member("dev", root_key=True), Member("staging", root_mfa=True),
                                  Member("prod", root_password=False)), monkeypatch)


def root_credentials(org: OrgWorld, name: str) -> dict[str, Any]:
    """What the member's root user holds, read directly from moto."""
    iam = org.client("iam", org.id(name))
    try:
        iam.get_login_profile(UserName=ROOT_NAME)
        password = True
    except iam.exceptions.NoSuchEntityException:
        password = False
    return {"password": password,
            "keys": len(iam.list_access_keys(UserName=ROOT_NAME)["AccessKeyMetadata"]),
            "mfa": len(iam.list_mfa_devices(UserName=ROOT_NAME)["MFADevices"])}


def observed(argv: list[str]) -> tuple[int, str, Any]:
    result = harness.run(*argv, stdin="pipe", width=160)
    return result.code, result.text, result.aws[0]


def answers(tmp_path: Path, accounts: str) -> str:
    path = tmp_path / "answers.toml"
    path.write_text(f'[member-root-credentials]\nconfirm_accounts = "{accounts}"\n')
    return str(path)


def test_lockdown_end_to_end(org: OrgWorld, tmp_path: Path) -> None:
    dev, staging = org.id("dev"), org.id("staging")
    # Before: the features are off, so the members cannot even be audited.
    code, text, _ = observed(["plan", "--only", STEPS])
    assert code == 2, text
    assert "trusted access for IAM off; IAM features enabled: none" in text
    assert "+ trusted access for iam.amazonaws.com" in text and "+ IAM feature RootSessions" in text
    assert "root sessions are not enabled" in text

    # Interactive: the features are enabled (one yes); the audit plans a deletion per member with root credentials, each
    # shown with what it means for recovery; dev's id is typed, staging's is not (left for now).
    result = run_cli(["apply", "--only", STEPS], answers=[True, dev, ""], width=200)
    assert result.code == 2, result.text
    features = org.admin("iam").list_organizations_features()["EnabledFeatures"]
    assert features == ["RootCredentialsManagement", "RootSessions"]
    assert f"root user credentials of {dev} (dev)" in result.text
    assert f"- root user credentials of {dev} (dev)  delete its root user's console password, 1 access key" \
        in result.text
    assert f"- root user credentials of {staging} (staging)  delete its root user's console password, 1 MFA " \
        "device" in result.text
    assert "MFA devices = " in result.text and ":mfa/root-account-mfa-device: deactivated" in result.text
    assert "IAMCreateRootUserPassword" in result.text and "nobody can sign in as this account's root" in result.text
    typed = [q for q in result.prompter.asked if q.startswith("To go ahead, type")]
    assert typed == [f"To go ahead, type {dev} (leave empty to keep it for now)",
                     f"To go ahead, type {staging} (leave empty to keep it for now)"]
    assert root_credentials(org, "dev") == {"password": False, "keys": 0, "mfa": 0}
    assert root_credentials(org, "staging") == {"password": True, "keys": 0, "mfa": 1}
    assert root_credentials(org, "prod") == {"password": False, "keys": 0, "mfa": 0}

    # Unattended, the answers file names staging: its root credentials go too.
    code, text, aws = observed(["apply", "--yes", "--only", STEPS, "--answers", answers(tmp_path, staging)])
    assert code == 0, text
    assert root_credentials(org, "staging") == {"password": False, "keys": 0, "mfa": 0}
    assert set(aws.guard.sent_writes) == {"iam:DeleteLoginProfile", "iam:DeactivateMFADevice"}

    # A re-run finds nothing to do, and sends nothing.
    code, text, _ = observed(["plan", "--only", STEPS])
    assert code == 0 and "No changes." in text
    assert "3 of 3 member accounts: root has no credentials" in text
    code, text, aws = observed(["apply", "--yes", "--only", STEPS, "--answers", answers(tmp_path, staging)])
    assert code == 0 and aws.guard.sent_writes == []


def test_yes_deletes_only_what_the_answers_file_lists(org: OrgWorld, tmp_path: Path) -> None:
    dev = org.id("dev")
    code, text, _ = observed(["apply", "--yes", "--only", STEPS])
    assert code == 2
    assert "not confirmed: to do this unattended, put confirm_accounts" in text
    assert root_credentials(org, "dev") == {"password": True, "keys": 1, "mfa": 0}
    code, text, _ = observed(["apply", "--yes", "--only", STEPS, "--answers", answers(tmp_path, "111111111111")])
    assert code == 2 and "not confirmed: the answers file's confirm_accounts is '111111111111'" in text
    assert root_credentials(org, "dev")["keys"] == 1
    code, text, _ = observed(["apply", "--yes", "--only", STEPS, "--answers", answers(tmp_path, f"{dev}")])
    assert code == 2  # staging is still pending
    assert root_credentials(org, "dev") == {"password": False, "keys": 0, "mfa": 0}
    assert root_credentials(org, "staging")["password"]


def test_a_bad_account_list_is_refused_before_anything_runs(org: OrgWorld, tmp_path: Path) -> None:
    result = run_cli(["apply", "--yes", "--only", STEPS, "--answers", answers(tmp_path, "dev")])
    assert result.code == 1 and "account ids are 12 digits" in result.err
    with pytest.raises(Exception, match="ServiceAccessNotEnabled"):  # nothing was enabled
        org.admin("iam").list_organizations_features()


def test_plan_audits_in_root_sessions_and_writes_nothing(org: OrgWorld) -> None:
    run_cli(["apply", "--yes", "--only", "org-root-access"])
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(aws: Any) -> None:
        aws.session.events.register("before-parameter-build.sts.AssumeRoot", lambda params, model, **_: sent.append(
            (model.name, dict(params))))

    harness.run("plan", "--only", "member-root-credentials", "--output", "json", stdin="pipe", width=None,
                observe=record)
    assert {p["TargetPrincipal"] for _, p in sent} == {org.id(n) for n in ("dev", "staging", "prod")}
    for _, params in sent:  # at most 15 minutes, scoped to the audit task policy
        assert params["DurationSeconds"] == 900
        assert params["TaskPolicyArn"] == {"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}
    code, text, aws = observed(["plan", "--only", "member-root-credentials", "--output", "json"])
    assert code == 2
    report = json.loads(text[:text.rindex("}") + 1])
    step = report["steps"][0]
    deletions = {c["resource"]: c for c in step["changes"]}
    assert set(deletions) == {f"root user credentials of {org.id(n)} ({n})" for n in ("dev", "staging")}
    assert deletions[f"root user credentials of {org.id('dev')} (dev)"]["operations"] == [
        "sts:AssumeRoot", "iam:DeleteLoginProfile", "iam:DeleteAccessKey"]
    assert aws.guard.locked and aws.guard.attempts == []  # the root sessions share this guard
    assert root_credentials(org, "dev") == {"password": True, "keys": 1, "mfa": 0}


def test_an_audit_that_fails_leaves_that_member_to_the_operator(org: OrgWorld) -> None:
    run_cli(["apply", "--yes", "--only", "org-root-access"])
    from botocore.awsrequest import AWSResponse

    prod = org.id("prod")
    seen: list[Any] = []

    def deny_prod(aws: Any) -> None:
        def before(params: dict[str, Any], **_: Any) -> Any:
            if params["body"].get("TargetPrincipal") == prod:
                return AWSResponse(None, 403, {}, None), {"Error": {"Code": "AccessDenied", "Message": "SCP"}}
            return None

        aws.session.events.register("before-call.sts.AssumeRoot", before)
        seen.append(aws)

    result = harness.run("plan", "--only", "member-root-credentials", stdin="pipe", width=200, observe=deny_prod)
    assert result.code == 2
    assert f"{prod} (prod): the root audit failed: AssumeRoot failed: AccessDenied" in result.out


def test_nothing_to_do_outside_an_organization(account: Account) -> None:
    result = run_cli(["plan", "--only", STEPS])
    assert result.code == 0, result.text
    assert "not in an AWS Organization" in result.text


def test_a_member_account_is_told_where_root_is_managed(org: OrgWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    org.act_as_role("dev", monkeypatch)
    result = run_cli(["plan", "--only", STEPS])
    assert result.code == 0, result.text
    assert f"managed from the management account {MANAGEMENT}" in result.text


def test_the_organization_check_runs_the_lockdown_in_the_management_account(org: OrgWorld) -> None:
    result = run_cli(["check", "--organization", "--output", "json", "--only", f"password-policy,{STEPS}"])
    payload = json.loads(result.out)
    by_id = {a["id"]: a for a in payload["accounts"]}
    assert [s["id"] for s in by_id[MANAGEMENT]["report"]["steps"]] == ["password-policy", *STEPS.split(",")]
    for name in ("dev", "staging", "prod"):
        member = by_id[org.id(name)]
        assert [s["id"] for s in member["report"]["steps"]] == ["password-policy"]
        assert [s["id"] for s in member["skipped_steps"]] == STEPS.split(",")


def test_root_sessions_go_to_a_regional_sts_endpoint(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    """"The STS global endpoint is not supported for AssumeRoot" (botocore's STS model), whatever the profile says."""
    from wizard.organization import regional_sts

    assert regional_sts(account.aws()).meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    legacy = account.aws()
    assert legacy.client("sts").meta.endpoint_url == "https://sts.amazonaws.com"
    assert regional_sts(legacy).meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"
