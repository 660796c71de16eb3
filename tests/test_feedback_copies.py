"""Feedback copies that agree with themselves, and folders of copies that belong to one run.

- A total typed over gets its formula back in the copy, so the copy's 校验结果 must speak of
  the copy: 你填写的 20 已恢复为公式，当前为 19 — every number it quotes for that cell is the
  number LibreOffice shows there after recalculating the copy.
- The explanation at the top of 校验结果 is wrapped within a screen's width, each row tall
  enough for its lines (the line estimate of every sheet we write: ``template.text_height``).
- Copies we wrote (known by their meta sheet, not their names) are never read back as
  returns while unedited; earlier copies a run no longer writes move to 已过期; files that
  are not our copies are never touched.
- Writing copies reports progress.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xltool.pipeline.check import EXPIRED_DIR, CheckedFile, check_paths
from xltool.pipeline.combine import combine
from xltool.pipeline.report_text import render
from xltool.pipeline.synth import synth_values, totals
from xltool.spec import V2021
from xltool.workbook.layout import TABLE_SHEETS, layout_for
from xltool.write.feedback import FEEDBACK_SHEET, HEADERS
from xltool.write.template import text_height, write_workbook

FMT = V2021
YEAR = 2025
OVER = "sec3.total_processed.total"  # 表三 （七）总计·总计 (J29): typed over by the agency
SCREEN_UNITS = 160  # column-width units visible at 100 % on a 1366-pixel laptop screen


def _vals(seed: int) -> dict[str, Any]:
    return dict(synth_values(FMT, random.Random(seed), size=8))


def _returns(d: Path) -> dict[str, Path]:
    """Three returns: one with a typed-over total, one with a slash, one clean."""
    d.mkdir(parents=True, exist_ok=True)
    vals = _vals(3)
    typed = totals(FMT, vals)[OVER] + 1
    over = write_workbook(d / "2025年_甲局_政府信息公开年报.xlsx", FMT, YEAR, agency="甲局", values=vals,
                          overrides={OVER: typed})
    slash_vals = _vals(4)
    slash_vals[next(k for k in FMT.input_keys if k.startswith("sec3.") and slash_vals[k] == 0)] = "/"
    slash = write_workbook(d / "2025年_乙局_政府信息公开年报.xlsx", FMT, YEAR, agency="乙局", values=slash_vals)
    clean = write_workbook(d / "2025年_丙局_政府信息公开年报.xlsx", FMT, YEAR, agency="丙局", values=_vals(5))
    return {"over": over, "slash": slash, "clean": clean}


@pytest.fixture(scope="module")
def typed_over(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("ret")
    fb = tmp_path_factory.mktemp("fb")
    files = _returns(d)
    run = check_paths([d], year=YEAR, feedback_dir=fb)
    by_name = {Path(f.path).name: f for f in run.files}
    f: CheckedFile = by_name[files["over"].name]
    assert f.feedback_path is not None
    return {"run": run, "file": f, "copy": Path(f.feedback_path), "typed": totals(FMT, _vals(3))[OVER] + 1}


def _listing(path: Path) -> tuple[list[tuple[Any, ...]], int]:
    ws = openpyxl.load_workbook(path)[FEEDBACK_SHEET]
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    hdr = next(i for i, r in enumerate(rows) if r[: len(HEADERS)] == HEADERS)
    return rows, hdr


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(?<![A-Z\d.])-?\d+(?:\.\d+)?", text)]


@pytest.mark.soffice
def test_listing_quotes_the_numbers_the_copy_shows(typed_over: dict[str, Any], recalc: Any) -> None:
    lay = layout_for(FMT)
    sheet, addr = lay.address[OVER]
    short = dict(TABLE_SHEETS.values())[sheet]
    (calc,) = recalc([typed_over["copy"]])
    wb = openpyxl.load_workbook(calc, data_only=True)
    shown = wb[sheet][addr].value
    typed = typed_over["typed"]
    assert isinstance(shown, (int, float)) and shown != typed
    # check itself still reports the returned file as it was
    assert any(x.code == "TOTAL_OVERWRITTEN" and x.actual == typed for x in typed_over["file"].findings)
    rows, hdr = _listing(typed_over["copy"])
    body = [r for r in rows[hdr + 1 :] if r[0]]
    at_cell = [r for r in body if r[2] == f"{short}!{addr}"]
    assert at_cell, "the restored total is listed"
    said = " ".join(str(r[7]) for r in at_cell)
    assert f"你填写的 {typed} 已恢复为公式，当前为 {shown}" in said
    for r in at_cell:
        for col in (5, 6):  # 应为, 实为
            assert all(n == shown for n in _numbers(str(r[col] or ""))), r
        rest = re.sub(r"你填写的\s*\S+?\s*已恢复", "", str(r[7]))
        assert all(n == shown for n in _numbers(rest)), r
    for r in body:  # other lines quoting the cell (a 勾稽 line names it as "（J29）19")
        for n in re.findall(rf"（{addr}）(-?\d+(?:\.\d+)?)", str(r[7])):
            assert float(n) == shown, r
    # the copy's sheet and its list agree: 表三's status shows the copy passes its relations,
    # and the list has no relation error left over from the typed number
    st = lay.sheets["sec3"].status
    assert st is not None and wb[sheet][st.addr].value == "校验通过"
    assert {r[0] for r in body} == {"TOTAL_OVERWRITTEN"}
    assert "其中 1 处合计" in str(rows[2][0])


def test_explanation_is_shown_whole(typed_over: dict[str, Any]) -> None:
    ws = openpyxl.load_workbook(typed_over["copy"])[FEEDBACK_SHEET]
    widths: dict[int, float] = {}
    for dim in list(ws.column_dimensions.values()):
        if dim.min is not None and dim.width:
            for c in range(dim.min, dim.max + 1):
                widths[c] = dim.width
    hdr = next(r for r in range(1, 20) if ws.cell(r, 1).value == HEADERS[0])
    intro = [rg for rg in ws.merged_cells.ranges if rg.min_row < hdr]
    assert len(intro) == hdr - 3  # between the title and a blank row above the header
    for rg in intro:
        text = ws.cell(rg.min_row, rg.min_col).value
        width = sum(widths.get(c, 8.43) for c in range(rg.min_col, rg.max_col + 1))
        assert width <= SCREEN_UNITS, "readable without scrolling sideways"
        assert ws.cell(rg.min_row, rg.min_col).alignment.wrap_text
        assert ws.row_dimensions[rg.min_row].height >= text_height(text, width) - 0.5, text
    for r in range(hdr + 1, ws.max_row + 1):  # every finding row shows all its wrapped cells
        for c in range(4, len(HEADERS) + 1):
            v = ws.cell(r, c).value
            if v not in (None, ""):
                assert ws.row_dimensions[r].height >= text_height(str(v), widths[c]) - 0.5, (r, c, v)


# --- item 6: a run's copies are its own ------------------------------------------------------


def test_copies_are_never_read_back_while_unedited(tmp_path: Path) -> None:
    ret = tmp_path / "回收"
    files = _returns(ret)
    fb = ret / "校验意见"  # the copies lie among the returns
    first = check_paths([ret], year=YEAR, feedback_dir=fb)
    assert len(first.files) == 3 and len([f for f in first.files if f.feedback_path]) == 2
    # one copy renamed like a return: recognised by its meta sheet, not by its name
    renamed = ret / "2025年_甲局_政府信息公开年报（修改后）.xlsx"
    shutil.copy(fb / (files["over"].stem + "_校验意见.xlsx"), renamed)
    second = check_paths([ret], year=YEAR)
    assert sorted(Path(f.path).name for f in second.files) == sorted(p.name for p in files.values())
    assert sorted(Path(p).name for p in second.skipped) == sorted(
        [renamed.name, *(p.name for p in fb.glob("*.xlsx"))])
    text = render(second)
    assert "本工具以前生成的校验意见副本" in text and renamed.name in text
    assert not any(x.code == "DUPLICATE_AGENCY" for f in second.files for x in f.findings)
    result = combine([ret], year=YEAR)
    assert len(result.rows) == 2  # 乙局 and 丙局 (甲局 has an error); no copy among them
    assert any("校验意见副本" in n and renamed.name in n for n in result.notes)
    # the agency corrects the copy and sends it back: now it is a return
    wb = openpyxl.load_workbook(renamed)
    sheet, addr = layout_for(FMT).address[next(k for k in FMT.input_keys if k.startswith("sec3."))]
    wb[sheet][addr] = (wb[sheet][addr].value or 0) + 1
    wb.save(renamed)
    third = check_paths([ret], year=YEAR)
    assert renamed.name in {Path(f.path).name for f in third.files}
    assert renamed.name not in {Path(p).name for p in third.skipped}


def test_earlier_copies_move_aside_foreign_files_stay(tmp_path: Path) -> None:
    ret, fb = tmp_path / "回收", tmp_path / "校验意见"
    files = _returns(ret)
    check_paths([ret], year=YEAR, feedback_dir=fb)
    slash_copy = fb / (files["slash"].stem + "_校验意见.xlsx")
    over_copy = fb / (files["over"].stem + "_校验意见.xlsx")
    assert slash_copy.exists() and over_copy.exists()
    # a file of the clerk's own in the folder, named as this run's copy of 甲局 would be
    foreign = fb / "自己的笔记.xlsx"
    openpyxl.Workbook().save(foreign)
    shutil.move(over_copy, fb / "甲局的旧意见（已处理）.xlsx")  # one of ours, renamed by the clerk
    lookalike = over_copy
    openpyxl.Workbook().save(lookalike)
    before = {p: p.read_bytes() for p in (foreign, lookalike)}
    # 乙局 fixes its slash: its copy is now stale
    vals = _vals(4)
    write_workbook(files["slash"], FMT, YEAR, agency="乙局", values=vals, overwrite=True)
    run = check_paths([ret], year=YEAR, feedback_dir=fb)
    assert [Path(f.feedback_path).name for f in run.files if f.feedback_path] == [
        files["over"].stem + "_校验意见_2.xlsx"]  # next to the clerk's look-alike, not over it
    for p, data in before.items():
        assert p.read_bytes() == data, p.name
    expired = fb / EXPIRED_DIR
    assert sorted(p.name for p in expired.iterdir()) == sorted([slash_copy.name, "甲局的旧意见（已处理）.xlsx"])
    assert sorted(Path(p).name for p in run.expired) == sorted(p.name for p in expired.iterdir())
    assert sorted(p.name for p in fb.iterdir() if p.is_file()) == sorted(
        [foreign.name, lookalike.name, files["over"].stem + "_校验意见_2.xlsx"])
    assert EXPIRED_DIR in render(run)
    # the next run keeps 已过期 and moves nothing more
    again = check_paths([ret], year=YEAR, feedback_dir=fb)
    assert again.expired == [] and len(list(expired.iterdir())) == 2


def test_writing_copies_reports_progress(tmp_path: Path) -> None:
    ret = tmp_path / "回收"
    _returns(ret)
    calls: list[tuple[int, int]] = []
    check_paths([ret], year=YEAR, feedback_dir=tmp_path / "fb", progress=lambda done, n: calls.append((done, n)))
    reading = [c for c in calls if c[1] == 3]
    writing = [c for c in calls if c[1] == 2]  # two files have findings: two copies
    assert reading[-1] == (3, 3) and writing == [(1, 2), (2, 2)]
