"""Hand-computed cases for the SQL expression evaluator: logic, comparisons, arithmetic, CASE,
casts and scalar functions, with DuckDB's types and NULL handling.

`assert_same` checks the Python type as well as the value, because the type stands for the SQL
type (int for INTEGER, Decimal for DECIMAL, float for DOUBLE, Real for FLOAT).
"""

import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from .expressions import compile_expression, compile_filter
from .sql_values import ConversionError, Real, to_real

DAY = date(2024, 1, 5)
MORNING = datetime(2024, 1, 5, 10, 0)
MORNING_UTC = datetime(2024, 1, 5, 10, 0, tzinfo=timezone.utc)
NAN = float("nan")


def evaluate(text: str, **row: Any) -> Any:
    return compile_expression(text)(row)


def assert_same(actual: Any, expected: Any) -> None:
    """Assert equal values of the same Python type. NaN equals NaN, and -0.0 differs from 0.0."""
    assert type(actual) is type(expected), f"{actual!r} is a {type(actual).__name__}, expected {expected!r}"
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual)
        return
    assert actual == expected
    if isinstance(expected, float):
        assert math.copysign(1.0, actual) == math.copysign(1.0, expected), f"{actual!r} has the wrong sign"


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("x and y", {"x": True, "y": None}, None),
        ("x and y", {"x": False, "y": None}, False),
        ("x or y", {"x": True, "y": None}, True),
        ("x or y", {"x": False, "y": None}, None),
        ("not x", {"x": None}, None),
        # A number used as a condition is true when it is not zero.
        ("not x", {"x": 2}, False),
        ("x and y", {"x": 0, "y": True}, False),
        ("x is true", {"x": None}, False),
        ("x is true", {"x": 3}, True),
        ("x is not false", {"x": None}, True),
        ("x is not null", {"x": 0}, True),
        ("x in (1, 2, null)", {"x": 1}, True),
        ("x in (1, 2, null)", {"x": 3}, None),
        ("x in (1, 2)", {"x": None}, None),
        ("x in (1, 2)", {"x": Decimal("2.00")}, True),
        ("x not in (1, null)", {"x": 3}, None),
        ("x not in (1, 2)", {"x": 3}, True),
        ("x between 1 and 3", {"x": 3}, True),
        ("x between 1 and 3", {"x": 3.5}, False),
        ("x between 3 and 1", {"x": 2}, False),
        ("x between symmetric 3 and 1", {"x": 2}, True),
        ("x between null and 3", {"x": 5}, False),
        ("x between null and 3", {"x": 2}, None),
        ("x not between 1 and 3", {"x": 5}, True),
    ],
)
def test_logic_three_valued(text, row, expected):
    assert evaluate(text, **row) is expected


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("x", {"x": 2}, True),
        ("x", {"x": 0.0}, False),
        ("x", {"x": None}, False),
        ("x", {"x": "true"}, True),
        ("x > 1 or y", {"x": None, "y": None}, False),
    ],
)
def test_filter_reads_boolean(text, row, expected):
    assert compile_filter(text)(row) is expected


def test_filter_rejects_text():
    with pytest.raises(ConversionError):
        compile_filter("x")({"x": "10"})


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        # A DECIMAL literal meets a DOUBLE as a DOUBLE, so 0.1 = 0.1 in every type.
        ("x = 0.1", {"x": 0.1}, True),
        ("x = 0.1", {"x": to_real(0.1)}, True),
        ("0.1 + 0.2 = 0.3", {}, True),
        ("x + 0.2 = 0.3", {"x": 0.1}, False),
        ("x = 1", {"x": True}, True),
        ("x = 2", {"x": True}, False),
        ("x = y", {"x": 2**53 + 1, "y": float(2**53)}, True),
        # NaN equals NaN and is above every number.
        ("x = y", {"x": NAN, "y": NAN}, True),
        ("x > 1e308", {"x": NAN}, True),
        ("x < y", {"x": "a", "y": "B"}, False),
        ("x > y", {"x": "é", "y": "z"}, True),
        ("x < y", {"x": DAY, "y": MORNING}, True),
        ("x = y", {"x": DAY, "y": datetime(2024, 1, 5)}, True),
        ("x = y", {"x": MORNING_UTC, "y": MORNING_UTC}, True),
        # A text literal takes the type of the value it meets.
        ("x = '2024-01-05'", {"x": DAY}, True),
        ("x >= '2024-01-05 10:00'", {"x": MORNING}, True),
        ("x in ('2024-01-06', '2024-01-05')", {"x": DAY}, True),
        ("x = '10'", {"x": 10.0}, True),
        ("'3' between x and 5", {"x": 1}, True),
        # Row values compare field by field, with NULL equal to NULL and above every value.
        ("(x, y) = (1, 2)", {"x": 1, "y": None}, False),
        ("(x, y) = (1, null)", {"x": 1, "y": None}, True),
        ("(x, y) < (1, 3)", {"x": 1, "y": 2}, True),
        ("(x, y) < (1, 3)", {"x": None, "y": 1}, False),
        ("(x, y) in ((1, 2), (3, 4))", {"x": 3, "y": 4}, True),
    ],
)
def test_comparisons(text, row, expected):
    assert evaluate(text, **row) is expected


