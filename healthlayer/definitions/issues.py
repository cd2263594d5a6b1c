"""Problems found in a project, with the place in the YAML where they occur."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal

Severity = Literal["error", "warning"]
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Location:
    """A place in a definition file: 1-based line and column, and the key path to the node."""

    file: Path | None
    line: int | None = None
    column: int | None = None
    key_path: KeyPath = ()

    def key_text(self) -> str:
        text = ""
        for part in self.key_path:
            if isinstance(part, int):
                text += f"[{part}]"
            else:
                text += f".{part}" if text else part
        return text


@dataclass(frozen=True)
class Issue:
    """One problem: a stable code, its severity, where it is, what is wrong and how to fix it."""

    code: str
    message: str
    location: Location = field(default_factory=lambda: Location(None))
    hint: str | None = None
    severity: Severity = "error"

    def format(self, root: Path | None = None) -> str:
        """Format the issue as `file:line:column: severity code key: message (hint)`."""
        place = _display_path(self.location.file, root)
        if self.location.line is not None:
            place += f":{self.location.line}"
            if self.location.column is not None:
                place += f":{self.location.column}"
        key = self.location.key_text()
        text = f"{place}: {self.severity} {self.code}"
        if key:
            text += f" at {key}"
        text += f": {self.message}"
        if self.hint:
            text += f" Hint: {self.hint}"
        return text

    def as_dict(self, root: Path | None = None) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": _display_path(self.location.file, root),
            "line": self.location.line,
            "column": self.location.column,
            "key": self.location.key_text(),
            "message": self.message,
            "hint": self.hint,
        }


def _display_path(path: Path | None, root: Path | None) -> str:
    if path is None:
        return "<project>"
    if root is not None:
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except (ValueError, OSError, RuntimeError):
            # Outside the root, or not resolvable: a symbolic link loop raises RuntimeError on Python 3.11.
            pass
    return str(path)


class InvalidValue(ValueError):
    """A value that a definition model rejects, with a hint for the fix and optionally an issue code."""

    def __init__(self, message: str, hint: str, code: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
        self.code = code


def closest_name(name: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to a misspelled name, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return a hint naming the closest candidate, or listing the valid names."""
    names = sorted(set(candidates))
    match = closest_name(name, names)
    if match is not None:
        return f"Did you mean '{match}'?"
    if not names:
        return "None is defined."
    listed = ", ".join(f"'{candidate}'" for candidate in names[:12])
    more = f" and {len(names) - 12} more" if len(names) > 12 else ""
    return f"Valid names: {listed}{more}."
