"""Hostile values for definitions: SQL injection, look-alike characters, odd numbers, YAML and Jinja tricks.

The fuzz driver and the property tests draw from these lists. Filters and values that name
columns use the columns of tests/fixtures/shop's `events` source (amount, area, plan, order_id,
event_type), so that a replacement there reaches the expression checks instead of stopping at
an unknown column.
"""

from __future__ import annotations

# Text that tries to leave a quoted identifier or literal, start a comment or add a statement.
INJECTIONS = [
    "'", '"', "`", "\\", "''", '""', "x'; DROP TABLE raw.events; --", 'x"; DROP TABLE raw.events; --',
    "x`; DROP TABLE raw.events; --", "x\\'; DROP TABLE raw.events; --", "-- comment", "/* comment */", "/*", "*/",
    "# comment", "x; SELECT 1", ";", ";;", "x) OR (1=1", "1 OR 1=1", "' OR '1'='1", "$$x$$", "$tag$x$tag$",
    "E'\\x41'", "e'\\''", "'||'DR'||'OP'", "%s", "{}", "?", "$1", ":name", "@x", "@@version",
    "ATTACH 'evil.db' AS evil", "COPY raw.events TO '/tmp/out.csv'", "INSTALL httpfs", "LOAD httpfs",
    "PRAGMA enable_profiling", "SET memory_limit = '1GB'", "DROP SCHEMA raw CASCADE", "DELETE FROM raw.events",
    "CREATE TABLE x AS SELECT 1", "INSERT INTO raw.events VALUES (1)", "UPDATE raw.events SET amount = 1",
    "CALL pragma_version()", "EXPORT DATABASE '/tmp/x'", "DETACH raw", "USE raw", "CHECKPOINT",
]

# Characters that look like ASCII letters, are invisible, reorder the display, or control a terminal.
LOOK_ALIKES = [
    "\u0430mount", "\uff41\uff4d\uff4f\uff55\uff4e\uff54", "am\u200dount", "amount\u200b", "\u202eamount",
    "amount\u202e", "\u2066amount\u2069", "\ufeffamount", "amount\u00a0", "\u0131", "\u0130", "\u00df", "\ufb01",
    "e\u0301", "\U0001d41a", "\U0001f600", "a\u0000b", "\x07", "\x1b[31m", "\r\n", "\u2028", "\u0085", "\x7f",
    "\x9b", "\ud7ff", "\U0010ffff",
]

LONG_TEXTS = ["x" * 64, "a" * 2001, "'" * 500, "(" * 300, "x" * 20_000]

HOSTILE_STRINGS = INJECTIONS + LOOK_ALIKES + LONG_TEXTS

# Names that match the definition name pattern but are SQL keywords, reserved prefixes or at the length limit.
KEYWORD_NAMES = [
    "select", "from", "where", "table", "null", "true", "false", "order", "group", "union", "all", "drop", "limit",
    "window", "values", "user", "date", "timestamp", "interval", "array", "case", "end", "default", "desc",
    "qualify", "pivot", "unpivot", "lateral", "natural", "join", "on", "using", "any", "some", "filter", "over",
    "partition", "range", "rows", "key", "value", "current_date", "current_user", "session_user", "localtime",
    "_", "__", "analytics", "raw", "information_schema", "pg_catalog", "main", "system", "temp", "format",
    "settings", "final", "sample", "global", "asof", "semi", "anti", "positional", "match_recognize", "prior",
    "connect", "start", "level", "rownum", "rowid", "oid", "ctid", "xmin", "_hl_events", "_hl_manifest",
    "x" * 63, "a1", "a" + "_" * 62,
]

# Column names that match the column pattern: keywords in several cases, mixed case and the length limit.
KEYWORD_COLUMNS = KEYWORD_NAMES + [
    "Select", "SELECT", "From", "ORDER", "Null", "TRUE", "Amount", "AMOUNT", "mixedCase", "CamelCase", "A",
    "Z" * 63, "_Hidden", "Date", "TIMESTAMP", "User", "Key", "current_schema", "current_catalog", "system_user",
]

