"""``xltool render``: publishable HTML and DOCX from an agency workbook and from the district summary.

Round trips: what is rendered is imported back with ``xltool import`` (HTML through the stdlib
parser, DOCX through python-docx) and must give the same numbers as the workbook, as
recomputed by validation (agency) or as read from the summary's 汇总 sheets with
python-calamine (summary). The table structure is checked against the layout's merged
ranges, the DOCX fonts and merges in its XML.
"""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from xltool.cli import main
from xltool.pipeline.combine import combine
from xltool.pipeline.synth import synth_values
from xltool.read import read_file
from xltool.read.importer import import_file
from xltool.rules.validate import evaluate
from xltool.spec import V2019, V2021, Format
from xltool.workbook.layout import layout_for, parse_a1
from xltool.workbook.summary_layout import SUMMARY_TABLE_SHEETS
from xltool.write.template import write_workbook

YEAR = 2025
AGENCY = "威海市环翠区科学技术局"
NARRATIVE = {
    "sec1": "2025年，我局认真贯彻落实《中华人民共和国政府信息公开条例》。\n（一）主动公开。全年主动公开政府信息120条。",
    "sec5": "一是公开内容还不够丰富。\n二是解读形式较为单一。",
    "sec6": "本年度未收取信息处理费。",
}


def agency_book(folder: Path, fmt: Format = V2021, year: int = YEAR, seed: int = 1, **kw: object) -> Path:
    vals = dict(synth_values(fmt, random.Random(seed), size=6))
    vals.update(kw.pop("edit", {}) or {})  # type: ignore[arg-type]
    return write_workbook(folder / f"{seed}.xlsx", fmt, year, agency=kw.pop("agency", AGENCY), values=vals,
                          narrative=kw.pop("narrative", NARRATIVE))


def numbers_of(book: Path) -> dict[str, int | float | None]:
    return evaluate(read_file(book)).numbers


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("render")
    book = agency_book(d)
    assert main(["render", str(book), "--html", str(d / "a.html"), "--docx", str(d / "a.docx")]) == 0
    return {"book": book, "html": d / "a.html", "docx": d / "a.docx", "dir": d}


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("summary")
    for i, name in enumerate(("甲局", "乙局", "丙街道办事处")):
        agency_book(d / "in", seed=10 + i, agency=name, narrative={})
    out = d / "汇总.xlsx"
    combine([d / "in"], out=out, year=YEAR)
    code = main(["render", str(out), "--agency", "威海市环翠区人民政府", "--html", str(d / "s.html"), "--docx", str(d / "s.docx")])
    assert code == 0
    return {"summary": out, "html": d / "s.html", "docx": d / "s.docx", "dir": d}


def summary_totals(path: Path, fmt: Format = V2021) -> dict[str, float]:
    """The district totals as the summary shows them (calamine at the layout's addresses)."""
    lay = layout_for(fmt)
    wb = CalamineWorkbook.from_path(str(path))
    out: dict[str, float] = {}
    for key, (_sheet, addr) in lay.address.items():
        grid = wb.get_sheet_by_name(SUMMARY_TABLE_SHEETS[fmt.cells[key].table.section]).to_python(skip_empty_area=False)
        r, c = parse_a1(addr)
        out[key] = grid[r][c]
    return out


# --- agency workbook ---------------------------------------------------------------------


def test_html_round_trip(rendered: dict[str, Path]) -> None:
    want = numbers_of(rendered["book"])
    res = import_file(rendered["html"])
    assert res.ok and res.issues == []
    assert (res.agency.value, res.year.value, res.format.value) == (AGENCY, YEAR, "2021")
    got = {k: v.number for k, v in res.values.items()}
    assert got == want and len(got) == len(V2021.cells)
    assert sum(n or 0 for n in got.values()) > 50  # not a blank report
    assert res.narrative == NARRATIVE


def test_docx_round_trip(rendered: dict[str, Path]) -> None:
    want = numbers_of(rendered["book"])
    res = import_file(rendered["docx"])
    assert res.ok and res.kind == "docx" and res.issues == []
    assert {k: v.number for k, v in res.values.items()} == want
    assert res.narrative == NARRATIVE


