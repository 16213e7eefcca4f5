"""Strings from the account and from AWS errors are shown with control characters escaped: in text, Markdown,
HTML, JSON and on stderr, an escape sequence in a budget name or an answers-file value is visible, never obeyed."""

from __future__ import annotations

import json
from pathlib import Path

from botocore.exceptions import ClientError

from tests.conftest import Account, run_cli
from wizard.errors import describe
from wizard.printable import printable

# Clears the screen, sets the window title, rings the bell, then a bidi override that reverses what follows.
HOSTILE = "team\x1b[2J\x1b]0;pwned\x07\u202eroot"
RAW = ("\x1b", "\x07", "\u202e")


def no_raw_control(text: str) -> bool:
    return not any(ch in text for ch in RAW)


def test_printable_escapes_controls_and_keeps_the_rest() -> None:
    assert printable(HOSTILE) == "team\\x1b[2J\\x1b]0;pwned\\x07\\u202eroot"
    assert printable("✓ verified • ⚠ café") == "✓ verified • ⚠ café"
    assert printable("two\nlines\r\x00") == "two\\nlines\\r\\x00"


def test_an_escape_sequence_in_a_budget_name(account: Account, tmp_path: Path) -> None:
    account.raw("budgets").create_budget(AccountId="123456789012", Budget={
        "BudgetName": HOSTILE, "BudgetLimit": {"Amount": "10", "Unit": "USD"},
        "TimeUnit": "MONTHLY", "BudgetType": "COST"})
    answers = tmp_path / "answers.toml"
    answers.write_text('[budget-alarm]\namount = 25\nemails = "ops@example.com"\n')
    shown = printable(HOSTILE)
    for command in ("check", "plan"):
        result = run_cli([command, "--only", "budget-alarm", "--answers", str(answers)])
        assert result.code == 2, result.text
        assert no_raw_control(result.text), f"{command} printed a raw control character"
        assert command == "check" or shown in result.out  # plan lists the budget, visibly escaped
    for report in ("evidence.md", "evidence.html"):
        path = tmp_path / report
        result = run_cli(["check", "--only", "budget-alarm", "--answers", str(answers), "--report", str(path)])
        text = path.read_text()
        assert result.code == 2 and no_raw_control(text)
        assert (shown.replace("\\", "\\\\") if report.endswith(".md") else shown) in text
    result = run_cli(["check", "--only", "budget-alarm", "--answers", str(answers), "--output", "json"])
    assert no_raw_control(result.out)
    findings = [f["text"] for step in json.loads(result.out)["steps"] for f in step["findings"]]
    assert any(HOSTILE in text for text in findings)  # JSON keeps the exact value, in its own escapes


def test_an_escape_sequence_in_an_answers_file_value(tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('[budget-alarm]\nname = "monthly\\u001b]0;pwned\\u0007"\n')
    result = run_cli(["plan", "--answers", str(answers)])
    assert result.code == 1 and "name" in result.err
    assert no_raw_control(result.text) and "\\x1b]0;pwned\\x07" in result.err


def test_an_escape_sequence_in_an_answers_file_table_name(tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('["admin\\u001b[2J"]\nname = "x"\n')
    result = run_cli(["plan", "--answers", str(answers)])
    assert result.code == 1 and "unknown step [admin\\x1b[2J]" in result.err
    assert no_raw_control(result.text)


def test_an_aws_error_message_is_escaped() -> None:
    error = ClientError({"Error": {"Code": "ValidationError", "Message": f"budget {HOSTILE} is invalid"}},
                        "CreateBudget")
    line = describe(error)
    assert no_raw_control(line) and printable(HOSTILE) in line
