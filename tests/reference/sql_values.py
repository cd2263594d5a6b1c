"""SQL values as Python objects, with the casts, arithmetic and scalar functions of DuckDB.

The Python type of a value is its SQL type. None is NULL, bool is BOOLEAN, int is INTEGER or
BIGINT, Decimal is DECIMAL (its exponent is the scale), float is DOUBLE and `Real` is FLOAT
(REAL, 32 bits). str is VARCHAR, date is DATE, a naive datetime is TIMESTAMP, an aware datetime
is TIMESTAMPTZ and a tuple is a row value. The rules below follow DuckDB 2.0.1, the
version of the test environment, and test_expressions.py contains the cases they were checked on.

Every function raises `ConversionError` where DuckDB raises a conversion error at run time, so
that TRY_CAST can return NULL instead. It raises NotImplementedError for types or inputs that
the reference does not model, so a test never compares against a guessed value. Conversions
between TIMESTAMPTZ and text, dates or naive timestamps depend on DuckDB's session time zone,
which the project does not set, so they raise NotImplementedError.
"""

import math
import re
import struct
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

INTEGER_BITS = {"integer": 32, "bigint": 64}
MAX_DECIMAL_PRECISION = 38
DEFAULT_DECIMAL = (18, 3)
"""Precision and scale of DECIMAL without parameters, as sqlglot writes it for DuckDB."""

# Enough digits for exact decimal arithmetic on the values of a definition and for quantizing
# the exact binary value of any double.
_DECIMAL_DIGITS = 2000

_TRUE_TEXTS = {"true", "t", "1", "yes", "y"}
_FALSE_TEXTS = {"false", "f", "0", "no", "n"}
# The numbers DuckDB reads from text, after it strips ASCII whitespace.
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL_DOUBLE_TEXT = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
_UNDERSCORE_NUMBER_TEXT = re.compile(r"[+-]?[0-9._]*_[0-9._]*(?:[eE][+-]?[0-9]+)?")
_HEXADECIMAL_TEXT = re.compile(r"[+-]?0[xX][0-9a-fA-F]+")
_DATE_TEXT = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_TIME_TEXT = re.compile(r"[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?")
_OFFSET_TEXT = re.compile(r"\s*(?:(Z)|([+-])([0-9]{2})(?::?([0-9]{2}))?)")
# Texts that DuckDB may read as dates in a layout the reference does not parse: '2024/01/05',
# '24-1-5', '-2024-01-05' (BC), and the words 'epoch' and 'infinity'.
_OTHER_DATE_TEXT = re.compile(r"[+-]?[0-9]+([-/.])[0-9]+\1[0-9]|[+-]?(?:epoch|inf|infinity)", re.IGNORECASE)


class ConversionError(ValueError):
    """A value that DuckDB cannot convert to the requested type (an error, or NULL under TRY_CAST)."""


class Real(float):
    """A FLOAT (REAL) value: a Python float whose value is exactly a 32-bit float."""

    def __repr__(self) -> str:
        return f"Real({float(self)!r})"


