"""Errors said in words (issue 12, item 12): a web page where AWS should answer, the sandbox without its extra,
and a moto version that cannot run the cloudtrail step."""

from __future__ import annotations

import http.server
import re
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import run_cli
from wizard.errors import describe

PAGE = b"<!DOCTYPE html><html><head><title>502 Bad\n Gateway \x1b[31m</title></head><body>proxy</body></html>"


class WebPage(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WebPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_an_endpoint_answering_with_a_web_page_is_said_in_words(proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE000000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    result = run_cli(["check", "--endpoint-url", proxy], tty=False)
    assert result.code == 1
    line = result.err.strip()
    assert "answered with a web page ('502 Bad Gateway')" in line and "--endpoint-url" in line, line
    assert "<" not in line and "\x1b" not in line and "Traceback" not in line and line.count("\n") == 0


def test_a_json_service_answering_with_a_web_page_names_the_status() -> None:
    error = ClientError({"Error": {"Code": "500", "Message": PAGE.decode()},
                         "ResponseMetadata": {"HTTPStatusCode": 500}}, "DescribeBudgets")
    assert describe(error) == (
        "DescribeBudgets failed: the endpoint answered HTTP 500 with a web page ('502 Bad Gateway'), not an AWS "
        "response: a proxy or firewall may be in the way, or --endpoint-url / AWS_ENDPOINT_URL points somewhere else"
    )


def test_the_sandbox_without_its_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pip install .` without [sandbox], then `aws-harden --sandbox`: moto cannot be imported."""
    for name in [m for m in sys.modules if m == "moto" or m.startswith("moto.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "moto", None)  # what an absent package looks like to `import`
    result = run_cli(["--sandbox", "check"], tty=False)
    assert result.code == 1
    assert "the sandbox needs the 'sandbox' extra" in result.err
    assert "pip install 'aws-harden[sandbox]'" in result.err and "ModuleNotFoundError" not in result.err


def test_moto_is_at_least_the_version_that_starts_a_trail_by_arn() -> None:
    """moto before 5.2.3 refuses StartLogging by trail ARN (its CHANGELOG, 5.2.3), which every cloudtrail apply
    sends: 5.2.1 and 5.2.2 must not satisfy the sandbox extra."""
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    (spec,) = [d for d in project["project"]["optional-dependencies"]["sandbox"] if d.startswith("moto")]
    lower = re.search(r">=\s*([\d.]+)", spec)
    assert lower is not None, spec
    assert tuple(int(p) for p in lower.group(1).split(".")) >= (5, 2, 3), spec
