"""Conformance with Prowler, on demand (not part of the test suite): does aws-harden's verdict for every
Prowler check it claims agree with Prowler's own, on the same account?

    .venv/bin/python tests/conformance/prowler_conformance.py [--states fresh,hardened] [--keep]

It installs Prowler (PROWLER_VERSION, from PyPI) in its own virtualenv (~/.cache/aws-harden/prowler-venv,
or --prowler-venv), then for each account state starts the sandbox's moto server (127.0.0.1 only, with the
root-user extension), arranges the state, runs Prowler unmodified against it (AWS_ENDPOINT_URL; --checks
the claimed ids; the regional guardrail checks with -f and the sandbox's two enabled regions, the others with
-f us-east-1; --scan-unused-services, so that its EBS and S3 account checks report where there are no
volumes or buckets, as aws-harden does; json-ocsf), then
`aws-harden check --output json` on the same state, and prints a table of every claimed check x state with
both verdicts. A check's verdict is the worst of its findings (FAIL, then MANUAL, then PASS); "none" means no
finding. Prowler reports nothing when there is nothing to check (its root checks while root has no active
access key, the per-trail checks without a trail): "none" against aws-harden's PASS agrees, against FAIL or
MANUAL it does not. Prowler's account_security_contact_information_is_registered is MANUAL whatever the
account holds (it only points at the console): there its MANUAL agrees with either verdict of aws-harden,
which reads the contact.

Prowler and aws-harden reach the sandbox through a wrapper (tests/standin_wsgi.py) that answers what moto
lacks (Access Analyzer, Free Tier, GetContactInformation) from the sandbox's stand-in; Prowler's S3 Control
client puts the account id in front of the host (<account>.localhost), which a sitecustomize given to
Prowler's interpreter resolves to 127.0.0.1 (name resolution only; Prowler itself is unmodified).

It also checks each control's ids against Prowler's installed tables (compliance/aws/cis_7.0_aws.json,
cis_5.0_aws.json, aws_foundational_security_best_practices_aws.json) and each check's metadata (title,
severity). Exit 1 on any disagreement. Every request goes to loopback: proxies point at a closed
loopback port, so anything else fails at once.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.guardrail_answers import ANSWERS as GUARDRAIL_ANSWERS
from wizard.controls import CONTROLS, PROWLER, SECURITY_HUB, worst

PROWLER_VERSION = "5.46.0"
REGIONS = ("eu-west-1", "us-east-1")  # the sandbox's enabled regions here (tests/moto_regions.py pins them)
REGIONAL = {"ec2_ebs_default_encryption", "accessanalyzer_enabled", "guardduty_is_enabled"}  # per region
# Prowler's check is MANUAL whatever the account holds; aws-harden reads the contact (its verdict is shown).
PROWLER_MANUAL = {"account_security_contact_information_is_registered"}
GUARDRAILS = "root-credentials,account-contacts,s3-public-access,ebs-encryption,access-analyzer,guardduty,default-vpcs"
# For Prowler's interpreter: S3 Control's "<account>.localhost" host resolves to loopback.
SITECUSTOMIZE = """
import re, socket
_getaddrinfo = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and re.fullmatch(r"\\d{12}\\.localhost", host):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = getaddrinfo
"""
DEFAULT_VENV = Path.home() / ".cache" / "aws-harden" / "prowler-venv"
ACCOUNT = "123456789012"
REGION = "us-east-1"
ADMIN_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
# Steps that run against a plain moto endpoint (billing's cur / bcm-data-exports have no moto API).
STEPS = "admin-user,admin-group,root-access-keys,password-policy,signin-link,user-mfa,root-mfa,cloudtrail"
HALF = "admin-user,admin-group,password-policy,cloudtrail"
LOOPBACK_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, so a stray request fails fast
# Ids aws-harden adds on purpose beyond Prowler's tables (wizard/controls.py says why).
EXTRA_IDS = {
    ("cloudtrail_multi_region_enabled_logging_management_events", "CIS AWS v7.0", "4.1"),
    ("cloudtrail_multi_region_enabled_logging_management_events", "CIS AWS v5.0", "3.1"),
    ("cloudtrail_multi_region_enabled_logging_management_events", "AWS Security Hub", "CloudTrail.1"),
    ("iam_policy_attached_only_to_group_or_roles", "AWS Security Hub", "IAM.2"),
    ("iam_root_mfa_enabled", "AWS Security Hub", "IAM.9"),
    ("iam_password_policy_minimum_length_14", "AWS Security Hub", "IAM.15"),
    ("iam_password_policy_reuse_24", "AWS Security Hub", "IAM.16"),
    ("accessanalyzer_enabled", "AWS Security Hub", "IAM.28"),  # the Security Hub CIS standard's control
    ("iam_support_role_created", "AWS Security Hub", "IAM.18"),  # Security Hub's support-role control
}
LEFT_OUT = {("iam_user_mfa_enabled_console_access", "AWS Security Hub", "IAM.19"),  # all users, not console only
            ("iam_password_policy_minimum_length_14", "AWS Security Hub", "IAM.10"),  # IAM.7's twin in the
            ("iam_password_policy_reuse_24", "AWS Security Hub", "IAM.10"),  # older standard, retired
            # IAM.26 is about expired SSL/TLS server certificates in IAM, not unused credentials
            ("iam_user_accesskey_unused", "AWS Security Hub", "IAM.26"),
            ("iam_user_console_access_unused", "AWS Security Hub", "IAM.26"),
            *{(c, "AWS Security Hub", "IAM.10") for c in (
                "iam_password_policy_uppercase", "iam_password_policy_lowercase", "iam_password_policy_number",
                "iam_password_policy_symbol")}}


# --- Prowler -------------------------------------------------------------------------------------------
def ensure_prowler(venv: Path) -> Path:
    prowler = venv / "bin" / "prowler"
    if not prowler.exists():
        print(f"installing prowler {PROWLER_VERSION} into {venv} (once; a few minutes)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"prowler=={PROWLER_VERSION}"], check=True)
    return prowler


def prowler_package(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages/prowler"))
    if not found:
        raise SystemExit(f"no prowler package under {venv}")
    return found[0]


def loopback_env(endpoint: str, key: str, secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true", HTTP_PROXY=LOOPBACK_PROXY, HTTPS_PROXY=LOOPBACK_PROXY,
        http_proxy=LOOPBACK_PROXY, https_proxy=LOOPBACK_PROXY, NO_PROXY="127.0.0.1,localhost,.localhost",
        no_proxy="127.0.0.1,localhost,.localhost",
    )
    return env


def resolver_shim(work: Path) -> Path:
    """A sitecustomize for Prowler's interpreter: <account>.localhost -> 127.0.0.1, nothing else."""
    folder = work / "prowler-site"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return folder


