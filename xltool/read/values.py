"""What a cell holds, as a ``CellValue``: number, blank, not-filled marker, or kept text.

Follows official-format.md §6.3 and §7: ``/ - — － 无 空 N/A`` mean *not filled* (never 0);
numbers typed as text (spaces, full-width digits, thousands separators, ``3.0``) are
numbers, but keep ``raw`` so validation can say they were coerced; amounts with a unit
(``251000元``, ``2000万元``) are converted to the column's unit (万元), also keeping ``raw``.

>>> parse_value(12.0)
CellValue(state='number', number=12, raw=None)
>>> parse_value(" １２ ")
CellValue(state='number', number=12, raw=' １２ ')
>>> parse_value("1,234.0").number
1234
>>> parse_value("／").state, parse_value("无").state, parse_value("").state
('marker', 'marker', 'blank')
>>> parse_value("251000元", unit="万元").number
25.1
>>> parse_value("2000万", unit="万元").number
2000
>>> parse_value("约20件")
CellValue(state='text', number=None, raw='约20件')

Text that a spreadsheet's ``+`` reads as a number is read as the same number (so our checks
agree with the template's 勾稽 row); dates, times and fractions, which the spreadsheet turns
into serial numbers, are never counts and stay text:

>>> [parse_value(t).number for t in ("12%", "(5)", "5-", "1e3", "\u00a012", "（１,０００）")]
[0.12, -5, -5, 1000, 12, -1000]
>>> [parse_value(t).state for t in ("2020-1-1", "1 1/2", "10:00", "TRUE", "(-5)", "12%元")]
['text', 'text', 'text', 'text', 'text', 'text']
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata

from xltool.core.model import BLANK, CellValue
from xltool.spec import AMOUNT_UNIT

MARKERS: frozenset[str] = frozenset(
    {"/", "\\", "-", "--", "---", "—", "——", "–", "－", "无", "空", "N/A", "NA", "#N/A", "不适用", "…", "……"}
)
"""Texts meaning "not filled" (after NFKC, whitespace removed, upper-cased)."""

# amount units → factor into 万元
_AMOUNT_UNITS: dict[str, float] = {"元": 1e-4, "万元": 1.0, "万": 1.0, "亿元": 1e4, "亿": 1e4}
# counting units accepted after a count (the number is kept, raw says it had a unit)
_COUNT_UNITS = frozenset({"件", "个", "项", "次", "条", "人", "人次", "家", "宗", "份", "起"})

_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+|(?=\.\d))(?:\.(\d*))?(?:[eE]([+-]?\d+))?([^\d.,+-]*)$")
_SPACES = re.compile(r"\s+")
_MINUS = str.maketrans({"−": "-", "–": "-", "﹣": "-"})

_CACHE: dict[float, CellValue] = {}
_CACHE_MAX = 20_000


def number_cell(x: float | int) -> CellValue:
    """A plain number cell (shared instances: the model is frozen, most values repeat)."""
    cv = _CACHE.get(x)
    if cv is None:
        n: int | float = x
        if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
            n = int(x)
        cv = CellValue.model_construct(state="number", number=n, raw=None)
        if len(_CACHE) < _CACHE_MAX:
            _CACHE[x] = cv
    return cv


def _tidy(x: float) -> int | float:
    x = round(x, 6)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def parse_text(raw: str, unit: str | None = None) -> CellValue:
    """A text cell: number-as-text, marker, blank or text (see module doc)."""
    t = _SPACES.sub("", unicodedata.normalize("NFKC", raw)).translate(_MINUS)
    if not t:
        return CellValue.model_construct(state="blank", number=None, raw=raw)
    if t.upper() in MARKERS:
        return CellValue.model_construct(state="marker", number=None, raw=raw)
    # the spreadsheet's own readings of text (core.numbers.engine_number): "12%" is 0.12,
    # "(5)" and "5-" are -5 (accounting negatives), "1e3" is 1000
    pct = t.endswith("%")
    if pct:
        t = t[:-1]
    neg = len(t) > 2 and t[0] == "(" and t[-1] == ")"
    if neg:
        t = t[1:-1]
    elif len(t) > 1 and t[-1] == "-" and t[-2].isdigit():
        neg, t = True, t[:-1]
    m = _NUMBER.match(t)
    if m is None:
        return CellValue.model_construct(state="text", number=None, raw=raw)
    sign, whole, frac, exp, suffix = m.groups()
    if (neg and sign) or (pct and suffix):
        return CellValue.model_construct(state="text", number=None, raw=raw)
    num = float((whole or "0").replace(",", "") + ("." + frac if frac else "") + (f"e{exp}" if exp else ""))
    if not math.isfinite(num):
        return CellValue.model_construct(state="text", number=None, raw=raw)
    if sign == "-" or neg:
        num = -num
    if pct:
        num /= 100
    if suffix:
        if unit == AMOUNT_UNIT and suffix in _AMOUNT_UNITS:
            num *= _AMOUNT_UNITS[suffix]
        elif unit is None and suffix in _COUNT_UNITS:
            pass
        else:
            return CellValue.model_construct(state="text", number=None, raw=raw)
    return CellValue.model_construct(state="number", number=_tidy(num), raw=raw)


def parse_value(v: object, unit: str | None = None) -> CellValue:
    """Any value a reader returns (python-calamine, xlrd, openpyxl) → ``CellValue``."""
    # exact type tests (not isinstance) on the hot path: bool is an int, and mypy narrows ``type(v) is``
    if type(v) is float:
        if math.isfinite(v):
            return number_cell(v)
        # 1e309 in the XML reads as inf: not a count, and never blank (validation says so)
        return CellValue.model_construct(state="text", number=None, raw=repr(v))
    if type(v) is str:
        return BLANK if v == "" else parse_text(v, unit)
    if v is None:
        return BLANK
    if type(v) is bool:
        return CellValue.model_construct(state="text", number=None, raw="TRUE" if v else "FALSE")
    if type(v) is int:
        return number_cell(v)
    if isinstance(v, (_dt.date, _dt.time, _dt.timedelta)):
        return CellValue.model_construct(state="text", number=None, raw=str(v))
    if isinstance(v, (int, float)):
        f = float(v)
        return number_cell(f) if math.isfinite(f) else CellValue.model_construct(state="text", number=None, raw=repr(f))
    return CellValue.model_construct(state="text", number=None, raw=str(v))


def cell_text(v: object) -> str:
    """A cell as text for labels and meta fields (``2025.0`` → ``'2025'``)."""
    if v is None:
        return ""
    if type(v) is float:
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


# --- a formula typed into an input cell ------------------------------------------------------

_ARITH_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([-+*/()]))")


def eval_arithmetic(formula: str) -> float | None:
    """The value of a formula made only of numbers, ``+ - * /`` and parentheses (what a clerk
    types to add up a cell: ``=3+4``); None for anything else (references, functions, errors).

    >>> eval_arithmetic("3+4"), eval_arithmetic("=(1+2)*-3/2"), eval_arithmetic("2*3-1.5")
    (7.0, -4.5, 4.5)
    >>> eval_arithmetic("A1+1"), eval_arithmetic("SUM(1,2)"), eval_arithmetic("1/0"), eval_arithmetic("1+")
    (None, None, None, None)
    """
    text = formula.strip().removeprefix("=")
    tokens: list[str | float] = []
    pos = 0
    while pos < len(text):
        m = _ARITH_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            return None
        tokens.append(float(m.group(1)) if m.group(1) else m.group(2))
        pos = m.end()
    if not tokens or len(tokens) > 200:
        return None
    at = 0

    def peek() -> str | float | None:
        return tokens[at] if at < len(tokens) else None

    def take() -> str | float | None:
        nonlocal at
        t = peek()
        at += 1
        return t

    def expr(depth: int) -> float:
        v = term(depth)
        while peek() in ("+", "-"):
            v = v + term(depth) if take() == "+" else v - term(depth)
        return v

    def term(depth: int) -> float:
        v = unary(depth)
        while peek() in ("*", "/"):
            if take() == "*":
                v *= unary(depth)
            else:
                d = unary(depth)
                if d == 0:
                    raise ZeroDivisionError
                v /= d
        return v

    def unary(depth: int) -> float:
        t = peek()
        if t in ("+", "-"):
            take()
            v = unary(depth)
            return -v if t == "-" else v
        return atom(depth)

    def atom(depth: int) -> float:
        t = take()
        if isinstance(t, float):
            return t
        if t == "(" and depth < 50:
            v = expr(depth + 1)
            if take() != ")":
                raise ValueError("unbalanced")
            return v
        raise ValueError("unexpected token")

    try:
        value = expr(0)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    if at != len(tokens) or not math.isfinite(value):
        return None
    return value
