"""Fuzz healthlayer's definition loading and compiling with random projects.

Each case is a project folder: a mutated copy of examples/saas, examples/dpdk or
tests/fixtures/shop (with the library modules of definitions/standard included by name or copied
in), or a project generated from scratch. `run_case` writes it to a scratch folder, loads it with
`load_project`, builds the plan and renders every relation for every dialect, in process.

Validation issues (DefinitionError, HealthlayerError) and views that a dialect cannot express
(UnsupportedError) are expected outcomes. An internal error is any other exception, a rejected
project without an error issue, an issue without a file or message, an env_var() value in an
issue, or a rendered statement that does not parse back into one CREATE VIEW. Each internal
error is reported with a reproducer whose files are cut down line by line while it still fails
the same way. Every case is derived from the seed and its index alone, so `--only INDEX`
repeats one case.

To fit 10,000 cases into a few minutes, a run remembers what it compiled: a project equal to an
earlier one is not compiled again, and a relation whose tree equals one rendered before is not
rendered again. Each newly rendered relation is parsed back in DuckDB and in one other dialect
that rotates from case to case. The property tests (tests/test_hostile_properties.py) parse
every dialect back.

    python -m tests.fuzz.fuzz_definitions --count 10000 --seed 0
"""

from __future__ import annotations

import argparse
import copy
import functools
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from healthlayer.compiler.plan import RELATION_META_KEY, Relation, build_plan
from healthlayer.compiler.render import DIALECTS, render_create_view
from healthlayer.compiler.sql import needs_quotes
from healthlayer.definitions.project import Project, load_project
from healthlayer.definitions.yaml_loader import UnsetTolerantEnviron, render_template
from healthlayer.errors import DefinitionError, HealthlayerError

try:
    from . import hostile
except ImportError:  # imported as a top-level module by pytest, with tests/ on sys.path
    from fuzz import hostile  # type: ignore[no-redef]

REPOSITORY = Path(__file__).resolve().parents[2]
SEED_PROJECTS = {
    "saas": REPOSITORY / "examples" / "saas",
    "dpdk": REPOSITORY / "examples" / "dpdk",
    "shop": REPOSITORY / "tests" / "fixtures" / "shop",
}
LIBRARY = REPOSITORY / "definitions"
SCHEMA = "analytics"
SECRET = "hl-fuzz-secret-4c7d1e"
ENVIRONMENT = {"HL_FUZZ_SECRET": SECRET, "HL_FUZZ_NUMBER": "0.4"}
# A case slower than this counts as an internal error, since it points to a hang on larger input.
SLOW_CASE_SECONDS = 10.0
# Runs of the failing case that the reproducer search may spend.
MINIMIZE_ATTEMPTS = 400
# Keys of the definition models, used to add and rename keys.
KNOWN_KEYS = [
    "name", "file", "table", "account", "user", "timestamp", "event_name", "columns", "source", "tier_window",
    "tiers", "events", "filter", "min_events", "min_distinct", "column", "count", "level", "by", "windows",
    "ratios", "min_denominator", "window", "target", "tier", "min_share", "type", "from", "to", "respond_within",
    "aggregate", "value", "population", "normalize", "missing", "bands", "min", "categories", "weight",
    "components", "metric", "attribute", "trend", "days", "change", "score", "function", "lower", "upper",
    "higher_is_better", "steps", "impute", "sources", "engagement", "stickiness", "tier_mix", "alerts",
    "account_metrics", "health_scores", "include", "paths", "vars", "targets", "time_zone", "default_target",
]
# Keys whose values are names, columns, references or expressions: where hostile text matters most.
TARGET_KEYS = {
    "name", "file", "table", "account", "user", "timestamp", "event_name", "column", "source", "level", "by",
    "events", "filter", "value", "metric", "attribute", "tier", "from", "to", "time_zone", "include", "paths",
}
VALUE_POOL: list[Any] = [None, "", "text", [], {}, [1, "a"], {"a": 1}, {"name": "x"}, 0, 1.5, True]
ALLOWED_FUNCTIONS = ["lower", "upper", "length", "trim", "abs", "round", "floor", "ceil"]
CAST_TYPES = ["VARCHAR", "TEXT", "INT", "BIGINT", "DOUBLE", "DECIMAL(18, 2)", "BOOLEAN", "DATE", "TIMESTAMP",
              "TIMESTAMPTZ", "BLOB", "JSON", "INTERVAL", "INT[]"]
JINJA_SLOT = "hlfuzzjinja"

Files = dict[str, bytes]


