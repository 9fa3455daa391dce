"""validate-data's outputs: JUnit XML for CI and a self-contained HTML report."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from mlready.validation.result import ValidationResult


def junit_xml(result: ValidationResult) -> str:
    """One test case per check; error-severity failures are JUnit failures, warnings are not."""
    failures = len(result.failed_errors)
    suite = ET.Element(
        "testsuite",
        name=f"mlready validate-data ({result.environment})",
        tests=str(len(result.results)),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{result.duration_s:.3f}",
    )
    ET.SubElement(
        ET.SubElement(suite, "properties"), "property", name="source", value=result.source
    )
    for item in result.results:
        check = item.check
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"expectations.{check.column or 'table'}",
            name=f"{check.id}: {check.description}",
            time="0",
        )
        message = _failure_text(item.to_dict())
        if item.failed_error:
            failure = ET.SubElement(case, "failure", message=message, type=check.kind)
            failure.text = message
        elif not item.passed:
            ET.SubElement(case, "system-out").text = f"WARNING: {message}"
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode")


def _failure_text(row: dict[str, Any]) -> str:
    parts = [f"expected {row['description']}"]
    if row["unexpected_count"]:
        parts.append(f"{row['unexpected_count']:,} unexpected")
    if row["sample"]:
        parts.append("e.g. " + ", ".join(row["sample"][:5]))
    if row["observed"] is not None:
        parts.append(f"observed {row['observed']}")
    if row["error"]:
        parts.append(f"could not run: {row['error']}")
    return "; ".join(parts)


def render_html(result: ValidationResult, project: str) -> str:
    """The validation report, self-contained and escaped."""
    from mlready.reporting import render

    return render(
        "validation.html.j2",
        project=project,
        result=result,
        summary=result.to_dict(),
        rows=[dict(r.to_dict(), text=_failure_text(r.to_dict())) for r in result.ordered()],
    )
