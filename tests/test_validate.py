"""Every validation rule fires on a crafted report and stays quiet on a consistent one."""

from __future__ import annotations

import random
import time

import pytest

from xltool.core.findings import REGISTRY, catalogue_markdown
from xltool.core.model import AgencyReport, CellValue, Finding, PreviousData, ReportMeta, Severity
from xltool.core.names import normalize_name as agency_key
from xltool.pipeline.synth import synth_values
from xltool.rules.validate import (
    evaluate_report,
    merge_findings,
    validate_report,
)
from xltool.spec import V2019, V2021, Format
from xltool.workbook.layout import layout_for

FORMATS = [V2019, V2021]


def _report(fmt: Format, seed: int = 1, year: int | None = None, agency: str = "某区科学技术局") -> AgencyReport:
    vals = synth_values(fmt, random.Random(seed), size=5, with_totals=True)
    year = year or (2020 if fmt.id == "2019" else 2025)
    return AgencyReport(
        meta=ReportMeta(agency=agency, year=year, format=fmt.id),  # type: ignore[arg-type]
        values={k: CellValue.of(v) for k, v in vals.items()},
    )


def _codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def _addr(fmt: Format, key: str) -> str:
    return layout_for(fmt).address[key][1]


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.id)
def test_consistent_report_has_no_findings(fmt: Format) -> None:
    for seed in range(5):
        assert validate_report(_report(fmt, seed)) == []


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.id)
def test_row_total_wrong(fmt: Format) -> None:
    r = _report(fmt)
    key = "sec3.new_received.total"
    good = r.number(key)
    r.values[key] = CellValue.of(good + 6)
    fs = validate_report(r)
    f = next(f for f in fs if f.code == "T3_ROW_TOTAL")
    assert f.severity is Severity.ERROR
    assert f.cell == _addr(fmt, key) and f.table == "表三"
    assert f.expected == good and f.actual == good + 6
    assert f.message.startswith(f"表三!{_addr(fmt, key)} 一、本年新收政府信息公开申请数量·总计：应为 {good}")
    assert f"实为 {good + 6}" in f.message
    # the balance of the total column breaks too: both are real
    assert "T3_BALANCE" in _codes(fs)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.id)
def test_total_processed_wrong_names_row_and_column(fmt: Format) -> None:
    r = _report(fmt)
    key = "sec3.total_processed.natural"
    good = r.number(key)
    r.values[key] = CellValue.of(good - 1)
    fs = validate_report(r)
    f = next(f for f in fs if f.code == "T3_TOTAL_PROCESSED")
    assert f.row == "三、本年度办理结果·（七）总计" and f.column == "自然人"
    assert f"表三!{_addr(fmt, key)}" in f.message and "各项办理结果之和" in f.message
    assert (f.expected, f.actual) == (good, good - 1)


def test_balance_broken_by_an_input() -> None:
    fmt = V2021
    r = _report(fmt)
    key = "sec3.carry_forward.org.commercial"
    r.values[key] = CellValue.of(r.number(key) + 2)
    # keep the row total consistent so only the 勾稽 relation is broken
    tot = "sec3.carry_forward.total"
    r.values[tot] = CellValue.of(r.number(tot) + 2)
    fs = validate_report(r)
    bal = [f for f in fs if f.code == "T3_BALANCE"]
    assert {f.column for f in bal} == {"商业企业", "总计"}
    f = next(f for f in bal if f.column == "商业企业")
    assert f.cell == _addr(fmt, key)
    assert "商业企业列勾稽关系不成立" in f.message and "四、结转下年度继续办理" in f.message
    assert f.actual - f.expected == 2  # type: ignore[operator]
    assert "T3_ROW_TOTAL" not in _codes(fs)


def test_section4_total() -> None:
    r = _report(V2021)
    r.values["sec4.suit_direct.pending"] = CellValue.of(r.number("sec4.suit_direct.pending") + 1)
    fs = validate_report(r)
    assert _codes(fs) == ["T4_TOTAL"]
    f = fs[0]
    assert f.table == "表四" and f.row == "行政诉讼·未经复议直接起诉" and f.column == "总计"
    assert f.message.startswith(f"表四!{_addr(V2021, 'sec4.suit_direct.total')} ")


