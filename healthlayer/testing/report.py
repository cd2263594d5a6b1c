"""Output of fixture test results: a table of expected and actual rows per failure, or JSON."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from healthlayer.definitions.issues import Location
from healthlayer.testing.compare import RowDifference
from healthlayer.testing.runner import FixtureResult, FixtureRun

# Maximum number of differences that text output lists per failed test. JSON lists all of them.
MAX_LISTED_DIFFERENCES = 20
STATUS_STYLES = {"passed": "green", "failed": "bold red", "error": "bold red"}
STATUS_WORDS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}


def format_cell(value: Any) -> str:
    """Format a cell for people: NULL for SQL NULL, ISO dates and times, numbers to 12 significant digits."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.12g}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _place(location: Location, root: Path | None) -> str:
    issue_path = location.file
    if issue_path is None:
        return "<project>"
    text = str(issue_path)
    if root is not None:
        try:
            text = str(issue_path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return f"{text}:{location.line}" if location.line is not None else text


def print_results(console: Console, run: FixtureRun, root: Path | None) -> None:
    """Print one line per test, a table of the differing rows of each failed test, and a summary."""
    for result in run.results:
        line = Text()
        line.append(f"{STATUS_WORDS[result.status]:<6}", style=STATUS_STYLES[result.status])
        line.append(f"{result.name}  ({result.subject}, {_place(result.location, root)})")
        console.print(line, highlight=False)
        if result.status == "failed":
            _print_failure(console, result)
        elif result.status == "error":
            _print_error(console, result, root)
    summary = (f"{run.count('passed')} passed, {run.count('failed')} failed, {run.count('error')} errors "
               f"in {run.seconds:.2f} s")
    if run.count("failed"):
        console.print(Text("* differs from the expected value; missing: no remaining row of the view matches the "
                           "expected row; unexpected: no expected row matches the row of the view"), highlight=False)
    if not run.results:
        summary = "No fixture tests to run: define them under 'tests:' in a definition file."
    console.print(summary, highlight=False)


def _print_error(console: Console, result: FixtureResult, root: Path | None) -> None:
    if result.message:
        console.print(Text(f"      {result.message}"), highlight=False)
    for issue in result.issues:
        console.print(Text(f"      {issue.format(root)}"), highlight=False)


def _print_failure(console: Console, result: FixtureResult) -> None:
    matched = result.expected_count - sum(difference.kind != "unexpected" for difference in result.differences)
    console.print(Text(f"      {matched} of {result.expected_count} expected rows matched among "
                       f"{result.actual_count} rows (match: {result.match})"), highlight=False)
    terminal = console.is_terminal
    table = Table(box=box.SIMPLE_HEAD if terminal else box.ASCII, padding=(0, 1), pad_edge=False)
    # Folding keeps every character of long values, where the default would cut them with an ellipsis.
    table.add_column("row", overflow="fold")
    for column in result.columns:
        table.add_column(column, overflow="fold")
    listed = result.differences[:MAX_LISTED_DIFFERENCES]
    for index, difference in enumerate(listed):
        last = index == len(listed) - 1
        for label, row, differing in _lines(difference):
            cells = [Text(label, style="bold" if label != "actual" else "")]
            for column in result.columns:
                if row is None or column not in row:
                    cells.append(Text(""))
                elif column in differing:
                    cells.append(Text(format_cell(row[column]) + " *", style="bold red"))
                else:
                    cells.append(Text(format_cell(row[column])))
            table.add_row(*cells, end_section=not last and label != "expected")
    console.print(table)
    more = len(result.differences) - len(listed)
    if more > 0:
        console.print(Text(f"      and {more} more differing rows; --format json lists all"), highlight=False)


def _lines(difference: RowDifference) -> list[tuple[str, dict[str, Any] | None, tuple[str, ...]]]:
    """Return (label, row, differing columns) for the table lines of one difference.

    A differing row shows two lines, the expected row and the closest actual row. An expected row
    shows only the columns it checks.
    """
    if difference.kind == "differs":
        assert difference.expected is not None and difference.actual is not None
        actual = {column: difference.actual[column] for column in difference.expected}
        return [("expected", difference.expected, ()), ("actual", actual, difference.columns)]
    if difference.kind == "missing":
        return [("missing", difference.expected, ())]
    return [("unexpected", difference.actual, ())]


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN or infinity, so they are written as the text that YAML uses for them.
        if math.isnan(value):
            return ".nan"
        return ".inf" if value > 0 else "-.inf"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json_row(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {column: _json_value(value) for column, value in row.items()}


def results_json(run: FixtureRun, root: Path | None) -> str:
    """Return the results as JSON: counts, then per test its status, location and differences."""
    tests = []
    for result in run.results:
        tests.append({
            "name": result.name,
            "subject": result.subject,
            "status": result.status,
            "location": _place(result.location, root),
            "match": result.match,
            "expected_rows": result.expected_count,
            "actual_rows": result.actual_count,
            "seconds": round(result.seconds, 4),
            "message": result.message,
            "issues": [issue.as_dict(root) for issue in result.issues],
            "differences": [{"kind": difference.kind, "expected": _json_row(difference.expected),
                             "actual": _json_row(difference.actual), "columns": list(difference.columns)}
                            for difference in result.differences],
        })
    return json.dumps({"passed": run.count("passed"), "failed": run.count("failed"), "errors": run.count("error"),
                       "seconds": round(run.seconds, 3), "tests": tests}, indent=2, allow_nan=False)
