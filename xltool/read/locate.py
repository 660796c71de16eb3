"""Find the official tables in a workbook that is not our template, by their labels.

Agencies paste the tables anywhere: another sheet, an offset, one sheet for all, with the
variations of official-format.md §7. Rows are found by their row labels (in order, so a
short label such as ``3.其他`` is only taken inside its table), columns by their header
labels above the first data row (two-row headers joined), section 四 by its three groups
and five sub-labels. Each table is tried with both formats; the labels decide (§4).

The input is plain grids (list of rows of cell values, row 0 = sheet row 1), so the same
code serves python-calamine, xlrd or an HTML import.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from xltool.core.detect import TABLE_SECTIONS, decide_format
from xltool.core.labels import match_score, norm_label, starts_table
from xltool.read.values import cell_text
from xltool.spec import CURRENT, FORMATS, Format, Style, Table

Grid = Sequence[Sequence[object]]

_ROW_GAP = 4  # at most this many unknown rows between two located rows of a table
_HEADER_BAND = 8  # header rows searched above a table's first data row


@dataclass(frozen=True)
class TextCell:
    r: int
    c: int
    text: str


class SheetIndex:
    """The text cells of one sheet, by row (labels are text; numbers are not labels)."""

    def __init__(self, name: str, grid: Grid) -> None:
        self.name = name
        self.grid = grid
        self.by_row: dict[int, list[TextCell]] = {}
        for r, row in enumerate(grid):
            cells = [TextCell(r, c, v.strip()) for c, v in enumerate(row) if type(v) is str and v.strip()]
            if cells:
                self.by_row[r] = cells

    def value(self, r: int, c: int) -> object:
        if 0 <= r < len(self.grid):
            row = self.grid[r]
            if 0 <= c < len(row):
                return row[c]
        return None

    def find(self, label: str, r0: int = 0, r1: int | None = None, c_min: int = -1, joined: bool = False) -> list[tuple[int, TextCell]]:
        """(score, cell) of cells in rows [r0, r1) right of ``c_min`` naming ``label``.

        With ``joined`` a cell is also tried joined with the cell below it (headers split
        over two rows, such as 商业 / 企业).
        """
        out: list[tuple[int, TextCell]] = []
        stop = len(self.grid) if r1 is None else r1
        for r in range(max(r0, 0), stop):
            for tc in self.by_row.get(r, ()):
                if tc.c <= c_min:
                    continue
                s = match_score(tc.text, label)
                if s:
                    out.append((s, tc))
                elif joined and r + 1 < stop:
                    below = self.value(r + 1, tc.c)
                    if type(below) is str and below.strip():
                        s = match_score(tc.text + below, label)
                        if s:
                            out.append((s, tc))
        return out

@dataclass
class TableLoc:
    """Where one table's values are: cell key → (sheet, row, col), 0-based."""

    table: Table
    sheet: str
    cells: dict[str, tuple[int, int]] = field(default_factory=dict)
    rows_found: int = 0
    cols_found: int = 0
    extras: dict[str, str] = field(default_factory=dict)  # unknown row label → its values

    @property
    def score(self) -> int:
        return self.rows_found + self.cols_found


# --- section 二 sub-tables: header row, then labelled rows -------------------------------


def _stop_row(ix: SheetIndex, r: int) -> bool:
    """A row that starts another table (``labels.starts_table``)."""
    return any(starts_table(tc.text) for tc in ix.by_row.get(r, ()))


def _locate_grid(ix: SheetIndex, t: Table) -> TableLoc | None:
    best: TableLoc | None = None
    first_col = t.columns[0].label
    for _s, h in ix.find(first_col, joined=True):
        cols: dict[str, int] = {}
        used: set[int] = set()
        for col in t.columns:
            hits = [tc for s, tc in ix.find(col.label, h.r, h.r + 1, joined=True) if s >= 2 and tc.c not in used]
            if hits:
                c = min(hits, key=lambda tc: tc.c).c
                cols[col.key] = c
                used.add(c)
        if not cols:
            continue
        first_val = min(cols.values())
        loc = TableLoc(t, ix.name, cols_found=len(cols))
        found: set[str] = set()
        r = h.r + 1
        # allow a split header: the row below may continue the header text
        end = min(len(ix.grid), h.r + 2 + len(t.rows) + _ROW_GAP)
        while r < end:
            if r > h.r + 1 and _stop_row(ix, r):
                break
            labels = [tc for tc in ix.by_row.get(r, ()) if tc.c < first_val]
            hit = None
            for tc in labels:
                for row in t.rows:
                    if row.key not in found and match_score(tc.text, row.label) >= 1:
                        hit = row
                        break
                if hit:
                    break
            if hit is not None:
                found.add(hit.key)
                for ck, c in cols.items():
                    loc.cells[t.cell_key(hit.key, ck)] = (r, c)
            elif labels:
                _maybe_extra(ix, loc, r, labels, t, cols)
            r += 1
        loc.rows_found = len(found)
        if loc.rows_found and (best is None or loc.score > best.score):
            best = loc
    return best


