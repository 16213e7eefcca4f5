"""Every name, alias, email and id validator matches the whole string, in ASCII: no trailing newline (what a
`$` admits), no look-alike letters or other scripts' digits (what a Unicode \\w or \\d admits), no control
characters."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from steps import admin_user, billing_report, budget_alarm, cloudtrail, root_access_keys, signin_link
from tests.conftest import run_cli
from wizard import credential_process, totp
from wizard.protocol import AnswerValue, iam_name_problem

ROOT = Path(__file__).resolve().parent.parent
# Cyrillic letters that look like Latin ones, and Arabic-Indic digits (digits to a Unicode \d).
LOOK_ALIKES = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "A": "\u0410", "E": "\u0415",
               "1": "\u0661", "2": "\u0662"}


def argument_problem(check: Callable[[str], str]) -> Callable[[AnswerValue], str | None]:
    def problem(value: AnswerValue) -> str | None:
        try:
            check(str(value))
        except Exception as exc:
            return str(exc)
        return None

    return problem


VALIDATORS: list[tuple[str, Callable[[AnswerValue], str | None], str]] = [
    ("IAM user name", lambda v: iam_name_problem(v, 64), "admin"),
    ("IAM group name", lambda v: iam_name_problem(v, 128), "FullAccess"),
    ("CLI profile", admin_user.profile_problem, "aws-harden-admin"),
    ("root key id", root_access_keys.key_id_problem, "AKIAIOSFODNN7EXAMPLE"),
    ("account alias", signin_link.alias_problem, "example-corp"),
    ("trail bucket", cloudtrail.bucket_problem, "my-trail-bucket"),
    ("trail name", cloudtrail.trail_name_problem, "aws-harden-trail"),
    ("alerts email", cloudtrail.email_problem, "ops@example.com"),
    ("billing bucket", billing_report.bucket_problem, "my-billing-bucket"),
    ("billing prefix", billing_report.prefix_problem, "cost-and-usage"),
    ("export name", billing_report.export_name_problem, "aws-harden-cur2"),
    ("budget name", budget_alarm.budget_name_problem, "aws-harden-monthly"),
    ("budget emails", budget_alarm.emails_problem, "ops@example.com"),
    ("MFA code", lambda v: totp.code_problem(str(v)), "123456"),
    ("account id", argument_problem(credential_process.account_id), "123456789012"),
    ("credential-process user", argument_problem(credential_process.user_name), "admin"),
    ("credential-process MFA serial", argument_problem(credential_process.mfa_serial),
     "arn:aws:iam::123456789012:mfa/admin"),
]


def variants(good: str) -> dict[str, str]:
    """Bad values made from a good one."""
    latin = next(ch for ch in good if ch in LOOK_ALIKES)
    homoglyph = good.replace(latin, LOOK_ALIKES[latin], 1)
    return {
        "a trailing newline": good + "\n",
        "a leading newline": "\n" + good,
        "a look-alike letter or another script's digit": homoglyph,
        "an escape sequence": good[:2] + "\x1b[31m" + good[2:],
        "a NUL": good + "\x00",
    }


@pytest.mark.parametrize(("what", "problem", "good"), VALIDATORS, ids=[v[0] for v in VALIDATORS])
def test_validator_takes_the_whole_string_in_ascii(
    what: str, problem: Callable[[AnswerValue], str | None], good: str
) -> None:
    assert problem(good) is None, what
    for how, bad in variants(good).items():
        if what in ("budget emails", "MFA code") and how in ("a trailing newline", "a leading newline"):
            continue  # addresses are split on whitespace; a code is used as normalised (whitespace dropped)
        assert problem(bad) is not None, f"{what} accepted a value with {how}: {bad!r}"


def test_a_name_with_a_trailing_newline_is_refused_before_anything_runs(tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('[admin-user]\nname = "admin\\n"\n')
    result = run_cli(["plan", "--answers", str(answers)])
    assert result.code == 1
    assert "[admin-user] name = 'admin\\n': only letters, digits and + = , . @ _ - are allowed" in result.err


def regex_literals() -> list[tuple[str, int, str, bool]]:
    """(file, line, pattern, compiled with re.ASCII) for every re.compile/fullmatch/match/search literal."""
    found = []
    for path in sorted([*ROOT.glob("wizard/**/*.py"), *ROOT.glob("steps/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                    and node.func.attr in ("compile", "fullmatch", "match", "search")):
                continue
            if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
                continue
            ascii_flag = any("ASCII" in ast.unparse(a) for a in [*node.args[1:], *(k.value for k in node.keywords)])
            found.append((str(path.relative_to(ROOT)), node.lineno, node.args[0].value, ascii_flag))
    return found


def test_every_regex_in_the_product_is_anchored_by_fullmatch_and_ascii() -> None:
    """A source scan, so a new validator cannot bring `^...$` or a Unicode class back."""
    literals = regex_literals()
    assert len(literals) > 10
    anchored = [(f, n, p) for f, n, p, _ in literals if p.endswith("$") and not p.endswith("\\$")]
    assert anchored == [], "use .fullmatch (a `$` admits a trailing newline)"
    unicode_classes = [(f, n, p) for f, n, p, ascii_flag in literals
                       if re.search(r"\\[wdsb]", p, re.IGNORECASE) and not ascii_flag]
    # One is not a validator: the billing export's query parser (it reads AWS's own SQL).
    assert [(f, p) for f, _, p in unicode_classes] == [
        ("steps/billing_report.py", r"\bFROM\s+([A-Za-z0-9_]+)")], unicode_classes
    matched = [line for path in [*ROOT.glob("wizard/**/*.py"), *ROOT.glob("steps/*.py")]
               for line in path.read_text().splitlines() if re.search(r"_RE\.match\(", line)]
    assert matched == [], "validators use .fullmatch"


@pytest.mark.parametrize("name", ["amzn-s3-demo-logs", "192.168.1.10", "my..bucket", "xn--logs", "logs-s3alias",
                                  "Logs", "ab", "-logs"])
def test_the_trail_and_billing_buckets_follow_one_s3_naming_rule(name: str) -> None:
    """One rule (steps/resources.py bucket_name_problem) for both steps' buckets: each of S3's general purpose
    bucket naming rules is refused by both, with the same reason."""
    reasons = {cloudtrail.bucket_problem(name), billing_report.bucket_problem(name)}
    assert len(reasons) == 1 and None not in reasons, reasons