@pytest.mark.parametrize(
    ("text", "row"),
    [
        # DuckDB converts text from a column for = and rejects it for <, and the reference
        # raises for both.
        ("x = 1", {"x": "1"}),
        ("x < y", {"x": MORNING_UTC, "y": MORNING}),  # depends on the session time zone
        ("x > '2024-01-05'", {"x": MORNING_UTC}),
        ("(x, y) = (1, 2, 3)", {"x": 1, "y": 2}),
    ],
)
def test_comparisons_not_modelled(text, row):
    with pytest.raises(NotImplementedError):
        evaluate(text, **row)


def test_comparison_invalid_literal():
    with pytest.raises(ConversionError):
        evaluate("x = '2024-02-30'", x=DAY)


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("x like 'a%'", {"x": "abc"}, True),
        ("x like 'a%'", {"x": "Abc"}, False),
        ("x like 'a%b'", {"x": "a\nb"}, True),
        ("x like 'a_c'", {"x": "ac"}, False),
        # There is no escape character: the backslash is a literal character.
        ("x like 'a\\_c'", {"x": "a_c"}, False),
        ("x like 'a\\_c'", {"x": "a\\xc"}, True),
        ("x like 'a.c'", {"x": "abc"}, False),
        ("x not like 'a%'", {"x": "abc"}, False),
        ("x not like 'a%'", {"x": None}, None),
        ("x !~~ 'a%'", {"x": "xbc"}, True),
        ("x ilike 'STRA_E'", {"x": "straße"}, True),
        # ILIKE lowers one code point at a time, so a capital sigma never becomes a final sigma.
        ("x ilike 'ας'", {"x": "ΑΣ"}, False),
        ("x ilike y", {"x": "ǅ", "y": "ǆ"}, True),
        ("x ilike y", {"x": "a", "y": None}, None),
    ],
)
def test_like(text, row, expected):
    assert evaluate(text, **row) is expected


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("x / 2", {"x": 5}, 2.5),
        ("x / 2", {"x": 4}, 2.0),
        ("x / 2", {"x": Decimal("1.5")}, 0.75),
        ("x / y", {"x": 2**60, "y": 3}, float(2**60) / 3.0),
        ("x / y", {"x": to_real(1.0), "y": 3}, to_real(1.0 / 3.0)),
        ("x / y", {"x": to_real(1.0), "y": 3.0}, 1.0 / 3.0),
        ("x * 2", {"x": 3}, 6),
        ("x * 1.5", {"x": 2}, Decimal("3.0")),
        ("x * 1.5", {"x": 2.0}, 3.0),
        ("x * y", {"x": Decimal("1.50"), "y": Decimal("2.25")}, Decimal("3.3750")),
        ("x + 1", {"x": Decimal("1.50")}, Decimal("2.50")),
        ("x + y", {"x": to_real(0.1), "y": to_real(0.2)}, to_real(0.30000001192092896)),
        ("x + y", {"x": to_real(0.1), "y": 0.2}, 0.30000000149011613),
        ("x * 3", {"x": to_real(0.1)}, to_real(0.30000001192092896)),
        # % takes the sign of the dividend, as in C.
        ("x % 3", {"x": -7}, -1),
        ("x % -3", {"x": 7}, 1),
        ("x % 3", {"x": -7.5}, -1.5),
        ("-7.5 % 2", {}, Decimal("-1.5")),
        ("x % 3.5", {"x": 10}, Decimal("3.0")),
        ("x + 1", {"x": None}, None),
        ("-x", {"x": 3}, -3),
        ("-(0.0)", {}, Decimal("0.0")),
        ("- -x", {"x": 2}, 2),
        ("x + 1", {"x": DAY}, date(2024, 1, 6)),
        ("x - 1", {"x": DAY}, date(2024, 1, 4)),
        ("x - y", {"x": DAY, "y": date(2023, 12, 25)}, 11),
    ],
)
def test_arithmetic(text, row, expected):
    assert_same(evaluate(text, **row), expected)


