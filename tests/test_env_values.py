"""Values of env_var() reach the definitions exactly as set, whatever characters they contain."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthlayer.api import load, target_settings

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
