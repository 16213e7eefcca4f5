"""A keyring backend the tests share between processes (the in-process run and the AWS CLI's
credential-process subprocess), standing in for the OS keyring, which a test must never touch.

It is a plain JSON file at $AWS_HARDEN_TEST_KEYRING, so the wizard accepts it only because the tests name
it in PYTHON_KEYRING_BACKEND (tests.file_keyring.JsonFileKeyring), as an operator would, and warns. Tests
keep that file outside their tmp_path: it stands for the keyring, not for a file the product wrote.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend

NAME = "tests.file_keyring.JsonFileKeyring"


class JsonFileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @property
    def path(self) -> Path:
        return Path(os.environ["AWS_HARDEN_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._load()
        entries[f"{service}\n{username}"] = password
        self.path.write_text(json.dumps(entries))

    def delete_password(self, service: str, username: str) -> None:
        entries = self._load()
        entries.pop(f"{service}\n{username}", None)
        self.path.write_text(json.dumps(entries))
