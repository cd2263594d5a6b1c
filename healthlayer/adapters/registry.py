"""Find adapters: built-in ones and third-party ones registered under the `healthlayer.adapters` entry point.

A third-party package registers an `Adapter` subclass in its own pyproject.toml:

    [project.entry-points."healthlayer.adapters"]
    mywarehouse = "healthlayer_mywarehouse:MyWarehouseAdapter"

and a project selects it with `type: mywarehouse` in a target.
"""

from __future__ import annotations

import importlib
import importlib.util
from importlib import metadata
from pathlib import Path
from typing import Any

from healthlayer.adapters.base import Adapter
from healthlayer.errors import HealthlayerError

ENTRY_POINT_GROUP = "healthlayer.adapters"
BUILT_IN = {
    "duckdb": "healthlayer.adapters.duckdb:DuckDBAdapter",
    "clickhouse": "healthlayer.adapters.clickhouse:ClickHouseAdapter",
    "postgres": "healthlayer.adapters.postgres:PostgresAdapter",
    "spark": "healthlayer.adapters.spark:SparkAdapter",
    "snowflake": "healthlayer.adapters.snowflake:SnowflakeAdapter",
}


def available_adapters() -> dict[str, str]:
    """Return adapter type names mapped to their import paths, entry points over built-ins."""
    found = dict(BUILT_IN)
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found[entry_point.name] = entry_point.value
    return found


def adapter_class(type_name: str) -> type[Adapter]:
    """Import the adapter class of a target type; raise HealthlayerError when it cannot be loaded."""
    adapters = available_adapters()
    if type_name not in adapters:
        raise HealthlayerError(f"no adapter for target type '{type_name}'; installed: {', '.join(sorted(adapters))}")
    location = adapters[type_name]
    module_name, _, attribute = location.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        install = install_hint(type_name) if location == BUILT_IN.get(type_name) \
            else "install the package that provides it"
        raise HealthlayerError(f"the '{type_name}' adapter ({location}) cannot be imported: {error}; "
                               f"{install}") from None
    found = getattr(module, attribute, None)
    if not (isinstance(found, type) and issubclass(found, Adapter)):
        raise HealthlayerError(f"the '{type_name}' adapter entry point {location} is not a subclass of "
                               "healthlayer.adapters.base.Adapter; fix the entry point of the package that registers it")
    return found


def install_hint(type_name: str) -> str:
    """Return how to install the driver of an adapter type: the extra of a built-in one, else its package."""
    return f"pip install 'healthlayer[{type_name}]'" if type_name in BUILT_IN else "install its package"


def missing_driver(adapter: type[Adapter]) -> str | None:
    """Return the driver module an adapter needs and cannot import, or None when it is installed."""
    if adapter.driver_module is None:
        return None
    try:
        found = importlib.util.find_spec(adapter.driver_module)
    except ModuleNotFoundError:
        found = None
    return adapter.driver_module if found is None else None


def connect(type_name: str, settings: dict[str, Any], project_root: Path, must_exist: bool = False) -> Adapter:
    adapter = adapter_class(type_name)
    try:
        return adapter(settings, project_root, must_exist)
    except ModuleNotFoundError as error:
        raise HealthlayerError(f"the '{type_name}' adapter needs the Python package '{error.name}', which is not "
                               f"installed; {install_hint(type_name)}") from None
