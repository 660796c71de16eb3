"""Year-over-year heuristics (``--previous``): a headline figure that jumps or collapses.

Pure: this year's numbers and last year's (``PreviousData``) go in, warnings come out. The
figures are the spec's headline indicators (``spec.selections.headline_keys``: 本年新收 and
办理结果总计 of 表三, the 总计 of every 表四 row). Small numbers move a lot by chance, so a
ratio is judged only when one of the two years reaches ``FLOOR``.

>>> from xltool.spec import V2021
>>> from xltool.core.model import PreviousData
>>> prev = PreviousData(2024, "2021", {"甲局": {"sec3.new_received.total": 40}})
>>> [f.code for f in check_yoy(V2021, 2025, "甲局", {"sec3.new_received.total": 300}, prev)]
['YOY_JUMP']
>>> [f.code for f in check_yoy(V2021, 2025, "甲局", {"sec3.new_received.total": 0}, prev)]
['YOY_ZERO']
>>> check_yoy(V2021, 2025, "甲局", {"sec3.new_received.total": 45}, prev)
[]
"""

from __future__ import annotations

from collections.abc import Mapping

from xltool.core.findings import make
from xltool.core.model import FieldValue, FileStatus, Finding, PreviousData
from xltool.core.names import normalize_name
from xltool.core.numbers import show, tidy
from xltool.read.reader import ReadResult
from xltool.spec import TABLE_SHEETS, Format
from xltool.spec.selections import headline_keys
from xltool.workbook.layout import layout_for

JUMP = 5.0  # this year above JUMP × last year
DROP = 0.2  # this year below DROP × last year
FLOOR = 10  # one of the two years at least this large before a ratio means anything


def check_yoy(
    fmt: Format,
    year: int | None,
    agency: str | None,
    numbers: Mapping[str, int | float | None],
    previous: PreviousData,
    *,
    locations: Mapping[str, tuple[str, str]] | None = None,
    file: str | None = None,
) -> list[Finding]:
    """Warnings for the headline figures of one agency against its previous year."""
    if not agency or (year is not None and previous.year is not None and previous.year != year - 1):
        return []
    last = previous.by_agency.get(normalize_name(agency))
    if not last:
        return []
    lay = layout_for(fmt)
    out: list[Finding] = []
    for key in headline_keys(fmt):
        now, before = numbers.get(key), last.get(key)
        if now is None or before is None or key not in fmt.cells:
            continue
        code = None
        how: dict[str, FieldValue] = {}
        if now == 0 and before >= FLOOR:
            code = "YOY_ZERO"
        elif before > 0 and now > JUMP * before and now >= FLOOR:
            code, how = "YOY_JUMP", {"ratio": show(tidy(round(now / before, 1)))}
        elif 0 < now < DROP * before and before >= FLOOR:
            code, how = "YOY_DROP", {"percent": show(tidy(round(now / before * 100, 1)))}
        if code is None:
            continue
        cd = fmt.cells[key]
        sheet, addr = (locations or {}).get(key) or lay.address[key]
        short = TABLE_SHEETS[cd.table.section][1]
        label = cd.row.label if cd.column.label in cd.row.label else f"{cd.row.label}·{cd.column.label}"
        out.append(make(
            code, label=label, now=show(now), previous_year=previous.year, before=show(before), **how, file=file,
            sheet=sheet, cell=addr, table=short, row=cd.row.label, column=cd.column.label, key=key,
            expected=tidy(before), actual=tidy(now)))
    return out


def check_result(result: ReadResult, numbers: Mapping[str, int | float | None],
                 previous: PreviousData | None) -> list[Finding]:
    """``check_yoy`` on a reader ``ReadResult``; [] without previous data or a readable report."""
    report = result.report
    if previous is None or report is None or report.meta.format is None or result.status is not FileStatus.OK:
        return []
    return check_yoy(report.fmt, report.meta.year, report.meta.agency, numbers, previous,
                     locations=result.locations, file=result.path or None)
