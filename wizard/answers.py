"""The answers file (TOML, one table per step id) and how every answer is resolved.

Order of precedence for a question: the answers file, then the operator at a prompt (apply in a
terminal without --yes), then the question's default. Unknown tables or keys are an error, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wizard.errors import WizardError
from wizard.protocol import AnswerValue, Question, Step


def load_answers_file(path: Path) -> dict[str, dict[str, Any]]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise WizardError(f"answers file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise WizardError(f"answers file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise WizardError(f"cannot read answers file {path}: {exc.strerror}") from exc
    for key, value in data.items():
        if not isinstance(value, dict):
            raise WizardError(f"answers file {path}: '{key}' must be a table like [{key}]")
    return data


def validate_answers(
    data: Mapping[str, Mapping[str, Any]],
    questions_by_step: Mapping[str, Sequence[Question]],
    source: str,
) -> None:
    """Every table must name a step and every key one of its questions, with a valid value."""
    for step_id, table in data.items():
        if step_id not in questions_by_step:
            known = ", ".join(sorted(questions_by_step))
            raise WizardError(f"{source}: unknown step [{step_id}] (known: {known})")
        questions = {q.key: q for q in questions_by_step[step_id]}
        for key, value in table.items():
            if key not in questions:
                known = ", ".join(sorted(questions)) or "none"
                raise WizardError(f"{source}: [{step_id}] has no question '{key}' (known: {known})")
            problem = questions[key].check(value)
            if problem:
                # A list's problem names its item; the whole list (maybe 200 entries) would not fit one line.
                shown = key if isinstance(value, list) else f"{key} = {value!r}"
                raise WizardError(f"{source}: [{step_id}] {shown}: {problem}")


class AnswerBook:
    """Resolved answers for the run, filled as steps are reached."""

    def __init__(self, file_answers: Mapping[str, Mapping[str, Any]], steps: Sequence[Step[Any]]) -> None:
        self.file_answers = file_answers
        self.resolved: dict[str, dict[str, AnswerValue]] = {}
        # Defaults of every known step, so a step can read another's answer even when that one is not run.
        self._defaults = {s.id: {q.key: q.default for q in s.questions()} for s in steps}

    def from_file(self, step_id: str, key: str) -> AnswerValue | None:
        value: AnswerValue | None = self.file_answers.get(step_id, {}).get(key)
        return value

    def set(self, step_id: str, key: str, value: AnswerValue) -> None:
        self.resolved.setdefault(step_id, {})[key] = value

    def lookup(self, step_id: str, key: str) -> AnswerValue | None:
        if key in self.resolved.get(step_id, {}):
            return self.resolved[step_id][key]
        from_file = self.from_file(step_id, key)
        if from_file is not None:
            return from_file
        return self._defaults.get(step_id, {}).get(key)


# --- lists of tables (`users = [{ name = "dana", group = "Developers" }]`) ------------------------------
def rows_problem(value: object, key: str, fields: Sequence[str], limit: int) -> str | None:
    """The shape of a list of tables with exactly these string fields, at most `limit` long; the reason
    names the item (`users[3]`), so one line says what to fix."""
    if not isinstance(value, list):
        return f"expected a list of tables like [{{ {', '.join(f'{f} = ...' for f in fields)} }}]"
    if len(value) > limit:
        return f"{len(value)} entries; at most {limit}"
    for number, row in enumerate(value, start=1):
        where = f"{key}[{number}]"
        if not isinstance(row, dict):
            return f"{where}: expected a table like {{ {', '.join(f'{f} = ...' for f in fields)} }}"
        unknown = sorted(set(row) - set(fields))
        if unknown:
            return f"{where}: unknown key {unknown[0]!r} (known: {', '.join(fields)})"
        for field in fields:
            if not isinstance(row.get(field), str):
                return f"{where}: {field} is required (a string)"
    return None


def rows_from_line(line: str, fields: Sequence[str]) -> list[dict[str, str]]:
    """'dana:Developers, erin:ReadOnly' -> [{name: dana, group: Developers}, ...] (what a prompt takes)."""
    rows = []
    for item in (part.strip() for part in line.split(",")):
        if not item:
            continue
        values = [v.strip() for v in item.split(":")]
        if len(values) != len(fields):
            raise ValueError(f"{item!r}: expected {':'.join(fields)}")
        rows.append(dict(zip(fields, values, strict=True)))
    return rows


def rows_line(value: object, fields: Sequence[str]) -> str:
    if not isinstance(value, list):
        return ""
    return ", ".join(":".join(str(row.get(f, "")) for f in fields) for row in value if isinstance(row, dict))
