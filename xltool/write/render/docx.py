"""The report as a Word document: real Word tables with merged cells, 仿宋/宋体/黑体 fonts.

Chinese faces must be set as the East Asian font (``w:eastAsia``); setting only the font
name changes the Latin face, and Word would show the Chinese text in its default face.
Cells that fail validation (rendered with --force) are shaded and carry a Word comment.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import _Cell

from xltool.workbook.fileio import atomic_path, readable
from xltool.write.render.model import RenderDoc, TCell, TTable

BODY_FONT = "仿宋"
TABLE_FONT = "宋体"
HEADING_FONT = "黑体"
TITLE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
BAD_FILL = "FFC7CE"
PAGE_W, PAGE_H = Mm(210), Mm(297)
MARGIN_TB, MARGIN_LR = Mm(25), Mm(20)
TEXT_WIDTH_MM = 210 - 2 * 20
ROW_HEIGHT = Mm(6)


def set_font(target: object, east_asia: str, size: float | None = None, bold: bool | None = None,
             color: RGBColor | None = None) -> None:
    """Font of a run or a style, with the East Asian face set (``w:rFonts/@w:eastAsia``)."""
    font = target.font  # type: ignore[attr-defined]
    font.name = LATIN_FONT
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if color is not None:
        font.color.rgb = color
    rpr = target.element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def _indent_chars(paragraph: object, size: float, chars: int = 2) -> None:
    """First-line indent of two characters: ``w:firstLineChars`` for Word/WPS, plus the
    same distance in points, which LibreOffice uses."""
    paragraph.paragraph_format.first_line_indent = Pt(size * chars)  # type: ignore[attr-defined]
    ind = paragraph._p.get_or_add_pPr().find(qn("w:ind"))  # type: ignore[attr-defined]
    ind.set(qn("w:firstLineChars"), str(chars * 100))


def _positions(t: TTable) -> list[tuple[int, int, TCell]]:
    """(row, column, cell) of every cell: the HTML table layout rule (skip covered slots)."""
    covered: set[tuple[int, int]] = set()
    out: list[tuple[int, int, TCell]] = []
    for r, row in enumerate(t.rows):
        c = 0
        for cell in row:
            while (r, c) in covered:
                c += 1
            out.append((r, c, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    covered.add((r + dr, c + dc))
            c += cell.colspan
    return out


def _shade(cell: object, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _row_flag(row: object, tag: str) -> None:
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    el = OxmlElement(tag)
    el.set(qn("w:val"), "true")
    trpr.append(el)


def add_table(doc: object, t: TTable) -> object:
    n_rows = len(t.rows)
    table = doc.add_table(rows=n_rows, cols=t.width)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.autofit = False
    total = sum(t.weights) or 1.0
    widths = [Mm(TEXT_WIDTH_MM * w / total) for w in t.weights]
    for i, col in enumerate(table.columns):
        col.width = widths[i]
    # the unmerged grid, built once: table.cell() recomputes the whole grid on every call
    grid = [[_Cell(tc, table) for tc in row._tr.tc_lst] for row in table.rows]
    for row, cells in zip(table.rows, grid, strict=True):
        _row_flag(row, "w:cantSplit")
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        row.height = ROW_HEIGHT
        for i, cell in enumerate(cells):
            cell.width = widths[i]
    for i in range(t.header_rows):
        _row_flag(table.rows[i], "w:tblHeader")
    size = 9.0 if t.style.value == "flat" else 10.5
    for r, c, tc in _positions(t):  # merge ranges never overlap, so grid corners stay valid
        cell = grid[r][c]
        if tc.rowspan > 1 or tc.colspan > 1:
            cell = cell.merge(grid[r + tc.rowspan - 1][c + tc.colspan - 1])
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        p = cell.paragraphs[0]
        for extra in cell.paragraphs[1:]:  # merge() leaves the covered cells' empty paragraphs
            extra._p.getparent().remove(extra._p)
        pf = p.paragraph_format
        pf.space_before = pf.space_after = Pt(0)
        pf.line_spacing = 1.0
        if tc.kind == "value" and tc.numeric:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif tc.kind == "label":
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT
        else:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        lines = tc.text.split("\n")
        run = p.add_run(lines[0])
        for line in lines[1:]:
            run.add_break()
            run.add_text(line)
        set_font(run, TABLE_FONT, size)
        if tc.flag:
            _shade(cell, BAD_FILL)
            run.font.bold = True
            run.font.color.rgb = RGBColor(0x9C, 0x00, 0x06)
            doc.add_comment(run, text=tc.flag, author="xltool", initials="XL")  # type: ignore[attr-defined]
    return table


def _paragraph(doc: object, text: str, font: str, size: float, *, bold: bool = False, indent: bool = True,
               align: object = WD_ALIGN_PARAGRAPH.JUSTIFY, color: RGBColor | None = None) -> object:
    p = doc.add_paragraph()  # type: ignore[attr-defined]
    pf = p.paragraph_format
    pf.space_before = pf.space_after = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(max(size * 1.75, 14))
    p.alignment = align
    if indent:
        _indent_chars(p, size)
    run = p.add_run(text)
    set_font(run, font, size, bold, color)
    return p


def to_docx(doc: RenderDoc) -> object:
    d = Document()
    sec = d.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = PAGE_W, PAGE_H
    sec.top_margin = sec.bottom_margin = MARGIN_TB
    sec.left_margin = sec.right_margin = MARGIN_LR
    set_font(d.styles["Normal"], BODY_FONT, 16)
    d.core_properties.title = doc.title
    d.core_properties.author = "xltool"
    d.core_properties.language = "zh-CN"
    red = RGBColor(0x9C, 0x00, 0x06)
    for i, line in enumerate(doc.notice):
        _paragraph(d, line if i == 0 else f"· {line}", BODY_FONT, 12, bold=i == 0, indent=False,
                   align=WD_ALIGN_PARAGRAPH.LEFT, color=red)
    title = _paragraph(d, doc.title, TITLE_FONT, 22, bold=True, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.space_after = Pt(16)  # type: ignore[attr-defined]
    for line in doc.coverage:
        _paragraph(d, line, BODY_FONT, 12, indent=False, align=WD_ALIGN_PARAGRAPH.LEFT)
    grey = RGBColor(0x7F, 0x7F, 0x7F)
    for s in doc.sections:
        h = _paragraph(d, s.heading, HEADING_FONT, 16)
        h.paragraph_format.keep_with_next = True  # type: ignore[attr-defined]
        for text in s.paragraphs:
            _paragraph(d, text, BODY_FONT, 16, color=grey if s.placeholder else None)
        if s.table is not None:
            add_table(d, s.table)
            _paragraph(d, "", BODY_FONT, 10, indent=False)
    return d


def write_docx(doc: RenderDoc, path: str | Path, *, overwrite: bool = False) -> Path:
    target = Path(path)
    d = to_docx(doc)
    with atomic_path(target, overwrite=overwrite) as tmp:
        d.save(str(tmp))  # type: ignore[attr-defined]
        readable(tmp)
    return target