def to_real(value: float) -> Real:
    """Round a double to the nearest 32-bit float, raising ConversionError when it is out of range."""
    if math.isnan(value) or math.isinf(value):
        return Real(value)
    try:
        return Real(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:
        raise ConversionError(f"the value {value!r} is out of range for FLOAT") from None


def is_number(value: Any) -> bool:
    """Return whether a value is numeric (int, Decimal or float, not bool)."""
    return isinstance(value, (int, Decimal, float)) and not isinstance(value, bool)


def decimal_to_float(value: Any) -> Any:
    """Return a DECIMAL value as a float and any other value unchanged."""
    return float(value) if isinstance(value, Decimal) else value


def describe_type(value: Any) -> str:
    """Return the SQL type name of a value, for error messages."""
    if value is None:
        return "NULL"
    for kind, name in ((bool, "BOOLEAN"), (int, "INTEGER"), (Decimal, "DECIMAL"), (Real, "FLOAT"), (float, "DOUBLE"),
                       (str, "VARCHAR"), (tuple, "ROW")):
        if isinstance(value, kind):
            return name
    if isinstance(value, datetime):
        return "TIMESTAMP" if value.tzinfo is None else "TIMESTAMPTZ"
    if isinstance(value, date):
        return "DATE"
    return type(value).__name__


def _not_modelled(message: str) -> NotImplementedError:
    return NotImplementedError(f"the reference cannot evaluate {message}")


def _clean_decimal(value: Decimal) -> Decimal:
    """Drop the sign of a zero, which Python's Decimal keeps and DuckDB's DECIMAL cannot hold."""
    return value.copy_abs() if value == 0 else value


def decimal_scale(value: Decimal) -> int:
    return max(0, -int(value.as_tuple().exponent))


def _round_half_away(value: Decimal, places: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round exactly to `places` decimal places (negative places round to tens, hundreds and so on)."""
    with localcontext() as context:
        context.prec = _DECIMAL_DIGITS
        if places >= 0:
            return value.quantize(Decimal(1).scaleb(-places), rounding=rounding)
        whole = value.scaleb(places).quantize(Decimal(1), rounding=rounding)
        return whole.scaleb(-places).quantize(Decimal(1))


# Numbers.

_NUMERIC_RANK = {int: 0, Decimal: 1, Real: 2, float: 3}


def _numeric_rank(value: Any) -> int:
    if isinstance(value, Real):
        return _NUMERIC_RANK[Real]
    for kind in (int, Decimal, float):
        if isinstance(value, kind):
            return _NUMERIC_RANK[kind]
    raise _not_modelled(f"a number of type {describe_type(value)}")


def _as_rank(value: Any, rank: int) -> Any:
    """Convert a number to the numeric type of `rank`, as DuckDB does before it combines two numbers."""
    if rank == 0:
        return int(value)
    if rank == 1:
        return Decimal(value)
    if rank == 2:
        return value if isinstance(value, Real) else to_real(float(value))
    return float(value)


def promote(*values: Any, align_scale: bool = False) -> list[Any]:
    """Convert numbers to their common type: INTEGER < DECIMAL < FLOAT < DOUBLE; booleans count as integers.

    An integer becomes a DECIMAL of scale 0, which is what arithmetic needs. With `align_scale`,
    every DECIMAL gets the largest scale among them, as the result of LEAST or GREATEST does.
    """
    numbers = [int(value) if isinstance(value, bool) else value for value in values]
    rank = max(_numeric_rank(value) for value in numbers)
    promoted = [_as_rank(value, rank) for value in numbers]
    if rank == 1 and align_scale:
        scale = max(decimal_scale(value) for value in promoted)
        promoted = [value.quantize(Decimal(1).scaleb(-scale)) for value in promoted]
    return promoted


def _require_numbers(operator: str, *values: Any) -> None:
    for value in values:
        if not is_number(value):
            types = ", ".join(describe_type(item) for item in values)
            raise _not_modelled(f"{operator} on {types}: DuckDB has no such operator")


def _finish(value: Any, rank: int) -> Any:
    if rank == 2:
        return to_real(value)
    if isinstance(value, Decimal):
        return _clean_decimal(value)
    return value


def arithmetic(operator: str, left: Any, right: Any) -> Any:
    """Apply +, -, *, / or % to two non-NULL values with DuckDB's result types.

    `/` returns a DOUBLE, or a FLOAT when one operand is a FLOAT and neither is a DOUBLE. `%`
    takes the sign of the dividend, as in C. A DATE plus or minus an integer moves by days, and
    the difference of two dates is a number of days.
    """
    if isinstance(left, date) or isinstance(right, date):
        return _date_arithmetic(operator, left, right)
    _require_numbers(operator, left, right)
    left, right = promote(left, right)
    rank = _numeric_rank(left)
    if operator == "+":
        return _finish(_exact(lambda: left + right), rank)
    if operator == "-":
        return _finish(_exact(lambda: left - right), rank)
    if operator == "*":
        return _finish(_exact(lambda: left * right), rank)
    if right == 0:
        # NOTE: DuckDB 2.0.1 returns ±infinity or NaN for x / 0 and raises an error for x % 0,
        # and engines differ (NULL, an error or infinity), so the reference leaves both undefined.
        raise ZeroDivisionError(f"the reference leaves {operator} by zero in a definition expression undefined")
    if operator == "/":
        return _finish(float(left) / float(right), rank if rank == 2 else 3)
    if operator == "%":
        if isinstance(left, int):
            remainder = abs(left) % abs(right)
            return remainder if left >= 0 else -remainder
        if isinstance(left, Decimal):
            return _finish(_exact(lambda: left % right), rank)
        return _finish(math.fmod(left, right), rank)
    raise _not_modelled(f"the operator {operator!r}")


def _exact(operation: Callable[[], Any]) -> Any:
    with localcontext() as context:
        context.prec = _DECIMAL_DIGITS
        return operation()


def _date_arithmetic(operator: str, left: Any, right: Any) -> Any:
    kinds = (describe_type(left), describe_type(right))
    if operator == "+" and kinds == ("DATE", "INTEGER"):
        return left + timedelta(days=right)
    if operator == "+" and kinds == ("INTEGER", "DATE"):
        return right + timedelta(days=left)
    if operator == "-" and kinds == ("DATE", "INTEGER"):
        return left - timedelta(days=right)
    if operator == "-" and kinds == ("DATE", "DATE"):
        return (left - right).days
    # NOTE: DuckDB adds only a 32-bit INTEGER to a DATE and rejects a BIGINT column at bind
    # time, which the reference cannot tell apart because both are Python ints.
    raise _not_modelled(f"{kinds[0]} {operator} {kinds[1]}")


def negate(value: Any) -> Any:
    _require_numbers("unary -", value)
    if isinstance(value, Decimal):
        return _clean_decimal(-value)
    if isinstance(value, Real):
        return Real(-value)
    return -value


def absolute(value: Any) -> Any:
    _require_numbers("ABS", value)
    return Real(abs(value)) if isinstance(value, Real) else abs(value)


def round_number(value: Any, places: int) -> Any:
    """Round half away from zero to `places` decimal places, as DuckDB's ROUND does.

    A DECIMAL keeps at most its own scale, and an integer stays an integer. A DOUBLE is rounded
    by its exact binary value, so ROUND(4.35, 1) is 4.3 because the double is 4.3499…. DuckDB
    computes in doubles in two cases. With negative places it rounds x / 10^-n and multiplies
    back. When x * 10^n is 2^52 or more, it returns x * 10^n / 10^n, which can differ from x in
    the last digit.
    """
    _require_numbers("ROUND", value)
    if isinstance(places, bool) or not isinstance(places, int):
        raise _not_modelled(f"ROUND with {describe_type(places)} decimal places: DuckDB needs an integer")
    if isinstance(value, int):
        if places >= 0:
            return value
        return int(_round_half_away(Decimal(value), places))
    if isinstance(value, Decimal):
        rounded = _round_half_away(value, min(places, decimal_scale(value)))
        return _clean_decimal(rounded)
    rounded = _round_double(float(value), places)
    return to_real(rounded) if isinstance(value, Real) else rounded


def _round_double(value: float, places: int) -> float:
    # These rules were compared with DuckDB 2.0.1 on 24,000 random doubles and ties in a one-off
    # check (not a test here), and none differed.
    if math.isnan(value) or math.isinf(value):
        return value
    modifier = 10.0 ** abs(places)
    if places < 0:
        rounded = float(_round_half_away(Decimal(value / modifier), 0)) * modifier
        return value if math.isinf(rounded) else math.copysign(rounded, value)
    scaled = value * modifier
    if math.isinf(scaled):
        return value
    if abs(scaled) >= 2.0**52:
        return scaled / modifier
    return math.copysign(float(_round_half_away(Decimal(value), places)), value)


def floor_or_ceil(value: Any, function: str, places: int | None) -> Any:
    """Compute FLOOR or CEIL: a DOUBLE for integers and doubles, a DECIMAL with scale 0 for decimals.

    With `places`, the result is a DOUBLE rounded down (or up) to that many decimal places.
    DuckDB has no such function, and sqlglot writes FLOOR(x, n) for it as
    ROUND(FLOOR(x * POWER(10, n)) / POWER(10, n), n), all in doubles, which this follows. So
    CEIL(0.1, 1) is 0.1, although the double 0.1 is slightly above one tenth.
    """
    _require_numbers(function.upper(), value)
    rounding = ROUND_FLOOR if function == "floor" else ROUND_CEILING
    if places is not None:
        if isinstance(places, bool) or not isinstance(places, int):
            raise _not_modelled(f"{function.upper()} with {describe_type(places)} decimal places")
        power = 10.0**places
        scaled = floor_or_ceil(float(value) * power, function, None)
        return _round_double(scaled / power, places)
    if isinstance(value, Decimal):
        return _clean_decimal(_round_half_away(value, 0, rounding))
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        result = number
    else:
        whole = math.floor(number) if function == "floor" else math.ceil(number)
        result = math.copysign(float(whole), number) if whole == 0 else float(whole)
    return to_real(result) if isinstance(value, Real) else result


# Comparisons.

def compare(left: Any, right: Any) -> int:
    """Return -1, 0 or 1 for two non-NULL values of comparable types, as DuckDB orders them.

    Numbers compare by value after promotion to their common type, so a DECIMAL 0.1 equals the
    DOUBLE 0.1. NaN equals NaN and is above every other number. A DATE compares with a
    TIMESTAMP as its midnight. Row values compare field by field, with NULL equal to NULL and
    above every value.
    """
    if isinstance(left, tuple) or isinstance(right, tuple):
        return _compare_rows(left, right)
    if (is_number(left) or isinstance(left, bool)) and (is_number(right) or isinstance(right, bool)):
        if isinstance(left, bool) and isinstance(right, bool):
            return (left > right) - (left < right)
        left, right = promote(left, right)
        if isinstance(left, float) and (math.isnan(left) or math.isnan(right)):
            return math.isnan(left) - math.isnan(right)
        return (left > right) - (left < right)
    if isinstance(left, str) and isinstance(right, str):
        # Python orders strings by code point, which is the byte order of UTF-8 that DuckDB uses.
        return (left > right) - (left < right)
    if isinstance(left, date) and isinstance(right, date):
        left, right = _comparable_times(left, right)
        return (left > right) - (left < right)
    raise _not_modelled(f"a comparison of {describe_type(left)} with {describe_type(right)}")


def _comparable_times(left: date, right: date) -> tuple[date, date]:
    kinds = {describe_type(left), describe_type(right)}
    if "TIMESTAMPTZ" in kinds and kinds != {"TIMESTAMPTZ"}:
        raise _not_modelled(f"a comparison of {' with '.join(sorted(kinds))}: it depends on the session time zone")
    if kinds == {"DATE", "TIMESTAMP"}:
        return _as_timestamp(left), _as_timestamp(right)
    return left, right


def _as_timestamp(value: date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def _compare_rows(left: Any, right: Any) -> int:
    if not (isinstance(left, tuple) and isinstance(right, tuple)) or len(left) != len(right):
        raise _not_modelled(f"a comparison of {describe_type(left)} with {describe_type(right)}: "
                            "only rows with the same number of fields compare")
    for left_field, right_field in zip(left, right):
        if left_field is None or right_field is None:
            order = (left_field is None) - (right_field is None)
        else:
            order = compare(left_field, right_field)
        if order:
            return order
    return 0


# Casts.

def cast(value: Any, target: str, precision: int | None = None, scale: int | None = None) -> Any:
    """Convert a value to the SQL type `target`, keeping NULL.

    `target` is text, integer, bigint, double, real, decimal (DECIMAL(18,3) unless `precision`
    and `scale` are given), boolean, date, timestamp or timestamptz.
    """
    if value is None:
        return None
    if target == "text":
        return to_text(value)
    if target in INTEGER_BITS:
        return _to_integer(value, INTEGER_BITS[target])
    if target == "double":
        return _to_double(value)
    if target == "real":
        return to_real(_to_double(value))
    if target == "decimal":
        default_precision, default_scale = DEFAULT_DECIMAL
        return _to_decimal(value, default_precision if precision is None else precision,
                           default_scale if scale is None else scale)
    if target == "boolean":
        return to_boolean(value)
    if target == "date":
        return _to_date(value)
    if target == "timestamp":
        return _to_timestamp(value)
    if target == "timestamptz":
        return _to_timestamptz(value)
    raise _not_modelled(f"a cast to {target}")


def to_text(value: Any) -> str:
    """Format a value as DuckDB's CAST(… AS VARCHAR) does."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Real):
        return _double_text(_shortest_real(value))
    if isinstance(value, float):
        return _double_text(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise _not_modelled("TIMESTAMPTZ as text: it depends on the session time zone")
        fraction = f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
        return f"{value.date().isoformat()} {value.strftime('%H:%M:%S')}{fraction}"
    if isinstance(value, date):
        return value.isoformat()
    raise _not_modelled(f"{describe_type(value)} as text")


def _double_text(value: float) -> str:
    # DuckDB prints the shortest text that reads back as the same double, in the same layout as
    # Python's repr (exponent from 1e16 up and below 1e-4).
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(float(value))


def _shortest_real(value: Real) -> float:
    """Return the double nearest to the shortest decimal text that reads back as the same 32-bit float."""
    if math.isnan(value) or math.isinf(value):
        return float(value)
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if to_real(candidate) == value:
            return candidate
    return float(value)


def _strip_ascii(text: str) -> str:
    return text.strip(" \t\n\r\v\f")


def _parse_number_text(text: str, target: str) -> Decimal:
    stripped = _strip_ascii(text)
    if _NUMBER_TEXT.fullmatch(stripped):
        return Decimal(stripped)
    with_underscores = _UNDERSCORE_NUMBER_TEXT.fullmatch(stripped) is not None
    hexadecimal = _HEXADECIMAL_TEXT.fullmatch(stripped) is not None and target in ("INTEGER", "BIGINT")
    if with_underscores or hexadecimal:
        # DuckDB reads '1_000' as 1000, and '0x10' as 16 for integers, which the reference does not model.
        raise _not_modelled(f"the text {text!r} as {target}: the reference reads only plain decimal numbers")
    raise ConversionError(f"could not convert the text {text!r} to {target}")


def _to_integer(value: Any, bits: int) -> int:
    name = "INTEGER" if bits == 32 else "BIGINT"
    if isinstance(value, bool):
        result = int(value)
    elif isinstance(value, int):
        result = value
    elif isinstance(value, Decimal):
        result = int(_round_half_away(value, 0))
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ConversionError(f"the value {value!r} cannot be cast to {name}")
        result = round(value)  # a DOUBLE rounds half to even, unlike a DECIMAL or text
    elif isinstance(value, str):
        result = int(_round_half_away(_parse_number_text(value, name), 0))
    else:
        raise _not_modelled(f"a cast of {describe_type(value)} to {name}")
    limit = 2 ** (bits - 1)
    if not -limit <= result < limit:
        raise ConversionError(f"the value {value!r} is out of range for {name}")
    return result


def _to_double(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        stripped = _strip_ascii(value)
        if _SPECIAL_DOUBLE_TEXT.fullmatch(stripped):
            return float(stripped)
        return float(_parse_number_text(value, "DOUBLE"))
    raise _not_modelled(f"a cast of {describe_type(value)} to DOUBLE")


def _to_decimal(value: Any, precision: int, scale: int) -> Decimal:
    name = f"DECIMAL({precision},{scale})"
    if isinstance(value, bool):
        result = Decimal(int(value))
    elif isinstance(value, (int, Decimal)):
        result = _round_half_away(Decimal(value), scale)
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ConversionError(f"the value {value!r} cannot be cast to {name}")
        # DuckDB scales the double first and rounds the product, so 4.35 becomes 4.4 at one
        # place although the double is 4.3499….
        scaled = value * 10.0**scale
        if math.isinf(scaled):
            raise ConversionError(f"the value {value!r} is out of range for {name}")
        result = _round_half_away(Decimal(scaled), 0).scaleb(-scale)
    elif isinstance(value, str):
        result = _round_half_away(_parse_number_text(value, name), scale)
    else:
        raise _not_modelled(f"a cast of {describe_type(value)} to {name}")
    result = _round_half_away(result, scale)
    if abs(result) >= Decimal(10) ** (precision - scale):
        raise ConversionError(f"the value {value!r} is out of range for {name}")
    return _clean_decimal(result)


def to_boolean(value: Any) -> bool | None:
    """Convert a value to BOOLEAN, as DuckDB does for a cast and for a condition (WHERE, AND, CASE WHEN)."""
    if value is None or isinstance(value, bool):
        return value
    if is_number(value):
        return value != 0
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in _TRUE_TEXTS:
            return True
        if lowered in _FALSE_TEXTS:
            return False
        raise ConversionError(f"could not convert the text {value!r} to BOOLEAN")
    raise _not_modelled(f"{describe_type(value)} as a BOOLEAN")


def _parse_time_text(text: str, target: str) -> tuple[datetime, str]:
    """Read 'YYYY-MM-DD[ HH:MM[:SS[.fraction]]]' at the start of a text and return it with the unread rest."""
    stripped = _strip_ascii(text)
    date_match = _DATE_TEXT.match(stripped)
    if date_match is None:
        if _OTHER_DATE_TEXT.match(stripped):
            raise _not_modelled(f"the text {text!r} as {target}: the reference reads only YYYY-MM-DD dates")
        raise ConversionError(f"could not convert the text {text!r} to {target}")
    year, month, day = (int(part) for part in date_match.groups())
    rest = stripped[date_match.end():]
    hour = minute = second = microsecond = 0
    time_match = _TIME_TEXT.match(rest)
    if time_match is not None:
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        second = int(time_match.group(3) or 0)
        microsecond = int((time_match.group(4) or "0")[:6].ljust(6, "0"))
        rest = rest[time_match.end():]
    try:
        return datetime(year, month, day, hour, minute, second, microsecond), rest
    except ValueError as error:
        raise ConversionError(f"could not convert the text {text!r} to {target}: {error}") from None


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise _not_modelled("a cast of TIMESTAMPTZ to DATE: it depends on the session time zone")
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        parsed, rest = _parse_time_text(value, "DATE")
        if rest and not _OFFSET_TEXT.fullmatch(rest):
            raise _not_modelled(f"the text {value!r} as DATE")
        return parsed.date()
    raise _not_modelled(f"a cast of {describe_type(value)} to DATE")


def _to_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise _not_modelled("a cast of TIMESTAMPTZ to TIMESTAMP: it depends on the session time zone")
        return value
    if isinstance(value, date):
        return _as_timestamp(value)
    if isinstance(value, str):
        parsed, rest = _parse_time_text(value, "TIMESTAMP")
        if rest:
            raise _not_modelled(f"the text {value!r} as TIMESTAMP: the reference reads no time zone offsets here")
        return parsed
    raise _not_modelled(f"a cast of {describe_type(value)} to TIMESTAMP")


def _to_timestamptz(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        parsed, rest = _parse_time_text(value, "TIMESTAMPTZ")
        offset = _OFFSET_TEXT.fullmatch(rest)
        if offset is not None:
            if offset.group(1):
                return parsed.replace(tzinfo=timezone.utc)
            sign = 1 if offset.group(2) == "+" else -1
            shift = timedelta(hours=int(offset.group(3)), minutes=int(offset.group(4) or 0))
            return parsed.replace(tzinfo=timezone(sign * shift))
    raise _not_modelled(f"a cast of {describe_type(value)} {value!r} to TIMESTAMPTZ: without an explicit "
                        "offset it depends on the session time zone")


# Text functions.

def _require_text(function: str, *values: Any) -> None:
    for value in values:
        if not isinstance(value, str):
            raise _not_modelled(f"{function} of {describe_type(value)}: DuckDB takes text only")


def _map_case(text: str, upper: bool) -> str:
    """Change case one code point at a time with Unicode's simple case mappings, as DuckDB does.

    Python's str.upper() and str.lower() apply the full mappings, which turn 'ß' into 'SS' and
    'ﬁ' into 'FI' and lower a final sigma to 'ς'. DuckDB maps each code point to exactly one.
    """
    characters = []
    for character in text:
        mapped = character.upper() if upper else character.lower()
        if len(mapped) != 1:
            mapped = _SIMPLE_CASE_EXCEPTIONS.get((character, upper)) or _simple_from_title(character, upper)
        characters.append(mapped)
    return "".join(characters)


# Simple mappings that Python's full mappings hide: DuckDB uppercases 'ß' to 'ẞ' and
# lowercases 'İ' to 'i'.
_SIMPLE_CASE_EXCEPTIONS = {("ß", True): "ẞ", ("İ", False): "i"}


def _simple_from_title(character: str, upper: bool) -> str:
    # Letters with a subscript iota ('ᾳ') have a one-character title case that is also their
    # simple uppercase. Other letters with a multi-character full mapping stay as they are.
    title = character.title()
    return title if upper and len(title) == 1 else character


def lower(value: str) -> str:
    _require_text("LOWER", value)
    return _map_case(value, upper=False)


def upper(value: str) -> str:
    _require_text("UPPER", value)
    return _map_case(value, upper=True)


def length(value: str) -> int:
    """Return the number of code points, which DuckDB's LENGTH counts (not bytes or graphemes)."""
    _require_text("LENGTH", value)
    return len(value)


def trim(value: str, characters: str | None, position: str) -> str:
    """Remove characters from the start, the end or both ends (`position` LEADING, TRAILING or BOTH).

    Without `characters`, DuckDB removes spaces: the Unicode space separators such as U+0020 and
    U+00A0, but not tabs or line breaks.
    """
    _require_text("TRIM", value)
    if characters is not None:
        _require_text("TRIM", characters)

    def removable(character: str) -> bool:
        if characters is None:
            return unicodedata.category(character) == "Zs"
        return character in characters

    start, end = 0, len(value)
    if position in ("BOTH", "LEADING"):
        while start < end and removable(value[start]):
            start += 1
    if position in ("BOTH", "TRAILING"):
        while end > start and removable(value[end - 1]):
            end -= 1
    return value[start:end]


def substring(value: str, start: int, count: int | None) -> str:
    """Return `count` code points from the 1-based position `start`, as DuckDB's SUBSTRING does.

    A negative start counts from the end (-1 is the last character), a start of 0 is one place
    before the first character, and a negative count takes the characters before `start`.
    Positions outside the text are dropped.
    """
    _require_text("SUBSTRING", value)
    for argument in (start, count):
        if argument is not None and (isinstance(argument, bool) or not isinstance(argument, int)):
            raise _not_modelled(f"SUBSTRING with a {describe_type(argument)} position or length")
    size = len(value)
    first = start if start >= 0 else size + start + 1
    if count is None:
        last = size
    elif count >= 0:
        last = first + count - 1
    else:
        first, last = first + count, first - 1
    first, last = max(first, 1), min(last, size)
    return value[first - 1:last] if first <= last else ""


def like(value: str, pattern: str, case_insensitive: bool) -> bool:
    """Match a LIKE pattern: `%` is any text, `_` any one character, and there is no escape character."""
    _require_text("ILIKE" if case_insensitive else "LIKE", value, pattern)
    if case_insensitive:
        value, pattern = lower(value), lower(pattern)
    parts = []
    for character in pattern:
        if character == "%":
            parts.append(".*")
        elif character == "_":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    return re.fullmatch("".join(parts), value, re.DOTALL) is not None
