"""A lower level's summary, judged before it enters the next level (逐级汇总).

A summary read back (``read.summary.SummaryBook``) becomes a ``ChildSummary``: its agencies
from 分单位明细 (every value, the agency file's sha256, the chain it came through), its own
roster accounting from 报送情况, and the cross-level findings: a broken meta sheet, a
分单位明细 that no longer matches the fingerprint written with it, 汇总 figures (or the 合计
row) that disagree with the sum of its agency rows. A child with an error is left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from xltool.core.combined import ChildAgency, ChildSummary, RosterRow
from xltool.core.findings import make
from xltool.core.model import CellValue, FieldValue, Finding, number_cell
from xltool.core.numbers import show, tidy
from xltool.read.summary import SummaryBook
from xltool.spec import FORMATS, Format
from xltool.workbook import summary_layout as SL
from xltool.workbook.layout import TABLE_SHEETS, col_letter, layout_for, parse_a1

_TOL = 1e-6


def _finding(code: str, child: str, variant: str | None = None, /, **fields: FieldValue) -> Finding:
    """A finding about the child summary ``child`` (its file name, also the wording's ``{summary}``)."""
    return make(code, variant, file=child, summary=child, detail=SL.DETAIL_SHEET, **fields)


def _num(v: object) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
        return float(v)
    return None


_BLANK = CellValue(state="blank")


def _cell(v: object) -> CellValue:
    """One shared object per distinct number (most are small counts): a province's 16,000 rows
    × 200 keys would otherwise be 3 million objects."""
    n = _num(v)
    if n is not None:
        return number_cell(tidy(n))
    if isinstance(v, str) and v.strip():
        return CellValue(state="text", raw=v)
    return _BLANK


def _at(grid: Sequence[Sequence[object]], r: int, c: int) -> object:
    return grid[r][c] if r < len(grid) and c < len(grid[r]) else None


def judge_child(book: SummaryBook) -> ChildSummary:
    """Read what the summary holds and check it against itself."""
    meta = book.meta
    shown = book.path.name
    name = (meta.get(SL.META_DISTRICT) or "").strip() or book.path.stem
    level = meta.get(SL.META_LEVEL) or "district"
    fmt_id = meta.get("format")
    try:
        year: int | None = int(meta.get("year", ""))
    except ValueError:
        year = None
    child = ChildSummary(path=book.path, sha256=book.sha256, name=name, level=level, year=year,
                         format=fmt_id if fmt_id in FORMATS else None,  # type: ignore[arg-type]
                         created=meta.get("created", ""))
    broken = []
    if meta.get("kind") != SL.SUMMARY_KIND:
        broken.append("kind")
    if child.format is None:
        broken.append("format")
    if year is None:
        broken.append("year")
    if level not in SL.LEVELS:
        broken.append("level")
    if not meta.get(SL.META_FINGERPRINT):
        broken.append("fingerprint")
    if broken:
        child.findings.append(_finding("SUMMARY_META_BROKEN", shown, broken="、".join(broken)))
        return child
    fmt = FORMATS[fmt_id]  # type: ignore[index]
    _agencies(book, fmt, child)
    _roster(book, child)
    return child


def _agencies(book: SummaryBook, fmt: Format, child: ChildSummary) -> None:
    shown = book.path.name
    rows = book.grids.get(SL.DETAIL_SHEET, [])
    if len(rows) <= SL.DETAIL_KEY_ROW:
        child.findings.append(_finding("SUMMARY_META_BROKEN", shown, "no_detail"))
        return
    keys = [str(k).strip() if isinstance(k, str) else "" for k in rows[SL.DETAIL_KEY_ROW]]
    col = {k: i for i, k in enumerate(keys) if k}
    value_keys = [k for k in fmt.cells if k in col]
    if SL.AGENCY_KEY not in col or len(value_keys) != len(fmt.cells):
        child.findings.append(_finding("SUMMARY_META_BROKEN", shown, "detail_columns"))
        return
    name_c = col[SL.AGENCY_KEY]
    total_row: Sequence[object] | None = None
    total_r = 0
    fp = SL.Fingerprint([child.year, child.format, child.level, book.meta.get(SL.META_DISTRICT, "")])

    def get(row: Sequence[object], key: str) -> object:
        c = col.get(key)
        return row[c] if c is not None and c < len(row) else None

    row_keys = tuple(value_keys)
    for r, row in enumerate(rows[SL.DETAIL_FIRST_DATA_ROW:], SL.DETAIL_FIRST_DATA_ROW):
        nm = row[name_c] if name_c < len(row) else None
        if not isinstance(nm, str) or not nm.strip():
            continue
        if nm.strip() == SL.TOTAL_ROW_LABEL:
            total_row, total_r = row, r
            break
        code = get(row, SL.CREDIT_CODE_KEY)
        vals = [get(row, k) for k in value_keys]
        sha, unit, via = (str(get(row, k) or "").strip() for k in (SL.SHA_KEY, SL.UNIT_KEY, SL.VIA_KEY))
        fp.add([nm.strip(), str(code or "").strip(), *vals, sha, unit, via])
        child.agencies.append(ChildAgency(
            name=nm.strip(), credit_code=str(code or "").strip(), keys=row_keys,
            cells=tuple(_cell(v) for v in vals),
            sha256=sha, unit=unit, via=tuple(x for x in via.split(SL.VIA_SEP) if x),
            note=str(get(row, SL.NOTE_KEY) or ""),
        ))
    if fp.hexdigest() != book.meta.get(SL.META_FINGERPRINT):
        child.findings.append(_finding("SUMMARY_EDITED", shown, region=child.name, sheet=SL.DETAIL_SHEET))
    sums = {k: math.fsum(n for a in child.agencies if (n := a.cells[j].number) is not None)
            for j, k in enumerate(value_keys)}
    lay = layout_for(fmt)
    bad = 0
    for k in value_keys:
        cd = fmt.cells[k]
        want = tidy(sums[k])
        if total_row is not None:
            got = _num(get(total_row, k))
            if got is None or abs(got - sums[k]) > _TOL:
                bad += 1
                if bad <= 20:
                    addr = f"{col_letter(col[k])}{total_r + 1}"
                    child.findings.append(_finding(
                        "SUMMARY_TOTAL_MISMATCH", shown, region=child.name, total_label=SL.TOTAL_ROW_LABEL,
                        got=show(tidy(got)) if got is not None else "（空）", want=show(want),
                        sheet=SL.DETAIL_SHEET, cell=addr, row=cd.row.label, column=cd.column.label, key=k,
                        expected=want, actual=tidy(got) if got is not None else None))
        sheet = SL.SUMMARY_TABLE_SHEETS[cd.table.section]
        grid = book.grids.get(sheet)
        addr = lay.address[k][1]
        got = _num(_at(grid, *parse_a1(addr))) if grid is not None else None
        if got is None or abs(got - sums[k]) > _TOL:
            bad += 1
            if bad <= 20:
                child.findings.append(_finding(
                    "SUMMARY_TOTAL_MISMATCH", shown, "sheet", region=child.name,
                    got=show(tidy(got)) if got is not None else "（空）", want=show(want), sheet=sheet, cell=addr, table=TABLE_SHEETS[cd.table.section][1], row=cd.row.label,
                    column=cd.column.label, key=k, expected=want, actual=tidy(got) if got is not None else None))


def _roster(book: SummaryBook, child: ChildSummary) -> None:
    rows = book.grids.get(SL.STATUS_SHEET, [])
    if not rows:
        return
    head = [str(h).strip() if isinstance(h, str) else "" for h in rows[0]]
    idx = {h: i for i, h in enumerate(head) if h}

    def get(row: Sequence[object], h: str) -> str:
        i = idx.get(h)
        v = row[i] if i is not None and i < len(row) else None
        return "" if v is None else str(v).strip()

    for row in rows[1:]:
        name = get(row, "单位")
        if not name:
            continue
        below = get(row, SL.UNIT_COLUMN)
        unit = child.name + (SL.UNIT_SEP + below if below else "")
        child.roster.append(RosterRow(name, get(row, "统一社会信用代码"), get(row, "报送状态"), None, unit=unit,
                                      included=get(row, "计入汇总") == "是", reason=get(row, "说明")))
