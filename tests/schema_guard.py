"""Every `--output json` the program prints in the suite is validated against the JSON Schema the package
ships (wizard/report-schema.json): a session-wide hook on the one place that prints it (Ui.json)."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from wizard.render import Ui


@functools.cache
def validator() -> Any:
    from jsonschema import Draft202012Validator

    from wizard.report import json_schema

    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(payload: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in validator().iter_errors(payload)]


class SchemaGuard:
    def __init__(self) -> None:
        self.validated = 0
        self.errors: list[str] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = Ui.json

        def json(ui: Ui, payload: dict[str, Any]) -> None:
            self.validated += 1
            self.errors += problems(payload)
            original(ui, payload)

        monkeypatch.setattr(Ui, "json", json)
