"""Evidence for people and tools: the versioned JSON report, Markdown and HTML for auditors, OCSF
Detection Findings for Prowler and Security Hub, and a Prowler mutelist for accepted exceptions.

Everything here is built from step outcomes (findings and their observed values) and the controls
table; no step output carries a secret, and nothing here adds one.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from wizard import __version__
from wizard.controls import SEVERITY, controls_for, exceptions_for
from wizard.printable import printable

if TYPE_CHECKING:
    from wizard.aws import Caller
    from wizard.engine import StepOutcome

SCHEMA = "aws-harden/report"
SCHEMA_VERSION = 2
OCSF_VERSION = "1.3.0"
SEVERITY_NAMES = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}


def build(
    command: str,
    caller: Caller,
    region: str,
    sandbox: bool,
    outcomes: Sequence[StepOutcome],
    answer: Any,
    summary: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The JSON report (schema_version 2). `answer(step_id, key)` names resources for exceptions."""
    when = now or datetime.now(UTC)
    steps = []
    for o in outcomes:
        record = o.as_record()
        record["controls"] = [c.as_record() for c in controls_for(o.step_id)]
        record["severity"] = SEVERITY_NAMES[SEVERITY.get(o.step_id, 3)]
        record["accepted_exceptions"] = [
            {
                "controls": [c.as_record() for c in e.controls],
                "resource": str(answer(*e.resource_answer)),
                "mutelist_resources": [str(answer(*e.resource_answer)), *e.extra_resources],
                "reason": e.reason,
            }
            for e in exceptions_for(o.step_id)
        ]
        steps.append(record)
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
    }


STATUS_WORD = {"compliant": "PASS", "noncompliant": "FAIL", "manual": "MANUAL", "error": "ERROR"}


def _evidence(step: dict[str, Any]) -> list[str]:
    lines = [f["text"] for f in step["findings"]]
    return lines or [step["reason"]]


def markdown(report: dict[str, Any]) -> str:
    def cell(value: object) -> str:
        text = printable(value).replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # no raw HTML in Markdown

    out = [
        f"# AWS account hardening evidence: {cell(report['account'])}",
        "",
        f"- Account: `{cell(report['account'])}`" + (" (sandbox, simulated)" if report["sandbox"] else ""),
        f"- Checked by: `{cell(report['caller']['arn'])}` ({cell(report['caller']['type'])})",
        f"- Time (UTC): {cell(report['time'])}",
        f"- Tool: aws-harden {cell(report['tool']['version'])}, report schema {report['schema_version']}",
        f"- Region: {cell(report['region'])}",
        "",
        "| step | status | CIS v7.0 | CIS v5.0 | Security Hub | Prowler |",
        "|---|---|---|---|---|---|",
    ]
    for step in report["steps"]:
        by = {fw: ", ".join(c["id"] for c in step["controls"] if c["framework"] == fw) or "—"
              for fw in ("CIS AWS v7.0", "CIS AWS v5.0", "AWS Security Hub", "Prowler")}
        out.append(
            f"| {cell(step['id'])} | {STATUS_WORD[step['status']]} | {cell(by['CIS AWS v7.0'])} | "
            f"{cell(by['CIS AWS v5.0'])} | {cell(by['AWS Security Hub'])} | {cell(by['Prowler'])} |"
        )
    for step in report["steps"]:
        out += ["", f"## {cell(step['id'])}: {cell(step['title'])}", "",
                f"Status: **{STATUS_WORD[step['status']]}** ({cell(step['severity'])}). {cell(step['reason'])}", ""]
        out.append("Evidence:")
        out += [f"- {cell(line)}" for line in _evidence(step)]
        observed = [f["observed"] for f in step["findings"] if f["observed"]]
        if observed:
            out += ["", "Observed values:", "", "```json", json.dumps(observed, indent=2, default=str), "```"]
        for exc in step["accepted_exceptions"]:
            ids = ", ".join(f"{c['framework']} {c['id']}" for c in exc["controls"])
            out += ["", f"Accepted exception for `{cell(exc['resource'])}` ({cell(ids)}): {cell(exc['reason'])}"]
    return "\n".join(out) + "\n"