@pytest.mark.parametrize("text", ["x / 0", "x % 0", "x / 0.0"])
def test_division_by_zero_undefined(text):
    with pytest.raises(ZeroDivisionError):
        evaluate(text, x=5)


@pytest.mark.parametrize(("text", "row"), [("x + 1", {"x": "a"}), ("x + 1", {"x": True}), ("(x, 2) + 1", {"x": 1})])
def test_arithmetic_invalid_types(text, row):
    with pytest.raises(NotImplementedError):
        evaluate(text, **row)


NPS_POINTS = "case when score >= 9 then 100 when score >= 7 then 0 when score >= 0 then -100 end"


@pytest.mark.parametrize(("score", "expected"), [(10, 100), (9, 100), (8.5, 0), (7, 0), (0, -100), (-1, None), (None, None)])
def test_case_nps_points(score, expected):
    assert evaluate(NPS_POINTS, score=score) == expected
    assert type(evaluate(NPS_POINTS, score=score)) is type(expected)


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("case x when 1 then 'one' when null then 'null' else 'other' end", {"x": None}, "other"),
        ("case x when 1 then 'one' else 'other' end", {"x": 1.0}, "one"),
        ("case x when '2' then 'two' end", {"x": 2}, "two"),
        ("case when x then 'y' else 'n' end", {"x": None}, "n"),
        ("case when x then 'y' else 'n' end", {"x": 2}, "y"),
        ("case when x > 1 then 'big' end", {"x": 0}, None),
        # Only the chosen branch is evaluated, so nothing is divided by zero here. The result
        # keeps the type of that branch, where DuckDB returns the DOUBLE 0.0 (see expressions.py).
        ("case when x > 0 then 1 / x else 0 end", {"x": 0}, 0),
        ("if(x > 1, 'big', 'small')", {"x": None}, "small"),
        ("iif(x > 1, 'big', 'small')", {"x": 2}, "big"),
        ("coalesce(x, y, 0)", {"x": None, "y": None}, 0),
        ("coalesce(x, y, 0)", {"x": None, "y": 2}, 2),
        ("coalesce(x, 1 / 0)", {"x": 1}, 1),
        ("ifnull(x, 5)", {"x": None}, 5),
        ("nullif(x, 0)", {"x": 0}, None),
        ("nullif(x, 0)", {"x": 1}, 1),
        ("nullif(x, 0)", {"x": None}, None),
        ("nullif(x, null)", {"x": 1}, 1),
        ("nullif(x, 1.0)", {"x": 1}, None),
        ("nullif(x, 'a')", {"x": "A"}, "A"),
        ("nullif(x, '2')", {"x": 2}, None),
    ],
)
def test_conditionals(text, row, expected):
    assert_same(evaluate(text, **row), expected)


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        # A DOUBLE rounds half to even on its way to an integer, but a DECIMAL or text rounds half
        # away from zero.
        ("cast(x as int)", 2.5, 2),
        ("cast(x as int)", 3.5, 4),
        ("cast(x as int)", -2.5, -2),
        ("cast(x as int)", Decimal("2.5"), 3),
        ("cast(x as int)", Decimal("-2.5"), -3),
        ("cast(x as int)", "2.5", 3),
        ("cast(x as int)", " 12 ", 12),
        ("cast(x as int)", "1e2", 100),
        ("cast(x as int)", True, 1),
        ("cast(x as bigint)", 3e10, 30000000000),
        ("cast(x as int)", None, None),
        ("cast(x as double)", "1.5", 1.5),
        ("cast(x as double)", " inf ", math.inf),
        ("cast(x as double)", "1.5e400", math.inf),
        ("cast(x as double)", 2, 2.0),
        ("cast(x as double)", False, 0.0),
        ("cast(x as double)", to_real(0.1), 0.10000000149011612),
        ("x::double", Decimal("1.25"), 1.25),
        ("cast(x as float)", 16777217, to_real(16777216.0)),
        ("cast(x as real)", 0.1, to_real(0.1)),
        # Casts of text and decimals to DECIMAL(p, s) round half away from zero exactly. A DOUBLE
        # is scaled first, so 4.35 (the double 4.3499…) becomes 4.4.
        ("cast(x as decimal(10, 2))", Decimal("1.235"), Decimal("1.24")),
        ("cast(x as decimal(10, 2))", Decimal("-1.235"), Decimal("-1.24")),
        ("cast(x as decimal(10, 2))", "1.005", Decimal("1.01")),
        ("cast(x as decimal(10, 1))", 4.35, Decimal("4.4")),
        ("cast(x as decimal(10, 2))", 0.125, Decimal("0.13")),
        ("cast(x as decimal(10, 2))", 1.005, Decimal("1.00")),
        ("cast(x as decimal(4))", 2.5, Decimal(3)),
        ("cast(x as decimal)", 1.23456, Decimal("1.235")),
        ("cast(x as numeric(5, 2))", 7, Decimal("7.00")),
        ("cast(x as decimal(3, 1))", True, Decimal("1.0")),
        ("cast(x as varchar)", 1.5, "1.5"),
        ("cast(x as varchar)", 100.0, "100.0"),
        ("cast(x as varchar)", 1e15, "1000000000000000.0"),
        ("cast(x as varchar)", 1e16, "1e+16"),
        ("cast(x as varchar)", 1.5e-5, "1.5e-05"),
        ("cast(x as varchar)", -0.0, "-0.0"),
        ("cast(x as varchar)", NAN, "nan"),
        ("cast(x as varchar)", Decimal("1.50"), "1.50"),
        ("cast(x as varchar)", to_real(0.1), "0.1"),
        ("cast(x as varchar)", to_real(16777217.0), "16777216.0"),
        ("cast(x as text)", True, "true"),
        ("cast(x as text)", 7, "7"),
        ("cast(x as text)", DAY, "2024-01-05"),
        ("cast(x as text)", datetime(2024, 1, 5, 1, 2, 3, 500000), "2024-01-05 01:02:03.5"),
        ("cast(x as text)", datetime(2024, 1, 5), "2024-01-05 00:00:00"),
        ("cast(x as boolean)", "yes", True),
        ("cast(x as boolean)", "T", True),
        ("cast(x as boolean)", "0", False),
        ("cast(x as boolean)", 0.0, False),
        ("cast(x as boolean)", Decimal("0.5"), True),
        ("cast(x as date)", "2024-1-5", DAY),
        ("cast(x as date)", "2024-01-05 23:59", DAY),
        ("cast(x as date)", MORNING, DAY),
        ("cast(x as timestamp)", DAY, datetime(2024, 1, 5)),
        ("cast(x as timestamp)", "2024-01-05 10:00:00.5", datetime(2024, 1, 5, 10, 0, 0, 500000)),
        ("x::timestamp", "2024-01-05T10:00", MORNING),
        ("cast(x as timestamptz)", "2024-01-05 10:00:00+02", datetime(2024, 1, 5, 10, tzinfo=timezone(timedelta(hours=2)))),
        ("cast(x as timestamptz)", "2024-01-05 10:00:00Z", MORNING_UTC),
        ("try_cast(x as int)", "abc", None),
        ("try_cast(x as int)", 3e10, None),
        ("try_cast(x as int)", "2.5", 3),
        ("try_cast(x as date)", "2024-02-30", None),
    ],
)
def test_casts(text, value, expected):
    assert_same(evaluate(text, x=value), expected)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("cast(x as int)", "abc"),
        ("cast(x as int)", 3e10),
        ("cast(x as int)", "2147483648"),
        ("cast(x as int)", NAN),
        ("cast(x as double)", "1e"),
        ("cast(x as double)", "0x10"),
        ("cast(x as decimal(4, 2))", Decimal("99.995")),
        ("cast(x as decimal(4, 2))", "1234"),
        ("cast(x as float)", 1e39),
        ("cast(x as boolean)", "on"),
        ("cast(x as boolean)", " true"),
        ("cast(x as date)", "2024-02-30"),
    ],
)
def test_casts_invalid(text, value):
    with pytest.raises(ConversionError):
        evaluate(text, x=value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("cast(x as text)", MORNING_UTC),
        ("cast(x as date)", MORNING_UTC),
        ("cast(x as timestamptz)", MORNING),
        ("cast(x as timestamptz)", "2024-01-05 10:00"),
        ("cast(x as timestamp)", "2024-01-05 10:00:00+02"),
        ("cast(x as date)", "2024/01/05"),
        ("cast(x as int)", "0x10"),
        ("cast(x as int)", "1_000"),
        ("cast(x as date)", 7),
        ("try_cast(x as date)", MORNING_UTC),
    ],
)
def test_casts_not_modelled(text, value):
    with pytest.raises(NotImplementedError):
        evaluate(text, x=value)


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("lower(x)", "ÀB", "àb"),
        ("lower(x)", "ΑΣ", "ασ"),
        ("lower(x)", "İ", "i"),
        ("lcase(x)", "K", "k"),
        ("upper(x)", "straße", "STRAẞE"),
        ("upper(x)", "ﬁ", "ﬁ"),
        ("upper(x)", "ᾳ", "ᾼ"),
        ("upper(x)", "ǅ", "Ǆ"),
        ("ucase(x)", "ſ", "S"),
        ("upper(x)", None, None),
        ("length(x)", "e\u0301", 2),
        ("length(x)", "", 0),
        ("char_length(x)", "héllo", 5),
        ("length(x)", None, None),
        # TRIM without characters removes Unicode space separators, not tabs or line breaks.
        ("trim(x)", "  a  ", "a"),
        ("trim(x)", "\u00a0a\u3000", "a"),
        ("trim(x)", "\ta\n", "\ta\n"),
        ("ltrim(x)", "  a  ", "a  "),
        ("rtrim(x)", "  a  ", "  a"),
        ("trim(x, 'yx')", "xyaxy", "a"),
        ("trim(x, 'a')", "aaa", ""),
        ("trim(x, '')", "abc", "abc"),
        ("trim(leading 'x' from x)", "xxaxx", "axx"),
        ("trim(trailing 'x' from x)", "xxaxx", "xxa"),
        ("trim(both 'x' from x)", "xxaxx", "a"),
        ("trim(x, null)", "a", None),
        ("substring(x, 2, 3)", "hello", "ell"),
        ("substring(x, 2)", "hello", "ello"),
        ("substring(x, 0, 3)", "hello", "he"),
        ("substring(x, 0)", "hello", "hello"),
        ("substring(x, -3, 2)", "hello", "ll"),
        ("substring(x, -2)", "hello", "lo"),
        ("substring(x, -6, 3)", "hello", "he"),
        ("substring(x, -10, 3)", "hello", ""),
        ("substring(x, 2, -1)", "hello", "h"),
        ("substring(x, -2, -2)", "hello", "el"),
        ("substring(x, 3, -5)", "hello", "he"),
        ("substring(x, 10)", "hello", ""),
        ("substring(x, 1, 0)", "hello", ""),
        ("substring(x, 2, 3)", "héllo", "éll"),
        ("substr(x, 2, 3)", "hello", "ell"),
        ("substring(x from 2 for 3)", "hello", "ell"),
        ("substring(x, null, 2)", "hello", None),
    ],
)
def test_text_functions(text, value, expected):
    assert_same(evaluate(text, x=value), expected)