@dataclass(frozen=True)
class Case:
    """One generated project: its files, the --var values and where it came from."""

    index: int
    origin: str
    files: Files
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What loading and compiling one case did."""

    status: Literal["accepted", "rejected", "internal-error"]
    detail: str = ""
    # Exception type and innermost healthlayer frame: a failure that keeps it is the same failure.
    signature: str = ""
    issue_codes: tuple[str, ...] = ()
    statements: int = 0
    unsupported: int = 0
    cached: int = 0
    parsed: int = 0
    cached_project: bool = False


@dataclass
class Report:
    """Counts of a fuzz run and its internal errors, each with the case and a reproducer."""

    generated: int = 0
    accepted: int = 0
    rejected: int = 0
    statements: int = 0
    unsupported: int = 0
    cached: int = 0
    parsed: int = 0
    cached_projects: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    slowest: tuple[float, int] = (0.0, -1)
    issue_codes: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[Case, Outcome, Case]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"generated {self.generated}, accepted {self.accepted} ({self.cached_projects} equal to an earlier "
                f"case), rejected with issues {self.rejected}, "
                f"internal errors {len(self.failures)}; {self.statements} statements rendered "
                f"({self.parsed} parsed back, {self.unsupported} unsupported by a dialect, {self.cached} relations "
                f"rendered by an earlier case); {self.seconds:.1f} s ({self.cpu_seconds:.1f} s CPU), slowest case "
                f"{self.slowest[1]}: {self.slowest[0]:.2f} s")


# Running cases.

def write_case(case: Case, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for relative, content in case.files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def run_case(case: Case, folder: Path, compiled: set[tuple[Any, ...]] | None = None) -> Outcome:
    """Load, plan and render one case in `folder`; never raise.

    `compiled` contains the keys of projects and relations that earlier cases compiled without a
    problem. An equal project compiles to the same plan and an equal relation to the same SQL, so
    they are skipped and counted.
    """
    write_case(case, folder)
    environ = UnsetTolerantEnviron(ENVIRONMENT) if case.index % 2 == 0 else dict(ENVIRONMENT)
    try:
        return _load_and_compile(case, folder, environ, compiled)
    except Exception as error:  # noqa: BLE001 - every unexpected exception is a finding
        return Outcome("internal-error", traceback.format_exc(), _signature(error))


def _project_key(project: Project) -> tuple[Any, ...]:
    """Return a key of every definition of a project, which is all that its plan depends on."""
    kinds = ("sources", "stickiness", "tier_mix", "alerts", "account_metrics", "health_scores")
    definitions = [sorted((name, item.model_dump_json()) for name, item in getattr(project, kind).items())
                   for kind in kinds]
    engagement = project.engagement.model_dump_json() if project.engagement else None
    return ("project", project.name, project.time_zone, engagement, repr(definitions))


def _relation_key(relation: Relation) -> tuple[Any, ...]:
    """Return a key of everything that a relation's rendered SQL depends on.

    sqlglot hashes trees by structure, with identifiers and literals compared exactly; the meta
    marks of plan relations decide how Snowflake qualifies them.
    """
    tables = tuple(str(table.meta.get(RELATION_META_KEY)) for table in relation.query.find_all(exp.Table))
    return relation.name, hash(relation.query), tables


def _load_and_compile(case: Case, folder: Path, environ: dict[str, str],
                      compiled: set[tuple[Any, ...]] | None) -> Outcome:
    project, issues = load_project(folder, case.variables, environ)
    problems = _issue_problems(issues)
    codes = tuple(sorted({issue.code for issue in issues}))
    if project is None:
        if not any(issue.severity == "error" for issue in issues):
            problems.append("the project was rejected without an error issue")
        return _finish("rejected", problems, codes)
    # A project equal to one that an earlier case compiled, for example after a mutation of a
    # comment, compiles to the same plan, so it counts as accepted without compiling it again.
    project_key = _project_key(project)
    if compiled is not None and project_key in compiled:
        return Outcome("accepted", cached_project=True)
    try:
        plan = build_plan(project, SCHEMA)
    except DefinitionError as error:
        problems += _issue_problems(error.issues)
        if not error.issues:
            problems.append("build_plan raised DefinitionError without issues")
        return _finish("rejected", problems, tuple(sorted({issue.code for issue in error.issues})))
    except HealthlayerError as error:
        if not str(error):
            problems.append(f"build_plan raised {type(error).__name__} without a message")
        return _finish("rejected", problems, (type(error).__name__,))
    outcome = Outcome("accepted")
    for position, relation in enumerate(plan.relations):
        key = _relation_key(relation)
        if compiled is not None and key in compiled:
            outcome.cached += 1
            continue
        # Parsing the SQL back costs about as much as rendering it, so each new relation is parsed
        # back in DuckDB and in one more dialect, which rotates with the case and the relation.
        checked = {"duckdb", DIALECTS[(case.index + position) % len(DIALECTS)]}
        for dialect in DIALECTS:
            try:
                statement = render_create_view(relation, SCHEMA, dialect)
            except HealthlayerError as error:
                # UnsupportedError, in practice: a construct that the dialect cannot express.
                outcome.unsupported += 1
                if not str(error):
                    problems.append(f"rendering raised {type(error).__name__} without a message")
                continue
            outcome.statements += 1
            if dialect in checked:
                outcome.parsed += 1
                problems += _statement_problems(statement, dialect, relation.name)
        if compiled is not None and not problems:
            compiled.add(key)
    if problems:
        return Outcome("internal-error", "\n".join(problems), "contract: " + problems[0][:60])
    if compiled is not None:
        compiled.add(project_key)
    return outcome


def _finish(status: Literal["rejected"], problems: list[str], codes: tuple[str, ...]) -> Outcome:
    if problems:
        return Outcome("internal-error", "\n".join(problems), "contract: " + problems[0][:60], codes)
    return Outcome(status, issue_codes=codes)


def _issue_problems(issues: list[Any]) -> list[str]:
    problems = []
    for issue in issues:
        text = f"{issue.message} {issue.hint or ''}"
        if SECRET in text:
            problems.append(f"an issue shows the env_var() value: {issue.format()}")
        if issue.location.file is None or not issue.message:
            problems.append(f"an issue has no file or no message: {issue!r}")
    return problems


def _statement_problems(statement: str, dialect: str, name: str) -> list[str]:
    """Check that a rendered statement parses back into one CREATE VIEW of the relation, with no other statement."""
    try:
        parsed = [tree for tree in sqlglot.parse(statement, read=dialect) if tree is not None]
    except sqlglot.errors.SqlglotError as error:
        return [f"{dialect} view {name} does not parse back: {str(error)[:300]}"]
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Create) or parsed[0].kind != "VIEW":
        kinds = [type(tree).__name__ for tree in parsed]
        return [f"{dialect} view {name} parses back into {kinds}, not one CREATE VIEW"]
    created = parsed[0].this
    # A view name that is a keyword is quoted as the dialect folds it, such as "DATE" on Snowflake.
    folded = Dialect.get_or_raise(dialect).normalize_identifier(exp.to_identifier(name)).name
    if not isinstance(created, exp.Table) or created.name not in (name, folded) or created.db.lower() != SCHEMA:
        return [f"{dialect} view {name} parses back as CREATE VIEW {created.sql(dialect)}"]
    return []


def _signature(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    own = [frame for frame in frames if "/healthlayer/" in frame.filename] or frames
    where = f"{Path(own[-1].filename).name}:{own[-1].lineno}" if own else "?"
    return f"{type(error).__name__} at {where}"


# Generating cases.

def _dump(data: Any) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=1_000_000)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


def _seed_texts() -> dict[str, dict[str, str]]:
    seeds = {}
    for name, folder in SEED_PROJECTS.items():
        texts = {"healthlayer.yml": (folder / "healthlayer.yml").read_text(encoding="utf-8")}
        for path in sorted((folder / "models").glob("*.yml")):
            texts[f"models/{path.name}"] = path.read_text(encoding="utf-8")
        seeds[name] = texts
    return seeds


SEEDS = _seed_texts()
LIBRARY_TEXTS = {str(path.relative_to(LIBRARY).with_suffix("")): path.read_text(encoding="utf-8")
                 for path in sorted(LIBRARY.rglob("*.yml"))}


@functools.cache
def _parsed_seed(name: str, copy_library: bool) -> dict[str, Any]:
    """Return a seed's files as parsed data after Jinja; with `copy_library`, its library modules copied in."""
    texts = dict(SEEDS[name])
    project = yaml.safe_load(texts["healthlayer.yml"])
    if copy_library:
        for module in project.pop("include", []):
            texts[f"models/library_{Path(module).name}.yml"] = LIBRARY_TEXTS[module]
    variables = project.get("vars", {})
    documents: dict[str, Any] = {"healthlayer.yml": project}
    for relative, text in texts.items():
        if relative != "healthlayer.yml":
            rendered, _ = render_template(text, Path(relative), variables, {})
            documents[relative] = yaml.safe_load(rendered or "")
    return documents