def run_prowler(prowler: Path, env: dict[str, str], out: Path) -> dict[str, list[dict[str, Any]]]:
    """Two scans: the regional guardrail checks over both regions; the rest in us-east-1, where the trails are
    homed (moto answers GetEventSelectors only in a trail's home region, so Prowler scanning eu-west-1 too
    would see the multi-region trail there without its selectors; AWS answers it)."""
    regional = [c.id for c in CONTROLS if c.id in REGIONAL]
    findings: dict[str, list[dict[str, Any]]] = {}
    for checks, regions in (([c.id for c in CONTROLS if c.id not in REGIONAL], (REGION,)), (regional, REGIONS)):
        where = out / "-".join(regions)
        done = subprocess.run(
            [str(prowler), "aws", "--checks", *checks, "-f", *regions, "--scan-unused-services",
             "--output-formats", "json-ocsf", "-o", str(where), "--no-banner", "--ignore-exit-code-3"],
            env=env, capture_output=True, text=True, timeout=1200,
        )
        files = sorted(where.glob("*.ocsf.json"))
        if done.returncode != 0 or not files:
            raise SystemExit(f"prowler failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        for finding in json.loads(files[-1].read_text()):
            findings.setdefault(finding["metadata"]["event_code"], []).append(finding)
    return findings


# --- the account ---------------------------------------------------------------------------------------
@dataclass
class World:
    sandbox: Any
    key: str  # who Prowler and check sign as (root, until its key is gone)
    secret: str
    state_dir: Path
    endpoint: str  # moto with the guardrail stand-in in front (tests/standin_wsgi.py)

    def setup(self, service: str, region: str = REGION) -> Any:
        """An unguarded client signed by a key that belongs to nobody, for arranging state."""
        from wizard.aws import isolated_session
        from wizard.local_endpoint import adapt
        from wizard.sandbox.server import DUMMY_SECRET, SETUP_KEY

        client = isolated_session(SETUP_KEY, DUMMY_SECRET, region).client(service, endpoint_url=self.endpoint)
        adapt(client, service, self.endpoint)
        return client

    def aws_harden(self, *argv: str) -> tuple[int, str, str]:
        """The program in-process (its keyring in memory), against this endpoint, as the current key."""
        import keyring

        from tests import harness
        from wizard.secrets import memory_keyring

        keyring.set_keyring(memory_keyring())
        with patched_env(AWS_ACCESS_KEY_ID=self.key, AWS_SECRET_ACCESS_KEY=self.secret, AWS_REGION=REGION,
                         AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                         AWS_HARDEN_STATE_DIR=str(self.state_dir)):
            result = harness.run(*argv, "--endpoint-url", self.endpoint, stdin="pipe", width=None)
        return result.code, result.out, result.err

    def apply(self, only: str, answers: str = "") -> None:
        path = self.state_dir / "answers.toml"
        path.write_text(answers)
        code, out, err = self.aws_harden("apply", "--yes", "--only", only, "--answers", str(path))
        if code not in (0, 2):
            raise SystemExit(f"apply failed ({code}):\n{out}{err}")


@contextmanager
def patched_env(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def mfa_for(world: World, user: str, name: str) -> None:
    iam = world.setup("iam")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")


def fresh(world: World) -> None:
    """A new account: root with an access key, nothing else."""


def half_hardened(world: World) -> None:
    """The admin user and group, the password policy and the trail; root keeps its key, nobody has MFA."""
    world.apply(HALF)


def hardened(world: World) -> None:
    """Every step done: the admin with MFA, root with a hardware device and no access key; later reads sign
    as the admin's access key."""
    from wizard.sandbox.root_user import ROOT_NAME

    world.apply(STEPS)
    mfa_for(world, "admin", "admin-phone")
    world.setup("iam").enable_mfa_device(UserName=ROOT_NAME, SerialNumber="GAHT12345678",
                                         AuthenticationCode1="123456", AuthenticationCode2="654321")
    world.apply(STEPS, f'[root-access-keys]\nconfirm_delete_running_key = "{world.key}"\n')
    key = world.setup("iam").create_access_key(UserName="admin")["AccessKey"]
    world.key, world.secret = key["AccessKeyId"], key["SecretAccessKey"]


def virtual_root_mfa(world: World) -> None:
    """Half-hardened, and root's MFA is a virtual device (root keeps its key, so Prowler reports on root)."""
    from wizard.sandbox.root_user import assign_root_mfa

    world.apply(HALF)
    assign_root_mfa(world.setup("iam"))


def other_admin(world: World) -> None:
    """Half-hardened, plus another user with a console password and AdministratorAccess attached directly."""
    world.apply(HALF)
    iam = world.setup("iam")
    iam.create_user(UserName="ops")
    iam.create_login_profile(UserName="ops", Password="Conformance-only-1!", PasswordResetRequired=False)
    iam.attach_user_policy(UserName="ops", PolicyArn=ADMIN_ACCESS)


def weak_trail(world: World) -> None:
    """Half-hardened, plus an old single-region trail without log file validation whose bucket's ACL lets
    everyone read (AllUsers)."""
    world.apply(HALF)
    s3 = world.setup("s3")
    s3.create_bucket(Bucket="old-public-trail-logs")
    s3.put_bucket_ownership_controls(Bucket="old-public-trail-logs",
                                     OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_bucket_acl(Bucket="old-public-trail-logs", ACL="public-read")
    # CreateTrail needs the bucket policy CloudTrail documents (the strict world checks it, as AWS does:
    # "Amazon S3 bucket policy for CloudTrail", CloudTrail User Guide); the ACL is what makes it public.
    s3.put_bucket_policy(Bucket="old-public-trail-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::old-public-trail-logs",
         "Condition": {"StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/legacy"}}},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::old-public-trail-logs/AWSLogs/{ACCOUNT}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                        "aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/legacy"}}},
    ]}))
    world.setup("cloudtrail").create_trail(Name="legacy", S3BucketName="old-public-trail-logs")


