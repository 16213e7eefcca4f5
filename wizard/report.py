"""Evidence for people and tools: the versioned JSON report, Markdown and HTML for auditors, OCSF
Detection Findings for Prowler and Security Hub, and a Prowler mutelist for accepted exceptions.

Everything here is built from step outcomes, control verdicts (wizard/controls.py) and the account facts
they were evaluated on; no step output or fact carries a secret, and nothing here adds one. The JSON's
shape is wizard/report-schema.json (shipped in the package; the tests validate every output against it).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from wizard import __version__
from wizard.controls import (
    EXCEPTIONS,
    FRAMEWORKS,
    SEVERITY_ID,
    STATUSES,
    STEP_SEVERITY,
    ControlResult,
    framework_counts,
)
from wizard.printable import printable

if TYPE_CHECKING:
    from wizard.aws import Caller
    from wizard.facts import AccountFacts
    from wizard.outcome import StepOutcome

SCHEMA = "aws-harden/report"
SCHEMA_VERSION = 3
OCSF_VERSION = "1.3.0"
SEVERITY_NAMES = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
STATUS_WORD = {"compliant": "PASS", "noncompliant": "FAIL", "manual": "MANUAL", "error": "ERROR"}
# Prowler's resource types for the claimed checks (each check's metadata.json).
RESOURCE_TYPES = {"iam_password_policy": "AwsIamPolicy", "iam_no_root_access_key": "AwsIamAccessKey",
                  "iam_": "AwsIamUser", "cloudtrail_logs_s3": "AwsS3Bucket", "cloudtrail_": "AwsCloudTrailTrail"}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `--output json` (draft 2020-12), as installed with the package."""
    text = resources.files("wizard").joinpath("report-schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def build(
    command: str,
    caller: Caller,
    region: str,
    sandbox: bool,
    outcomes: Sequence[StepOutcome],
    answer: Callable[[str, str], Any],
    summary: str,
    controls: Sequence[ControlResult] = (),
    facts: AccountFacts | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The JSON report (schema_version 3). `answer(step_id, key)` names resources for exceptions."""
    when = now or datetime.now(UTC)
    steps = []
    for o in outcomes:
        record = o.as_record()
        record["severity"] = STEP_SEVERITY.get(o.step_id, "medium").capitalize()
        record["remediates"] = [r.control.id for r in controls if o.step_id in r.remediated_by]
        steps.append(record)
    counts = {s: sum(1 for r in controls if r.status == s) for s in STATUSES}
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "aws-harden", "version": __version__},
        "command": command,
        "time": when.isoformat(timespec="seconds"),
        "account": caller.account,
        "caller": caller.as_record(),
        "region": region,
        "sandbox": sandbox,
        "summary": summary,
        "steps": steps,
        "controls_summary": {**counts, "frameworks": framework_counts(controls)},
        "controls": [control_record(r) for r in controls],
        "accepted_exceptions": accepted_exceptions(answer, facts),
    }


def control_record(result: ControlResult) -> dict[str, Any]:
    c = result.control
    return {
        "id": c.id,
        "title": c.title,
        "severity": c.severity.capitalize(),
        "status": result.status,
        "ids": c.ids,
        "requirements": c.requirements(),
        "remediated_by": list(result.remediated_by),
        "resources": [v.as_record() for v in result.verdicts],
    }


def accepted_exceptions(answer: Callable[[str, str], Any], facts: AccountFacts | None) -> list[dict[str, Any]]:
    """The deliberate deviations, each with what the account shows of it (the group and its policies)."""
    out = []
    for e in EXCEPTIONS:
        resource = str(answer(*e.resource_answer))
        group = facts.group(resource) if facts is not None else None
        out.append({
            "step": e.step_id,
            "controls": [c.as_record() for c in e.controls],
            "resource": resource,
            "mutelist_resources": [resource, *e.extra_resources],
            "reason": e.reason,
            "present": group is not None and any(p.name in e.extra_resources for p in group.attached_policies),
            "observed": {"group": resource, "exists": group is not None,
                         "attached_policies": [p.arn for p in group.attached_policies] if group else []},
        })
    return out


# --- Markdown ----------------------------------------------------------------------------------------
def _cell(value: object) -> str:
    """A Markdown table cell: control characters escaped, no raw HTML, no table or code breaks."""
    text = printable(value).replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ids(control: dict[str, Any], framework: str) -> str:
    return ", ".join(control["ids"][framework]) or "—"


def _counts_line(counts: dict[str, Any]) -> str:
    return f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['MANUAL']} MANUAL"


def markdown(report: dict[str, Any]) -> str:
    cell = _cell
    summary = report["controls_summary"]
    out = [
        f"# AWS account hardening evidence: {cell(report['account'])}",
        "",
        "## Summary",
        "",
        f"- Account: `{cell(report['account'])}`" + (" (sandbox, simulated)" if report["sandbox"] else ""),
        f"- Checked by: `{cell(report['caller']['arn'])}` ({cell(report['caller']['type'])})",
        f"- Time (UTC): {cell(report['time'])}",
        f"- Tool: aws-harden {cell(report['tool']['version'])}, report schema {report['schema_version']}",
        f"- Region: {cell(report['region'])}",
        f"- Controls: **{_counts_line(summary)}** (of {len(report['controls'])}, evaluated on the whole account)",
        "",
        "| framework | requirements PASS | FAIL | MANUAL |",
        "|---|---|---|---|",
        *(f"| {f} | {summary['frameworks'][f]['PASS']} | {summary['frameworks'][f]['FAIL']} | "
          f"{summary['frameworks'][f]['MANUAL']} |" for f in FRAMEWORKS),
    ]
    failing = [c for c in report["controls"] if c["status"] != "PASS"]
    if failing:
        out += ["", "Not passing:", ""]
        out += [f"- **{c['status']}** `{cell(c['id'])}` ({cell(c['severity'])}): "
                f"{cell('; '.join(r['reason'] for r in c['resources'] if r['status'] != 'PASS'))}" for c in failing]
    out += ["", "## Controls", "",
            "| control | status | severity | CIS v7.0 | CIS v5.0 | Security Hub | remediated by |",
            "|---|---|---|---|---|---|---|"]
    for c in report["controls"]:
        out.append(f"| `{cell(c['id'])}` | {c['status']} | {cell(c['severity'])} | {_ids(c, 'CIS AWS v7.0')} | "
                   f"{_ids(c, 'CIS AWS v5.0')} | {_ids(c, 'AWS Security Hub')} | "
                   f"{cell(', '.join(c['remediated_by']) or 'no step')} |")
    for c in report["controls"]:
        out += ["", f"### {cell(c['id'])}: {cell(c['title'])}", "",
                f"Status: **{c['status']}** ({cell(c['severity'])}). {cell(', '.join(c['requirements']))}. "
                + (f"Remediated by: {cell(', '.join(c['remediated_by']))}." if c["remediated_by"]
                   else "No aws-harden step remediates it."), ""]
        if not c["resources"]:
            out.append("No resource to check.")
            continue
        out += ["| resource | status | reason |", "|---|---|---|"]
        out += [f"| `{cell(r['id'])}` | {r['status']} | {cell(r['reason'])} |" for r in c["resources"]]
        fixes = [r for r in c["resources"] if r["fix"] and r["status"] != "PASS"]
        if fixes:
            out += ["", "To fix:", ""] + [f"- `{cell(r['id'])}`: {cell(r['fix'])}" for r in fixes]
        evidence = {r["id"]: r["evidence"] for r in c["resources"] if r["evidence"]}
        if evidence:
            out += ["", "Observed:", "", "```json", json.dumps(evidence, indent=2, default=str), "```"]
    out += ["", "## Accepted exceptions", ""]
    for exc in report["accepted_exceptions"]:
        ids = ", ".join(f"{x['framework']} {x['id']}" for x in exc["controls"])
        seen = "present in the account" if exc["present"] else "not present in the account now"
        out.append(f"- `{cell(exc['resource'])}` ({cell(ids)}), {seen}: {cell(exc['reason'])}")
    out += ["", "## Steps", "", "| step | status | why | remediates |", "|---|---|---|---|"]
    out += [f"| {cell(s['id'])} | {STATUS_WORD[s['status']]} | {cell(s['reason'])} | "
            f"{cell(', '.join(s['remediates']) or '—')} |" for s in report["steps"]]
    for s in report["steps"]:
        lines = [f["text"] for f in s["findings"]] or [s["reason"]]
        out += ["", f"### {cell(s['id'])}: {cell(s['title'])}", ""] + [f"- {cell(line)}" for line in lines]
    return "\n".join(out) + "\n"


# --- HTML ----------------------------------------------------------------------------------------------
CSS = (
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,sans-serif;margin:0 auto;padding:1.5em;max-width:70em;line-height:1.4;"
    "overflow-wrap:anywhere}"
    "table{border-collapse:collapse;width:100%;table-layout:fixed;margin:.5em 0}"
    "td,th{border:1px solid #999;padding:.3em .4em;vertical-align:top;text-align:left;overflow-wrap:anywhere}"
    "code{overflow-wrap:anywhere;word-break:break-word}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;padding:.5em;margin:.3em 0;"
    "font-size:.85em;max-width:100%}"
    ".pass{color:#060;font-weight:bold}.fail,.error{color:#a00;font-weight:bold}.manual{color:#a60;font-weight:bold}"
    ".exception{color:#555}section{margin-bottom:1.5em}"
    "@media print{body{max-width:none;padding:0;font-size:10pt}pre{background:none;border:1px solid #ccc}"
    "tr{break-inside:avoid}h2,h3{break-after:avoid}a{color:inherit;text-decoration:none}}"
)


def html_report(report: dict[str, Any]) -> str:
    def e(value: object) -> str:
        return html.escape(printable(value))

    summary = report["controls_summary"]

    def status(word: str) -> str:
        return f"<span class={word.lower()}>{e(word)}</span>"

    frameworks = "".join(
        f"<tr><td>{e(f)}</td>" + "".join(f"<td>{summary['frameworks'][f][s]}</td>" for s in STATUSES) + "</tr>"
        for f in FRAMEWORKS
    )
    failing = "".join(
        f"<li>{status(c['status'])} <code>{e(c['id'])}</code> ({e(c['severity'])}): "
        f"{e('; '.join(r['reason'] for r in c['resources'] if r['status'] != 'PASS'))}</li>"
        for c in report["controls"] if c["status"] != "PASS"
    )
    overview = "".join(
        f"<tr><td><a href='#{e(c['id'])}'><code>{e(c['id'])}</code></a></td><td>{status(c['status'])}</td>"
        f"<td>{e(c['severity'])}</td><td>{e(_ids(c, 'CIS AWS v7.0'))}</td><td>{e(_ids(c, 'CIS AWS v5.0'))}</td>"
        f"<td>{e(_ids(c, 'AWS Security Hub'))}</td><td>{e(', '.join(c['remediated_by']) or 'no step')}</td></tr>"
        for c in report["controls"]
    )
    sections = []
    for c in report["controls"]:
        rows = "".join(
            f"<tr><td><code>{e(r['id'])}</code></td><td>{status(r['status'])}</td><td>{e(r['reason'])}"
            + (f"<br><i>Fix:</i> {e(r['fix'])}" if r["fix"] and r["status"] != "PASS" else "")
            + (f"<pre>{e(json.dumps(r['evidence'], default=str))}</pre>" if r["evidence"] else "")
            + "</td></tr>"
            for r in c["resources"]
        ) or "<tr><td colspan=3>No resource to check.</td></tr>"
        by = (f"Remediated by {e(', '.join(c['remediated_by']))}." if c["remediated_by"]
              else "No aws-harden step remediates it.")
        sections.append(
            f"<section id='{e(c['id'])}'><h3><code>{e(c['id'])}</code>: {e(c['title'])}</h3>"
            f"<p>{status(c['status'])} ({e(c['severity'])}) · {e(', '.join(c['requirements']))}. {by}</p>"
            "<table><colgroup><col style='width:22%'><col style='width:11%'><col></colgroup>"
            f"<tr><th>resource</th><th>status</th><th>reason and evidence</th></tr>{rows}</table></section>"
        )
    exceptions = "".join(
        f"<li class=exception>Accepted exception for <code>{e(x['resource'])}</code> "
        f"({e(', '.join(c['framework'] + ' ' + c['id'] for c in x['controls']))}), "
        f"{'present in the account' if x['present'] else 'not present in the account now'}: {e(x['reason'])}</li>"
        for x in report["accepted_exceptions"]
    )
    def findings(step: dict[str, Any]) -> str:
        return "".join(f"<li>{e(f['text'])}</li>" for f in step["findings"])

    steps = "".join(
        f"<tr><td><b>{e(s['id'])}</b><br>{e(s['title'])}</td><td>{status(STATUS_WORD[s['status']])}</td>"
        f"<td>{e(s['reason'])}<ul>{findings(s)}</ul></td>"
        f"<td>{e(', '.join(s['remediates']) or '—')}</td></tr>"
        for s in report["steps"]
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>AWS hardening evidence {e(report['account'])}</title><style>{CSS}</style></head><body>"
        f"<h1>AWS account hardening evidence: {e(report['account'])}</h1>"
        "<section><h2>Summary</h2>"
        f"<p>Account <code>{e(report['account'])}</code>{' (sandbox, simulated)' if report['sandbox'] else ''}, "
        f"checked by <code>{e(report['caller']['arn'])}</code> ({e(report['caller']['type'])}) at "
        f"{e(report['time'])} UTC with aws-harden {e(report['tool']['version'])} (report schema "
        f"{report['schema_version']}); region {e(report['region'])}.</p>"
        f"<p>Controls: <b>{e(_counts_line(summary))}</b> (of {len(report['controls'])}, evaluated on the whole "
        "account).</p>"
        f"<table><tr><th>framework</th><th>requirements PASS</th><th>FAIL</th><th>MANUAL</th></tr>{frameworks}"
        "</table>"
        + (f"<p>Not passing:</p><ul>{failing}</ul>" if failing else "")
        + "</section><section><h2>Controls</h2><table><colgroup><col style='width:28%'><col style='width:11%'>"
        "<col style='width:9%'><col style='width:9%'><col style='width:9%'><col style='width:14%'><col></colgroup>"
        "<tr><th>control</th><th>status</th><th>severity</th><th>CIS v7.0</th><th>CIS v5.0</th>"
        f"<th>Security Hub</th><th>remediated by</th></tr>{overview}</table></section>"
        + "".join(sections)
        + f"<section><h2>Accepted exceptions</h2><ul>{exceptions}</ul></section>"
        "<section><h2>Steps</h2><table><colgroup><col style='width:20%'><col style='width:11%'><col>"
        "<col style='width:25%'></colgroup><tr><th>step</th><th>status</th><th>why</th><th>remediates</th></tr>"
        f"{steps}</table></section></body></html>\n"
    )


# --- OCSF -------------------------------------------------------------------------------------------
def _resource_type(control_id: str) -> str:
    return next((t for prefix, t in RESOURCE_TYPES.items() if control_id.startswith(prefix)), "Other")


def _finding(report: dict[str, Any], event_code: str, title: str, severity: str, resource: dict[str, Any],
             status_code: str, detail: str, requirements: list[str], unmapped: dict[str, Any]) -> dict[str, Any]:
    when = datetime.fromisoformat(report["time"])
    severity_id = SEVERITY_ID[severity.lower()]
    return {
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "severity_id": severity_id,
        "severity": SEVERITY_NAMES[severity_id],
        "status_id": 1,
        "status": "New",
        "status_code": status_code,
        "status_detail": detail,
        "time": int(when.timestamp() * 1000),
        "time_dt": report["time"],
        "message": f"{title}: {detail}",
        "metadata": {
            "version": OCSF_VERSION,
            "event_code": event_code,
            "product": {"name": "aws-harden", "vendor_name": "aws-harden", "version": report["tool"]["version"]},
        },
        "finding_info": {
            "uid": f"aws-harden-{report['account']}-{event_code}-{resource['name']}",
            "title": title,
            "desc": detail,
            "types": ["Software and Configuration Checks"],
            "created_time": int(when.timestamp() * 1000),
        },
        "cloud": {
            "provider": "AWS",
            "region": report["region"],
            "account": {"uid": report["account"], "type": "AWS Account", "type_id": 10},
        },
        "resources": [resource],
        "compliance": {
            "requirements": requirements,
            "standards": sorted({r.rsplit(" ", 1)[0] for r in requirements}),
            "status": {"PASS": "Pass", "FAIL": "Fail"}.get(status_code, "Warning"),
        },
        "unmapped": unmapped,
    }


def ocsf(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One OCSF Detection Finding (class 2004) per control and resource, as Prowler writes them, each
    with that control's requirement ids only; plus one muted finding per accepted exception in place."""
    partition = report["caller"]["arn"].split(":")[1] if ":" in report["caller"]["arn"] else "aws"
    findings = []
    for c in report["controls"]:
        for r in c["resources"]:
            resource = {"uid": r["arn"] or r["id"], "name": r["id"], "type": _resource_type(c["id"]),
                        "region": r["region"] or report["region"], "cloud_partition": partition,
                        "data": {"evidence": r["evidence"]}}
            findings.append(_finding(report, c["id"], c["title"], c["severity"], resource, r["status"],
                                     r["reason"], c["requirements"],
                                     {"muted": False, "remediated_by": c["remediated_by"], "fix": r["fix"]}))
    for x in report["accepted_exceptions"]:
        if not x["present"]:
            continue
        resource = {"uid": x["resource"], "name": x["resource"], "type": "AwsIamGroup", "region": "global",
                    "cloud_partition": partition, "data": {"evidence": x["observed"]}}
        requirements = [f"{c['framework']} {c['id']}" for c in x["controls"]]
        findings.append(_finding(report, f"accepted-exception-{x['step']}", "Accepted exception", "medium",
                                 resource, "FAIL", x["reason"], requirements,
                                 {"muted": True, "accepted_exception": x}))
    return findings


def prowler_mutelist(account: str, exceptions: Sequence[dict[str, Any]]) -> str:
    """Prowler's YAML mutelist for the accepted exceptions, written by hand to need no YAML library.

    Prowler reads Resources as regular expressions, so names are escaped and anchored. The admin
    group's checks report either the group or the AdministratorAccess policy, so both are listed.
    """
    lines = [
        "# Written by aws-harden: deviations accepted on purpose (see the evidence report).",
        "Mutelist:",
        "  Accounts:",
        f'    "{account}":',
        "      Checks:",
    ]
    for exc in exceptions:
        for control in exc["controls"]:
            if control["framework"] != "Prowler":
                continue
            lines += [
                f'        "{control["id"]}":',
                "          Regions:",
                '            - "*"',
                "          Resources:",
                *(f"            - {json.dumps('^' + re.escape(r) + '$')}" for r in exc["mutelist_resources"]),
                f"          Description: {json.dumps(exc['reason'])}",
            ]
    return "\n".join(lines) + "\n"