class Generator:
    """Random projects for one case, from a random generator seeded with the run seed and case index."""

    def __init__(self, seed: int, index: int) -> None:
        self.index = index
        self.random = random.Random(f"{seed}:{index}")
        self.slots: list[str] = []

    def case(self) -> Case:
        roll = self.random.random()
        if roll < 0.1:
            return self._text_mutation_case()
        if roll < 0.98:
            return self._data_mutation_case()
        return self._scratch_case()

    # Seeds and their mutations.

    def _seed_documents(self) -> tuple[str, dict[str, Any]]:
        """Return a seed name and a copy of its files as parsed data, after Jinja.

        Library modules are included by name or copied in. Health scores and account metrics,
        whose plans take most of the compile time, are mostly left out, and each other kind of
        view sometimes. File sources often become table sources, which every dialect can render.
        """
        name = self.random.choice(sorted(SEEDS))
        documents = copy.deepcopy(_parsed_seed(name, self.random.random() < 0.5))
        if self.random.random() < 0.95:
            for document in documents.values():
                if isinstance(document, dict):
                    document.pop("health_scores", None)
                    document.pop("account_metrics", None)
                    # Health alert rules name a score, so they leave with the scores.
                    if isinstance(document.get("alerts"), list):
                        document["alerts"] = [rule for rule in document["alerts"]
                                              if not (isinstance(rule, dict) and "score" in rule)]
        for kind in ("stickiness", "tier_mix", "alerts"):
            if self.random.random() < 0.3:
                for document in documents.values():
                    if isinstance(document, dict):
                        document.pop(kind, None)
        if self.random.random() < 0.5:
            for document in documents.values():
                for source in document.get("sources", []) if isinstance(document, dict) else []:
                    if "file" in source:
                        source["table"] = f"raw.{source.pop('file').split('/')[-1].split('.')[0]}"
        return name, documents

    def _data_mutation_case(self) -> Case:
        name, documents = self._seed_documents()
        operations = []
        for _ in range(self.random.choice([1, 2, 2, 3, 3, 4, 4, 4])):
            relative = self.random.choice(sorted(documents))
            operation = self.random.choice(DATA_MUTATIONS)
            documents[relative] = operation(self, documents[relative])
            operations.append(operation.__name__.strip("_"))
        files = {relative: _encode(self._fill_slots(_dump(data))) for relative, data in documents.items()}
        self._add_data_files(files, documents)
        if self.random.random() < 0.2:
            files = self._mutate_text(files)
            operations.append("text")
        return Case(self.index, f"{name}: {', '.join(operations)}", files, self._variables())

    def _text_mutation_case(self) -> Case:
        name = self.random.choice(sorted(SEEDS))
        files = {relative: _encode(text) for relative, text in SEEDS[name].items()}
        self._add_data_files(files, _parsed_seed(name, False))
        return Case(self.index, f"{name}: text", self._mutate_text(files), self._variables())

    def _add_data_files(self, files: Files, documents: dict[str, Any]) -> None:
        """Add an empty placeholder for each source file, so that sources pass the file check."""
        for document in documents.values():
            sources = document.get("sources") if isinstance(document, dict) else None
            for source in sources if isinstance(sources, list) else []:
                path = source.get("file") if isinstance(source, dict) else None
                if isinstance(path, str) and re.fullmatch(r"[\w./-]{1,100}", path) and ".." not in path \
                        and not path.startswith("/") and path not in files:
                    files[path] = b""

    def _variables(self) -> dict[str, Any]:
        if self.random.random() < 0.8:
            return {}
        names = ["stickiness_level", "target_tier", "active_share_target", "buyer_share_target", "x"]
        values = hostile.HOSTILE_STRINGS + hostile.NUMBERS + ["any", "passive", "power", 0.3, "{{ 1 }}"]
        return {self.random.choice(names): self.random.choice(values)}

    def _fill_slots(self, text: str) -> str:
        """Replace each Jinja slot, and the quotes YAML put around it, with its raw Jinja text."""
        for number, snippet in enumerate(self.slots):
            token = f"{JINJA_SLOT}{number}x"
            text = re.sub(rf"(['\"]?){token}\1", lambda _: snippet, text)
        return text

    # Text mutations.

    def _mutate_text(self, files: Files) -> Files:
        files = dict(files)
        for _ in range(self.random.choice([1, 1, 2, 3])):
            relative = self.random.choice(sorted(files))
            if not relative.endswith(".yml"):
                continue
            files[relative] = self.random.choice(TEXT_MUTATIONS)(self, files[relative])
        return files

    def _insert_bytes(self, content: bytes) -> bytes:
        position = self.random.randint(0, len(content))
        return content[:position] + self.random.choice(hostile.BYTES) + content[position:]

    def _prepend_bom(self, content: bytes) -> bytes:
        return b"\xef\xbb\xbf" + content

    def _duplicate_line(self, content: bytes) -> bytes:
        lines = content.split(b"\n")
        index = self.random.randrange(len(lines))
        return b"\n".join(lines[:index + 1] + [lines[index]] + lines[index + 1:])

    def _delete_line(self, content: bytes) -> bytes:
        lines = content.split(b"\n")
        del lines[self.random.randrange(len(lines))]
        return b"\n".join(lines)

    def _truncate(self, content: bytes) -> bytes:
        return content[:self.random.randint(0, len(content))]

    def _insert_snippet(self, content: bytes) -> bytes:
        lines = content.split(b"\n")
        index = self.random.randrange(len(lines))
        snippet = self.random.choice(hostile.YAML_SNIPPETS + hostile.JINJA + [hostile.ALIAS_BOMB])
        if self.random.random() < 0.5 and b": " in lines[index]:
            key = lines[index].split(b": ", 1)[0]
            lines[index] = key + b": " + _encode(snippet)
        else:
            lines.insert(index, _encode(snippet))
        return b"\n".join(lines)

    def _tabs(self, content: bytes) -> bytes:
        return content.replace(b"  ", b"\t", self.random.randint(1, 3))

    def _repeat(self, content: bytes) -> bytes:
        return content * self.random.choice([2, 3, 50])

    def _swap_lines(self, content: bytes) -> bytes:
        lines = content.split(b"\n")
        first, second = self.random.randrange(len(lines)), self.random.randrange(len(lines))
        lines[first], lines[second] = lines[second], lines[first]
        return b"\n".join(lines)

    # Data mutations: each takes one parsed file and returns it changed.

    def _locations(self, data: Any) -> list[tuple[Any, Any]]:
        locations: list[tuple[Any, Any]] = []
        stack = [data]
        while stack:
            node = stack.pop()
            items = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) \
                if isinstance(node, list) else []
            for key, value in items:
                locations.append((node, key))
                stack.append(value)
        return locations

    def _pick(self, data: Any, targeted: bool = False) -> tuple[Any, Any] | None:
        locations = self._locations(data)
        if targeted:
            preferred = [(node, key) for node, key in locations
                         if key in TARGET_KEYS or (isinstance(node, list) and isinstance(node[key], str))]
            locations = preferred or locations
        return self.random.choice(locations) if locations else None

    def _drop(self, data: Any) -> Any:
        picked = self._pick(data)
        if picked is None:
            return None
        node, key = picked
        del node[key]
        return data

    def _duplicate(self, data: Any) -> Any:
        lists = [(node, key) for node, key in self._locations(data) if isinstance(node, list)]
        if lists:
            node, key = self.random.choice(lists)
            node.insert(key, copy.deepcopy(node[key]))
        return data

    def _retype(self, data: Any) -> Any:
        picked = self._pick(data)
        if picked is None:
            return self.random.choice(VALUE_POOL)
        node, key = picked
        node[key] = copy.deepcopy(self.random.choice(VALUE_POOL + hostile.NUMBERS))
        return data

    def _swap(self, data: Any) -> Any:
        locations = self._locations(data)
        if len(locations) < 2:
            return data
        (first, first_key), (second, second_key) = self.random.sample(locations, 2)
        first_value, second_value = copy.deepcopy(first[first_key]), copy.deepcopy(second[second_key])
        first[first_key], second[second_key] = second_value, first_value
        return data

    def _hostile_text(self, data: Any) -> Any:
        picked = self._pick(data, targeted=True)
        if picked is None:
            return self.random.choice(hostile.HOSTILE_STRINGS)
        node, key = picked
        text = self.random.choice(hostile.HOSTILE_STRINGS)
        current = node[key]
        if isinstance(current, str) and self.random.random() < 0.5:
            position = self.random.randint(0, len(current))
            text = current[:position] + text + current[position:]
        node[key] = text
        return data

    def _number(self, data: Any) -> Any:
        numbers = [(node, key) for node, key in self._locations(data)
                   if isinstance(node[key], (int, float)) or key in ("weight", "min", "window", "days", "count")]
        node, key = self.random.choice(numbers) if numbers else (self._pick(data) or (None, None))
        if node is not None:
            node[key] = self.random.choice(hostile.NUMBERS)
        return data

    def _nest(self, data: Any) -> Any:
        picked = self._pick(data)
        if picked is None:
            return data
        node, key = picked
        value = node[key]
        for _ in range(self.random.choice([1, 2, 5, 40])):
            value = [value] if self.random.random() < 0.5 else {"nested": value}
        node[key] = value
        return data

    def _jinja(self, data: Any) -> Any:
        picked = self._pick(data, targeted=True)
        self.slots.append(self.random.choice(hostile.JINJA))
        token = f"{JINJA_SLOT}{len(self.slots) - 1}x"
        if picked is None:
            return {"stickiness": token}
        node, key = picked
        node[key] = token
        return data

    def _add_key(self, data: Any) -> Any:
        mappings = [node[key] for node, key in self._locations(data) if isinstance(node[key], dict)]
        mappings += [data] if isinstance(data, dict) else []
        if mappings:
            key = self.random.choice(KNOWN_KEYS + hostile.KEYWORD_NAMES + hostile.INJECTIONS[:10])
            self.random.choice(mappings)[key] = copy.deepcopy(self.random.choice(VALUE_POOL + hostile.NUMBERS))
        return data

    def _rename_key(self, data: Any) -> Any:
        keyed = [(node, key) for node, key in self._locations(data) if isinstance(node, dict)]
        if keyed:
            node, key = self.random.choice(keyed)
            new_key = self.random.choice(KNOWN_KEYS + hostile.LOOK_ALIKES[:8] + [key.upper() if isinstance(key, str)
                                                                                   else "KEY"])
            node[new_key] = node.pop(key)
        return data

    def _rename_definition(self, data: Any) -> Any:
        """Rename a name everywhere it occurs, so the project can stay valid with a keyword as a name."""
        names = [node[key] for node, key in self._locations(data) if key == "name" and isinstance(node[key], str)]
        if not names:
            return data
        old = self.random.choice(names)
        new = self.random.choice(hostile.KEYWORD_NAMES)
        return _replace_name(data, old, new)

    def _rename_column(self, data: Any) -> Any:
        """Rename a source column in its source and in every expression, `by`, column and attribute that uses it."""
        sources = data.get("sources") if isinstance(data, dict) else None
        if not isinstance(sources, list) or not sources or not isinstance(sources[0], dict):
            return data
        source = self.random.choice([item for item in sources if isinstance(item, dict)])
        columns = [source[role] for role in ("account", "user", "timestamp", "event_name")
                   if isinstance(source.get(role), str)]
        declared = source.get("columns")
        if isinstance(declared, dict):
            columns += [column for column in declared if isinstance(column, str)]
        if not columns:
            return data
        old = self.random.choice(columns)
        new = self.random.choice(hostile.KEYWORD_COLUMNS)
        for role in ("account", "user", "timestamp", "event_name"):
            if source.get(role) == old:
                source[role] = new
        if isinstance(declared, dict) and old in declared:
            source["columns"] = {new if column == old else column: kind for column, kind in declared.items()}
        return _replace_column_references(data, old, new)

    def _set_expression(self, data: Any) -> Any:
        expressions = [(node, key) for node, key in self._locations(data) if key in ("filter", "value")]
        tiers = [node[key] for node, key in self._locations(data) if key == "tiers" and isinstance(node[key], list)]
        if not expressions and tiers and tiers[0] and isinstance(tiers[0][0], dict):
            expressions = [(tiers[0][0], "filter")]
        if not expressions:
            return data
        node, key = self.random.choice(expressions)
        roll = self.random.random()
        if key == "value":
            node[key] = self.random.choice(hostile.VALUES)
        elif roll < 0.5:
            node[key] = self.random.choice(hostile.VALID_TRICKY_FILTERS)
        elif roll < 0.8:
            node[key] = self.random.choice(hostile.HOSTILE_FILTERS)
        else:
            node[key] = random_filter(self.random, ["amount", "area", "plan", "order_id", "event_type", "feature",
                                                    "account_kind", "score", "sentiment", "user_id"], hostile_share=0.1)
        return data

    def _set_events(self, data: Any) -> Any:
        events = [node[key] for node, key in self._locations(data) if key == "events" and isinstance(node[key], list)]
        if events:
            target = self.random.choice(events)
            target.append(self.random.choice(hostile.HOSTILE_STRINGS + hostile.KEYWORD_NAMES))
        return data

    def _set_table(self, data: Any) -> Any:
        tables = [(node, key) for node, key in self._locations(data) if key in ("table", "file")]
        if tables:
            node, key = self.random.choice(tables)
            node[key] = self.random.choice(TABLES + hostile.INJECTIONS[:12])
        return data

    # Projects from scratch.

    def _names(self, count: int, used: set[str]) -> list[str]:
        """Return `count` new valid names, often SQL keywords or names at the length limit."""
        names = []
        while len(names) < count:
            if self.random.random() < 0.5:
                name = self.random.choice(["daily", "events", "accounts", "tiers", "score", "a", "metric", "x"]) \
                    + "_" + str(self.random.randint(0, 99))
            else:
                name = self.random.choice(VALID_KEYWORD_NAMES)
            if name not in used:
                used.add(name)
                names.append(name)
        return names

    def _columns(self, count: int) -> list[str]:
        """Return `count` valid column names, distinct without regard to case, often keywords or mixed case."""
        columns: list[str] = []
        while len(columns) < count:
            if self.random.random() < 0.4:
                column = self.random.choice(["account_id", "user_id", "ts", "kind", "amount", "area", "plan"])
            else:
                column = self.random.choice(hostile.KEYWORD_COLUMNS)
            if column.lower() not in {existing.lower() for existing in columns}:
                columns.append(column)
        return columns

    def _scratch_case(self) -> Case:
        """Return a small project that is valid as generated, then changed by one data mutation nine times in ten."""
        used: set[str] = set(RESERVED_TIER_NAMES)
        columns = self._columns(self.random.randint(4, 7))
        account, user, timestamp, event_name = columns[:4]
        extra = columns[4:]
        numeric = [column for column in extra if self.random.random() < 0.5]
        declared = {column: ("number" if column in numeric else self.random.choice(["text", "integer", "date"]))
                    for column in extra}
        if self.random.random() < 0.5:
            declared[timestamp] = self.random.choice(["timestamp", "timestamptz"])

        source_names = self._names(3, used)
        events = {"name": source_names[0], "table": self.random.choice(VALID_TABLES), "account": account,
                  "user": user, "timestamp": timestamp, "event_name": event_name, "columns": declared}
        sources: list[dict[str, Any]] = [events]
        attribute_column = self._columns(1)[0]
        if self.random.random() < 0.3:
            sources.append({"name": source_names[1], "table": self.random.choice(VALID_TABLES), "account": account,
                            "columns": {attribute_column: "number"}})
        filter_columns = [account, user, event_name] + extra

        tier_names = self._names(self.random.randint(1, 4), used)
        tiers = []
        for tier_name in tier_names:
            tier: dict[str, Any] = {"name": tier_name}
            if self.random.random() < 0.8:
                tier["events"] = "*" if self.random.random() < 0.2 else self.random.sample(EVENT_NAMES, 2)
            if self.random.random() < 0.4 or "events" not in tier:
                tier["filter"] = random_filter(self.random, filter_columns, hostile_share=0.0)
            if self.random.random() < 0.2:
                tier["min_events"] = self.random.randint(2, 5)
            if self.random.random() < 0.2:
                tier["min_distinct"] = {"column": self.random.choice(filter_columns), "count": 2}
            tiers.append(tier)

        document: dict[str, Any] = {
            "sources": sources,
            "engagement": {"source": events["name"], "tier_window": self.random.choice(["7 days", 1, "1 week", 14]),
                           "tiers": tiers},
        }

        view_names = self._names(4, used)
        stickiness_by_account = None
        if self.random.random() < 0.7:
            by = self.random.choice([[], ["account"], ["account"], [self.random.choice(extra or ["account"])]])
            windows = dict(zip(self._names(2, used), sorted(self.random.sample([1, 7, 14, 30], 2))))
            document["stickiness"] = [{"name": view_names[0], "level": self.random.choice(tier_names + ["any"]),
                                       "by": by, "windows": windows}]
            if by == ["account"]:
                stickiness_by_account = f"{view_names[0]}.{next(iter(windows))}"
        if self.random.random() < 0.4:
            document["tier_mix"] = [{"name": view_names[1], "by": self.random.choice([[], ["account"]]),
                                     "window": self.random.choice([7, 30, "4 weeks"]),
                                     "target": {"tier": self.random.choice(tier_names), "min_share": 0.3}}]
        if self.random.random() < 0.3 and len(tier_names) > 1:
            document["alerts"] = [{"name": view_names[2], "type": "tier_drop", "from": tier_names[-1],
                                   "to": self.random.choice(tier_names[:-1] + ["inactive"]),
                                   "respond_within": self.random.choice(["48 hours", "2 days", 1])}]

        if self.random.random() < 0.35:
            metric_name = self._names(1, used)[0]
            metric: dict[str, Any] = {"name": metric_name, "source": events["name"],
                                      "aggregate": "sum" if numeric else "count", "window": 30}
            if numeric:
                metric["value"] = self.random.choice([_reference(numeric[0]), f"abs({_reference(numeric[0])})"])
            if self.random.random() < 0.5:
                metric["filter"] = random_filter(self.random, filter_columns, hostile_share=0.0)
            document["account_metrics"] = [metric]
            references = [metric_name] + ([stickiness_by_account] if stickiness_by_account else [])
            components = []
            for reference in references:
                components.append({"name": self._names(1, used)[0], "weight": 100 / len(references),
                                   "metric": reference,
                                   "score": self.random.choice([{"function": "percentile"},
                                                                {"function": "linear", "lower": 0, "upper": 10}])})
            if len(sources) > 1:
                components.append({"name": self._names(1, used)[0], "weight": 50,
                                   "attribute": f"{sources[1]['name']}.{attribute_column}",
                                   "score": {"function": "steps", "steps": [{"min": 0, "score": 50}]}})
            population: dict[str, Any] = {"source": events["name"]}
            if self.random.random() < 0.5:
                population["filter"] = random_filter(self.random, filter_columns, hostile_share=0.0)
            document["health_scores"] = [{
                "name": view_names[3], "population": population, "normalize": True,
                "categories": [{"name": self._names(1, used)[0], "weight": 100, "components": components}],
            }]

        project: dict[str, Any] = {"name": self._names(1, used)[0],
                                   "time_zone": self.random.choice(hostile.TIME_ZONES[:8]), "paths": ["models"]}

        origin = "scratch"
        if self.random.random() < 0.9:
            operation = self.random.choice(DATA_MUTATIONS)
            if self.random.random() < 0.8:
                document = operation(self, document)
            else:
                project = operation(self, project)
            origin += ": " + operation.__name__.strip("_")
        files = {"healthlayer.yml": _encode(self._fill_slots(_dump(project))),
                 "models/definitions.yml": _encode(self._fill_slots(_dump(document)))}
        return Case(self.index, origin, files, self._variables())


