"""`--format github` output against GitHub's workflow command syntax.

GitHub reads `::error file=F,line=L,col=C,title=T::MESSAGE` (or `::warning ...`) from one line of
a step's output ("Workflow commands for GitHub Actions" in GitHub's documentation). Values are
percent-escaped as the escapeData and escapeProperty functions of @actions/core do it: `%`, CR
and LF everywhere, and `:` and `,` also in property values. `parse_command` below follows that
syntax and is independent of healthlayer's formatter, so a round trip checks the formatter.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from healthlayer.definitions.issues import Issue, Location
from healthlayer.reporting import format_issues

ROOT = Path("/tmp/healthlayer-reporting-root")
_ESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}


def unescape(text: str, property_value: bool) -> str:
    codes = "25|0D|0A|3A|2C" if property_value else "25|0D|0A"
    return re.sub(f"%({codes})", lambda match: _ESCAPES[match.group(0)], text)


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Parse one workflow command line into its name, properties and message, unescaped."""
    assert line.startswith("::"), line
    head, separator, message = line[2:].partition("::")
    assert separator, f"no '::' after the properties in {line!r}"
    name, _, properties_text = head.partition(" ")
    properties = {}
    for item in properties_text.split(",") if properties_text else []:
        key, equals, value = item.partition("=")
        assert equals, f"property {item!r} has no '='"
        assert key not in properties, f"property {key!r} appears twice"
        properties[key] = unescape(value, property_value=True)
    return name, properties, unescape(message, property_value=False)


def github(*issues: Issue) -> list[str]:
    return format_issues(list(issues), "github", ROOT).split("\n")


def test_github_plain_issue():
    issue = Issue("unknown-key", "unknown key 'levle'", Location(ROOT / "models" / "a.yml", 17, 5, ("stickiness", 0)),
                  "Did you mean 'level'?")

    assert github(issue) == ["::error file=models/a.yml,line=17,col=5,title=unknown-key::"
                             "stickiness[0]: unknown key 'levle' Hint: Did you mean 'level'?"]


def test_github_message_escaped():
    issue = Issue("invalid-value", "50% of 'a'\r\nnext line", Location(ROOT / "a.yml", 3))

    assert github(issue) == ["::error file=a.yml,line=3,title=invalid-value::50%25 of 'a'%0D%0Anext line"]


def test_github_path_escaped():
    issue = Issue("invalid-value", "bad", Location(ROOT / "models" / "a,b:c%.yml", 1, 2))

    assert github(issue) == ["::error file=models/a%2Cb%3Ac%25.yml,line=1,col=2,title=invalid-value::bad"]


def test_github_without_file():
    """An issue without a file has no file, line or col property, rather than a made-up path."""
    issue = Issue("connection-failed", "could not connect", severity="warning")

    assert github(issue) == ["::warning title=connection-failed::could not connect"]


def test_github_errors_first():
    warning = Issue("unused", "w", Location(ROOT / "a.yml", 1), severity="warning")
    error = Issue("invalid-value", "e", Location(ROOT / "b.yml", 9))

    lines = github(warning, error)

    assert [parse_command(line)[0] for line in lines] == ["error", "warning"]


PATH_PART = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1,
                    max_size=12).filter(lambda part: part not in (".", ".."))
KEY_PART = st.one_of(st.integers(min_value=0, max_value=99),
                     st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8))
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(parts=st.lists(PATH_PART, min_size=1, max_size=3), line=st.integers(1, 10_000), column=st.integers(1, 500),
       key_path=st.lists(KEY_PART, max_size=3), code=st.text(min_size=1, max_size=10).filter(lambda c: "\x00" not in c),
       message=TEXT, hint=st.one_of(st.none(), TEXT), severity=st.sampled_from(["error", "warning"]))
def test_github_roundtrip(parts: list[str], line: int, column: int, key_path: list[str | int], code: str,
                          message: str, hint: str | None, severity: str):
    location = Location(ROOT.joinpath(*parts), line, column, tuple(key_path))
    issue = Issue(code, message, location, hint, severity)  # type: ignore[arg-type]

    output = format_issues([issue], "github", ROOT)
    name, properties, text = parse_command(output)

    assert "\n" not in output
    assert "\r" not in output
    assert name == severity
    assert properties == {"file": "/".join(parts), "line": str(line), "col": str(column), "title": code}
    expected = f"{location.key_text()}: {message}" if location.key_text() else message
    if hint:
        expected += f" Hint: {hint}"
    assert text == expected


def test_build_step_lines():
    from datetime import date

    from healthlayer.adapters.base import BuildStep
    from healthlayer.progress import describe_step

    assert describe_step(BuildStep("alerts", "table", 0.5, 1)) == "alerts: table, every day, 1 row, 0.50 s"
    assert (describe_step(BuildStep("tier_mix_daily", "incremental", 1.25, 16492, date(2026, 6, 28)))
            == "tier_mix_daily: incremental from 2026-06-28, 16,492 rows, 1.25 s")
    assert describe_step(BuildStep("stickiness_daily", "view", 0.004)) == "stickiness_daily: view, 0.00 s"
