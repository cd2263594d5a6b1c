"""The pre-commit hooks of .pre-commit-hooks.yaml, loaded and run by the real pre-commit.

The run tests copy the package sources into a temporary git repository, because pre-commit
installs a hook repository from a git commit, and run the hook on a temporary git repository
holding a copy of examples/saas. pre-commit installs the hook's environment with pip, so these
tests need the package index that pip is configured with. `healthlayer-test` is only loaded
here, not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pre_commit.clientlib import load_config, load_manifest

REPOSITORY = Path(__file__).resolve().parents[1]
MANIFEST = REPOSITORY / ".pre-commit-hooks.yaml"
CI_DOC = REPOSITORY / "docs" / "ci.md"
SAAS = REPOSITORY / "examples" / "saas"
# The line of the SaaS sources that break_tier_window misspells, counted from 1.
TIER_WINDOW_LINE = (SAAS / "models" / "sources.yml").read_text(encoding="utf-8").splitlines().index(
    "  tier_window: 7 days") + 1
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
# What a hook repository needs for `pip install .`: the build configuration, the readme it
# names, the package and the library that the wheel includes.
PACKAGE_FILES = ["pyproject.toml", "README.md", "healthlayer", "definitions", ".pre-commit-hooks.yaml"]
BROKEN_LINE = f"models/sources.yml:{TIER_WINDOW_LINE}:3: error invalid-value at engagement.tier_window"


@dataclass(frozen=True)
class Result:
    exit_code: int
    output: str


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=healthlayer tests", "-c", "user.email=tests@example.invalid",
                    "-c", "init.defaultBranch=main", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def clean_environment(pre_commit_home: Path) -> dict[str, str]:
    """Return the environment without git variables of an outer hook, with a private pre-commit cache."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment["PRE_COMMIT_HOME"] = str(pre_commit_home)
    return environment


def run_pre_commit(cwd: Path, pre_commit_home: Path, *args: str) -> Result:
    completed = subprocess.run([str(PRE_COMMIT), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                               env=clean_environment(pre_commit_home))
    return Result(completed.returncode, completed.stdout + completed.stderr)


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a git repository with one commit of the package sources and the hook manifest."""
    repository = tmp_path_factory.mktemp("hooks") / "healthlayer"
    repository.mkdir()
    for name in PACKAGE_FILES:
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, repository / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, repository / name)
    git(repository, "init", "-q")
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "healthlayer sources")
    return repository


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def project_repository(root: Path, subfolder: str | None = None) -> Path:
    """Create a git repository at `root` with examples/saas at its root or in a subfolder, all staged.

    Return the project folder. `root` must not exist yet.
    """
    project = root if subfolder is None else root / subfolder
    shutil.copytree(SAAS, project, ignore=shutil.ignore_patterns("*.duckdb", "*.duckdb.wal"))
    git(root, "init", "-q")
    git(root, "add", "-A")
    return project


def break_tier_window(project: Path) -> None:
    """Misspell the unit of the tier window in models/sources.yml."""
    path = project / "models" / "sources.yml"
    text = path.read_text(encoding="utf-8")
    assert text.count("  tier_window: 7 days\n") == 1
    path.write_text(text.replace("  tier_window: 7 days\n", "  tier_window: 7 dayz\n"), encoding="utf-8")


# The manifest

def test_manifest_loads():
    hooks = {hook["id"]: hook for hook in load_manifest(str(MANIFEST))}

    assert sorted(hooks) == ["healthlayer-test", "healthlayer-validate"]
    assert hooks["healthlayer-validate"]["entry"] == "healthlayer validate"
    assert hooks["healthlayer-test"]["entry"] == "healthlayer test"


@pytest.mark.parametrize("hook_id", ["healthlayer-validate", "healthlayer-test"])
def test_manifest_hook_settings(hook_id: str):
    hook = {hook["id"]: hook for hook in load_manifest(str(MANIFEST))}[hook_id]

    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["always_run"] is False
    # Users add options such as --project and --strict in their own `args`.
    assert hook["args"] == []


@pytest.mark.parametrize("path, matches", [
    ("healthlayer.yml", True),
    ("models/sources.yml", True),
    ("analytics/models/health.yaml", True),
    ("data/events.parquet", False),
    ("models/sources.yml.orig", False),
    ("README.md", False),
])
def test_manifest_files_pattern(path: str, matches: bool):
    """The hooks run when a commit changes a YAML file, and with --all-files when the repository has one."""
    hook = {hook["id"]: hook for hook in load_manifest(str(MANIFEST))}["healthlayer-validate"]

    assert bool(re.search(hook["files"], path)) is matches


def test_documented_config_loads(tmp_path: Path):
    """The .pre-commit-config.yaml example of docs/ci.md is a valid configuration of these hooks."""
    blocks = re.findall(r"```yaml\n(repos:.*?)```", CI_DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 1
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(blocks[0], encoding="utf-8")

    hooks = load_config(str(config))["repos"][0]["hooks"]

    assert [hook["id"] for hook in hooks] == ["healthlayer-validate", "healthlayer-test"]
    assert hooks[0]["args"] == ["--project", "analytics", "--strict"]


def test_manifest_entry_installed():
    """The entry's executable is the console script that pyproject.toml declares."""
    pyproject = (REPOSITORY / "pyproject.toml").read_text(encoding="utf-8")

    assert 'healthlayer = "healthlayer.cli:main"' in pyproject


# pre-commit try-repo, as a user tries the hook before adding it

def test_try_repo_clean(hook_repository: Path, pre_commit_home: Path, tmp_path: Path):
    root = tmp_path / "project"
    project_repository(root)

    result = run_pre_commit(root, pre_commit_home, "try-repo", str(hook_repository), "healthlayer-validate",
                            "--all-files")

    assert result.exit_code == 0, result.output
    assert re.search(r"healthlayer validate\.+Passed", result.output)


def test_try_repo_broken(hook_repository: Path, pre_commit_home: Path, tmp_path: Path):
    root = tmp_path / "project"
    break_tier_window(project_repository(root))

    result = run_pre_commit(root, pre_commit_home, "try-repo", str(hook_repository), "healthlayer-validate",
                            "--all-files")

    assert result.exit_code == 1, result.output
    assert re.search(r"healthlayer validate\.+Failed", result.output)
    assert BROKEN_LINE in result.output


# pre-commit run with a project configuration whose args point at a subfolder

CONFIG = """repos:
  - repo: {repository}
    rev: {revision}
    hooks:
      - id: healthlayer-validate
        args: [--project, analytics, --strict]
"""


def configure(root: Path, hook_repository: Path) -> None:
    revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repository, capture_output=True, text=True,
                              check=True, timeout=60).stdout.strip()
    (root / ".pre-commit-config.yaml").write_text(CONFIG.format(repository=hook_repository, revision=revision),
                                                  encoding="utf-8")
    git(root, "add", ".pre-commit-config.yaml")


def test_run_args_subfolder(hook_repository: Path, pre_commit_home: Path, tmp_path: Path):
    root = tmp_path / "repository"
    project = project_repository(root, "analytics")
    configure(root, hook_repository)

    clean = run_pre_commit(root, pre_commit_home, "run", "--all-files")
    break_tier_window(project)
    git(root, "add", "-A")
    broken = run_pre_commit(root, pre_commit_home, "run", "--all-files")

    assert clean.exit_code == 0, clean.output
    assert broken.exit_code == 1, broken.output
    assert f"analytics/{BROKEN_LINE}" in broken.output