def html_report(report: dict[str, Any]) -> str:
    def e(value: object) -> str:
        return html.escape(printable(value))

    rows = []
    for step in report["steps"]:
        controls = "<br>".join(e(f"{c['framework']} {c['id']}") for c in step["controls"]) or "—"
        evidence = "".join(f"<li>{e(line)}</li>" for line in _evidence(step))
        observed = [f["observed"] for f in step["findings"] if f["observed"]]
        observed_html = f"<pre>{e(json.dumps(observed, indent=2, default=str))}</pre>" if observed else ""
        exceptions = "".join(
            f"<p class=exception>Accepted exception for <code>{e(x['resource'])}</code> "
            f"({e(', '.join(c['framework'] + ' ' + c['id'] for c in x['controls']))}): {e(x['reason'])}</p>"
            for x in step["accepted_exceptions"]
        )
        word = STATUS_WORD[step["status"]]
        rows.append(
            f"<tr><td><b>{e(step['id'])}</b><br>{e(step['title'])}</td><td class={word.lower()}>{word}</td>"
            f"<td>{controls}</td><td><ul>{evidence}</ul>{observed_html}{exceptions}</td></tr>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>AWS hardening evidence {e(report['account'])}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:.4em;vertical-align:top}.pass{color:#060}.fail,.error{color:#a00}.manual{color:#a60}"
        ".exception{color:#555}</style></head><body>"
        f"<h1>AWS account hardening evidence: {e(report['account'])}</h1>"
        f"<p>Checked by <code>{e(report['caller']['arn'])}</code> ({e(report['caller']['type'])}) at "
        f"{e(report['time'])} UTC with aws-harden {e(report['tool']['version'])}; region {e(report['region'])}"
        f"{' (sandbox, simulated)' if report['sandbox'] else ''}.</p>"
        "<table><tr><th>step</th><th>status</th><th>controls</th><th>evidence</th></tr>"
        + "".join(rows)
        + "</table></body></html>\n"
    )


def ocsf(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One OCSF Detection Finding (class 2004) per step, as Prowler writes them."""
    when = datetime.fromisoformat(report["time"])
    findings = []
    partition = report["caller"]["arn"].split(":")[1] if ":" in report["caller"]["arn"] else "aws"
    for step in report["steps"]:
        severity_id = SEVERITY.get(step["id"], 3)
        muted = bool(step["accepted_exceptions"])
        findings.append(
            {
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
                "status_code": STATUS_WORD[step["status"]],
                "status_detail": step["reason"],
                "time": int(when.timestamp() * 1000),
                "time_dt": report["time"],
                "message": f"{step['title']}: {step['reason']}",
                "metadata": {
                    "version": OCSF_VERSION,
                    "event_code": step["id"],
                    "product": {
                        "name": "aws-harden",
                        "vendor_name": "aws-harden",
                        "version": report["tool"]["version"],
                    },
                },
                "finding_info": {
                    "uid": f"aws-harden-{report['account']}-{report['region']}-{step['id']}",
                    "title": step["title"],
                    "desc": "; ".join(_evidence(step)),
                    "types": ["Software and Configuration Checks"],
                    "created_time": int(when.timestamp() * 1000),
                },
                "cloud": {
                    "provider": "AWS",
                    "region": report["region"],
                    "account": {"uid": report["account"], "type": "AWS Account", "type_id": 10},
                },
                "resources": [
                    {
                        "uid": f"arn:{partition}:iam::{report['account']}:root",
                        "type": "AwsAccount",
                        "region": report["region"],
                        "cloud_partition": partition,
                        "data": {"findings": step["findings"]},
                    }
                ],
                "compliance": {
                    "requirements": [f"{c['framework']} {c['id']}" for c in step["controls"]],
                    "standards": sorted({c["framework"] for c in step["controls"]}),
                    "status": {"compliant": "Pass", "noncompliant": "Fail"}.get(step["status"], "Warning"),
                },
                "unmapped": {"muted": muted, "accepted_exceptions": step["accepted_exceptions"]},
            }
        )
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
