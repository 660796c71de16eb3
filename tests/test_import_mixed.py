"""Published reports whose tables mix the two official layouts (issue 13, item 4).

Some 2021-format reports still carry the 2019 single （六）其他处理 row in 表三, or the whole
2019-layout 表二 (official-format.md §4, §7 item 9). The documents here are made from our own
rendering: one agency's numbers are written as a 2021 workbook and as a 2019 workbook (the cells
both formats share carry the same numbers, the 2019 （六） row is the sum of the 2021 sub-rows),
both are rendered to HTML by ``xltool render``, and one table of the 2021 page is replaced by the
2019 page's table. The import must read the odd table by its own layout, carry over exactly the
cells whose meaning is the same, leave the rest unfilled (never split a number), and say so in a
LAYOUT_MIXED warning at that table.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from xltool.cli import main
from xltool.core.findings import REGISTRY
from xltool.core.model import AgencyReport, CellValue, ReportMeta, Severity
from xltool.pipeline.synth import synth_values
from xltool.read.importer import import_file, load
from xltool.read.importer.core import ImportResult
from xltool.read.importer.tables import detect
from xltool.rules.validate import evaluate_report
from xltool.spec import V2019, V2021, Format
from xltool.spec.crosswalk import crosswalk
from xltool.write.template import write_workbook

AGENCY = "威海市环翠区某某局"
T3_CLASS = {"sec2": "t-grid", "sec3": "t-matrix", "sec4": "t-flat"}


def full_values(fmt: Format, base: dict[str, int | float]) -> dict[str, int | float]:
    vals = dict(base)
    for rel in fmt.formula_order:
        vals[rel.target] = sum(vals.get(p, 0) for p in rel.parts)
    return vals


def twin_2019(v21: dict[str, int | float], seed: int) -> dict[str, int | float]:
    """The same agency's numbers in the 2019 layout: shared keys equal, （六） = Σ the sub-rows."""
    rng = random.Random(seed)
    out = {k: v for k, v in synth_values(V2019, rng, size=3).items()}
    cw = crosswalk(V2021, V2019)
    for k in V2019.cells:
        if k in V2021.cells and k in v21:
            out[k] = v21[k]
        elif k in cw.sums:
            out[k] = sum(v21.get(p, 0) for p in cw.sums[k])
    return {k: v for k, v in out.items() if k not in V2019.formulas}


def render_html(tmp: Path, fmt: Format, year: int, values: dict[str, int | float], name: str) -> str:
    book = write_workbook(tmp / f"{name}.xlsx", fmt, year, agency=AGENCY, values=values)
    out = tmp / f"{name}.html"
    assert main(["render", str(book), "--html", str(out), "--overwrite"]) == 0
    return out.read_text(encoding="utf-8")


def table_of(page: str, section: str) -> str:
    m = re.search(rf'<table class="{T3_CLASS[section]}">.*?</table>', page, re.S)
    assert m is not None
    return m.group(0)


def set_other(v21: dict[str, int | float], col: str, n: int, sub: str = "overdue_correction") -> None:
    """The （六） sub-rows of ``col``: ``n`` in ``sub``, 0 in the others; 予以公开 absorbs the
    difference, so （七）总计 and the balance stay as they were."""
    subs = [f"sec3.other.{r}.{col}" for r in ("overdue_correction", "overdue_fee", "other")]
    v21[f"sec3.granted.{col}"] += sum(v21.get(k, 0) for k in subs) - n
    assert v21[f"sec3.granted.{col}"] >= 0
    v21.update(dict.fromkeys(subs, 0))
    v21[f"sec3.other.{sub}.{col}"] = n


