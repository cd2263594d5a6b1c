"""The JSON Schemas of `healthlayer schema`: valid draft 2020-12, shipped copies current, and in
agreement with `healthlayer validate` on the example projects, the library and broken files.

Files are rendered with Jinja first, with the vars of their project, as the loader does; the
schema itself cannot check a value that is still a `{{ ... }}` expression.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator
from pydantic import TypeAdapter, ValidationError

from healthlayer import cli
from healthlayer.definitions import models
from healthlayer.definitions.durations import duration_json_schema
from healthlayer.definitions.issues import Location
from healthlayer.definitions.yaml_loader import UnsetTolerantEnviron, load_file
from healthlayer.schema import SCHEMA_FILE_NAMES, SCHEMA_KINDS, json_schema, schema_text

REPOSITORY = Path(__file__).resolve().parents[1]
SHIPPED = REPOSITORY / "schema"
EXAMPLES = REPOSITORY / "examples"
LIBRARY = REPOSITORY / "definitions"
SAAS = EXAMPLES / "saas"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def render(path: Path, variables: dict[str, Any]) -> Any:
    """Return the data of a YAML file after Jinja, as the project loader reads it."""
    loaded, issues = load_file(path, variables, UnsetTolerantEnviron({}))
    assert loaded is not None and not issues, [issue.format() for issue in issues]
    return loaded.data


def project_files() -> Iterator[tuple[str, Path, str | None, dict[str, Any]]]:
    """Yield (kind, file, project, vars) for every file of the example projects and of the library.

    Library modules are checked with each including project's vars and with their defaults.
    """
    for project_file in sorted(EXAMPLES.glob("*/healthlayer.yml")):
        project = project_file.parent.name
        # The loader renders the project file with --var values only, so here with none.
        config = render(project_file, {})
        yield "project", project_file, project, {}
        variables = config.get("vars", {})
        for path in sorted((project_file.parent / "models").rglob("*.yml")):
            yield "definitions", path, project, variables
        for module in config.get("include", []):
            yield "definitions", LIBRARY / f"{module}.yml", project, variables
    for path in sorted((LIBRARY / "standard").glob("*.yml")):
        yield "definitions", path, None, {}


PROJECT_FILES = list(project_files())


def file_id(case: tuple[str, Path, str | None, dict[str, Any]]) -> str:
    _, path, project, _ = case
    relative = path.relative_to(REPOSITORY).as_posix()
    return f"{relative} in {project}" if project and not relative.startswith("examples/") else relative


def error_keys(errors: list[jsonschema.ValidationError]) -> set[str]:
    """Return the key paths, in the text form of `healthlayer validate`, that schema errors point at.

    An error inside anyOf or oneOf carries the errors of each branch as its context. An unknown
    key is reported on its parent mapping, so the key itself is added.
    """
    keys: set[str] = set()
    for error in errors:
        path = tuple(error.absolute_path)
        keys.add(Location(None, key_path=path).key_text())
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            declared = set(error.schema.get("properties", {}))
            patterns = list(error.schema.get("patternProperties", {}))
            for key in error.instance:
                if key not in declared and not any(re.search(pattern, key) for pattern in patterns):
                    keys.add(Location(None, key_path=path + (key,)).key_text())
        keys |= error_keys(list(error.context or []))
    return keys


def draft7_copy(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "$schema"}


# The schema itself

@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_schema_valid_2020_12(kind: str):
    schema = json_schema(kind)

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_schema_closed_objects(kind: str):
    """Every object of the schema rejects unknown keys, except target settings and vars (also of tests)."""
    schema = json_schema(kind)
    open_objects = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and node.get("additionalProperties", True) is True:
                open_objects.append(where)
            for key, value in node.items():
                visit(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{where}/{index}")

    visit(schema, "#")

    expected = {"definitions": ["#/$defs/FixtureTest/properties/vars"],
                "project": ["#/$defs/TargetConfig", "#/properties/vars"]}[kind]
    assert open_objects == expected


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_schema_ref_siblings(kind: str):
    """Next to a $ref there are only annotations, because draft-07 validators ignore its siblings."""
    siblings = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                siblings.update(set(node) - {"$ref"})
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(json_schema(kind))

    assert siblings <= {"description", "default", "title"}


def test_schema_descriptions():
    """Every property of a definition file has a description, so editors can show it on hover."""
    schema = json_schema("definitions")
    missing = []
    for name, definition in schema["$defs"].items():
        for key, value in definition.get("properties", {}).items():
            # The discriminator `function` is self-explaining in every scoring function.
            if "description" not in value and key != "function":
                missing.append(f"{name}.{key}")
    for key, value in schema["properties"].items():
        if "description" not in value:
            missing.append(key)

    assert missing == []


def test_schema_duration_forms():
    window = json_schema("definitions")["$defs"]["AccountMetric"]["properties"]["window"]
    validator = Draft202012Validator(window)

    for accepted in (30, "30 days", "30", "1 week", "4 WEEKS", "48 hours", " 7 Days "):
        assert validator.is_valid(accepted), accepted
    for rejected in (0, -1, 3661, "0 days", "30 dayz", "a month", "", True, [30], "7.5 days"):
        assert not validator.is_valid(rejected), rejected


def test_schema_literal_enums():
    definitions = json_schema("definitions")["$defs"]

    assert definitions["AccountMetric"]["properties"]["aggregate"]["enum"] == [
        "count", "count_distinct", "sum", "avg", "min", "max"]
    assert definitions["Trend"]["properties"]["change"]["enum"] == ["difference", "relative"]
    assert definitions["TierDropAlert"]["properties"]["type"]["const"] == "tier_drop"


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_shipped_copy_current(kind: str):
    name = SCHEMA_FILE_NAMES[kind]
    shipped = (SHIPPED / name).read_text(encoding="utf-8")

    assert shipped == schema_text(kind), (
        f"schema/{name} differs from the models. Regenerate it from the repository root with: "
        f"healthlayer schema --kind {kind} --output schema/{name}")


def check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK_JSONSCHEMA), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_shipped_copy_metaschema(kind: str):
    completed = check_jsonschema("--check-metaschema", str(SHIPPED / SCHEMA_FILE_NAMES[kind]))

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_ecmascript_patterns(tmp_path: Path):
    """Editors match `pattern` as ECMAScript regular expressions, as check-jsonschema does by default.

    The example files without Jinja pass, and text durations and names that break the patterns fail.
    """
    examples = sorted(str(path) for path in EXAMPLES.glob("*/models/*.yml"))
    broken = tmp_path / "broken.yml"
    broken.write_text("engagement:\n  source: events\n  tier_window: 7 dayz\n  tiers:\n    - {name: Power, events: '*'}\n",
                      encoding="utf-8")
    schema = str(SHIPPED / SCHEMA_FILE_NAMES["definitions"])

    clean = check_jsonschema("--schemafile", schema, *examples)
    rejected = check_jsonschema("--schemafile", schema, "--verbose", str(broken))

    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert rejected.returncode == 1
    assert "$.engagement.tier_window" in rejected.stdout
    assert "$.engagement.tiers[0].name" in rejected.stdout


# Durations: the schema's two forms against parse_days and parse_hours

UNITS = ["", "hour", "hours", "HOURS", "Day", "days", "DAYS", "week", "Weeks", "h", "d", "dayz", "month", "w eek"]
SPACES = ["", " ", "  ", "\t"]
DURATION_TEXT = st.tuples(
    st.sampled_from(SPACES),
    st.one_of(st.integers(min_value=0, max_value=100_000).map(str), st.sampled_from(["", "-3", "1.5", "007", "x"])),
    st.sampled_from(SPACES),
    st.sampled_from(UNITS),
    st.sampled_from(SPACES),
).map("".join)
DURATIONS = st.one_of(DURATION_TEXT, st.integers(min_value=-10, max_value=100_000), st.booleans(), st.none())


def accepts(adapter: TypeAdapter[int], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


@given(DURATIONS)
def test_duration_hours_agree(value: Any):
    schema_accepts = Draft202012Validator(duration_json_schema("hour", models.MAX_WINDOW_DAYS * 24)).is_valid(value)
    model_accepts = accepts(TypeAdapter(models.DurationHours), value)

    if model_accepts:
        assert schema_accepts
    if schema_accepts and not model_accepts:
        # Only text can be too long in a way the schema cannot compute.
        assert isinstance(value, str)


@given(DURATIONS)
def test_duration_days_agree(value: Any):
    schema_accepts = Draft202012Validator(duration_json_schema("day", models.MAX_WINDOW_DAYS)).is_valid(value)
    model_accepts = accepts(TypeAdapter(models.WindowDays), value)

    if model_accepts:
        assert schema_accepts
    if schema_accepts and not model_accepts:
        # Only text can be too long or not whole days in a way the schema cannot compute.
        assert isinstance(value, str)


# Example projects and the library

@pytest.mark.parametrize("case", PROJECT_FILES, ids=[file_id(case) for case in PROJECT_FILES])
def test_example_file_valid(case: tuple[str, Path, str | None, dict[str, Any]]):
    kind, path, _, variables = case
    schema = json_schema(kind)
    data = render(path, variables)

    errors = list(Draft202012Validator(schema).iter_errors(data))

    assert [error.message for error in errors] == []
    assert Draft7Validator(draft7_copy(schema)).is_valid(data)


def test_example_files_found():
    """Both example projects, their project files and both library modules are covered."""
    paths = {path.relative_to(REPOSITORY).as_posix() for _, path, _, _ in PROJECT_FILES}

    assert {"examples/saas/healthlayer.yml", "examples/dpdk/healthlayer.yml", "examples/saas/models/sources.yml",
            "examples/dpdk/models/health.yml", "definitions/standard/engagement.yml",
            "definitions/standard/saas_health.yml"} <= paths


# Broken files: the schema and `healthlayer validate` both reject them, at the same key

SOURCES = "models/sources.yml"
PROJECT = "healthlayer.yml"
EXTRA = "models/extra.yml"
ALERT = """alerts:
  - name: late_drop
    type: tier_drop
    from: power
    to: passive
    respond_within: {respond_within}