def test_value_domain() -> None:
    r = _report(V2021)
    r.values["sec3.granted.natural"] = CellValue(state="number", number=-2)
    r.values["sec3.partial.natural"] = CellValue(state="number", number=1.5)
    r.values["sec3.denied.state_secret.natural"] = CellValue(state="text", raw="约10件")
    r.values["sec2.art20_8.admin_fees.amount_wan_yuan"] = CellValue(state="number", number=-0.5)
    fs = validate_report(r)
    by = {f.key: f for f in fs if f.code in ("NEGATIVE", "NOT_INTEGER", "NOT_NUMBER")}
    assert by["sec3.granted.natural"].code == "NEGATIVE"
    assert by["sec3.partial.natural"].code == "NOT_INTEGER"
    txt = by["sec3.denied.state_secret.natural"]
    assert txt.code == "NOT_NUMBER" and "内容“约10件”不是数字，请填写阿拉伯数字" in txt.message
    assert by["sec2.art20_8.admin_fees.amount_wan_yuan"].code == "NEGATIVE"
    assert all(f.severity is Severity.ERROR for f in by.values())
    # a text part makes its relations unverifiable: no invented relation error for that row/column
    rel = [f for f in fs if f.code.startswith("T3_") and f.key in ("sec3.denied.state_secret.total",)]
    assert rel == []


def test_signed_change_may_be_negative_amount_may_be_fractional() -> None:
    r = _report(V2019)
    r.values["sec2.art20_5.licensing.change"] = CellValue.of(-417)
    r.values["sec2.art20_9.central_procurement.total_amount"] = CellValue.of(25.1)
    assert validate_report(r) == []


def test_marker_and_blank_are_warnings_never_zero() -> None:
    fmt = V2021
    r = _report(fmt)
    a, b = "sec3.granted.org.research", "sec3.partial.org.research"
    assert r.number(a) == 0 or True
    r.values[a] = CellValue(state="marker", raw="/")
    r.values[b] = CellValue(state="blank")
    fs = validate_report(r)
    got = {f.key: f for f in fs}
    assert got[a].code == "MISSING_MARKER" and got[a].severity is Severity.WARNING and "“/”" in got[a].message
    assert got[b].code == "BLANK" and got[b].severity is Severity.WARNING
    ev = evaluate_report(r)
    assert ev.numbers[a] is None and ev.numbers[b] is None  # not silently 0


def test_blank_part_counts_zero_only_when_the_rest_adds_up() -> None:
    fmt = V2021
    r = _report(fmt, seed=3)
    parts = [c.key for c in fmt.table("sec3").columns if c.key != "total"]
    rows = [row.key for row in fmt.table("sec3").rows]
    zero = next(f"sec3.{rw}.{c}" for rw in rows for c in parts if r.number(f"sec3.{rw}.{c}") == 0)
    nonzero = next(f"sec3.{rw}.{c}" for rw in rows for c in parts if (r.number(f"sec3.{rw}.{c}") or 0) > 0)
    # "-" where the rest adds up to the stated total: read as 0, only the marker warning
    r.values[zero] = CellValue(state="marker", raw="-")
    assert _codes(validate_report(r)) == ["MISSING_MARKER"]
    # "-" where the rest does not add up: every relation on that cell is reported, saying why
    r.values[nonzero] = CellValue(state="marker", raw="-")
    fs = validate_report(r)
    row_total = f"sec3.{fmt.cells[nonzero].row.key}.total"
    f = next(f for f in fs if f.code == "T3_ROW_TOTAL")
    n_missing = 1 + (fmt.cells[zero].row.key == fmt.cells[nonzero].row.key)
    assert f.key == row_total and f"{n_missing} 项未填按 0 计" in f.message
    assert {"MISSING_MARKER", "T3_ROW_TOTAL", "T3_BALANCE"} <= set(_codes(fs))


