"""Consolidation policy and the summary workbook, from reports built in the test.

The summary is read back with openpyxl (not with xltool's reader) and compared with sums
the test computes itself from the numbers it put in. End-to-end runs over real agency
workbooks are in test_combine_cli.py.
"""

from __future__ import annotations

import random
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from xltool.core.combined import DISTRICT_NAME, Disposition, Submission
from xltool.core.model import AgencyReport, CellValue, Finding, ReportMeta, Severity
from xltool.core.names import RosterEntry
from xltool.pipeline.combine import CombineError, consolidate
from xltool.pipeline.previous import load_previous
from xltool.pipeline.synth import synth_values
from xltool.spec import V2019, V2021, Format
from xltool.spec.selections import headline_keys, outcome_groups
from xltool.workbook import summary_layout as SL
from xltool.workbook.layout import META_SHEET, layout_for
from xltool.write.summary import detail_header, write_summary

YEAR = {"2019": 2020, "2021": 2025}
SLASH = CellValue(state="marker", raw="/")
ERR = Finding(code="T3_ROW_TOTAL", severity=Severity.ERROR, message="表三!J6 有错")


def make_sub(
    name: str | None,
    vals: dict[str, object] | None = None,
    *,
    fmt: Format = V2021,
    year: int | None = -1,
    status: str = "ok",
    mtime: float = 1_000_000.0,
    fill_time: datetime | None = None,
    code: str | None = None,
    findings: list[Finding] | None = None,
    path: str | None = None,
) -> Submission:
    """A checked file as check would hand it over (values: number, "/" or None = blank)."""
    if vals is None:
        vals = dict(synth_values(fmt, random.Random(name), with_totals=True))
    values: dict[str, CellValue] = {}
    for k, v in vals.items():
        if v is None:
            values[k] = CellValue(state="blank")
        elif v == "/":
            values[k] = SLASH
        elif isinstance(v, str):
            values[k] = CellValue(state="text", raw=v)
        else:
            values[k] = CellValue.of(v)  # type: ignore[arg-type]
    y = YEAR[fmt.id] if year == -1 else year
    report = None if status == "unreadable" else AgencyReport(
        meta=ReportMeta(agency=name, year=y, format=fmt.id, credit_code=code),  # type: ignore[arg-type]
        values=values,
    )
    if findings is None:
        findings = [ERR] if status == "invalid" else []
        if status == "unreadable":
            findings = [Finding(code="UNREADABLE", severity=Severity.ERROR, message="不是 Excel 文件")]
    return Submission(
        path=Path(path or f"/in/{name or 'x'}.xlsx"), status=status, report=report, findings=findings,
        sha256="0" * 64, mtime=mtime, fill_time=fill_time,
    )


def _num(v: object) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0


@pytest.fixture(scope="module", params=[V2021, V2019], ids=lambda f: f.id)
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """30 agencies, some cells "/" or blank, one text; the summary and the inputs."""
    fmt: Format = request.param
    rng = random.Random(7)
    inputs: list[dict[str, object]] = []
    subs = []
    keys = list(fmt.cells)
    for i in range(30):
        vals: dict[str, object] = dict(synth_values(fmt, rng, size=3, with_totals=True))
        if i % 7 == 3:
            vals[keys[0]] = "/"
        if i % 11 == 5:
            vals[keys[1]] = None
        inputs.append(vals)
        subs.append(make_sub(f"第{i:02d}单位", vals, fmt=fmt, code=f"11{i:016d}"))
    result = consolidate(subs)
    out = tmp_path_factory.mktemp("sum") / f"汇总{fmt.id}.xlsx"
    write_summary(result, out)
    return fmt, inputs, result, out


