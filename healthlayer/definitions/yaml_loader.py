"""Render a definition file with Jinja, then parse its YAML keeping the position of every node."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import jinja2
import yaml
import yaml.constructor
import yaml.nodes
import yaml.reader

from healthlayer.definitions.issues import Issue, KeyPath, Location
from healthlayer.definitions.templates import (
    MAX_TEMPLATE_CHARACTERS,
    BoundedEnvironment,
    TemplateRejected,
    bounded_output,
    check_template,
    too_deep,
)

MAX_FILE_BYTES = 5 * 1024 * 1024
# Aliases can make a small file expand to billions of nodes, so conversion stops past this count.
MAX_NODES = 200_000
# Maximum length of an integer scalar, in characters. Python cannot convert integers of more than
# 4,300 digits, and YAML 1.1 base-60 integers such as 1:2:3 take time quadratic in their length.
MAX_INTEGER_CHARACTERS = 100
YAML_TAG_PREFIX = "tag:yaml.org,2002:"
# Tags of the values a definition can hold. Others, such as !!binary, !!set or !!python/object,
# build values of other types, which no definition key accepts.
CORE_TAGS = frozenset(YAML_TAG_PREFIX + name for name in ("str", "int", "float", "bool", "null", "timestamp",
                                                           "seq", "map", "merge"))
TEMPLATE_NAME = "<definition>"


@dataclass
class LoadedFile:
    """A parsed definition file: its data and the line and column of each key path."""

    path: Path
    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def location(self, key_path: KeyPath) -> Location:
        """Return the location of a key path, or of its nearest ancestor that has one."""
        path = tuple(key_path)
        while True:
            if path in self.positions:
                line, column = self.positions[path]
                return Location(self.path, line, column, tuple(key_path))
            if not path:
                return Location(self.path, 1, 1, tuple(key_path))
            path = path[:-1]


class _UndefinedVariable(Exception):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


_MISSING = object()


class UnsetTolerantEnviron(dict[str, str]):
    """Environment variables for commands that never connect, such as `validate` in CI.

    env_var() of a variable that is unset and has no default returns a placeholder instead of
    failing, so definitions validate without the warehouse's secrets.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Placeholders returned so far, so that checks can skip values that are not real.
        self.placeholders: set[str] = set()

    def unset_value(self, name: str) -> str:
        # Letters, digits and underscores, so that the placeholder is also a valid table or column name.
        placeholder = f"unset_{name}"
        self.placeholders.add(placeholder)
        return placeholder


def _make_environment(variables: Mapping[str, Any], environ: Mapping[str, str],
                      revealed: set[str] | None = None,
                      placeholders: dict[str, str] | None = None,
                      read_vars: set[str] | None = None) -> jinja2.Environment:
    """Return the template environment; values that env_var() returns are added to `revealed`.

    The names that var() is called with are added to `read_vars`.

    With `placeholders`, each env_var() value in the output text is replaced by a token of letters
    and digits, recorded in `placeholders` (token to value). The YAML parser then never reads the
    value itself, so quotes, backslashes, `#` or line breaks in a secret can neither change it nor
    add keys. `restore_placeholders` puts the values back into the parsed strings.
    """
    values: list[str] = []
    nonce = secrets.token_hex(6)

    def finalize(output: Any) -> Any:
        if placeholders is None or not isinstance(output, str):
            return output
        # Longer values first, so that a value inside another value does not split it.
        for index, value in sorted(enumerate(values), key=lambda item: -len(item[1])):
            if value and value in output:
                token = f"hlenv{nonce}n{index}x"
                placeholders[token] = value
                output = output.replace(value, token)
        return output

    def var(name: str, default: Any = _MISSING) -> Any:
        if read_vars is not None and isinstance(name, str):
            read_vars.add(name)
        if name in variables:
            return variables[name]
        if default is _MISSING:
            raise _UndefinedVariable(
                f"var('{name}') is not defined",
                f"Add '{name}' under 'vars' in healthlayer.yml, pass --var {name}=VALUE, "
                "or give a default: var('name', default).",
            )
        return default

    def env_var(name: str, default: Any = _MISSING) -> Any:
        if name in environ:
            if revealed is not None:
                revealed.add(environ[name])
            values.append(environ[name])
            return environ[name]
        if default is _MISSING:
            if isinstance(environ, UnsetTolerantEnviron):
                return environ.unset_value(name)
            raise _UndefinedVariable(
                f"environment variable '{name}' is not set",
                f"Set {name} in the environment, or give a default: env_var('{name}', default).",
            )
        return default

    return BoundedEnvironment(
        {"var": var, "env_var": env_var},
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=finalize,
    )


