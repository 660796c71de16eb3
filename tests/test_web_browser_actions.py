"""The workbench's actions in real Chromium (Playwright, Debian's chromium), one workspace per
test: the clerk's decisions on 单位 (pin a version, 已发送意见, 确认), the templates zip and
the chase list downloads, a second tab following a change made in the first (the /state poll),
the folder walker of the drop zone (``window.xltoolCollect``) and a folder chosen with the
webkitdirectory input, and the whole year through the pages: templates → returns → feedback →
accept → corrected return → summary → workbook and report (HTML, DOCX), totals by label.
Skips without Chromium or Playwright unless XLTOOL_REQUIRE_CHROMIUM=1 (CI)."""

from __future__ import annotations

import base64
import io
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from tests.test_web_browser import CIVIL, CORRECTED, EXE, HEALTH, RETURNS, SAMPLES, _need_browser, _shot
from xltool.cli import main as cli
from xltool.pipeline.workspace import agency_states, open_workspace
from xltool.pipeline.workspace.status import CHASE_STATES, CONFIRMED, INVALID, NOT_SENT, OK, RETURNED
from xltool.read.reader import read_file
from xltool.read.roster import read_roster
from xltool.web.server import Background
from xltool.workbook import summary_layout as SL

FIRST = RETURNS / f"2025年_{HEALTH}_政府信息公开年报（第一次报送）.xlsx"  # errors (T3_BALANCE)
RECEIVED_LABEL = "本年新收政府信息公开申请数量"  # 表三's first row


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _need_browser()
    exe = EXE if Path(EXE).exists() else shutil.which("chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def site(browser: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh workspace of the sample roster, its server, and a browser context logged in."""
    ws = tmp_path / "2025年报"
    assert cli(["init", str(ws), "--year", "2025", "--roster", str(SAMPLES / "roster.csv")]) == 0
    srv = Background(ws)
    ctx = browser.new_context(base_url=f"http://127.0.0.1:{srv.port}", viewport={"width": 1366, "height": 768},
                              accept_downloads=True, locale="zh-CN")
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    page.goto(srv.url)  # the token once; the cookie from then on
    try:
        yield {"ws": ws, "srv": srv, "ctx": ctx, "page": page, "dir": tmp_path}
    finally:
        ctx.close()
        srv.stop()


def _states(ws: Path) -> dict[str, Any]:
    w = open_workspace(ws)
    try:
        return {s.name: s for s in agency_states(w)}
    finally:
        w.close()


def _upload(page: Any, *paths: Path, field: str = "#files") -> None:
    page.goto("/receive")
    page.set_input_files(field, [str(p) for p in paths] if len(paths) != 1 else str(paths[0]))
    page.click("#send")
    page.wait_for_selector("#result, #refused, #job-error")
    assert page.locator("#job-error").count() == 0


def _open_agency(page: Any, name: str) -> None:
    page.goto("/")
    page.locator(f'#roster tr[data-agency="{name}"] a').click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == name


def _download(page: Any, selector: str, target: Path) -> str:
    with page.expect_download() as dl:
        page.click(selector)
    dl.value.save_as(target)
    name: str = dl.value.suggested_filename
    return name


def test_pin_sent_confirm_on_agency_page(site: dict[str, Any]) -> None:
    page, ws = site["page"], site["ws"]
    _upload(page, FIRST)
    _upload(page, CORRECTED)
    st = _states(ws)[HEALTH]
    assert st.state == OK and len(st.versions) == 2
    first_sha = next(v["sha256"] for v in st.versions if v["sha256"] != st.current["sha256"])

    _open_agency(page, HEALTH)
    assert page.locator("#state").inner_text() == OK
    assert page.locator("#versions tr.current").count() == 1
    page.locator(f'button.pin[data-sha="{first_sha}"]').click()  # the first version, with errors
    page.wait_for_selector("#message")
    assert "已指定当前版本" in page.locator("#message").inner_text()
    assert page.locator("#state").inner_text() == INVALID
    assert first_sha[:12] in page.locator("#versions tr.current").inner_text()
    assert page.locator('tr[data-code="T3_BALANCE"][data-cell="表三!D30"]').count() == 1  # its findings now
    assert _states(ws)[HEALTH].current["sha256"] == first_sha

    page.click("#sent")
    page.wait_for_selector("#message")
    assert "校验意见已发给单位" in page.locator("#message").inner_text()
    assert page.locator("#state").inner_text() == RETURNED == _states(ws)[HEALTH].state
    assert page.locator("#download-feedback").count() == 1  # the copy to send is there

    page.locator("button.pin").click()  # back to the corrected one (the only other version)
    page.wait_for_selector("#message")
    assert page.locator("#state").inner_text() == OK
    page.click("#confirm")
    page.wait_for_selector("#message")
    assert "已确认当前版本" in page.locator("#message").inner_text()
    assert page.locator("#state").inner_text() == CONFIRMED == _states(ws)[HEALTH].state
    page.goto("/log")
    log = page.locator("#log").inner_text()
    assert log.count("指定当前版本") == 2 and "已退回修改" in log and "已确认当前版本" in log


def test_templates_zip_and_chase_download(site: dict[str, Any]) -> None:
    page, ws, d = site["page"], site["ws"], site["dir"]
    page.goto("/templates")
    assert page.locator("#no-templates").count() == 1
    page.click("#make-templates")
    page.wait_for_selector("#templates-built, #job-error")
    assert page.locator("#templates-built").count() == 1
    page.goto("/templates")
    roster = read_roster(SAMPLES / "roster.csv")
    assert page.locator("#template-list tbody tr").count() == len(roster)
    _shot(page, "web-templates.png")
    name = _download(page, "#download-zip", d / "templates.zip")
    assert name == "2025年_政府信息公开年报模板.zip"
    with zipfile.ZipFile(d / "templates.zip") as z:
        names = z.namelist()
        assert len(names) == len(roster) and all(n.endswith(".xlsx") for n in names)
        for e in roster:  # one workbook per roster agency, naming it
            member = next(n for n in names if e.name in n)
            book = openpyxl.load_workbook(io.BytesIO(z.read(member)), read_only=True)
            assert len(book.sheetnames) >= 4
            book.close()

    _upload(page, FIRST, RETURNS / f"2025年_{CIVIL}_政府信息公开年报.xlsx")
    page.goto("/chase")
    states = _states(ws)
    chase = sorted(n for n, s in states.items() if s.state in CHASE_STATES)
    shown = sorted(r.get_attribute("data-agency") for r in page.locator("#chase tbody tr").all())
    assert shown == chase and HEALTH in chase and CIVIL not in chase
    assert page.locator("#chase-count").inner_text() == str(len(chase))
    _shot(page, "web-chase.png")
    name = _download(page, "#download-chase", d / "chase.xlsx")
    assert name == "2025年_催报名单.xlsx"
    book = openpyxl.load_workbook(d / "chase.xlsx", read_only=True)
    cells = {str(v) for sh in book.worksheets for row in sh.iter_rows(values_only=True) for v in row if v}
    book.close()
    assert set(chase) <= cells and CIVIL not in cells
    assert NOT_SENT in cells and INVALID in cells


def test_second_tab_sees_the_change(site: dict[str, Any]) -> None:
    page, ctx, ws = site["page"], site["ctx"], site["ws"]
    _upload(page, RETURNS / f"2025年_{CIVIL}_政府信息公开年报.xlsx")
    overview = ctx.new_page()  # 总览 reloads itself
    overview.goto("/")
    row = f'#roster tr[data-agency="{CIVIL}"] td.state'
    assert overview.locator(row).inner_text() == OK
    aid = _states(ws)[CIVIL].id
    other = ctx.new_page()  # any other page shows a notice
    other.goto(f"/agency/{aid}")
    assert other.locator("#stale").is_hidden()

    _open_agency(page, CIVIL)
    page.click("#sent")
    page.wait_for_selector("#message")
    overview.wait_for_function("s => document.querySelector(s).textContent === '已退回修改'", arg=row)
    assert overview.locator('[data-count="已退回修改"] b').inner_text() == "1"
    other.wait_for_selector("#stale", state="visible")
    other.click("#stale-reload")
    other.wait_for_load_state()
    assert other.locator("#state").inner_text() == RETURNED


WALK = """([payload, name]) => new Promise(resolve => {
  const later = f => setTimeout(f, 1);
  const bytes = Uint8Array.from(atob(payload), c => c.charCodeAt(0));
  const file = (n, data) => ({isFile: true, isDirectory: false, name: n,
                              file: ok => later(() => ok(new File([data || "x"], n)))});
  const broken = n => ({isFile: true, isDirectory: false, name: n, file: (ok, fail) => later(() => fail(new Error(n)))});
  const dir = (n, children, batch) => ({isFile: false, isDirectory: true, name: n, createReader: () => {
    let i = 0;  // readEntries hands out at most `batch` entries a call, then an empty list
    return {readEntries: ok => later(() => { const part = children.slice(i, i + batch); i += batch; ok(part); })};
  }});
  const many = Array.from({length: 250}, (_, i) => file("f" + i + ".xlsx"));
  const tree = [file(name, bytes), dir("科室", [file("b.xlsx"), dir("空", [], 100), dir("下级", [file("c.zip")], 100),
                                             broken("坏.xlsx")], 2), dir("大", many, 100)];
  window.xltoolCollect(tree, files => resolve(files.map(f => f.name)));
})"""


def test_folder_walker_and_folder_input(site: dict[str, Any]) -> None:
    page, d, ws = site["page"], site["dir"], site["ws"]
    civil = RETURNS / f"2025年_{CIVIL}_政府信息公开年报.xlsx"
    payload = base64.b64encode(civil.read_bytes()).decode()
    page.goto("/receive")
    names = page.evaluate(WALK, [payload, civil.name])
    assert len(names) == 1 + 2 + 250 and len(set(names)) == len(names)  # every file once, the broken one left out
    assert {civil.name, "b.xlsx", "c.zip", "f0.xlsx", "f249.xlsx"} <= set(names) and "坏.xlsx" not in names
    assert page.evaluate("new Promise(r => window.xltoolCollect([], f => r(f.length)))") == 0

    # a folder dropped on the zone: the drop handler walks it and the form sends what it found
    page.evaluate("""([payload, name]) => {
      const bytes = Uint8Array.from(atob(payload), c => c.charCodeAt(0));
      const f = {isFile: true, isDirectory: false, name, file: ok => ok(new File([bytes], name))};
      const folder = {isFile: false, isDirectory: true, name: "拖入", createReader: () => {
        let done = false; return {readEntries: ok => { const was = done; done = true; ok(was ? [] : [f]); }};
      }};
      const ev = new Event("drop", {bubbles: true, cancelable: true});
      Object.defineProperty(ev, "dataTransfer", {value: {items: [{webkitGetAsEntry: () => folder}], files: []}});
      document.getElementById("drop").dispatchEvent(ev);
    }""", [payload, civil.name])
    page.wait_for_function("() => document.getElementById('picked').textContent.indexOf('已选择 1 个文件') === 0")
    page.click("#send")
    page.wait_for_selector("#result")
    assert CIVIL in page.locator("#result").inner_text()
    assert _states(ws)[CIVIL].state == OK

    # a folder chosen with the folder button (webkitdirectory): every file inside, subfolders too
    folder = d / "各单位报表"
    (folder / "街道").mkdir(parents=True)
    for p in RETURNS.glob("2025年_*街道办事处_政府信息公开年报.xlsx"):
        shutil.copy(p, folder / "街道" / p.name)
    shutil.copy(FIRST, folder / FIRST.name)
    (folder / "说明.txt").write_text("不是报表", encoding="utf-8")
    page.goto("/receive")
    page.set_input_files("#folder", str(folder))
    picked = page.locator("#picked").inner_text()
    assert picked.startswith("已选择 5 个文件") and "各单位报表/街道/" in picked
    page.click("#send")
    page.wait_for_selector("#result")
    assert page.locator("#result tbody tr").count() == 4
    assert "说明.txt" in page.locator("#refused").inner_text()
    states = _states(ws)
    streets = [n for n in states if n.endswith("街道办事处")]
    assert len(streets) == 3 and all(states[n].state == OK for n in streets)
    assert states[HEALTH].state == INVALID


def _label_total(page: Any, scope: str) -> str:
    """The 总计 of 表三's 本年新收 row, found by its label in the shown table."""
    row = page.locator(f"{scope} tr", has_text=RECEIVED_LABEL).first
    text: str = row.locator("td.value").last.inner_text()
    return text


def test_whole_year_through_the_pages(site: dict[str, Any]) -> None:
    page, d = site["page"], site["dir"]
    # templates out
    page.goto("/templates")
    page.click("#make-templates")
    page.wait_for_selector("#templates-built")
    page.goto("/templates")
    _download(page, "#download-zip", d / "templates.zip")
    with zipfile.ZipFile(d / "templates.zip") as z:
        assert len(z.namelist()) == len(read_roster(SAMPLES / "roster.csv"))

    # returns in (a zip), feedback out, a warning accepted, the corrected return in
    returns = d / "报回.zip"
    with zipfile.ZipFile(returns, "w") as z:
        for p in sorted(RETURNS.glob("*.xlsx")):
            if p != CORRECTED:
                z.write(p, p.name)
    _upload(page, returns)
    assert page.locator("#result tbody tr").count() == 14
    _open_agency(page, HEALTH)
    assert _download(page, "#download-feedback", d / "feedback.xlsx") == f"2025年_{HEALTH}_校验意见.xlsx"
    book = openpyxl.load_workbook(d / "feedback.xlsx", read_only=True)
    assert "校验结果" in book.sheetnames
    book.close()
    _open_agency(page, CIVIL)
    row = page.locator('tr[data-code="BLANK"][data-cell="表二!B14"]')
    row.locator('input[name="reason"]').fill("单位确认本年没有行政处罚")
    row.locator("button").click()
    page.wait_for_selector("#message")
    assert page.locator("#accepted tbody tr").count() == 1
    _upload(page, CORRECTED)
    assert "新版本" in page.locator("#result").inner_text()

    # the summary: built in the background, then the tables, the charts and the downloads
    page.goto("/summary")
    assert page.locator("#no-summary").count() == 1
    page.click("#build")
    page.wait_for_selector("#built")
    page.click("#view-summary")
    page.wait_for_selector("#table-sec3")
    assert page.locator("section.report-table").count() == 3 and page.locator("svg.chart").count() == 2
    shown = _label_total(page, "#table-sec3")
    _shot(page, "web-summary.png")
    if os.environ.get("XLTOOL_WEB_SCREENSHOTS"):
        page.evaluate("() => document.getElementById('table-sec3').scrollIntoView()")
        _shot(page, "web-summary-tables.png")
        page.evaluate("() => window.scrollTo(0, 0)")

    name = _download(page, "#download-summary", d / "summary.xlsx")
    assert name == "2025年全区汇总.xlsx"
    book = openpyxl.load_workbook(d / "summary.xlsx", read_only=True, data_only=True)
    rows = [list(r) for r in book[SL.DETAIL_SHEET].iter_rows(values_only=True)]
    book.close()
    labels, keys = rows[SL.DETAIL_TITLE_ROW], rows[SL.DETAIL_KEY_ROW]
    col = next(i for i, lab in enumerate(labels)
               if isinstance(lab, str) and RECEIVED_LABEL in lab and lab.endswith("总计"))
    body = [r for r in rows[SL.DETAIL_FIRST_DATA_ROW:] if r[0] and r[0] != SL.TOTAL_ROW_LABEL]
    total = next(r for r in rows if r[0] == SL.TOTAL_ROW_LABEL)[col]
    by_name = {}
    for p in RETURNS.glob("*.xlsx"):
        res = read_file(p, expect_year=2025)
        if res.report is not None and p != FIRST:
            by_name[res.report.meta.agency] = res.report.number(str(keys[col]))
    assert HEALTH in [r[0] for r in body]
    assert total == sum(by_name[r[0]] or 0 for r in body) > 0
    assert float(shown) == total

    page.fill("#report-agency", "威海市环翠区人民政府")  # the name in the report's title (the CLI's --agency)
    html_name = _download(page, "#download-html", d / "report.html")
    docx_name = _download(page, "#download-docx", d / "report.docx")
    assert html_name.endswith("年政府信息公开工作年度报告.html") and docx_name.endswith("年政府信息公开工作年度报告.docx")
    report = page.context.new_page()
    report.set_content((d / "report.html").read_text(encoding="utf-8"))
    assert report.locator("h1").inner_text() == "威海市环翠区人民政府2025年政府信息公开工作年度报告"
    assert report.locator("section table").count() == 3
    assert float(_label_total(report, "section#sec3")) == total
    report.close()
    document = docx.Document(str(d / "report.docx"))
    assert len(document.tables) == 3 and document.paragraphs[0].text.startswith("威海市环翠区人民政府2025年")
    hit = next(r for t in document.tables for r in t.rows if any(RECEIVED_LABEL in c.text for c in r.cells[:3]))
    assert float(hit.cells[-1].text) == total
    assert os.path.getsize(d / "report.docx") > 10_000
