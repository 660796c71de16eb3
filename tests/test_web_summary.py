"""The workbench's 汇总 page over real HTTP: after the summary is built (a background job) the
page shows the district tables (表二/表三/表四 from the layout, the same markup as the report)
and the charts as inline SVG, and offers the workbook and the publishable report (HTML and
DOCX, the ones ``xltool render`` writes) for download; every figure is checked against the
summary workbook, by cell key and by label."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import quote

import docx
import openpyxl
import pytest

from tests.test_web import SAMPLES, chinese, csrf, finished, multipart, post, request
from tests.test_web import workspace as workspace  # a fresh workspace (one per module)
from tests.test_web_actions import FORM, download
from xltool.spec import CURRENT
from xltool.spec.selections import outcome_groups, received_key
from xltool.web.server import Background
from xltool.workbook import summary_layout as SL

RETURNS = SAMPLES / "returns"
RECEIVED_LABEL = "本年新收政府信息公开申请数量"  # 表三's first row (tests may name labels)
VALUE_CELL = re.compile(r'<td class="value[^"]*"[^>]*? data-key="([^"]+)"[^>]*>([^<]*)</td>')


@pytest.fixture(scope="module")
def srv(workspace: Path) -> Iterator[Background]:
    b = Background(workspace)
    yield b
    b.stop()


@pytest.fixture(scope="module")
def built(srv: Background) -> dict[str, object]:
    """Returns received through the page, then the summary built through the page."""
    files = [(p.name, p.read_bytes()) for p in sorted(RETURNS.glob("*.xlsx")) if "第一次报送" not in p.name]
    body, ctype = multipart(files, {"csrf": csrf(srv)})
    status, h, _ = post(srv, "/receive", body, ctype)
    assert status == 303
    finished(srv, h["location"])
    status, h, _ = post(srv, "/summary", f"csrf={csrf(srv)}".encode(), FORM)
    assert status == 303
    status, text = finished(srv, h["location"])
    assert status == 200 and 'id="built"' in text and 'href="/summary"' in text
    status, data = download(srv, "/summary/download")
    assert status == 200
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    detail = [list(r) for r in book[SL.DETAIL_SHEET].iter_rows(values_only=True)]
    book.close()
    return {"detail": detail}


def _total_row(detail: list[list[object]]) -> dict[str, object]:
    """The 合计 row of 分单位明细 by cell key (the hidden key row names each column)."""
    keys = detail[SL.DETAIL_KEY_ROW]
    total = next(r for r in detail if r[0] == SL.TOTAL_ROW_LABEL)
    return {str(k): v for k, v in zip(keys, total, strict=False) if k}


def _num(text: str) -> float:
    return float(text) if text.strip() else 0.0


def test_no_summary_yet(srv: Background) -> None:
    status, _, text = request(srv, "GET", "/summary")
    assert status == 200 and 'id="no-summary"' in text and "<svg" not in text
    for ext in ("html", "docx"):
        status, _, text = request(srv, "GET", f"/summary/report.{ext}")
        assert status == 404 and "还没有生成汇总表" in text and chinese(text)
    assert request(srv, "GET", "/summary/report.pdf")[0] == 404


def test_tables_in_page_are_the_workbook_totals(srv: Background, built: dict[str, object]) -> None:
    status, _, text = request(srv, "GET", "/summary")
    assert status == 200
    fmt = CURRENT
    tables = {t.section for t in fmt.tables}
    for sec in sorted(tables):
        assert f'id="table-{sec}"' in text  # 表二, 表三, 表四
    shown = {k: unescape(v) for k, v in VALUE_CELL.findall(text)}
    totals = _total_row(built["detail"])  # type: ignore[arg-type]
    numeric = [k for k in fmt.cells if isinstance(totals.get(k), (int, float))]
    assert len(numeric) > 100 and set(numeric) <= set(shown)
    assert all(_num(shown[k]) == totals[k] for k in numeric)
    # by label: the 分单位明细 column titled 本年新收…总计 is the page's cell in the row with that label
    detail = built["detail"]  # type: ignore[assignment]
    col = next(i for i, lab in enumerate(detail[SL.DETAIL_TITLE_ROW])
               if isinstance(lab, str) and RECEIVED_LABEL in lab and lab.endswith("总计"))
    total = next(r for r in detail if r[0] == SL.TOTAL_ROW_LABEL)[col]
    assert isinstance(total, (int, float)) and total > 0
    sec3 = text[text.index('id="table-sec3"'):]
    row = next(tr for tr in sec3.split("<tr>") if RECEIVED_LABEL in tr)
    assert _num(unescape(VALUE_CELL.findall(row)[-1][1])) == total  # its last value cell: 总计


def test_charts_inline_svg_from_the_workbook(srv: Background, built: dict[str, object]) -> None:
    status, _, text = request(srv, "GET", "/summary")
    assert status == 200 and text.count("<svg") == 2
    assert "<script" not in text.split("<main>", 1)[1].split("</main>", 1)[0]  # drawn on the server
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # nothing from elsewhere
    bars = re.findall(r'<rect [^>]*data-label="([^"]+)" data-value="([^"]+)"', text)
    detail = built["detail"]  # type: ignore[assignment]
    keys = [str(k) for k in detail[SL.DETAIL_KEY_ROW]]
    j, a = keys.index(received_key(CURRENT)), keys.index(SL.AGENCY_KEY)
    per_agency = {str(r[a]): float(r[j] or 0) for r in detail[SL.DETAIL_FIRST_DATA_ROW:]
                  if r[a] and r[a] != SL.TOTAL_ROW_LABEL}
    groups = outcome_groups(CURRENT)
    agency_bars, outcome_bars = bars[:-len(groups)], bars[-len(groups):]
    assert len(agency_bars) == min(20, len(per_agency)) and len(per_agency) >= 5
    values = [float(v) for _n, v in agency_bars]
    assert values == sorted(values, reverse=True) and values[0] == max(per_agency.values())
    assert all(per_agency[unescape(n)] == float(v) for n, v in agency_bars)
    totals = _total_row(detail)
    assert [unescape(n) for n, _v in outcome_bars] == [label for label, _k in groups]
    assert [float(v) for _n, v in outcome_bars] == [sum(float(totals[k] or 0) for k in ks) for _l, ks in groups]


def test_report_downloads(srv: Background, built: dict[str, object], tmp_path: Path) -> None:
    totals = _total_row(built["detail"])  # type: ignore[arg-type]
    rk = received_key(CURRENT)
    status, data = download(srv, "/summary/report.html")
    assert status == 200
    html = data.decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and "年政府信息公开工作年度报告" in html
    shown = dict(VALUE_CELL.findall(html))
    assert _num(shown[rk]) == totals[rk] > 0
    assert all(_num(shown[k]) == v for k, v in totals.items() if k in CURRENT.cells and isinstance(v, (int, float)))
    assert "<script" not in html

    status, data = download(srv, "/summary/report.docx")
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "word/document.xml" in z.namelist()
    document = docx.Document(io.BytesIO(data))
    assert len(document.tables) == 3
    row = next(r for t in document.tables for r in t.rows if RECEIVED_LABEL in r.cells[0].text
               or any(RECEIVED_LABEL in c.text for c in r.cells[:3]))
    assert _num(row.cells[-1].text) == totals[rk]
    assert any("年政府信息公开工作年度报告" in p.text for p in document.paragraphs)


def test_report_title_names_the_government(srv: Background, built: dict[str, object]) -> None:
    status, _, text = request(srv, "GET", "/summary")
    assert status == 200 and 'id="report-agency"' in text and "〔本级政府名称〕" in text  # none given at init
    name = quote("威海市环翠区人民政府")
    status, data = download(srv, f"/summary/report.html?agency={name}")
    assert status == 200
    assert "<h1>威海市环翠区人民政府2025年政府信息公开工作年度报告</h1>" in data.decode("utf-8")
    status, data = download(srv, f"/summary/report.docx?agency={name}")
    assert status == 200
    assert docx.Document(io.BytesIO(data)).paragraphs[0].text == "威海市环翠区人民政府2025年政府信息公开工作年度报告"
    status, data = download(srv, "/summary/report.html?agency=" + quote("<script>x</script>\x01"))
    assert status == 200 and "<script>" not in data.decode("utf-8") and "&lt;script&gt;x&lt;/script&gt;2025年" in data.decode("utf-8")