def _template_line(error: BaseException) -> int | None:
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == TEMPLATE_NAME:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def render_template(
    text: str,
    path: Path,
    variables: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    revealed: set[str] | None = None,
    placeholders: dict[str, str] | None = None,
    read_vars: set[str] | None = None,
) -> tuple[str | None, list[Issue]]:
    """Render the Jinja in a definition file; return the text, or None and the issues.

    With `placeholders`, env_var() values appear in the text as tokens (see `_make_environment`).
    """
    if "{{" not in text and "{%" not in text and "{#" not in text:
        return text, []
    environment = _make_environment(variables, os.environ if environ is None else environ, revealed, placeholders,
                                    read_vars)
    try:
        parsed = environment.parse(text)
        check_template(parsed)
        template = environment.from_string(parsed)
        template.filename = TEMPLATE_NAME
        rendered = bounded_output(template.generate())
    except RecursionError:
        rejected = too_deep(None)
        return None, [Issue(rejected.code, str(rejected), Location(path), rejected.hint)]
    except TemplateRejected as error:
        return None, [Issue(error.code, str(error), Location(path, error.line), error.hint)]
    except jinja2.TemplateSyntaxError as error:
        location = Location(path, error.lineno)
        return None, [Issue("template-syntax", f"invalid Jinja: {error.message}", location,
                            "Jinja expressions look like {{ var('name', default) }}.")]
    except _UndefinedVariable as error:
        location = Location(path, _template_line(error))
        return None, [Issue("template-undefined", str(error), location, error.hint)]
    except jinja2.exceptions.SecurityError as error:
        location = Location(path, _template_line(error))
        return None, [Issue("template-unsafe", f"the template tried an unsafe operation: {error}",
                            location, "Templates may only call var() and env_var().")]
    except jinja2.UndefinedError as error:
        location = Location(path, _template_line(error))
        return None, [Issue("template-undefined", f"undefined name in template: {error.message}",
                            location, "Only var() and env_var() are available in templates.")]
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as error:
        location = Location(path, _template_line(error))
        return None, [Issue("template-error", f"the template failed: {error}", location,
                            "Simplify the expression; templates may only call var() and env_var().")]
    if rendered is None:
        return None, [Issue("file-too-large", f"the rendered file has more than {MAX_TEMPLATE_CHARACTERS:,} "
                            "characters", Location(path),
                            "Check the Jinja expressions of this file; they expand to too much text.")]
    return rendered, []


