"""Feedback copies (``check --feedback``): the template rebuilt with the agency's values and marks.

Proved on real files: protection, formulas and their cached values (against arithmetic done
here from the spec relations), data validation, comments and highlights, the 校验结果
sheet, foreign files, and that LibreOffice recalculates the copy to the same totals.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.cell_range import CellRange
from python_calamine import CalamineWorkbook

from xltool.pipeline.check import CheckedFile, CheckRun, check_paths, feedback_findings
from xltool.pipeline.synth import synth_values, totals
from xltool.spec import V2019, V2021, Format
from xltool.workbook.layout import layout_for, parse_a1
from xltool.write.feedback import FEEDBACK_SHEET, HEADERS
from xltool.write.template import HIGHLIGHT_FILL, write_workbook

YEAR = {"2021": 2025, "2019": 2020}


def sheet_arithmetic(fmt: Format, typed: dict[str, Any]) -> dict[str, float]:
    """Every formula cell as a spreadsheet computes it: SUM adds plain numbers, skips text."""
    out: dict[str, float] = {}

    def val(k: str) -> float:
        if k in fmt.formulas:
            if k not in out:
                out[k] = sum(val(p) for p in fmt.formulas[k].parts)
            return out[k]
        v = typed.get(k)
        return float(v) if isinstance(v, (int, float)) else 0.0

    for k in fmt.formulas:
        val(k)
    return out


def write_foreign(path: Path, fmt: Format, vals: dict[str, Any]) -> dict[str, str]:
    lay = layout_for(fmt)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "年报"
    ws["A1"] = "单位名称：外来局"
    where: dict[str, str] = {}
    off = 2
    for sec in ("sec2", "sec3", "sec4"):
        sh = lay.sheets[sec]
        for lab in sh.labels:
            ws.cell(off + lab.row + 1, lab.col + 2, lab.text)
        for v in sh.values:
            where[v.key] = ws.cell(off + v.row + 1, v.col + 2, vals.get(v.key)).coordinate
        off += max(v.row for v in sh.values) + 4
    wb.save(path)
    return where


@pytest.fixture(scope="module", params=[V2021, V2019], ids=lambda f: f.id)
def checked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    fmt: Format = request.param
    lay = layout_for(fmt)
    d = tmp_path_factory.mktemp(f"in{fmt.id}")
    fb = tmp_path_factory.mktemp(f"fb{fmt.id}")
    vals: dict[str, Any] = dict(synth_values(fmt, random.Random(11), size=8))
    sec3_inputs = [k for k in fmt.input_keys if k.startswith("sec3.")]
    pos = [k for k in sec3_inputs if (vals.get(k) or 0) > 1]
    zero = [k for k in sec3_inputs if vals.get(k) == 0]
    typed = dict(vals)
    marks = {
        "slash": zero[0],
        "text": zero[1],
        "fullwidth": pos[0],
        "negative": "sec4.review.upheld",
        "blank": zero[2],
    }
    typed[marks["slash"]] = "/"
    typed[marks["text"]] = "约10件"
    typed[marks["fullwidth"]] = str(vals[pos[0]]).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    typed[marks["negative"]] = -3
    typed[marks["blank"]] = None
    over = next(k for k in fmt.formulas if k.startswith("sec3.partial."))
    src = write_workbook(d / "填报.xlsx", fmt, YEAR[fmt.id], agency="某某局", values=typed,
                         overrides={over: 777}, info={"filler": "张三", "phone": "0631-1234567"},
                         narrative={"sec1": "总体情况正文。"})
    foreign_vals = dict(vals)
    foreign_vals.update(totals(fmt, vals))
    foreign_vals["sec4.review.total"] += 5
    foreign_where = write_foreign(d / "外来表格.xlsx", fmt, foreign_vals)
    (d / "坏文件.xlsx").write_bytes(b"")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in d.iterdir()}
    run = check_paths([d], year=YEAR[fmt.id], feedback_dir=fb)
    files = {Path(f.path).name: f for f in run.files}
    return {"fmt": fmt, "lay": lay, "dir": d, "fb": fb, "run": run, "files": files, "typed": typed,
            "marks": marks, "over": over, "src": src, "before": before, "foreign_where": foreign_where,
            "foreign_vals": foreign_vals}


def copy_of(c: dict[str, Any], name: str) -> Path:
    f: CheckedFile = c["files"][name]
    assert f.feedback_path is not None
    p = Path(f.feedback_path)
    assert p.name == Path(name).stem + "_校验意见.xlsx" and p.parent == c["fb"]
    return p


def test_inputs_untouched_and_unreadable_gets_no_copy(checked: dict[str, Any]) -> None:
    d: Path = checked["dir"]
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in d.iterdir()} == checked["before"]
    assert checked["files"]["坏文件.xlsx"].status == "unreadable"
    assert checked["files"]["坏文件.xlsx"].feedback_path is None
    assert sorted(p.name for p in checked["fb"].iterdir()) == sorted(["外来表格_校验意见.xlsx", "填报_校验意见.xlsx"])


def test_copy_keeps_protection_formulas_validation(checked: dict[str, Any]) -> None:
    fmt, lay = checked["fmt"], checked["lay"]
    wb = openpyxl.load_workbook(copy_of(checked, "填报.xlsx"))
    assert wb.sheetnames[0] == FEEDBACK_SHEET
    assert wb.security is not None and wb.security.lockStructure
    for sec, sh in lay.sheets.items():
        ws = wb[sh.name]
        assert ws.protection.sheet, sh.name
        for f in sh.formulas.values():
            assert ws[f.addr].value == "=" + f.text  # typed-over totals get their formula back
            assert ws[f.addr].protection.locked
        dv_ranges = [CellRange(str(r)) for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges]
        for v in sh.inputs:
            cell = ws[v.addr]
            assert not cell.protection.locked, (sec, v.addr)
            r, c = parse_a1(v.addr)
            assert any(rg.min_row <= r + 1 <= rg.max_row and rg.min_col <= c + 1 <= rg.max_col for rg in dv_ranges), v.addr
    # what the agency typed is kept, as typed
    t = checked["typed"]
    m = checked["marks"]
    for what in ("slash", "text", "fullwidth", "negative"):
        sheet, a = lay.address[m[what]]
        assert wb[sheet][a].value == t[m[what]], what
    sheet, a = lay.address[m["blank"]]
    assert wb[sheet][a].value is None
    info = wb["基本信息"]
    assert info[lay.info_address["agency"][1]].value == "某某局"
    assert info[lay.info_address["phone"][1]].value == "0631-1234567"
    assert wb["文字部分"][lay.text_address["sec1"][1]].value == "总体情况正文。"
    assert fmt.id in str(info[lay.info_address["format"][1]].value)


def test_cached_totals_are_right(checked: dict[str, Any]) -> None:
    """A viewer that does not calculate (python-calamine reads cached values) sees correct totals."""
    fmt, lay = checked["fmt"], checked["lay"]
    want = sheet_arithmetic(fmt, checked["typed"])
    wb = CalamineWorkbook.from_path(str(copy_of(checked, "填报.xlsx")))
    grids = {sh.name: wb.get_sheet_by_name(sh.name).to_python(skip_empty_area=False) for sh in lay.sheets.values()}
    for key in fmt.formulas:
        sheet, a = lay.address[key]
        r, c = parse_a1(a)
        assert grids[sheet][r][c] == want[key], key
    # the 表三 status cell counts the problems the agency must fix (text, negatives, 不平衡)
    st = lay.sheets["sec3"].status
    assert st is not None
    r, c = parse_a1(st.addr)
    assert str(grids[lay.sheets["sec3"].name][r][c]).startswith("尚有")


def test_comments_and_highlights_on_offending_cells(checked: dict[str, Any]) -> None:
    lay = checked["lay"]
    f: CheckedFile = checked["files"]["填报.xlsx"]
    wb = openpyxl.load_workbook(copy_of(checked, "填报.xlsx"))
    keyed = [x for x in feedback_findings(f.result, f.findings)[0] if x.key in lay.address]  # what the copy says
    assert {x.code for x in keyed} >= {"MISSING_MARKER", "NOT_NUMBER", "TEXT_NUMBER", "NEGATIVE", "BLANK",
                                      "TOTAL_OVERWRITTEN"}
    for x in keyed:
        sheet, a = lay.address[x.key]
        cell = wb[sheet][a]
        assert cell.comment is not None, (x.code, a)
        assert x.code in cell.comment.text and x.message[:40] in cell.comment.text
        assert cell.fill.fgColor.rgb.endswith(HIGHLIGHT_FILL.lstrip("#").upper())
    over_sheet, over_addr = lay.address[checked["over"]]
    assert "777" in wb[over_sheet][over_addr].comment.text


def test_findings_sheet_lists_every_finding(checked: dict[str, Any]) -> None:
    f: CheckedFile = checked["files"]["填报.xlsx"]
    ws = openpyxl.load_workbook(copy_of(checked, "填报.xlsx"))[FEEDBACK_SHEET]
    rows = [r for r in ws.iter_rows(values_only=True)]
    hdr = next(i for i, r in enumerate(rows) if r[: len(HEADERS)] == HEADERS)
    body = [r for r in rows[hdr + 1 :] if r[0]]
    # the copy's findings: its typed-over total is a formula again
    listed, restored = feedback_findings(f.result, f.findings)
    assert restored == 1 and len(body) == len(listed)
    assert [r[0] for r in body] == [x.code for x in sorted(listed, key=lambda x: x.severity.value != "error")]
    n_err = sum(1 for x in listed if x.severity.value == "error")
    assert f"共 {n_err} 个错误" in str(rows[1][0])
    # 位置 links to the cell in this copy
    loc = ws.cell(hdr + 2, 3)
    assert loc.hyperlink is not None and loc.hyperlink.location


def test_foreign_file_gets_a_fresh_template(checked: dict[str, Any]) -> None:
    fmt, lay = checked["fmt"], checked["lay"]
    f: CheckedFile = checked["files"]["外来表格.xlsx"]
    assert not f.is_template and f.status == "invalid"
    wb = openpyxl.load_workbook(copy_of(checked, "外来表格.xlsx"))
    ws = wb[FEEDBACK_SHEET]
    rows = [r for r in ws.iter_rows(values_only=True)]
    assert any("不是本工具生成的模板" in str(r[0]) for r in rows[:6])
    hdr = next(i for i, r in enumerate(rows) if r[0] == "代码")
    assert "本文件位置" in rows[hdr]
    t4 = next(r for r in rows[hdr + 1 :] if r[0] == "T4_TOTAL")
    assert t4[2] == f"年报!{checked['foreign_where']['sec4.review.total']}"
    sheet, a = lay.address["sec4.review.total"]
    assert t4[3] == f"表四!{a}"
    assert wb[sheet][a].comment is not None and "T4_TOTAL" in wb[sheet][a].comment.text
    # the values we could read sit at the template's places; totals are formulas again
    for key in fmt.input_keys:
        sh, ad = lay.address[key]
        assert wb[sh][ad].value == checked["foreign_vals"][key], key
    assert wb[sheet][a].value.startswith("=SUM(")
    assert wb[sheet].protection.sheet and wb.security.lockStructure


@pytest.mark.soffice
def test_copies_recalculate_in_libreoffice(checked: dict[str, Any], recalc: Any) -> None:
    """LibreOffice (always-recalc profile) opens the copies and gets the cached totals."""
    fmt, lay = checked["fmt"], checked["lay"]
    copies = [copy_of(checked, "填报.xlsx"), copy_of(checked, "外来表格.xlsx")]
    outs = recalc(copies)  # one soffice call for both
    for copy, out in zip(copies, outs, strict=True):
        cached = openpyxl.load_workbook(copy, data_only=True)
        calc = openpyxl.load_workbook(out, data_only=True)
        assert calc.sheetnames[0] == FEEDBACK_SHEET
        for key in fmt.formulas:
            sheet, a = lay.address[key]
            assert calc[sheet][a].value == cached[sheet][a].value, (copy.name, key)
        for sh in lay.sheets.values():
            for ck in sh.checks:
                assert calc[sh.name][ck.addr].value == cached[sh.name][ck.addr].value
            if sh.status:
                assert calc[sh.name][sh.status.addr].value == cached[sh.name][sh.status.addr].value


def test_no_copy_for_files_without_findings(tmp_path: Path) -> None:
    """A clean run writes nothing and says so; two inputs with one stem get distinct copies."""
    from xltool.pipeline.check import feedback_target
    from xltool.pipeline.report_text import render

    run = CheckRun(files=[], feedback_dir=str(tmp_path))
    assert "没有需要生成校验意见表的文件" in render(run)
    used: set[str] = set()
    a = feedback_target("/x/a/表.xlsx", tmp_path, used)
    b = feedback_target("/x/b/表.xlsx", tmp_path, used)
    assert a.name == "表_校验意见.xlsx" and b.name == "表_校验意见_2.xlsx"
