"""``xltool compare`` over the samples: every difference planted between a published and a
submitted version is found, and nothing else; agencies without a published report are listed;
a published report of another year matches no agency."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from xltool.cli import main
from xltool.pipeline.compare import compare
from xltool.read import read_file
from xltool.spec import V2021
from xltool.write.template import write_workbook

ROOT = Path(__file__).resolve().parents[1]
RETURNS = ROOT / "samples" / "returns"
ROSTER = ROOT / "samples" / "roster.csv"
SEED = ROOT / "samples" / "seed" / "环翠区科学技术局2020年度报告_原文.txt"
PLANTED_BOOK = RETURNS / "2025年_竹岛街道办事处_政府信息公开年报.xlsx"
SAME_HTML = RETURNS / "2025年_威海市环翠区人民政府办公室_政府信息公开年报.xlsx"
SAME_DOCX = RETURNS / "2025年_环翠楼街道办事处_政府信息公开年报.xlsx"

# +1 on both sides of the 表三 identity (the published version stays valid), +1 in 表四, +3 in 表二
PLANT = {
    "sec3.carried_over.natural": 1,
    "sec3.carry_forward.natural": 1,
    "sec4.review.upheld": 1,
    "sec2.art20_1.normative_docs.issued": 3,
}
# the planted cells and the totals they change
EXPECTED = {*PLANT, "sec3.carried_over.total", "sec3.carry_forward.total", "sec4.review.total"}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("published")
    rep = read_file(PLANTED_BOOK).report
    assert rep is not None
    values = {k: v.number for k, v in rep.values.items() if k in V2021.input_keys and v.state == "number"}
    for k, delta in PLANT.items():
        values[k] = (values.get(k) or 0) + delta
    narrative = dict(rep.narrative)
    narrative["sec1"] = narrative["sec1"] + "全年共收到政府信息公开申请999件。"
    changed = write_workbook(d / "changed.xlsx", V2021, 2025, agency=rep.meta.agency, values=values, narrative=narrative)
    out = {"planted": d / "竹岛.docx", "same_html": d / "页面.html", "same_docx": d / "下载.docx"}
    assert main(["render", str(changed), "--docx", str(out["planted"])]) == 0
    assert main(["render", str(SAME_HTML), "--html", str(out["same_html"])]) == 0
    assert main(["render", str(SAME_DOCX), "--docx", str(out["same_docx"])]) == 0
    return out


def test_compare_finds_the_planted_differences_and_nothing_else(published: dict[str, Path]) -> None:
    run = compare([RETURNS], [*published.values(), SEED], roster=ROSTER)
    assert run.year == 2025
    by = {a.agency: a for a in run.agencies}
    planted = by["竹岛街道办事处"]
    assert planted.published == str(published["planted"]) and planted.submitted == str(PLANTED_BOOK)
    assert not planted.matched and {d.key for d in planted.differences} == EXPECTED
    d = next(d for d in planted.differences if d.key == "sec2.art20_1.normative_docs.issued")
    before = read_file(PLANTED_BOOK).report.number(d.key)  # type: ignore[union-attr]
    assert (d.published, d.submitted, d.sheet, d.cell) == (before + 3, before, "表二 主动公开", "B6")
    assert [f.code for f in planted.narrative] == ["TEXT_RECEIVED"]
    for name in ("威海市环翠区人民政府办公室", "环翠楼街道办事处"):
        assert by[name].matched and by[name].differences == [] and by[name].narrative == []
    # every other roster agency: no published report
    others = {a.agency for a in run.agencies if a.published is None}
    assert others == set(by) - {"竹岛街道办事处", "威海市环翠区人民政府办公室", "环翠楼街道办事处"}
    assert all(a.matched is False for a in run.agencies if a.published is None)
    # the seed names 环翠区科学技术局 and 2020: it matches no 2025 report
    [u] = run.unmatched_published
    assert u.file == str(SEED) and u.year == 2020 and "2020" in u.reason


def test_compare_cli_outputs(published: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, js = tmp_path / "核查.xlsx", tmp_path / "核查.json"
    code = main(["compare", str(RETURNS), *map(str, published.values()), str(SEED), "--roster", str(ROSTER),
                 "--out", str(out), "--json", str(js)])
    text = capsys.readouterr().out
    assert code == 1 and "[不一致 7 处] 竹岛街道办事处" in text and "[一致] 环翠楼街道办事处" in text
    data = json.loads(js.read_text(encoding="utf-8"))
    a = next(a for a in data["agencies"] if a["agency"] == "竹岛街道办事处")
    assert set(a) == {"agency", "published", "submitted", "matched", "differences", "narrative"}
    assert set(a["differences"][0]) == {"key", "sheet", "cell", "row", "column", "published", "submitted"}
    assert {d["key"] for d in a["differences"]} == EXPECTED and a["narrative"][0]["code"] == "TEXT_RECEIVED"
    assert len(data["unmatched_published"]) == 1
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "年报发布核查"
    rows = {r[0]: r for r in wb["年报发布核查"].iter_rows(min_row=2, values_only=True)}
    assert rows["竹岛街道办事处"][1] == "有 7 处不一致" and rows["环翠楼街道办事处"][1] == "一致"
    assert wb["数字不一致"].max_row == 1 + len(EXPECTED)
