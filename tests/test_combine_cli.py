"""``xltool combine`` end to end over real agency workbooks (our template, filled).

Expected totals are computed here from the agency files read with python-calamine at the
layout's addresses, not through xltool's reader.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from xltool.cli import main
from xltool.pipeline.synth import synth_values
from xltool.spec import V2019, V2021, Format
from xltool.workbook import summary_layout as SL
from xltool.workbook.layout import layout_for, parse_a1
from xltool.write.template import write_workbook

YEAR = 2025
GOOD = ["甲局", "乙局", "丙局", "丁局"]


def _write(folder: Path, name: str, agency: str, *, fmt: Format = V2021, year: int = YEAR, seed: int = 0,
           edit: dict[str, object] | None = None, mtime: float | None = None,
           created: datetime = datetime(2026, 1, 15)) -> Path:
    vals: dict[str, object] = dict(synth_values(fmt, random.Random(f"{agency}{seed}"), size=3))
    vals.update(edit or {})
    p = write_workbook(folder / name, fmt, year, agency=agency, values=vals,
                       created=created)
    if mtime is not None:
        os.utime(p, (mtime, mtime))
    return p


def _numbers(path: Path, fmt: Format) -> dict[str, float]:
    """Every value cell of an agency file, by address, read with calamine (text → absent)."""
    lay = layout_for(fmt)
    wb = CalamineWorkbook.from_path(str(path))
    grids = {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}
    out: dict[str, float] = {}
    for key, (sheet, addr) in lay.address.items():
        r, c = parse_a1(addr)
        grid = grids[sheet]
        v = grid[r][c] if r < len(grid) and c < len(grid[r]) else None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = float(v)
    return out


def _summary_values(path: Path, fmt: Format) -> dict[str, object]:
    lay = layout_for(fmt)
    wb = openpyxl.load_workbook(path, data_only=True)
    return {k: wb[SL.SUMMARY_TABLE_SHEETS[fmt.cells[k].table.section]][addr].value
            for k, (_s, addr) in lay.address.items()}


@pytest.fixture(scope="module")
def returns_and_roster(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A district's returns: 4 good, 乙局 twice (older file first), one with errors, one
    not on the roster, one with "/" cells, one unreadable; 戊局 on the roster sends nothing."""
    d = tmp_path_factory.mktemp("returns")
    for i, a in enumerate(GOOD):
        _write(d, f"{a}.xlsx", a, mtime=1_700_000_000 + i)
    _write(d, "乙局_旧.xlsx", "乙局", seed=9, mtime=1_600_000_000, created=datetime(2026, 1, 5))
    _write(d, "己局.xlsx", "己局", edit={"sec3.carry_forward.natural": 999})  # 勾稽 broken
    _write(d, "外单位.xlsx", "外单位")
    _write(d, "庚局.xlsx", "庚局", edit={"sec2.art20_1.regulations.issued": "/"})
    (d / "坏文件.xlsx").write_text("这不是 Excel 文件", encoding="utf-8")
    roster = tmp_path_factory.mktemp("roster") / "名单.csv"
    roster.write_text("单位名称\n" + "\n".join([*GOOD, "己局", "庚局", "戊局"]) + "\n", encoding="utf-8")
    return d, roster


@pytest.fixture(scope="module")
def returns(returns_and_roster: tuple[Path, Path]) -> Path:
    return returns_and_roster[0]


