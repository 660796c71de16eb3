"""Multi-level roll-up (issue 12): district summaries combined into a city, cities into a
province, each checked against itself, every figure traceable to the agency files."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.test_combine_cli import YEAR, _summary_values, _write
from xltool.cli import main
from xltool.spec import V2021
from xltool.workbook import summary_layout as SL
from xltool.workbook.layout import layout_for

DISTRICTS = {"甲区": 3, "乙区": 4, "丙区": 2}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three districts' agency files and their summaries, plus one agency reporting to the city."""
    base = tmp_path_factory.mktemp("rollup")
    out: dict[str, Path] = {}
    for d, n in DISTRICTS.items():
        folder = base / d
        folder.mkdir()
        for i in range(n):
            _write(folder, f"{d}单位{i}.xlsx", f"{d}单位{i}", seed=i)
        summary = base / f"{d}汇总.xlsx"
        assert main(["combine", str(folder), "--out", str(summary), "--district", d, "--year", str(YEAR)]) == 0
        out[d] = summary
    direct = base / "市直"
    direct.mkdir()
    _write(direct, "市财政局.xlsx", "市财政局", seed=99)
    out["市直"] = direct
    return out


def totals(path: Path) -> dict[str, float]:
    return {k: float(v or 0) for k, v in _summary_values(path, V2021).items()}


def agency_totals(folders: list[Path], tmp: Path) -> dict[str, float]:
    """The same agencies combined directly, as the reference."""
    flat = tmp / "flat"
    flat.mkdir(parents=True, exist_ok=True)
    for f in folders:
        for p in f.glob("*.xlsx"):
            shutil.copy(p, flat / p.name)
    ref = tmp / "直接汇总.xlsx"
    assert main(["combine", str(flat), "--out", str(ref), "--year", str(YEAR), "--force"]) == 0
    return totals(ref)


def test_city_from_three_districts(tree: dict[str, Path], tmp_path: Path) -> None:
    city = tmp_path / "市汇总.xlsx"
    js = tmp_path / "city.json"
    rc = main(["combine", *(str(tree[d]) for d in DISTRICTS), str(tree["市直"]), "--out", str(city),
               "--year", str(YEAR), "--district", "某市", "--json", str(js)])
    assert rc == 0
    got = totals(city)
    want = {k: sum(totals(tree[d])[k] for d in DISTRICTS) for k in got}
    direct = agency_totals([tree["市直"]], tmp_path / "d")
    assert got == {k: want[k] + direct[k] for k in got}
    assert any(v > 0 for v in got.values())
    data = json.loads(js.read_text(encoding="utf-8"))
    kinds = sorted(f["kind"] for f in data["files"])
    assert kinds == ["agency"] + ["summary"] * len(DISTRICTS)
    wb = openpyxl.load_workbook(city, data_only=True)
    assert "全市汇总" in str(wb[SL.SUMMARY_TABLE_SHEETS["sec3"]]["A1"].value or "") or any(
        "全市汇总" in str(c.value) for row in wb[SL.SUMMARY_TABLE_SHEETS["sec3"]].iter_rows(max_row=3) for c in row)
    child = wb[SL.child_sheet("city")]
    names = [r[1] for r in child.iter_rows(min_row=3, values_only=True) if r[1]]
    order = sorted(DISTRICTS, key=lambda d: str(tree[d]))  # inputs in path order
    assert names == ["市财政局", *order, SL.TOTAL_ROW_LABEL]
    counts = [r[3] for r in child.iter_rows(min_row=3, values_only=True) if r[1]]
    assert counts[1:-1] == [DISTRICTS[d] for d in order] and counts[-1] == 1 + sum(DISTRICTS.values())
    # every agency with its district and its file's sha256; the district's sha256 beside it
    det = list(wb[SL.DETAIL_SHEET].iter_rows(values_only=True))
    keys = list(det[SL.DETAIL_KEY_ROW])
    rows = [r for r in det[SL.DETAIL_FIRST_DATA_ROW:] if r[0] and r[0] != SL.TOTAL_ROW_LABEL]
    assert len(rows) == 1 + sum(DISTRICTS.values())
    unit = {r[0]: r[keys.index(SL.UNIT_KEY)] for r in rows}
    assert unit["甲区单位0"] == "甲区" and unit["市财政局"] is None
    assert all(re.fullmatch(r"[0-9a-f]{64}", r[keys.index(SL.SHA_KEY)] or "") for r in rows)
    # 报送情况: each district's own accounting, with the district named
    status = list(wb[SL.STATUS_SHEET].iter_rows(values_only=True))
    head = list(status[0])
    assert SL.UNIT_COLUMN in head
    lines = [r for r in status[1:] if r[head.index(SL.UNIT_COLUMN)] == "乙区"]
    assert len(lines) == DISTRICTS["乙区"]


