"""The account root user, which moto does not model, added as a small patch on moto's backends.

One hidden IAM user on a reserved path stands for root: its access keys are root's keys, its MFA
devices root's MFA. The patch makes GetCallerIdentity answer `arn:aws:iam::ACCOUNT:root` for those
keys, makes GetAccountSummary's AccountAccessKeysPresent / AccountMFAEnabled report them (moto
hard-codes both to 0), hides the user from ListUsers and GetAccountAuthorizationDetails, and gives the
credential report the `<root_account>` row AWS writes (moto has none) instead of the hidden user's row,
with the time the report was generated (moto answers a fixed 2015 date). Member accounts of an organization
have one each too, and root_access.py lets their management account reach it centrally (sts:AssumeRoot).
Written for moto 5.2 (pinned in pyproject.toml); tests/test_sandbox.py shows each patched behaviour.
"""

from __future__ import annotations

from typing import Any

ROOT_PATH = "/aws-harden-sandbox-root/"
ROOT_NAME = "aws-harden-sandbox-root"

_installed = False


def is_root(user: Any) -> bool:
    return getattr(user, "path", None) == ROOT_PATH


def root_user(iam_backend: Any) -> Any | None:
    user = iam_backend.users.get(ROOT_NAME)
    return user if user is not None and is_root(user) else None


def install() -> None:
    """Patch moto in this process. Idempotent."""
    global _installed
    if _installed:
        return
    from moto.core.utils import utcnow
    from moto.iam.models import AccountSummary, IAMBackend, iam_backends
    from moto.iam.responses import IamResponse
    from moto.sts.models import STSBackend

    original_identity = STSBackend.get_caller_identity

    def get_caller_identity(self: Any, access_key_id: str, region: str) -> tuple[str, str, str]:
        iam_backend = iam_backends[self.account_id][self.partition]
        user = iam_backend.get_user_from_access_key_id(access_key_id)
        if user is not None and is_root(user):
            return self.account_id, f"arn:{self.partition}:iam::{self.account_id}:root", self.account_id
        result: tuple[str, str, str] = original_identity(self, access_key_id, region)
        return result

    original_summary = AccountSummary.summary_map

    def summary_map(self: Any) -> dict[str, Any]:
        summary: dict[str, Any] = original_summary.fget(self)  # type: ignore[attr-defined]
        root = root_user(self._iam_backend)
        summary["AccountAccessKeysPresent"] = 1 if root is not None and root.access_keys else 0
        summary["AccountMFAEnabled"] = 1 if root is not None and root.mfa_devices else 0
        if root is not None:
            summary["Users"] = max(0, summary["Users"] - 1)
        return summary

    original_list_users = IAMBackend.list_users

    def list_users(self: Any, path_prefix: str | None, marker: str | None, max_items: int | None) -> Any:
        return [u for u in original_list_users(self, path_prefix, marker, max_items) if not is_root(u)]

    original_details = IAMBackend.get_account_authorization_details

    def get_account_authorization_details(self: Any, policy_filter: list[str]) -> dict[str, Any]:
        details: dict[str, Any] = original_details(self, policy_filter)
        return {**details, "users": [u for u in details["users"] if not is_root(u)]}

    original_generate = IAMBackend.generate_report

    def generate_report(self: Any) -> None:
        if not self.credential_report:
            self.aws_harden_report_time = utcnow()
        original_generate(self)

    def get_credential_report(self: Any) -> str:
        report: str = original_report(self)
        header, *rows = report.splitlines(keepends=True)
        root = root_user(self)
        kept = [row for row in rows if root is None or not row.startswith(f"{root.name},")]
        return header + (root_row(root, self.account_id, self.partition) if root is not None else "") + "".join(kept)

    original_report = IAMBackend.get_credential_report

    def credential_report_response(self: Any) -> Any:
        generated = getattr(self.backend, "aws_harden_report_time", None)
        result: Any = original_response(self)
        if generated is not None:
            result.result["GeneratedTime"] = generated.strftime("%Y-%m-%dT%H:%M:%SZ")
        return result

    original_response = IamResponse.get_credential_report
    original_list_mfa = IamResponse.list_mfa_devices

    def list_mfa_devices(self: Any) -> Any:
        """Without UserName, IAM "determines the user name implicitly based on the AWS access key ID signing
        the request" (IAM API reference, ListMFADevices); moto requires it. As root, that lists root's own."""
        if self._get_param("UserName"):
            return original_list_mfa(self)
        user = self.backend.get_user_from_access_key_id(self.get_access_key())
        if user is None:
            return original_list_mfa(self)
        if self.automated_parameter_parsing:
            self.params["UserName"] = user.name
        else:
            self.querystring["UserName"] = [user.name]
        result: Any = original_list_mfa(self)
        if is_root(user):
            for device in result.result["MFADevices"]:
                device.pop("UserName", None)  # root's devices name no user
        return result


    STSBackend.get_caller_identity = get_caller_identity  # type: ignore[method-assign]
    IAMBackend.generate_report = generate_report  # type: ignore[method-assign]
    IAMBackend.get_credential_report = get_credential_report  # type: ignore[method-assign]
    IamResponse.get_credential_report = credential_report_response  # type: ignore[method-assign]
    IamResponse.list_mfa_devices = list_mfa_devices  # type: ignore[method-assign]
    AccountSummary.summary_map = property(summary_map)  # type: ignore[assignment, method-assign]
    IAMBackend.list_users = list_users  # type: ignore[method-assign]
    IAMBackend.get_account_authorization_details = get_account_authorization_details  # type: ignore[method-assign]
    _installed = True
    from wizard.sandbox import root_access

    root_access.install(ROOT_NAME)  # member accounts' root users, managed centrally (sts:AssumeRoot root sessions)


