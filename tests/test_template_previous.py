"""`xltool template --previous`: 上年结转 prefilled from last year's 结转下年度继续办理."""

from __future__ import annotations

import importlib
import random
import sys
from pathlib import Path

import openpyxl
import pytest

from xltool.cli import main
from xltool.pipeline.combine import combine
from xltool.pipeline.synth import synth_values
from xltool.spec import V2021
from xltool.workbook.layout import layout_for
from xltool.write.template import write_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
HOSTILE = importlib.import_module("hostile")

COLS = [c.key for c in V2021.table("sec3").columns if c.key != "total"]


@pytest.fixture(scope="module")
def last_year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, dict]]:
    root = tmp_path_factory.mktemp("prev")
    rng = random.Random(7)
    written: dict[str, dict] = {}
    for name in ("甲局", "乙街道办事处"):
        vals = synth_values(V2021, rng, size=4)
        # make carry-forward non-trivial and distinct per column
        for i, col in enumerate(COLS):
            vals[f"sec3.carry_forward.{col}"] += i + 1
            vals[f"sec3.new_received.{col}"] += i + 1
        written[name] = vals
        write_workbook(root / "in" / f"{name}.xlsx", V2021, 2024, agency=name, values=vals)
    summary = root / "summary2024.xlsx"
    res = combine([root / "in"], out=summary, year=2024)
    assert summary.exists(), res
    return summary, root / "in", written


def _row(path: Path, key_row: str) -> tuple[list, list]:
    lay = layout_for(V2021)
    wb = openpyxl.load_workbook(path)
    vals, comments = [], []
    for col in COLS:
        sheet, addr = lay.address[f"sec3.{key_row}.{col}"]
        cell = wb[sheet][addr]
        vals.append(cell.value)
        comments.append(cell.comment.text if cell.comment else None)
    return vals, comments


@pytest.mark.parametrize("source", ["summary", "agency_files"])
def test_prefills_carry_over_with_comment(last_year, tmp_path: Path, source: str) -> None:
    summary, files, written = last_year
    prev = summary if source == "summary" else files
    rc = main(["template", "--year", "2025", "--agency", "甲局", "--agency", "新设局",
               "--previous", str(prev), "--out", str(tmp_path)])
    assert rc == 0
    vals, comments = _row(tmp_path / "2025年_甲局_政府信息公开年报.xlsx", "carried_over")
    assert vals == [written["甲局"][f"sec3.carry_forward.{c}"] for c in COLS]
    assert all(c and "结转下年度继续办理" in c for c in comments)
    # an agency absent from last year's data: blank row, one explaining comment
    vals, comments = _row(tmp_path / "2025年_新设局_政府信息公开年报.xlsx", "carried_over")
    assert vals == [None] * len(COLS)
    assert comments[0] and "没有本单位" in comments[0]


def test_previous_of_wrong_year_is_refused(last_year, tmp_path: Path, capsys) -> None:
    summary, _files, _w = last_year
    rc = main(["template", "--year", "2026", "--agency", "甲局", "--previous", str(summary), "--out", str(tmp_path)])
    assert rc == 2
    assert "2024 年度" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_hostile_previous_file_is_refused_not_crashing(tmp_path: Path, capsys) -> None:
    """A --previous file that would make python-calamine abort is stopped by the guard first."""
    bad = HOSTILE.sparse_corner(tmp_path)
    rc = main(["template", "--year", "2025", "--agency", "甲局", "--previous", str(bad), "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "无法安全读取" in capsys.readouterr().err
