"""password-policy and signin-link against moto: never weaken, one call, the URL always reported,
a taken alias asked again (or a one-line error unattended), and a second apply that sends nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse

from tests.conftest import Account
from tests.lockdown_support import Driver, journal_entries, run

URL = "https://123456789012.signin.aws.amazon.com/console"


def answers(tmp_path: Path, text: str) -> str:
    path = tmp_path / "answers.toml"
    path.write_text(text)
    return str(path)


def policy(account: Account) -> dict[str, Any]:
    result: dict[str, Any] = account.raw("iam").get_account_password_policy()["PasswordPolicy"]
    return result


# --- password-policy ----------------------------------------------------------------------
def test_fresh_account_gets_the_policy_in_one_call_then_nothing(account: Account) -> None:
    plan = run(["plan", "--only", "password-policy"], tty=False)
    assert plan.code == 2 and plan.writes == []
    assert "+ account password policy" in plan.text and "MinimumPasswordLength = 14" in plan.text
    first = run(["apply", "--yes", "--only", "password-policy"], tty=False)
    assert first.code == 0 and first.writes == ["iam:UpdateAccountPasswordPolicy"]
    got = policy(account)
    assert got["MinimumPasswordLength"] == 14 and got["PasswordReusePrevention"] == 24
    assert got["RequireSymbols"] and got["RequireNumbers"] and got["AllowUsersToChangePassword"]
    assert not got["ExpirePasswords"]
    second = run(["apply", "--yes", "--only", "password-policy"], tty=False)
    assert second.code == 0 and second.writes == [] and "already compliant" in second.text
    check = run(["check", "--only", "password-policy"], tty=False)
    assert check.code == 0


def test_stricter_existing_fields_stay_and_weaker_ones_tighten(account: Account) -> None:
    account.raw("iam").update_account_password_policy(
        MinimumPasswordLength=20, MaxPasswordAge=60, HardExpiry=True, PasswordReusePrevention=5
    )
    plan = run(["plan", "--only", "password-policy"], tty=False)
    assert "~ PasswordReusePrevention: 5 -> 24" in plan.text
    assert "MinimumPasswordLength" not in plan.text.split("~ account password policy")[1]
    result = run(["apply", "--yes", "--only", "password-policy"], tty=False)
    assert result.code == 0 and result.writes == ["iam:UpdateAccountPasswordPolicy"]
    got = policy(account)
    assert got["MinimumPasswordLength"] == 20 and got["MaxPasswordAge"] == 60 and got["HardExpiry"]
    assert got["PasswordReusePrevention"] == 24 and got["RequireLowercaseCharacters"]


def test_asked_max_age_never_loosens_a_shorter_one(account: Account, tmp_path: Path) -> None:
    account.raw("iam").update_account_password_policy(MinimumPasswordLength=30, MaxPasswordAge=30)
    file = answers(tmp_path, "[password-policy]\nmax_age = 90\n")
    assert run(["apply", "--yes", "--only", "password-policy", "--answers", file], tty=False).code == 0
    assert policy(account)["MaxPasswordAge"] == 30 and policy(account)["MinimumPasswordLength"] == 30


def test_max_age_from_the_answers_file(account: Account, tmp_path: Path) -> None:
    file = answers(tmp_path, "[password-policy]\nmax_age = 90\n")
    assert run(["apply", "--yes", "--only", "password-policy", "--answers", file], tty=False).code == 0
    assert policy(account)["MaxPasswordAge"] == 90


def test_already_stricter_policy_is_compliant_and_untouched(account: Account) -> None:
    account.raw("iam").update_account_password_policy(
        MinimumPasswordLength=32, RequireSymbols=True, RequireNumbers=True, RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True, AllowUsersToChangePassword=True, PasswordReusePrevention=24,
        MaxPasswordAge=45,
    )
    plan = run(["plan", "--only", "password-policy"], tty=False)
    assert plan.code == 0 and "No changes." in plan.text
    result = run(["apply", "--yes", "--only", "password-policy"], tty=False)
    assert result.code == 0 and result.writes == []


# --- signin-link --------------------------------------------------------------------------
def test_no_alias_reports_the_account_url_in_summary_and_journal(account: Account) -> None:
    plan = run(["plan", "--only", "signin-link"], tty=False)
    assert plan.code == 0 and f"IAM user sign-in URL: {URL}" in plan.text
    result = run(["apply", "--yes", "--only", "signin-link"], tty=False)
    assert result.code == 0 and result.writes == []
    summary = result.text.split("Summary")[1]
    assert f"IAM user sign-in URL: {URL}" in summary and "sign out of the root user" in summary
    outputs = [e["detail"] for e in journal_entries() if e["result"] == "output"]
    assert f"IAM user sign-in URL: {URL}" in outputs
    assert all(e["step"] == "signin-link" for e in journal_entries() if e["result"] == "output")


def test_alias_is_set_and_the_url_follows(account: Account, tmp_path: Path) -> None:
    file = answers(tmp_path, '[signin-link]\nalias = "acme-prod"\n')
    plan = run(["plan", "--only", "signin-link", "--answers", file], tty=False)
    assert "+ account alias" in plan.text and "alias = acme-prod" in plan.text
    result = run(["apply", "--yes", "--only", "signin-link", "--answers", file], tty=False)
    assert result.code == 0 and result.writes == ["iam:CreateAccountAlias"]
    assert account.raw("iam").list_account_aliases()["AccountAliases"] == ["acme-prod"]
    summary = result.text.split("Summary")[1]
    assert "IAM user sign-in URL: https://acme-prod.signin.aws.amazon.com/console" in summary
    again = run(["apply", "--yes", "--only", "signin-link", "--answers", file], tty=False)
    assert again.code == 0 and again.writes == []


def test_existing_alias_is_kept_unless_another_is_asked(account: Account, tmp_path: Path) -> None:
    account.raw("iam").create_account_alias(AccountAlias="old-name")
    kept = run(["apply", "--yes", "--only", "signin-link"], tty=False)
    assert kept.code == 0 and kept.writes == []
    assert "https://old-name.signin.aws.amazon.com/console" in kept.text
    file = answers(tmp_path, '[signin-link]\nalias = "new-name"\n')
    plan = run(["plan", "--only", "signin-link", "--answers", file], tty=False)
    assert "~ alias: old-name -> new-name" in plan.text


def test_invalid_alias_in_the_answers_file_stops_before_any_call(account: Account, tmp_path: Path) -> None:
    file = answers(tmp_path, '[signin-link]\nalias = "Bad--Alias"\n')
    result = run(["apply", "--yes", "--answers", file], tty=False)
    assert result.code == 1 and result.operations == []
    assert "[signin-link] alias" in result.text and "Traceback" not in result.text


def taken(alias: str) -> Any:
    """Fault injection: AWS answers EntityAlreadyExists for this alias, as when another account has it."""

    def hook(client: Any, service: str, region: str) -> None:
        def refuse(params: dict[str, Any], **_: Any) -> Any:
            if params["body"].get("AccountAlias") == alias:
                error = {"Error": {"Code": "EntityAlreadyExists", "Message": "The alias already exists."}}
                return AWSResponse(None, 409, {}, None), error
            return None

        if service == "iam":
            client.meta.events.register("before-call.iam.CreateAccountAlias", refuse)

    return hook


def test_taken_alias_asks_again_interactively(account: Account) -> None:
    driver = Driver({"Account alias": ["Not Valid", "taken-name", "my-own-name"],
                     "Apply 1 change for signin-link": [True, True]})
    result = run(["apply", "--only", "signin-link"], prompter=driver, hook=taken("taken-name"))
    assert result.code == 0, result.text
    assert driver.rejected[0][0] == "Not Valid"  # checked locally, before any call
    assert "the alias 'taken-name' is taken by another AWS account" in result.text
    assert account.raw("iam").list_account_aliases()["AccountAliases"] == ["my-own-name"]
    assert "https://my-own-name.signin.aws.amazon.com/console" in result.text.split("Summary")[1]
    assert any(e["result"] == "rejected" for e in journal_entries())


def test_taken_alias_unattended_is_a_one_line_error(account: Account, tmp_path: Path) -> None:
    file = answers(tmp_path, '[signin-link]\nalias = "taken-name"\n')
    argv = ["apply", "--yes", "--only", "signin-link", "--answers", file]
    result = run(argv, tty=False, hook=taken("taken-name"))
    assert result.code == 1
    assert "aws-harden: error: signin-link: the alias 'taken-name' is taken" in result.text
    assert "Traceback" not in result.text
    assert account.raw("iam").list_account_aliases()["AccountAliases"] == []