RESERVED_TIER_NAMES = ("any", "inactive")
VALID_KEYWORD_NAMES = [name for name in hostile.KEYWORD_NAMES if not name.startswith("_hl_")]
VALID_TABLES = ["raw.events", "raw.Events", "RAW.EVENTS", "cat.raw.events", "a$b.c$d", "select.from", "raw.select",
                "main.Order", "x.y"]
# Event names are text literals in the SQL: quotes, comment markers and keywords, but no control characters.
EVENT_NAMES = ["view", "buy", "it's", "x'; DROP TABLE raw.events; --", "--", "/*", "\\", "$$", "\u0430",
               "\U0001f600", "\u202e", "", " ", "DROP", "%", "_", "'", '"', "`", "a" * 300]
TABLES = ["raw.events", "raw.Events", "RAW.EVENTS", "cat.raw.events", "a$b.c$d", "select.from", "raw.select",
          "raw.events\n", "raw..events", ".events", "raw.events.", "raw.events.x.y", "raw .events",
          "raw.\u0430", "events"]


def _reference(column: str) -> str:
    """Write a column reference as a filter needs it: quoted where its case or a keyword requires."""
    return '"' + column.replace('"', '""') + '"' if needs_quotes(column) else column


def _literal(generator: random.Random) -> str:
    roll = generator.random()
    if roll < 0.4:
        number = generator.choice([0, 1, -1, 2.5, 1e10, -1e-10, 99999999999999999999, 0.1])
        return repr(number) if isinstance(number, float) else str(number)
    if roll < 0.9:
        text = generator.choice(["a", "x y", "DROP", "it's", "\\", "%_", "/* */", "--", "\u0430", "\U0001f600",
                                 "", ";", "$$", "\u00a0"])
        return "'" + text.replace("'", "''") + "'"
    return generator.choice(["NULL", "TRUE", "FALSE"])