"""
METRIC = """account_metrics:
  - name: tickets_30d
    source: support_tickets
    aggregate: count
    window: {window}
"""


@dataclass(frozen=True)
class Broken:
    """A copy of examples/saas with one file changed, and the key both checks must report."""

    file: str
    kind: str
    key: str
    old: str | None = None
    new: str | None = None
    content: str | None = None


BROKEN = {
    "unknown key in a source": Broken(SOURCES, "definitions", "sources[0].event",
                                      "    event_name: event_name\n", "    event: event_name\n"),
    "unknown top-level key": Broken(SOURCES, "definitions", "engagment", "engagement:\n", "engagment:\n"),
    "unknown key in the project": Broken(PROJECT, "project", "timezone", "time_zone:", "timezone:"),
    "wrong type of a threshold": Broken(SOURCES, "definitions", "engagement.tiers[2].min_events",
                                        "min_events: 2", "min_events: many"),
    "wrong column type": Broken(SOURCES, "definitions", "sources[0].columns.feature",
                                "feature: text", "feature: varchar"),
    "column key with a dash": Broken(SOURCES, "definitions", "sources[0].columns.feature-area",
                                     "feature: text", "feature-area: text"),
    "tiers not a list": Broken(SOURCES, "definitions", "engagement.tiers",
                               content="engagement:\n  source: events\n  tiers: passive\n"),
    "empty engagement": Broken(EXTRA, "definitions", "engagement", content="engagement:\n"),
    "include not a list": Broken(PROJECT, "project", "include", "include: [standard/engagement, standard/saas_health]",
                                 "include: standard/engagement"),
    "target not a mapping": Broken(PROJECT, "project", "targets.local",
                                   content="name: saas\ntargets:\n  local: duckdb\n"),
    "duration with a bad unit": Broken(SOURCES, "definitions", "engagement.tier_window",
                                       "tier_window: 7 days", "tier_window: 7 dayz"),
    "duration of zero": Broken(EXTRA, "definitions", "alerts[0].respond_within",
                               content=ALERT.format(respond_within="0 hours")),
    "duration as words": Broken(EXTRA, "definitions", "alerts[0].respond_within",
                                content=ALERT.format(respond_within="soon")),
    "window over the maximum": Broken(EXTRA, "definitions", "account_metrics[0].window",
                                      content=METRIC.format(window=4000)),
    "tier window over the maximum": Broken(SOURCES, "definitions", "engagement.tier_window",
                                           "tier_window: 7 days", "tier_window: 400"),
    "source name with capitals": Broken(SOURCES, "definitions", "sources[1].name",
                                        "name: nps_responses", "name: NPS_responses"),
    "tier name with a dash": Broken(SOURCES, "definitions", "engagement.tiers[2].name",
                                    "name: power", "name: power-users"),
    "column name with a dash": Broken(SOURCES, "definitions", "sources[0].account",
                                      "account: account_id\n  ", "account: account-id\n  "),
    "project name with a space": Broken(PROJECT, "project", "name", "name: saas", "name: saas app"),
}


@pytest.fixture
def saas_copy(tmp_path: Path) -> Path:
    project = tmp_path / "saas"
    shutil.copytree(SAAS, project, ignore=shutil.ignore_patterns("*.duckdb", "*.duckdb.wal"))
    return project


def apply(project: Path, broken: Broken) -> Path:
    path = project / broken.file
    if broken.content is not None:
        path.write_text(broken.content, encoding="utf-8")
        return path
    text = path.read_text(encoding="utf-8")
    assert broken.old is not None and broken.new is not None
    assert text.count(broken.old) >= 1, f"{broken.old!r} is not in {broken.file}"
    path.write_text(text.replace(broken.old, broken.new, 1), encoding="utf-8")
    return path


def validate_json(project: Path, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """Run `healthlayer validate --format json` in process in the project folder."""
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "argv", ["healthlayer", "validate", "--format", "json"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    output = capsys.readouterr().out
    return exited.value.code, json.loads(output) if output.strip() else {}


@pytest.mark.parametrize("name", BROKEN)
def test_broken_file_rejected(name: str, saas_copy: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]):
    broken = BROKEN[name]
    path = apply(saas_copy, broken)
    schema = json_schema(broken.kind)
    data = render(path, {})

    errors = list(Draft202012Validator(schema).iter_errors(data))
    exit_code, report = validate_json(saas_copy, monkeypatch, capsys)

    assert errors, "the schema accepts the broken file"
    assert broken.key in error_keys(errors)
    assert not Draft7Validator(draft7_copy(schema)).is_valid(data)
    assert exit_code == 1
    issue_keys = {issue["key"] for issue in report["issues"] if issue["file"] == broken.file}
    assert broken.key in issue_keys


def test_empty_kind_accepted(saas_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """A kind without items is null in YAML, and both the loader and the schema accept it."""
    path = saas_copy / EXTRA
    path.write_text("stickiness:\nalerts:\n", encoding="utf-8")

    exit_code, _ = validate_json(saas_copy, monkeypatch, capsys)

    assert Draft202012Validator(json_schema("definitions")).is_valid(render(path, {}))
    assert exit_code == 0


def test_whole_days_validate_only(saas_copy: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]):
    """Hours that do not make whole days pass the schema: only `healthlayer validate` rejects them."""
    path = apply(saas_copy, Broken(SOURCES, "definitions", "engagement.tier_window",
                                   "tier_window: 7 days", "tier_window: 36 hours"))

    exit_code, report = validate_json(saas_copy, monkeypatch, capsys)

    assert Draft202012Validator(json_schema("definitions")).is_valid(render(path, {}))
    assert exit_code == 1
    assert [issue["key"] for issue in report["issues"]] == ["engagement.tier_window"]


def test_saas_copy_clean(saas_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """The unbroken copy validates, so each broken case fails for its own change."""
    exit_code, report = validate_json(saas_copy, monkeypatch, capsys)

    assert exit_code == 0
    assert report == {"errors": 0, "warnings": 0, "issues": []}


# The command

def run_schema(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["healthlayer", "schema", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def test_command_prints_definitions(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    exit_code, out, _ = run_schema(monkeypatch, capsys)

    assert exit_code == 0
    assert json.loads(out) == json_schema("definitions")


def test_command_writes_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]):
    output = tmp_path / "project.schema.json"

    exit_code, out, err = run_schema(monkeypatch, capsys, "--kind", "project", "--output", str(output))

    assert exit_code == 0
    assert out == ""
    assert err == f"Wrote the project schema to {output}\n"
    assert output.read_text(encoding="utf-8") == schema_text("project")


def test_command_creates_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]):
    output = tmp_path / "missing" / "schema.json"

    exit_code, _, _ = run_schema(monkeypatch, capsys, "--output", str(output))

    assert exit_code == 0
    assert json.loads(output.read_text(encoding="utf-8"))["$schema"].endswith("2020-12/schema")


def test_command_unwritable_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]):
    (tmp_path / "file").write_text("", encoding="utf-8")
    output = tmp_path / "file" / "schema.json"

    exit_code, _, err = run_schema(monkeypatch, capsys, "--output", str(output))

    assert exit_code == 1
    assert err.startswith(f"error: cannot write the schema to {output}: ")
    assert err.endswith("Check that its folder exists and is writable.\n")


def test_command_kinds():
    """The --kind choices of the command are the kinds that healthlayer.schema generates."""
    option = next(param for param in cli.cli.commands["schema"].params if param.name == "kind")

    assert tuple(option.type.choices) == SCHEMA_KINDS  # type: ignore[attr-defined]


def test_command_unknown_kind(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    exit_code, _, err = run_schema(monkeypatch, capsys, "--kind", "tests")

    assert exit_code == 2
    assert "'tests' is not one of 'definitions', 'project'" in err
