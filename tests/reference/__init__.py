"""An independent plain-Python implementation of docs/semantics.md, used to check deployed views.

It computes every view from lists of row dicts and definition dicts that mirror the YAML of
docs/definitions.md, without SQL or a database engine. `ReferenceProject` is the entry point.
"""

from .project import ReferenceProject

__all__ = ["ReferenceProject"]
