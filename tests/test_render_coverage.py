"""The district report states on its first page what it counts (issue 10 item 6)."""

from __future__ import annotations

from pathlib import Path

from docx import Document

from xltool.pipeline.combine import combine
from xltool.pipeline.render import prepare
from xltool.write.render.docx import write_docx
from xltool.write.render.html import write_html

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_summary_report_states_coverage(tmp_path: Path) -> None:
    roster = next(p for p in SAMPLES.iterdir() if p.name.startswith("名单") or p.stem.endswith("roster"))
    res = combine([SAMPLES / "returns"], year=2025, roster=roster, out=tmp_path / "汇总.xlsx")
    counted = len(res.rows)
    roster_names = {r.name for r in res.roster_rows}
    assert counted < len(roster_names)  # the samples leave agencies out: the statement must say so
    prep = prepare(tmp_path / "汇总.xlsx", force=True)
    cov = prep.doc.coverage
    assert cov, "a summary report must state its coverage"
    assert f"中 {counted} 个单位" in cov[0]
    included = {r.name for r in res.roster_rows if r.outcome is not None and r.outcome.included}
    left = roster_names - included
    assert f"{len(roster_names)} 个单位中" in cov[0] and f"未计入的 {len(left)} 个单位" in cov[1]
    for name in left:
        assert name in cov[1], name
    for name in included:
        assert name not in cov[1], name
    html = write_html(prep.doc, tmp_path / "r.html")
    text = html.read_text(encoding="utf-8")
    assert text.index(cov[0]) < text.index("<h2>")  # before section 一: on the first page
    docx = write_docx(prep.doc, tmp_path / "r.docx")
    paras = [p.text for p in Document(str(docx)).paragraphs]
    assert cov[0] in paras[:4]


def test_agency_report_has_no_coverage_line(tmp_path: Path) -> None:
    ok = SAMPLES / "returns" / "2025年_威海市环翠区民政局_政府信息公开年报.xlsx"
    assert prepare(ok).doc.coverage == []