@pytest.mark.parametrize("text", ["lower(x)", "length(x)", "trim(x)", "substring(x, 1)", "x like '1'"])
def test_text_functions_reject_numbers(text):
    with pytest.raises(NotImplementedError):
        evaluate(text, x=1)


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("abs(x)", -3, 3),
        ("abs(x)", Decimal("-2.5"), Decimal("2.5")),
        ("abs(x)", -0.0, 0.0),
        ("@x", -2.5, 2.5),
        # ROUND goes half away from zero. A DOUBLE rounds by its exact binary value.
        ("round(x)", Decimal("2.5"), Decimal(3)),
        ("round(x)", Decimal("-2.5"), Decimal(-3)),
        ("round(x)", Decimal("-0.4"), Decimal(0)),
        ("round(x)", 2.5, 3.0),
        ("round(x)", 0.5, 1.0),
        ("round(x)", -0.4, -0.0),
        ("round(x)", 7, 7),
        ("round(x, 1)", 1.25, 1.3),
        ("round(x, 1)", -1.25, -1.3),
        ("round(x, 1)", 4.35, 4.3),
        ("round(x, 2)", 1.005, 1.0),
        ("round(x, -1)", 15, 20),
        ("round(x, -1)", -15, -20),
        ("round(x, -1)", 25.0, 30.0),
        ("round(x, -2)", 12345.678, 12300.0),
        ("round(x, -1)", Decimal("15.5"), Decimal(20)),
        ("round(x, 3)", Decimal("1.234567"), Decimal("1.235")),
        ("round(x, 5)", Decimal("1.50"), Decimal("1.50")),
        ("round(x, 5)", 1e300, 1.0000000000000002e300),
        ("round(x, 1)", to_real(1.5), to_real(1.5)),
        ("round(x, 1)", NAN, NAN),
        ("round(x, null)", 1.5, None),
        # FLOOR and CEIL return a DOUBLE for integers and doubles and a DECIMAL of scale 0 for decimals.
        ("floor(x)", 2.5, 2.0),
        ("floor(x)", 7, 7.0),
        ("floor(x)", -0.0, -0.0),
        ("floor(x)", Decimal("-2.5"), Decimal(-3)),
        ("ceil(x)", -0.5, -0.0),
        ("ceil(x)", Decimal("-0.5"), Decimal(0)),
        ("ceiling(x)", 2.1, 3.0),
        ("ceil(x)", to_real(1.5), to_real(2.0)),
        ("floor(x, 2)", 1.239, 1.23),
        ("ceil(x, 1)", 1.21, 1.3),
        ("floor(x, 1)", 7, 7.0),
        ("floor(x)", None, None),
    ],
)
def test_numeric_functions(text, value, expected):
    assert_same(evaluate(text, x=value), expected)


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("least(1, null, 3)", {}, 1),
        ("greatest(x, y)", {"x": None, "y": None}, None),
        ("greatest(x, y)", {"x": None, "y": 2}, 2),
        # Numbers come back in the common type of all the arguments.
        ("least(1, 2.5)", {}, Decimal("1.0")),
        ("greatest(1.25, 2)", {}, Decimal("2.00")),
        ("least(x, y)", {"x": 1, "y": 2.5}, 1.0),
        ("least(x, y)", {"x": to_real(1.5), "y": 1}, to_real(1.0)),
        ("least(true, 1)", {}, 1),
        ("greatest(x, y)", {"x": True, "y": False}, True),
        ("least(x, y)", {"x": "a", "y": "B"}, "B"),
        ("greatest(x, y)", {"x": DAY, "y": MORNING}, MORNING),
        ("least(x, y)", {"x": DAY, "y": MORNING}, datetime(2024, 1, 5)),
        ("greatest(x, '2024-01-06')", {"x": DAY}, date(2024, 1, 6)),
        ("least(x)", {"x": 5}, 5),
    ],
)
def test_least_greatest(text, row, expected):
    assert_same(evaluate(text, **row), expected)


@pytest.mark.parametrize(
    "text",
    [
        "x // 2",  # integer division is not on the allow-list
        "x like 'a' escape '!'",
        "strlen(x)",
        "round(x, 2, 1)",  # sqlglot reads a third argument as `truncate`
        "round(x, 1.5)",
    ],
)
def test_unsupported_sql(text):
    with pytest.raises(NotImplementedError):
        evaluate(text, x=5)


def test_real_keeps_32_bits():
    value = to_real(0.1)
    assert isinstance(value, Real)
    assert float(value) == 0.10000000149011612
