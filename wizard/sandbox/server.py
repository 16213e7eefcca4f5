"""Start the sandbox: a moto server on 127.0.0.1 in this process, seeded as a brand-new account."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.local_endpoint import adapt
from wizard.sandbox import budgets_ext, managed_policies, regions, root_user
from wizard.sandbox.billing_standin import BillingStandIn
from wizard.sandbox.guardrail_standin import GuardrailStandIn
from wizard.sandbox.replay import WriteLog, seed_moto

SANDBOX_ACCOUNT = "123456789012"
DUMMY_SECRET = "sandbox-secret-not-a-real-key"
SETUP_KEY = "AKIASANDBOXSETUP0000"  # signs the sandbox's own setup calls; belongs to nobody


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
        budgets_ext.install()
        regions.install()
        managed_policies.limit_to_used()
        moto_api_backend.reset()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        seed_moto(-1)
        root_key, _ = root_user.create_root(self._admin_client("iam", "us-east-1"))
        self.root = SandboxCredentials(root_key, DUMMY_SECRET)
        self.replay_problems = self.write_log.replay(self._client_as)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def credentials(self) -> SandboxCredentials:
        """Who the wizard runs as: root, until a step switches the sandbox to another identity."""
        if self.identity_file.exists():
            data = json.loads(self.identity_file.read_text(encoding="utf-8"))
            return SandboxCredentials(data["key"], DUMMY_SECRET)
        assert self.root is not None, "start() first"
        return self.root

    def switch_identity(self, access_key_id: str) -> None:
        """Run later sandbox sessions as this access key (e.g. the admin's, once root's keys are gone)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.identity_file.write_text(json.dumps({"key": access_key_id}), encoding="utf-8")

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
        self.write_log.hook_client(client, service, region)

    def _client_as(self, service: str, region: str, access_key: str) -> Any:
        """Cached: replay sends every recorded write; a new session per write reloads the models."""
        from wizard.aws import isolated_session

        key = (service, region, access_key)
        if key not in self._clients:
            if access_key not in self._sessions:
                self._sessions[access_key] = isolated_session(access_key, DUMMY_SECRET, region)
            session = self._sessions[access_key]
            client = session.client(service, region_name=region, endpoint_url=self.endpoint_url)
            adapt(client, service, self.endpoint_url)  # s3control's account-id host label, on 127.0.0.1
            self.billing.attach(client, service)  # so replayed billing writes rebuild the stand-in's state
            self.guardrails.attach(client, service)  # and replayed analyzers the other's
            self._clients[key] = client
        return self._clients[key]

    def _admin_client(self, service: str, region: str) -> Any:
        return self._client_as(service, region, SETUP_KEY)