def test_city_recalculates_in_libreoffice(tree: dict[str, Path], tmp_path: Path, recalc) -> None:  # type: ignore[no-untyped-def]
    city = tmp_path / "市汇总.xlsx"
    assert main(["combine", *(str(tree[d]) for d in DISTRICTS), "--out", str(city), "--year", str(YEAR)]) == 0
    (again,) = recalc([city])
    assert totals(again) == totals(city)
    child_cached = list(openpyxl.load_workbook(city, data_only=True)[SL.child_sheet("city")].iter_rows(values_only=True))
    child_lo = list(openpyxl.load_workbook(again, data_only=True)[SL.child_sheet("city")].iter_rows(values_only=True))
    assert [r[5:] for r in child_cached[2:]] == [r[5:] for r in child_lo[2:]]


def _edit_cached(src: Path, dst: Path, sheet_name: str, addr: str, new: str) -> None:
    """Change one cell's stored value in the XML (as a hand edit saved without recalculation)."""
    with zipfile.ZipFile(src) as z:
        wb_xml = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'name="{re.escape(sheet_name)}" sheetId="\d+" r:id="(rId\d+)"', wb_xml)
        assert rid is not None
        target = re.search(rf'Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or re.search(
            rf'Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels)
        assert target is not None
        part = "xl/" + target.group(1).lstrip("/").removeprefix("xl/")
        items = {i.filename: z.read(i.filename) for i in z.infolist()}
    xml = items[part].decode()
    m = re.search(rf'<c r="{addr}"[^>]*>(.*?)</c>', xml)
    assert m is not None, addr
    cell = m.group(0)
    changed = re.sub(r"<v>[^<]*</v>", f"<v>{new}</v>", cell) if "<v>" in cell else cell.replace("</c>", f"<v>{new}</v></c>")
    items[part] = xml.replace(cell, changed, 1).encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items.items():
            z.writestr(name, data)


def test_edited_district_is_left_out_with_the_reason(tree: dict[str, Path], tmp_path: Path) -> None:
    key = "sec3.new_received.total"
    addr = layout_for(V2021).address[key][1]
    edited = tmp_path / "乙区汇总（改过）.xlsx"
    _edit_cached(tree["乙区"], edited, SL.SUMMARY_TABLE_SHEETS["sec3"], addr, "99999")
    city = tmp_path / "市.xlsx"
    js = tmp_path / "c.json"
    rc = main(["combine", str(tree["甲区"]), str(edited), str(tree["丙区"]), "--out", str(city),
               "--year", str(YEAR), "--json", str(js)])
    assert rc == 1
    got = totals(city)
    assert got == {k: totals(tree["甲区"])[k] + totals(tree["丙区"])[k] for k in got}
    data = json.loads(js.read_text(encoding="utf-8"))
    rec = next(f for f in data["files"] if f["path"] == str(edited))
    assert rec["kind"] == "summary" and rec["combine"]["included"] is False
    assert "SUMMARY_TOTAL_MISMATCH" in {f["code"] for f in rec["findings"]}
    bad = next(f for f in rec["findings"] if f["code"] == "SUMMARY_TOTAL_MISMATCH")
    assert bad["cell"] == addr and bad["actual"] == 99999 and "乙区" in bad["message"]


def test_edited_agency_row_breaks_the_fingerprint(tree: dict[str, Path], tmp_path: Path) -> None:
    """A number changed in 分单位明细 (the totals recalculated as Excel would) is still caught."""
    rows = list(openpyxl.load_workbook(tree["丙区"], data_only=True)[SL.DETAIL_SHEET].iter_rows(values_only=True))
    keys = list(rows[SL.DETAIL_KEY_ROW])
    c = keys.index("sec4.review.upheld")
    from xltool.workbook.layout import a1

    edited = tmp_path / "丙区汇总（改过）.xlsx"
    old = rows[SL.DETAIL_FIRST_DATA_ROW][c] or 0
    _edit_cached(tree["丙区"], edited, SL.DETAIL_SHEET, a1(SL.DETAIL_FIRST_DATA_ROW, c), str(old + 1))
    total_row = next(i for i, r in enumerate(rows) if r[0] == SL.TOTAL_ROW_LABEL)
    tmp2 = tmp_path / "tmp.xlsx"
    shutil.move(edited, tmp2)
    _edit_cached(tmp2, edited, SL.DETAIL_SHEET, a1(total_row, c), str((rows[total_row][c] or 0) + 1))
    addr = layout_for(V2021).address["sec4.review.upheld"][1]
    shutil.move(edited, tmp2)
    table4 = openpyxl.load_workbook(tree["丙区"], data_only=True)[SL.SUMMARY_TABLE_SHEETS["sec4"]][addr].value or 0
    _edit_cached(tmp2, edited, SL.SUMMARY_TABLE_SHEETS["sec4"], addr, str(table4 + 1))
    js = tmp_path / "c.json"
    rc = main(["combine", str(tree["甲区"]), str(edited), "--out", str(tmp_path / "市.xlsx"), "--year", str(YEAR),
               "--json", str(js)])
    assert rc == 1
    rec = next(f for f in json.loads(js.read_text(encoding="utf-8"))["files"] if f["path"] == str(edited))
    codes = {f["code"] for f in rec["findings"]}
    assert codes == {"SUMMARY_EDITED"}  # consistent totals, but not what was generated
    assert rec["combine"]["included"] is False


def test_agency_in_two_districts_counts_once(tree: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "甲区汇总（副本）.xlsx"
    shutil.copy(tree["甲区"], copy)
    js = tmp_path / "c.json"
    city = tmp_path / "市.xlsx"
    rc = main(["combine", str(tree["甲区"]), str(copy), "--out", str(city), "--year", str(YEAR), "--json", str(js)])
    assert rc == 1
    assert totals(city) == totals(tree["甲区"])
    files = json.loads(js.read_text(encoding="utf-8"))["files"]
    dups = [f for rec in files for f in rec["findings"] if f["code"] == "ROLLUP_DUPLICATE"]
    assert len(dups) == DISTRICTS["甲区"]


def test_other_year_district_left_out(tree: dict[str, Path], tmp_path: Path) -> None:
    old = tmp_path / "丁区"
    old.mkdir()
    for i in range(2):
        _write(old, f"丁区单位{i}.xlsx", f"丁区单位{i}", year=YEAR - 1, seed=i)
    old_summary = tmp_path / "丁区上年汇总.xlsx"
    assert main(["combine", str(old), "--out", str(old_summary), "--district", "丁区"]) == 0
    js = tmp_path / "c.json"
    city = tmp_path / "市.xlsx"
    rc = main(["combine", str(tree["甲区"]), str(old_summary), "--out", str(city), "--year", str(YEAR),
               "--json", str(js)])
    assert rc == 1
    assert totals(city) == totals(tree["甲区"])
    rec = next(f for f in json.loads(js.read_text(encoding="utf-8"))["files"] if f["path"] == str(old_summary))
    assert rec["kind"] == "summary" and not rec["combine"]["included"]
    assert rec["combine"]["status"] == "年度不符" and str(YEAR - 1) in rec["combine"]["reason"]


def test_province_from_two_cities_equals_direct(tree: dict[str, Path], tmp_path: Path) -> None:
    a, b = tmp_path / "A市.xlsx", tmp_path / "B市.xlsx"
    assert main(["combine", str(tree["甲区"]), str(tree["乙区"]), "--out", str(a), "--year", str(YEAR),
                 "--district", "A市"]) == 0
    assert main(["combine", str(tree["丙区"]), str(tree["市直"]), "--out", str(b), "--year", str(YEAR),
                 "--district", "B市"]) == 0
    prov = tmp_path / "省.xlsx"
    assert main(["combine", str(a), str(b), "--out", str(prov), "--year", str(YEAR), "--district", "某省"]) == 0
    folders = [tree["甲区"].parent / d for d in DISTRICTS] + [tree["市直"]]
    assert totals(prov) == agency_totals(folders, tmp_path)
    wb = openpyxl.load_workbook(prov, data_only=True)
    det = list(wb[SL.DETAIL_SHEET].iter_rows(values_only=True))
    keys = list(det[SL.DETAIL_KEY_ROW])
    unit = {r[0]: r[keys.index(SL.UNIT_KEY)] for r in det[SL.DETAIL_FIRST_DATA_ROW:] if r[0]}
    assert unit["甲区单位1"] == "A市·甲区" and unit["市财政局"] == "B市"
    via = {r[0]: r[keys.index(SL.VIA_KEY)] for r in det[SL.DETAIL_FIRST_DATA_ROW:] if r[0]}
    assert len(via["甲区单位1"].split(SL.VIA_SEP)) == 2  # the city's and the district's sha256
    assert SL.child_sheet("province") in wb.sheetnames


def test_city_workspace_receives_district_summaries(tree: dict[str, Path], tmp_path: Path) -> None:
    roster = tmp_path / "名单.csv"
    roster.write_text("单位名称\n" + "".join(f"{d}\n" for d in DISTRICTS) + "市财政局\n", encoding="utf-8")
    ws = tmp_path / "2025年市级汇总"
    assert main(["init", str(ws), "--year", str(YEAR), "--roster", str(roster)]) == 0
    edited = tmp_path / "丙区汇总.xlsx"
    key = "sec3.new_received.total"
    _edit_cached(tree["丙区"], edited, SL.SUMMARY_TABLE_SHEETS["sec3"], layout_for(V2021).address[key][1], "99999")
    rc = main(["receive", str(ws), str(tree["甲区"]), str(tree["乙区"]), str(edited),
               str(tree["市直"] / "市财政局.xlsx")])
    assert rc == 0
    js = tmp_path / "status.json"
    assert main(["status", str(ws), "--json", str(js)]) in (0, 1)
    states = {a["name"]: a["state"] for a in json.loads(js.read_text(encoding="utf-8"))["agencies"]}
    assert states["甲区"] == states["乙区"] == states["市财政局"] == "已报送·通过"
    assert states["丙区"] == "已报送·有错误"
    out = tmp_path / "市.xlsx"
    assert main(["combine", "--workspace", str(ws), "--out", str(out)]) == 1  # 丙区 left out
    direct = agency_totals([tree["市直"]], tmp_path / "d")
    got = totals(out)
    assert got == pytest.approx({k: totals(tree["甲区"])[k] + totals(tree["乙区"])[k] + direct[k] for k in got})
