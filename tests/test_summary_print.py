"""The district summary on paper: LibreOffice prints the 15-agency sample in a few A4 pages,
every sheet landscape, header rows (and 分单位明细's 单位 column) repeated, no text cut.

"No text cut" is checked on the workbook with the line estimate every sheet we write uses
(``write.template.text_height``): each text cell wraps and its row is tall enough, or the
text fits its column; each number fits its column.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from xltool.core.numbers import show, tidy
from xltool.pipeline.combine import combine
from xltool.workbook import summary_layout as SL
from xltool.workbook.layout import META_SHEET
from xltool.workbook.soffice import convert
from xltool.write.template import _text_units, text_height

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
MAX_PAGES = 15  # issue 14: 65 before (分单位明细 alone 44)


def pdf_pages(pdf: Path) -> int:
    """Page count: pdfinfo (poppler-utils) when installed, else the PDF's page objects."""
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))  # type: ignore[union-attr]
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples' summary, combined as the README does (relative paths, as a clerk types them)."""
    d = tmp_path_factory.mktemp("print")
    shutil.copytree(SAMPLES / "returns", d / "回收")
    shutil.copy(SAMPLES / "roster.csv", d / "单位名单.csv")
    shutil.copytree(SAMPLES / "last-year", d / "上年")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(d)
        combine(["回收"], year=2025, roster="单位名单.csv", previous="上年", out="汇总.xlsx",
                district="威海市环翠区人民政府")
    return d / "汇总.xlsx"


@pytest.mark.soffice
def test_summary_prints_in_few_pages(summary: Path, soffice_profile: Path, tmp_path: Path) -> None:
    (pdf,) = convert([summary], tmp_path, "pdf", profile=soffice_profile)
    assert pdf_pages(pdf) <= MAX_PAGES


def test_every_sheet_is_set_up_for_a4_landscape(summary: Path) -> None:
    wb = openpyxl.load_workbook(summary)
    for ws in wb.worksheets:
        if ws.title == META_SHEET:
            continue
        ps = ws.page_setup
        assert str(ps.paperSize) == "9", ws.title
        # the official tables print as the template does (表二, four columns wide, upright)
        assert ps.orientation == "landscape" or ws.title == SL.SUMMARY_TABLE_SHEETS["sec2"], ws.title
        if ws.title != SL.DETAIL_SHEET:
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ps.fitToWidth in (None, 1), ws.title
    def titles(x: str | None) -> str:
        return (x or "").replace("$", "")

    for name in (SL.STATUS_SHEET, SL.FINDINGS_SHEET):
        assert titles(wb[name].print_title_rows) == "1:1", name
    det = wb[SL.DETAIL_SHEET]
    # too wide for one page: pages run across first, headers and 单位 on every page, legible scale
    assert titles(det.print_title_rows) == f"{SL.DETAIL_TITLE_ROW + 1}:{SL.DETAIL_KEY_ROW + 1}"
    assert titles(det.print_title_cols) == "A:A"
    assert det.page_setup.pageOrder == "overThenDown"
    assert 50 <= int(det.page_setup.scale) <= 100


def _font_pt(cell: openpyxl.cell.Cell) -> float:
    return float(cell.font.sz or 11)


def _widths(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[int, float]:
    """Column widths by 1-based column (XlsxWriter writes equal neighbours as one <col> range)."""
    out: dict[int, float] = {}
    for dim in list(ws.column_dimensions.values()):
        if dim.min is not None and dim.width:
            for c in range(dim.min, dim.max + 1):
                out[c] = dim.width
    return out


def test_no_text_is_cut(summary: Path) -> None:
    """File names, messages, hashes, agency names: wrapped in rows tall enough, or narrower than
    their column; numbers narrower than their column."""
    wb = openpyxl.load_workbook(summary)
    checked = 0
    for name in (SL.STATUS_SHEET, SL.FINDINGS_SHEET, SL.NOTES_SHEET, SL.DETAIL_SHEET):
        ws = wb[name]
        merged = {(r.min_row, r.min_col) for r in ws.merged_cells.ranges}
        widths = _widths(ws)
        hidden = {i for d in ws.column_dimensions.values() if d.hidden for i in range(d.min, d.max + 1)}
        for row in ws.iter_rows():
            for c in row:
                if (c.value is None or (c.row, c.column) in merged or ws.row_dimensions[c.row].hidden
                        or c.column in hidden):  # hidden columns (sha256 for the next level) never print
                    continue
                width = widths.get(c.column, 8.43)
                text = c.value if isinstance(c.value, str) else show(tidy(c.value)) if isinstance(
                    c.value, (int, float)) else None
                if text is None or text.startswith("="):
                    continue
                fits_line = _text_units(text) * _font_pt(c) / 11 <= width - 1
                if isinstance(c.value, str) and not fits_line:
                    assert c.alignment.wrap_text, (name, c.coordinate, text)
                    height = ws.row_dimensions[c.row].height
                    assert height is not None and height >= text_height(text, width, _font_pt(c)) - 0.5, (
                        name, c.coordinate, text, height)
                elif not isinstance(c.value, str):
                    assert fits_line, (name, c.coordinate, text, width)
                checked += 1
        # the longest file name on the sheet is among the checked cells
    assert checked > 500
