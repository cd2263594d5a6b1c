"""Hostile definitions on copies of tests/fixtures/shop: each gets an issue, or compiles to SQL that quotes it.

The cases cover templates that try to escape the sandbox or allocate without bound, and YAML
tags, numbers and encodings that PyYAML or Python reject. They also cover paths the operating
system cannot look up, numbers that overflow, filters that try to run other SQL, and names that
are keywords in some dialect. Inputs built to be expensive must also finish in FAST_SECONDS and, for templates, stay
under MAX_TEMPLATE_MEMORY of Python allocations. The last test runs the installed command on a
sample of fuzz cases (tests/fuzz/fuzz_definitions.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import duckdb
import pytest
import sqlglot
from conftest import SHOP_DATABASE
from fuzz import hostile
from fuzz.fuzz_definitions import generate, write_case
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from healthlayer import api, cli
from healthlayer.compiler.render import DIALECTS
from healthlayer.definitions.models import COLUMN_PATTERN
from healthlayer.definitions.issues import Issue
from healthlayer.definitions.yaml_loader import load_file, render_template

ENGAGEMENT = "models/engagement.yml"
HEALTH = "models/health.yml"
ACCOUNT_ALERTS = "models/account_alerts.yml"
SOURCES = "models/sources.yml"
PROJECT_FILE = "healthlayer.yml"
TEMPLATE = "{{ var('buyer_share_target') }}"
TEMPLATE_LINE = 31
BUYER_FILTER = 'filter: "amount > 0"'
FILTER_KEY = ("engagement", "tiers", 1, "filter")
FAST_SECONDS = 5.0
MAX_TEMPLATE_MEMORY = 64 * 1024 * 1024
HEALTHLAYER = Path(sys.executable).parent / "healthlayer"
FUZZ_SEED = 7
CLI_SAMPLE = 12


def replace_text(project: Path, relative: str, old: str, new: str) -> None:
    path = project / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relative}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def validate_timed(project: Path) -> list[Issue]:
    started = time.monotonic()
    issues = api.validate(project)
    assert time.monotonic() - started < FAST_SECONDS
    return issues


def only_issue(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, "\n".join(issue.format() for issue in issues)
    return issues[0]


def yaml_quoted(text: str) -> str:
    """Write text as a YAML double-quoted string, escaping what YAML does not allow as it is."""
    def escape(character: str) -> str:
        code = ord(character)
        if character in '"\\':
            return "\\" + character
        if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000:
            return character
        return f"\\U{code:08x}"
    return '"' + "".join(escape(character) for character in text) + '"'


def assert_located(issue: Issue, file: str) -> None:
    assert issue.severity == "error"
    assert issue.location.file is not None
    assert issue.location.file.name == file
    assert issue.message
    assert issue.hint


# Templates: only var() and env_var(), a few filters and tests, bounded sizes.

DISALLOWED_FILTERS = ["center(1000000000)", "indent(1000000000)", "wordwrap(1)", "format('x')", "join('y' * 9999)",
                      "replace('', 'y' * 9999)", "truncate(1000000000)", "list", "sort", "map('upper')", "sum",
                      "batch(3)", "slice(3)", "groupby('x')", "attr('x')", "random", "unique", "xmlattr",
                      "urlize", "pprint", "striptags", "filesizeformat", "escape", "dictsort", "items"]


@pytest.mark.parametrize("name", DISALLOWED_FILTERS)
def test_template_filter_rejected(shop_project: Path, name: str):
    replace_text(shop_project, ENGAGEMENT, TEMPLATE, f"{{{{ 'x'|{name} }}}}")

    issue = only_issue(validate_timed(shop_project))

    assert issue.code == "template-unsafe"
    assert issue.message == f"the filter '{name.split('(')[0]}' is not allowed in templates"
    assert issue.hint.startswith("Allowed filters: abs, capitalize, count, d, default,")
    assert issue.location.line == TEMPLATE_LINE
    assert_located(issue, "engagement.yml")


TEMPLATE_CASES = {
    "str-method": ("{{ 'x'.ljust(1000000000) }}", "template-unsafe",
                   "templates may only call var() and env_var(), not methods"),
    "str-format": ("{{ '{:>1000000000}'.format(1) }}", "template-unsafe",
                   "templates may only call var() and env_var(), not methods"),
    "percent-format": ("{{ '%0999999999d' % 1 }}", "template-unsafe",
                       "the template tried an unsafe operation: string formatting with '%' is not allowed in "
                       "templates"),
    "self": ("{{ self }}", "template-undefined", "undefined name in template: 'self' is undefined"),
    "self-context": ("{{ self._TemplateReference__context }}", "template-undefined",
                     "undefined name in template: 'self' is undefined"),
    "range": ("{{ range(1000000000) }}", "template-undefined", "undefined name in template: 'range' is undefined"),
    "cycler": ("{{ cycler }}", "template-undefined", "undefined name in template: 'cycler' is undefined"),
    "globals-os": ("{{ env_var.__globals__['os'] }}", "template-unsafe",
                   "the template tried an unsafe operation: access to attribute '__globals__' of 'function' "
                   "object is unsafe."),
    "call-unpacked": ("{{ var(*['buyer_share_target']) }}", "template-unsafe",
                      "var() takes its arguments written out, not with * or **"),
    "test-divisible": ("{{ 1 is divisibleby 0 }}", "template-unsafe", "the test 'divisibleby' is not allowed in "
                       "templates"),
    "nested-parentheses": ("{{ " + "(" * 200 + "1" + ")" * 200 + " }}", "template-unsafe",
                           "the template nests expressions more than 32 levels deep"),
    "nested-lists": ("{{ " + "[" * 5000 + "]" * 5000 + " }}", "template-unsafe",
                     "the template nests expressions more than 32 levels deep"),
    "filter-chain": ("{{ 1" + "|abs" * 5000 + " }}", "template-unsafe",
                     "the template nests expressions more than 32 levels deep"),
    "concatenated": ("{{ " + " ~ ".join(["('x' * 9999)"] * 600) + " }}", "template-unsafe",
                     "the template tried an unsafe operation: the template's expressions produce more than "
                     "5,242,880 characters"),
    "power-tower": ("{{ 9 ** 9 ** 9 }}", "template-unsafe", None),
    "import": ("{% import 'x' as y %}", "template-statement", "Jinja statements ({% ... %}) are not supported"),
    "extends": ("{% extends 'base.yml' %}", "template-statement", "Jinja statements ({% ... %}) are not supported"),
    "raw": ("{% raw %}x{% endraw %}", "template-statement", "Jinja statements ({% ... %}) are not supported"),
}


@pytest.mark.parametrize("name", list(TEMPLATE_CASES))
def test_template_rejected(shop_project: Path, name: str):
    text, code, message = TEMPLATE_CASES[name]
    replace_text(shop_project, ENGAGEMENT, TEMPLATE, text)

    issue = only_issue(validate_timed(shop_project))

    assert issue.code == code
    if message is not None:
        assert issue.message == message
    assert issue.location.line in (TEMPLATE_LINE, None)
    assert_located(issue, "engagement.yml")


def test_template_many_outputs(shop_project: Path):
    # Each expression is small, but together they would produce 600 * 9,999 characters.
    replace_text(shop_project, ENGAGEMENT, TEMPLATE, "0.3\n" + "# {{ 'x' * 9999 }}\n" * 600)

    issue = only_issue(validate_timed(shop_project))

    assert issue.code == "template-unsafe"
    assert "produce more than 5,242,880 characters" in issue.message


HEAVY_TEMPLATES = [
    "{{ 'x'.ljust(1000000000) }}", "{{ 'x'|center(1000000000) }}", "{{ '%0999999999d' % 1 }}",
    "{{ ('x' * 9999)|replace('', 'y' * 9999) }}", "{{ " + " ~ ".join(["('x' * 9999)"] * 3000) + " }}",
    "# {{ 'x' * 9999 }}\n" * 3000, "{{ " + " ~ ".join(["(('<' * 9999)|tojson)"] * 100) + " }}",
    "{{ 'x' * 100000000000 }}", "{{ [1] * 10000 * 10000 }}", "{{ 10 ** 64 ** 64 }}",
]


@pytest.mark.parametrize("text", HEAVY_TEMPLATES, ids=range(len(HEAVY_TEMPLATES)))
def test_template_memory_bounded(text: str):
    tracemalloc.start()
    started = time.monotonic()
    try:
        rendered, issues = render_template(text, Path("heavy.yml"), {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert rendered is None
    assert [issue.code for issue in issues] in (["template-unsafe"], ["template-error"])
    assert peak < MAX_TEMPLATE_MEMORY
    assert time.monotonic() - started < FAST_SECONDS


def test_template_allowed_filters(shop_project: Path):
    replace_text(shop_project, ENGAGEMENT, TEMPLATE,
                 "{{ (var('buyer_share_target')|string|trim|float|round(2)|abs|default(0.1)) }}")

    project, issues = api.load(shop_project)

    assert issues == []
    assert project.tier_mix["tier_mix_daily"].target.min_share == 0.3


# YAML values, tags, encodings and structure.

YAML_CASES = {
    "python-object": ("stickiness: !!python/object/apply:os.system ['id']\n", "yaml-tag",
                      "the YAML tag '!!python/object/apply:os.system' is not supported", 1),
    "binary": ("stickiness:\n  - name: !!binary c3RpY2t5\n", "yaml-tag", "the YAML tag '!!binary' is not supported",
               2),
    "set": ("stickiness: !!set {a, b}\n", "yaml-tag", "the YAML tag '!!set' is not supported", 1),
    "omap": ("stickiness: !!omap [a: 1]\n", "yaml-tag", "the YAML tag '!!omap' is not supported", 1),
    "local-tag": ("stickiness: !secret x\n", "yaml-tag", "the YAML tag '!secret' is not supported", 1),
    "bad-date": ("x: 2024-02-30\n", "yaml-value", "invalid !!timestamp value '2024-02-30': day is out of range for "
                 "month", 1),
    "bad-int": ("x: !!int abc\n", "yaml-value", "invalid !!int value 'abc': invalid literal for int() with base 10: "
                "'abc'", 1),
    "bad-bool": ("x: !!bool maybe\n", "yaml-value", "invalid !!bool value 'maybe'", 1),
    "timestamp-not-a-date": ("x: !!timestamp soon\n", "yaml-value", "invalid !!timestamp value 'soon'", 1),
    "huge-int": ("x: " + "9" * 5000 + "\n", "yaml-value", "the number 99999999999999999999... has more than 100 "
                 "characters", 1),
    "base-60-int": ("x: 1" + ":1" * 5000 + "\n", "yaml-value", "the number 1:1:1:1:1:1:1:1:1:1:... has more than 100 "
                    "characters", 1),
    "surrogate-escape": ('stickiness:\n  - name: "\\ud83d"\n', "yaml-value",
                         "the text contains a UTF-16 surrogate escape (\\ud800 to \\udfff)", 2),
    "control-character": ("stickiness:\n  - name: a\x07b\n", "yaml-syntax",
                          "invalid YAML: the character U+0007 is not allowed in YAML text", 2),
    "merge-key": ("base: &base {level: any}\nstickiness:\n  - <<: *base\n    name: merged\n", "yaml-merge-key",
                  "YAML merge keys ('<<') are not supported", 3),
    "two-documents": ("stickiness: []\n---\nstickiness: []\n", "yaml-multiple-documents",
                      "the file holds more than one YAML document", 3),
    "deep-nesting": ("stickiness: " + "[" * 5000 + "]" * 5000 + "\n", "yaml-too-deep",
                     "the YAML is nested too deeply", None),
}


@pytest.mark.parametrize("name", list(YAML_CASES))
def test_yaml_rejected(shop_project: Path, name: str):
    text, code, message, line = YAML_CASES[name]
    (shop_project / "models" / "extra.yml").write_text(text, encoding="utf-8")

    issues = validate_timed(shop_project)

    assert issues
    issue = issues[0]
    assert issue.code == code
    assert issue.message == message
    assert issue.location.line == line
    assert_located(issue, "extra.yml")


def test_yaml_byte_order_mark(shop_project: Path):
    path = shop_project / ENGAGEMENT
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    assert api.validate(shop_project) == []


def test_yaml_inner_byte_order_mark(shop_project: Path):
    (shop_project / "models" / "extra.yml").write_text("stickiness: []\n\ufefftier_mix: []\n", encoding="utf-8")

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "unknown-kind"
    assert issue.message == "unknown top-level key '\ufefftier_mix'"
    assert issue.location.line == 2


# Paths, file names and time zones that the operating system rejects.

def test_path_with_nul(shop_project: Path):
    replace_text(shop_project, PROJECT_FILE, "paths: [models]", 'paths: ["models\\0"]')

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "path-not-found"
    assert issue.message == "definition path 'models\\x00' is not a valid path: embedded null byte"
    assert issue.location.key_path == ("paths", 0)
    assert_located(issue, PROJECT_FILE)


def test_path_too_long(shop_project: Path):
    replace_text(shop_project, PROJECT_FILE, "paths: [models]", f"paths: [models, {'x' * 5000}]")

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "path-not-found"
    assert issue.message.endswith("is not a valid path: File name too long")
    assert issue.location.key_path == ("paths", 1)


def test_path_symbolic_link_outside(shop_project: Path, tmp_path: Path):
    outside = tmp_path / "outside.yml"
    outside.write_text("stickiness: [{name: leaked, password: hunter2}]\n", encoding="utf-8")
    (shop_project / "models" / "link.yml").symlink_to(outside)

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "path-outside-project"
    assert issue.message == "definition file 'link.yml' links to a file outside the project folder"
    assert "hunter2" not in issue.format()


def test_path_symbolic_link_loop(shop_project: Path):
    (shop_project / "loop").symlink_to(shop_project / "loop")
    replace_text(shop_project, PROJECT_FILE, "paths: [models]", "paths: [models, loop]")

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "path-not-found"
    assert issue.location.key_path == ("paths", 1)


def test_project_file_symbolic_link_loop(tmp_path: Path):
    (tmp_path / "healthlayer.yml").symlink_to(tmp_path / "healthlayer.yml")

    issue = only_issue(api.validate(tmp_path))

    assert issue.code == "project-not-found"
    assert issue.format(tmp_path).endswith("error project-not-found: no healthlayer.yml in "
                                           f"{tmp_path.resolve()} Hint: Run the command from the project folder "
                                           "or pass --project PATH.")


def test_unreadable_file(tmp_path: Path):
    # Reading fails after the size check, here because the path is a folder; permissions do the same.
    folder = tmp_path / "definitions.yml"
    folder.mkdir()

    loaded, issues = load_file(folder, {})

    assert loaded is None
    assert [(issue.code, issue.message) for issue in issues] == [("file-unreadable",
                                                                  "cannot read the file: Is a directory")]


def test_project_path_too_long(tmp_path: Path):
    issue = only_issue(api.validate(tmp_path / ("x" * 5000)))

    assert issue.code == "project-not-found"


def test_source_file_name_too_long(shop_project: Path):
    replace_text(shop_project, SOURCES, "table: raw.accounts", f"file: data/{'x' * 5000}.csv")

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "file-not-found"
    assert issue.location.key_path == ("sources", 1, "file")


def test_time_zone_too_long(shop_project: Path):
    replace_text(shop_project, PROJECT_FILE, "time_zone: Europe/Berlin", f"time_zone: Europe/{'x' * 5000}")

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "invalid-time-zone"


# Numbers and names that the compiler cannot write as SQL.

NUMBER_CASES = {
    "linear-range-overflow": ((HEALTH, "score: {function: linear, lower: 0, upper: 10}",
                               "score: {function: linear, lower: -1.7e308, upper: 1.7e308}"),
                              ("health_scores", 0, "categories", 1, "components", 2, "score"),
                              "the range from 'lower' (-1.7e+308) to 'upper' (1.7e+308) is too large to compute with"),
    "weight-too-large": ((HEALTH, "          - name: orders\n            weight: 20\n",
                          "          - name: orders\n            weight: 1e300\n"),
                         ("health_scores", 0, "categories", 1, "components", 2, "weight"),
                         "input should be less than or equal to 1000000, got '1e300'"),
    "min-events-too-large": ((ENGAGEMENT, "min_events: 2", "min_events: 100000000000000000000"),
                             ("engagement", "tiers", 2, "min_events"),
                             "input should be less than or equal to 1000000000, got 100000000000000000000"),
    "deadline-too-long": ((ENGAGEMENT, "respond_within: 2 days", "respond_within: 100000000 hours"),
                          ("alerts", 0, "respond_within"),
                          "expected at most 87,840 hours, got 100,000,000 hours"),
    "table-trailing-newline": ((SOURCES, "table: raw.events", 'table: "raw.events\\n"'), ("sources", 0),
                               "invalid table name 'raw.events\\n': expected name, schema.name or "
                               "catalog.schema.name"),
    "event-with-nul": ((ENGAGEMENT, "events: [view, search]", 'events: [view, "sea\\0rch"]'),
                       ("engagement", "tiers", 0), "event name 'sea\\x00rch' contains control characters"),
    "event-with-escape": ((ENGAGEMENT, "events: [view, search]", 'events: [view, "\\e[31msearch"]'),
                          ("engagement", "tiers", 0), "event name '\\x1b[31msearch' contains control characters"),
}


@pytest.mark.parametrize("name", list(NUMBER_CASES))
def test_value_rejected(shop_project: Path, name: str):
    (relative, old, new), key_path, message = NUMBER_CASES[name]
    replace_text(shop_project, relative, old, new)

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "invalid-value"
    assert issue.message == message
    assert issue.location.key_path == key_path


@pytest.mark.parametrize("name", ["_hl_events", "_hl_manifest", "_hl_account_health_accounts"])
def test_internal_view_name_rejected(shop_project: Path, name: str):
    replace_text(shop_project, ENGAGEMENT, "  - name: stickiness_daily\n", f"  - name: {name}\n")

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "reserved-name"
    assert issue.message == f"view name '{name}' starts with '_hl_', which healthlayer reserves for its internal views"
    assert issue.location.key_path == ("stickiness", 0, "name")


LONG_NAME_CASES = {
    "health-score": (((HEALTH, "  - name: account_health\n", "  - name: " + "h" * 49 + "\n"),
                      (ACCOUNT_ALERTS, "&health_score account_health\n", "&health_score " + "h" * 49 + "\n")),
                     ("health_scores", 0),
                     "the view name '_hl_" + "h" * 49 + "_components' has 64 characters, more than the 63 that "
                     "PostgreSQL keeps"),
    "tier": (((ENGAGEMENT, "    - name: power\n", "    - name: " + "p" * 58 + "\n"),
              (ENGAGEMENT, "    from: power\n", "    from: " + "p" * 58 + "\n")),
             ("tier_mix", 0),
             "the column '" + "p" * 58 + "_users' of view 'tier_mix_daily' has 64 characters, more than the 63 that "
             "PostgreSQL keeps"),
    "category": (((HEALTH, "      - name: commercial\n", "      - name: " + "c" * 58 + "\n"),),
                 ("health_scores", 0),
                 "the column '" + "c" * 58 + "_score' of view 'account_health' has 64 characters, more than the 63 "
                 "that PostgreSQL keeps"),
}


@pytest.mark.parametrize("name", list(LONG_NAME_CASES))
def test_derived_name_too_long(shop_project: Path, name: str):
    edits, key_path, message = LONG_NAME_CASES[name]
    for relative, old, new in edits:
        replace_text(shop_project, relative, old, new)

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "name-too-long"
    assert issue.message.startswith(message)
    assert issue.location.key_path == key_path


def test_health_score_name_at_limit(shop_project: Path):
    replace_text(shop_project, HEALTH, "  - name: account_health\n", "  - name: " + "h" * 48 + "\n")
    replace_text(shop_project, ACCOUNT_ALERTS, "&health_score account_health\n", "&health_score " + "h" * 48 + "\n")

    assert api.validate(shop_project) == []


def test_invalid_ratio_with_metric(shop_project: Path):
    # The health score reads stickiness_daily_by_account, whose ratio list is invalid.
    replace_text(shop_project, ENGAGEMENT, "ratios: [dau_mau, wau_mau]", "ratios: [dau_mau, wau_qau]")

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "invalid-ratio"
    assert issue.location.key_path == ("stickiness", 1, "ratios", 1)


# Names, columns and tables with hostile text.

HOSTILE_NAMES = hostile.INJECTIONS + hostile.LOOK_ALIKES


@pytest.mark.parametrize("text", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_name_rejected(shop_project: Path, text: str):
    replace_text(shop_project, ENGAGEMENT, "  - name: stickiness_daily\n", f"  - name: {yaml_quoted(text)}\n")
    replace_text(shop_project, SOURCES, "    account: account_id\n    user: user_id\n",
                 f"    account: {yaml_quoted(text)}\n    user: user_id\n")

    issues = validate_timed(shop_project)

    # A keyword such as CHECKPOINT is a valid column name, which the SQL quotes (test_keyword_names_parse_back).
    column_valid = re.fullmatch(COLUMN_PATTERN, text) is not None
    expected = [("stickiness", 0, "name")] + ([] if column_valid else [("sources", 0, "account")])
    assert [issue.location.key_path for issue in issues] == expected
    assert {issue.code for issue in issues} == {"invalid-name"}


@pytest.mark.parametrize("text", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_table_rejected(shop_project: Path, text: str):
    replace_text(shop_project, SOURCES, "table: raw.events", f"table: {yaml_quoted('raw.' + text)}")

    issues = validate_timed(shop_project)

    if re.fullmatch(COLUMN_PATTERN, text):
        assert issues == []
    else:
        issue = only_issue(issues)
        assert issue.code == "invalid-value"
        assert issue.message.startswith("invalid table name")
        assert issue.location.key_path == ("sources", 0)


# Filters and values.

@pytest.mark.parametrize("text", hostile.HOSTILE_FILTERS, ids=range(len(hostile.HOSTILE_FILTERS)))
def test_hostile_filter_rejected(shop_project: Path, text: str):
    replace_text(shop_project, ENGAGEMENT, BUYER_FILTER, f"filter: {yaml_quoted(text)}")

    issue = only_issue(validate_timed(shop_project))

    assert issue.code == "invalid-expression"
    assert issue.location.key_path == FILTER_KEY
    assert_located(issue, "engagement.yml")


@pytest.mark.parametrize("text", hostile.VALID_TRICKY_FILTERS, ids=range(len(hostile.VALID_TRICKY_FILTERS)))
def test_tricky_filter_accepted(shop_project: Path, text: str):
    replace_text(shop_project, ENGAGEMENT, BUYER_FILTER, f"filter: {yaml_quoted(text)}")

    assert api.validate(shop_project) == []


FILTER_MESSAGES = {
    "area = 'x\u202e'": "the tier filter contains bidirectional control characters (U+202E)",
    "area = '\u2066x\u2069'": "the tier filter contains bidirectional control characters (U+2066, U+2069)",
    "amount > 0\x7f": "the tier filter contains control characters",
    "amount > 0\x9b": "the tier filter contains control characters",
    "amount IN ()": "the tier filter contains an empty IN list",
}


@pytest.mark.parametrize("text", list(FILTER_MESSAGES), ids=range(len(FILTER_MESSAGES)))
def test_filter_message(shop_project: Path, text: str):
    replace_text(shop_project, ENGAGEMENT, BUYER_FILTER, f"filter: {yaml_quoted(text)}")

    issue = only_issue(api.validate(shop_project))

    assert issue.message == FILTER_MESSAGES[text]
    assert issue.hint


# Names that are keywords: quoted by sqlglot in every dialect, so the SQL parses back.

KEYWORD_EDITS = [
    (ENGAGEMENT, "windows: {dau: 1, wau: 7, mau: 30}\n    ratios: [dau_mau, wau_mau]",
     "windows: {select: 1, from: 7, mau: 30}\n    ratios: [select_mau, from_mau]"),
    (HEALTH, "metric: stickiness_daily_by_account.dau_mau", "metric: stickiness_daily_by_account.select_mau"),
    (ENGAGEMENT, "  - name: stickiness_daily\n", "  - name: positional\n"),
    (ENGAGEMENT, "  - name: browser\n", "  - name: match_recognize\n"),
    (SOURCES, "      area: text\n", "      global: text\n"),
    (ENGAGEMENT, BUYER_FILTER, "filter: \"amount > 0 and global is not null\""),
    ("models/metrics.yml", "    value: area\n", "    value: global\n"),
    (SOURCES, "      order_id: text\n", "      value: text\n"),
    (ENGAGEMENT, "min_distinct: {column: order_id, count: 2}", "min_distinct: {column: value, count: 2}"),
    (SOURCES, "      plan: text\n", "      Plan: text\n"),
    (HEALTH, "filter: \"plan <> 'internal'\"", "filter: \"\\\"Plan\\\" <> 'internal'\""),
    (SOURCES, "      seats: number\n", "      Select: number\n"),
    (HEALTH, "attribute: accounts.seats", "attribute: accounts.Select"),
    (ENGAGEMENT, "    level: buyer\n", "    level: buyer\n    by: [global]\n    min_denominator: 2\n"),
]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_keyword_names_parse_back(shop_project: Path, dialect: str):
    for relative, old, new in KEYWORD_EDITS:
        replace_text(shop_project, relative, old, new)
    project, issues = api.load(shop_project)
    assert issues == []

    statements = api.compile_project(project, dialect, "analytics")

    names = [name for name, _ in statements]
    assert "positional" in names
    resolved = Dialect.get_or_raise(dialect)
    for name, statement in statements:
        parsed = sqlglot.parse(statement, read=dialect)
        assert len(parsed) == 1
        assert isinstance(parsed[0], exp.Create)
        created = parsed[0].this.name
        assert created in (name, resolved.normalize_identifier(exp.to_identifier(name)).name)
    by_statement = dict(statements)
    events = sqlglot.parse_one(by_statement["_hl_events"], read=dialect)
    assert {"global", "value", "plan"} <= {column.name.lower() for column in events.find_all(exp.Column)}
    grouped = sqlglot.parse_one(by_statement["positional"], read=dialect)
    assert "global" in {column.name.lower() for column in grouped.find_all(exp.Column)}
    values = sqlglot.parse_one(by_statement["_hl_account_health_values"], read=dialect)
    assert "Select" in {column.name for column in values.find_all(exp.Column)}


def test_deploy_keyword_names(shop_with_data: Path):
    connection = duckdb.connect(str(shop_with_data / SHOP_DATABASE))
    connection.execute("ALTER TABLE raw.events RENAME COLUMN event_ts TO \"anti\"")
    connection.close()
    replace_text(shop_with_data, SOURCES, "    timestamp: event_ts\n", "    timestamp: anti\n")
    replace_text(shop_with_data, SOURCES, "      event_ts: timestamp", "      anti: timestamp")
    replace_text(shop_with_data, ENGAGEMENT, "  - name: stickiness_daily\n", "  - name: positional\n")

    first = api.deploy_project(shop_with_data)
    replace_text(shop_with_data, ENGAGEMENT, "  - name: positional\n", "  - name: stickiness_daily\n")
    second = api.deploy_project(shop_with_data)

    assert "positional" in {view.name for view in first.result.views}
    assert second.result.dropped == ("positional",)
    connection = duckdb.connect(str(shop_with_data / SHOP_DATABASE), read_only=True)
    try:
        days = connection.execute("SELECT COUNT(*) FROM analytics.stickiness_daily").fetchone()[0]
    finally:
        connection.close()
    assert days > 0


EVENT_LITERALS = ["x'; DROP TABLE raw.events; --", "a\\'b", "/* c */", "$$d$$", "\u0430", "\U0001f600", "e\u200df",
                  "\\", "'", '"', "`"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_event_names_stay_literals(shop_project: Path, dialect: str):
    events = json.dumps(EVENT_LITERALS, ensure_ascii=False)
    replace_text(shop_project, ENGAGEMENT, "events: [view, search]", f"events: {events}")
    project, issues = api.load(shop_project)
    assert issues == []

    events = sqlglot.parse_one(dict(api.compile_project(project, dialect, "analytics"))["_hl_events"], read=dialect)

    literals = {literal.this for literal in events.find_all(exp.Literal) if literal.is_string}
    assert set(EVENT_LITERALS) <= literals
    assert not list(events.find_all(exp.Drop, exp.Command))


@pytest.mark.parametrize("column", ["current_schema", "current_catalog", "system_user", "current_user"])
def test_function_name_column_quoted(shop_project: Path, column: str):
    # PostgreSQL calls these functions without parentheses, so an unquoted column would read the function.
    replace_text(shop_project, SOURCES, "      area: text\n", f"      {column}: text\n")
    replace_text(shop_project, "models/metrics.yml", "    value: area\n", f"    value: '\"{column}\"'\n")
    project, issues = api.load(shop_project)
    assert issues == []

    statements = dict(api.compile_project(project, "postgres", "analytics"))

    events = sqlglot.parse_one(statements["_hl_events"], read="postgres")
    assert column in {node.name for node in events.find_all(exp.Column)}
    assert f'"{column}"' in statements["_hl_events"]
    assert not list(events.find_all(exp.CurrentSchema, exp.CurrentCatalog, exp.CurrentUser))


VAR_MESSAGES = {
    "x=2024-13-45": "invalid !!timestamp value '2024-13-45': month must be in 1..12",
    "x=!!int abc": "invalid !!int value 'abc': invalid literal for int() with base 10: 'abc'",
    "x=" + "9" * 5000: "the number 99999999999999999999... has more than 100 characters",
    "x=!!binary AA==": "the YAML tag '!!binary' is not supported",
}


@pytest.mark.parametrize("option", list(VAR_MESSAGES), ids=range(len(VAR_MESSAGES)))
def test_var_value_rejected(shop_project: Path, option: str, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(sys, "argv", ["healthlayer", "validate", "--project", str(shop_project), "--var", option])

    with pytest.raises(SystemExit) as exited:
        cli.main()

    error = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"the value of 'x' is not valid YAML; quote it to pass text ({VAR_MESSAGES[option]})" in error
    assert "internal error" not in error


# The installed command on a sample of fuzz cases.

def test_validate_command_sample(tmp_path: Path):
    env = {**os.environ, "HL_FUZZ_SECRET": "hl-fuzz-secret-4c7d1e"}
    # Cases with --var values are left out, since the command reads those as YAML.
    cases = [case for case in (generate(FUZZ_SEED, index) for index in range(3 * CLI_SAMPLE)) if not case.variables]
    for case in cases[:CLI_SAMPLE]:
        index = case.index
        folder = tmp_path / f"case{index}"
        write_case(case, folder)
        completed = subprocess.run([str(HEALTHLAYER), "validate", "--project", str(folder), "--format", "json"],
                                   capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)

        assert completed.returncode in (0, 1), f"case {index}: {completed.stderr}"
        assert "Traceback" not in completed.stdout + completed.stderr
        assert "internal error" not in completed.stderr
        report = json.loads(completed.stdout)
        assert (completed.returncode == 1) == (report["errors"] > 0)
        assert all(issue["file"] and issue["message"] for issue in report["issues"])
