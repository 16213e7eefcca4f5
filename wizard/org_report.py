"""The organization's outputs: one JSON report holding every account's single-account report, OCSF findings
tagged with their account and organization, and an evidence report (Markdown or HTML) over all accounts.

Each account's part is exactly what `check --output json` prints for that account (wizard/report.py); this
module adds only the organization around it. The JSON shape is the `organization_report` of
wizard/report-schema.json.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from wizard import __version__
from wizard import report as account_report
from wizard.aws import Caller
from wizard.fanout import FanOut

SCHEMA = "aws-harden/organization-report"
SCHEMA_VERSION = 1
STATUS_WORDS = {"compliant": "compliant", "noncompliant": "not compliant", "error": "error",
                "unassumable": "unreachable"}


def summary_counts(fanout: FanOut) -> dict[str, int]:
    counts: dict[str, int] = {"accounts": len(fanout.runs)}
    for status, count in fanout.counts().items():
        counts[status] = count
    return counts


def account_words(command: str) -> dict[str, str]:
    """An account's status in words: check's, or plan's (changes or not), or apply's (verified or pending)."""
    words = dict(STATUS_WORDS)
    if command == "plan":
        words.update(compliant="without changes", noncompliant="with changes")
    elif command == "apply":
        words.update(compliant="verified", noncompliant="left pending")
    return words


def summary_line(fanout: FanOut) -> str:
    """"5 accounts: 2 compliant, 1 not compliant, 1 error, 1 unreachable" (plan: with / without changes)."""
    counts = fanout.counts()
    words = account_words(fanout.command)
    parts = [f"{counts[s]} {words[s]}" for s in ("compliant", "noncompliant", "error", "unassumable") if counts[s]]
    total = len(fanout.runs)
    return f"{total} account{'s' if total != 1 else ''}: " + (", ".join(parts) or "none checked")


def build(fanout: FanOut, caller: Caller, sandbox: bool, now: datetime | None = None) -> dict[str, Any]:
    when = now or datetime.now(UTC)
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "aws-harden", "version": __version__},
        "command": fanout.command,
        "time": when.isoformat(timespec="seconds"),
        "sandbox": sandbox,
        "caller": caller.as_record(),
        "organization": fanout.organization.as_record(),
        "role": fanout.role,
        "summary": {**summary_counts(fanout), "line": summary_line(fanout)},
        "accounts": [r.as_record() for r in fanout.runs],
    }


def ocsf(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Every account's OCSF findings (report.ocsf, whose cloud.account.uid is already that account), each also
    tagged with the account's name and the organization (OCSF's cloud.org)."""
    organization = payload["organization"]
    findings = []
    for account in payload["accounts"]:
        if account["report"] is None:
            continue
        for finding in account_report.ocsf(account["report"]):
            finding["cloud"]["account"]["name"] = account["name"]
            finding["cloud"]["org"] = {"uid": organization["id"], "name": organization["id"]}
            finding["unmapped"]["organization_management_account"] = organization["management_account"]
            findings.append(finding)
    return findings