def test_blank_total_is_a_warning_not_an_error() -> None:
    """Shanghai 2019 leaves 总计 blank: warn, do not fail, and skip the relations on it."""
    r = _report(V2019)
    r.values["sec3.granted.total"] = CellValue(state="blank")
    r.values["sec3.partial.total"] = CellValue(state="marker", raw="/")
    ev = evaluate_report(r)
    fs = ev.findings
    assert sorted(_codes(fs)) == ["TOTAL_MISSING", "TOTAL_MISSING"]
    assert all(f.severity is Severity.WARNING for f in fs)
    # the missing totals are derived from their parts, so （七）总计 of the 总计 column is still checked
    good = _report(V2019)
    assert ev.numbers["sec3.granted.total"] == good.number("sec3.granted.total")
    assert "已按各分项之和" in fs[0].message
    r.values["sec3.total_processed.total"] = CellValue.of(good.number("sec3.total_processed.total") + 1)
    r.values["sec3.total_processed.natural"] = CellValue.of(good.number("sec3.total_processed.natural") + 1)
    codes = _codes(validate_report(r))
    assert "T3_TOTAL_PROCESSED" in codes  # natural column: stated parts do not add up
    tp = [f for f in validate_report(r) if f.code == "T3_TOTAL_PROCESSED"]
    assert {f.column for f in tp} == {"自然人", "总计"}


def test_text_number_and_unit_converted() -> None:
    r = _report(V2021)
    r.values["sec3.granted.natural"] = CellValue(state="number", number=r.number("sec3.granted.natural"), raw="１２")
    r.values["sec2.art20_8.admin_fees.amount_wan_yuan"] = CellValue(state="number", number=25.1, raw="251000元")
    fs = validate_report(r)
    assert {f.code: f.key for f in fs} == {
        "TEXT_NUMBER": "sec3.granted.natural",
        "UNIT_CONVERTED": "sec2.art20_8.admin_fees.amount_wan_yuan",
    }
    assert all(f.severity is Severity.WARNING for f in fs)
    assert "251000元" in next(f for f in fs if f.code == "UNIT_CONVERTED").message


def test_money_magnitude() -> None:
    r = _report(V2021)
    key = "sec2.art20_8.admin_fees.amount_wan_yuan"
    r.values[key] = CellValue.of(251000)
    fs = validate_report(r)
    assert _codes(fs) == ["MONEY_MAGNITUDE"] and fs[0].severity is Severity.WARNING
    assert validate_report(r, agency_level=False) == []  # district totals may be large


def test_published_at_least_new_v2019() -> None:
    r = _report(V2019)
    r.values["sec2.art20_1.regulations.new_published"] = CellValue.of(9)
    r.values["sec2.art20_1.regulations.total_published"] = CellValue.of(4)
    fs = validate_report(r)
    assert _codes(fs) == ["T2_PUBLISHED_GE_NEW"]
    assert fs[0].severity is Severity.WARNING and fs[0].table == "表二"
    assert "本年新公开数量 9" in fs[0].message


def _prev(fmt: Format, year: int, agency: str, nums: dict[str, int]) -> PreviousData:
    return PreviousData(year=year, format=fmt.id, by_agency={agency_key(agency): nums})


def test_carry_over_against_previous_year() -> None:
    r = _report(V2021, year=2025, agency="某区 科学技术局")  # whitespace differs: matched after normalising
    prev_vals = {f"sec3.carry_forward.{c.key}": r.number(f"sec3.carried_over.{c.key}") for c in V2021.table("sec3").columns}
    assert validate_report(r, previous=_prev(V2021, 2024, "某区科学技术局", prev_vals)) == []
    prev_vals["sec3.carry_forward.natural"] = (prev_vals["sec3.carry_forward.natural"] or 0) + 3
    fs = validate_report(r, previous=_prev(V2021, 2024, "某区科学技术局", prev_vals))
    assert _codes(fs) == ["CARRY_OVER"]
    assert fs[0].severity is Severity.WARNING and fs[0].column == "自然人"
    assert "2024 年度" in fs[0].message
    # previous data of a year that is not Y−1 is not compared
    assert validate_report(r, previous=_prev(V2021, 2022, "某区科学技术局", prev_vals)) == []
    # another agency: nothing to compare
    assert validate_report(r, previous=_prev(V2021, 2024, "别的单位", prev_vals)) == []