def root_row(root: Any, account: str, partition: str) -> str:
    """The hidden user's row as AWS writes root's (IAM User Guide, "Getting credential reports"): user
    `<root_account>`, the root ARN, and not_supported for the password's enabled / changed / next-rotation
    columns; its last sign-in is no_information (nobody signs in to the sandbox's console)."""
    fields = root.to_csv().rstrip("\n").split(",")
    fields[0], fields[1] = "<root_account>", f"arn:{partition}:iam::{account}:root"
    fields[3], fields[4], fields[5], fields[6] = "not_supported", "no_information", "not_supported", "not_supported"
    return ",".join(fields) + "\n"


def create_root(iam_client: Any) -> tuple[str, str]:
    """Create the stand-in root user with one access key; returns (key id, secret)."""
    iam_client.create_user(UserName=ROOT_NAME, Path=ROOT_PATH)
    key = iam_client.create_access_key(UserName=ROOT_NAME)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def create_root_without_keys(iam_client: Any) -> None:
    """The stand-in root user of an account whose root has no access key (most member accounts)."""
    iam_client.create_user(UserName=ROOT_NAME, Path=ROOT_PATH)


# The serial AWS gives root's virtual MFA device, so the sandbox's reads look like a real account's.
ROOT_MFA_DEVICE = "root-account-mfa-device"


def assign_root_mfa(iam_client: Any) -> str:
    """Stand in for the console's "Assign MFA device" signed in as root: a virtual device on the hidden
    root user, sent through the wizard's own (recorded) client so the sandbox replays it. Returns the
    serial."""
    import time

    from wizard import totp

    created = iam_client.create_virtual_mfa_device(VirtualMFADeviceName=ROOT_MFA_DEVICE)["VirtualMFADevice"]
    first, second = totp.consecutive_codes(totp.seed_of(created), time.time())
    serial = str(created["SerialNumber"])
    iam_client.enable_mfa_device(
        UserName=ROOT_NAME, SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second
    )
    return serial