def _demoted(markdown: str) -> str:
    """One account's Markdown report as a section of the organization's: every heading one level down."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(out)


def _cell(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _step_ids(payload: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for account in payload["accounts"]:
        for step in (account["report"] or {}).get("steps", []):
            if step["id"] not in seen:
                seen.append(step["id"])
    return seen


def _cell_status(account: dict[str, Any], step_id: str) -> str:
    if account["report"] is None:
        return "—"
    step = next((s for s in account["report"]["steps"] if s["id"] == step_id), None)
    if step is None:
        return "— (management account only)" if any(s["id"] == step_id for s in account["skipped_steps"]) else "—"
    return account_report.STATUS_WORD[step["status"]]


def markdown(payload: dict[str, Any]) -> str:
    org = payload["organization"]
    steps = _step_ids(payload)
    out = [
        f"# AWS organization hardening evidence: {_cell(org['id'])}",
        "",
        "## Summary",
        "",
        f"- Organization: `{_cell(org['id'])}`, management account `{_cell(org['management_account'])}`"
        + (" (sandbox, simulated)" if payload["sandbox"] else ""),
        f"- Checked by: `{_cell(payload['caller']['arn'])}` through the role `{_cell(payload['role'])}`",
        f"- Time (UTC): {_cell(payload['time'])}",
        f"- Tool: aws-harden {_cell(payload['tool']['version'])}, report schema {payload['schema_version']}",
        f"- Accounts: **{_cell(payload['summary']['line'])}**",
        "",
        "| account | name | status | " + " | ".join(_cell(s) for s in steps) + " | controls PASS / FAIL / MANUAL |",
        "|---|---|---|" + "---|" * len(steps) + "---|",
    ]
    for a in payload["accounts"]:
        counts = (a["report"] or {}).get("controls_summary")
        controls = f"{counts['PASS']} / {counts['FAIL']} / {counts['MANUAL']}" if counts else "—"
        out.append(f"| `{a['id']}` | {_cell(a['name'])} | {STATUS_WORDS[a['status']]} | "
                   + " | ".join(_cell(_cell_status(a, s)) for s in steps) + f" | {controls} |")
    problems = [a for a in payload["accounts"] if a["status"] in ("error", "unassumable")]
    if problems:
        out += ["", "Not checked or not fully checked:", ""]
        out += [f"- `{a['id']}` ({_cell(a['name'])}): {_cell(a['reason'])}" for a in problems]
    for a in payload["accounts"]:
        if a["report"] is not None:
            out += ["", _demoted(account_report.markdown(a["report"])).rstrip("\n")]
    return "\n".join(out) + "\n"


def html_report(payload: dict[str, Any]) -> str:
    """The organization's summary, then every account's HTML report body (report.html_report) in turn."""
    e = html.escape
    org = payload["organization"]
    steps = _step_ids(payload)
    head = "".join(f"<th>{e(s)}</th>" for s in steps)
    rows = "".join(
        f"<tr><td><code>{e(a['id'])}</code></td><td>{e(a['name'])}</td><td>{e(STATUS_WORDS[a['status']])}</td>"
        + "".join(f"<td>{e(_cell_status(a, s))}</td>" for s in steps) + "</tr>"
        for a in payload["accounts"]
    )
    problems = "".join(f"<li><code>{e(a['id'])}</code> ({e(a['name'])}): {e(a['reason'])}</li>"
                       for a in payload["accounts"] if a["status"] in ("error", "unassumable"))
    bodies = []
    for a in payload["accounts"]:
        if a["report"] is None:
            continue
        page = account_report.html_report(a["report"])
        body = page.split("<body>", 1)[1].rsplit("</body>", 1)[0]
        bodies.append(f"<article id='account-{e(a['id'])}'>{re.sub(r'<(/?)h([1-3])>', _demote_tag, body)}</article>")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>AWS organization hardening evidence {e(org['id'])}</title><style>{account_report.CSS}</style>"
        "</head><body>"
        f"<h1>AWS organization hardening evidence: {e(org['id'])}</h1><section><h2>Summary</h2>"
        f"<p>Organization <code>{e(org['id'])}</code>, management account <code>{e(org['management_account'])}"
        f"</code>{' (sandbox, simulated)' if payload['sandbox'] else ''}; checked by "
        f"<code>{e(payload['caller']['arn'])}</code> through the role <code>{e(payload['role'])}</code> at "
        f"{e(payload['time'])} UTC with aws-harden {e(payload['tool']['version'])}.</p>"
        f"<p><b>{e(payload['summary']['line'])}</b></p>"
        f"<table><tr><th>account</th><th>name</th><th>status</th>{head}</tr>{rows}</table>"
        + (f"<p>Not checked or not fully checked:</p><ul>{problems}</ul>" if problems else "")
        + "</section>" + "".join(bodies) + "</body></html>\n"
    )


def _demote_tag(match: re.Match[str]) -> str:
    return f"<{match.group(1)}h{int(match.group(2)) + 1}>"
