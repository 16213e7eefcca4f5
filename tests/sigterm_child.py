"""Run by tests/test_state_files.py as a real process: `apply --yes --only admin-user` against in-process
moto, stopping inside the change that sets the console password (its request waits) until SIGTERM comes.

Prints READY on stdout once it is waiting. Exits with the program's exit code.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import keyring
from moto import mock_aws

from tests import harness
from wizard.aws import isolated_session
from wizard.sandbox import root_user
from wizard.secrets import memory_keyring


def wait_here(request: Any, **_: Any) -> None:
    print("READY", flush=True)
    time.sleep(60)  # SIGTERM arrives here; nothing past this point is sent


def hook(client: Any, service: str, region: str) -> None:
    client.meta.events.register_first("before-send.iam.CreateLoginProfile", wait_here)


def run() -> int:
    keyring.set_keyring(memory_keyring())
    root_user.install()
    with mock_aws():
        key, secret = root_user.create_root(isolated_session("AKIASETUP00000000000", "x", "us-east-1").client("iam"))
        os.environ.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1")
        result = harness.run("apply", "--yes", "--only", "admin-user", stdin="pipe", width=None, on_client=hook)
    sys.stdout.write(result.out)  # what the program said, on this process's own streams, once it is done
    sys.stderr.write(result.err)
    return result.code


if __name__ == "__main__":
    sys.exit(run())