# Filters that must be rejected: dangerous functions, subqueries, statements, comments, odd syntax and types.
HOSTILE_FILTERS = [
    "read_csv('/etc/passwd') IS NOT NULL", "read_parquet('x.parquet') IS NOT NULL",
    "read_csv_auto('x.csv') IS NOT NULL", "getenv('HOME') = ''", "current_setting('search_path') = ''",
    "pg_read_file('/etc/passwd') = ''", "system('id') = 0", "query('SELECT 1') IS NOT NULL",
    "query_table('raw.events') IS NOT NULL", "list_filter([1, 2], x -> x > 1) IS NOT NULL", "lambda x: x + 1",
    "{'a': 1} IS NOT NULL", "[1, 2] IS NOT NULL", "struct_pack(a := 1) IS NOT NULL", "map([1], [2]) IS NOT NULL",
    "row_number() OVER () > 1", "sum(amount) OVER (PARTITION BY area) > 0", "count(*) > 0", "sum(amount) > 0",
    "max(amount) > 0", "amount::BLOB IS NOT NULL", "CAST(amount AS INTERVAL) IS NULL", "CAST(amount AS JSON) IS NULL",
    "CAST(amount AS INT[]) IS NULL", "CAST(amount AS STRUCT(a INT)) IS NULL", "CAST(amount AS MAP(INT, INT)) IS NULL",
    "amount > $$1$$", "area = $q$x$q$", "area = E'\\x27'", "area = 'DR' || 'OP'", "area = concat('DR', 'OP')",
    "area = chr(39)", "area = 'DR' 'OP'", "amount > (SELECT max(amount) FROM raw.events)", "EXISTS (SELECT 1)",
    "area IN (SELECT area FROM raw.events)", "amount > 0; DROP TABLE raw.events", "amount > 0 -- AND area = 'x'",
    "amount > 0 /* x */", "amount > 0 #x", "amount > 0) OR (1 = 1", "area = 'x' OR 1=1 --'",
    "1=1; ATTACH 'x.db'", "area LIKE 'x' ESCAPE '\\'", "area SIMILAR TO 'x'", "area ~ 'x'", "area GLOB 'x'",
    "amount IS DISTINCT FROM 1", "amount = ANY (SELECT 1)", "area = ?", "area = $1", "area = :name",
    "INTERVAL 1 DAY > amount", "amount[1] > 0", "area->>'x' = ''", "setseed(0.5) IS NULL", "random() > 0.5",
    "nextval('s') > 0", "now() > amount", "version() = ''", "uuid() IS NOT NULL",
    "repeat('x', 1000000000) = area", "amount IN ()", "amount > 0 LIMIT 1", "\u0430mount > 0",
    "area = '\u202e' OR 1=1", "amount > 0\x00", "amount > 0\x1b", "DROP TABLE raw.events", "ATTACH 'x.db' AS x",
    "COPY raw.events TO '/tmp/x.csv'", "INSTALL httpfs", "LOAD httpfs", "PRAGMA version", "SET x = 1",
    "SELECT 1", "WITH x AS (SELECT 1) SELECT * FROM x", "raw.events.amount > 0", "e.amount > 0",
    "amount.x > 0", "\"Amount\" > 0", "`amount` > 0", "[amount] > 0", "amount // 2 = 0", "amount ** 2 > 0",
    "~amount > 0", "amount << 1 > 0", "position('a' IN area) > 0", "area REGEXP 'x'", "amount",
    "not " * 300 + "TRUE", "(" * 200 + "amount > 0" + ")" * 200, "amount > 0" + " AND amount > 0" * 200,
    "-" * 1000 + "1 > 0", "area = '" + "x" * 3000 + "'",
]

