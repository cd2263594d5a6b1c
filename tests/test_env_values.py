"""Values of env_var() reach the definitions exactly as set, whatever characters they contain."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from healthlayer import cli
from healthlayer.api import deploy_project, load, target_settings
from healthlayer.errors import HealthlayerError

PROJECT = """\
name: envs
targets:
  warehouse:
    type: postgres
    password: "{{ env_var('HL_TEST_PASSWORD') }}"
    user: {{ env_var('HL_TEST_USER') }}
    port: {{ env_var('HL_TEST_PORT') }}
    dbname: "db_{{ env_var('HL_TEST_USER') }}"
"""

VALUES = [
    "Pass\\tword9",
    'ab\\tcd"ef',
    "abc\\def#",
    "*Secr3tPass",
    'x"\n    Secr3tKey: "y',
    "it's # not a comment",
    "{{ not a template }}",
    "&anchor",
    "hlenv",
]


def write_project(folder: Path) -> Path:
    (folder / "healthlayer.yml").write_text(PROJECT)
    return folder


@pytest.mark.parametrize("password", VALUES)
def test_password_arrives_unchanged(tmp_path, monkeypatch, password):
    monkeypatch.setenv("HL_TEST_PASSWORD", password)
    monkeypatch.setenv("HL_TEST_USER", "ann")
    monkeypatch.setenv("HL_TEST_PORT", "5433")

    project, issues = load(write_project(tmp_path))
    _, adapter_type, settings = target_settings(project, None)

    assert issues == []
    assert adapter_type == "postgres"
    assert settings["password"] == password
    assert set(settings) == {"password", "user", "port", "dbname"}


@pytest.mark.parametrize("user", ["*ann", "ann: bob", "[ann]", "ann\nport: 1"])
def test_unquoted_value_stays_one_string(tmp_path, monkeypatch, user):
    monkeypatch.setenv("HL_TEST_PASSWORD", "secret")
    monkeypatch.setenv("HL_TEST_USER", user)
    monkeypatch.setenv("HL_TEST_PORT", "5433")

    project, _ = load(write_project(tmp_path))
    _, _, settings = target_settings(project, None)

    assert settings["user"] == user
    assert settings["dbname"] == f"db_{user}"
    assert settings["port"] == "5433"


def test_validate_without_secrets(shop_project, monkeypatch):
    monkeypatch.delenv("HL_TEST_PASSWORD", raising=False)
    config = shop_project / "healthlayer.yml"
    config.write_text(config.read_text().replace(
        "    path: shop.duckdb\n", "    path: \"{{ env_var('HL_TEST_PASSWORD') }}.duckdb\"\n"))

    result = CliRunner().invoke(cli.cli, ["validate", "--project", str(shop_project)])

    assert result.exit_code == 0, result.output
    assert "No problems found" in result.output


def test_deploy_needs_unset_secret(shop_project, monkeypatch):
    monkeypatch.delenv("HL_TEST_PASSWORD", raising=False)
    config = shop_project / "healthlayer.yml"
    config.write_text(config.read_text().replace(
        "    path: shop.duckdb\n", "    path: \"{{ env_var('HL_TEST_PASSWORD') }}.duckdb\"\n"))

    with pytest.raises(HealthlayerError) as raised:
        deploy_project(shop_project)

    assert str(raised.value) == ("target 'local' reads the environment variable(s) HL_TEST_PASSWORD in "
                                 "healthlayer.yml, which are not set; set them, or give a default: "
                                 "env_var('NAME', default)")
