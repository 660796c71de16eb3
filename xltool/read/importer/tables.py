"""Find the official tables in a stream of table rows, by their labels.

Published tables lose their geometry on the way (a row-spanned cell is absent in HTML and
empty in a Word/seed dump), so nothing here uses column positions. A data row is found by
its row label (the reader's tolerant matching, ``reader.labels``), and its values are the
cells after that label: there must be exactly one per official column, else the row is
reported as not placed. Column order comes from the header where the header is one flat
row (section 二); for the tree headers of sections 三 and 四 the official order is used
after checking that the header names the official columns. Nothing is ever guessed: a
value is placed only where a label says where it goes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from xltool.core.detect import TABLE_SECTIONS, decide_format
from xltool.core.labels import match_score, norm_label, starts_table
from xltool.core.model import CellValue
from xltool.read.importer.document import Row
from xltool.read.values import parse_text
from xltool.spec import (
    CAPTION_PREFIX,
    CURRENT,
    FORMATS,
    TABLE_SHEETS,
    Format,
    SpecError,
    Style,
    Table,
    format_for_year,
)
from xltool.spec.crosswalk import crosswalk

_ROW_GAP = 4  # unknown rows tolerated between two rows of one table
_HEADER_BAND = 8  # rows searched above section 三's first data row for its header
_FLAT_BAND = 6  # rows searched below section 四's group labels for its data row


@dataclass
class Issue:
    """Something that could not be placed (or was placed with a caveat); message in Chinese."""

    code: str
    message: str
    severity: str = "warning"  # "error": numbers are missing from the import
    table: str | None = None
    key: str | None = None  # spec cell key, or "<table>.<row>" for a whole row
    where: str | None = None


@dataclass
class TableMatch:
    table: Table
    values: dict[str, CellValue] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # key → "第 152 行"
    issues: list[Issue] = field(default_factory=list)
    extras: dict[str, str] = field(default_factory=dict)  # unknown row label → its cells
    rows_found: int = 0
    cols_found: int = 0

    @property
    def score(self) -> int:
        return self.rows_found + self.cols_found


@dataclass
class FormatMatch:
    fmt: Format
    tables: dict[str, TableMatch]  # table key → match (only tables found)

    def section_score(self, section: str) -> int:
        return sum(m.score for k, m in self.tables.items() if self.fmt.table(k).section == section)


def short(section: str) -> str:
    return TABLE_SHEETS[section][1] if section in TABLE_SHEETS else section


def _value(text: str, unit: str | None) -> CellValue:
    """A published cell as a CellValue; the raw text is kept when it was not a plain number."""
    cv = parse_text(text, unit)
    if cv.number is not None and cv.raw is not None and cv.raw.strip() == str(cv.number):
        return CellValue.of(cv.number)  # "0 " / " 0" / "0\u2002" are just numbers
    return cv


def _is_value_like(text: str) -> bool:
    return parse_text(text).state in ("number", "marker", "blank")


def _fit(cells: Sequence[str], n: int) -> list[str] | None:
    """Exactly ``n`` value cells: trailing empty cells beyond ``n`` are dropped."""
    vals = list(cells)
    while len(vals) > n and not vals[-1].strip():
        vals.pop()
    return vals if len(vals) == n else None


def _is_caption(text: str) -> bool:
    return norm_label(text).startswith(CAPTION_PREFIX)


def _stop(row: Row) -> bool:
    """A row that starts another table (``labels.starts_table``, the reader's rule too)."""
    return any(starts_table(c) for c in row.cells if c)


# --- section 二: caption, flat header, labelled rows ------------------------------------


def _header_map(row: Row, t: Table) -> tuple[dict[str, int], int] | None:
    """Column key → position among the cells after 信息内容, and how many cells follow it."""
    first = next((i for i, c in enumerate(row.cells) if c and match_score(c, t.header_first) >= 3), None)
    if first is None:
        return None
    after = row.cells[first + 1 :]
    out: dict[str, int] = {}
    for col in t.columns:
        hits = [i for i, c in enumerate(after) if i not in out.values() and match_score(c, col.label) >= 2]
        if hits:
            out[col.key] = hits[0]
    return (out, len(after)) if out else None


def _match_grid(rows: Sequence[Row], t: Table) -> TableMatch | None:
    best: TableMatch | None = None
    best_score = -1
    for i, head in enumerate(rows):
        hm = _header_map(head, t)
        if hm is None:
            continue
        cols, n_after = hm
        m = TableMatch(t, cols_found=len(cols))
        caption_ok = any(
            match_score(c, t.caption) >= 3 for r in rows[max(0, i - 2) : i] for c in r.cells if c
        ) or any(match_score(c, t.caption) >= 3 for c in head.cells if c)
        found: set[str] = set()
        for r in rows[i + 1 : i + 2 + len(t.rows) + _ROW_GAP]:
            if _stop(r) or r.table != head.table:
                break
            hit, li = None, -1
            for ci, c in enumerate(r.cells):
                if not c or _is_value_like(c):
                    continue
                hit = next((row for row in t.rows if row.key not in found and match_score(c, row.label) >= 1), None)
                if hit is not None:
                    li = ci
                    break
            if hit is None:
                labels = [c for c in r.cells if c and not _is_value_like(c)]
                vals = [c for c in r.cells if c and _is_value_like(c)]
                if labels and vals:
                    m.extras[f"{t.caption}·{''.join(labels)}"] = "；".join(v.strip() for v in vals)
                continue
            found.add(hit.key)
            fitted = _fit(r.cells[li + 1 :], n_after)
            if fitted is None:
                m.issues.append(Issue(
                    "ROW_CELLS", f"{short(t.section)}“{t.caption}”的“{hit.label}”一行（{r.where}）有 "
                    f"{len(r.cells) - li - 1} 个数值单元格，表头有 {n_after} 列，无法确定对应关系，该行未导入。",
                    "error", short(t.section), f"{t.key}.{hit.key}", r.where))
                continue
            for ck, pos in cols.items():
                key = t.cell_key(hit.key, ck)
                m.values[key] = _value(fitted[pos], t.column(ck).unit)
                m.where[key] = r.where
        m.rows_found = len(found)
        if not found:
            continue
        score = m.score + (1 if caption_ok else 0)
        if score > best_score:
            best, best_score = m, score
    return best


# --- section 三: ordered row labels, tree header above ----------------------------------


def _label_hits(r: Row, label: str) -> list[tuple[int, int]]:
    """(score, cell index) of the cells of ``r`` naming ``label`` (text cells only)."""
    out = []
    for i, c in enumerate(r.cells):
        if c and not _is_value_like(c):
            s = match_score(c, label)
            if s:
                out.append((s, i))
    return out


def _match_matrix(rows: Sequence[Row], t: Table) -> TableMatch | None:
    n = len(t.columns)
    cands: list[list[tuple[int, int, int]]] = []  # per spec row: (row index, cell index, score)
    for spec_row in t.rows:
        cands.append([(ri, ci, s) for ri, r in enumerate(rows) for s, ci in _label_hits(r, spec_row.label)])
    best: dict[str, tuple[int, int]] = {}
    tried: set[int] = set()
    for i in range(min(3, len(t.rows))):
        for ri, ci, s in cands[i]:
            if s < 3 or ri in tried:
                continue
            tried.add(ri)
            assign = {t.rows[i].key: (ri, ci)}
            prev = ri
            for j in range(i + 1, len(t.rows)):
                nxt = [(r2, c2, s2) for r2, c2, s2 in cands[j] if prev < r2 <= prev + 1 + _ROW_GAP]
                if nxt:
                    r2, c2, _s2 = min(nxt, key=lambda x: (x[0], -x[2]))
                    assign[t.rows[j].key] = (r2, c2)
                    prev = r2
            if len(assign) > len(best):
                best = assign
    if len(best) < 2:
        return None
    m = TableMatch(t, rows_found=len(best))
    first = min(ri for ri, _ci in best.values())
    last = max(ri for ri, _ci in best.values())
    _check_matrix_header(rows[max(0, first - _HEADER_BAND) : first], t, m)
    if m.cols_found * 2 < n:
        m.issues.append(Issue(
            "HEADER", f"{short(t.section)}的表头中找不到大部分官方列名（自然人、商业企业……总计），无法确定各列含义，该表未导入。",
            "error", short(t.section), None, rows[first].where))
        m.rows_found = 0
        return m
    for spec_row in t.rows:
        if spec_row.key not in best:
            continue
        ri, ci = best[spec_row.key]
        r = rows[ri]
        vals = _fit(r.cells[ci + 1 :], n)
        if vals is None:
            m.issues.append(Issue(
                "ROW_CELLS", f"{short(t.section)}“{spec_row.label}”一行（{r.where}）有 {len(r.cells) - ci - 1} 个数值单元格，"
                f"应为 {n} 个，无法确定对应的列，该行未导入。", "error", short(t.section), f"{t.key}.{spec_row.key}", r.where))
            continue
        for col, text in zip(t.columns, vals, strict=True):
            key = t.cell_key(spec_row.key, col.key)
            m.values[key] = _value(text, col.unit)
            m.where[key] = r.where
    taken = {ri for ri, _ci in best.values()}
    known = {norm_label(g) for row in t.rows for g in row.groups}
    for ri in range(first, last + 1):
        if ri in taken:
            continue
        r = rows[ri]
        labels = [c for c in r.cells if c and not _is_value_like(c) and norm_label(c) not in known]
        vals = [c for c in r.cells if c and _is_value_like(c)]
        if labels and vals:
            m.extras[f"{t.caption}·{''.join(labels)}"] = "；".join(v.strip() for v in vals)
    return m


def _check_matrix_header(band: Sequence[Row], t: Table, m: TableMatch) -> None:
    """Count the official column labels the header names (a label may be split over two rows)."""
    found = 0
    missing = []
    for col in t.columns:
        ok = False
        for bi, r in enumerate(band):
            for ci, c in enumerate(r.cells):
                if not c:
                    continue
                if match_score(c, col.label) >= 2:
                    ok = True
                elif bi + 1 < len(band) and ci < len(band[bi + 1].cells):
                    ok = match_score(c + band[bi + 1].cells[ci], col.label) >= 2
                if ok:
                    break
            if ok:
                break
        found += ok
        if not ok:
            missing.append(col.label)
    m.cols_found = found
    if missing and found * 2 >= len(t.columns):
        m.issues.append(Issue(
            "HEADER", f"{short(t.section)}的表头中找不到列“{'”“'.join(missing)}”，已按官方列顺序读取，请核对。",
            "warning", short(t.section)))


# --- section 四: group labels, sub-labels, one data row ----------------------------------


def _match_flat(rows: Sequence[Row], t: Table) -> TableMatch | None:
    n = len(t.rows) * len(t.columns)
    keys = [t.cell_key(r.key, c.key) for r in t.rows for c in t.columns]
    best: TableMatch | None = None
    for ai, anchor in enumerate(rows):
        if not any(s >= 3 for s, _ci in _label_hits(anchor, t.rows[0].label)):
            continue
        band = rows[ai : ai + _FLAT_BAND]
        m = TableMatch(t)
        labels = [c for r in band for c in r.cells if c and not _is_value_like(c)]
        m.rows_found = sum(any(match_score(c, r.label) >= 3 for c in labels) for r in t.rows)
        m.cols_found = sum(any(match_score(c, col.label) >= 2 for c in labels) for col in t.columns)
        data = None
        for r in rows[ai + 1 : ai + _FLAT_BAND]:
            cells = list(r.cells)
            while len(cells) > n and (not cells[0].strip() or not _is_value_like(cells[0])):
                cells.pop(0)
            vals = _fit(cells, n)
            if vals is not None and all(_is_value_like(v) for v in vals) and any(v.strip() for v in vals):
                data = (r, vals)
                break
        if data is None:
            m.issues.append(Issue(
                "ROW_CELLS", f"{short(t.section)}在“{t.rows[0].label}”表头之后找不到由 {n} 个数值组成的数据行，该表未导入。",
                "error", short(t.section), None, anchor.where))
        else:
            r, vals = data
            for key, text in zip(keys, vals, strict=True):
                m.values[key] = _value(text, None)
                m.where[key] = r.where
            missing = [col.label for col in t.columns if not any(match_score(c, col.label) >= 2 for c in labels)]
            missing += [row.label for row in t.rows if not any(match_score(c, row.label) >= 3 for c in labels)]
            if missing:
                m.issues.append(Issue(
                    "HEADER", f"{short(t.section)}的表头中找不到“{'”“'.join(missing)}”，已按官方列顺序读取，请核对。",
                    "warning", short(t.section), None, anchor.where))
        if best is None or (bool(m.values), m.score) > (bool(best.values), best.score):
            best = m
    return best


_MATCHERS = {Style.GRID: _match_grid, Style.MATRIX: _match_matrix, Style.FLAT: _match_flat}


def match_format(rows: Sequence[Row], fmt: Format) -> FormatMatch:
    tables: dict[str, TableMatch] = {}
    for t in fmt.tables:
        m = _MATCHERS[t.style](rows, t)
        if m is not None:
            tables[t.key] = m
    return FormatMatch(fmt, tables)


@dataclass
class Detection:
    """The format the labels point to, per section and overall (official-format.md §4)."""

    match: FormatMatch | None
    per_section: dict[str, str | None]
    how: str
    conflict: bool = False
    matches: dict[str, FormatMatch] = field(default_factory=dict)  # every format's match

    def odd(self) -> list[TableMatch]:
        """Tables laid out in another format than the one the document is read in (see ``odd_tables``)."""
        return odd_tables(self.match, self.matches) if self.match is not None else []


def detect(rows: Sequence[Row], prefer: str | None = None, year: int | None = None) -> Detection:
    """Match both formats; the labels decide (section by section), not the year.

    When the sections disagree, the document is read in the format of the report year; without
    one, in the format most sections point to, and on a tie in the newer format (a table laid
    out in the 2021 format means the report was written in 2021 or later). A table laid out in
    the other format is then read by its own layout (``odd_tables``, ``map_table``).
    """
    matches = {fid: match_format(rows, f) for fid, f in FORMATS.items()}
    scores = {sec: {fid: m.section_score(sec) for fid, m in matches.items()} for sec in TABLE_SECTIONS}
    if not any(m.tables for m in matches.values()) and prefer not in FORMATS:
        return Detection(None, {s: None for s in TABLE_SECTIONS}, "没有找到年报表格", False, matches)
    d = decide_format(scores, prefer=prefer, year=year)
    per, signals = d.per_section, {f for f in d.per_section.values() if f}
    fid = d.chosen or (format_for_year(year).id if year is not None and _fits(year) else CURRENT.id)
    by_year = format_for_year(year).id if year is not None and _fits(year) else None
    names = {s: TABLE_SHEETS[s][1] for s in TABLE_SECTIONS}
    if d.basis == "conflict" and by_year not in signals:
        votes = Counter(f for f in per.values() if f)
        top = max(votes.values())
        fid = max((f for f, n in votes.items() if n == top), key=lambda f: FORMATS[f].years[0])
    if d.basis == "requested":
        how = f"按 --format 指定为 {fid} 版格式"
        if signals and signals != {fid}:
            how += f"（表格标签显示为 {'、'.join(sorted(signals))} 版，请核对）"
    elif d.basis == "labels":
        by = "、".join(names[s] for s, f in per.items() if f == fid)
        how = f"{fid} 版格式（{FORMATS[fid].document}）：由{by}的表格标签判断"
    elif d.basis == "conflict":
        parts = "，".join(f"{names[s]}像 {f} 版" for s, f in per.items() if f)
        votes = Counter(f for f in per.values() if f)
        rest = max((n for f, n in votes.items() if f != fid), default=0)
        why = f"按报告年度 {year} " if by_year == fid else "按多数表格" if votes[fid] > rest else "按较新的格式"
        how = f"各表格标签指向不同格式（{parts}），{why}以 {fid} 版读取"
    elif d.basis == "year" or (year is not None and _fits(year)):
        how = f"表格标签无法区分两版格式，按年度 {year} 采用 {fid} 版"
    else:
        how = f"表格标签无法区分两版格式，按现行 {fid} 版读取"
    return Detection(matches[fid], per, how, d.conflict, matches)


def _fits(year: int) -> bool:
    try:
        format_for_year(year)
    except SpecError:
        return False
    return True


# --- mixed layouts: a table in the other format ------------------------------------------


def placed(m: TableMatch) -> int:
    """How surely a match reads its table: rows that got values, plus header columns named."""
    t = m.table
    rows = sum(any(t.cell_key(r.key, c.key) in m.values for c in t.columns) for r in t.rows)
    return rows + m.cols_found if rows else 0


def odd_tables(target: FormatMatch, matches: dict[str, FormatMatch]) -> list[TableMatch]:
    """Tables whose labels fit another format better than the document's (per table, by placed
    rows and named columns; a tie is not a signal), and tables only another format has."""
    out: list[TableMatch] = []
    for fid, fm in matches.items():
        if fid == target.fmt.id:
            continue
        for key, m in fm.tables.items():
            if not m.values:
                continue
            mine = target.tables.get(key)
            if mine is None or placed(m) > placed(mine):
                out.append(m)
    return out


@dataclass
class Mapped:
    """A table read by its own layout, carried onto the document's format (exact cells only)."""

    src: TableMatch
    src_fmt: Format
    dst: Table | None  # the same table in the document's format (None: that format has none)
    values: dict[str, CellValue] = field(default_factory=dict)  # destination key → value
    where: dict[str, str] = field(default_factory=dict)
    zero_split: list[str] = field(default_factory=list)  # destination keys filled with 0 from a 0 sum
    unfilled: list[str] = field(default_factory=list)  # destination keys left without a value
    dropped: list[str] = field(default_factory=list)  # source keys with a value that has no place
    unsplit: list[str] = field(default_factory=list)  # source keys holding a sum (not 0) of destination cells


def map_table(m: TableMatch, src: Format, dst: Format) -> Mapped:
    """``m`` (a table of ``src``) onto ``dst`` where the crosswalk is exact; never a guessed number."""
    cw = crosswalk(src, dst)
    dt = next((t for t in dst.tables if t.key == m.table.key), None)
    out = Mapped(m, src, dt)
    vals = m.values
    split_of = {d: s for s, ds in cw.splits.items() for d in ds}
    keys = [dt.cell_key(r.key, c.key) for r in dt.rows for c in dt.columns] if dt is not None else []
    for d in keys:
        s = cw.same.get(d)
        parts = cw.sums.get(d)
        whole = split_of.get(d)
        if s is not None and s in vals:
            out.values[d], out.where[d] = vals[s], m.where.get(s, "")
        elif parts and all(p in vals and vals[p].state == "number" for p in parts):
            out.values[d] = CellValue.of(sum(vals[p].number or 0 for p in parts))
            out.where[d] = m.where.get(parts[0], "")
        elif whole is not None and whole in vals and vals[whole].state == "number" and vals[whole].number == 0:
            out.values[d], out.where[d] = CellValue.of(0), m.where.get(whole, "")
            out.zero_split.append(d)
        else:
            out.unfilled.append(d)
    for s, v in vals.items():
        if v.state != "blank" and not any(d in out.values for d in cw.targets(s)):
            (out.unsplit if s in cw.splits else out.dropped).append(s)
    return out
