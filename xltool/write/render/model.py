"""The publishable report as plain data, shared by the HTML and DOCX writers.

The three tables are built from ``xltool.workbook.layout``: every label, its merged range (→
rowspan/colspan), every value cell and its span come from the template layout, so the
published tables have exactly the template's (= the official) labels and structure. Only
our own additions are left out: the sheet headings (they become section headings), the
校验状态 row and the 勾稽 check row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from xltool.spec import Format, Style
from xltool.workbook.layout import CHECK_ROW_LABEL, STATUS_LABEL, Layout, parse_a1


@dataclass
class TCell:
    text: str
    kind: str  # caption | header | note | group | label | value
    rowspan: int = 1
    colspan: int = 1
    key: str | None = None  # spec cell key of a value cell
    numeric: bool = False  # a number (right-aligned)
    flag: str | None = None  # why this cell fails validation (rendered with --force)


@dataclass
class TTable:
    section: str
    style: Style
    width: int
    rows: list[list[TCell]]  # per row, the cells that START in it, left to right
    header_rows: int = 0  # leading rows repeated on every printed page
    weights: list[float] = field(default_factory=list)  # relative column widths


@dataclass
class RSection:
    key: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    table: TTable | None = None
    placeholder: bool = False  # paragraphs are a placeholder for the clerk to replace


@dataclass
class RenderDoc:
    title: str
    sections: list[RSection]
    notice: list[str] = field(default_factory=list)  # validation failures (rendered with --force)
    kind: str = "agency"  # agency | summary
    year: int | None = None
    format_id: str | None = None
    subtitle: str | None = None
    coverage: list[str] = field(default_factory=list)  # a summary: which agencies it counts


def _weights(style: Style, width: int, first_value_col: int) -> list[float]:
    """Column widths that fit A4 portrait: wide label columns, narrow value columns."""
    if style is Style.GRID:
        return [2.2] + [1.0] * (width - 1)
    if style is Style.MATRIX:
        label = [0.9, 1.3, 4.4][-first_value_col:] if first_value_col else []
        return label + [1.0] * (width - first_value_col)
    return [1.0] * width


def build_table(lay: Layout, section: str, display: Callable[[str], tuple[str, bool]],
                flags: Mapping[str, str] | None = None) -> TTable:
    """One official table from the layout; ``display(key)`` → (text, is_number)."""
    sh = lay.sheets[section]
    style = lay.fmt.tables_of(section)[0].style
    flags = flags or {}
    skip_rows = {lab.row for lab in sh.labels if lab.kind == "heading" or lab.text in (STATUS_LABEL, CHECK_ROW_LABEL)}
    if sh.status is not None:
        skip_rows.add(parse_a1(sh.status.addr)[0])
    starts: dict[tuple[int, int], TCell] = {}
    for lab in sh.labels:
        if lab.row in skip_rows:
            continue
        last_row = lab.last_row if lab.last_row is not None else lab.row
        last_col = lab.last_col if lab.last_col is not None else lab.col
        if any(r in skip_rows for r in range(lab.row, last_row + 1)):  # pragma: no cover - layout invariant
            raise ValueError(f"label {lab.text!r} spans a skipped row")
        starts[(lab.row, lab.col)] = TCell(lab.text, lab.kind, last_row - lab.row + 1, last_col - lab.col + 1)
    for v in sh.values:
        text, numeric = display(v.key)
        span = (v.last_col - v.col + 1) if v.last_col is not None else 1
        starts[(v.row, v.col)] = TCell(text, "value", 1, span, v.key, numeric, flags.get(v.key))
    rows_used = sorted({r for r, _c in starts})
    table_rows = [[starts[(r, c)] for c in range(sh.width) if (r, c) in starts] for r in rows_used]
    header = 0
    if sh.header_rows != (0, 0):
        h0, h1 = sh.header_rows
        header = sum(1 for r in rows_used if h0 <= r <= h1)
    first_value_col = min(v.col for v in sh.values)
    return TTable(section, style, sh.width, table_rows, header, _weights(style, sh.width, first_value_col))


def placeholder(heading: str) -> str:
    return f"〔请在此填写“{heading}”部分的内容。〕"


def build_document(
    fmt: Format,
    lay: Layout,
    title: str,
    display: Callable[[str], tuple[str, bool]],
    narrative: Mapping[str, str],
    *,
    flags: Mapping[str, str] | None = None,
    notice: list[str] | None = None,
    kind: str = "agency",
    year: int | None = None,
    coverage: list[str] | None = None,
) -> RenderDoc:
    """Sections 一 to 六 in the official order: narrative text or a table each."""
    sections: list[RSection] = []
    for s in fmt.sections:
        rs = RSection(s.key, s.heading)
        if s.narrative:
            text = (narrative.get(s.key) or "").strip()
            if text:
                rs.paragraphs = [p.strip() for p in text.splitlines() if p.strip()]
            else:
                rs.paragraphs = [placeholder(s.heading)]
                rs.placeholder = True
        else:
            rs.table = build_table(lay, s.key, display, flags)
        sections.append(rs)
    return RenderDoc(title, sections, list(notice or []), kind, year, fmt.id, coverage=list(coverage or []))


