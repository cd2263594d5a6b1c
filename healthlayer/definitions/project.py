"""Read a project folder: the project file, the included library modules and the definition files."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel, TypeAdapter, ValidationError

from healthlayer.definitions import models
from healthlayer.definitions.issues import Issue, KeyPath, Location, did_you_mean
from healthlayer.definitions.validation_errors import issues_from_validation_error
from healthlayer.definitions.yaml_loader import LoadedFile, UnsetTolerantEnviron, load_file

PROJECT_FILE = "healthlayer.yml"
# Shorter env_var() values (flags, single digits) are not redacted, since they would mask ordinary text.
MIN_REDACTED_LENGTH = 4
# Keys of the project file that no definition depends on.
SETTINGS_KEYS = {"lint", "targets", "default_target"}
# Kinds of named definitions, by the top-level key that lists them.
NAMED_KINDS = ("sources", "stickiness", "tier_mix", "alerts", "account_metrics", "health_scores", "tests")


@dataclass(frozen=True)
class Origin:
    """Declaration site of a definition: its file and the key path of the item."""

    file: LoadedFile
    key_path: KeyPath
    from_library: bool = False


@dataclass
class Project:
    """All definitions of a project after includes and overrides, with their origins."""

    root: Path
    config: models.ProjectFile
    config_file: LoadedFile
    variables: dict[str, Any]
    sources: dict[str, models.Source] = field(default_factory=dict)
    engagement: models.Engagement | None = None
    stickiness: dict[str, models.Stickiness] = field(default_factory=dict)
    tier_mix: dict[str, models.TierMix] = field(default_factory=dict)
    alerts: dict[str, models.TierDropAlert | models.BandChangeAlert | models.ScoreDropAlert | models.RedReviewAlert
                 | models.StaleDataAlert] = field(default_factory=dict)
    account_metrics: dict[str, models.AccountMetric] = field(default_factory=dict)
    health_scores: dict[str, models.HealthScore] = field(default_factory=dict)
    tests: dict[str, models.FixtureTest] = field(default_factory=dict)
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    # Values that env_var() returned, redacted from every issue about this project.
    secrets: set[str] = field(default_factory=set, repr=False)
    # Names that var() was called with in any file.
    read_vars: set[str] = field(default_factory=set)
    # Unset environment variables that the settings of each target read with env_var(), by target.
    unset_target_variables: dict[str, set[str]] = field(default_factory=dict)
    # (kind, name) of the definitions that are in the files but invalid, so missing from the kinds
    # above. Checks do not report references to them as unknown, since their own issues give the reason.
    # "*" stands for any kind or name, for a whole list or file that could not be read.
    invalid: set[tuple[str, str]] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def time_zone(self) -> str:
        return self.config.time_zone

    def location(self, kind: str, name: str, *key_path: str | int) -> Location:
        """Return the location of a definition, or of a key inside it."""
        origin = self.origins.get((kind, name))
        if origin is None:
            return Location(self.config_file.path)
        return origin.file.location(origin.key_path + tuple(key_path))

    def is_invalid(self, kind: str, name: str) -> bool:
        """Return whether a definition of this kind and name exists but failed validation."""
        return bool({(kind, name), (kind, "*"), ("*", "*")} & self.invalid)

    def tier_names(self) -> list[str]:
        return [tier.name for tier in self.engagement.tiers] if self.engagement else []

    def tier_rank(self, name: str) -> int:
        """Return the rank of a tier: 0 for inactive, 1 for the lowest tier, and so on."""
        if name == "inactive":
            return 0
        return self.tier_names().index(name) + 1


def library_root() -> Path:
    """Return the folder of the shipped definition library, inside a wheel or in a checkout."""
    packaged = Path(__file__).resolve().parent.parent / "library"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "definitions"


def library_modules() -> list[str]:
    """Return the names of the includable library modules, such as `standard/engagement`.

    A folder with a project file is a project of its own (the library's fixture tests), so its
    files are not modules.
    """
    root = library_root()
    projects = [path.parent for path in root.rglob(PROJECT_FILE)]
    modules = []
    for path in root.rglob("*.yml"):
        if any(folder in path.parents for folder in projects):
            continue
        modules.append(str(path.relative_to(root).with_suffix("")))
    return sorted(modules)


def _validate(model: Any, loaded: LoadedFile, data: Any, base: KeyPath = ()) -> tuple[Any, list[Issue]]:
    """Validate data against a model class or an annotated union of them, such as the alert rules."""
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(data), []
        return TypeAdapter(model).validate_python(data), []
    except ValidationError as error:
        return None, issues_from_validation_error(error, model, loaded, base)


def _definition_files(root: Path, config: models.ProjectFile, config_file: LoadedFile) -> tuple[list[Path], list[Issue]]:
    issues: list[Issue] = []
    files: list[Path] = []
    entries = config.paths if config.paths is not None else ["."]
    for index, entry in enumerate(entries):
        location = config_file.location(("paths", index))
        try:
            path = (root / entry).resolve()
            exists = path.exists()
        except (OSError, RuntimeError, ValueError) as error:
            # A NUL character, an over-long name or a symbolic link loop (RuntimeError on Python
            # 3.11) is not a path the operating system can look up.
            issues.append(Issue("path-not-found", f"definition path {entry!r} is not a valid path: "
                                f"{getattr(error, 'strerror', None) or error}", location,
                                "List folders or YAML files relative to healthlayer.yml."))
            continue
        if not _inside(path, root):
            issues.append(Issue("path-outside-project", f"definition path '{entry}' is outside the project folder",
                                location, "List folders or YAML files inside the folder of healthlayer.yml."))
            continue
        if not exists:
            issues.append(Issue("path-not-found", f"definition path '{entry}' does not exist", location,
                                "List folders or YAML files relative to healthlayer.yml."))
            continue
        if path.is_file():
            files.append(path)
            continue
        for candidate in sorted(path.rglob("*")):
            relative = candidate.relative_to(path)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if candidate.suffix in (".yml", ".yaml") and candidate.is_file() and candidate.name != PROJECT_FILE:
                # A symbolic link inside the project may point at any file of the machine, whose text
                # would then appear in validation messages.
                if not _inside(candidate.resolve(), root):
                    issues.append(Issue("path-outside-project", f"definition file '{relative}' links to a file "
                                        "outside the project folder", location,
                                        "Copy the file into the project instead of linking to it."))
                    continue
                files.append(candidate)
    unique: list[Path] = []
    for path in files:
        if path not in unique:
            unique.append(path)
    return unique, issues


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _read_project_file(root: Path, cli_vars: Mapping[str, Any], environ: Mapping[str, str] | None,
                       revealed: set[str], unset: dict[str, set[str]]) -> tuple[LoadedFile | None,
                                                                               models.ProjectFile | None, list[Issue]]:
    """Read healthlayer.yml; record in `unset` the unset env_var() names of each target.

    An unset env_var() without a default is an error, except in a target's settings. There it is
    reported when a command connects to that target, so a project with a production target still
    compiles and deploys to a local one without the production secrets.
    """
    path = root / PROJECT_FILE
    try:
        folder_found = root.is_dir()
        found = path.is_file()
    except OSError:
        # An over-long --project path is not a folder that the operating system can look up.
        folder_found = found = False
    if not folder_found:
        return None, None, [Issue("project-not-found", f"the project folder {root} does not exist", Location(path),
                                  "Pass --project with the folder of healthlayer.yml.")]
    if not found:
        return None, None, [Issue("project-not-found", f"no {PROJECT_FILE} in {root}", Location(path),
                                  "Run the command from the project folder or pass --project PATH.")]
    tolerant = environ if isinstance(environ, UnsetTolerantEnviron) \
        else UnsetTolerantEnviron(os.environ if environ is None else environ)
    # The project file's own vars are not known before it is parsed, so it is rendered with --var values only.
    loaded, issues = load_file(path, dict(cli_vars), tolerant, revealed)
    if loaded is None:
        return None, None, issues
    if not isinstance(loaded.data, dict):
        return None, None, [Issue("project-not-mapping", "the project file must be a YAML mapping",
                                  loaded.location(()), "Start with 'name: my_project'.")]
    for key_path, text in _strings(loaded.data, ()):
        names = sorted(placeholder.removeprefix("unset_") for placeholder in tolerant.placeholders
                       if placeholder in text)
        if not names:
            continue
        if len(key_path) >= 2 and key_path[0] == "targets" and isinstance(key_path[1], str):
            unset.setdefault(key_path[1], set()).update(names)
        elif not isinstance(environ, UnsetTolerantEnviron):
            issues.append(Issue("template-undefined", f"environment variable '{names[0]}' is not set",
                                loaded.location(key_path),
                                f"Set {names[0]} in the environment, or give a default: "
                                f"env_var('{names[0]}', default)."))
    if any(issue.severity == "error" for issue in issues):
        return None, None, issues
    config, more = _validate(models.ProjectFile, loaded, loaded.data)
    failed_keys = {issue.location.key_path[0] for issue in more if issue.location.key_path}
    if config is None and failed_keys and failed_keys <= SETTINGS_KEYS:
        # The definitions do not depend on these keys, so they are still checked without them.
        rest = {key: value for key, value in loaded.data.items() if key not in failed_keys}
        config, _ = _validate(models.ProjectFile, loaded, rest)
    return loaded, config, issues + more


def _strings(data: Any, key_path: KeyPath) -> list[tuple[KeyPath, str]]:
    """Return every text value and key in parsed YAML, with its key path."""
    if isinstance(data, str):
        return [(key_path, data)]
    found: list[tuple[KeyPath, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _strings(key, key_path) + _strings(value, key_path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _strings(value, key_path + (index,))
    return found


def load_project(
    root: Path,
    cli_vars: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Project | None, list[Issue]]:
    """Load and check a project; return it (None on errors) and every issue found.

    Values that env_var() returned are replaced by *** in the issues, since they are often secrets.
    """
    project, issues = load_partial_project(root, cli_vars, environ)
    if any(issue.severity == "error" for issue in issues):
        return None, issues
    return project, issues


def load_partial_project(
    root: Path,
    cli_vars: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Project | None, list[Issue]]:
    """Load and check a project; return the definitions that are valid, even when others are not.

    The project is None only when the project file itself cannot be read. Checks across
    definitions run on what is valid, so one run reports every problem.
    """
    revealed: set[str] = set()
    project, issues = _load_project(root, cli_vars, environ, revealed)
    return project, redact_issues(issues, revealed)


def redact_issues(issues: list[Issue], secrets: set[str]) -> list[Issue]:
    """Return the issues with every secret value in their message and hint replaced by ***."""
    values = sorted((value for value in secrets if len(value) >= MIN_REDACTED_LENGTH), key=len, reverse=True)
    if not values:
        return issues
    redacted = []
    for issue in issues:
        message = _redact_text(issue.message, values)
        hint = _redact_text(issue.hint, values) if issue.hint else issue.hint
        redacted.append(dataclasses.replace(issue, message=message, hint=hint))
    return redacted


def _redact_text(text: str, values: list[str]) -> str:
    """Replace each secret in a text, and also its start where a message shortened it with '...'."""
    for value in values:
        text = text.replace(value, "***")
        for cut in range(len(value) - 1, MIN_REDACTED_LENGTH - 1, -1):
            if value[:cut] + "..." in text:
                text = text.replace(value[:cut] + "...", "***...")
                break
    return text


def _load_project(
    root: Path,
    cli_vars: Mapping[str, Any] | None,
    environ: Mapping[str, str] | None,
    revealed: set[str],
) -> tuple[Project | None, list[Issue]]:
    from healthlayer.definitions.checks import check_project

    root = root.resolve()
    cli_vars = dict(cli_vars or {})
    unset: dict[str, set[str]] = {}
    config_file, config, issues = _read_project_file(root, cli_vars, environ, revealed, unset)
    if config is None or config_file is None:
        return None, issues
    variables = {**config.vars, **cli_vars}
    project = Project(root=root, config=config, config_file=config_file, variables=variables, secrets=revealed,
                      unset_target_variables=unset)

    library = library_root()
    available = library_modules()
    inputs: list[tuple[Path, bool]] = []
    for index, module in enumerate(config.include):
        if module not in available:
            issues.append(Issue("include-not-found", f"library module '{module}' does not exist",
                                config_file.location(("include", index)), did_you_mean(module, available)))
            project.invalid.add(("*", "*"))
            continue
        inputs.append((library / f"{module}.yml", True))
    files, path_issues = _definition_files(root, config, config_file)
    issues += path_issues
    if path_issues:
        project.invalid.add(("*", "*"))
    inputs += [(path, False) for path in files]

    for path, from_library in inputs:
        loaded, file_issues = load_file(path, variables, environ, revealed, project.read_vars)
        issues += file_issues
        if loaded is None:
            project.invalid.add(("*", "*"))
            continue
        if not isinstance(loaded.data, dict):
            project.invalid.add(("*", "*"))
            issues.append(Issue("file-not-mapping", "a definition file must be a YAML mapping of kinds such as "
                                "'sources' or 'stickiness'", loaded.location(()),
                                "Start the file with a top-level key such as 'stickiness:'."))
            continue
        issues += _merge_file(project, loaded, from_library)

    issues += check_project(project)
    return project, issues


def _merge_file(project: Project, loaded: LoadedFile, from_library: bool) -> list[Issue]:
    """Validate one file and add its definitions; project items replace library items of the same name."""
    issues: list[Issue] = []
    data = dict(loaded.data)
    known = set(models.DefinitionFile.model_fields)
    for key in list(data):
        if key not in known:
            issues.append(Issue("unknown-kind", f"unknown top-level key '{key}'", loaded.location((key,)),
                                did_you_mean(key, known)))
            # The key may be a misspelled kind, whose items other definitions refer to.
            project.invalid.add(("*", "*"))
            del data[key]

    if "engagement" in data:
        engagement, more = _validate(models.Engagement, loaded, data["engagement"], ("engagement",))
        issues += more
        if engagement is None:
            project.invalid.add(("engagement", "engagement"))
        else:
            issues += _add(project, "engagement", "engagement", engagement, Origin(loaded, ("engagement",), from_library))

    for kind in NAMED_KINDS:
        items = data.get(kind)
        if items is None:
            continue
        if not isinstance(items, list):
            project.invalid.add((kind, "*"))
            issues.append(Issue("kind-not-list", f"'{kind}' must be a list of definitions", loaded.location((kind,)),
                                f"Write each definition as a list item: '{kind}:' then '  - name: ...'."))
            continue
        model = models.DefinitionFile.model_fields[kind].annotation.__args__[0]  # type: ignore[union-attr]
        for index, item in enumerate(items):
            parsed, more = _validate(model, loaded, item, (kind, index))
            issues += more
            if parsed is None and isinstance(item, dict) and isinstance(item.get("name"), str):
                project.invalid.add((kind, item["name"]))
            if parsed is not None:
                issues += _add(project, kind, parsed.name, parsed, Origin(loaded, (kind, index), from_library))
    return issues


def _add(project: Project, kind: str, name: str, item: Any, origin: Origin) -> list[Issue]:
    previous = project.origins.get((kind, name))
    if previous is not None and not previous.from_library:
        if origin.from_library:
            return []
        path = previous.file.path
        shown = path.relative_to(project.root) if path.is_relative_to(project.root) else path.name
        where = f"{shown}:{previous.file.location(previous.key_path).line}"
        label = "engagement block" if kind == "engagement" else f"{_singular(kind)} '{name}'"
        # Other definitions may refer to either of the two, so references to the name are not checked.
        project.invalid.add((kind, name))
        return [Issue("duplicate-name", f"{label} is defined twice; the other definition is at {where}",
                      origin.file.location(origin.key_path + (("name",) if kind != "engagement" else ())),
                      "Rename or remove one of them.")]
    project.origins[(kind, name)] = origin
    if kind == "engagement":
        project.engagement = item
    else:
        getattr(project, kind)[name] = item
    return []


def _singular(kind: str) -> str:
    return {"sources": "source", "stickiness": "stickiness metric", "tier_mix": "tier mix",
            "alerts": "alert", "account_metrics": "account metric", "health_scores": "health score",
            "tests": "test"}[kind]
