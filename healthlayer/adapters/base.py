"""The interface every warehouse adapter implements."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from healthlayer.compiler.plan import Plan


@dataclass(frozen=True)
class DeployedView:
    name: str
    kind: str


@dataclass(frozen=True)
class DeployResult:
    """Result of a deploy: the schema, the views created, the views dropped, and the database file if any."""

    schema: str
    views: tuple[DeployedView, ...]
    dropped: tuple[str, ...]
    database: Path | None = None


class Adapter(abc.ABC):
    """A connection to one warehouse: run statements, read rows, introspect and deploy a plan."""

    dialect: ClassVar[str]
    # Marker text at the start of the comment on every object healthlayer creates.
    OWNER_MARK: ClassVar[str] = "healthlayer:"

    def __init__(self, settings: dict[str, Any], project_root: Path, must_exist: bool = False) -> None:
        """Connect to the target; with `must_exist`, fail instead of creating an empty database."""
        self.settings = settings
        self.project_root = project_root

    @property
    @abc.abstractmethod
    def schema(self) -> str: ...

    @abc.abstractmethod
    def execute(self, statement: str) -> None: ...

    @abc.abstractmethod
    def fetch(self, statement: str, parameters: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        ...

    @abc.abstractmethod
    def timestamp_types(self, plan_sources: dict[str, tuple[str, str]]) -> dict[str, bool]:
        """Return, per source name, whether its timestamp column has a time zone.

        `plan_sources` maps source names to (FROM clause SQL, timestamp column).
        """

    @abc.abstractmethod
    def deploy(self, plan: Plan) -> DeployResult: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
