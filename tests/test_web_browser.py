"""A whole collection through the workbench in real Chromium (Debian's, driven by Playwright):
open with the token, upload a zip of returns, see each agency's state, download a feedback
copy, accept a warning, upload a corrected version, build and download the summary and check a
total by its label; and the refusals a browser can meet (no token, a cross-site POST, a too
large upload). Skips without Chromium or Playwright unless XLTOOL_REQUIRE_CHROMIUM=1 (CI).

``XLTOOL_WEB_SCREENSHOTS=docs/img`` also writes the README pictures (web-overview.png,
web-agency.png; test_web_browser_actions.py adds web-templates.png, web-chase.png and
web-summary.png), each the 1366×768 viewport."""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xltool.cli import main as cli
from xltool.pipeline.workspace import agency_states, open_workspace
from xltool.read.reader import read_file
from xltool.web.server import Background

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
RETURNS = SAMPLES / "returns"
HEALTH = "威海市环翠区卫生健康局"
CORRECTED = RETURNS / f"2025年_{HEALTH}_政府信息公开年报.xlsx"  # the second, correct submission
CIVIL = "威海市环翠区民政局"  # one warning: BLANK at 表二!B14
LIMIT = 2 * 1024 * 1024
EXE = "/usr/bin/chromium"


def _need_browser() -> Any:
    why = None
    if not Path(EXE).exists() and shutil.which("chromium") is None:
        why = "Chromium is not installed (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = why or "Playwright for Python is not installed (pip install playwright; no browser download needed)"
        sync_playwright = None  # type: ignore[assignment]
    if why:
        if os.environ.get("XLTOOL_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"XLTOOL_REQUIRE_CHROMIUM=1 but {why}")
        pytest.skip(why)
    return sync_playwright


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    sync_playwright = _need_browser()
    d = tmp_path_factory.mktemp("webui")
    ws = d / "2025年报"
    assert cli(["init", str(ws), "--year", "2025", "--roster", str(SAMPLES / "roster.csv")]) == 0
    first = d / "各单位报表.zip"
    with zipfile.ZipFile(first, "w") as z:
        for p in sorted(RETURNS.glob("*.xlsx")):
            if p != CORRECTED:
                z.write(p, p.name)
    big = d / "很大的文件.xlsx"
    big.write_bytes(os.urandom(LIMIT + 1024))
    srv = Background(ws, max_upload_bytes=LIMIT, max_files=50)
    exe = EXE if Path(EXE).exists() else shutil.which("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        ctx = browser.new_context(base_url=f"http://127.0.0.1:{srv.port}", viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="zh-CN")
        page = ctx.new_page()
        try:
            yield {"ws": ws, "dir": d, "zip": first, "big": big, "srv": srv, "page": page, "browser": browser}
        finally:
            ctx.close()
            browser.close()
            srv.stop()


def _shot(page: Any, name: str) -> None:
    out = os.environ.get("XLTOOL_WEB_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(out) / name))  # the viewport: 1366×768


def _states(page: Any) -> dict[str, str]:
    return {r.get_attribute("data-agency"): r.locator("td.state").inner_text()
            for r in page.locator("#roster tbody tr").all()}


def _agency_link(page: Any, name: str) -> None:
    page.goto("/")
    page.locator(f'#roster tr[data-agency="{name}"] a').click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == name


def test_whole_collection(env: dict[str, Any]) -> None:
    import openpyxl

    page, srv, ws = env["page"], env["srv"], env["ws"]
    base = f"http://127.0.0.1:{srv.port}"
    page.set_default_timeout(120_000)
    # 1. open with the token: the cookie takes over, the address loses the token
    page.goto(srv.url)
    assert page.url == base + "/" and "报送总览" in page.locator("h1").inner_text()
    page.context.set_default_navigation_timeout(120_000)
    page.goto(base + "/")  # no token in the address any more: the cookie carries it
    assert page.locator("#roster").count() == 1

    # 2. upload the zip, see what happened to each file and every agency's state
    page.goto(base + "/receive")
    page.set_input_files("#files", str(env["zip"]))
    assert "已选择 1 个文件" in page.locator("#picked").inner_text()
    page.click("#send")
    page.wait_for_selector("#result")
    assert page.locator("#result tbody tr").count() == 14
    page.goto(base + "/")
    seen = _states(page)
    w = open_workspace(ws)
    try:
        expected = {s.name: s.state for s in agency_states(w)}  # the CLI's status, same function
    finally:
        w.close()
    assert seen == expected
    assert seen[HEALTH] == "已报送·有错误" and seen["威海市环翠区司法局"] == "未报送"
    assert seen["威海市环翠区信访局"] == "无法读取" and seen[CIVIL] == "已报送·通过"
    # the search box filters rows in the page
    page.fill("#search", "街道")
    assert page.locator("#roster tbody tr:not(.hidden)").count() == 3
    page.fill("#search", "")
    _shot(page, "web-overview.png")

    # 3. an agency with errors: findings by table with sheet!cell; download its feedback copy
    _agency_link(page, HEALTH)
    assert page.locator('tr[data-code="T3_BALANCE"][data-cell="表三!D30"]').count() == 1
    _shot(page, "web-agency.png")
    with page.expect_download() as dl:
        page.click("#download-feedback")
    fb = env["dir"] / "feedback.xlsx"
    dl.value.save_as(fb)
    assert dl.value.suggested_filename == f"2025年_{HEALTH}_校验意见.xlsx"
    book = openpyxl.load_workbook(fb, read_only=True)
    assert "校验结果" in book.sheetnames
    book.close()
    with page.expect_download() as dl:
        page.click("#download-original")
    assert dl.value.suggested_filename.endswith("（第一次报送）.xlsx")

    # 4. accept a warning with a reason
    _agency_link(page, CIVIL)
    row = page.locator('tr[data-code="BLANK"][data-cell="表二!B14"]')
    row.locator('input[name="reason"]').fill("单位确认本年没有行政处罚")
    row.locator("button").click()
    page.wait_for_selector("#message")
    assert page.locator("#accepted tbody tr").count() == 1
    assert "单位确认本年没有行政处罚" in page.locator("#accepted").inner_text()
    assert page.locator('tr[data-code="BLANK"]').count() == 0

    # 5. a corrected version
    page.goto(base + "/receive")
    page.set_input_files("#files", str(CORRECTED))
    page.click("#send")
    page.wait_for_selector("#result")
    assert "新版本" in page.locator("#result").inner_text()
    page.goto(base + "/")
    assert _states(page)[HEALTH] == "已报送·通过"

    # 6. the summary: build, download, check a total by its label
    page.goto(base + "/summary")
    page.click("#build")
    page.wait_for_selector("#built")
    with page.expect_download() as dl:
        page.click("#download-summary")
    out = env["dir"] / "summary.xlsx"
    dl.value.save_as(out)
    book = openpyxl.load_workbook(out, read_only=True, data_only=True)
    rows = [list(r) for r in book["分单位明细"].iter_rows(values_only=True)]  # cached values
    book.close()
    labels, keys = rows[0], rows[1]
    col = next(i for i, lab in enumerate(labels)
               if isinstance(lab, str) and "本年新收政府信息公开申请数量" in lab and lab.endswith("总计"))
    body = [r for r in rows[2:] if r[0] and r[0] != "合计"]
    total = next(r for r in rows if r[0] == "合计")
    assert HEALTH in [r[0] for r in body]
    by_name = {}
    for p in RETURNS.glob("*.xlsx"):
        res = read_file(p, expect_year=2025)
        if res.report is not None and p.name != f"2025年_{HEALTH}_政府信息公开年报（第一次报送）.xlsx":
            by_name[res.report.meta.agency] = res.report.number(str(keys[col]))
    assert total[col] == sum(by_name[r[0]] or 0 for r in body) == sum(r[col] or 0 for r in body)
    assert total[col] > 0

    # 7. the audit log shows the decisions
    page.goto(base + "/log")
    log = page.locator("#log").inner_text()
    assert "警告已核实" in log and "生成汇总表" in log


def test_refused_in_browser(env: dict[str, Any]) -> None:
    page, srv = env["page"], env["srv"]
    base = f"http://127.0.0.1:{srv.port}"
    page.goto(srv.url)
    # a too-large upload: a Chinese 413 page
    page.goto(base + "/receive")
    page.set_input_files("#files", str(env["big"]))
    with page.expect_response(lambda r: r.url.endswith("/receive") and r.request.method == "POST") as resp:
        page.click("#send")
    assert resp.value.status == 413
    page.wait_for_selector("#error-text")
    assert "不能超过 2 MB" in page.locator("#error-text").inner_text()
    # no token: a new browser profile (no cookie)
    other = env["browser"].new_context()
    try:
        p2 = other.new_page()
        r = p2.goto(base + "/")
        assert r is not None and r.status == 403 and "访问口令" in p2.locator("#error-text").inner_text()
    finally:
        other.close()
    # a cross-site POST: a page elsewhere submits a form to the workbench
    audit_before = _audit_count(env["ws"])
    page.goto("about:blank")
    page.set_content(f'<form method="post" action="{base}/summary"><input name="csrf" value="guess">'
                     '<button id="go">go</button></form>')
    with page.expect_navigation():
        page.click("#go")
    assert "已拒绝" in page.content() or "访问口令" in page.content()
    # and one with the session's cookie but a forged token, sent from the page's own origin
    page.goto(base + "/summary")
    page.evaluate("document.querySelector('#summary-form input[name=csrf]').value = 'forged'")
    with page.expect_response(lambda r: r.url.endswith("/summary") and r.request.method == "POST") as resp:
        page.click("#build")
    assert resp.value.status == 403
    time.sleep(0.2)
    assert _audit_count(env["ws"]) == audit_before  # nothing happened


def _audit_count(ws: Path) -> int:
    w = open_workspace(ws)
    try:
        return int(w.conn.execute("SELECT count(*) FROM audit").fetchone()[0])
    finally:
        w.close()