def test_combine_with_roster(returns_and_roster: tuple[Path, Path], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    returns, roster = returns_and_roster
    out = tmp_path / "全区汇总.xlsx"
    js = tmp_path / "r.json"
    rc = main(["combine", str(returns), "--out", str(out), "--roster", str(roster),
               "--json", str(js)])
    assert rc == 1
    text = capsys.readouterr().out
    assert "戊局" in text and "外单位" in text and "坏文件.xlsx" in text
    included = [returns / f"{a}.xlsx" for a in GOOD] + [returns / "庚局.xlsx"]
    sums: dict[str, float] = {}
    for p in included:
        for k, v in _numbers(p, V2021).items():
            sums[k] = sums.get(k, 0.0) + v
    got = _summary_values(out, V2021)
    for k in V2021.cells:
        assert got[k] == pytest.approx(sums.get(k, 0.0)), k
    wb = openpyxl.load_workbook(out, data_only=True)
    status = {r[1]: r[3] for r in wb[SL.STATUS_SHEET].iter_rows(min_row=2, values_only=True) if r[1]}
    assert status["甲局"] == "已报送·通过" and status["己局"] == "已报送·有错误" and status["戊局"] == "未报送"
    assert status["外单位"] == "名单外单位"
    assert "重复报送（已被替代）" in status.values() and "无法读取" in status.values()
    detail = [r[0] for r in wb[SL.DETAIL_SHEET].iter_rows(min_row=SL.DETAIL_FIRST_DATA_ROW + 1, values_only=True)]
    assert detail == [*GOOD, "庚局", SL.TOTAL_ROW_LABEL]
    data = json.loads(js.read_text(encoding="utf-8"))
    rec = {Path(f["path"]).name: f for f in data["files"]}
    assert rec["乙局_旧.xlsx"]["combine"]["status"] == "重复报送（已被替代）"
    assert rec["己局.xlsx"]["status"] == "invalid" and rec["己局.xlsx"]["combine"]["included"] is False
    assert "issues" in rec["己局.xlsx"] and rec["己局.xlsx"]["issues"]
    assert data["summary"]["missing"] == ["戊局"] and data["summary"]["n_agencies"] == 5
    assert data["summary"]["exit_code"] == 1


def test_include_invalid_and_all_good_exit_codes(returns: Path, tmp_path: Path) -> None:
    out = tmp_path / "含错误.xlsx"
    assert main(["combine", str(returns), "--out", str(out), "--include-invalid"]) == 1
    names = [r[0] for r in openpyxl.load_workbook(out)[SL.DETAIL_SHEET].iter_rows(
        min_row=SL.DETAIL_FIRST_DATA_ROW + 1, values_only=True)]
    assert "己局" in names and "外单位" in names  # no roster: every readable agency counts
    good = tmp_path / "good"
    good.mkdir()
    for a in GOOD:
        shutil.copy(returns / f"{a}.xlsx", good)
    out2 = tmp_path / "全部通过.xlsx"
    assert main(["combine", str(good), "--out", str(out2), "--year", str(YEAR)]) == 0


def test_usage_errors_exit_2(returns: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.xlsx").write_text("no", encoding="utf-8")
    out = tmp_path / "s.xlsx"
    assert main(["combine", str(bad), "--out", str(out), "--year", str(YEAR)]) == 2
    assert not out.exists()
    assert "没有可以计入汇总的文件" in capsys.readouterr().err
    # mixed formats
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(returns / "甲局.xlsx", mixed)
    _write(mixed, "旧格式局.xlsx", "旧格式局", fmt=V2019, year=2020)
    assert main(["combine", str(mixed), "--out", str(out), "--year", "2020"]) == 1  # 甲局 is of another year
    out.unlink()
    # output exists / output is an input
    out.write_bytes(b"keep")
    assert main(["combine", str(returns), "--out", str(out)]) == 2
    assert out.read_bytes() == b"keep"
    assert "--force" in capsys.readouterr().err
    assert main(["combine", str(returns), "--out", str(returns / "甲局.xlsx"), "--force"]) == 2


def test_other_format_in_one_year_excluded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "in"
    d.mkdir()
    _write(d, "甲局.xlsx", "甲局")
    _write(d, "旧格式局.xlsx", "旧格式局", fmt=V2019, year=YEAR)  # the old format after the switch (§7 item 9)
    rc = main(["combine", str(d), "--out", str(tmp_path / "s.xlsx"), "--year", str(YEAR)])
    out = capsys.readouterr().out
    assert rc == 1 and (tmp_path / "s.xlsx").exists()
    assert "旧格式局" in out and "格式" in out


def test_summary_inside_input_folder_is_skipped(returns: Path, tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    for a in GOOD:
        shutil.copy(returns / f"{a}.xlsx", d)
    first = d / "全区汇总.xlsx"  # allowed: written next to the inputs
    assert main(["combine", str(d), "--out", str(first)]) == 0
    second = tmp_path / "again.xlsx"
    assert main(["combine", str(d), "--out", str(second)]) == 1  # something to look at: the summary
    assert _summary_values(second, V2021) == _summary_values(first, V2021)
    rows = openpyxl.load_workbook(second)[SL.STATUS_SHEET].iter_rows(min_row=2, values_only=True)
    skipped = [r for r in rows if r[3] == "汇总表（非单位报表）"]
    assert len(skipped) == 1 and skipped[0][4] == "否"


def test_previous_summary_gives_year_over_year_columns(tmp_path: Path) -> None:
    last, this = tmp_path / "2024", tmp_path / "2025"
    last.mkdir()
    this.mkdir()
    for a in GOOD:
        _write(last, f"{a}.xlsx", a, year=YEAR - 1)
        _write(this, f"{a}.xlsx", a)
    prev_out = tmp_path / "2024年汇总.xlsx"
    assert main(["combine", str(last), "--out", str(prev_out)]) == 0
    out = tmp_path / "2025年汇总.xlsx"
    rc = main(["combine", str(this), "--out", str(out), "--previous", str(prev_out), "--year", str(YEAR)])
    assert rc == 0
    rows = list(openpyxl.load_workbook(out, data_only=True)[SL.DETAIL_SHEET].iter_rows(values_only=True))
    keys = rows[SL.DETAIL_KEY_ROW]
    for k in ("sec3.new_received.total", "sec4.review.total"):
        cp, cc = keys.index(SL.PREV_KEY_PREFIX + k), keys.index(SL.CURR_KEY_PREFIX + k)
        by_name = {r[0]: r for r in rows[SL.DETAIL_FIRST_DATA_ROW:]}
        for a in GOOD:
            row = by_name[a]
            assert row[cp] == _numbers(last / f"{a}.xlsx", V2021).get(k, 0.0)
            assert row[cc] == _numbers(this / f"{a}.xlsx", V2021).get(k, 0.0)


def _hostile():
    import importlib.util

    spec = importlib.util.spec_from_file_location("hostile", Path(__file__).with_name("hostile.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_hostile_files_are_listed_not_fatal(returns: Path, tmp_path: Path) -> None:
    """Files that crash or exhaust naive readers: combine lists them as unreadable and goes on."""
    h = _hostile()
    d = tmp_path / "in"
    d.mkdir()
    for a in GOOD[:2]:
        shutil.copy(returns / f"{a}.xlsx", d)
    bad = [h.sparse_corner(d), h.dense_zip_bomb(d), h.lying_zip(d), h.not_a_zip(d), h.billion_laughs(d)]
    out = tmp_path / "s.xlsx"
    js = tmp_path / "r.json"
    assert main(["combine", str(d), "--out", str(out), "--json", str(js), "--year", str(YEAR)]) == 1
    data = json.loads(js.read_text(encoding="utf-8"))
    status = {Path(f["path"]).name: f["combine"]["status"] for f in data["files"]}
    assert {status[p.name] for p in bad} == {"无法读取"}
    assert data["summary"]["n_agencies"] == 2


def test_python_api_returns_dataframe_without_writing(returns: Path, tmp_path: Path) -> None:
    import pandas as pd

    from xltool.pipeline.combine import combine

    res = combine([returns], year=YEAR)
    assert res.output is None
    assert isinstance(res.table, pd.DataFrame)
    assert list(res.table.columns) == list(V2021.cells)
    assert "甲局" in res.table.index and "己局" not in res.table.index  # invalid: excluded
    k = "sec3.new_received.total"
    assert res.table.loc["甲局", k] == _numbers(returns / "甲局.xlsx", V2021)[k]
    assert pd.isna(res.table.loc["庚局", "sec2.art20_1.regulations.issued"])  # "/" is not 0
    assert res.totals[k] == pytest.approx(res.table[k].sum())