def _maybe_extra(ix: SheetIndex, loc: TableLoc, r: int, labels: list[TextCell], t: Table, cols: dict[str, int]) -> None:
    """Keep an unknown labelled row that has values (Hubei's added 其他主动公开文件 row)."""
    vals = []
    for col in t.columns:
        c = cols.get(col.key)
        if c is None:
            continue
        v = ix.value(r, c)
        if v not in (None, ""):
            vals.append(f"{col.label}={cell_text(v)}")
    if vals:
        label = "".join(tc.text for tc in labels)
        loc.extras[f"{t.caption}·{label}"] = "；".join(vals)


# --- section 三: ordered rows, header band above ----------------------------------------


def _locate_matrix(ix: SheetIndex, t: Table) -> TableLoc | None:
    cands: list[list[TextCell]] = []
    for row in t.rows:
        cands.append([tc for s, tc in ix.find(row.label) if s >= 1])
    best_rows: dict[str, int] = {}
    tried: set[int] = set()
    for i in range(min(3, len(t.rows))):
        for start in cands[i]:
            if start.r in tried:
                continue
            tried.add(start.r)
            assign = {t.rows[i].key: start.r}
            prev = start.r
            for j in range(i + 1, len(t.rows)):
                nxt = next((tc.r for tc in sorted(cands[j], key=lambda tc: tc.r) if prev < tc.r <= prev + 1 + _ROW_GAP), None)
                if nxt is not None:
                    assign[t.rows[j].key] = nxt
                    prev = nxt
            if len(assign) > len(best_rows):
                best_rows = assign
    if len(best_rows) < 2:
        return None
    first_r = min(best_rows.values())
    label_cols = [tc.c for rk, r in best_rows.items() for tc in ix.by_row.get(r, ()) if match_score(tc.text, t.row(rk).label)]
    c_label = max(label_cols) if label_cols else 0
    cols = _header_columns(ix, t, first_r, c_label)
    if not cols:
        return None
    loc = TableLoc(t, ix.name, rows_found=len(best_rows), cols_found=len(cols))
    for rk, r in best_rows.items():
        for ck, c in cols.items():
            loc.cells[t.cell_key(rk, ck)] = (r, c)
    known = {norm_label(g) for row in t.rows for g in row.groups} | {norm_label(row.label) for row in t.rows}
    last_r = max(best_rows.values())
    taken = set(best_rows.values())
    first_val = min(cols.values())
    for r in range(first_r, last_r + 1):
        if r in taken:
            continue
        labels = [tc for tc in ix.by_row.get(r, ()) if tc.c < first_val and norm_label(tc.text) not in known]
        if labels:
            _maybe_extra(ix, loc, r, labels, t, cols)
    return loc


def _header_columns(ix: SheetIndex, t: Table, first_r: int, c_label: int) -> dict[str, int]:
    cols: dict[str, int] = {}
    used: set[int] = set()
    for col in t.columns:
        hits = [(s, tc) for s, tc in ix.find(col.label, first_r - _HEADER_BAND, first_r, c_min=c_label, joined=True) if s >= 2]
        hits = [(s, tc) for s, tc in hits if tc.c not in used]
        if hits:
            # the best-named, then the nearest to the data rows, then the leftmost
            _s, tc = max(hits, key=lambda h: (h[0], h[1].r, -h[1].c))
            cols[col.key] = tc.c
            used.add(tc.c)
    return cols


# --- section 四: groups side by side, one data row --------------------------------------


