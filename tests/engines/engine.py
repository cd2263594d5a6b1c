"""What a parity test needs from an engine: a target, a loader and a value normaliser."""

from __future__ import annotations

import abc
from typing import Any

import pyarrow as pa

from engines.harness import python_value


class Engine(abc.ABC):
    """One warehouse engine that the parity tests deploy to.

    Subclasses start or connect to the engine once per test session.
    """

    # The adapter type, as written in a project's target.
    adapter_type: str

    @abc.abstractmethod
    def settings(self, schema: str) -> dict[str, Any]:
        """Return the target settings that deploy into `schema`."""

    @abc.abstractmethod
    def load(self, schema: str, tables: dict[str, pa.Table]) -> None:
        """Create `schema` if needed and replace its tables of these names with these rows."""

    def normalise(self, column: str, value: Any) -> Any:
        """Bring a value read from the engine to the types of the reference."""
        return python_value(value)