class _Cells(HTMLParser):
    """Every th/td with its attributes and text, per table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[tuple[str, dict[str, str], str]]] = []
        self.cur: tuple[str, dict[str, str], list[str]] | None = None
        self.css = ""
        self.in_style = False
        self.h: list[str] = []
        self.in_h = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag in ("td", "th"):
            self.cur = (tag, {k: v or "" for k, v in attrs}, [])
        elif tag == "style":
            self.in_style = True
        elif tag in ("h1", "h2"):
            self.in_h = True
            self.h.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cur is not None:
            self.tables[-1].append((self.cur[0], self.cur[1], "".join(self.cur[2])))
            self.cur = None
        elif tag == "style":
            self.in_style = False
        elif tag in ("h1", "h2"):
            self.in_h = False

    def handle_data(self, data: str) -> None:
        if self.cur is not None:
            self.cur[2].append(data)
        if self.in_style:
            self.css += data
        if self.in_h:
            self.h[-1] += data


def test_html_structure_follows_the_layout(rendered: dict[str, Path]) -> None:
    p = _Cells()
    p.feed(rendered["html"].read_text(encoding="utf-8"))
    assert p.h == [f"{AGENCY}{YEAR}年政府信息公开工作年度报告", *(s.heading for s in V2021.sections)]
    assert len(p.tables) == 3
    lay = layout_for(V2021)
    for sec, cells in zip(("sec2", "sec3", "sec4"), p.tables, strict=True):
        spans = {(c[2], int(c[1].get("rowspan", 1)), int(c[1].get("colspan", 1))) for c in cells if not c[1].get("data-key")}
        for lab in lay.sheets[sec].labels:
            if lab.kind == "heading" or lab.text.startswith(("校验状态", "勾稽关系校验")):
                continue
            rs = (lab.last_row if lab.last_row is not None else lab.row) - lab.row + 1
            cs = (lab.last_col if lab.last_col is not None else lab.col) - lab.col + 1
            assert (lab.text, rs, cs) in spans, (sec, lab)
        keys = [c[1]["data-key"] for c in cells if c[1].get("data-key")]
        assert keys == [v.key for v in sorted(lay.sheets[sec].values, key=lambda v: (v.row, v.col))]
        assert all("num" in c[1]["class"].split() for c in cells if c[1].get("data-key"))
    # our own rows (校验状态, 勾稽关系校验) are not published
    assert not any(c[2].startswith(("校验状态", "勾稽关系校验")) for t in p.tables for c in t)
    assert "size: A4" in p.css and re.search(r"td\.num\s*\{[^}]*text-align:\s*right", p.css)
    assert "thead { display: table-header-group" in p.css
    assert "<script" not in rendered["html"].read_text(encoding="utf-8")


def test_docx_tables_fonts_and_merges(rendered: dict[str, Path]) -> None:
    import docx
    from docx.oxml.ns import qn

    d = docx.Document(str(rendered["docx"]))
    rfonts = d.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == "仿宋"
    assert len(d.tables) == 3
    t3 = d.tables[1]
    east = {r.get(qn("w:eastAsia")) for r in t3._tbl.iter(qn("w:rFonts"))}
    assert east == {"宋体"}
    # merged header: 申请人情况 spans the 7 value columns; the 勾稽 note spans 3 columns x 3 rows
    spans = {}
    for tc in t3._tbl.iter(qn("w:tc")):
        text = "".join(x.text or "" for x in tc.iter(qn("w:t")))
        span = tc.find(f"{qn('w:tcPr')}/{qn('w:gridSpan')}")
        spans[text] = int(span.get(qn("w:val"))) if span is not None else 1
    assert spans["申请人情况"] == 7 and spans["法人或其他组织"] == 5
    assert spans[V2021.table("sec3").header_first] == 3
    v_merged = [tc for tc in t3._tbl.iter(qn("w:tc")) if tc.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}") is not None]
    assert len(v_merged) >= 22 + 2  # 三、本年度办理结果 runs down 22 rows, and more
    headers = [tr for tr in t3._tbl.iter(qn("w:tr")) if tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None]
    assert len(headers) == 3  # the header rows repeat on every page
    # numbers, read straight from the Word table: the row of 一、本年新收 (python-docx, no importer)
    want = numbers_of(rendered["book"])
    row = next(r for r in t3.rows if r.cells[0].text == V2021.table("sec3").row("new_received").label)
    vals = [c.text for c in row.cells[3:]]
    assert vals == [str(want[f"sec3.new_received.{c.key}"]) for c in V2021.table("sec3").columns]
    right = row.cells[3].paragraphs[0].alignment
    assert right is not None and int(right) == 2  # WD_ALIGN_PARAGRAPH.RIGHT


def test_v2019_seed_chain(tmp_path: Path) -> None:
    """Published 2020 text → import → workbook → render → import again: the same numbers."""
    seed = Path(__file__).resolve().parents[1] / "samples" / "seed" / "环翠区科学技术局2020年度报告_原文.txt"
    from xltool.pipeline.importing import write_result

    first = import_file(seed)
    book = write_result(first, tmp_path)
    assert main(["render", str(book), "--html", str(tmp_path / "r.html"), "--docx", str(tmp_path / "r.docx")]) == 0
    for out in ("r.html", "r.docx"):
        again = import_file(tmp_path / out)
        assert again.format.value == "2019" and again.agency.value == "环翠区科学技术局" and again.year.value == 2020
        assert {k: v.number for k, v in again.values.items()} == {k: v.number for k, v in first.values.items()}
        assert again.narrative == first.narrative
    assert len(first.values) == len(V2019.cells)


# --- district summary --------------------------------------------------------------------


def test_summary_round_trip(summary: dict[str, Path]) -> None:
    want = summary_totals(summary["summary"])
    assert sum(want.values()) > 100
    for out in ("html", "docx"):
        res = import_file(summary[out])
        assert res.agency.value == "威海市环翠区人民政府" and res.year.value == YEAR
        got = {k: v.number for k, v in res.values.items()}
        assert got == {k: int(v) if float(v).is_integer() else v for k, v in want.items()}
        # narrative placeholders for the clerk, one per narrative section
        assert set(res.narrative) == {"sec1", "sec5", "sec6"}
        assert all(t.startswith("〔请在此填写") for t in res.narrative.values())


def test_summary_without_name_uses_a_placeholder(summary: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = summary["dir"] / "noname.html"
    assert main(["render", str(summary["summary"]), "--html", str(out)]) == 0
    assert "--agency" in capsys.readouterr().out
    assert "〔本级政府名称〕2025年政府信息公开工作年度报告" in out.read_text(encoding="utf-8")


# --- refusing, forcing, overwriting ------------------------------------------------------


def test_failing_workbook_is_refused_then_marked_with_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_key = "sec3.carry_forward.natural"
    base = synth_values(V2021, random.Random(2), size=6)
    book = agency_book(tmp_path, seed=2, edit={bad_key: base[bad_key] + 5})  # breaks the 勾稽 identity
    html, docx_path = tmp_path / "b.html", tmp_path / "b.docx"
    code = main(["render", str(book), "--html", str(html), "--docx", str(docx_path)])
    out = capsys.readouterr().out
    assert code == 1 and "未通过校验" in out and "--force" in out
    assert not html.exists() and not docx_path.exists()
    code = main(["render", str(book), "--html", str(html), "--docx", str(docx_path), "--force"])
    out = capsys.readouterr().out
    assert code == 1 and "草稿" in out
    text = html.read_text(encoding="utf-8")
    assert 'class="notice"' in text and "未通过校验" in text
    marked = re.findall(r'<td class="([^"]*\bbad\b[^"]*)" title="([^"]+)" data-key="([^"]+)"', text)
    assert bad_key in {k for _c, _t, k in marked}
    assert all("勾稽" in t or "结转" in t or "等于" in t for _c, t, _k in marked)
    import docx
    from docx.oxml.ns import qn

    d = docx.Document(str(docx_path))
    shaded = [tc for tc in d.tables[1]._tbl.iter(qn("w:tc"))
              if (s := tc.find(f"{qn('w:tcPr')}/{qn('w:shd')}")) is not None and s.get(qn("w:fill")) == "FFC7CE"]
    assert len(shaded) == len([m for m in marked if m[2].startswith("sec3.")])
    assert len(list(d.comments)) == len(marked)
    assert "未通过校验" in d.paragraphs[0].text


def test_outputs_are_not_replaced_without_overwrite(rendered: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    before = rendered["html"].read_bytes()
    code = main(["render", str(rendered["book"]), "--html", str(rendered["html"])])
    assert code == 2 and "--overwrite" in capsys.readouterr().err
    assert rendered["html"].read_bytes() == before
    assert main(["render", str(rendered["book"]), "--html", str(rendered["html"]), "--overwrite"]) == 0
    capsys.readouterr()
    assert main(["render", str(rendered["book"]), "--html", str(rendered["dir"] / "x.txt")]) == 2
    assert "扩展名" in capsys.readouterr().err
    assert rendered["html"].stat().st_mode & 0o044  # readable by others: a page for the web server


def test_unreadable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "x.xlsx"
    p.write_text("not a workbook", encoding="utf-8")
    assert main(["render", str(p), "--html", str(tmp_path / "x.html")]) == 2
    assert "无法读取" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()