# Filters over the shop columns that are valid, with literals and names that look dangerous.
VALID_TRICKY_FILTERS = [
    "area = 'x''; DROP TABLE raw.events; --'", "area = '/* not a comment */'", "area = '-- not a comment'",
    "area = '#'", "area = ';'", "area = '$$'", "area = '\\'", "area = '\\\\'", "area = '\"'", "area = '`'",
    "area = '\u0430'", "area = '\uff41'", "area = '\u200d'", "area = '\U0001f600'", "area = '\u00a0'",
    "lower(area) IN ('a', 'b''c', '')", "area LIKE '%\\_%'", "coalesce(area, 'DROP') = 'DROP'",
    "amount BETWEEN -1e10 AND 1e10", "round(amount, 2) >= 0.005", "CASE WHEN amount > 0 THEN 'a' ELSE 'b' END = 'a'",
    "\"amount\" > 0", "\"area\" IS NOT NULL", "length(trim(area)) > 0", "upper(substring(area, 1, 3)) = 'CAT'",
    "nullif(area, '') IS NOT NULL", "greatest(amount, 0) = least(amount, 100)", "abs(floor(amount)) <> ceil(amount)",
    "CAST(amount AS DECIMAL(18, 2)) > 0", "CAST(area AS VARCHAR) = 'x'", "area = 'select * from raw.events'",
    "NOT (area = 'x' OR area IS NULL)", "amount % 2 = 0", "-amount < 0", "amount > -0.0", "amount <> 1e-300",
    "area = 'ATTACH ''x.db'''", "area IN ('DROP', 'TABLE', 'raw', 'events')", "order_id = 'o1' AND plan = 'pro'",
    "event_type = 'checkout'", "amount::DOUBLE > 0", "amount > 99999999999999999999", "area = 'it''s'",
]

# Values for a metric's `value`: expressions that must be accepted or rejected.
VALUES = [
    "amount", "least(amount, 500)", "CASE WHEN amount > 9 THEN 100 ELSE 0 END", "amount * 2 + 1", "abs(amount)",
    "coalesce(amount, 0)", "CAST(amount AS DOUBLE)", "round(amount / 3, 2)", "length(area)", "sum(amount)",
    "read_csv('x')", "(SELECT 1)", "amount; DROP TABLE raw.events", "amount -- x", "amount > 0",
]

# Numbers at the edges of what YAML, Python and SQL engines represent.
NUMBERS = [
    0, -0.0, 1, -1, 0.5, 1e-300, 5e-324, 1e308, -1e308, 1.7976931348623157e308, float("nan"), float("inf"),
    float("-inf"), 2 ** 31, 2 ** 63, 2 ** 64, -(2 ** 63), 10 ** 30, 10 ** 99, 99, 100, 101, 1_000_000_001,
    True, False,
]

