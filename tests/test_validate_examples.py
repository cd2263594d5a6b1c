"""A broken definition in either example makes `healthlayer validate` exit 1 and point at the line
of the break in the text, JSON and GitHub formats.

The expected line and column are found in the edited file by searching for the broken text, so
the tests do not depend on the current layout of the examples.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from healthlayer import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@dataclass(frozen=True)
class Break:
    example: str
    file: str
    old: str
    new: str
    code: str
    # Text where the reported line and column start: the key of a broken value.
    marker: str


BREAKS = {
    "dpdk-unknown-metric": Break("dpdk", "models/health.yml", "metric: areas_90d", "metric: area_90d",
                                "unknown-metric", "metric:"),
    "dpdk-tier-key": Break("dpdk", "models/sources.yml", "    - name: power\n      events: [patch_applied]",
                           "    - name: power\n      event: [patch_applied]", "unknown-key", "event:"),
    "dpdk-filter": Break("dpdk", "models/health.yml", "filter: \"event_type = 'commit_authored'\"",
                         "filter: \"event_type = 'commit_authored'; drop table x\"", "invalid-expression", "filter:"),
    "saas-source-column": Break("saas", "models/sources.yml", "    timestamp: responded_at",
                                "    timestamp: 42", "invalid-type", "timestamp:"),
    "saas-tier-window": Break("saas", "models/sources.yml", "tier_window: 7 days", "tier_window: 7 fortnights",
                              "invalid-value", "tier_window:"),
    "saas-indentation": Break("saas", "models/sources.yml", "    account: account_id\n    user: user_id",
                              "    account: account_id\n     user: user_id", "yaml-syntax", ": user_id"),
}


def broken_copy(tmp_path: Path, case: Break) -> tuple[Path, int, int]:
    """Copy an example, apply the break, and return the copy with the line and column of the marker."""
    project = tmp_path / case.example
    shutil.copytree(EXAMPLES / case.example, project, ignore=shutil.ignore_patterns("*.duckdb"))
    path = project / case.file
    text = path.read_text(encoding="utf-8")
    assert text.count(case.old) == 1, f"{case.old!r} occurs {text.count(case.old)} times in {case.file}"
    text = text.replace(case.old, case.new)
    path.write_text(text, encoding="utf-8")
    start = text.index(case.new)
    offset = start + case.new.rindex(case.marker)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return project, line, column


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cwd: Path,
        *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["healthlayer", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    out, err = capsys.readouterr()
    return exited.value.code, out, err


@pytest.mark.parametrize("name", list(BREAKS))
def test_broken_example_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                             name: str):
    case = BREAKS[name]
    project, line, _ = broken_copy(tmp_path, case)

    code, out, err = run(monkeypatch, capsys, project, "validate")

    assert code == 1
    assert err == "1 error(s), 0 warning(s)\n"
    assert out.startswith(f"{case.file}:{line}:")
    assert f" error {case.code}" in out


@pytest.mark.parametrize("name", list(BREAKS))
def test_broken_example_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                             name: str):
    case = BREAKS[name]
    project, line, column = broken_copy(tmp_path, case)

    code, out, _ = run(monkeypatch, capsys, project, "validate", "--format", "json")

    report = json.loads(out)
    assert code == 1
    assert report["errors"] == 1
    issue = report["issues"][0]
    assert issue["code"] == case.code
    assert issue["file"] == case.file
    assert issue["line"] == line
    assert issue["column"] == column
    assert issue["hint"]


@pytest.mark.parametrize("name", list(BREAKS))
def test_broken_example_github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                               name: str):
    case = BREAKS[name]
    project, line, _ = broken_copy(tmp_path, case)

    code, out, _ = run(monkeypatch, capsys, project, "validate", "--format", "github")

    assert code == 1
    assert out.startswith(f"::error file={case.file},line={line},")
    assert f"title={case.code}::" in out


@pytest.mark.parametrize("example", ["dpdk", "saas"])
def test_example_clean(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], example: str):
    code, out, _ = run(monkeypatch, capsys, EXAMPLES / example, "validate", "--strict")

    assert code == 0
    assert out == "No problems found.\n"


@pytest.mark.parametrize("example", ["dpdk", "saas"])
def test_example_warehouse_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str], example: str):
    """Both examples read only files, so the DuckDB check needs no database file and creates none."""
    project = tmp_path / example
    shutil.copytree(EXAMPLES / example, project, ignore=shutil.ignore_patterns("*.duckdb"))

    code, out, _ = run(monkeypatch, capsys, project, "validate", "--warehouse", "local", "--strict")

    assert code == 0
    assert out == "No problems found.\n"
    assert list(project.glob("*.duckdb")) == []


def test_example_warehouse_check_finds_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]):
    project, line, _ = broken_copy(tmp_path, Break("saas", "models/sources.yml", "      priority: text",
                                                   "      priorty: text", "column-not-found", "priorty:"))

    code, out, _ = run(monkeypatch, capsys, project, "validate", "--warehouse", "local")

    assert code == 1
    assert out.startswith(f"models/sources.yml:{line}:")
    assert "column-not-found" in out
    assert "Did you mean 'priority'?" in out