def test_totals_equal_independent_sums(written) -> None:
    fmt, inputs, _result, out = written
    lay = layout_for(fmt)
    wb = openpyxl.load_workbook(out, data_only=True)
    for key, (_sheet, addr) in lay.address.items():
        sec = fmt.cells[key].table.section
        want = sum(_num(v.get(key)) for v in inputs)
        got = wb[SL.SUMMARY_TABLE_SHEETS[sec]][addr].value
        assert got == pytest.approx(want), key
    formulas = openpyxl.load_workbook(out)
    ref = formulas[SL.SUMMARY_TABLE_SHEETS["sec3"]][lay.address["sec3.new_received.total"][1]].value
    assert ref.startswith(f"={SL.DETAIL_SHEET}!") and ref.endswith(str(SL.DETAIL_FIRST_DATA_ROW + 30 + 1))


def test_detail_sheet_rows_keys_blanks(written) -> None:
    fmt, inputs, _result, out = written
    wb = openpyxl.load_workbook(out)
    ws = wb[SL.DETAIL_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    keys = list(rows[SL.DETAIL_KEY_ROW])
    assert ws.row_dimensions[SL.DETAIL_KEY_ROW + 1].hidden
    assert keys[:2] == [SL.AGENCY_KEY, SL.CREDIT_CODE_KEY]
    assert keys[2 : 2 + len(fmt.cells)] == list(fmt.cells)
    titles = rows[SL.DETAIL_TITLE_ROW]
    assert titles[2 + list(fmt.cells).index("sec3.total_processed.natural")] == "表三·（七）总计·自然人"
    first = SL.DETAIL_FIRST_DATA_ROW
    for i, vals in enumerate(inputs):
        row = rows[first + i]
        assert row[0] == f"第{i:02d}单位"
        for j, k in enumerate(fmt.cells):
            v = vals.get(k)
            if isinstance(v, (int, float)):
                assert row[2 + j] == pytest.approx(v), (i, k)
            else:  # "/" and blank stay blank, never 0
                assert row[2 + j] is None, (i, k)
                cell = ws.cell(first + i + 1, 3 + j)
                assert cell.fill.fgColor.rgb.endswith("FFF2CC")
    total = rows[first + len(inputs)]
    assert total[0] == SL.TOTAL_ROW_LABEL
    assert str(total[2]).startswith("=SUM(")
    assert ws.freeze_panes == "B3"
    assert ws.auto_filter.ref is not None


def test_unfilled_totals_warn_with_names(written) -> None:
    fmt, inputs, result, out = written
    key = next(iter(fmt.cells))
    slashers = [f"第{i:02d}单位" for i, v in enumerate(inputs) if v.get(key) == "/"]
    f = next(f for f in result.district_findings if f.code == "COMBINE_UNFILLED" and f.key == key)
    assert f.severity is Severity.WARNING and f.actual == len(slashers)
    assert all(n in f.message for n in slashers)
    wb = openpyxl.load_workbook(out)
    sheet, addr = SL.SUMMARY_TABLE_SHEETS["sec2"], layout_for(fmt).address[key][1]
    comment = wb[sheet][addr].comment
    assert comment is not None and slashers[0] in comment.text
    listed = [r for r in wb[SL.FINDINGS_SHEET].iter_rows(min_row=2, values_only=True) if r[3] == "COMBINE_UNFILLED"]
    assert any(r[0] == DISTRICT_NAME and r[5] == addr for r in listed)


def test_check_line_and_meta(written) -> None:
    fmt, _inputs, result, out = written
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == list(SL.SUMMARY_TABLE_SHEETS.values())
    assert wb[META_SHEET].sheet_state == "veryHidden"
    meta = {r[0]: r[1] for r in wb[META_SHEET].iter_rows(values_only=True)}
    assert meta["kind"] == SL.SUMMARY_KIND and meta["format"] == fmt.id
    assert int(meta["year"]) == YEAR[fmt.id] and int(meta["n_agencies"]) == 30
    texts = [c for row in wb[SL.SUMMARY_TABLE_SHEETS["sec3"]].iter_rows(values_only=True) for c in row
             if isinstance(c, str) and c.startswith("校验")]
    assert texts, "no 校验 line on 汇总 表三"
    # inputs are consistent: only the unfilled warnings, no errors
    assert not [f for f in result.district_findings if f.severity is Severity.ERROR]


def test_previous_reads_back_our_summary(written) -> None:
    """The --previous contract: load_previous reads 分单位明细 back to the same numbers."""
    fmt, inputs, _result, out = written
    prev = load_previous([out])
    assert prev.year == YEAR[fmt.id] and prev.format == fmt.id
    assert len(prev.by_agency) == 30
    got = prev.get("第03单位")
    assert got is not None
    want = {k: v for k, v in inputs[3].items() if isinstance(v, (int, float))}
    assert got == pytest.approx(want)


def test_charts_are_native_and_point_at_chart_sheet(written) -> None:
    fmt, _inputs, _result, out = written
    with zipfile.ZipFile(out) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        assert len(charts) == 2
        xml = [z.read(n).decode("utf-8") for n in charts]
    assert "<c:barChart>" in xml[0] and "<c:barChart>" in xml[1]  # bar (horizontal) and column
    assert f"{SL.CHART_SHEET}!$A$2:$A$21" in xml[0]
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb[SL.CHART_SHEET]
    labels = [ws.cell(r, 4).value for r in range(2, 8)]
    assert [lab[:3] for lab in labels] == ["（一）", "（二）", "（三）", "（四）", "（五）", "（六）"]
    groups = outcome_groups(fmt)
    assert [g for g, _ in groups] == labels
    assert sum(ws.cell(r, 5).value for r in range(2, 8)) == pytest.approx(
        _result.totals["sec3.total_processed.total"])
    values = [ws.cell(r, 2).value for r in range(2, 22)]
    assert values == sorted(values, reverse=True)


def test_outcome_groups_and_headlines_from_spec() -> None:
    for fmt, n_denied in ((V2019, 8), (V2021, 8)):
        groups = dict(outcome_groups(fmt))
        assert len(groups["（三）不予公开"]) == n_denied
        assert groups["（二）部分公开"] == ["sec3.partial.total"]
    assert len(dict(outcome_groups(V2021))["（六）其他处理"]) == 3
    assert dict(outcome_groups(V2019))["（六）其他处理"] == ["sec3.other.total"]
    assert headline_keys(V2021) == [
        "sec3.new_received.total", "sec3.total_processed.total",
        "sec4.review.total", "sec4.suit_direct.total", "sec4.suit_after_review.total",
    ]
    assert detail_header(V2021.cells["sec3.denied.state_secret.org.commercial"]) == (
        "表三·（三）不予公开·1.属于国家秘密·法人或其他组织·商业企业")
    assert detail_header(V2021.cells["sec2.art20_1.regulations.issued"]).startswith("表二·第二十条第（一）项·规章·")


# --- policy ------------------------------------------------------------------------------


def test_newer_file_of_one_agency_wins_by_fill_time_then_mtime() -> None:
    old_but_refilled = make_sub("甲局", path="/in/a1.xlsx", mtime=100, fill_time=datetime(2026, 1, 20))
    newer_file = make_sub("甲 局", path="/in/a2.xlsx", mtime=500, fill_time=datetime(2026, 1, 10))
    same_code_1 = make_sub("乙局", path="/in/b1.xlsx", code="11AAA", mtime=100)
    same_code_2 = make_sub("乙局（新名）", path="/in/b2.xlsx", code="11AAA", mtime=200)
    res = consolidate([old_but_refilled, newer_file, same_code_1, same_code_2])
    by_path = {str(o.sub.path): o for o in res.outcomes}
    assert by_path["/in/a1.xlsx"].included and by_path["/in/a2.xlsx"].disposition is Disposition.SUPERSEDED
    assert by_path["/in/a2.xlsx"].superseded_by == Path("/in/a1.xlsx")
    assert "填报时间" in by_path["/in/a2.xlsx"].reason
    assert by_path["/in/b2.xlsx"].included and by_path["/in/b1.xlsx"].disposition is Disposition.SUPERSEDED
    assert len(res.rows) == 2 and res.exit_code == 1


def test_roster_missing_unknown_unreadable_invalid() -> None:
    roster = [RosterEntry("甲局"), RosterEntry("乙局"), RosterEntry("丙局", credit_code="11CCC"), RosterEntry("丁局")]
    subs = [
        make_sub("甲局"),
        make_sub("乙局", status="invalid"),
        make_sub("丙局简称", code="11ccc"),  # matched by credit code
        make_sub("外单位"),
        make_sub(None, status="unreadable", path="/in/坏文件.xlsx"),
    ]
    res = consolidate(subs, roster=roster)
    status = {r.name: r.status for r in res.roster_rows}
    assert status["甲局"] == "已报送·通过"
    assert status["乙局"] == "已报送·有错误"
    assert status["丙局"] == "已报送·通过"
    assert status["丁局"] == "未报送"
    assert status["外单位"] == "名单外单位"
    assert any(r.status == "无法读取" for r in res.roster_rows)
    assert res.missing == ["丁局"]
    assert [o.agency for o in res.rows] == ["甲局", "丙局"]  # roster order, roster names
    assert res.exit_code == 1
    inc = consolidate(subs, roster=roster, include_invalid=True)
    assert [o.agency for o in inc.rows] == ["甲局", "乙局", "丙局"]
    assert inc.rows[1].disposition is Disposition.INVALID and inc.rows[1].included
    assert inc.exit_code == 1


def test_all_good_exit_zero_and_json() -> None:
    res = consolidate([make_sub("甲局"), make_sub("乙局")], year=2025)
    assert res.exit_code == 0
    js = res.to_json()
    assert js["summary"]["n_agencies"] == 2 and js["summary"]["exit_code"] == 0
    assert js["summary"]["format"] == "2021" and js["summary"]["year"] == 2025
    assert {f["combine"]["status"] for f in js["files"]} == {"已报送·通过"}
    assert js["files"][0]["path"] == "/in/甲局.xlsx"
    assert js["summary"]["totals"]["sec3.new_received.total"] == sum(
        synth_values(V2021, random.Random(n), with_totals=True)["sec3.new_received.total"] for n in ("甲局", "乙局"))


def test_year_majority_wrong_year_and_tie() -> None:
    subs = [make_sub("甲局"), make_sub("乙局"), make_sub("丙局", year=2024)]
    res = consolidate(subs)
    assert res.year == 2025 and "多数" in res.year_note
    wrong = next(o for o in res.outcomes if o.agency == "丙局")
    assert wrong.disposition is Disposition.WRONG_YEAR and "2024" in wrong.reason
    with pytest.raises(CombineError, match="--year"):
        consolidate([make_sub("甲局"), make_sub("丙局", year=2024)])
    assert consolidate([make_sub("甲局"), make_sub("丙局", year=2024)], year=2024).rows[0].agency == "丙局"


def test_other_format_is_excluded_with_reason() -> None:
    subs = [make_sub("甲局"), make_sub("老格式局", fmt=V2019, year=2025)]
    res = consolidate(subs)
    assert [r.agency for r in res.rows] == ["甲局"]
    old = next(o for o in res.outcomes if o.agency == "老格式局")
    assert old.disposition is Disposition.WRONG_FORMAT and not old.included
    assert "2019" in old.reason and "2021" in old.reason
    with pytest.raises(CombineError):
        consolidate([make_sub("老格式局", fmt=V2019, year=2025)])


def test_nothing_to_combine() -> None:
    with pytest.raises(CombineError, match="--include-invalid"):
        consolidate([make_sub("甲局", status="invalid")])
    with pytest.raises(CombineError, match="无法读取"):
        consolidate([make_sub(None, status="unreadable")], year=2025)


def test_include_invalid_marked_in_detail_and_notes(tmp_path: Path) -> None:
    res = consolidate([make_sub("甲局"), make_sub("乙局", status="invalid")], include_invalid=True)
    out = write_summary(res, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb[SL.DETAIL_SHEET]
    row = SL.DETAIL_FIRST_DATA_ROW + 2  # 1-based row of 乙局
    assert ws.cell(row, 1).value == "乙局"
    assert ws.cell(row, 1).fill.fgColor.rgb.endswith("FCE4D6")
    keys = [c.value for c in ws[SL.DETAIL_KEY_ROW + 1]]
    assert "include-invalid" in ws.cell(row, keys.index(SL.NOTE_KEY) + 1).value
    notes = " ".join(str(c) for r in wb[SL.NOTES_SHEET].iter_rows(values_only=True) for c in r if c)
    assert "--include-invalid" in notes
    status = list(wb[SL.STATUS_SHEET].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[3], r[4]) for r in status] == [("甲局", "已报送·通过", "是"), ("乙局", "已报送·有错误", "是")]


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    res = consolidate([make_sub("甲局")])
    out = tmp_path / "s.xlsx"
    out.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_summary(res, out)
    assert out.read_bytes() == b"keep"
    write_summary(res, out, overwrite=True)
    assert zipfile.is_zipfile(out)


def test_year_over_year_columns(tmp_path: Path) -> None:
    last = consolidate([make_sub("甲局", year=2024), make_sub("乙局", year=2024)])
    p_last = write_summary(last, tmp_path / "2024.xlsx")
    prev = load_previous([p_last])
    res = consolidate([make_sub("甲局"), make_sub("新单位")], previous=prev)
    out = write_summary(res, tmp_path / "2025.xlsx")
    ws = openpyxl.load_workbook(out, data_only=True)[SL.DETAIL_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    keys = rows[SL.DETAIL_KEY_ROW]
    k = "sec3.new_received.total"
    cp, cc = keys.index(SL.PREV_KEY_PREFIX + k), keys.index(SL.CURR_KEY_PREFIX + k)
    first = SL.DETAIL_FIRST_DATA_ROW
    assert rows[first][cp] == last.totals[k] - last.table.loc["乙局", k]
    assert rows[first][cc] == res.table.loc["甲局", k]
    assert rows[first + 1][cp] is None  # 新单位 has no last-year row
    assert any("上年数据中没有找到" in n for n in res.notes)


def test_received_key_is_first_row_of_balance() -> None:
    from xltool.spec.selections import received_key

    assert received_key(V2019) == received_key(V2021) == "sec3.new_received.total"


@pytest.mark.soffice
def test_libreoffice_recalculation_matches_cached_values(tmp_path: Path, recalc) -> None:
    """Every formula of the summary: LibreOffice's result equals the cached value we wrote."""
    outs = []
    for fmt in (V2021, V2019):
        rng = random.Random(fmt.id)
        subs = []
        for i in range(12):
            vals: dict[str, object] = dict(synth_values(fmt, rng, size=4, with_totals=True))
            if i == 2:
                vals[next(iter(fmt.cells))] = "/"
            if i == 4:  # inconsistent file, included: the district checks then fail somewhere
                vals["sec3.new_received.natural"] = _num(vals["sec3.new_received.natural"]) + 5
            subs.append(make_sub(f"单位{i}", vals, fmt=fmt, status="invalid" if i == 4 else "ok"))
        res = consolidate(subs, include_invalid=True)
        assert any(f.severity is Severity.ERROR for f in res.district_findings)
        outs.append(write_summary(res, tmp_path / f"s{fmt.id}.xlsx"))
    recalculated = recalc(outs)
    n_checked = 0
    for orig, lo in zip(outs, recalculated, strict=True):
        formulas = openpyxl.load_workbook(orig)
        cached = openpyxl.load_workbook(orig, data_only=True)
        fresh = openpyxl.load_workbook(lo, data_only=True)
        for ws in formulas.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and c.value.startswith("="):
                        want = cached[ws.title][c.coordinate].value
                        got = fresh[ws.title][c.coordinate].value
                        if isinstance(want, (int, float)):
                            assert got == pytest.approx(want), (orig.name, ws.title, c.coordinate)
                        else:
                            assert got == want, (orig.name, ws.title, c.coordinate)
                        n_checked += 1
    assert n_checked > 2 * 200
