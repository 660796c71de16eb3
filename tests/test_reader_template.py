"""Reading our own template: values of every kind, and tampering found where it happened."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from openpyxl import load_workbook

from xltool.pipeline.synth import synth_values
from xltool.read import read_file
from xltool.spec import V2019, V2021, Format
from xltool.workbook.layout import INFO_SHEET, META_SHEET, TABLE_SHEETS, layout_for, parse_a1
from xltool.write.template import write_workbook

YEAR = {V2019.id: 2020, V2021.id: 2025}


def _filled(tmp: Path, fmt: Format, name: str = "t.xlsx", **kw: object) -> tuple[Path, dict[str, object]]:
    vals: dict[str, object] = dict(synth_values(fmt, random.Random(11)))
    vals.update(kw.pop("extra", {}))  # type: ignore[arg-type]
    p = write_workbook(tmp / name, fmt, YEAR[fmt.id], agency="环翠区科学技术局", values=vals, **kw)  # type: ignore[arg-type]
    return p, vals


def _codes(r: object) -> list[str]:
    return [f.code for f in r.findings]  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", [V2019, V2021], ids=["v2019", "v2021"])
def test_pristine_template_reads_clean(tmp_path: Path, fmt: Format) -> None:
    p, vals = _filled(tmp_path, fmt, narrative={"sec1": "一、总体情况正文", "sec6": "收取信息处理费 0 元"})
    r = read_file(p, expect_year=YEAR[fmt.id], expect_format=fmt.id, expect_agency="环翠区科学技术局")
    assert r.status == "ok" and r.is_template and r.findings == []
    assert r.report is not None
    m = r.report.meta
    assert (m.agency, m.year, m.format) == ("环翠区科学技术局", YEAR[fmt.id], fmt.id)
    assert m.template_id and m.tool_version
    assert set(r.report.values) == set(fmt.cells)
    for k, v in vals.items():
        assert r.report.values[k].number == v, k
    lay = layout_for(fmt)
    assert r.locations == lay.address
    assert set(r.formula_state) == set(fmt.formulas) and set(r.formula_state.values()) == {"ok"}
    # totals as cached by the writer: the 表三 corner equals the sum of the row totals
    corner = r.report.number("sec3.total_processed.total")
    assert corner == sum(r.report.number(f"sec3.total_processed.{c.key}") or 0 for c in fmt.table("sec3").columns[:-1])
    assert r.report.narrative == {"sec1": "一、总体情况正文", "sec6": "收取信息处理费 0 元"}
    assert r.sha256 and r.size == p.stat().st_size and r.fill_time


def test_every_kind_of_value(tmp_path: Path) -> None:
    extra = {
        "sec3.new_received.natural": " 12 ",
        "sec3.new_received.org.commercial": "１２",
        "sec3.new_received.org.research": "3.0",
        "sec3.carried_over.natural": "/",
        "sec3.carried_over.org.commercial": "无",
        "sec3.granted.natural": "约十件",
        "sec2.art20_8.admin_fees.amount_wan_yuan": "2000万元",
        "sec3.partial.natural": None,
    }
    p, _ = _filled(tmp_path, V2021, extra=extra)
    r = read_file(p)
    v = r.report.values if r.report else {}
    assert (v["sec3.new_received.natural"].number, v["sec3.new_received.natural"].raw) == (12, " 12 ")
    assert v["sec3.new_received.org.commercial"].number == 12
    assert v["sec3.new_received.org.research"].number == 3
    assert v["sec3.carried_over.natural"].state == "marker" and v["sec3.carried_over.natural"].raw == "/"
    assert v["sec3.carried_over.org.commercial"].state == "marker"
    assert v["sec3.granted.natural"].state == "text"
    fee = v["sec2.art20_8.admin_fees.amount_wan_yuan"]
    assert (fee.state, fee.number, fee.raw) == ("number", 2000, "2000万元")
    assert v["sec3.partial.natural"].state == "blank"
    assert v["sec3.denied.state_secret.natural"].raw is None  # a plain number has no raw


def test_formula_overwritten_by_constant_and_error(tmp_path: Path) -> None:
    p, _ = _filled(tmp_path, V2021, overrides={"sec3.granted.total": 99})
    r = read_file(p)
    assert r.formula_state["sec3.granted.total"] == "missing"
    f = next(f for f in r.findings if f.code == "FORMULA_REPLACED")
    sheet, addr = layout_for(V2021).address["sec3.granted.total"]
    assert (f.sheet, f.cell, f.table, f.actual) == (sheet, addr, "表三", "99")
    assert f.row == "（一）予以公开" and f.column == "总计"
    assert r.report is not None and r.report.values["sec3.granted.total"].number == 99


def _edit(p: Path, fn) -> Path:  # type: ignore[no-untyped-def]
    wb = load_workbook(p)
    fn(wb)
    out = p.with_name("edited_" + p.name)
    wb.save(out)
    return out


def test_tampering_with_openpyxl(tmp_path: Path) -> None:
    p, _ = _filled(tmp_path, V2021)
    lay = layout_for(V2021)
    s3 = TABLE_SHEETS["sec3"][0]
    s4 = TABLE_SHEETS["sec4"][0]
    total_addr = lay.address["sec4.review.total"][1]
    check = lay.sheets["sec3"].checks[0]

    def tamper(wb) -> None:  # type: ignore[no-untyped-def]
        wb[s4].protection.sheet = False
        wb[s4][total_addr] = 5  # formula replaced by a number
        wb[s3][check.addr] = "=1"  # check formula edited
        wb.security.lockStructure = False

    r = read_file(_edit(p, tamper))
    by = {(f.code, f.cell): f for f in r.findings}
    assert ("SHEET_UNPROTECTED", None) in by and by[("SHEET_UNPROTECTED", None)].sheet == s4
    rep = by[("FORMULA_REPLACED", total_addr)]
    assert rep.sheet == s4 and rep.actual == "5" and rep.key == "sec4.review.total"
    assert r.formula_state["sec4.review.total"] == "missing"
    ch = by[("FORMULA_CHANGED", check.addr)]
    assert ch.actual == "=1" and ch.expected == "=" + check.text
    assert "STRUCTURE_UNPROTECTED" in _codes(r)
    # openpyxl saves formulas without cached results
    assert r.formula_state["sec3.granted.total"] == "no_cache"


def test_inserted_row_is_found_and_values_still_read(tmp_path: Path) -> None:
    p, vals = _filled(tmp_path, V2021)
    s3 = TABLE_SHEETS["sec3"][0]
    lay = layout_for(V2021)
    row = parse_a1(lay.address["sec3.denied.state_secret.natural"][1])[0] + 1  # 1-based

    r = read_file(_edit(p, lambda wb: wb[s3].insert_rows(row)))
    f = next(f for f in r.findings if f.code == "LAYOUT_SHIFTED")
    assert f.sheet == s3 and f.table == "表三"
    # the first label below the insertion, in reading order: the group label beside 1.属于国家秘密
    assert f.expected == f"B{row}" and f.actual == f"B{row + 1}" and "（三）不予公开" in f.message
    assert r.report is not None
    for k in V2021.input_keys:
        if k.startswith("sec3."):
            assert r.report.values[k].number == vals[k], k
    sheet, addr = r.locations["sec3.denied.state_secret.natural"]
    assert (sheet, parse_a1(addr)[0] + 1) == (s3, row + 1)
    assert not any(k.startswith("sec3.") for k in r.formula_state)  # shifted: judged as a foreign table


def test_renamed_sheet_and_changed_meta(tmp_path: Path) -> None:
    p, vals = _filled(tmp_path, V2021)
    s2 = TABLE_SHEETS["sec2"][0]

    def tamper(wb) -> None:  # type: ignore[no-untyped-def]
        wb[s2].title = "Sheet1"
        meta = wb[META_SHEET]
        for row in meta.iter_rows():
            if row[0].value == "year":
                row[1].value = "2024"

    r = read_file(_edit(p, tamper), expect_year=2025)
    by = {f.code: f for f in r.findings}
    assert by["SHEET_RENAMED"].expected == s2 and by["SHEET_RENAMED"].actual == "Sheet1"
    assert r.report is not None
    assert r.report.values["sec2.art20_1.regulations.issued"].number == vals["sec2.art20_1.regulations.issued"]
    assert r.locations["sec2.art20_1.regulations.issued"][0] == "Sheet1"
    mm = by["META_MISMATCH"]
    assert mm.sheet == INFO_SHEET and mm.expected == "2024" and mm.actual == "2025"
    assert by["YEAR_MISMATCH"].actual == 2024


def test_deleted_sheet_and_broken_meta(tmp_path: Path) -> None:
    p, _ = _filled(tmp_path, V2021)
    s4 = TABLE_SHEETS["sec4"][0]
    r = read_file(_edit(p, lambda wb: wb.remove(wb[s4])))
    codes = _codes(r)
    assert "SHEET_MISSING" in codes and "TABLE_NOT_FOUND" in codes
    assert r.report is not None and not any(k.startswith("sec4.") for k in r.report.values)

    def break_meta(wb) -> None:  # type: ignore[no-untyped-def]
        for row in wb[META_SHEET].iter_rows():
            if row[0].value == "kind":
                row[1].value = "something"

    r = read_file(_edit(p, break_meta))
    assert not r.is_template and {"META_INVALID", "NOT_TEMPLATE"} <= set(_codes(r))
    assert r.report is not None and r.report.meta.format == "2021" and len(r.report.values) == len(V2021.cells)


@pytest.mark.soffice
def test_libreoffice_resaved_template_is_not_tampering(tmp_path: Path, recalc) -> None:  # type: ignore[no-untyped-def]
    """LibreOffice rewrites quotes, styles and drops structure protection: only that warning remains."""
    p19, v19 = _filled(tmp_path, V2019, "a19.xlsx")
    p21, v21 = _filled(tmp_path, V2021, "a21.xlsx")
    out19, out21 = recalc([p19, p21])
    for out, fmt, vals in ((out19, V2019, v19), (out21, V2021, v21)):
        r = read_file(out)
        assert r.is_template and r.report is not None and r.report.meta.format == fmt.id
        assert _codes(r) == ["STRUCTURE_UNPROTECTED"], r.findings
        assert set(r.formula_state.values()) == {"ok"}
        for k, v in vals.items():
            assert r.report is not None and r.report.values[k].number == v


def _rewrite_sheet(p: Path, sheet: str, fn) -> Path:  # type: ignore[no-untyped-def]
    """Copy ``p`` with one sheet part's XML passed through ``fn`` (what Excel/WPS might write)."""
    import zipfile

    from xltool.read.xmlscan import workbook_info

    with zipfile.ZipFile(p) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    part = workbook_info(parts).part_of(sheet)
    assert part is not None
    parts[part] = fn(parts[part].decode("utf-8")).encode("utf-8")
    out = p.with_name("rewritten_" + p.name)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return out