def mixed_page(tmp: Path, seed: int, odd: str, *, other_row: dict[str, int] | None = None,
               year: int = 2023) -> tuple[Path, dict[str, int | float], dict[str, int | float]]:
    """A 2021 page (year ``year``) whose ``odd`` section's table is the 2019 rendering of the same numbers."""
    v21 = synth_values(V2021, random.Random(seed), size=3)
    for col, n in (other_row or {}).items():  # the （六） sub-rows of one column, for the split cases
        set_other(v21, col, n)
    v19 = twin_2019(v21, seed)
    page21 = render_html(tmp, V2021, year, v21, "p21")
    page19 = render_html(tmp, V2019, 2020, v19, "p19")
    page = page21.replace(table_of(page21, odd), table_of(page19, odd))
    src = tmp / "mixed.html"
    src.write_text(page, encoding="utf-8")
    return src, full_values(V2021, v21), full_values(V2019, v19)


def numbers(res: ImportResult) -> dict[str, int | float | None]:
    return {k: v.number for k, v in res.values.items() if v.state == "number"}


def mixed_issue(res: ImportResult) -> list:
    return [i for i in res.issues if i.code == "LAYOUT_MIXED"]


def test_layout_mixed_is_a_registered_warning() -> None:
    assert REGISTRY["LAYOUT_MIXED"].severity is Severity.WARNING


def test_2019_other_row_in_a_2021_report(tmp_path: Path) -> None:
    """表三 with the single （六）其他处理 row: 22 shared rows exact, the （六） sub-rows blank unless 0."""
    src, v21, v19 = mixed_page(tmp_path, 7, "sec3", other_row={"natural": 3, "org.research": 0})
    res = import_file(src)
    assert res.ok and res.format.value == "2021" and res.year.value == 2023
    codes = [i.code for i in res.issues]
    assert "FORMAT_CONFLICT" not in codes and "TABLE_NOT_FOUND" not in codes, res.issues
    assert res.errors == [], [i.message for i in res.errors]
    [mixed] = mixed_issue(res)
    assert mixed.table == "表三" and mixed.severity == "warning" and mixed.key == "sec3"
    assert "2019 版格式" in mixed.message and "按 2021 版格式导入" in mixed.message
    assert "留空未填" in mixed.message and "1.申请人无正当理由逾期不补正" in mixed.message
    assert "无法拆分" in mixed.message and "按 0 导入" in mixed.message
    got = numbers(res)
    t3 = V2021.table("sec3")
    sub = [r.key for r in t3.rows if r.key.startswith("other.")]
    for r in t3.rows:
        for c in t3.columns:
            key = t3.cell_key(r.key, c.key)
            if r.key not in sub:
                assert got[key] == v21[key], key  # the same row in both layouts: exact
            elif v19[f"sec3.other.{c.key}"] == 0:
                assert got[key] == 0, key  # a sum of counts that is 0: every part is 0
            else:
                assert key not in res.values, key  # 3 cannot be split: not guessed
    assert "sec3.other.overdue_correction.natural" not in res.values
    assert got["sec3.other.overdue_correction.org.research"] == 0
    # the other tables are read as usual
    assert all(got[k] == v21[k] for k in V2021.cells if k.startswith(("sec2.", "sec4.")))
    assert "表三按其所用的 2019 版格式读取" in res.format.how
    # without a report year the newer format wins the tie (a 2021 table means a report of 2021 or later)
    det = detect(load(src).rows)
    assert det.match is not None and det.match.fmt.id == "2021" and "按较新的格式" in det.how
    assert [m.table.key for m in det.odd()] == ["sec3"]


