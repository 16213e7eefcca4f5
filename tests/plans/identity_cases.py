"""Pure plan fixtures for the identity steps: each case is a step's inspected state (as data) and answers in,
the planned changes out (action, resource, shown fields, consent), with no AWS and no moto.

These prove what each step plans for a given account; the moto tiers (test_convergence.py, test_faults.py
and the per-step files) prove that the plan, applied against a world that refuses what AWS refuses, reaches
that account and reads back compliant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steps import admin_group, admin_user
from steps.admin_group import STEP as ADMIN_GROUP
from steps.admin_group import AddMember, AdminGroupState, AttachPolicy, CreateGroup
from steps.admin_user import STEP as ADMIN_USER
from steps.admin_user import AccessKeyInfo, AdminUserState, ConsoleAccess, CreateUser, ExistingUser
from steps.password_policy import STEP as PASSWORD_POLICY
from steps.password_policy import PasswordPolicyState, Policy, SetPasswordPolicy
from steps.provenance import Ownership
from steps.root_access_keys import STEP as ROOT_ACCESS_KEYS
from steps.root_access_keys import DeleteInConsole, DeleteKey, RootKey, RootKeysState
from steps.root_credentials import STEP as ROOT_CREDENTIALS
from steps.root_credentials import Confirmation, RecordChecklist, RootCredentialsState
from steps.root_mfa import STEP as ROOT_MFA
from steps.root_mfa import AssignRootMfa, RootMfaState
from steps.signin_link import STEP as SIGNIN_LINK
from steps.signin_link import Alias, SigninLinkState
from steps.user_mfa import STEP as USER_MFA
from steps.user_mfa import Enforce, Enroll, IamUser, UserEnrolls, UserMfaState
from tests.plan_support import ACCOUNT, ADMIN_ARN, ADMIN_CALLER, ROOT, CallerCase, Planned
from wizard.facts import AccountSummary, PrimaryContact
from wizard.protocol import KNOWN_AFTER_APPLY, Action

OURS = Ownership("ours", "created by aws-harden")
FOREIGN = Ownership("foreign", "it has no created-by = aws-harden tag")
C, U, D, OP = Action.CREATE, Action.UPDATE, Action.DELETE, Action.OPERATOR


STRONG = Policy(14, True, True, True, True, True, 0, 24, False)
FOREIGN_ADMIN = ExistingUser("AIDAFOREIGN", f"arn:aws:iam::{ACCOUNT}:user/admin", "2020-01-01", "never", True, False,
                             (AccessKeyInfo("AKIAFOREIGN000000000", "Active", "never"),), (), (), (), None, (), ())
NEW_DAY = Confirmation(datetime(2025, 1, 1, tzinfo=UTC), "root")


def _now(days: int) -> datetime:
    return NEW_DAY.time + timedelta(days=days)


CASES: dict[str, CallerCase] = {
    # --- password-policy: every field of the new policy shown; only the fields that change otherwise ----
    "password-policy/none": (PASSWORD_POLICY, PasswordPolicyState(None, 0), {}, ROOT, [Planned(
        C, "account password policy", summary=["set a strong password policy"], operation=SetPasswordPolicy(STRONG),
        fields={
            "MinimumPasswordLength": (None, 14), "RequireSymbols": (None, True), "RequireNumbers": (None, True),
            "RequireUppercaseCharacters": (None, True), "RequireLowercaseCharacters": (None, True),
            "AllowUsersToChangePassword": (None, True), "MaxPasswordAge": (None, "never expires"),
            "PasswordReusePrevention": (None, 24), "HardExpiry": (None, False)})]),
    "password-policy/aws-defaults": (PASSWORD_POLICY, PasswordPolicyState(Policy(), 0), {}, ROOT, [Planned(
        U, "account password policy", summary=["tighten"], operation=SetPasswordPolicy(STRONG), fields={
            "MinimumPasswordLength": (6, 14), "RequireSymbols": (False, True), "RequireNumbers": (False, True),
            "RequireUppercaseCharacters": (False, True), "RequireLowercaseCharacters": (False, True),
            "AllowUsersToChangePassword": (False, True), "PasswordReusePrevention": ("off", 24)})]),
    "password-policy/compliant": (PASSWORD_POLICY, PasswordPolicyState(STRONG, 0), {}, ROOT, []),
    "password-policy/stricter-kept": (
        PASSWORD_POLICY, PasswordPolicyState(Policy(20, True, True, True, True, True, 30, 24, True), 90), {}, ROOT, []),
    "password-policy/shorter-expiry-asked": (
        PASSWORD_POLICY, PasswordPolicyState(Policy(20, True, True, True, True, True, 90, 24, False), 60), {}, ROOT,
        [Planned(U, "account password policy", fields={"MaxPasswordAge": (90, 60)},  # the stricter length stays
                 operation=SetPasswordPolicy(Policy(20, True, True, True, True, True, 60, 24, False)))]),
    "password-policy/one-weak-field": (
        PASSWORD_POLICY, PasswordPolicyState(Policy(32, True, True, True, True, True, 0, 5, True), 0), {}, ROOT,
        [Planned(U, "account password policy", fields={"PasswordReusePrevention": (5, 24)},
                 operation=SetPasswordPolicy(Policy(32, True, True, True, True, True, 0, 24, True)))]),
    # --- signin-link ----------------------------------------------------------------------------------
    "signin-link/new-alias": (SIGNIN_LINK, SigninLinkState(ACCOUNT, None, "acme-prod"), {}, ROOT, [Planned(
        C, "account alias", summary=["acme-prod"], operation=Alias("acme-prod"), fields={
            "alias": (None, "acme-prod"),
            "sign-in URL": (f"https://{ACCOUNT}.signin.aws.amazon.com/console",
                            "https://acme-prod.signin.aws.amazon.com/console")})]),
    "signin-link/other-alias": (SIGNIN_LINK, SigninLinkState(ACCOUNT, "old", "new"), {}, ROOT, [Planned(
        U, "account alias", operation=Alias("new"), fields={"alias": ("old", "new"), "sign-in URL": (
            "https://old.signin.aws.amazon.com/console", "https://new.signin.aws.amazon.com/console")})]),
    "signin-link/kept": (SIGNIN_LINK, SigninLinkState(ACCOUNT, "old", None), {}, ROOT, []),
    "signin-link/same": (SIGNIN_LINK, SigninLinkState(ACCOUNT, "acme", "acme"), {}, ROOT, []),
    # --- root-mfa: the console's, guided ------------------------------------------------------------------
    "root-mfa/none": (ROOT_MFA, RootMfaState(False), {}, ROOT, [
        Planned(OP, "MFA for the root user", operation=AssignRootMfa())]),
    "root-mfa/virtual": (ROOT_MFA, RootMfaState(True, ("arn:aws:iam::1:mfa/root-account-mfa-device",)), {}, ROOT, []),
    # --- root-access-keys ----------------------------------------------------------------------------------
    "root-access-keys/none": (ROOT_ACCESS_KEYS, RootKeysState(True, 0), {}, ROOT, []),
    "root-access-keys/other-key-at-once": (
        ROOT_ACCESS_KEYS, RootKeysState(True, 1, (RootKey("AKIAOTHER00000000000", "Inactive"),), "AKIARUN000000000000",
                                        "admin", None), {}, ROOT,
        [Planned(D, 'root access key "AKIAOTHER00000000000"', summary=["deactivate, then delete"],
                 fields={"status": ("Inactive", "deleted")},
                 operation=DeleteKey("AKIAOTHER00000000000", running=False))]),
    "root-access-keys/running-key-last-typed": (
        ROOT_ACCESS_KEYS, RootKeysState(True, 1, (RootKey("AKIARUN0000000000000", "Active"),), "AKIARUN0000000000000",
                                        "admin", None), {}, ROOT,
        [Planned(D, 'root access key "AKIARUN0000000000000"', summary=["this run's own", "continue as the IAM admin"],
                 fields={"status": ("Active", "deleted")}, confirm_value="AKIARUN0000000000000", run_last=True,
                 operation=DeleteKey("AKIARUN0000000000000", running=True))]),
    "root-access-keys/running-key-waits-for-admin": (
        ROOT_ACCESS_KEYS, RootKeysState(True, 1, (RootKey("AKIARUN0000000000000", "Active"),), "AKIARUN0000000000000",
                                        "admin", "there is no IAM user admin"), {}, ROOT,
        [Planned(D, 'root access key "AKIARUN0000000000000"', summary=["there is no IAM user admin"],
                 fields={"status": ("Active", "deleted")}, confirm_value="AKIARUN0000000000000", run_last=True,
                 waits=True, operation=DeleteKey("AKIARUN0000000000000", running=True))]),
    "root-access-keys/as-admin-console": (ROOT_ACCESS_KEYS, RootKeysState(False, 1), {}, ADMIN_CALLER, [Planned(
        OP, "root user access keys", summary=["in the console"], operation=DeleteInConsole())]),
    "root-access-keys/as-admin-none": (ROOT_ACCESS_KEYS, RootKeysState(False, 0), {}, ADMIN_CALLER, []),
    # --- admin-user -------------------------------------------------------------------------------------
    "admin-user/fresh": (ADMIN_USER, AdminUserState("admin", exists=False), {}, ROOT, [
        Planned(C, 'iam user "admin"', fields={"name": (None, "admin"), "arn": (None, KNOWN_AFTER_APPLY)},
                operation=CreateUser("admin")),
        Planned(C, 'console access for "admin"', summary=["OS keyring"], sensitive=frozenset({"password"}),
                fields={"password": (None, "generated"), "password_reset_required": (None, True)},
                operation=ConsoleAccess("admin", minimum_length=6))]),  # the state's rules: AWS's default
    "admin-user/compliant": (ADMIN_USER, AdminUserState("admin", True, "arn", True, ownership=OURS), {}, ROOT, []),
    "admin-user/foreign-adopted-by-typing": (
        ADMIN_USER, AdminUserState("admin", True, FOREIGN_ADMIN.arn, True, ownership=FOREIGN, existing=FOREIGN_ADMIN),
        {}, ROOT, [Planned(U, 'iam user "admin"', summary=["type its name to agree"], confirm_value="admin",
                           others_depend_on_it=True, fields={"aws-harden's": ("no", "yes, adopted as it is")},
                           operation=admin_user.Adopt("admin", "AIDAFOREIGN"))]),
    # --- admin-group -------------------------------------------------------------------------------------
    "admin-group/fresh": (ADMIN_GROUP, AdminGroupState("FullAccess", "admin", ADMIN_ARN, exists=False), {}, ROOT, [
        Planned(C, 'iam group "FullAccess"', fields={"path": (None, "/aws-harden/")},
                operation=CreateGroup("FullAccess")),
        Planned(C, 'policy AdministratorAccess on group "FullAccess"', fields={},
                operation=AttachPolicy("FullAccess", ADMIN_ARN)),
        Planned(C, 'member "admin" of group "FullAccess"', fields={}, operation=AddMember("FullAccess", "admin"))]),
    "admin-group/member-waits-for-a-foreign-admin": (
        ADMIN_GROUP, AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (ADMIN_ARN,), (), OURS, admin=FOREIGN),
        {}, ROOT, [Planned(C, 'member "admin" of group "FullAccess"', summary=["waits"], fields={}, waits=True,
                           operation=AddMember("FullAccess", "admin"))]),
    "admin-group/others-would-become-admins": (
        ADMIN_GROUP, AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (), ("admin", "bob"), OURS, "AGPAX",
                                     "/aws-harden/"), {}, ROOT,
        [Planned(U, 'iam group "FullAccess"', summary=["would become administrators: bob"], confirm_value="FullAccess",
                 others_depend_on_it=True, fields={"aws-harden's": ("no", "yes, adopted as it is")},
                 operation=admin_group.Adopt("FullAccess", "AGPAX")),
         Planned(C, 'policy AdministratorAccess on group "FullAccess"', fields={},
                 operation=AttachPolicy("FullAccess", ADMIN_ARN))]),
    "admin-group/compliant": (
        ADMIN_GROUP, AdminGroupState("FullAccess", "admin", ADMIN_ARN, True, (ADMIN_ARN,), ("admin",), OURS), {}, ROOT,
        []),
    # --- user-mfa ------------------------------------------------------------------------------------------
    "user-mfa/admin-enrolls-others-asked": (
        USER_MFA, UserMfaState("admin", (IamUser("admin", True), IamUser("bob", True)), "FullAccess", True, ("admin",)),
        {"user-mfa": {"enforce": True, "other_users": False}}, ROOT, [
            Planned(C, 'virtual MFA device for "admin"', sensitive=frozenset({"seed"}), operation=Enroll("admin"),
                    fields={"device": (None, "admin"), "seed": (None, "from AWS, shown only as the QR code")}),
            Planned(OP, 'MFA for "bob"', summary=["console access and no MFA"], operation=UserEnrolls("bob")),
            Planned(C, 'policy aws-harden-require-mfa on group "FullAccess"', operation=Enforce("FullAccess", "admin"),
                    fields={"effect": (None, "Deny all but MFA self-enrollment without an MFA session")})]),
    "user-mfa/no-enforcement-while-a-member-lacks-mfa": (
        USER_MFA, UserMfaState("admin", (IamUser("admin", True, ("arn:mfa/admin",)), IamUser("bob", True)),
                               "FullAccess", True, ("admin", "bob")),
        {"user-mfa": {"enforce": True, "other_users": False}}, ROOT,
        [Planned(OP, 'MFA for "bob"', operation=UserEnrolls("bob"))]),
    "user-mfa/no-enforcement-as-a-member-with-keys": (
        USER_MFA, UserMfaState("admin", (IamUser("admin", True, ("arn:mfa/admin",)),), "FullAccess", True, ("admin",)),
        {"user-mfa": {"enforce": True}}, ADMIN_CALLER, []),
    "user-mfa/compliant": (
        USER_MFA, UserMfaState("admin", (IamUser("admin", True, ("arn:mfa/admin",)),), "FullAccess", True, ("admin",),
                               {"Version": "2012-10-17"}), {"user-mfa": {"enforce": True}}, ROOT, []),
    # --- root-credentials: a checklist confirmed by typing, yearly ----------------------------------------------
    "root-credentials/never-confirmed": (
        ROOT_CREDENTIALS, RootCredentialsState(AccountSummary({"AccountMFAEnabled": 1}), 2, 0,
                                               PrimaryContact("Jane Doe", "+1 555 0100"), None, _now(0)), {}, ROOT,
        [Planned(C, "root credentials checklist", summary=["MANUAL evidence"], confirm_value="confirmed",
                 operation=RecordChecklist())]),
    "root-credentials/confirmed-this-year": (
        ROOT_CREDENTIALS, RootCredentialsState(AccountSummary({}), None, 0, None, NEW_DAY, _now(364)), {}, ROOT, []),
    "root-credentials/confirmed-last-year": (
        ROOT_CREDENTIALS, RootCredentialsState(AccountSummary({}), None, 0, None, NEW_DAY, _now(366)), {}, ROOT,
        [Planned(C, "root credentials checklist", confirm_value="confirmed", operation=RecordChecklist())]),
}