def test_stock_change_v2021() -> None:
    r = _report(V2021, year=2025)
    row = "sec2.art20_1.regulations"
    issued, repealed, in_force = (r.number(f"{row}.{c}") for c in ("issued", "repealed", "in_force"))
    prev = {f"{row}.in_force": in_force - issued + repealed}
    assert validate_report(r, previous=_prev(V2021, 2024, "某区科学技术局", prev)) == []
    prev = {f"{row}.in_force": in_force - issued + repealed + 4}
    fs = validate_report(r, previous=_prev(V2021, 2024, "某区科学技术局", prev))
    assert _codes(fs) == ["STOCK_CHANGE"] and fs[0].key == f"{row}.in_force"


def _template_state(fmt: Format, state: str = "ok") -> dict[str, str]:
    return dict.fromkeys(fmt.formulas, state)


def test_formula_integrity_and_recompute() -> None:
    fmt = V2021
    r = _report(fmt)
    fs0 = _template_state(fmt)
    # intact formulas, correct cache: quiet
    assert validate_report(r, formula_state=fs0) == []
    # stale cache: warning only, numbers recomputed
    k = "sec3.granted.total"
    good = r.number(k)
    r.values[k] = CellValue.of(0)
    ev = evaluate_report(r, formula_state=fs0)
    assert _codes(ev.findings) == ["STALE_TOTAL"] and ev.findings[0].severity is Severity.WARNING
    assert ev.numbers[k] == good
    # typed over: error, and the typed number is then checked against its parts
    st = dict(fs0, **{k: "missing"})
    fs = validate_report(r, formula_state=st)
    assert "TOTAL_OVERWRITTEN" in _codes(fs) and "T3_ROW_TOTAL" in _codes(fs)
    f = next(f for f in fs if f.code == "TOTAL_OVERWRITTEN")
    assert f.severity is Severity.ERROR and f.cell == _addr(fmt, k) and "覆盖" in f.message
    # typed over with the right number: the overwrite is still an error, the sum is not
    r.values[k] = CellValue.of(good)
    assert _codes(validate_report(r, formula_state=st)) == ["TOTAL_OVERWRITTEN"]
    # changed / error / no cache
    assert _codes(validate_report(r, formula_state=dict(fs0, **{k: "changed"}))) == ["FORMULA_CHANGED"]
    r.values[k] = CellValue(state="text", raw="#DIV/0!")
    ev = evaluate_report(r, formula_state=dict(fs0, **{k: "error"}))
    assert _codes(ev.findings) == ["FORMULA_ERROR"] and ev.numbers[k] == good
    r.values[k] = CellValue(state="blank")
    ev = evaluate_report(r, formula_state=dict(fs0, **{k: "no_cache"}))
    assert _codes(ev.findings) == ["NO_CACHE"] and ev.findings[0].severity is Severity.WARNING
    assert ev.numbers[k] == good


def test_blank_inputs_in_template_recompute_as_zero_and_warn() -> None:
    fmt = V2021
    r = _report(fmt)
    k = "sec4.review.upheld"
    r.values[k] = CellValue(state="blank")
    # cached total still includes the old value → stale; recomputed total treats the blank as 0
    ev = evaluate_report(r, formula_state=_template_state(fmt))
    codes = _codes(ev.findings)
    assert "BLANK" in codes
    assert ev.numbers["sec4.review.total"] == sum(
        r.number(f"sec4.review.{c}") or 0 for c in ("corrected", "other", "pending")
    )


def test_locations_of_foreign_files_are_used() -> None:
    r = _report(V2021)
    key = "sec4.review.total"
    r.values[key] = CellValue.of(r.number(key) + 1)
    fs = validate_report(r, locations={key: ("Sheet1", "F40")})
    f = fs[0]
    assert (f.sheet, f.cell) == ("Sheet1", "F40")
    assert f.message.startswith("Sheet1!F40（表四） 行政复议·总计：")