def guardrails(world: World) -> None:
    """Fresh, then apply --yes of the guardrail steps with every answer (GuardDuty on, both default VPCs
    deleted, the checklist confirmed)."""
    world.apply(GUARDRAILS, GUARDRAIL_ANSWERS)


def weak_guardrails(world: World) -> None:
    """Someone else's half-done guardrails: only a billing contact, the account's S3 block without
    IgnorePublicAcls and RestrictPublicBuckets, EBS encryption on in us-east-1 only, GuardDuty on in us-east-1
    and suspended in eu-west-1, an access analyzer in us-east-1 only."""
    world.setup("account").put_alternate_contact(AlternateContactType="BILLING", Name="Finance", Title="Billing",
                                                 EmailAddress="billing@example.com", PhoneNumber="+1 555 0101")
    world.setup("s3control").put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "BlockPublicPolicy": True})
    world.setup("ec2").enable_ebs_encryption_by_default()
    world.setup("guardduty").create_detector(Enable=True)
    world.setup("guardduty", "eu-west-1").create_detector(Enable=False)
    world.setup("accessanalyzer").create_analyzer(analyzerName="theirs", type="ACCOUNT")


TEAM = '[team-users]\nusers = [{ name = "dana", group = "Developers" }, { name = "erin", group = "ReadOnly" }]\n'


