"""The GitHub Actions workflow of docs/ci/healthlayer.yml: valid for GitHub, and its commands work.

check-jsonschema validates the file against its vendored GitHub workflow schema, offline. That
schema checks the structure (keys, types, required keys), not whether GitHub's expressions
evaluate. The `run:` commands that need neither the package index nor a warehouse then run
through bash, as GitHub's runner runs them, in a copy of examples/saas with the installed
healthlayer on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from healthlayer.cli import cli

REPOSITORY = Path(__file__).resolve().parents[1]
WORKFLOW = REPOSITORY / "docs" / "ci" / "healthlayer.yml"
CI_DOC = REPOSITORY / "docs" / "ci.md"
SAAS = REPOSITORY / "examples" / "saas"
# The line of the SaaS sources that break_tier_window misspells, counted from 1.
TIER_WINDOW_LINE = (SAAS / "models" / "sources.yml").read_text(encoding="utf-8").splitlines().index(
    "  tier_window: 7 days") + 1
BIN = Path(sys.executable).parent
CHECK_JSONSCHEMA = BIN / "check-jsonschema"
# Steps not run here: installing needs the package index (the tests use the installed
# healthlayer instead), and the warehouse job needs a warehouse and its secrets.
NOT_RUN = {"Install healthlayer", "Install healthlayer with the warehouse driver", "Validate against the warehouse"}
SECRET_CONDITION = "env.WAREHOUSE_PASSWORD != ''"


def load_workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def run_steps() -> list[tuple[str, dict[str, Any]]]:
    """Return (job id, step) for every step with a `run:` command, in file order."""
    workflow = load_workflow()
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job["steps"] if "run" in step]


RUNNABLE = [(job_id, step) for job_id, step in run_steps() if step["name"] not in NOT_RUN]


def check_workflow(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


def step_environment(job_id: str, step: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment GitHub gives a step: the workflow's, the job's and the step's env."""
    workflow = load_workflow()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GITHUB_")}
    for scope in (workflow.get("env", {}), workflow["jobs"][job_id].get("env", {}), step.get("env", {})):
        for key, value in scope.items():
            assert "${{" not in str(value), f"{key} is an expression, which this test cannot evaluate"
            environment[key] = str(value)
    environment.update(overrides or {})
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    return environment


def run_step(job_id: str, step: dict[str, Any], cwd: Path,
             overrides: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a step's command as the runner's default bash shell does on Linux."""
    assert "${{" not in step["run"], "the command has an expression, which this test cannot evaluate"
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                          env=step_environment(job_id, step, overrides), capture_output=True, text=True, timeout=300)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """Return a repository root that is a copy of examples/saas, as PROJECT_DIR "." expects."""
    root = tmp_path / "repository"
    shutil.copytree(SAAS, root, ignore=shutil.ignore_patterns("*.duckdb", "*.duckdb.wal"))
    return root


def break_tier_window(project: Path) -> None:
    path = project / "models" / "sources.yml"
    text = path.read_text(encoding="utf-8")
    assert text.count("  tier_window: 7 days\n") == 1
    path.write_text(text.replace("  tier_window: 7 days\n", "  tier_window: 7 dayz\n"), encoding="utf-8")


# The file against GitHub's workflow schema

def test_workflow_schema_valid():
    completed = check_workflow(WORKFLOW)

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_workflow_schema_rejects_typo(tmp_path: Path):
    """The check can fail: a misspelled `runs-on` makes the same file invalid."""
    broken = tmp_path / "healthlayer.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on:", "runs_on:"), encoding="utf-8")

    completed = check_workflow(broken)

    assert completed.returncode == 1
    assert "'runs-on' is a required property" in completed.stdout


def test_warehouse_steps_need_secret():
    """Every step of the warehouse job runs only where the secret is set, so forks skip them."""
    job = load_workflow()["jobs"]["warehouse"]

    assert job["env"]["WAREHOUSE_PASSWORD"] == "${{ secrets.WAREHOUSE_PASSWORD }}"
    assert [step.get("if") for step in job["steps"]] == [SECRET_CONDITION] * len(job["steps"])


def test_not_run_steps_exist():
    """Every step this module leaves out exists, so a renamed step cannot be skipped by mistake."""
    names = [step["name"] for _, step in run_steps()]

    assert NOT_RUN <= set(names)
    assert len(names) == len(set(names))


# The commands on a copy of examples/saas

@pytest.mark.parametrize("job_id, step", RUNNABLE, ids=[step["name"] for _, step in RUNNABLE])
def test_step_runs(job_id: str, step: dict[str, Any], repository: Path):
    command = step["run"].split()
    assert command[0] == "healthlayer", f"only healthlayer commands are run here, not {command[0]}"
    if command[1] not in cli.commands:
        pytest.skip(f"'healthlayer {command[1]}' is not a command of the installed healthlayer")

    completed = run_step(job_id, step, repository)

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_validate_step_annotates(repository: Path):
    """On a broken file the validate step fails and prints an annotation GitHub places on the line."""
    job_id, step = next((job_id, step) for job_id, step in RUNNABLE if step["name"] == "Validate definitions")
    break_tier_window(repository)

    completed = run_step(job_id, step, repository)

    assert completed.returncode == 1
    assert completed.stdout.startswith(f"::error file=models/sources.yml,line={TIER_WINDOW_LINE},col=3,title=invalid-value::")


def test_validate_step_subfolder(tmp_path: Path):
    """With PROJECT_DIR set to a subfolder, annotation paths stay relative to the repository root.

    The output is the example line of docs/ci.md.
    """
    job_id, step = next((job_id, step) for job_id, step in RUNNABLE if step["name"] == "Validate definitions")
    root = tmp_path / "repository"
    shutil.copytree(SAAS, root / "analytics", ignore=shutil.ignore_patterns("*.duckdb", "*.duckdb.wal"))
    break_tier_window(root / "analytics")

    completed = run_step(job_id, step, root, {"PROJECT_DIR": "analytics"})

    documented = [line for line in CI_DOC.read_text(encoding="utf-8").splitlines() if line.startswith("::error")]
    assert completed.returncode == 1
    assert completed.stdout.splitlines()[0] == documented[0]