def random_filter(generator: random.Random, columns: list[str], depth: int = 0, hostile_share: float = 0.04) -> str:
    """Return a random filter over `columns`; a share of `hostile_share` of its parts is a hostile filter."""
    if generator.random() < hostile_share:
        return generator.choice(hostile.HOSTILE_FILTERS)
    column = _reference(generator.choice(columns)) if columns else "x"
    roll = generator.random()
    if depth > 3 or roll < 0.3:
        operator = generator.choice(["=", "<>", "!=", "<", "<=", ">", ">="])
        return f"{column} {operator} {_literal(generator)}"
    if roll < 0.4:
        return f"{column} IS {generator.choice(['', 'NOT '])}NULL"
    if roll < 0.5:
        return f"{column} IN ({', '.join(_literal(generator) for _ in range(generator.randint(1, 4)))})"
    if roll < 0.55:
        return f"{column} {generator.choice(['LIKE', 'ILIKE', 'NOT LIKE'])} {_literal(generator)}"
    if roll < 0.6:
        return f"{column} BETWEEN {_literal(generator)} AND {_literal(generator)}"
    if roll < 0.7:
        joiner = generator.choice(["AND", "OR"])
        left = random_filter(generator, columns, depth + 1, hostile_share)
        right = random_filter(generator, columns, depth + 1, hostile_share)
        return f"({left}) {joiner} ({right})"
    if roll < 0.75:
        return f"NOT ({random_filter(generator, columns, depth + 1, hostile_share)})"
    if roll < 0.85:
        function = generator.choice(ALLOWED_FUNCTIONS + ["coalesce", "nullif", "least", "greatest", "substring"])
        arguments = {"coalesce": f"{column}, {_literal(generator)}", "nullif": f"{column}, {_literal(generator)}",
                     "least": f"{column}, 1", "greatest": f"{column}, 1", "substring": f"{column}, 1, 2",
                     "round": f"{column}, 2"}.get(function, column)
        return f"{function}({arguments}) = {_literal(generator)}"
    if roll < 0.92:
        types = CAST_TYPES if hostile_share else CAST_TYPES[:10]
        return f"CAST({column} AS {generator.choice(types)}) IS NOT NULL"
    return f"CASE WHEN {random_filter(generator, columns, depth + 1, hostile_share)} THEN 1 ELSE 0 END = 1"