def test_2019_table_two_in_a_2021_report(tmp_path: Path) -> None:
    """表二 in the 2019 layout: only 处理决定数量 of 许可/处罚/强制 means the same in 2021."""
    src, v21, v19 = mixed_page(tmp_path, 11, "sec2")
    res = import_file(src)
    assert res.ok and res.format.value == "2021"
    codes = [i.code for i in res.issues]
    assert "FORMAT_CONFLICT" not in codes and "TABLE_NOT_FOUND" not in codes, res.issues
    assert res.errors == [], [i.message for i in res.errors]
    [mixed] = mixed_issue(res)
    assert mixed.table == "表二" and "第二十条第（九）项" in mixed.message
    got = numbers(res)
    sec2 = [k for k in V2021.cells if k.startswith("sec2.")]
    exact = {"sec2.art20_5.licensing.decisions", "sec2.art20_6.penalty.decisions", "sec2.art20_6.coercion.decisions"}
    for k in sec2:
        if k in exact:
            assert got[k] == v19[k] == v21[k], k
        else:
            assert k not in res.values, k  # 本年制发件数 is not 本年新制作数量; 收费金额 is not 项目数量
    unfilled, dropped = mixed.message.split("未导入：")
    assert "“规章”、“行政规范性文件”" in unfilled and "“行政事业性收费”" in unfilled
    assert "“政府集中采购”" in dropped and "“其他对外管理服务事项”" in dropped
    assert all(got[k] == v21[k] for k in V2021.cells if k.startswith(("sec3.", "sec4.")))


def test_2021_table_two_in_a_2019_report(tmp_path: Path) -> None:
    """The other way round (a 2020 report with the 2021 表二): the same exact cells, the rest unfilled."""
    v19 = twin_2019(synth_values(V2021, random.Random(5), size=3), 5)
    v21 = synth_values(V2021, random.Random(5), size=3)
    page19 = render_html(tmp_path, V2019, 2020, v19, "p19")
    page21 = render_html(tmp_path, V2021, 2023, v21, "p21")
    src = tmp_path / "mixed.html"
    src.write_text(page19.replace(table_of(page19, "sec2"), table_of(page21, "sec2")), encoding="utf-8")
    res = import_file(src)
    assert res.ok and res.format.value == "2019" and res.errors == [], res.issues
    [mixed] = mixed_issue(res)
    assert mixed.table == "表二" and "2021 版格式" in mixed.message and "“政府集中采购”" in mixed.message
    got = numbers(res)
    assert got["sec2.art20_6.penalty.decisions"] == v21["sec2.art20_6.penalty.decisions"]
    assert not any(k.startswith("sec2.art20_9.") or k.startswith("sec2.art20_1.") for k in res.values)
    assert got["sec3.other.total"] == full_values(V2019, v19)["sec3.other.total"]


def test_2021_sub_rows_add_up_to_the_2019_row(tmp_path: Path) -> None:
    """表三 of 2021 in a 2020 report: the three sub-rows add up exactly to the single （六） row."""
    v21 = synth_values(V2021, random.Random(3), size=3)
    set_other(v21, "natural", 2, "overdue_fee")
    v19 = twin_2019(v21, 3)
    page19 = render_html(tmp_path, V2019, 2020, v19, "p19")
    page21 = render_html(tmp_path, V2021, 2023, v21, "p21")
    src = tmp_path / "mixed.html"
    src.write_text(page19.replace(table_of(page19, "sec3"), table_of(page21, "sec3")), encoding="utf-8")
    res = import_file(src)
    assert res.format.value == "2019" and res.errors == [], res.issues
    [mixed] = mixed_issue(res)
    assert mixed.table == "表三"
    full = full_values(V2021, v21)
    for c in V2019.table("sec3").columns:
        parts = [f"sec3.other.{r}.{c.key}" for r in ("overdue_correction", "overdue_fee", "other")]
        assert res.values[f"sec3.other.{c.key}"].number == sum(full[p] for p in parts)
    assert all(res.values[k].number == full[k] for k in V2019.cells if k in V2021.cells and k.startswith("sec3."))


