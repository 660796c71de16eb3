"""Workbooks that are not our template: the official tables pasted anywhere, with §7 variants.

The test workbooks are drawn from the layout (so labels come from the spec, not from this
file), then moved to an offset, stacked on one sheet or spread over sheets with other
names, with labels rewritten the way agencies write them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from xltool.core.labels import label_key, match_score, norm_label
from xltool.pipeline.synth import synth_values
from xltool.read import read_file
from xltool.spec import V2019, V2021, Format
from xltool.workbook.layout import a1, layout_for


def variant(text: str) -> str:
    """How agencies rewrite official labels (official-format.md §7)."""
    t = text
    t = t.replace("“", '"').replace("”", '"')  # straight quotes
    for n in range(1, 9):
        t = t.replace(f"{n}.", f"{n}、", 1) if t.startswith(f"{n}.") else t
    if t.startswith("（一）"):
        t = "(一)" + t[3:]  # half-width brackets
    if t == "第二十条第（一）项":
        t = "第二十条 第（一）项"
    if t.startswith("（二）部分公开"):
        t = "（二）部分公开"  # annotation dropped
    if t == "规章":
        t = "规章（设区的市、自治州人民政府应提供相关数据）"  # annotation added (Hubei)
    if t == "总计":
        t = "合计"
    if t in ("本年新制作数量", "商业企业", "本年制发件数"):
        t = t[:2] + "\n" + t[2:]  # wrapped
    if t.startswith("（三）不予公开"):
        t = "（三）不予\n公开"
    return t


def draw(
    path: Path,
    fmt: Format,
    values: dict[str, object],
    *,
    offset: tuple[int, int] = (4, 2),
    one_sheet: bool = True,
    rename: Callable[[str], str] = variant,
    subtotal: bool = False,
    split_header: bool = False,
    extra_row: bool = False,
    heading: str | None = "某某区统计局2023年政府信息公开工作年度报告",
    agency_line: str | None = "单位名称：某某区统计局",
) -> dict[str, str]:
    """Write a plain workbook with the tables; returns key → expected 'sheet!A1'."""
    lay = layout_for(fmt)
    wb = Workbook()
    first = wb.active
    assert first is not None
    first.title = "年报"
    expected: dict[str, str] = {}
    dr0, dc = offset
    if heading:
        first.cell(1, 1, heading)
    if agency_line:
        first.cell(2, 1, agency_line)
    base = dr0
    for sec, sh in lay.sheets.items():
        ws = first if one_sheet else wb.create_sheet(f"Sheet{len(wb.sheetnames) + 1}")
        dr = base if one_sheet else dr0
        row_map: Callable[[int], int] = lambda r: r  # noqa: E731
        col_map: Callable[[int], int] = lambda c: c  # noqa: E731
        extra_at = None
        if sec == "sec3" and subtotal:
            other_col = next(v.col for v in sh.values if v.key.endswith(".org.other"))
            col_map = lambda c, oc=other_col: c + 1 if c > oc else c  # noqa: E731
        if sec == "sec3" and split_header:
            first_data = min(v.row for v in sh.values)
            row_map = lambda r, fd=first_data: r + 1 if r >= fd else r  # noqa: E731
        if sec == "sec2" and extra_row:
            extra_at = next(v.row for v in sh.values if v.key.startswith("sec2.art20_1.normative_docs")) + 1
            row_map = lambda r, ea=extra_at: r + 1 if r >= ea else r  # noqa: E731
        for lab in sh.labels:
            text = rename(lab.text)
            r, c = row_map(lab.row), col_map(lab.col)
            if split_header and sec == "sec3" and lab.text == "科研机构":
                ws.cell(dr + r + 1, dc + c + 1, "科研")
                ws.cell(dr + r + 2, dc + c + 1, "机构")
                continue
            ws.cell(dr + r + 1, dc + c + 1, text)
        for v in sh.values:
            r, c = row_map(v.row), col_map(v.col)
            val = values.get(v.key)
            if val is not None:
                ws.cell(dr + r + 1, dc + c + 1, val)
            expected[v.key] = f"{ws.title}!{a1(dr + r, dc + c)}"
        if sec == "sec3" and subtotal:
            t = fmt.table("sec3")
            oc = next(v.col for v in sh.values if v.key.endswith(".org.other"))
            hdr = min(lab.row for lab in sh.labels if lab.text == t.columns[1].label)
            ws.cell(dr + hdr + 1, dc + oc + 2, "法人或其他组织小计")
            for row in t.rows:
                r = next(v.row for v in sh.values if v.key == t.cell_key(row.key, "natural"))
                ws.cell(dr + row_map(r) + 1, dc + oc + 2, 999)
        if extra_at is not None:
            ws.cell(dr + extra_at + 1, dc + 1, "其他主动公开文件（指本单位其他文件）")
            ws.cell(dr + extra_at + 1, dc + 2, 7)
        base = dr + max(row_map(v.row) for v in sh.values) + 4
    wb.save(path)
    return expected


def _values(fmt: Format, seed: int = 3) -> dict[str, object]:
    return dict(synth_values(fmt, random.Random(seed), with_totals=True))


@pytest.mark.parametrize("fmt", [V2019, V2021], ids=["v2019", "v2021"])
@pytest.mark.parametrize("one_sheet", [True, False], ids=["one-sheet", "sheet-per-table"])
def test_foreign_tables_found_with_label_variants(tmp_path: Path, fmt: Format, one_sheet: bool) -> None:
    vals = _values(fmt)
    p = tmp_path / "foreign.xlsx"
    expected = draw(p, fmt, vals, one_sheet=one_sheet)
    r = read_file(p)
    assert r.status == "ok" and not r.is_template
    assert r.report is not None and r.report.meta.format == fmt.id
    codes = [f.code for f in r.findings]
    assert "NOT_TEMPLATE" in codes
    assert "TABLE_NOT_FOUND" not in codes and "FORMAT_CONFLICT" not in codes, r.findings
    assert set(r.report.values) == set(fmt.cells)
    for key, want in vals.items():
        assert r.report.values[key].number == want, key
        sheet, addr = r.locations[key]
        assert f"{sheet}!{addr}" == expected[key], key
    assert r.report.meta.agency == "某某区统计局"
    assert r.report.meta.year == 2023


@pytest.mark.parametrize("fmt", [V2019, V2021], ids=["v2019", "v2021"])
def test_subtotal_column_split_header_and_extra_row(tmp_path: Path, fmt: Format) -> None:
    vals = _values(fmt, 5)
    p = tmp_path / "hubei.xlsx"
    expected = draw(p, fmt, vals, subtotal=True, split_header=True, extra_row=True, heading=None, agency_line=None)
    r = read_file(p)
    assert r.report is not None and r.report.meta.format == fmt.id
    for key, want in vals.items():
        assert r.report.values[key].number == want, key
        assert "!".join(r.locations[key]) == expected[key], key
    assert 999 not in {v.number for k, v in r.report.values.items() if k.startswith("sec3.")}  # 小计 ignored
    extra = [k for k in r.report.extras if "其他主动公开文件" in k]
    assert extra and "7" in r.report.extras[extra[0]]
    assert "EXTRA_ROWS" in [f.code for f in r.findings]
    assert r.report.meta.agency is None and r.report.meta.year is None


def test_value_semantics_in_foreign_cells(tmp_path: Path) -> None:
    vals: dict[str, object] = _values(V2019, 7)
    vals["sec3.new_received.natural"] = " １２ "
    vals["sec3.carried_over.natural"] = "/"
    vals["sec3.granted.natural"] = "1,234"
    vals["sec2.art20_9.central_procurement.total_amount"] = "251000元"
    vals["sec2.art20_5.licensing.change"] = "-417"
    vals["sec3.partial.natural"] = None  # blank
    vals["sec3.denied.state_secret.natural"] = "不清楚"
    p = tmp_path / "values.xlsx"
    draw(p, V2019, vals)
    r = read_file(p)
    v = r.report.values if r.report else {}
    assert (v["sec3.new_received.natural"].state, v["sec3.new_received.natural"].number) == ("number", 12)
    assert v["sec3.new_received.natural"].raw == " １２ "
    assert v["sec3.carried_over.natural"].state == "marker"
    assert v["sec3.granted.natural"].number == 1234
    amount = v["sec2.art20_9.central_procurement.total_amount"]
    assert (amount.number, amount.raw) == (25.1, "251000元")
    assert v["sec2.art20_5.licensing.change"].number == -417
    assert v["sec3.partial.natural"].state == "blank"
    assert (v["sec3.denied.state_secret.natural"].state, v["sec3.denied.state_secret.natural"].raw) == ("text", "不清楚")


def test_format_conflict_between_tables(tmp_path: Path) -> None:
    """表二 drawn in the 2019 format, 表三/表四 in 2021: a conflict, read as the 表三 format."""
    p = tmp_path / "mixed.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for fmt, sections, r0 in ((V2019, ("sec2",), 0), (V2021, ("sec3", "sec4"), 40)):
        lay = layout_for(fmt)
        vals = _values(fmt)
        for sec in sections:
            sh = lay.sheets[sec]
            for lab in sh.labels:
                ws.cell(r0 + lab.row + 1, lab.col + 1, lab.text)
            for v in sh.values:
                ws.cell(r0 + v.row + 1, v.col + 1, vals.get(v.key, 0))
            r0 += max(v.row for v in sh.values) + 3
    wb.save(p)
    r = read_file(p)
    assert r.report is not None and r.report.meta.format == "2021"
    conflict = [f for f in r.findings if f.code == "FORMAT_CONFLICT"]
    assert conflict and "2019" in conflict[0].message and conflict[0].severity.value == "error"
    # the 2021 表二 is not there: said per table
    assert any(f.code == "TABLE_NOT_FOUND" and f.table == "表二" for f in r.findings)


def test_expect_format_and_year_mismatch(tmp_path: Path) -> None:
    p = tmp_path / "f.xlsx"
    draw(p, V2021, _values(V2021))
    r = read_file(p, expect_year=2024, expect_format="2021", expect_agency="某某区统计局")
    codes = {f.code for f in r.findings}
    assert "YEAR_MISMATCH" in codes and "FORMAT_MISMATCH" not in codes and "AGENCY_MISMATCH" not in codes
    r = read_file(p, expect_agency="另一个局")
    assert "AGENCY_MISMATCH" in {f.code for f in r.findings}


def test_workbook_without_tables(tmp_path: Path) -> None:
    p = tmp_path / "none.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["会议签到表"])
    ws.append(["姓名", "单位"])
    wb.save(p)
    r = read_file(p)
    assert r.status == "ok" and r.report is not None and not r.report.values
    assert [f.code for f in r.findings if f.severity.value == "error"] == ["NO_TABLES"]


def test_label_helpers_against_the_spec() -> None:
    """Every official label of both formats matches itself through its §7 variant."""
    for fmt in (V2019, V2021):
        for t in fmt.tables:
            for lab in [*(r.label for r in t.rows), *(c.label for c in t.columns)]:
                assert match_score(variant(lab), lab) >= 2, lab
    assert norm_label("（一）予以公开") == norm_label("(一)予以公开")
    assert label_key("本年收费金额（万元）") == label_key("本年收费金额（单位：万元）")
    assert match_score("法人或其他组织小计", "其他") == 0
    assert match_score("规范性文件", "行政规范性文件") == 0
