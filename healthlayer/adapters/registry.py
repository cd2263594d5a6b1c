"""Find adapters: built-in ones and third-party ones registered under the `healthlayer.adapters` entry point."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from healthlayer.adapters.base import Adapter
from healthlayer.errors import HealthlayerError

ENTRY_POINT_GROUP = "healthlayer.adapters"
BUILT_IN = {
    "duckdb": "healthlayer.adapters.duckdb:DuckDBAdapter",
    "spark": "healthlayer.adapters.spark:SparkAdapter",
}


def available_adapters() -> dict[str, str]:
    """Return adapter type names mapped to their import paths, entry points over built-ins."""
    found = dict(BUILT_IN)
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found[entry_point.name] = entry_point.value
    return found


def adapter_class(type_name: str) -> type[Adapter]:
    adapters = available_adapters()
    if type_name not in adapters:
        raise HealthlayerError(f"no adapter for target type '{type_name}'; installed: {', '.join(sorted(adapters))}")
    module_name, _, attribute = adapters[type_name].partition(":")
    module = __import__(module_name, fromlist=[attribute])
    return getattr(module, attribute)


def connect(type_name: str, settings: dict[str, Any], project_root: Path, must_exist: bool = False) -> Adapter:
    return adapter_class(type_name)(settings, project_root, must_exist)
