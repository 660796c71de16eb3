"""How a number is kept and shown once it has been read: the one place for it.

>>> tidy(12.0), tidy(0.1 + 0.2), show(2.50), show(None), as_number(True), as_number(3.0)
(12, 0.3, '2.5', '（空）', None, 3)
"""

from __future__ import annotations


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
