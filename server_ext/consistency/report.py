"""Findings as text (people), JSON (tools) or GitHub Actions annotations (CI).

JSON shape (``version`` 1; documented in docs/check.md)::

    {"version": 1,
     "notebooks": [{"path", "error", "executed", "notes": [..],
                    "findings": [{"rule", "name", "cell", "index", "execution_count",
                                  "cells": [{"id", "index", "execution_count"}],
                                  "symbols": [..], "message"}]}],
     "summary": {"notebooks", "checked", "errors", "findings", "by_rule": {code: n}}}
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from .findings import NotebookReport

FORMATS = ("text", "json", "github")


def render(reports: Sequence[NotebookReport], style: str) -> str:
    if style == "json":
        return as_json(reports)
    if style == "github":
        return as_github(reports)
    return as_text(reports)


def summary(reports: Sequence[NotebookReport]) -> dict[str, Any]:
    by_rule = Counter(f.rule for r in reports for f in r.findings)
    return {
        "notebooks": len(reports),
        "checked": sum(1 for r in reports if r.error is None),
        "errors": sum(1 for r in reports if r.error is not None),
        "findings": sum(by_rule.values()),
        "by_rule": dict(sorted(by_rule.items())),
    }


def as_json(reports: Sequence[NotebookReport]) -> str:
    body = {
        "version": 1,
        "notebooks": [r.to_json() for r in reports],
        "summary": summary(reports),
    }
    return json.dumps(body, indent=2)


def as_text(reports: Sequence[NotebookReport]) -> str:
    lines = []
    for report in reports:
        if report.error is not None:
            lines.append(f"error: {report.error}")
        for finding in report.findings:
            cell = finding.cell
            count = "" if cell.execution_count is None else f" [{cell.execution_count}]"
            lines.append(
                f"{report.path}: cell {cell.index}{count}: {finding.rule} {finding.message}"
            )
        for note in report.notes:
            lines.append(f"{report.path}: note: {note}")
    total = summary(reports)
    lines.append(
        f"{total['findings']} finding(s) in {total['checked']} notebook(s)"
        + (f", {total['errors']} unreadable" if total["errors"] else "")
    )
    return "\n".join(lines)


def as_github(reports: Sequence[NotebookReport]) -> str:
    """``::error file=..,line=..,title=..::message``. ``line`` is the cell's 0-based
    index plus one: an .ipynb has no meaningful line numbers for a cell (GitHub shows
    the raw JSON), so the annotation names the cell in its title and message."""
    lines = []
    for report in reports:
        if report.error is not None:
            lines.append(f"::error file={_escape_property(report.path)}::{_escape(report.error)}")
        for finding in report.findings:
            cell = finding.cell
            title = f"{finding.rule} cell {cell.index}" + (f" ({cell.id})" if cell.id else "")
            message = _escape(f"cell {cell.index}: {finding.message}")
            lines.append(
                f"::error file={_escape_property(report.path)},line={cell.index + 1},"
                f"title={_escape_property(title)}::{message}"
            )
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")