def test_error_value_no_cache_and_shared_formulas(tmp_path: Path) -> None:
    import re

    p, _ = _filled(tmp_path, V2021)
    lay = layout_for(V2021)
    s3 = TABLE_SHEETS["sec3"][0]
    k_err, k_nc = "sec3.granted.total", "sec3.partial.total"
    a_err, a_nc = lay.address[k_err][1], lay.address[k_nc][1]
    rows = [lay.address[f"sec3.{r.key}.total"][1] for r in V2021.table("sec3").rows[4:9]]

    def edit(xml: str) -> str:
        xml = re.sub(rf'<c r="{a_err}"( s="\d+")?><f>([^<]*)</f><v>[^<]*</v>', rf'<c r="{a_err}"\1 t="e"><f>\2</f><v>#DIV/0!</v>', xml)
        xml = re.sub(rf'(<c r="{a_nc}"[^>]*><f>[^<]*</f>)<v>[^<]*</v>', r"\1", xml)
        # Excel's fill-down: the first total is the master, the next four share its formula
        first = rows[0]
        xml = re.sub(rf'(<c r="{first}"[^>]*>)<f>([^<]*)</f>', rf'\1<f t="shared" ref="{first}:{rows[-1]}" si="0">\2</f>', xml)
        for a in rows[1:]:
            xml = re.sub(rf'(<c r="{a}"[^>]*>)<f>[^<]*</f>', r'\1<f t="shared" si="0"/>', xml)
        return xml

    r = read_file(_rewrite_sheet(p, s3, edit))
    assert r.formula_state[k_err] == "error"
    assert r.report is not None and r.report.values[k_err].raw == "#DIV/0!"
    assert r.formula_state[k_nc] == "no_cache"
    for a in rows:
        key = next(k for k, (_s, addr) in lay.address.items() if addr == a and _s == s3)
        assert r.formula_state[key] == "ok", (a, r.findings)
    assert not [f for f in r.findings if f.code.startswith("FORMULA")]


def test_template_of_another_layout_version_is_read_by_labels(tmp_path: Path) -> None:
    p, vals = _filled(tmp_path, V2021, meta_extra={"fingerprint": "0" * 64, "tool_version": "0.0.9"})
    r = read_file(p)
    assert r.is_template and "TEMPLATE_OUTDATED" in _codes(r)
    assert r.report is not None and r.report.meta.agency == "环翠区科学技术局"
    for k, v in vals.items():
        assert r.report.values[k].number == v, k
    assert r.formula_state == {}