# Jinja expressions, with the braces, that the sandbox must accept or turn into an issue.
JINJA = [
    "{{ var('x', 1) }}", "{{ var('active_share_target', 0.4) }}", "{{ env_var('HL_FUZZ_SECRET') }}",
    "{{ env_var('HL_FUZZ_UNSET') }}", "{{ env_var('HL_FUZZ_UNSET', 'd') }}", "{{ var('missing') }}",
    "{{ ''.__class__ }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ var.__globals__ }}",
    "{{ env_var.__globals__['os'] }}", "{{ self }}", "{{ self._TemplateReference__context }}", "{{ range(10) }}",
    "{{ lipsum() }}", "{{ cycler }}", "{{ namespace() }}", "{{ joiner() }}", "{{ dict(a=1) }}",
    "{% include 'secrets.yml' %}", "{% import 'x' as y %}", "{% extends 'base.yml' %}", "{% for i in x %}{% endfor %}",
    "{% set x = 1 %}", "{% raw %}x{% endraw %}", "{% macro m() %}{% endmacro %}", "{# comment #}",
    "{{ 'x' * 100000000000 }}", "{{ 'x' * 9999 }}", "{{ ('x' * 9999) ~ ('x' * 9999) }}", "{{ [1] * 10000 }}",
    "{{ 10 ** 100 }}", "{{ 2 ** 64 }}", "{{ 9 ** 9 ** 9 }}", "{{ 1 / 0 }}", "{{ 1 // 0 }}", "{{ 1 % 0 }}",
    "{{ '%0999999999d' % 1 }}", "{{ 'x'|center(1000000000) }}", "{{ 'x'|indent(1000000000) }}",
    "{{ 'x'|wordwrap(1) }}", "{{ '%s'|format('x') }}", "{{ ['x'] * 100|join('y' * 9999) }}",
    "{{ ('x' * 9999)|replace('', 'y' * 9999) }}", "{{ 'x'|truncate(1000000000) }}", "{{ 'x'.ljust(1000000000) }}",
    "{{ '{:>1000000000}'.format(1) }}", "{{ 'x'|list }}", "{{ [3, 1]|sort }}", "{{ 'x'|upper }}",
    "{{ 'X'|lower }}", "{{ ' x '|trim }}", "{{ 1.5|round }}", "{{ '7'|int }}", "{{ 'x'|tojson }}",
    "{{ ('<' * 9999)|tojson|tojson|tojson }}", "{{ none|default('d') }}", "{{ 1 is divisibleby 0 }}",
    "{{ 1 is odd }}", "{{ 'x' is string }}", "{{ 'x' is callable }}", "{{ 'x' is test }}", "{{ x|attr('y') }}",
    "{{ 'x'|random }}", "{{ [1, 2]|sum }}", "{{ {'a': 1}|dictsort }}", "{{ var(*['x']) }}", "{{ var(**{}) }}",
    "{{ " + "(" * 200 + "1" + ")" * 200 + " }}", "{{ " + "[" * 200 + "]" * 200 + " }}",
    "{{ 1" + "|abs" * 100 + " }}", "{{ 1" + " + 1" * 3000 + " }}", "{{", "}}", "{{ }}", "{{ 'unclosed }}",
    "{{ var('x', '{{ nested }}') }}", "{{ \"\\n  injected: key\" }}", "{{ var('x', 'a: b\\nc: d') }}",
    "{{ 'x' if true else 'y' }}", "{{ [1, 2][5] }}", "{{ {'a': 1}.a }}", "{{ 'abc'[::-1] }}", "{{ -9e999 }}",
]

# YAML constructs: tags, aliases, merge keys, documents, directives and deep nesting.
YAML_SNIPPETS = [
    "!!python/object/apply:os.system ['id']", "!!python/name:os.system", "!!binary aGVsbG8=", "!!set {a, b}",
    "!!omap [a: 1]", "!!timestamp 2024-02-30", "!!int abc", "!!float abc", "!!bool maybe", "!local x", "!<tag:x> y",
    "&anchor x", "*undefined_alias", "<<: {a: 1}", "? [a, b]\n: c", "---\nother: 1", "...", "%YAML 1.1\n---",
    "%TAG ! tag:x,2024:\n---", "[" * 500 + "]" * 500, "{" * 500 + "}" * 500, "a:\n" + "  " * 1 + "- " * 400 + "x",
    "1:2:3:4:5:6:7:8:9:10:11:12", "0x" + "f" * 200, "9" * 5000, "0o777", "0b1111", ".nan", ".inf", "-.inf",
    "2024-13-45", "~", "null", "'unclosed", "\"unclosed", "|\n  literal", ">\n  folded", "- a\n- b", "key: [",
]

ALIAS_BOMB = "\n".join(
    ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    + [f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]" for level in range(1, 10)]
) + "\n"

# Bytes that are not valid in a UTF-8 YAML file, or that change how one is read.
BYTES = [
    b"\x00", b"\xff", b"\xfe\xff", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\x80", b"\t", b"\r", b"\r\n", b"\x0b", b"\x0c", b"\x1b", b"\x7f", b"\xc2\x85", b"\xe2\x80\xa8",
]

TIME_ZONES = [
    "UTC", "Etc/UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Etc/GMT+12",
    "Australia/Lord_Howe", "CET", "EST", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "right/UTC",
    "posix/UTC", "Europe/Berlin\x00", "UTC'; DROP TABLE x; --", "", "Europe/Berlin'", "America/New York",
]
