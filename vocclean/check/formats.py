"""A check result as text for people, JSON for programs, JUnit XML and GitHub annotations for CI."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from vocclean.check.checker import CheckResult, format_limit, format_rate, too_few_records
from vocclean.check.detectors import Finding
from vocclean.check.kinds import KINDS, RATE_GROUPS

FORMATS = ("text", "json", "junit", "github")


def render(result: CheckResult, format: str) -> str:
    """The report in ``format``; a lone surrogate (an id or a line's ``\\udc00`` in the input) is
    written as that escape, which JSON reads back as the same string and UTF-8 can encode."""
    renderers = {"text": render_text, "json": render_json, "junit": render_junit, "github": render_github}
    text = renderers[format](result)
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def summary_line(result: CheckResult) -> str:
    total = sum(count.findings for count in result.kinds.values())
    head = f"vocclean check: {result.records} record(s), {total} finding(s)"
    if result.passed:
        return f"{head}: passed"
    return f"{head}: FAILED ({'; '.join(result.failures)})"


# Control characters (C0, DEL, C1: ESC and CSI start terminal escapes) from an id, a file name or
# a quote are written as \x1b in the text and github formats, so that a report printed in a CI
# log cannot drive the terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _visible(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def render_text(result: CheckResult) -> str:
    lines = [_visible(f"{f.where}: {f.kind}: {_who(f)}{f.message}") for f in result.findings]
    for kind, count in result.omitted.items():
        lines.append(f"... and {count} more {kind} finding(s) (raise --max-findings to see them)")
    if lines:
        lines.append("")
    failing = result.failing_kinds()
    rows = [("kind", "records", "findings", "status")]
    for kind, count in result.kinds.items():
        if count.findings or kind in result.thresholds.fail_on:
            rows.append((kind, str(count.records), str(count.findings), "FAIL" if kind in failing else "ok"))
    if result.records < result.thresholds.min_records:
        rows.append(("records", str(result.records), f"min {result.thresholds.min_records}", "FAIL"))
    for group, rate in result.rates.items():
        limit = result.thresholds.max_rates[group]
        status = "FAIL" if rate > limit else "ok"
        rows.append((f"{group} rate", format_rate(rate, limit), f"max {format_limit(limit)}", status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        numbers = [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        cells = [row[0].ljust(widths[0]), *numbers]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def _who(finding: Finding) -> str:
    """The record id, unless the file name already says it (a plain-text article)."""
    if finding.file == finding.record_id or finding.file.endswith("/" + finding.record_id):
        return ""
    return f"{finding.record_id}: "


def as_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "passed": result.passed,
        "records": result.records,
        "failures": result.failures,
        "kinds": {k: {"records": c.records, "findings": c.findings} for k, c in result.kinds.items()},
        "rates": result.rates,
        "thresholds": {
            "max_rates": result.thresholds.max_rates,
            "fail_on": [k for k in KINDS if k in result.thresholds.fail_on],
            "min_chars": result.min_chars,
            "min_records": result.thresholds.min_records,
        },
        "findings": [
            {"kind": f.kind, "file": f.file, "line": f.line, "id": f.record_id, "message": f.message}
            for f in result.findings
        ],
        "omitted_findings": result.omitted,
        "steps": [
            {
                "name": s.name,
                "records_in": s.records_in,
                "records_out": s.records_out,
                "rejected": s.rejected,
                "seconds": round(s.seconds, 6),
            }
            for s in result.steps
        ],
        "seconds": round(result.seconds, 6),
        "bytes_read": result.bytes_read,
    }


def render_json(result: CheckResult) -> str:
    """JSON escapes C0 control characters itself; DEL and C1 (which it may leave raw) can only be
    inside strings, where \\u escapes read back the same."""
    text = json.dumps(as_dict(result), ensure_ascii=False, indent=2) + "\n"
    return re.sub("[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text)


# XML 1.0 cannot hold most control characters, whatever the escaping; DEL and C1 it can, but a
# report shown in a terminal should not drive it.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def render_junit(result: CheckResult) -> str:
    """One test case for --min-records, one per rate threshold and one per kind of finding."""
    failing = result.failing_kinds()
    cases: list[ET.Element] = []
    case = ET.Element("testcase", classname="vocclean.check.records", name="min-records")
    if result.records < result.thresholds.min_records:
        message = too_few_records(result.records, result.thresholds.min_records)
        ET.SubElement(case, "failure", message=message, type="threshold")
    cases.append(case)
    for group, rate in result.rates.items():
        limit = result.thresholds.max_rates[group]
        case = ET.Element("testcase", classname="vocclean.check.rates", name=f"max-{group}-rate")
        if rate > limit:
            kinds = ", ".join(RATE_GROUPS[group])
            shown = format_rate(rate, limit)
            message = f"{group} rate {shown} > {format_limit(limit)}"
            failure = ET.SubElement(case, "failure", message=message, type="threshold")
            failure.text = _xml_text(f"records with {kinds}: {shown} of {result.records}")
        cases.append(case)
    for kind, count in result.kinds.items():
        case = ET.Element("testcase", classname="vocclean.check.kinds", name=kind)
        listed = "\n".join(f"{f.where}: {_who(f)}{f.message}" for f in result.findings if f.kind == kind)
        if kind in failing:
            failure = ET.SubElement(
                case,
                "failure",
                message=_xml_text(f"{count.findings} {kind} finding(s) in {count.records} record(s)"),
                type=kind,
            )
            failure.text = _xml_text(listed)
        elif listed:
            ET.SubElement(case, "system-out").text = _xml_text(listed)
        cases.append(case)
    failures = sum(1 for case in cases if case.find("failure") is not None)
    attributes = {
        "name": "vocclean check",
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": "0",
        "time": f"{result.seconds:.3f}",
    }
    suites = ET.Element("testsuites", attributes)
    suite = ET.SubElement(suites, "testsuite", attributes)
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="records", value=str(result.records))
    suite.extend(cases)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _escape_data(text: str) -> str:
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return _visible(escaped)


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: CheckResult) -> str:
    """GitHub Actions workflow commands: one annotation per finding, errors for failing kinds."""
    failing = result.failing_kinds()
    lines = []
    for f in result.findings:
        level = "error" if f.kind in failing else "warning"
        where = f"file={_escape_property(f.file)}"
        if f.line is not None:
            where += f",line={f.line}"
        title = _escape_property(f"vocclean {f.kind}")
        lines.append(f"::{level} {where},title={title}::{_escape_data(_who(f) + f.message)}")
    title = "title=vocclean check"
    for failure in result.failures:
        lines.append(f"::error {title}::{_escape_data(failure)}")
    lines.append(f"::notice {title}::{_escape_data(summary_line(result))}")
    return "\n".join(lines) + "\n"
