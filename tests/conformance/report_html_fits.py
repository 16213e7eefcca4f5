"""The HTML evidence report as a reader sees it, on demand (not part of the test suite): rendered by headless
Chromium at 1200 px, it must not scroll sideways (document.documentElement.scrollWidth <= 1200), however long
the account's names are; a screenshot and a printed PDF are left for a person to look at.

    apt-get install chromium   # Debian's package
    .venv/bin/python tests/conformance/report_html_fits.py [--out DIR]

It starts the sandbox's moto server (127.0.0.1), arranges an account with long names (a 64-character user
with direct policies, a 128-character trail, a long bucket), writes `aws-harden check --report`, and measures.
Chromium runs with its background networking off and a fresh profile; the page is a local file. Exit 1 when
the page is wider than the window.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

WIDTH = 1200
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", f"--window-size={WIDTH},1000")
MEASURE = ("<script>document.addEventListener('DOMContentLoaded',()=>{const m=document.createElement('output');"
           "m.id='measured';m.hidden=true;m.textContent=document.documentElement.scrollWidth;"
           "document.body.appendChild(m)})</script>")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("no chromium: apt-get install chromium")
    return found


def write_report(path: Path, work: Path) -> None:
    import keyring

    from tests import harness
    from wizard.aws import isolated_session
    from wizard.sandbox import Sandbox
    from wizard.sandbox.server import DUMMY_SECRET, SETUP_KEY
    from wizard.secrets import memory_keyring

    sandbox = Sandbox(work / "sandbox")
    sandbox.start()
    try:
        def setup(service: str) -> object:
            return isolated_session(SETUP_KEY, DUMMY_SECRET, "us-east-1").client(
                service, endpoint_url=sandbox.endpoint_url)

        iam, s3, cloudtrail = setup("iam"), setup("s3"), setup("cloudtrail")
        long_user = "a-user-whose-name-is-as-long-as-iam-allows.and.then.some-more@x"[:64]
        iam.create_user(UserName=long_user)  # type: ignore[attr-defined]
        iam.create_login_profile(UserName=long_user, Password="Render-check-only-1!")  # type: ignore[attr-defined]
        iam.attach_user_policy(UserName=long_user,  # type: ignore[attr-defined]
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        iam.put_user_policy(UserName=long_user, PolicyName="inline-" + "x" * 100,  # type: ignore[attr-defined]
                            PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                            '"Action":"s3:GetObject","Resource":"*"}]}')
        bucket = "a-long-cloudtrail-bucket-name-for-the-render-check-" + "0" * 12
        s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
        trail = "a-trail-name-that-runs-on-and-on-" + "y" * 90
        cloudtrail.create_trail(Name=trail, S3BucketName=bucket)  # type: ignore[attr-defined]
        keyring.set_keyring(memory_keyring())
        assert sandbox.root is not None
        os.environ.update(AWS_ACCESS_KEY_ID=sandbox.root.key, AWS_SECRET_ACCESS_KEY=sandbox.root.secret,
                          AWS_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                          AWS_HARDEN_STATE_DIR=str(work / "state"))
        result = harness.run("check", "--report", str(path), "--endpoint-url", sandbox.endpoint_url,
                             "--only", "admin-user,admin-group,password-policy,user-mfa,root-mfa,cloudtrail",
                             stdin="pipe", width=None)
        if result.code not in (0, 2):
            raise SystemExit(f"check failed ({result.code}): {result.text}")
    finally:
        sandbox.stop()


def run(browser: str, profile: Path, *args: str) -> str:
    done = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="where the report, screenshot and PDF go")
    args = parser.parse_args()
    browser = chromium()
    work = Path(tempfile.mkdtemp(prefix="aws-harden-render-"))
    out = args.out or work
    out.mkdir(parents=True, exist_ok=True)
    report = out / "evidence.html"
    write_report(report, work)
    measured = work / "measured.html"
    measured.write_text(report.read_text().replace("</body>", MEASURE + "</body>"))
    dom = run(browser, work / "profile-1", "--dump-dom", measured.as_uri())
    found = re.search(r'<output id="measured" hidden="">(\d+)</output>', dom)
    if found is None:
        raise SystemExit("could not measure the page")
    width = int(found.group(1))
    run(browser, work / "profile-2", f"--screenshot={out / 'evidence.png'}", report.as_uri())
    run(browser, work / "profile-3", f"--print-to-pdf={out / 'evidence.pdf'}", "--no-pdf-header-footer",
        report.as_uri())
    print(f"scrollWidth at {WIDTH} px: {width} ({'fits' if width <= WIDTH else 'OVERFLOWS'})")
    print(f"report {report}, screenshot {out / 'evidence.png'}, printed {out / 'evidence.pdf'}")
    return 0 if width <= WIDTH else 1


if __name__ == "__main__":
    raise SystemExit(main())
