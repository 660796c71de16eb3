"""``xltool import``: the seed test vector, the text-dump quirks, and imported files as --previous.

The seed (/work/shared/seeds/000_6a92d385738fdefa.txt) is a real published 2020 report dumped
as text: one cell per line after a tab, labels wrapped over lines (``本年新``⏎``制作数量``,
``（三）不予``⏎⏎``公开``), values such as ``0\u2002`` and ``\u20020``, full-width spaces
before headings, and a title that lacks the agency's last character (科学技术 without 局).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest

from xltool.cli import main
from xltool.pipeline.importing import write_result
from xltool.pipeline.synth import synth_values
from xltool.read import read_file
from xltool.read.importer import import_file, split_totals
from xltool.read.importer.core import find_agency, find_year
from xltool.read.importer.document import from_text
from xltool.rules.validate import evaluate
from xltool.spec import V2019, V2021
from xltool.workbook.layout import layout_for
from xltool.write.template import write_workbook

# the published report, committed with the samples (a copy of shared/seeds/000_6a92d385738fdefa.txt)
SEED = Path(__file__).resolve().parents[1] / "samples" / "seed" / "环翠区科学技术局2020年度报告_原文.txt"


ART20_1 = "sec2.art20_1.normative_docs"


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()



def test_seed_vector() -> None:
    res = import_file(SEED)
    assert res.ok and res.kind == "text"
    assert res.agency.value == "环翠区科学技术局"
    assert "请与环翠区科学技术局联系" in res.agency.how and "不完整" in res.agency.how
    assert res.year.value == 2020 and "统计时限" in res.year.how
    assert res.format.value == "2019" and "标签" in res.format.how
    # every one of the 198 V2019 cells is placed; two are non-zero
    assert set(res.values) == set(V2019.cells)
    nonzero = {k: v.number for k, v in res.values.items() if v.number != 0}
    assert nonzero == {f"{ART20_1}.new_published": 1, f"{ART20_1}.total_published": 3}
    assert all(v.state == "number" for v in res.values.values())
    assert res.issues == [] and res.extras == {}
    # narrative sections 一、五、六 (headings with leading full-width spaces)
    assert res.narrative["sec1"].startswith("2020年，我局在区委区政府的领导下")
    assert res.narrative["sec1"].endswith("也无其他责任追究的情形。")
    assert res.narrative["sec1"].count("\n") == 2  # three paragraphs
    assert res.narrative["sec5"].startswith("2020年在政府信息公开工作方面主要存在以下问题")
    assert res.narrative["sec6"].startswith("由于我单位在工作中形成的大多数信息属于对社会保密的信息")
    assert "统计时限" in res.preamble and res.phone == "0631—5223481"
    # where each value came from (line of the seed)
    assert res.where[f"{ART20_1}.total_published"] == "第 30 行"



def test_seed_quirks_in_the_text_dump() -> None:
    rows = from_text(SEED.read_text(encoding="utf-8")).rows
    wrapped = [c for r in rows for c in r.cells if "\n" in c]
    assert {c.replace("\n", "") for c in wrapped} >= {"本年新制作数量", "（三）不予公开", "（四）无法提供", "（五）不予处理"}
    sec4 = next(r for r in rows if len(r.cells) == 15 and r.cells[0] == "\u20020")
    assert sec4.cells[-1] == "0"



def test_seed_cli_workbook_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "网页复制.txt"
    shutil.copy(SEED, src)
    before = sha(src)
    js = tmp_path / "r.json"
    code = main(["import", str(src), "--out", str(tmp_path / "out"), "--json", str(js)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert sha(src) == before  # input untouched
    assert "环翠区科学技术局" in out and "198/198" in out and "取自联系方式" in out
    book = tmp_path / "out" / "2020年_环翠区科学技术局_政府信息公开年报.xlsx"
    assert book.exists()
    # the workbook is one of our templates, read and validated like a returned file
    rr = read_file(book)
    assert rr.status == "ok" and rr.is_template
    m = rr.report.meta
    assert (m.agency, m.year, m.format) == ("环翠区科学技术局", 2020, "2019")
    ev = evaluate(rr)
    assert [f.code for f in ev.findings if f.severity == "error"] == []
    assert ev.numbers[f"{ART20_1}.total_published"] == 3 and ev.numbers[f"{ART20_1}.new_published"] == 1
    assert sum(n or 0 for n in ev.numbers.values()) == 4
    assert rr.report.narrative["sec6"].startswith("由于我单位")
    data = json.loads(js.read_text(encoding="utf-8"))["imports"][0]
    assert data["agency"] == "环翠区科学技术局" and data["year"] == 2020 and data["format"] == "2019"
    assert data["output"] == str(book) and data["missing"] == []
    assert data["values"][f"{ART20_1}.new_published"]["number"] == 1
    # a second run refuses to replace the workbook without --force
    code = main(["import", str(src), "--out", str(tmp_path / "out")])
    assert code == 1 and "--force" in capsys.readouterr().out



def test_imported_seed_as_previous_for_check_and_combine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Last year's published report, imported, drives the carry-over check (上年结转 = 上年结转下年度)."""
    last = write_result(import_file(SEED), tmp_path / "2020")
    now = tmp_path / "2021"
    vals = synth_values(V2021, random.Random(5), size=4, carried_over={"natural": 2})
    write_workbook(now / "科技局.xlsx", V2021, 2021, agency="环翠区科学技术局", values=vals)
    js = tmp_path / "check.json"
    code = main(["check", str(now), "--year", "2021", "--previous", str(last), "--json", str(js)])
    capsys.readouterr()
    rec = json.loads(js.read_text(encoding="utf-8"))["files"][0]
    carry = [i for i in rec["issues"] if i["code"] == "CARRY_OVER"]
    assert {i["column"] for i in carry} == {"自然人", "总计"}  # last year's 结转 was 0 everywhere
    assert all(i["expected"] == 0 for i in carry) and code == 0
    # combine accepts the same file as --previous
    js2 = tmp_path / "combine.json"
    code = main(["combine", str(now), "--out", str(tmp_path / "汇总.xlsx"), "--year", "2021",
                 "--previous", str(last), "--json", str(js2)])
    capsys.readouterr()
    text = js2.read_text(encoding="utf-8")
    assert (tmp_path / "汇总.xlsx").exists() and "CARRY_OVER" in text


