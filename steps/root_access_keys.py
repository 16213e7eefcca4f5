"""No access keys on the root user (CIS 2.4 / v5 1.3), removed without ever locking the operator out.

Presence is read live from GetAccountSummary (the credential report can be hours old). As root, the
wizard deletes root's keys itself; the key it runs on goes last (run_last), after everything else is
verified, once the operator typed its id, and only when an IAM admin exists to continue as. As anyone
else it cannot touch root's keys: the operator deletes them in the console and the engine re-checks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steps.admin_group import admin_policy_arn
from steps.signin_link import read_alias, signin_url
from wizard.aws import Aws
from wizard.errors import WizardError
from wizard.protocol import (
    Action,
    AnswerValue,
    ApplyContext,
    Change,
    FieldChange,
    Finding,
    Question,
    Step,
    StepContext,
)
from wizard.reads import absent_is_none
from wizard.retry import error_code, with_backoff

CONFIRM_KEY = "confirm_delete_running_key"
ACCESS_KEY_ID_RE = re.compile(r"[A-Z0-9]{16,128}", re.ASCII)
CONSOLE_URL = "https://console.aws.amazon.com/iam/home#/security_credentials"
CONSOLE_STEPS = (
    "1. Sign in to the AWS console as the root user (the account's email address and password).",
    "2. Open the account menu at the top right and choose 'Security credentials'.",
    "3. Under 'Access keys', for each key: Actions > Deactivate, then Actions > Delete "
    "(enter the key id to confirm).",
    "4. Sign out of the root user, then come back here.",
)


def key_id_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, str) or not ACCESS_KEY_ID_RE.fullmatch(value):
        return "an access key id, e.g. AKIAIOSFODNN7EXAMPLE"
    return None


@dataclass(frozen=True)
class RootKey:
    key_id: str
    status: str


@dataclass(frozen=True)
class RootKeysState:
    caller_is_root: bool
    keys_present: int  # GetAccountSummary AccountAccessKeysPresent
    keys: tuple[RootKey, ...] = ()  # root's keys, listed only when the caller is root
    running_key: str | None = None
    admin: str = "admin"
    admin_problem: str | None = None  # why the IAM admin cannot take over yet (checked only as root)


def admin_problem(aws: Aws, name: str, partition: str) -> str | None:
    """Why `name` cannot take over from root yet (console sign-in, AdministratorAccess); None if it can."""
    iam = aws.client("iam")
    wanted = admin_policy_arn(partition)

    def listed(paginator: str, field: str, key: str, **params: str) -> list[str]:
        return [item[key] for page in iam.get_paginator(paginator).paginate(**params) for item in page[field]]

    login, direct, groups = aws.parallel(
        lambda: absent_is_none(lambda: iam.get_login_profile(UserName=name)),
        lambda: absent_is_none(lambda: listed("list_attached_user_policies", "AttachedPolicies", "PolicyArn",
                                              UserName=name)),
        lambda: absent_is_none(lambda: listed("list_groups_for_user", "Groups", "GroupName", UserName=name)),
    )
    if login is None:
        return f"IAM user {name} does not exist or cannot sign in to the console"
    if wanted in (direct or []):
        return None
    through_groups = aws.parallel(
        *(lambda g=g: listed("list_attached_group_policies", "AttachedPolicies", "PolicyArn", GroupName=g)
          for g in groups or [])
    )
    if any(wanted in attached for attached in through_groups):
        return None
    return f"IAM user {name} does not have AdministratorAccess (through a group or directly)"


def running_key_id(aws: Aws) -> str | None:
    credentials = aws.session.get_credentials()
    return None if credentials is None else str(credentials.access_key)


class RootAccessKeys(Step[RootKeysState]):
    id = "root-access-keys"
    title = "No root user access keys"
    remediates = ("iam_no_root_access_key",)
    checks = "the root user has no access keys (GetAccountSummary AccountAccessKeysPresent is 0)"
    writes = frozenset({"iam:UpdateAccessKey", "iam:DeleteAccessKey"})
    reads = frozenset({
        "iam:GetAccountSummary", "iam:GetLoginProfile", "iam:ListAccessKeys", "iam:ListAccountAliases",
        "iam:ListAttachedGroupPolicies", "iam:ListAttachedUserPolicies", "iam:ListGroupsForUser"
    })

    def questions(self) -> Sequence[Question]:
        return (
            Question(
                CONFIRM_KEY,
                "Id of the root access key this run uses, to confirm deleting it unattended",
                default=None,
                help="answers file only; at a terminal the wizard asks you to type it at the end",
                validate=key_id_problem,
                prompted=False,
            ),
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> RootKeysState:
        iam = aws.client("iam")
        admin = str(ctx.answer_of("admin-user", "name"))
        if ctx.caller.kind != "root":
            present = int(iam.get_account_summary()["SummaryMap"].get("AccountAccessKeysPresent", 0))
            return RootKeysState(False, present, admin=admin)

        def root_keys() -> tuple[RootKey, ...]:
            pages = iam.get_paginator("list_access_keys").paginate()  # no UserName: the signer's, root's
            return tuple(RootKey(k["AccessKeyId"], k["Status"]) for page in pages for k in page["AccessKeyMetadata"])

        # The admin check is only needed when the running key is root's, but reading it alongside costs no
        # round trip (and admin-user reads the same things through the shared read cache).
        summary, keys, admin_blocker = aws.parallel(
            lambda: iam.get_account_summary()["SummaryMap"],
            root_keys,
            lambda: admin_problem(aws, admin, ctx.caller.partition),
        )
        present = int(summary.get("AccountAccessKeysPresent", 0))
        running = running_key_id(aws)
        ours = running in {k.key_id for k in keys}
        problem = admin_blocker if ours else None
        return RootKeysState(True, present, keys, running, admin, problem)

    def findings(self, state: RootKeysState, ctx: StepContext) -> list[Finding]:
        found = [Finding(f"root access keys present: {'yes' if state.keys_present else 'no'}",
                         observed={"AccountAccessKeysPresent": state.keys_present})]
        for key in state.keys:
            mine = " (this run uses it)" if key.key_id == state.running_key else ""
            found.append(Finding(f"root access key {key.key_id}: {key.status}{mine}",
                                 observed={"key_id": key.key_id, "status": key.status}))
        if state.admin_problem:
            found.append(Finding(
                f"the key this run uses stays until an IAM admin can take over: {state.admin_problem} "
                "(the admin-user and admin-group steps set that up)",
                severity="warning", observed={"admin": state.admin}))
        return found

    def plan(self, state: RootKeysState, ctx: StepContext) -> list[Change]:
        if not state.caller_is_root:
            if not state.keys_present:
                return []
            return [
                Change(
                    Action.OPERATOR,
                    "delete-in-console",
                    "root user access keys",
                    "delete the root user's access keys in the console (only root can)",
                    instructions=CONSOLE_STEPS,
                    url=CONSOLE_URL,
                )
            ]
        return [self._delete(key, key.key_id == state.running_key) for key in state.keys]

    @staticmethod
    def _delete(key: RootKey, running: bool) -> Change:
        if running:
            return Change(
                Action.DELETE,
                "delete-key",
                f'root access key "{key.key_id}"',
                f"delete root access key {key.key_id}, this run's own: last, then continue as the IAM admin",
                # Not deactivated first: an inactive key cannot sign the call that deletes it.
                operations=("iam:DeleteAccessKey",),
                fields=(FieldChange("status", key.status, "deleted"),),
                params={"key_id": key.key_id, "running": True},
                run_last=True,
                confirm_value=key.key_id,
                confirm_answer=CONFIRM_KEY,
            )
        return Change(
            Action.DELETE,
            "delete-key",
            f'root access key "{key.key_id}"',
            f"deactivate, then delete root access key {key.key_id}",
            operations=("iam:UpdateAccessKey", "iam:DeleteAccessKey"),
            fields=(FieldChange("status", key.status, "deleted"),),
            params={"key_id": key.key_id, "running": False},
        )

    def apply(self, aws: Aws, change: Change, ctx: ApplyContext) -> None:
        if change.key != "delete-key":
            raise ValueError(f"unknown change {change.key}")
        iam = aws.client("iam")
        key_id = str(change.params["key_id"])
        if not change.params["running"]:
            gone_ok(lambda: with_backoff(
                lambda: iam.update_access_key(AccessKeyId=key_id, Status="Inactive")))
            gone_ok(lambda: with_backoff(lambda: iam.delete_access_key(AccessKeyId=key_id)))
            return
        admin = str(ctx.answer_of("admin-user", "name"))
        problem = admin_problem(aws, admin, ctx.caller.partition)
        if problem:
            raise WizardError(
                f"not deleting {key_id}, the key this run uses: {problem}, so nobody could continue"
            )
        next_steps = continue_as(admin, signin_url(ctx.caller.account, read_alias(iam)), ctx)
        gone_ok(lambda: with_backoff(lambda: iam.delete_access_key(AccessKeyId=key_id)))
        # From here on this run's credentials are dead: no more AWS calls, only tell the operator.
        ctx.output("continue as the admin", next_steps)


def gone_ok(call: Any) -> None:
    """A key already deleted (a re-run after an interruption) is what was wanted."""
    try:
        call()
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise


def continue_as(admin: str, url: str, ctx: StepContext) -> str:
    text = f"root's access keys are gone. Sign in to the console at {url} as IAM user {admin}"
    if ctx.answer_of("admin-user", "programmatic_access"):
        profile = str(ctx.answer_of("admin-user", "cli_profile"))
        text += f"; for the AWS CLI and this wizard use --profile {profile}"
        check = f"aws-harden check --profile {profile}"
    else:
        check = "aws-harden check"
    return text + f". Run '{check}' as the admin to verify."


STEP = RootAccessKeys()