def _replace_name(data: Any, old: str, new: str) -> Any:
    """Replace `old` as a whole string or as a part of dotted references and tier-mix columns."""
    if isinstance(data, dict):
        return {(new if key == old else key): _replace_name(value, old, new) for key, value in data.items()}
    if isinstance(data, list):
        return [_replace_name(item, old, new) for item in data]
    if isinstance(data, str):
        if data == old:
            return new
        parts = data.split(".")
        if len(parts) == 2:
            view, column = parts
            view = new if view == old else view
            for suffix in ("_users", "_share"):
                if column == old + suffix:
                    column = new + suffix
            column = new if column == old else column
            return f"{view}.{column}"
    return data


def _replace_column_references(data: Any, old: str, new: str) -> Any:
    """Replace a column in expressions, `by` lists, min_distinct columns and `source.column` attributes."""
    if isinstance(data, dict):
        result = {}
        for key, value in data.items():
            if key in ("filter", "value") and isinstance(value, str):
                value = re.sub(rf"(?<![\w.'\"]){re.escape(old)}(?![\w'\"])", _reference(new).replace("\\", "\\\\"),
                               value)
            elif key == "column" and value == old:
                value = new
            elif key == "by" and isinstance(value, list):
                value = [new if item == old else item for item in value]
            elif key == "attribute" and isinstance(value, str) and value.endswith("." + old):
                value = value[: -len(old)] + new
            else:
                value = _replace_column_references(value, old, new)
            result[key] = value
        return result
    if isinstance(data, list):
        return [_replace_column_references(item, old, new) for item in data]
    return data