def test_agency_and_year_rules() -> None:
    def doc(*lines: str):  # a text document of paragraphs
        return from_text("\n\n".join(lines))

    d = doc("威海市环翠区科学技术局2025年政府信息公开工作年度报告", "如有疑问，请与区政府办公室联系。")
    found, issues = find_agency(d, d.paras[0].text, 0)
    assert found.value == "威海市环翠区科学技术局" and "标题" in found.how and issues == []
    d = doc("2019年上海市人民政府办公厅政府信息公开工作年度报告")
    assert find_agency(d, d.paras[0].text, 0)[0].value == "上海市人民政府办公厅"
    # a truncated title and a contact naming a sub-office: the agency part is kept, the office dropped
    d = doc("某某市某某区科学技术2020年度政府信息公开工作年度报告", "请与某某区科学技术局办公室联系（电话：1234567）。")
    assert find_agency(d, d.paras[0].text, 0)[0].value == "某某区科学技术局"
    # a truncated title that the contact does not confirm: kept, with a warning
    d = doc("某某区科学技术2020年度政府信息公开工作年度报告", "请与区政府办公室联系。")
    found, issues = find_agency(d, d.paras[0].text, 0)
    assert found.value == "某某区科学技术" and [i.code for i in issues] == ["AGENCY_UNSURE"]
    # year: title against the statistics period
    d = doc("某局2021年政府信息公开工作年度报告", "本报告统计期限自2020年1月1日至2020年12月31日。")
    found, issues = find_year(d, d.paras[0].text)
    assert found.value == 2021 and [i.code for i in issues] == ["YEAR_CONFLICT"]
    d = doc("某局政府信息公开工作年度报告", "本报告中所列数据的统计时限自2022年1月1日起至2022年12月31日止。")
    assert find_year(d, d.paras[0].text)[0].value == 2022


def _dump(fmt_rows: list[list[str]], title: str = "某某区某某局2022年政府信息公开工作年度报告") -> str:
    """A tab-separated text dump (one row per line, as copied from a spreadsheet)."""
    return "\n".join([title, "", *("\t".join(r) for r in fmt_rows)]) + "\n"