def test_merge_findings_keeps_one_finding_per_typed_over_total() -> None:
    sheet = "表三 依申请公开"
    reader = [
        Finding(code="FORMULA_REPLACED", severity=Severity.ERROR, message="x", sheet=sheet, cell="J6",
                key="sec3.new_received.total"),
        Finding(code="FORMULA_REPLACED", severity=Severity.ERROR, message="check cell", sheet=sheet, cell="D32"),
    ]
    ours = [
        Finding(code="TOTAL_OVERWRITTEN", severity=Severity.ERROR, message="y", sheet=sheet, cell="J6",
                key="sec3.new_received.total"),
        Finding(code="T3_ROW_TOTAL", severity=Severity.ERROR, message="z", sheet=sheet, cell="J6",
                key="sec3.new_received.total"),
    ]
    merged = merge_findings(reader, ours)
    assert [(f.code, f.cell) for f in merged] == [
        ("FORMULA_REPLACED", "D32"), ("TOTAL_OVERWRITTEN", "J6"), ("T3_ROW_TOTAL", "J6")]


def test_catalogue() -> None:
    for code in ("T3_ROW_TOTAL", "T3_TOTAL_PROCESSED", "T3_BALANCE", "T4_TOTAL", "T2_PUBLISHED_GE_NEW",
                 "BLANK", "MISSING_MARKER", "TOTAL_MISSING", "CARRY_OVER", "TOTAL_OVERWRITTEN", "STALE_TOTAL"):
        assert code in REGISTRY
    assert REGISTRY["T3_BALANCE"].severity is Severity.ERROR
    assert REGISTRY["CARRY_OVER"].severity is Severity.WARNING
    # the reader's codes are in the same catalogue
    for code in ("FORMULA_REPLACED", "NOT_TEMPLATE", "SHEET_UNPROTECTED", "FILE_ENCRYPTED", "YEAR_MISMATCH"):
        assert REGISTRY[code].source == "读取"
    md = catalogue_markdown()
    assert "| `T3_BALANCE` | 错误 |" in md and "| `BLANK` | 警告 |" in md


def test_every_code_emitted_is_in_the_catalogue() -> None:
    r = _report(V2019)
    r.values["sec3.granted.natural"] = CellValue(state="text", raw="x")
    r.values["sec3.partial.natural"] = CellValue(state="marker", raw="无")
    r.values["sec3.granted.total"] = CellValue.of(-1)
    fs = validate_report(r, formula_state=dict.fromkeys(V2019.formulas, "no_cache"))
    assert fs and all(f.code in REGISTRY for f in fs)


def test_speed_is_measured_not_asserted(capsys: pytest.CaptureFixture[str]) -> None:
    """A sanity run on many reports (timings are printed; bench/ has the real figures)."""
    reps = [_report(V2021, s) for s in range(50)]
    t = time.perf_counter()
    for r in reps:
        validate_report(r, formula_state=_template_state(V2021))
    per = (time.perf_counter() - t) / len(reps) * 1000
    print(f"validate_report: {per:.3f} ms per consistent report")
    assert all(validate_report(r) == [] for r in reps[:3])


def test_text_number_is_not_a_stale_total() -> None:
    """The spreadsheet's SUM skips "１２" (text); a cached total without it is what Excel shows."""
    fmt = V2021
    r = _report(fmt)
    key = "sec4.review.upheld"
    n = r.number(key) or 0
    r.values[key] = CellValue(state="number", number=n + 12, raw=str(n + 12).translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    # cached total (as a spreadsheet computes it) leaves the text out: no STALE_TOTAL
    r.values["sec4.review.total"] = CellValue.of((r.number("sec4.review.total") or 0) - n)
    ev = evaluate_report(r, formula_state=_template_state(fmt))
    assert _codes(ev.findings) == ["TEXT_NUMBER"]
    # our numbers include the coerced value
    assert ev.numbers["sec4.review.total"] == sum(
        ev.numbers[f"sec4.review.{c}"] or 0 for c in ("upheld", "corrected", "other", "pending"))