def _locate_flat(ix: SheetIndex, t: Table) -> TableLoc | None:
    best: TableLoc | None = None
    first = t.rows[0]
    for _s, anchor in ix.find(first.label):
        if _s < 3:
            continue
        band0, band1 = anchor.r, anchor.r + 4
        starts: list[tuple[int, str]] = [(anchor.c, first.key)]
        for row in t.rows[1:]:
            hits = [tc for s, tc in ix.find(row.label, band0, band1, c_min=anchor.c) if s >= 3]
            if hits:
                starts.append((min(hits, key=lambda tc: (tc.r, tc.c)).c, row.key))
        starts.sort()
        subs: list[tuple[TextCell, str]] = []
        for col in t.columns:
            for s, tc in ix.find(col.label, band0, band1, c_min=anchor.c - 1, joined=True):
                if s >= 2:
                    subs.append((tc, col.key))
        if not subs:
            continue
        data_r = max(tc.r for tc, _ in subs) + 1
        loc = TableLoc(t, ix.name)
        groups_hit: set[str] = set()
        for tc, ck in subs:
            owner = None
            for c0, rk in starts:
                if c0 <= tc.c:
                    owner = rk
            if owner is None:
                continue
            key = t.cell_key(owner, ck)
            if key not in loc.cells:
                loc.cells[key] = (data_r, tc.c)
                groups_hit.add(owner)
        loc.rows_found = len(groups_hit)
        loc.cols_found = len({ck for _tc, ck in subs})
        if best is None or loc.score > best.score:
            best = loc
    return best


_LOCATORS = {Style.GRID: _locate_grid, Style.MATRIX: _locate_matrix, Style.FLAT: _locate_flat}


def locate_table(indexes: Sequence[SheetIndex], t: Table) -> TableLoc | None:
    """The best location of table ``t`` over all sheets, or None."""
    best: TableLoc | None = None
    for ix in indexes:
        loc = _LOCATORS[t.style](ix, t)
        if loc is not None and (best is None or loc.score > best.score):
            best = loc
    return best


# --- whole report ----------------------------------------------------------------------


@dataclass
class Located:
    """All tables found in a workbook, with the format each section's labels point to."""

    format: Format | None
    tables: dict[str, TableLoc]  # table key → location (tables of ``format``)
    section_formats: dict[str, str | None]  # section → "2019" / "2021" / None (no signal or not found)
    conflict: bool = False

    @property
    def found(self) -> bool:
        return bool(self.tables)


def locate_report(indexes: Sequence[SheetIndex], expect_format: str | None = None) -> Located:
    """Locate every table of both formats and decide the format by the labels (§4)."""
    per_fmt: dict[str, dict[str, TableLoc]] = {}
    for fid, fmt in FORMATS.items():
        per_fmt[fid] = {}
        for t in fmt.tables:
            loc = locate_table(indexes, t)
            if loc is not None:
                per_fmt[fid][t.key] = loc
    scores = {
        sec: {
            fid: sum(loc.score for k, loc in locs.items() if FORMATS[fid].table(k).section == sec)
            for fid, locs in per_fmt.items()
        }
        for sec in TABLE_SECTIONS
    }
    # a table found with score 0 still counts as "found" (the format is then the current one)
    found_any = any(per_fmt[f] for f in per_fmt)
    d = decide_format(scores, prefer=expect_format)
    chosen = d.chosen if d.chosen is not None else (CURRENT.id if found_any else None)
    if chosen is None:
        return Located(None, {}, d.per_section, d.conflict)
    return Located(FORMATS[chosen], per_fmt[chosen], d.per_section, d.conflict)


# --- agency and year written somewhere --------------------------------------------------

_AGENCY_LABELS = ("单位名称", "填报单位", "报送单位", "单位")
_YEAR_LABELS = ("报告年度", "年度", "所属年度")
_TITLE = re.compile(r"^(.*?)(\d{4})年度?政府信息公开工作年度报告")
_INLINE = re.compile(r"^(单位名称|填报单位|报送单位|单位|报告年度|所属年度|年度)[:：]\s*(.+)$")


def find_info(indexes: Sequence[SheetIndex]) -> tuple[str | None, int | None]:
    """单位名称 and 年度 written as ``单位名称：XXX``, as a label-value pair, or in a title."""
    agency: str | None = None
    year: int | None = None
    title_agency: str | None = None
    for ix in indexes:
        for r, cells in ix.by_row.items():
            for tc in cells:
                text = tc.text
                m = _INLINE.match(text.replace(" ", "").replace("\u3000", ""))
                label, value = (m.group(1), m.group(2).strip()) if m else (norm_label(text), None)
                if value is None and label in (*_AGENCY_LABELS, *_YEAR_LABELS):
                    right = next((c for c in cells if c.c > tc.c), None)
                    if right is not None:
                        value = right.text
                    else:
                        v = ix.value(r, tc.c + 1)
                        value = cell_text(v) if v not in (None, "") else None
                if value:
                    if label in _AGENCY_LABELS and agency is None:
                        agency = value
                    elif label in _YEAR_LABELS and year is None:
                        y = re.search(r"(\d{4})", value)
                        year = int(y.group(1)) if y else None
                t = _TITLE.match(norm_label(text))
                if t:
                    if year is None:
                        year = int(t.group(2))
                    if title_agency is None and t.group(1):
                        title_agency = t.group(1)
    return agency or title_agency, year