def test_unplaceable_rows_are_reported_not_guessed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t3 = V2021.table("sec3")
    rows = [["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"],
            ["", "自然人", "法人或其他组织", "总计"],
            ["", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""]]
    for r in t3.rows:
        n = 6 if r.key == "granted" else 7  # one value lost in the copy
        rows.append([*r.groups[-1:], r.label, *["1"] * n])
    path = tmp_path / "r.txt"
    path.write_text(_dump(rows), encoding="utf-8")
    res = import_file(path)
    assert res.format.value == "2021"
    assert not any(k.startswith("sec3.granted.") for k in res.values)  # no guessed column
    assert any(k.startswith("sec3.partial.") for k in res.values)
    cells = [i for i in res.issues if i.code == "ROW_CELLS"]
    assert len(cells) == 1 and "（一）予以公开" in cells[0].message and "6 个" in cells[0].message
    assert {i.code for i in res.issues} >= {"TABLE_NOT_FOUND"}  # 表二、表四 are absent
    assert "ROW_NOT_FOUND" not in {i.code for i in res.issues}  # the short row is reported once
    code = main(["import", str(path), "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert code == 1 and "[部分导入]" in out and "（一）予以公开" in out
    # the workbook keeps the missing row blank, not 0, and the missing tables blank
    book = next((tmp_path / "o").glob("*.xlsx"))
    rr = read_file(book)
    assert rr.report.value("sec3.granted.natural").state == "blank"
    assert rr.report.value("sec2.art20_5.licensing.decisions").state == "blank"
    assert rr.report.value("sec3.partial.natural").number == 1


def test_totals_keep_what_was_published(tmp_path: Path) -> None:
    """A total equal to its parts stays a formula; a blank, "/" or different total is kept as published."""
    t4 = V2021.table("sec4")
    head = [["行政复议", "行政诉讼"],
            ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "未经复议直接起诉", "复议后起诉"],
            ["", "", "", "", "", *[c.label for c in t4.columns] * 2]]
    data = ["1", "1", "0", "0", "2", "0", "0", "0", "1", "", "0", "0", "0", "0", "5"]
    path = tmp_path / "t.txt"
    path.write_text(_dump([*head, data]), encoding="utf-8")
    res = import_file(path)
    inputs, overrides, notes = split_totals(res)
    assert res.values["sec4.review.total"].number == 2 and "sec4.review.total" not in overrides
    assert overrides["sec4.suit_direct.total"] is None and "空白" in notes["sec4.suit_direct.total"]
    assert overrides["sec4.suit_after_review.total"] == 5 and "不符" in notes["sec4.suit_after_review.total"]
    assert inputs["sec4.suit_direct.pending"].number == 1
    # totals of tables not found at all stay blank (no SUM over nothing shown as 0)
    assert overrides["sec3.new_received.total"] is None and "sec3.new_received.total" not in notes


def test_no_tables_and_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "news.txt"
    p.write_text("某某局召开会议\n\n会议强调要做好政务公开工作。\n", encoding="utf-8")
    res = import_file(p)
    assert not res.ok and "没有找到年报表格" in (res.error or "")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7\n...")
    code = main(["import", str(p), str(pdf), "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert code == 1 and out.count("[无法导入]") == 2 and "PDF" in out
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("x", encoding="utf-8")
    b.write_text("x", encoding="utf-8")
    assert main(["import", str(a), str(b), "--agency", "某局"]) == 2
    assert "只能用于导入一个文件" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "none.txt")]) == 2
    assert "找不到文件" in capsys.readouterr().err
    assert main(["import", str(a), "--year", "1999"]) == 2
    capsys.readouterr()



def test_overrides_win_and_are_said(tmp_path: Path) -> None:
    res = import_file(SEED, agency="威海市环翠区科学技术局", year=2020)
    assert res.agency.value == "威海市环翠区科学技术局" and res.agency.how == "按 --agency 指定"
    assert res.year.how == "按 --year 指定"
    book = write_result(res, tmp_path)
    assert book.name == "2020年_威海市环翠区科学技术局_政府信息公开年报.xlsx"
    # the 基本信息 cells say how they were found (prefill comments)
    import openpyxl

    wb = openpyxl.load_workbook(book)
    sheet, addr = layout_for(V2019).info_address["agency"]
    assert "按 --agency 指定" in wb[sheet][addr].comment.text


def test_text_dump_rules(tmp_path: Path) -> None:
    """Tab-led cells, wrapped labels, whole-row lines, and tab-indented prose that is not a cell."""
    text = ("某局2021年政府信息公开工作年度报告\n\n一、总体情况\n"
            "\t　　2021年，我局严格按照国家、省、市、区政府的统一部署，不断加强组织领导，健全工作机制，认真贯彻条例的各项要求。\n\n"
            "\t信息内容\n\t本年新\n制作数量\n\n\t规章\n\t0 \n\n规章\t1\t2\t3\n")
    doc = from_text(text)
    kinds = [(type(b).__name__, getattr(b, "cells", None) or b.text[:6]) for b in doc.blocks]
    assert kinds == [("Para", "某局2021"), ("Para", "一、总体情况"), ("Para", "2021年，"),
                     ("Row", ("信息内容", "本年新\n制作数量")), ("Row", ("规章", "0 ")), ("Row", ("规章", "1", "2", "3"))]
    # an Excel workbook is not imported, it is used directly
    book = write_workbook(tmp_path / "x.xlsx", V2021, 2025, agency="某局")
    res = import_file(book)
    assert not res.ok and "不需要导入" in (res.error or "")
