"""Output for people and machines: issues as text, JSON or GitHub annotations, and result tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.table import Table

from healthlayer.definitions.issues import Issue

FORMATS = ("text", "json", "github")


def format_issues(issues: Sequence[Issue], output_format: str, root: Path | None) -> str:
    """Format issues in one of FORMATS; text lists errors before warnings."""
    ordered = sorted(issues, key=lambda issue: (issue.severity != "error", str(issue.location.file),
                                                issue.location.line or 0))
    if output_format == "json":
        errors = sum(issue.severity == "error" for issue in issues)
        return json.dumps({"errors": errors, "warnings": len(issues) - errors,
                           "issues": [issue.as_dict(root) for issue in ordered]}, indent=2)
    if output_format == "github":
        return "\n".join(_github_annotation(issue, root) for issue in ordered)
    return "\n".join(issue.format(root) for issue in ordered)


def _escape_annotation(text: str, property_value: bool = False) -> str:
    """Escape text for a GitHub workflow command, as the runner unescapes it.

    Line breaks would end the command and `%` starts an escape. In a property value, `:` and
    `,` also need escaping, because they end the properties and separate them.
    """
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _github_annotation(issue: Issue, root: Path | None) -> str:
    data = issue.as_dict(root)
    properties = []
    # An issue without a file becomes an annotation of the run rather than of a line.
    if issue.location.file is not None:
        properties.append(f"file={_escape_annotation(str(data['file']), True)}")
        if data["line"] is not None:
            properties.append(f"line={data['line']}")
        if data["column"] is not None:
            properties.append(f"col={data['column']}")
    properties.append(f"title={_escape_annotation(issue.code, True)}")
    message = f"{data['key']}: {issue.message}" if data["key"] else issue.message
    if issue.hint:
        message += f" Hint: {issue.hint}"
    return f"::{issue.severity} {','.join(properties)}::{_escape_annotation(message)}"


def print_table(console: Console, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left", title_style="bold")
    for name in columns:
        table.add_column(name)
    decimals = [_column_decimals([row[index] for row in rows]) for index in range(len(columns))]
    for row in rows:
        table.add_row(*[format_value(value, decimals[index]) for index, value in enumerate(row)])
    console.print(table)


def _column_decimals(values: Sequence[Any]) -> int:
    """Return 3 decimals for a column of shares and ratios (all within -1..1), else 1."""
    numbers = [value for value in values if isinstance(value, float)]
    return 3 if numbers and all(abs(value) <= 1 for value in numbers) else 1


def format_value(value: Any, decimals: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)