def test_mixed_report_as_previous(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The mixed report imports (with the warning) to a workbook that drives the carry-over check."""
    src, v21, _v19 = mixed_page(tmp_path, 7, "sec3", year=2024)
    js = tmp_path / "imp.json"
    code = main(["import", str(src), "--out", str(tmp_path / "last"), "--json", str(js)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "LAYOUT_MIXED" in js.read_text(encoding="utf-8") and "[已导入]" in out and "2019 版格式" in out
    [last] = list((tmp_path / "last").glob("*.xlsx"))
    now = tmp_path / "now"
    carried = {c.key: int(v21[f"sec3.carry_forward.{c.key}"]) for c in V2021.table("sec3").columns if c.key != "total"}
    carried["natural"] += 1  # one planted mismatch against last year's 结转下年度
    vals = synth_values(V2021, random.Random(9), size=3, carried_over=carried)
    write_workbook(now / "某某局.xlsx", V2021, 2025, agency=AGENCY, values=vals)
    out_js = tmp_path / "check.json"
    main(["check", str(now), "--year", "2025", "--previous", str(last), "--json", str(out_js)])
    capsys.readouterr()
    rec = json.loads(out_js.read_text(encoding="utf-8"))["files"][0]
    carry = [i for i in rec["issues"] if i["code"] == "CARRY_OVER"]
    assert {i["column"] for i in carry} == {"自然人", "总计"}, carry
    assert [i["expected"] for i in carry if i["column"] == "自然人"] == [v21["sec3.carry_forward.natural"]]


def test_mixed_report_with_blank_row_totals_derives_them(tmp_path: Path) -> None:
    """表三 in the 2019 layout with the 总计 column blank on the outcome rows (parts filled): every
    blank row total is derived from its parts, and the checks compare real numbers."""
    src, v21, _v19 = mixed_page(tmp_path, 7, "sec3", other_row={c.key: 0 for c in V2021.table("sec3").columns if c.key != "total"})
    page = src.read_text(encoding="utf-8")
    t19 = table_of(page, "sec3")
    outcome = [r.label for r in V2019.table("sec3").rows if r.groups and r.key != "total_processed"]
    blanked = t19
    for label in outcome:  # the last cell of the row (总计) emptied
        blanked, n = re.subn(rf"({re.escape(label)}</t[dh]>(?:\s*<td[^>]*>[^<]*</td>){{6}}\s*<td[^>]*>)[^<]*(</td>)",
                             r"\1\2", blanked, count=1)
        assert n == 1, label
    src.write_text(page.replace(t19, blanked), encoding="utf-8")
    res = import_file(src)
    assert res.errors == [], res.issues
    assert mixed_issue(res)
    for r in V2021.table("sec3").rows:
        if r.key not in ("new_received", "carried_over", "total_processed", "carry_forward"):
            v = res.values.get(f"sec3.{r.key}.total")
            assert v is None or v.state == "blank", r.key
    # every blank row total is derived for the checks: no error, one TOTAL_MISSING per blanked row,
    # the derived totals equal the agency's own; the composition of （七）总计 compares real numbers
    report = AgencyReport(meta=ReportMeta(agency=AGENCY, year=2023, format="2021"),
                          values={k: res.values.get(k, CellValue(state="blank")) for k in V2021.cells})
    ev = evaluate_report(report)
    errors = [f for f in ev.findings if f.severity == Severity.ERROR]
    assert errors == [], [f.message for f in errors]
    rows21 = [r.key for r in V2021.table("sec3").rows if r.groups and r.key != "total_processed"]
    derived = {f.key for f in ev.findings if f.code == "TOTAL_MISSING"}
    assert derived == {f"sec3.{k}.total" for k in rows21}
    for k in rows21:
        assert ev.numbers[f"sec3.{k}.total"] == v21[f"sec3.{k}.total"], k
    # and a wrong （七）总计 is still caught through the derived row totals
    grand = "sec3.total_processed.total"
    report.values[grand] = CellValue.of(int(v21[grand]) + 4)
    bad = [f for f in evaluate_report(report).findings if f.key == grand and f.severity == Severity.ERROR]
    assert bad and all(float(f.actual or 0) - float(f.expected or 0) == 4 for f in bad)