class _Converter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.positions: dict[KeyPath, tuple[int, int]] = {}
        self.issues: list[Issue] = []
        self.nodes = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.nodes.Node, key_path: KeyPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge
        self.positions[key_path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if node.tag not in CORE_TAGS:
            tag = node.tag.replace(YAML_TAG_PREFIX, "!!")
            self._issue("yaml-tag", f"the YAML tag '{tag}' is not supported", node, key_path,
                        "Remove the tag; write the value as text, a number, true or false, a list or a mapping.")
            return None
        if isinstance(node, yaml.nodes.MappingNode):
            return self._convert_mapping(node, key_path)
        if isinstance(node, yaml.nodes.SequenceNode):
            return [self.convert(item, key_path + (index,)) for index, item in enumerate(node.value)]
        return self._convert_scalar(node, key_path)

    def _convert_scalar(self, node: yaml.nodes.Node, key_path: KeyPath) -> Any:
        if node.tag == YAML_TAG_PREFIX + "int" and len(node.value) > MAX_INTEGER_CHARACTERS:
            self._issue("yaml-value", f"the number {node.value[:20]}... has more than {MAX_INTEGER_CHARACTERS} "
                        "characters", node, key_path, "Write a shorter number, or quote the value to keep it as text.")
            return None
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, KeyError, AttributeError, OverflowError) as error:
            # PyYAML raises these for values that match a tag's pattern but not its range, such as
            # the date 2024-13-45. It also raises them for text under an explicit tag that does not
            # fit the tag at all, such as `!!int abc`, or `!!timestamp soon` (an AttributeError).
            tag = node.tag.replace(YAML_TAG_PREFIX, "!!")
            text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            detail = f": {error}" if isinstance(error, (ValueError, OverflowError)) else ""
            self._issue("yaml-value", f"invalid {tag} value {text!r}{detail}", node, key_path,
                        "Correct the value, or quote it to keep it as text.")
            return None
        if isinstance(value, str) and any(0xD800 <= ord(character) <= 0xDFFF for character in value):
            # An escape such as "\ud83d" yields half of a UTF-16 pair, which no UTF-8 text can contain,
            # so the value could not be sent to a warehouse.
            self._issue("yaml-value", "the text contains a UTF-16 surrogate escape (\\ud800 to \\udfff)", node,
                        key_path, "Write the character itself, or escape it as \\U followed by 8 hex digits.")
            return None
        return value

    def _convert_mapping(self, node: yaml.nodes.MappingNode, key_path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._issue("yaml-merge-key", "YAML merge keys ('<<') are not supported",
                            key_node, key_path, "Write the keys out in full.")
                continue
            key = self.convert(key_node, key_path + ("<key>",))
            if not isinstance(key, str):
                message, hint = _key_type_problem(key_node, key, key_path)
                self._issue("yaml-key-type", message, key_node, key_path, hint)
                continue
            if key in result:
                first_line = self.positions.get(key_path + (key,), (None, None))[0]
                self._issue("yaml-duplicate-key", f"key '{key}' appears twice in this mapping "
                            f"(first on line {first_line})", key_node, key_path + (key,),
                            "Remove one of the two entries.")
                continue
            result[key] = self.convert(value_node, key_path + (key,))
            self.positions[key_path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        self.positions.pop(key_path + ("<key>",), None)
        return result

    def _issue(self, code: str, message: str, node: yaml.nodes.Node, key_path: KeyPath, hint: str) -> None:
        location = Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1, key_path)
        self.issues.append(Issue(code, message, location, hint))


def _key_type_problem(key_node: yaml.nodes.Node, key: Any, key_path: KeyPath) -> tuple[str, str]:
    """Return the message and hint for a mapping key that YAML reads as something other than text."""
    written = key_node.value if isinstance(key_node, yaml.nodes.ScalarNode) and key_node.value else repr(key)
    if key is None:
        kind = "null, no value"
    elif isinstance(key, bool):
        kind = "a boolean"
    elif isinstance(key, (int, float)):
        kind = "a number"
    else:
        kind = f"a {type(key).__name__}"
    if key_path and key_path[-1] == "segment_weights":
        message = (f"segment_weights key {written} is not text: each key is the text of a segment value, and "
                   f"YAML reads {written} as {kind}")
        hint = f"Quote the key, as in '{written}': {{...}}."
        if key is None:
            hint += " An account whose segment value is NULL takes the categories' own weights, so NULL needs no key."
        return message, hint
    return (f"mapping key {written} is not text: YAML reads it as {kind}",
            f"Quote the key, as in '{written}':, or use a text key.")


class _TooLarge(Exception):
    pass


def parse_yaml(text: str, path: Path) -> tuple[LoadedFile | None, list[Issue]]:
    """Parse one YAML document into plain data with positions; return issues instead of raising."""
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except RecursionError:
        return None, [Issue("yaml-too-deep", "the YAML is nested too deeply", Location(path),
                            "Flatten the structure; definitions need only a few levels.")]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = error.problem or error.context or "invalid YAML"
        return None, [Issue("yaml-syntax", f"invalid YAML: {problem}", Location(path, line, column),
                            "Check indentation, colons and quotes on this line and the one above.")]
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        character = f"U+{error.character:04X}" if isinstance(error.character, int) else repr(error.character)
        return None, [Issue("yaml-syntax", f"invalid YAML: the character {character} is not allowed in YAML text",
                            Location(path, line), "Remove control characters from the file.")]
    except yaml.YAMLError as error:
        return None, [Issue("yaml-syntax", f"invalid YAML: {error}", Location(path),
                            "Check that the file is YAML text.")]
    documents = [document for document in documents if document is not None]
    if len(documents) > 1:
        line = documents[1].start_mark.line + 1
        return None, [Issue("yaml-multiple-documents", "the file holds more than one YAML document",
                            Location(path, line), "Keep one document per file (remove '---').")]
    if not documents:
        return LoadedFile(path, {}), []

    converter = _Converter(path)
    try:
        data = converter.convert(documents[0], ())
    except RecursionError:
        return None, [Issue("yaml-too-deep", "the YAML is nested too deeply, or an alias refers to itself",
                            Location(path), "Remove recursive aliases and flatten the structure.")]
    except _TooLarge:
        return None, [Issue("yaml-too-large", f"the file expands to more than {MAX_NODES:,} YAML nodes",
                            Location(path), "Remove aliases that repeat large structures, or split the file.")]
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark else None
        return None, [Issue("yaml-value", f"invalid YAML value: {error.problem}", Location(path, line),
                            "Quote the value to keep it as text.")]
    if converter.issues:
        return LoadedFile(path, data, converter.positions), converter.issues
    return LoadedFile(path, data, converter.positions), []


def load_file(
    path: Path,
    variables: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    revealed: set[str] | None = None,
    read_vars: set[str] | None = None,
) -> tuple[LoadedFile | None, list[Issue]]:
    """Read, render and parse one definition file.

    env_var() values go into `revealed`, and the names var() reads into `read_vars`.
    """
    try:
        size = path.stat().st_size
    except OSError as error:
        return None, [Issue("file-unreadable", f"cannot read the file: {error.strerror}", Location(path),
                            "Check that the path exists and is readable.")]
    if size > MAX_FILE_BYTES:
        return None, [Issue("file-too-large", f"the file has {size:,} bytes, more than the "
                            f"{MAX_FILE_BYTES:,} a definition file may have", Location(path),
                            "Split the definitions into several files.")]
    try:
        raw = path.read_bytes()
    except OSError as error:
        # For example, permission denied: the size check above reads only the directory entry.
        return None, [Issue("file-unreadable", f"cannot read the file: {error.strerror}", Location(path),
                            "Check that the path exists and is readable.")]
    if b"\x00" in raw:
        return None, [Issue("file-binary", "the file is binary, not YAML text", Location(path),
                            "Point the project at YAML files only.")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return None, [Issue("file-encoding", "the file is not valid UTF-8", Location(path, line),
                            "Save the file as UTF-8.")]
    if "{%" in text:
        line = text[: text.index("{%")].count("\n") + 1
        return None, [Issue("template-statement", "Jinja statements ({% ... %}) are not supported", Location(path, line),
                            "Use expressions only: {{ var('name', default) }} or {{ env_var('NAME') }}.")]
    placeholders: dict[str, str] = {}
    rendered, issues = render_template(text, path, variables, environ, revealed, placeholders, read_vars)
    if rendered is None:
        return None, issues
    if len(rendered) > MAX_FILE_BYTES:
        return None, [Issue("file-too-large", f"the rendered file has {len(rendered):,} characters, more than the "
                            f"{MAX_FILE_BYTES:,} a definition file may have", Location(path),
                            "Check the Jinja expressions of this file; they expand to too much text.")]
    loaded, issues = parse_yaml(rendered, path)
    if loaded is not None and placeholders:
        loaded.data = restore_placeholders(loaded.data, placeholders)
    return loaded, issues


def restore_placeholders(data: Any, placeholders: Mapping[str, str]) -> Any:
    """Return parsed data with every placeholder token in its strings replaced by its env_var() value."""
    if isinstance(data, str):
        for token, value in placeholders.items():
            if token in data:
                data = data.replace(token, value)
        return data
    if isinstance(data, dict):
        return {restore_placeholders(key, placeholders): restore_placeholders(value, placeholders)
                for key, value in data.items()}
    if isinstance(data, list):
        return [restore_placeholders(item, placeholders) for item in data]
    return data
