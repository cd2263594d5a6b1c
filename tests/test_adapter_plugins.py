"""Third-party adapters register under the `healthlayer.adapters` entry point group.

The tests install a plugin the way pip would leave it, a module beside a `.dist-info` folder with
an entry_points.txt, into a folder put on sys.path, so importlib.metadata finds it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, SHOP_DATABASE

from healthlayer import cli
from healthlayer.adapters.registry import adapter_class, available_adapters
from healthlayer.api import deploy_project
from healthlayer.errors import HealthlayerError

ENTRY_POINTS = """\
[healthlayer.adapters]
renamed = healthlayer_renamed_duckdb:RenamedDuckDBAdapter
missing = healthlayer_no_such_module:Adapter
wrong = healthlayer_renamed_duckdb:NOT_AN_ADAPTER
needsdriver = healthlayer_renamed_duckdb:NeedsDriverAdapter
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the plugin fixture into a folder on sys.path and return that folder."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(FIXTURES / "plugin" / "healthlayer_renamed_duckdb.py", site)
    dist_info = site / "healthlayer_renamed_duckdb-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: healthlayer-renamed-duckdb\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    return site


def test_plugin_listed(plugin):
    result = CliRunner().invoke(cli.cli, ["adapters"])

    assert result.exit_code == 0, result.output
    assert "renamed\thealthlayer_renamed_duckdb:RenamedDuckDBAdapter\tready (dialect duckdb)\n" in result.stdout
    assert "duckdb\thealthlayer.adapters.duckdb:DuckDBAdapter\tready (dialect duckdb)\n" in result.stdout
    assert "missing\thealthlayer_no_such_module:Adapter\tunavailable: the 'missing' adapter" in result.stdout
    assert ("needsdriver\thealthlayer_renamed_duckdb:NeedsDriverAdapter\tdriver missing: Python package "
            "'healthlayer_no_such_driver' is not installed; install its package\n") in result.stdout


def test_plugin_deploys(plugin, shop_with_data):
    config = shop_with_data / "healthlayer.yml"
    config.write_text(config.read_text().replace("type: duckdb", "type: renamed").replace("path:", "database:"))

    deployment = deploy_project(shop_with_data)

    assert deployment.database == shop_with_data / SHOP_DATABASE
    assert "account_health" in {view.name for view in deployment.result.views}


def test_plugin_missing_module(plugin):
    with pytest.raises(HealthlayerError, match="'missing' adapter .* cannot be imported.*install the package"):
        adapter_class("missing")


def test_plugin_not_adapter(plugin):
    with pytest.raises(HealthlayerError, match="not a subclass of healthlayer.adapters.base.Adapter"):
        adapter_class("wrong")


def test_unknown_adapter_type():
    with pytest.raises(HealthlayerError, match="no adapter for target type 'nosuch'; installed: .*duckdb"):
        adapter_class("nosuch")
    assert "nosuch" not in available_adapters()


def test_plugin_driver_missing(plugin, shop_with_data):
    config = shop_with_data / "healthlayer.yml"
    config.write_text(config.read_text().replace("type: duckdb", "type: needsdriver"))

    with pytest.raises(HealthlayerError) as raised:
        deploy_project(shop_with_data)

    assert str(raised.value) == ("the 'needsdriver' adapter needs the Python package 'healthlayer_no_such_driver', "
                                 "which is not installed; install its package")
