"""The committed samples: each planted mistake is caught by check with the right finding,
and the generator still makes the same numbers (samples are not stale)."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from xltool.pipeline import sampledata as GEN
from xltool.pipeline.check import check_paths
from xltool.spec import V2021
from xltool.workbook.layout import layout_for

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


NAMES = [name for name, _ in GEN.AGENCIES]


def agency(mistake: str) -> str:
    i = next(i for i, m in GEN.MISTAKES.items() if m == mistake)
    return NAMES[i - 1]


@pytest.fixture(scope="module")
def run():
    return check_paths([SAMPLES / "returns"], year=GEN.YEAR, roster=SAMPLES / "roster.csv",
                       previous=SAMPLES / "last-year", workers=1)


def _file(run, name: str, newest: bool = True):
    files = [f for f in run.files if f.agency == name]
    assert files, f"no file for {name}"
    files.sort(key=lambda f: "第一次" in f.path)
    return files[0] if newest else files[-1]


def _codes(f) -> dict[str, str]:
    return {x.code: x.severity.value for x in f.findings}


@pytest.mark.parametrize(
    ("mistake", "code", "severity", "status"),
    [
        ("balance", "T3_BALANCE", "error", "invalid"),
        ("typed_total", "TOTAL_OVERWRITTEN", "error", "invalid"),
        ("blank", "BLANK", "warning", "ok"),
        ("slash", "MISSING_MARKER", "warning", "ok"),
        ("fullwidth", "TEXT_NUMBER", "warning", "ok"),
        ("negative", "NEGATIVE", "error", "invalid"),
        ("duplicate", "DUPLICATE_AGENCY", "warning", "ok"),
        ("foreign", "NOT_TEMPLATE", "warning", "ok"),
        ("old_format", "FORMAT_MISMATCH", "error", "invalid"),
    ],
)
def test_each_planted_mistake_is_caught(run, mistake: str, code: str, severity: str, status: str) -> None:
    f = _file(run, agency(mistake))
    assert _codes(f).get(code) == severity, [x.message for x in f.findings]
    assert f.status == status


def test_mistake_findings_name_the_cell(run) -> None:
    lay = layout_for(V2021)
    f = _file(run, agency("typed_total"))
    over = next(x for x in f.findings if x.code == "TOTAL_OVERWRITTEN")
    assert (over.sheet, over.cell) == lay.address["sec3.total_processed.total"]
    f = _file(run, agency("slash"))
    marker = next(x for x in f.findings if x.code == "MISSING_MARKER")
    assert (marker.sheet, marker.cell) == lay.address["sec3.denied.third_party.natural"]
    assert "“/”" in marker.message


def test_broken_missing_and_clean_files(run) -> None:
    broken = [f for f in run.files if f.status == "unreadable"]
    assert len(broken) == 1 and agency("broken") in Path(broken[0].path).name
    assert run.roster_missing == [agency("missing")]
    assert list(run.roster_unreadable) == [agency("broken")]
    first = _file(run, agency("duplicate"), newest=False)
    assert "第一次" in first.path and first.status == "invalid"
    clean = [NAMES[i - 1] for i in range(1, len(NAMES) + 1) if i not in GEN.MISTAKES]
    for name in clean:
        f = _file(run, name)
        assert f.status == "ok" and not f.findings, (name, [x.message for x in f.findings])


def _inputs(path: Path) -> dict[str, object]:
    lay = layout_for(V2021)
    wb = CalamineWorkbook.from_path(str(path))
    grids = {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names}
    out = {}
    for key in V2021.input_keys:
        sheet, addr = lay.address[key]
        col = ord(addr[0]) - 65
        row = int(addr[1:]) - 1
        g = grids[sheet]
        out[key] = g[row][col] if row < len(g) and col < len(g[row]) else ""
    return out


def test_samples_are_not_stale(tmp_path: Path) -> None:
    """Regenerating gives the same numbers (files differ only in creation times)."""
    GEN.main(tmp_path)
    committed = sorted(p.name for p in (SAMPLES / "returns").iterdir())
    fresh = sorted(p.name for p in (tmp_path / "returns").iterdir())
    assert committed == fresh, "samples are stale: run `python samples/generate.py`"
    for name in committed:
        if name.startswith(f"{GEN.YEAR}年_") and agency("broken") not in name and agency("old_format") not in name:
            assert _inputs(SAMPLES / "returns" / name) == _inputs(tmp_path / "returns" / name), name
    assert (SAMPLES / "roster.csv").read_bytes() == (tmp_path / "roster.csv").read_bytes()


def test_seed_report_as_2019_workbook() -> None:
    """samples/seed holds the published 2020 report of 环翠区科学技术局 (format 2019), read here
    at the layout's addresses by python-calamine, independently of xltool's reader."""
    from xltool.spec import V2019
    from xltool.workbook.layout import parse_a1

    files = list((SAMPLES / "seed").glob("*.xlsx"))
    assert len(files) == 1 and "环翠区科学技术局" in files[0].name and files[0].name.startswith("2020年")
    lay = layout_for(V2019)
    wb = CalamineWorkbook.from_path(str(files[0]))
    grids = {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names}
    nonzero = {}
    for key in V2019.cells:
        sheet, addr = lay.address[key]
        r, c = parse_a1(addr)
        v = grids[sheet][r][c]
        assert v != "", key  # every cell of the published report was filled
        if v:
            nonzero[key] = v
    assert nonzero == {"sec2.art20_1.normative_docs.new_published": 1, "sec2.art20_1.normative_docs.total_published": 3}
    run = check_paths(files, year=2020, workers=1)
    assert run.files[0].status == "ok" and run.files[0].format == "2019"


def test_combine_accounts_for_every_roster_agency(tmp_path: Path) -> None:
    """报送情况 says what became of each roster agency: an old-format or broken file is not 未报送."""
    from xltool.pipeline.combine import combine

    res = combine([SAMPLES / "returns"], year=GEN.YEAR, roster=SAMPLES / "roster.csv",
                  out=tmp_path / "s.xlsx", workers=1)
    status = {r.name: r.status for r in res.roster_rows[: len(NAMES)]}
    assert status[agency("old_format")] == "格式不符"
    assert status[agency("broken")] == "无法读取"
    assert status[agency("missing")] == "未报送"
    assert status[agency("balance")] == "已报送·有错误"
    assert status[agency("duplicate")] == "已报送·通过"
    assert res.missing == [agency("missing")]
    # every file appears exactly once in 报送情况
    paths = [str(r.outcome.sub.path) for r in res.roster_rows if r.outcome is not None]
    assert len(paths) == len(set(paths))
    assert sorted(paths) == sorted(str(p) for p in (SAMPLES / "returns").iterdir())
    assert res.exit_code == 1
