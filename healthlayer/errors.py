"""Error types shared by every layer, mapped to exit codes by the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from healthlayer.definitions.issues import Issue


class HealthlayerError(Exception):
    """A problem caused by user input or the warehouse, reported without a traceback."""


class DefinitionError(HealthlayerError):
    """The project's definitions have one or more errors."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        errors = [issue for issue in issues if issue.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in the project definitions")


class UnsupportedError(HealthlayerError):
    """A definition uses a construct that the target dialect or engine cannot run."""


class WarehouseError(HealthlayerError):
    """The warehouse rejected a statement or a connection."""


class RelationNotFound(WarehouseError):
    """A table, view or file that a source names does not exist, or the target's user cannot see it."""


class OwnershipError(HealthlayerError):
    """A deploy would replace or drop an object that healthlayer did not create."""
