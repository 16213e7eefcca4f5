"""Start the sandbox: a moto server on 127.0.0.1 in this process, seeded as a brand-new account."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard import state_files
from wizard.errors import WizardError
from wizard.local_endpoint import adapt
from wizard.sandbox import budgets_ext, iam_policy, managed_policies, regions, root_user, strict
from wizard.sandbox.billing_standin import BillingStandIn
from wizard.sandbox.guardrail_standin import GuardrailStandIn
from wizard.sandbox.replay import WriteLog, seed_moto

SANDBOX_ACCOUNT = "123456789012"
DUMMY_SECRET = "sandbox-secret-not-a-real-key"
SETUP_KEY = "AKIASANDBOXSETUP0000"  # signs the sandbox's own setup calls; belongs to nobody
IDENTITY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class SandboxCredentials:
    key: str
    secret: str


class Sandbox:
    """One simulated account. `start()` brings it up with the state earlier runs left."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.write_log = WriteLog(directory / "writes.jsonl")
        self.identity_file = directory / "identity.json"
        self._server: Any = None
        self.endpoint_url = ""
        self.root: SandboxCredentials | None = None
        self.replay_problems: list[str] = []
        self.billing = BillingStandIn(SANDBOX_ACCOUNT)  # cur and bcm-data-exports, which moto lacks
        self.guardrails = GuardrailStandIn(SANDBOX_ACCOUNT)  # Access Analyzer, Free Tier, primary contact
        self._sessions: dict[str, Any] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}

    def reset(self) -> None:
        if self.directory.exists():
            shutil.rmtree(self.directory)

    def start(self) -> None:
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # AdministratorAccess must exist
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # no step needs AMIs; each region loads ~1,300
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.moto_api import recorder  # noqa: F401  (imports moto's core before patching)
        from moto.moto_api._internal.models import moto_api_backend
        from moto.server import ThreadedMotoServer

        root_user.install()
        iam_policy.install()  # explicit Denies, boundaries and MFA sessions, which moto ignores
        budgets_ext.install()
        strict.install()  # refuse what AWS refuses (policies, rule states, budgets): see strict.py
        regions.install()
        managed_policies.limit_to_used()
        moto_api_backend.reset()
        iam_policy.forget_sessions()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        seed_moto(-1)
        root_key, _ = root_user.create_root(self._admin_client("iam", "us-east-1"))
        self.root = SandboxCredentials(root_key, DUMMY_SECRET)
        self.seed()
        self.replay_problems = self.write_log.replay(self._client_as)
        self._restore_replayed_passwords()

    def _restore_replayed_passwords(self) -> None:
        """Replay gives every console password the wizard set the replay placeholder (the real one is never
        recorded), and the sandbox's in-memory keyring forgot the real one with the last run: keep the
        placeholder there instead, so this run holds the admin's password as a machine with a working
        keyring would (root-access-keys asks for that before root's key goes). Only into the sandbox's own
        in-memory keyring, never into another one."""
        import keyring

        from wizard.sandbox.replay import PLACEHOLDER
        from wizard.secrets import KEYRING_SERVICE, keyring_entry

        if type(keyring.get_keyring()).__name__ != "MemoryKeyring":
            return
        for entry in self.write_log.entries():
            if entry["operation"] == "CreateLoginProfile":
                name = keyring_entry(SANDBOX_ACCOUNT, str(entry["params"]["UserName"]), "console-password")
                if keyring.get_password(KEYRING_SERVICE, name) is None:
                    keyring.set_password(KEYRING_SERVICE, name, PLACEHOLDER)

    def seed(self) -> None:
        """What the sandbox holds before the recorded writes are replayed: here, the fresh account alone."""

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def credentials(self) -> SandboxCredentials:
        """Who the wizard runs as: root, until a step switches the sandbox to another identity."""
        text = state_files.read_text(self.identity_file, IDENTITY_LIMIT)
        if text is not None:
            try:
                key = json.loads(text)["key"]
            except (ValueError, KeyError, TypeError):
                key = None
            if not isinstance(key, str):
                raise WizardError(f"{self.identity_file} is not a sandbox identity; run with --sandbox-reset")
            return SandboxCredentials(key, DUMMY_SECRET)
        assert self.root is not None, "start() first"
        return self.root

    def switch_identity(self, access_key_id: str) -> None:
        """Run later sandbox sessions as this access key (e.g. the admin's, once root's keys are gone)."""
        state_files.write_text(self.identity_file, json.dumps({"key": access_key_id}))

    def continue_as(self, user_name: str) -> str:
        """After root's key is deleted: switch later runs to the user's access key, or, when it has none, to a
        sandbox-only stand-in key for "signing in as the user" (recorded, so replay keeps it). Says which."""
        iam = self._admin_client("iam", "us-east-1")
        keys = iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]
        if keys:
            key_id = str(keys[0]["AccessKeyId"])
            what = f"its access key {key_id}"
        else:
            seed_moto(self.write_log.count())
            key_id = str(iam.create_access_key(UserName=user_name)["AccessKey"]["AccessKeyId"])
            self.write_log.append({"service": "iam", "region": "us-east-1", "operation": "CreateAccessKey",
                                   "params": {"UserName": user_name}, "access_key": SETUP_KEY})
            what = (f"a sandbox-only stand-in access key {key_id} for signing in as it (on real AWS you "
                    "sign in at the sign-in URL instead)")
        self.switch_identity(key_id)
        return what

    def hook_client(self, client: Any, service: str, region: str) -> None:
        self.billing.attach(client, service)
        self.guardrails.attach(client, service)
        access_key = client._request_signer._credentials.access_key
        self.write_log.hook_client(client, service, region, identity=temporary_identity(access_key))

    def _client_as(self, service: str, region: str, access_key: str, account: str | None = None) -> Any:
        """Cached: replay sends every recorded write; a new session per write reloads the models. With `account`
        (a write made with temporary credentials, gone since), the setup key acts in that account instead."""
        from wizard.aws import isolated_session

        if account is not None:
            access_key = SETUP_KEY
        key = (service, region, access_key + (f"@{account}" if account else ""))
        if key not in self._clients:
            if access_key not in self._sessions:
                self._sessions[access_key] = isolated_session(access_key, DUMMY_SECRET, region)
            session = self._sessions[access_key]
            client = session.client(service, region_name=region, endpoint_url=self.endpoint_url)
            adapt(client, service, self.endpoint_url)  # s3control's account-id host label, on 127.0.0.1
            self.billing.attach(client, service)  # so replayed billing writes rebuild the stand-in's state
            self.guardrails.attach(client, service)  # and replayed analyzers the other's
            if account is not None:
                in_account(client, account)
            self._clients[key] = client
        return self._clients[key]

    def _admin_client(self, service: str, region: str) -> Any:
        return self._client_as(service, region, SETUP_KEY)


def in_account(client: Any, account: str) -> None:
    """Every request of this client acts in `account` (moto's x-moto-account-id header, see moto-notes)."""
    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-sign", add_header, unique_id=f"aws-harden-account-{account}")


def temporary_identity(access_key: str) -> dict[str, str]:
    """For temporary credentials (an assumed role's, a root session's): the account they act in and, for a root
    session, the user IAM acts on without a UserName, so the sandbox's replay can act the same without them."""
    from moto.iam.models import iam_backends

    from wizard.sandbox import root_access

    session = root_access.session_of(access_key)
    if session is not None:
        return {"account": session.account, "as_user": root_user.ROOT_NAME}
    if not access_key.startswith("ASIA"):
        return {}
    for account, backends in list(iam_backends.items()):
        key = backends["aws"].access_keys.get(access_key)
        if key is not None and key.user_name is None:
            return {"account": account}
    return {}