def team(world: World) -> None:
    """Half-hardened, plus issue 14's team and the support role: the team's console users have no MFA yet
    (iam_user_mfa_enabled_console_access FAIL for them), nobody has a policy of their own, a role has
    AWSSupportAccess."""
    world.apply(HALF)
    world.apply("team-users,support-role", TEAM)


def doubled_keys(world: World) -> None:
    """The team, plus a user with two active access keys and a policy attached directly (the unused and
    rotation checks PASS: the keys are new)."""
    team(world)
    iam = world.setup("iam")
    iam.create_user(UserName="ci")
    for _ in range(2):
        iam.create_access_key(UserName="ci")
    iam.attach_user_policy(UserName="ci", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")


STATES: dict[str, Callable[[World], None]] = {
    "fresh": fresh, "half-hardened": half_hardened, "hardened": hardened, "virtual-root-mfa": virtual_root_mfa,
    "other-admin": other_admin, "weak-trail": weak_trail, "guardrails": guardrails,
    "weak-guardrails": weak_guardrails, "team": team, "doubled-keys": doubled_keys,
}


@dataclass
class Row:
    check: str
    state: str
    prowler: str
    ours: str
    agrees: bool
    detail: str


def verdict_of(statuses: list[str]) -> str:
    return worst(statuses) if statuses else "none"  # type: ignore[arg-type]


def agree(prowler: str, ours: str, check: str = "") -> bool:
    if check in PROWLER_MANUAL:
        return prowler == "MANUAL"
    return prowler == ours or (prowler == "none" and ours in ("PASS", "none"))


def run_state(name: str, arrange: Callable[[World], None], prowler: Path, work: Path) -> list[Row]:
    from tests.moto_regions import pinned
    from tests.standin_wsgi import serve
    from wizard.sandbox import Sandbox

    sandbox = Sandbox(work / name / "sandbox")
    with pinned(REGIONS):
        sandbox.start()
        server, endpoint = serve(sandbox.guardrails)
        logging.getLogger("werkzeug").disabled = True  # moto answers what it lacks with a traceback: Prowler asks
        try:
            return compare(name, arrange, prowler, work, sandbox, endpoint)
        finally:
            server.shutdown()
            sandbox.stop()


def compare(name: str, arrange: Callable[[World], None], prowler: Path, work: Path, sandbox: Any,
            endpoint: str) -> list[Row]:
    assert sandbox.root is not None
    world = World(sandbox, sandbox.root.key, sandbox.root.secret, work / name, endpoint)
    world.state_dir.mkdir(parents=True, exist_ok=True)
    arrange(world)
    started = time.monotonic()
    env = loopback_env(world.endpoint, world.key, world.secret)
    env["PYTHONPATH"] = str(resolver_shim(work))
    findings = run_prowler(prowler, env, work / name / "prowler")
    took = time.monotonic() - started
    code, out, err = world.aws_harden("check", "--output", "json", "--only", STEPS)
    if code not in (0, 2):
        raise SystemExit(f"aws-harden check failed ({code}):\n{out}{err}")
    report = json.loads(out)
    print(f"  {name}: prowler {took:.0f} s, aws-harden check exit {code}", flush=True)
    rows = []
    for control in report["controls"]:
        theirs = findings.get(control["id"], [])
        p = verdict_of([f["status_code"] for f in theirs])
        ours = verdict_of([r["status"] for r in control["resources"]])
        detail = ""
        agrees = agree(p, ours, control["id"])
        if not agrees:
            detail = ("prowler: " + "; ".join(f"{f['status_code']} {f['status_detail']}" for f in theirs)
                      + " | aws-harden: " + "; ".join(f"{r['status']} {r['reason']}" for r in control["resources"]))
        rows.append(Row(control["id"], name, p, ours, agrees, detail))
    return rows


# --- the mapping -------------------------------------------------------------------------------------------
def mapping_problems(package: Path) -> list[str]:
    tables = {
        "CIS AWS v7.0": "cis_7.0_aws.json", "CIS AWS v5.0": "cis_5.0_aws.json",
        SECURITY_HUB: "aws_foundational_security_best_practices_aws.json",
    }
    claimed: dict[tuple[str, str], set[str]] = {}
    for framework, file in tables.items():
        for requirement in json.loads((package / "compliance" / "aws" / file).read_text())["Requirements"]:
            for check in requirement["Checks"]:
                claimed.setdefault((check, framework), set()).add(requirement["Id"])
    problems = []
    for c in CONTROLS:
        for framework in tables:
            ours = set(c.ids[framework])
            theirs = claimed.get((c.id, framework), set())
            for i in sorted(ours - theirs):
                if (c.id, framework, i) not in EXTRA_IDS:
                    problems.append(f"{c.id}: {framework} {i} is not Prowler's mapping")
            for i in sorted(theirs - ours):
                if (c.id, framework, i) not in LEFT_OUT:
                    problems.append(f"{c.id}: Prowler maps {framework} {i}, aws-harden does not")
        metadata = next((package / "providers" / "aws" / "services").glob(f"*/{c.id}/{c.id}.metadata.json"), None)
        if metadata is None:
            problems.append(f"{c.id}: no such check in Prowler")
            continue
        meta = json.loads(metadata.read_text())
        if meta["Severity"] != c.severity:
            problems.append(f"{c.id}: severity {c.severity}, Prowler's {meta['Severity']}")
        if meta["CheckTitle"] != c.title:
            problems.append(f"{c.id}: title {c.title!r}, Prowler's {meta['CheckTitle']!r}")
        assert c.ids[PROWLER] == [c.id]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--states", default=",".join(STATES), help="comma-separated, of: " + ", ".join(STATES))
    parser.add_argument("--prowler-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (Prowler's output)")
    args = parser.parse_args()
    wanted = [s.strip() for s in args.states.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in STATES]
    if unknown:
        parser.error(f"unknown state {', '.join(unknown)}")
    prowler = ensure_prowler(args.prowler_venv)
    version = subprocess.run([str(args.prowler_venv / "bin" / "pip"), "show", "prowler"], capture_output=True,
                             text=True).stdout.split("Version:")[1].split()[0]
    problems = mapping_problems(prowler_package(args.prowler_venv))
    print(f"Prowler {version}; mapping against its tables and metadata: "
          + ("agrees" if not problems else f"{len(problems)} problem(s)"))
    for p in problems:
        print("  " + p)
    work = Path(tempfile.mkdtemp(prefix="aws-harden-conformance-"))
    rows: list[Row] = []
    for name in wanted:
        rows += run_state(name, STATES[name], prowler, work)
    print()
    print("| Prowler check | " + " | ".join(wanted) + " |")
    print("|---|" + "---|" * len(wanted))
    for c in CONTROLS:
        cells = []
        for state in wanted:
            r = next(r for r in rows if r.check == c.id and r.state == state)
            cells.append(f"{r.prowler} / {r.ours}" + ("" if r.agrees else " **differs**"))
        print(f"| `{c.id}` | " + " | ".join(cells) + " |")
    print("\n(each cell: Prowler / aws-harden; none = no finding; Prowler's "
          + ", ".join(sorted(PROWLER_MANUAL)) + " is always MANUAL)")
    differing = [r for r in rows if not r.agrees]
    for r in differing:
        print(f"\nDIFFERS {r.check} in {r.state}: {r.detail}")
    print(f"\n{len(rows) - len(differing)} of {len(rows)} agree; mapping problems: {len(problems)}")
    if args.keep:
        print(f"work directory kept: {work}")
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 1 if differing or problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
