"""`aws-harden --help` and `aws-harden steps` stay light: no boto3, botocore, moto or sandbox import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("boto3", "botocore", "moto", "wizard.sandbox", "questionary", "keyring")

PROBE = """
import contextlib, io, sys
from wizard.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main({argv!r})
    except SystemExit:
        pass
print(sorted({{m.split('.')[0] if not m.startswith('wizard.') else m for m in sys.modules}}))
"""


@pytest.mark.parametrize("argv", [["--help"], ["steps"], ["--version"]])
def test_light_commands_import_nothing_heavy(argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = result.stdout
    assert "'wizard.cli'" in loaded  # the probe saw the modules
    for module in HEAVY:
        assert f"'{module}'" not in loaded, f"{argv} imported {module}"


def test_console_script_and_module_are_the_same_program() -> None:
    script = Path(sys.executable).parent / "aws-harden"
    assert script.exists(), "pip install -e . installs the aws-harden console script"
    by_script = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True).stdout
    by_module = subprocess.run(
        [sys.executable, "-m", "wizard", "--version"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert by_script == by_module and by_script.startswith("aws-harden ")
