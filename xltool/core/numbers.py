"""How a number is kept and shown once it has been read: the one place for it.

>>> tidy(12.0), tidy(0.1 + 0.2), show(2.50), show(None), as_number(True), as_number(3.0)
(12, 0.3, '2.5', '（空）', None, 3)
"""

from __future__ import annotations

import datetime as _dt
import math
import re


def tidy(x: float) -> int | float:
    """A whole number as int, anything else rounded to 6 places (what we store and write)."""
    return int(x) if float(x).is_integer() else round(float(x), 6)


def show(x: float | int | None) -> str:
    """12.0 → '12', 2.50 → '2.5', None → '（空）' (for messages)."""
    if x is None:
        return "（空）"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    if isinstance(x, float):
        return f"{x:.6f}".rstrip("0").rstrip(".")
    return str(x)


def as_number(x: object) -> int | float | None:
    """A cell value from a values-only reader as a number, or None (bools and text are not)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return tidy(x)


# --- what a spreadsheet engine's arithmetic makes of typed text -------------------------
#
# Measured with LibreOffice 7.4 (headless, xlsx, recalculated on load) in both the en-US and
# the zh-CN locale: ``=A1+0`` with A1 holding each text (tests/test_engine_text.py repeats it).
# Only forms that both locales convert the same way are modelled; locale-dependent ones
# (full-width digits, currency signs, Y/M/D with '/' or 年月日, D-M or AM/PM) are treated as
# #VALUE! (None). SUM over a range ignores every text cell; only ``+``, ``-``, ``=`` convert.

_TRIM = " \u00a0\u202f"  # stripped around the text and its parts; tab, U+3000, U+2009 are not
_W = "[ \u00a0\u202f]*"
_ENGINE_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+"
_ENGINE_EXP = r"(?:[eE][+-]?\d+)?"
_E_PLAIN = re.compile(rf"(?P<sign>[+-]?)(?P<n>{_ENGINE_NUM})(?P<exp>{_ENGINE_EXP}){_W}(?P<pct>%?)", re.A)
_E_PAREN = re.compile(rf"\({_W}(?P<n>{_ENGINE_NUM})(?P<exp>{_ENGINE_EXP}){_W}\){_W}(?P<pct>%?)", re.A)
_E_TRAILING_MINUS = re.compile(rf"(?P<n>{_ENGINE_NUM})(?P<exp>{_ENGINE_EXP}){_W}-", re.A)
_E_FRACTION = re.compile(r"(?P<sign>[+-]?)(?P<whole>\d+)[ \u00a0\u202f]+(?P<num>\d+)/(?P<den>\d+)", re.A)
_E_TIME = r"(?P<h>\d+):(?P<mi>\d{1,2})(?::(?P<s>\d{1,2}))?"
_E_DATE = re.compile(rf"(?P<y>\d{{1,4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})(?:(?:[ \u00a0\u202f]+|T){_E_TIME})?", re.A)
_E_TIME_ONLY = re.compile(_E_TIME, re.A)
_E_MONTH_DAY = re.compile(r"(?P<m>\d{1,2})/(?P<d>\d{1,2})", re.A)  # a date in the current year
_EPOCH = _dt.date(1899, 12, 30).toordinal()  # serial 0 (LibreOffice's and Excel's 1900 date system)


def _serial(y: int, m: int, d: int) -> float | None:
    try:
        day = _dt.date(y, m, d)
    except ValueError:
        return None
    if day < _dt.date(1583, 1, 1):
        return None  # LibreOffice counts earlier days in the Julian calendar; not modelled
    return float(day.toordinal() - _EPOCH)


def _time_fraction(h: str | None, mi: str | None, s: str | None) -> float | None:
    if h is None:
        return 0.0
    minutes, seconds = int(mi or 0), int(s or 0)
    if minutes > 59 or seconds > 59:
        return None
    return (int(h) * 3600 + minutes * 60 + seconds) / 86400


def engine_number(text: str, today: _dt.date | None = None) -> float | None:
    """The number a spreadsheet's ``+`` makes of a text cell, or None for #VALUE!.

    >>> [engine_number(t) for t in ("12%", "(5)", "2020-1-1", "\\u00a012", " 1,000 ", "5-", "1e3")]
    [0.12, -5.0, 43831.0, 12.0, 1000.0, -5.0, 1000.0]
    >>> [engine_number(t) for t in ("１２", "/", "12元", "1,00", "(-5)", "", "TRUE", "1 1/2")]
    [None, None, None, None, None, None, 1.0, 1.5]
    """
    t = text.strip(_TRIM)
    if not t:
        return None
    if t.upper() in ("TRUE", "FALSE"):
        return 1.0 if t.upper() == "TRUE" else 0.0
    for rx, sign in ((_E_PLAIN, None), (_E_PAREN, -1.0), (_E_TRAILING_MINUS, -1.0)):
        m = rx.fullmatch(t)
        if m is None:
            continue
        groups = m.groupdict()
        if groups.get("pct") and groups["exp"]:
            return None  # '12e-2%' is #VALUE!
        x = float(m["n"].replace(",", "") + m["exp"])
        if sign is None:
            sign = -1.0 if m["sign"] == "-" else 1.0
        x = sign * x / (100.0 if groups.get("pct") else 1.0)
        return x if math.isfinite(x) else None
    m = _E_FRACTION.fullmatch(t)
    if m:
        den = int(m["den"])
        if den == 0:
            return None
        x = int(m["whole"]) + int(m["num"]) / den
        return -x if m["sign"] == "-" else x
    m = _E_DATE.fullmatch(t)
    if m:
        y = int(m["y"])
        if len(m["y"]) <= 2:
            y += 2000 if y < 30 else 1900  # the two-digit-year window (1930–2029)
        day = _serial(y, int(m["m"]), int(m["d"]))
        frac = _time_fraction(m["h"], m["mi"], m["s"])
        return None if day is None or frac is None else day + frac
    m = _E_TIME_ONLY.fullmatch(t)
    if m:
        return _time_fraction(m["h"], m["mi"], m["s"])
    m = _E_MONTH_DAY.fullmatch(t)
    if m:
        return _serial((today or _dt.date.today()).year, int(m["m"]), int(m["d"]))
    return None


_E48 = 2.0**-48


def engine_equal(a: float, b: float) -> bool:
    """``=`` between two numbers as LibreOffice compares them (rtl::math::approxEqual: equal
    when they differ by less than 2^-48 of each; measured: 0.1+0.2 = 0.3 is TRUE,
    1 = 1+2^-48 is FALSE). Excel compares at 15 significant digits, which agrees except at
    such edges.

    >>> engine_equal(0.1 + 0.2, 0.3), engine_equal(1.0, 1.0 + 2**-48), engine_equal(0.0, 1e-300)
    (True, False, False)
    """
    if a == b:
        return True
    if a == 0.0 or b == 0.0:
        return False
    d = abs(a - b)
    return math.isfinite(d) and d < abs(a) * _E48 and d < abs(b) * _E48


def engine_add(a: float, b: float) -> float:
    """``a+b`` as LibreOffice adds (rtl::math::approxAdd: opposite numbers that are
    approximately equal give exactly 0)."""
    if ((a < 0.0 < b) or (b < 0.0 < a)) and engine_equal(a, -b):
        return 0.0
    return a + b
