"""Narrative rules (文字部分 against the tables) and year-over-year heuristics: they fire on
planted contradictions and stay silent on the consistent samples and on the seed report."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from xltool.cli import main
from xltool.core.findings import REGISTRY
from xltool.core.model import PreviousData
from xltool.pipeline.check import check_paths
from xltool.pipeline.importing import write_result
from xltool.pipeline.published import narrative_findings
from xltool.read.importer import import_file
from xltool.read.importer.core import import_document
from xltool.read.importer.document import from_text
from xltool.rules.narrative import check_headings, check_narrative
from xltool.rules.yoy import check_yoy
from xltool.spec import V2019, V2021

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "samples" / "seed" / "环翠区科学技术局2020年度报告_原文.txt"
RETURNS = ROOT / "samples" / "returns"

NUMS = {
    "sec3.new_received.total": 59, "sec3.carried_over.total": 2, "sec3.total_processed.total": 57,
    "sec3.carry_forward.total": 4, "sec4.review.total": 1, "sec4.suit_direct.total": 3,
    "sec4.suit_after_review.total": 1, "sec2.art20_1.normative_docs.issued": 5,
    "sec2.art20_8.admin_fees.amount_wan_yuan": 3.5,
}
FIVE = "存在的主要问题：解读质量仍需提升。改进措施：加强培训。"


def codes(sec1: str, *, sec5: str = FIVE, sec6: str = "本年度未收取信息处理费。", title: str | None = None,
          nums: dict | None = None) -> list[str]:
    found = check_narrative(V2021, 2025, {"sec1": sec1, "sec5": sec5, "sec6": sec6}, nums or NUMS, title=title)
    return [f.code for f in found]


def text_codes(findings) -> list[str]:
    return [f.code for f in findings if f.code.startswith(("TEXT_", "YOY_")) and f.code != "TEXT_NUMBER"]


def test_codes_are_declared_warnings() -> None:
    for code in ("TEXT_RECEIVED", "TEXT_CARRIED_OVER", "TEXT_PROCESSED", "TEXT_CARRY_FORWARD", "TEXT_REVIEW",
                 "TEXT_SUIT", "TEXT_PROACTIVE", "TEXT_PERCENT", "TEXT_SEC5_EMPTY", "TEXT_FEES",
                 "TEXT_SECTION_MISSING", "TEXT_SECTION_NUMBER", "TEXT_YEAR", "YOY_JUMP", "YOY_DROP", "YOY_ZERO"):
        assert REGISTRY[code].severity.value == "warning"


def test_consistent_text_is_silent() -> None:
    text = ("2025年，全年共收到政府信息公开申请59件，上年结转2件，共办结57件，其中按时办结55件，结转下年度继续办理4件。"
            "本年度新收和上年结转申请共61件。其中予以公开30件，占50.8%；部分公开10件，占16.9%；不予公开19件，占32.2%。"
            "全年被申请行政复议1件，提起行政诉讼4件。本年制发行政规范性文件5件。办理人大代表建议12件，办结12件。"
            "受理群众投诉举报15件。2026年，我局将继续做好工作。")
    assert codes(text, title="某局2025年政府信息公开工作年度报告") == []


@pytest.mark.parametrize(("sentence", "expected"), [
    ("全年共收到政府信息公开申请60件。", ["TEXT_RECEIVED"]),
    ("本年度新收和上年结转申请共59件。", ["TEXT_RECEIVED"]),
    ("本年度共收到申请59件（含上年结转2件）。", ["TEXT_RECEIVED"]),
    ("上年结转3件，已办结56件，结转下年度3件。", ["TEXT_CARRIED_OVER", "TEXT_PROCESSED", "TEXT_CARRY_FORWARD"]),
    ("全年被申请行政复议2件，行政诉讼3起。", ["TEXT_REVIEW", "TEXT_SUIT"]),
    ("未收到行政复议申请。", ["TEXT_REVIEW"]),
    ("本年制发行政规范性文件6件。", ["TEXT_PROACTIVE"]),
    ("其中予以公开30件，占60%；部分公开10件，占30%；不予公开19件，占32%。", ["TEXT_PERCENT"]),
    ("其中予以公开30件，占40%。", ["TEXT_PERCENT"]),
    ("2024年，我局共收到政府信息公开申请59件。", ["TEXT_YEAR"]),
    # every match, not only the first
    ("收到申请58件，上年结转1件；另查明收到政府信息公开申请57件。", ["TEXT_RECEIVED", "TEXT_CARRIED_OVER", "TEXT_RECEIVED"]),
])
def test_planted_contradictions_fire(sentence: str, expected: list[str]) -> None:
    assert codes(sentence) == expected


def test_finding_quotes_the_sentence_and_names_the_cell() -> None:
    [f] = check_narrative(V2021, 2025, {"sec1": "2025年，全年共收到政府信息公开申请60件。", "sec5": FIVE}, NUMS)
    assert (f.sheet, f.cell, f.table, f.expected, f.actual) == ("表三 依申请公开", "J6", "表三", 59, 60)
    assert "全年共收到政府信息公开申请60件" in f.message and "表三!J6" in f.message
    [f] = check_narrative(V2021, 2025, {"sec1": "行政诉讼3件。", "sec5": FIVE}, NUMS)
    assert f.code == "TEXT_SUIT" and f.expected == 4 and "未经复议直接起诉与复议后起诉之和" in f.message


def test_sec5_and_sec6() -> None:
    assert codes("x", sec5="无") == ["TEXT_SEC5_EMPTY"]
    assert codes("x", sec5="") == ["TEXT_SEC5_EMPTY"]
    assert codes("x", sec5="〔请在此填写“五、存在的主要问题及改进情况”部分的内容。〕") == ["TEXT_SEC5_EMPTY"]
    assert codes("x", sec6="本年度未收取任何费用。") == ["TEXT_FEES"]
    # 信息处理费 is not the 表二 fee; no fee in 表二 → nothing to contradict
    assert codes("x", sec6="本年度未收取信息处理费。") == []
    assert codes("x", sec6="本年度未收取任何费用。", nums={**NUMS, "sec2.art20_8.admin_fees.amount_wan_yuan": 0}) == []
    # a self-made workbook without 文字部分: nothing is said about it
    assert check_narrative(V2021, 2025, {}, NUMS) == []


def test_title_year() -> None:
    assert codes("x", title="某局2024年政府信息公开工作年度报告") == ["TEXT_YEAR"]


def test_headings() -> None:
    heads = [s.heading for s in V2021.sections]
    assert check_headings(V2021, ["某局报告", *heads]) == []
    renumbered = [*heads[:4], heads[4].replace("五、", "四、"), heads[5]]
    assert [f.code for f in check_headings(V2021, renumbered)] == ["TEXT_SECTION_NUMBER"]
    assert [f.code for f in check_headings(V2021, [h for h in heads if not h.startswith("四、")])] == ["TEXT_SECTION_MISSING"]


def test_seed_is_silent() -> None:
    res = import_file(SEED)
    assert res.ok and narrative_findings(res) == []


def test_planted_seed_variant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The seed with a contradicting narrative: import reports it, and so does check on the workbook."""
    text = SEED.read_text(encoding="utf-8")
    text = text.replace("威海市环翠区科学技术2020年度", "威海市环翠区科学技术2019年度")
    text = text.replace("开展线问政互动交流1次。", "开展线问政互动交流1次。全年共收到政府信息公开申请5件，全部办结。")
    text = text.replace("　　 五、存在的主要问题及改进情况", "　　 四、存在的主要问题及改进情况")
    src = tmp_path / "variant.txt"
    src.write_text(text, encoding="utf-8")
    res = import_document(from_text(text), str(src), year=2020)
    assert sorted(f.code for f in narrative_findings(res)) == ["TEXT_RECEIVED", "TEXT_SECTION_NUMBER", "TEXT_YEAR"]
    assert main(["import", str(src), "--year", "2020", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "TEXT_" not in out and "全年共收到政府信息公开申请5件" in out
    book = write_result(res, tmp_path)
    run = check_paths([book])
    found = [f for f in run.files[0].findings if f.code == "TEXT_RECEIVED"]
    assert [(f.cell, f.expected, f.actual) for f in found] == [("J6", 0, 5)]
    assert res.fmt is V2019


def test_samples_are_silent() -> None:
    run = check_paths(sorted(glob.glob(str(RETURNS / "*.xlsx"))), year=2025)
    assert [(Path(f.path).name, text_codes(f.findings)) for f in run.files if text_codes(f.findings)] == []


def test_year_over_year() -> None:
    prev = PreviousData(2024, "2021", {"甲局": {"sec3.new_received.total": 40, "sec3.total_processed.total": 50,
                                                "sec4.review.total": 3}})
    assert [f.code for f in check_yoy(V2021, 2025, "甲局", {"sec3.new_received.total": 201}, prev)] == ["YOY_JUMP"]
    assert [f.code for f in check_yoy(V2021, 2025, "甲局", {"sec3.total_processed.total": 9}, prev)] == ["YOY_DROP"]
    assert [f.code for f in check_yoy(V2021, 2025, "甲局", {"sec3.total_processed.total": 0}, prev)] == ["YOY_ZERO"]
    # small numbers move by chance; another year's data is not last year's
    assert check_yoy(V2021, 2025, "甲局", {"sec4.review.total": 0}, prev) == []
    assert check_yoy(V2021, 2026, "甲局", {"sec3.new_received.total": 201}, prev) == []


def test_year_over_year_in_check() -> None:
    book = RETURNS / "2025年_威海市环翠区人民政府办公室_政府信息公开年报.xlsx"  # 本年新收 59
    prev = PreviousData(2024, "2021", {"威海市环翠区人民政府办公室": {"sec3.new_received.total": 5}})
    [f] = [f for f in check_paths([book], previous=prev).files[0].findings if f.code.startswith("YOY_")]
    assert (f.code, f.cell, f.expected, f.actual) == ("YOY_JUMP", "J6", 5, 59)
    assert check_paths([book], previous=prev, year=2025).files[0].status == "ok"
