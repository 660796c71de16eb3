"""Which official format a table's labels point to: one decision for the reader and the importer.

Both score every table of both formats by their labels, section by section; this module turns
those scores into the format to read by (official-format.md §4). The labels decide; the year
only breaks a tie or a conflict between sections, and an explicit request always wins.

>>> d = decide_format({"sec2": {"2019": 0, "2021": 0}, "sec3": {"2019": 10, "2021": 12}})
>>> d.chosen, d.per_section["sec3"], d.conflict
('2021', '2021', False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from xltool.spec import CURRENT, FORMATS, SpecError, format_for_year

TABLE_SECTIONS = ("sec2", "sec3", "sec4")
# on a conflict without a year, the section with the most cells and the surest labels decides
_CONFLICT_ORDER = ("sec3", "sec2", "sec4")


@dataclass(frozen=True)
class FormatDecision:
    chosen: str | None  # format id, None when no table of either format was found
    per_section: dict[str, str | None]  # section → the format its labels point to (None: no signal)
    conflict: bool  # the sections point to different formats
    basis: str  # "requested" | "labels" | "conflict" | "year" | "current" | "none"


def decide_format(
    scores: Mapping[str, Mapping[str, int]],
    *,
    prefer: str | None = None,
    year: int | None = None,
) -> FormatDecision:
    """``scores``: section → format id → how many rows/columns of that format's tables were found."""
    per: dict[str, str | None] = {}
    for sec in TABLE_SECTIONS:
        s = scores.get(sec, {})
        top = max(s.values(), default=0)
        winners = [fid for fid, v in s.items() if v == top]
        per[sec] = winners[0] if top and len(winners) == 1 else None
    signals = {f for f in per.values() if f}
    conflict = len(signals) > 1
    if prefer in FORMATS:
        return FormatDecision(prefer, per, conflict, "requested")
    if len(signals) == 1:
        return FormatDecision(next(iter(signals)), per, False, "labels")
    by_year = _year_format(year)
    if conflict:
        if by_year in signals:
            return FormatDecision(by_year, per, True, "conflict")
        return FormatDecision(next(per[s] for s in _CONFLICT_ORDER if per[s]), per, True, "conflict")
    if not any(v for s in scores.values() for v in s.values()):
        return FormatDecision(None, per, False, "none")
    if by_year is not None:
        return FormatDecision(by_year, per, False, "year")
    return FormatDecision(CURRENT.id, per, False, "current")


def _year_format(year: int | None) -> str | None:
    if year is None:
        return None
    try:
        return format_for_year(year).id
    except SpecError:
        return None