DATA_MUTATIONS: list[Callable[[Generator, Any], Any]] = [
    Generator._drop, Generator._duplicate, Generator._retype, Generator._swap, Generator._hostile_text,
    Generator._hostile_text, Generator._number, Generator._nest, Generator._jinja, Generator._jinja,
    Generator._add_key, Generator._rename_key, Generator._rename_definition, Generator._rename_definition,
    Generator._rename_column, Generator._rename_column, Generator._rename_column, Generator._set_expression,
    Generator._set_expression, Generator._set_expression, Generator._set_events, Generator._set_table,
]
TEXT_MUTATIONS: list[Callable[[Generator, bytes], bytes]] = [
    Generator._insert_bytes, Generator._prepend_bom, Generator._duplicate_line, Generator._delete_line,
    Generator._truncate, Generator._insert_snippet, Generator._insert_snippet, Generator._insert_snippet,
    Generator._tabs, Generator._repeat, Generator._swap_lines,
]


def generate(seed: int, index: int) -> Case:
    return Generator(seed, index).case()


# Reproducers.

def minimize(case: Case, outcome: Outcome, folder: Path, attempts: int = MINIMIZE_ATTEMPTS) -> Case:
    """Return a smaller case that fails with the same signature: files dropped, then lines removed."""
    runs = 0

    def still_fails(candidate: Case) -> bool:
        nonlocal runs
        runs += 1
        result = run_case(candidate, folder)
        return result.status == "internal-error" and result.signature == outcome.signature

    current = case
    for relative in sorted(current.files):
        if relative != "healthlayer.yml" and runs < attempts:
            files = {name: content for name, content in current.files.items() if name != relative}
            candidate = Case(case.index, case.origin, files, case.variables)
            if still_fails(candidate):
                current = candidate
    for relative in sorted(current.files):
        lines = current.files[relative].split(b"\n")
        chunk = max(1, len(lines) // 2)
        while chunk >= 1 and runs < attempts:
            start = 0
            while start < len(lines) and runs < attempts:
                trial = lines[:start] + lines[start + chunk:]
                candidate = Case(case.index, case.origin, {**current.files, relative: b"\n".join(trial)},
                                 case.variables)
                if still_fails(candidate):
                    lines = trial
                    current = candidate
                else:
                    start += chunk
            chunk //= 2
    return current


def describe(case: Case) -> str:
    """Return a case's files and variables as text that can be pasted into a project folder."""
    parts = [f"case {case.index} ({case.origin}), --var values: {case.variables!r}"]
    for relative, content in sorted(case.files.items()):
        text = content.decode("utf-8", errors="backslashreplace")
        if len(text) > 4000:
            text = text[:4000] + f"\n... ({len(text) - 4000} more characters)"
        parts.append(f"--- {relative}\n{text}")
    return "\n".join(parts)


# The run.

def run_fuzz(count: int, seed: int, folder: Path, only: int | None = None,
             progress: Callable[[str], None] | None = None) -> Report:
    """Generate and run `count` cases (or only case `only`); return the counts and every internal error."""
    report = Report()
    started = time.perf_counter()
    cpu_started = time.process_time()
    indexes = [only] if only is not None else range(count)
    project_folder = folder / "project"
    compiled: set[tuple[Any, ...]] = set()
    for index in indexes:
        case = generate(seed, index)
        case_started = time.perf_counter()
        outcome = run_case(case, project_folder, compiled)
        elapsed = time.perf_counter() - case_started
        if elapsed > report.slowest[0]:
            report.slowest = (elapsed, index)
        if elapsed > SLOW_CASE_SECONDS and outcome.status != "internal-error":
            outcome = Outcome("internal-error", f"the case took {elapsed:.1f} s", "slow case")
        report.generated += 1
        report.issue_codes.update(outcome.issue_codes)
        if outcome.status == "accepted":
            report.accepted += 1
            report.statements += outcome.statements
            report.unsupported += outcome.unsupported
            report.cached += outcome.cached
            report.parsed += outcome.parsed
            report.cached_projects += outcome.cached_project
        elif outcome.status == "rejected":
            report.rejected += 1
        else:
            reproducer = minimize(case, outcome, folder / "minimize")
            report.failures.append((case, outcome, reproducer))
            if progress:
                progress(f"internal error in case {index}: {outcome.signature}")
        if progress and report.generated % 1000 == 0:
            progress(f"{report.generated} cases, {time.perf_counter() - started:.0f} s")
    report.seconds = time.perf_counter() - started
    report.cpu_seconds = time.process_time() - cpu_started
    return report


def format_failures(report: Report) -> str:
    parts = []
    for case, outcome, reproducer in report.failures:
        parts.append(f"=== internal error: {outcome.signature}\n{outcome.detail.strip()}\n"
                     f"--- reproducer\n{describe(reproducer)}")
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz healthlayer's definition loading and compiling.")
    parser.add_argument("--count", type=int, default=10_000, help="Number of cases to generate.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the random generator.")
    parser.add_argument("--only", type=int, default=None, help="Run only the case with this index.")
    parser.add_argument("--show", action="store_true", help="Print the files of the --only case.")
    parser.add_argument("--codes", action="store_true", help="Print how often each issue code occurred.")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="healthlayer-fuzz-") as scratch:
        if arguments.show and arguments.only is not None:
            print(describe(generate(arguments.seed, arguments.only)))
        report = run_fuzz(arguments.count, arguments.seed, Path(scratch), arguments.only,
                          progress=lambda line: print(line, file=sys.stderr))
    if report.failures:
        print(format_failures(report))
    if arguments.codes:
        for code, number in report.issue_codes.most_common():
            print(f"{number:8d} {code}")
    print(report.summary())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
