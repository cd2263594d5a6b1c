"""`healthlayer validate` checks each target's type and settings without connecting.

The checks use each adapter's own settings model, so they agree with what `deploy` accepts. A
setting whose value comes from an unset env_var() is not checked, and no setting's value ever
appears in an issue, since it may be a secret.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from healthlayer import api
from healthlayer.definitions.issues import Issue
from healthlayer.definitions.yaml_loader import UnsetTolerantEnviron
from healthlayer.errors import HealthlayerError

SHOP = Path(__file__).parent / "fixtures" / "shop"
LOCAL_TARGET = """\
  local:
    type: duckdb
    path: shop.duckdb
    schema: analytics
"""


def project_with_targets(tmp_path: Path, targets: str, default: str = "local") -> Path:
    project = tmp_path / "shop"
    shutil.copytree(SHOP, project)
    path = project / "healthlayer.yml"
    text = path.read_text(encoding="utf-8")
    assert text.count(LOCAL_TARGET) == 1
    text = text.replace(LOCAL_TARGET, targets).replace("default_target: local", f"default_target: {default}")
    path.write_text(text, encoding="utf-8")
    return project


def only_issue(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, "\n".join(issue.format() for issue in issues)
    return issues[0]


def test_valid_targets(tmp_path: Path):
    targets = LOCAL_TARGET + "  warehouse:\n    type: postgres\n    host: 127.0.0.1\n    dbname: analytics\n"

    assert api.validate(project_with_targets(tmp_path, targets)) == []


def test_unknown_target_type(tmp_path: Path):
    issue = only_issue(api.validate(project_with_targets(tmp_path, LOCAL_TARGET.replace("duckdb", "duckbd"))))

    assert issue.code == "unknown-target-type"
    assert issue.location.file.name == "healthlayer.yml"
    assert issue.location.key_path == ("targets", "local", "type")
    assert issue.location.line == 10
    assert issue.hint.startswith("Did you mean 'duckdb'?")


def test_unknown_setting(tmp_path: Path):
    issue = only_issue(api.validate(project_with_targets(tmp_path, LOCAL_TARGET.replace("    path:", "    pth:"))))

    assert issue.code == "unknown-setting"
    assert issue.message == "unknown setting 'pth' in target 'local'"
    assert issue.location.key_path == ("targets", "local", "pth")
    assert issue.location.line == 11
    assert issue.hint == "Did you mean 'path'?"


def test_invalid_setting(tmp_path: Path):
    issue = only_issue(api.validate(project_with_targets(tmp_path, LOCAL_TARGET + "    threads: 0\n")))

    assert issue.code == "invalid-setting"
    assert issue.location.key_path == ("targets", "local", "threads")
    assert issue.message == "invalid setting 'threads' in target 'local': input should be greater than or equal to 1"


def test_unknown_default_target(tmp_path: Path):
    issue = only_issue(api.validate(project_with_targets(tmp_path, LOCAL_TARGET, default="locl")))

    assert issue.code == "unknown-target"
    assert issue.location.key_path == ("default_target",)
    assert issue.hint == "Did you mean 'local'?"


def test_setting_value_not_shown(tmp_path: Path):
    targets = LOCAL_TARGET + "  warehouse:\n    type: postgres\n    host: 127.0.0.1\n    port: hunter2-port\n"

    issue = only_issue(api.validate(project_with_targets(tmp_path, targets)))

    assert issue.code == "invalid-setting"
    assert issue.location.key_path == ("targets", "warehouse", "port")
    assert "hunter2" not in issue.message
    assert "hunter2" not in (issue.hint or "")


def test_unset_env_var_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HL_TEST_PORT", raising=False)
    targets = LOCAL_TARGET + ("  warehouse:\n    type: postgres\n    host: 127.0.0.1\n"
                              "    port: \"{{ env_var('HL_TEST_PORT') }}\"\n")
    project = project_with_targets(tmp_path, targets)

    assert api.validate(project, environ=UnsetTolerantEnviron()) == []
    monkeypatch.setenv("HL_TEST_PORT", "not-a-port")
    assert only_issue(api.validate(project)).location.key_path == ("targets", "warehouse", "port")


PROD_TARGET = "  prod:\n    type: postgres\n    host: 127.0.0.1\n    password: \"{{ env_var('HL_TEST_PROD_PASSWORD') }}\"\n"


def test_unset_secret_of_other_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A target's unset env_var() stops only the commands that connect to that target."""
    monkeypatch.delenv("HL_TEST_PROD_PASSWORD", raising=False)
    project = project_with_targets(tmp_path, LOCAL_TARGET + PROD_TARGET)

    loaded, issues = api.load(project)

    assert issues == []
    assert loaded.unset_target_variables == {"prod": {"HL_TEST_PROD_PASSWORD"}}
    assert api.compile_project(loaded, "duckdb", "analytics")
    with pytest.raises(HealthlayerError) as raised:
        api.open_target(loaded, "prod")
    assert str(raised.value).startswith("target 'prod' reads the environment variable(s) HL_TEST_PROD_PASSWORD")


def test_unset_secret_of_warehouse_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HL_TEST_PROD_PASSWORD", raising=False)
    project = project_with_targets(tmp_path, LOCAL_TARGET + PROD_TARGET)

    issue = only_issue(api.check_warehouse(project, "prod"))

    assert issue.code == "warehouse-unreachable"
    assert "HL_TEST_PROD_PASSWORD" in issue.message


def test_unset_variable_outside_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HL_TEST_SHARE", raising=False)
    project = project_with_targets(tmp_path, LOCAL_TARGET)
    path = project / "healthlayer.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "buyer_share_target: 0.3", "buyer_share_target: \"{{ env_var('HL_TEST_SHARE') }}\""), encoding="utf-8")

    issue = only_issue(api.validate(project))

    assert issue.code == "template-undefined"
    assert issue.message == "environment variable 'HL_TEST_SHARE' is not set"
    assert issue.location.key_path == ("vars", "buyer_share_target")
    assert issue.location.line == 14


def test_warehouse_check_reads_only(shop_with_data: Path):
    """The DuckDB check opens the file read-only, so its bytes stay the same, and a reader can share it."""
    import duckdb

    database = shop_with_data / "shop.duckdb"
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    reader = duckdb.connect(str(database), read_only=True)
    try:
        issues = api.check_warehouse(shop_with_data, "local")
    finally:
        reader.close()

    assert issues == []
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
