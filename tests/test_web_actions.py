"""The workbench's pages for the clerk's decisions, templates and the chase list, over real
HTTP against a server in a thread: each action changes the workspace's state the same way
the CLI command does, refuses what the CLI refuses (in Chinese), and needs the CSRF token."""

from __future__ import annotations

import http.client
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import openpyxl
import pytest

from tests.test_web import RETURN, SAMPLES, chinese, csrf, finished, multipart, post, request
from tests.test_web import workspace as workspace  # the same fresh workspace fixture (one per module)
from xltool.pipeline.workspace import open_workspace
from xltool.pipeline.workspace.status import NOT_SENT, agency_states
from xltool.read.roster import read_roster
from xltool.web.security import COOKIE
from xltool.web.server import Background

FORM = "application/x-www-form-urlencoded"
AGENCY = "威海市环翠区民政局"


@pytest.fixture(scope="module")
def srv(workspace: Path) -> Iterator[Background]:
    b = Background(workspace)
    yield b
    b.stop()


def state_of(workspace: Path, name: str) -> str:
    ws = open_workspace(workspace)
    try:
        return next(s.state for s in agency_states(ws) if s.name == name)
    finally:
        ws.close()


def agency_id(workspace: Path, name: str) -> int:
    ws = open_workspace(workspace)
    try:
        return ws.agency_id(name)
    finally:
        ws.close()


def download(srv: Background, path: str) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    c.request("GET", path, headers={"Host": f"127.0.0.1:{srv.port}", "Cookie": f"{COOKIE}={srv.token}"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def form(srv: Background, **fields: str) -> bytes:
    return urlencode({"csrf": csrf(srv), **fields}).encode()


def version(srv: Background) -> int:
    status, _, text = request(srv, "GET", "/state")
    assert status == 200
    return int(json.loads(text)["version"])


def test_templates_generated_in_background_and_downloaded(srv: Background) -> None:
    status, _, text = request(srv, "GET", "/templates/zip")
    assert status == 404 and "还没有生成模板" in text and chinese(text)
    status, h, _ = post(srv, "/templates", form(srv), FORM)
    assert status == 303 and h["location"].startswith("/job/")
    status, text = finished(srv, h["location"])
    assert status == 200 and 'id="job-error"' not in text
    status, data = download(srv, "/templates/zip")
    assert status == 200
    roster = read_roster(SAMPLES / "roster.csv")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        assert len(names) == len(roster)
        for e in roster:  # one template per roster agency, each a workbook naming it
            member = next(n for n in names if e.name in n)
            wb = openpyxl.load_workbook(io.BytesIO(z.read(member)), read_only=True)
            assert len(wb.sheetnames) >= 4
            wb.close()
    status, _, _ = request(srv, "GET", f"/templates/file/{len(roster)}")
    assert status == 404


def test_decisions_change_state_like_the_cli(srv: Background, workspace: Path) -> None:
    body, ctype = multipart([(RETURN.name, RETURN.read_bytes())], {"csrf": csrf(srv)})
    before = version(srv)
    status, h, _ = post(srv, "/receive", body, ctype)
    assert status == 303
    finished(srv, h["location"])
    assert version(srv) > before  # a second tab polling /state sees the change
    aid = agency_id(workspace, AGENCY)
    received = state_of(workspace, AGENCY)
    assert received != NOT_SENT

    # without the CSRF token nothing changes
    status, _, text = post(srv, f"/agency/{aid}/confirm", b"", FORM)
    assert status == 403 and chinese(text)
    assert state_of(workspace, AGENCY) == received

    status, h, _ = post(srv, f"/agency/{aid}/sent", form(srv), FORM)
    assert status == 303 and h["location"] == f"/agency/{aid}?msg=sent"
    assert state_of(workspace, AGENCY) == "已退回修改"
    status, h, _ = post(srv, f"/agency/{aid}/confirm", form(srv), FORM)
    assert status == 303
    assert state_of(workspace, AGENCY) == "已确认"

    # include needs a reason; a pin needs a version of this agency
    status, _, text = post(srv, f"/agency/{aid}/include", form(srv, reason="  "), FORM)
    assert status == 400 and "请写明为什么有错误仍计入汇总" in text
    status, _, text = post(srv, f"/agency/{aid}/pin", form(srv, sha="0" * 64), FORM)
    assert status == 400 and chinese(text)
    assert state_of(workspace, AGENCY) == "已确认"
    status, _, text = request(srv, "GET", "/log")
    assert status == 200 and AGENCY in text

    # an unknown decision or agency is a Chinese 404
    assert post(srv, f"/agency/{aid}/delete", form(srv), FORM)[0] == 404
    assert post(srv, "/agency/99999/confirm", form(srv), FORM)[0] == 404


def test_chase_list_in_page_and_download(srv: Background, workspace: Path) -> None:
    status, _, text = request(srv, "GET", "/chase")
    assert status == 200 and chinese(text)
    ws = open_workspace(workspace)
    try:
        states = agency_states(ws)
    finally:
        ws.close()
    missing = [s.name for s in states if s.state == NOT_SENT]
    assert missing and all(n in text for n in missing)
    status, data = download(srv, "/chase/download")
    assert status == 200
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells = {str(v) for ws_ in wb.worksheets for row in ws_.iter_rows(values_only=True) for v in row if v}
    wb.close()
    assert all(n in cells for n in missing)


def test_second_job_while_one_runs_is_refused(srv: Background) -> None:
    jobs = srv.server.config.app.app.state.jobs
    gate = threading.Event()

    def work(ws: object, job: object) -> str:  # a job that waits until the test lets it finish
        gate.wait(30)
        return "好了"

    job = jobs.start("test", "测试工作", work)
    try:
        status, _, text = post(srv, "/templates", form(srv), FORM)
        assert status == 409 and "正在进行另一项工作" in text and chinese(text)
    finally:
        gate.set()
        jobs.wait(job.id)
