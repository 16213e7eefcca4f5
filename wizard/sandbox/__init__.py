"""The sandbox: a simulated fresh AWS account (moto) on 127.0.0.1, root caller and all.

Nothing in it touches real AWS or the real keyring. It keeps its state between runs by replaying
the writes earlier runs made (see replay.py), so apply, then check, then plan behave as on a real
account; --sandbox-reset starts it fresh.
"""

from wizard.sandbox.organization import OrganizationSandbox
from wizard.sandbox.server import Sandbox, SandboxCredentials

__all__ = ["OrganizationSandbox", "Sandbox", "SandboxCredentials"]
