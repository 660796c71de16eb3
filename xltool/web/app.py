"""The Starlette app of ``xltool serve``: pages over the workspace functions of the pipeline.

Every request opens the workspace (sqlite connections stay in one thread) and closes it again.
Long work (receiving, combining, templates) runs in the background (``jobs.py``): the page
shows its progress by polling ``/jobs/{id}``; every page polls ``/state`` (the last audit row)
so two tabs see the same state.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
import time
import zipfile
from html import escape
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from xltool import __version__
from xltool.core.labels import xml_safe
from xltool.pipeline.render import RenderError, default_title
from xltool.pipeline.workspace import (
    Workspace,
    WorkspaceError,
    accept,
    agency_states,
    assign,
    combine_workspace,
    confirm,
    include,
    open_workspace,
    pin,
    receive,
    refresh_feedback,
    sent,
    write_chase_list,
)
from xltool.pipeline.workspace.feedback import feedback_outdated
from xltool.pipeline.workspace.ops import SUMMARIES
from xltool.pipeline.workspace.report import SummaryReport, summary_report
from xltool.pipeline.workspace.status import CHASE_STATES, STATES, skipped, unidentified
from xltool.pipeline.workspace.summary import summary_name
from xltool.pipeline.workspace.templates import template_files, write_workspace_templates
from xltool.web.charts import bar_chart
from xltool.web.jobs import Busy, Job, Jobs
from xltool.web.security import CSRF_FIELD, CSRF_HEADER, Guard, GuardMiddleware, new_token, size_zh
from xltool.write.render.html import table_html, write_html

HERE = Path(__file__).resolve().parent
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_UPLOAD_FILES = 500
MAX_AGENCY_CHARS = 60  # the name in a report's title
KIND_ZH = {"version": "新版本", "duplicate": "重复收到（与已收文件相同）", "feedback_copy": "未修改的校验意见副本（不计为报送）"}
STATUS_ZH = {"ok": "通过", "invalid": "有错误", "unreadable": "无法读取"}
STATE_CLASS = {s: f"st{i}" for i, s in enumerate(STATES)}
SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
PAGE_HEADERS = {  # no caching of government data; never framed by another page (clickjacking)
    "cache-control": "no-store", "x-frame-options": "DENY", "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "referrer-policy": "same-origin"}
FORBIDDEN_NAME_CHARS = set('\\/:*?"<>|') | {chr(i) for i in range(32)}

_env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]))


def _page(template: str, request: Request | None, status: int = 200, **ctx: Any) -> HTMLResponse:
    guard: Guard | None = request.app.state.guard if request is not None else None
    html = _env.get_template(template).render(csrf=guard.csrf if guard else "", csrf_field=CSRF_FIELD,
                                          version=__version__, **ctx)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def error_page(status: int, title: str, text: str) -> HTMLResponse:
    return _page("error.html", None, status, title=title, text=text)


def display_name(raw: str | None, n: int) -> str:
    """What an uploaded file is called in the workspace: the last part of the browser's name,
    without any character Windows forbids in a name; never a path."""
    base = PurePosixPath((raw or "").replace("\\", "/")).name
    base = "".join(c for c in base if c not in FORBIDDEN_NAME_CHARS).strip().lstrip(".")
    if not base or base in (".", ".."):
        base = f"上传文件{n}"
    return base[-120:]


MESSAGES = {"accepted": "已标记为已核实。", "pinned": "已指定当前版本。", "sent": "已记录：校验意见已发给单位（状态：已退回修改）。",
            "confirmed": "已确认当前版本。", "included": "已记录：有错误仍计入汇总。", "assigned": "已指定单位。"}


def _ws(request: Request) -> Workspace:
    try:
        return open_workspace(request.app.state.root)
    except WorkspaceError as e:
        raise HTTPException(500, str(e)) from None


async def _form(request: Request) -> Any:
    limit = request.app.state.max_files
    try:
        form = await request.form(max_files=limit, max_fields=200)
    except HTTPException as e:
        if "many files" in str(e.detail).lower():
            raise HTTPException(413, f"一次最多上传 {limit} 个文件，请分几次上传。") from None
        raise HTTPException(400, "提交的内容无法读取，请返回重试。") from None
    guard: Guard = request.app.state.guard
    if not (guard.csrf_ok(request.headers.get(CSRF_HEADER)) or guard.csrf_ok(str(form.get(CSRF_FIELD) or ""))):
        raise HTTPException(403, "页面已过期或请求来自其他网站（缺少校验码），已拒绝。请刷新页面后重试。")
    return form


# --- pages ------------------------------------------------------------------------------------


def state_version(ws: Workspace) -> int:
    """Changes with every change of state: each one writes an audit row."""
    return int(ws.conn.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0])


def _jobs(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


def roster_rows(states: list[Any]) -> str:
    """The 总览 table's body in one pass of plain string building: for 2,000 agencies a Jinja
    loop (attribute lookups, Markup objects) costs more than the database reads behind it.
    Every agency-supplied text goes through ``escape`` (quotes too: names sit in attributes)."""
    out = []
    for n, st in enumerate(states, 1):
        name = escape(st.name)
        cur = st.current
        received = escape((cur.get("received_at") or "")[:16].replace("T", " ")) if cur else ""
        errors, warnings = (cur["errors"], cur["warnings"]) if cur else ("", "")
        out.append(f'<tr class="{STATE_CLASS[st.state]}" data-agency="{name}"><td>{n}</td>'
                   f'<td><a href="/agency/{st.id}">{name}</a></td><td class="state">{st.state}</td>'
                   f'<td>{received}</td><td class="num">{errors}</td><td class="num">{warnings}</td>'
                   f'<td class="num">{len(st.versions)}</td><td>{escape(st.person or "")}</td>'
                   f'<td>{escape(st.phone or "")}</td></tr>')
    return "\n".join(out)


def overview(request: Request) -> Response:
    t0 = time.perf_counter()
    ws = _ws(request)
    try:
        states = agency_states(ws)
        unknown = unidentified(ws)
        year = ws.year
        version = state_version(ws)
    finally:
        ws.close()
    counts = {s: 0 for s in STATES}
    for st in states:
        counts[st.state] = counts.get(st.state, 0) + 1
    names = "".join(f'<option value="{escape(st.name)}">' for st in states) if unknown else ""
    rows = roster_rows(states)
    return _page("overview.html", request, rows=Markup(rows), names=Markup(names), counts=counts,
                 state_class=STATE_CLASS, unidentified=unknown, year=year, state_version=version, autoreload=True,
                 message=MESSAGES.get(request.query_params.get("msg", "")),
                 ms=round((time.perf_counter() - t0) * 1000))


def state_json(request: Request) -> Response:
    """What the pages poll: the state version and the running job, if any."""
    ws = _ws(request)
    try:
        version = state_version(ws)
    finally:
        ws.close()
    job = _jobs(request).running()
    return JSONResponse({"version": version, "job": job.to_json() if job else None},
                        headers={"cache-control": "no-store"})


def job_json(request: Request) -> Response:
    job = _jobs(request).get(int(request.path_params["jid"]))
    if job is None:
        return JSONResponse({"error": "没有这项工作（工作台重启后，以前的进度不再保留）。"}, status_code=404)
    return JSONResponse(job.to_json(), headers={"cache-control": "no-store"})


def job_page(request: Request) -> Response:
    job = _jobs(request).get(int(request.path_params["jid"]))
    if job is None:
        raise HTTPException(404, "没有这项工作（工作台重启后，以前的进度不再保留）。请到总览查看各单位的状态。")
    return _page("job.html", request, job=job, info=job.to_json(), result=job.result or {},
                 nav={"receive": "receive", "combine": "summary", "template": "templates"}.get(job.kind))


def _start(request: Request, kind: str, title: str, work: Any, cleanup: Any = None) -> Response:
    try:
        job = _jobs(request).start(kind, title, work, cleanup)
    except Busy as b:
        if cleanup is not None:
            cleanup()
        raise HTTPException(409, f"正在进行另一项工作（{b.job.title}），请等它完成后再试。"
                                 f"进度见 /job/{b.job.id}。") from None
    return RedirectResponse(f"/job/{job.id}", status_code=303)


def receive_page(request: Request) -> Response:
    ws = _ws(request)
    try:
        skip = skipped(ws)[-50:]
        version = state_version(ws)
    finally:
        ws.close()
    return _page("receive.html", request, skipped_before=skip, state_version=version,
                 max_files=request.app.state.max_files, max_size=size_zh(request.app.state.guard.max_body_bytes))


async def receive_post(request: Request) -> Response:
    form = await _form(request)
    uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile)]
    uploads = [u for u in uploads if u.filename]  # an empty file input sends one nameless part
    if not uploads:
        raise HTTPException(400, "没有选择文件。请选择或拖入 .xlsx 或 .zip 文件（或一个文件夹）后再点“收取”。")
    tmp = Path(tempfile.mkdtemp(prefix="xltool-upload-"))
    paths: list[Path] = []
    try:
        for n, up in enumerate(uploads, 1):
            name = display_name(up.filename, n)
            # each file in its own numbered folder: the name is a label, the folder is ours
            target = tmp / str(n) / name
            target.parent.mkdir()
            if target.resolve().parent != (tmp / str(n)).resolve():
                continue
            with target.open("wb") as out:
                shutil.copyfileobj(up.file, out)
            paths.append(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        for up in uploads:
            await up.close()
    return _start(request, "receive", f"收取 {len(paths)} 个文件", receive_work(paths, tmp),
                  lambda: shutil.rmtree(tmp, ignore_errors=True))


def receive_work(paths: list[Path], tmp: Path) -> Any:
    """The job of one upload: ``receive`` (the same guard as the CLI) over the saved files."""
    def work(ws: Workspace, job: Job) -> dict[str, Any]:
        res = receive(ws, paths, progress=job.progress)
        # in the background job the copies cost the clerk nothing: the 单位 pages offer them at once
        written, problems = refresh_feedback(ws)
        rows = [{"file": r.file, "what": KIND_ZH.get(r.kind, r.kind),
                 "agency": r.agency or "未识别（请在总览页“未识别的文件”中指定单位）",
                 "status": STATUS_ZH.get(r.status, r.status), "how": r.identified_by or ""} for r in res.received]
        prefix = str(tmp)
        refused = [(p.replace(prefix, "").lstrip("/\\").split("/", 1)[-1].split("\\", 1)[-1], why)
                   for p, why in res.skipped]
        return {"rows": rows, "refused": refused, "feedback": [p.name for p in written],
                "feedback_errors": problems}
    return work


def _agency_state(ws: Workspace, aid: int) -> Any:
    st = next((s for s in agency_states(ws) if s.id == aid), None)
    if st is None:
        raise HTTPException(404, "名单中没有这个单位。")
    return st


def agency_page(request: Request, error: str | None = None) -> Response:
    aid = int(request.path_params["aid"])
    ws = _ws(request)
    try:
        st = _agency_state(ws, aid)
        fb = ws.conn.execute("SELECT path, written_at FROM feedback WHERE agency_id = ?", (aid,)).fetchone()
        # a copy on disk, or one due (the download writes it)
        has_feedback = (fb is not None and (ws.root / fb["path"]).is_file()) or feedback_outdated(ws, aid)
        version = state_version(ws)
    finally:
        ws.close()
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in st.findings:
        f = dict(f)
        f["where"] = f"{f.get('table') or f.get('sheet') or ''}!{f.get('cell')}" if f.get("cell") else (
            f.get("table") or f.get("sheet") or "")
        f["severity_zh"] = SEVERITY_ZH.get(f.get("severity", ""), f.get("severity", ""))
        groups.setdefault(f.get("table") or f.get("sheet") or "其他", []).append(f)
    return _page("agency.html", request, status=400 if error else 200, st=st, groups=groups,
                 has_feedback=has_feedback, state_class=STATE_CLASS, status_zh=STATUS_ZH, state_version=version,
                 message=MESSAGES.get(request.query_params.get("msg", "")), error=error)


async def decision_post(request: Request) -> Response:
    """One of the clerk's decisions on an agency: accept, pin, sent, confirm, include."""
    aid = int(request.path_params["aid"])
    what = str(request.path_params["what"])
    form = await _form(request)
    ws = _ws(request)
    try:
        if ws.conn.execute("SELECT 1 FROM agencies WHERE id = ?", (aid,)).fetchone() is None:
            raise HTTPException(404, "名单中没有这个单位。")
        name = ws.agency_name(aid)
        field = {k: str(form.get(k) or "") for k in ("code", "cell", "reason", "sha")}
        try:
            if what == "accept":
                accept(ws, name, field["code"], field["cell"], field["reason"])
            elif what == "pin":
                if len(field["sha"]) < 8:
                    raise WorkspaceError("请选择要指定为当前版本的文件。")
                pin(ws, name, field["sha"])
            elif what == "sent":
                sent(ws, name)
            elif what == "confirm":
                confirm(ws, name)
            elif what == "include":
                if not field["reason"].strip():
                    raise WorkspaceError("请写明为什么有错误仍计入汇总（理由会写入汇总表的说明和日志）。")
                include(ws, name, field["reason"])
            else:
                raise HTTPException(404)
        except WorkspaceError as e:
            error: str | None = str(e)
        else:
            error = None
    finally:
        ws.close()
    if error is not None:
        return agency_page(request, error)
    done = {"accept": "accepted", "pin": "pinned", "sent": "sent", "confirm": "confirmed", "include": "included"}
    return RedirectResponse(f"/agency/{aid}?msg={done[what]}", status_code=303)


async def assign_post(request: Request) -> Response:
    form = await _form(request)
    sha, agency = str(form.get("sha") or "").strip().lower(), str(form.get("agency") or "").strip()
    if len(sha) != 64 or not agency:
        raise HTTPException(400, "请选择文件，并填写名单中的单位名称后再点“指定”。")
    ws = _ws(request)
    try:
        try:
            assign(ws, sha, agency)
            aid = ws.agency_id(agency)
        except WorkspaceError as e:
            raise HTTPException(400, str(e)) from None
    finally:
        ws.close()
    return RedirectResponse(f"/agency/{aid}?msg=assigned", status_code=303)


def _download(path: Path, name: str, background: BackgroundTask | None = None) -> FileResponse:
    return FileResponse(path, filename=name, media_type="application/octet-stream",
                        headers={"cache-control": "no-store"}, background=background)


def original_download(request: Request) -> Response:
    sha = str(request.path_params["sha"]).lower()
    ws = _ws(request)
    try:
        row = ws.conn.execute("SELECT file FROM versions WHERE sha256 = ?", (sha,)).fetchone()
        if row is None:
            raise HTTPException(404, "没有这个文件。")
        path = ws.stored_path(sha)
    finally:
        ws.close()
    return _download(path, display_name(row["file"], 1))


def feedback_download(request: Request) -> Response:
    aid = int(request.path_params["aid"])
    ws = _ws(request)
    try:
        _, problems = refresh_feedback(ws, [aid], workers=1)  # written now if it is due
        if problems:
            raise HTTPException(409, problems[0])
        fb = ws.conn.execute("SELECT path FROM feedback WHERE agency_id = ?", (aid,)).fetchone()
        path = ws.root / fb["path"] if fb is not None else None
    finally:
        ws.close()
    if path is None or not path.is_file():
        raise HTTPException(404, "这个单位当前没有校验意见。")
    return _download(path, path.name)


class Reports:
    """The summary's report and charts, made once per summary file (its size and mtime):
    reading the workbook back takes a second, a page view should not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[str, int, int] | None = None
        self._report: SummaryReport | None = None

    def get(self, ws: Workspace) -> SummaryReport:
        target = ws.root / SUMMARIES / summary_name(ws)
        with self._lock:
            st = target.stat()  # FileNotFoundError: no summary yet
            stamp = (str(target), st.st_mtime_ns, st.st_size)
            if self._stamp != stamp or self._report is None:
                self._report = summary_report(ws, target)
                self._stamp = stamp
            return self._report


def _reports(request: Request) -> Reports:
    reports: Reports = request.app.state.reports
    return reports


def summary_page(request: Request) -> Response:
    ws = _ws(request)
    report: SummaryReport | None = None
    problem = None
    try:
        target = ws.root / SUMMARIES / summary_name(ws)
        version = state_version(ws)
        if target.is_file():
            try:
                report = _reports(request).get(ws)
            except RenderError as e:
                problem = str(e)
    finally:
        ws.close()
    tables, charts = [], []
    if report is not None:
        tables = [(sec.key, sec.heading, table_html(sec.table)) for sec in report.prepared.doc.sections
                  if sec.table is not None]
        charts = [(s.title, s.unit, bar_chart(s, n)) for n, s in enumerate(report.charts)]
    return _page("summary.html", request, exists=target.is_file(), name=target.name, state_version=version,
                 report=report, tables=tables, charts=charts, problem=problem)


def combine_work(reports: Reports) -> Any:
    def work(ws: Workspace, job: Job) -> dict[str, Any]:
        job.progress(0, 0, "combine")
        res = combine_workspace(ws)
        assert res.output is not None
        job.progress(0, 0, "report")
        try:  # the page after the job shows the tables at once
            reports.get(ws)
        except RenderError:
            pass  # the 汇总 page says why
        return {"name": res.output.name, "agencies": len(res.rows)}
    return work


async def summary_post(request: Request) -> Response:
    await _form(request)
    return _start(request, "combine", "生成汇总表", combine_work(_reports(request)))


def summary_download(request: Request) -> Response:
    ws = _ws(request)
    try:
        target = ws.root / SUMMARIES / summary_name(ws)
    finally:
        ws.close()
    if not target.is_file():
        raise HTTPException(404, "还没有生成汇总表，请先在“汇总”页点“生成汇总表”。")
    return _download(target, target.name)


def report_download(request: Request) -> Response:
    """The publishable report of the summary (HTML or Word), as ``xltool render`` writes it."""
    ext = str(request.path_params["ext"])
    if ext not in ("html", "docx"):
        raise HTTPException(404)
    ws = _ws(request)
    try:
        try:
            report = _reports(request).get(ws)
        except FileNotFoundError:
            raise HTTPException(404, "还没有生成汇总表，请先在“汇总”页点“生成汇总表”。") from None
        except RenderError as e:
            raise HTTPException(400, str(e)) from None
    finally:
        ws.close()
    doc = report.prepared.doc
    agency = xml_safe(" ".join(request.query_params.get("agency", "").split()))[:MAX_AGENCY_CHARS]
    if agency and agency != report.prepared.source.name:  # the CLI's --agency: the title only
        doc = dataclasses.replace(doc, title=default_title(agency, report.prepared.source.year, doc.kind))
    d = Path(tempfile.mkdtemp(prefix="xltool-report-"))
    try:
        target = d / f"report.{ext}"
        if ext == "html":
            write_html(doc, target)
        else:
            from xltool.write.render.docx import write_docx  # lazy, as in the CLI: python-docx + lxml

            write_docx(doc, target)
    except BaseException:
        shutil.rmtree(d, ignore_errors=True)
        raise
    name = display_name(f"{doc.title}{'（草稿）' if report.draft else ''}.{ext}", 1)
    return _download(target, name, BackgroundTask(shutil.rmtree, d, ignore_errors=True))


def templates_page(request: Request) -> Response:
    ws = _ws(request)
    try:
        files = template_files(ws)
        n_roster = len(ws.roster())
        version = state_version(ws)
    finally:
        ws.close()
    return _page("templates.html", request, files=[(i, p.name, p.stat().st_size) for i, p in enumerate(files)],
                 n_roster=n_roster, state_version=version, size_zh=size_zh)


def template_work(overwrite: bool) -> Any:
    def work(ws: Workspace, job: Job) -> dict[str, Any]:
        job.progress(0, 0, "template")
        paths = write_workspace_templates(ws, overwrite=overwrite)
        return {"templates": len(paths)}
    return work


async def templates_post(request: Request) -> Response:
    form = await _form(request)
    overwrite = str(form.get("overwrite") or "") == "1"
    return _start(request, "template", "生成模板", template_work(overwrite))


def template_download(request: Request) -> Response:
    i = int(request.path_params["i"])
    ws = _ws(request)
    try:
        files = template_files(ws)
    finally:
        ws.close()
    if not 0 <= i < len(files):
        raise HTTPException(404, "没有这个模板。请在“模板”页重新选择。")
    return _download(files[i], files[i].name)


def templates_zip(request: Request) -> Response:
    ws = _ws(request)
    try:
        files = template_files(ws)
        year = ws.year
    finally:
        ws.close()
    if not files:
        raise HTTPException(404, "还没有生成模板，请先在“模板”页点“生成模板”。")
    fd, name = tempfile.mkstemp(prefix="xltool-templates-", suffix=".zip")
    tmp = Path(name)
    with open(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as z:
        for p in files:  # names in UTF-8 (the flag is set): Windows' own unzip reads them right
            z.write(p, p.name)
    return _download(tmp, f"{year}年_政府信息公开年报模板.zip", BackgroundTask(tmp.unlink, missing_ok=True))


def chase_page(request: Request) -> Response:
    ws = _ws(request)
    try:
        rows = [s for s in agency_states(ws) if s.state in CHASE_STATES]
        year = ws.year
        version = state_version(ws)
    finally:
        ws.close()
    return _page("chase.html", request, rows=rows, year=year, state_class=STATE_CLASS, state_version=version)


def chase_download(request: Request) -> Response:
    ws = _ws(request)
    d = Path(tempfile.mkdtemp(prefix="xltool-chase-"))
    try:
        target = write_chase_list(ws, d / f"{ws.year}年_催报名单.xlsx")
    except BaseException:
        shutil.rmtree(d, ignore_errors=True)
        raise
    finally:
        ws.close()
    return _download(target, target.name, BackgroundTask(shutil.rmtree, d, ignore_errors=True))


def log_page(request: Request) -> Response:
    ws = _ws(request)
    try:
        rows = ws.conn.execute("SELECT at, user, what, sha256 FROM audit ORDER BY id DESC LIMIT 1000").fetchall()
        version = state_version(ws)
    finally:
        ws.close()
    return _page("log.html", request, rows=rows, state_version=version)


# --- errors -----------------------------------------------------------------------------------

TITLES = {400: "无法完成", 403: "已拒绝", 404: "找不到页面", 405: "不支持的操作", 409: "请稍候", 413: "文件太大"}


async def http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "")
    if status == 404 and (not detail or detail == "Not Found"):
        detail = "没有这个页面。请从上方的菜单进入。"
    elif status == 405:
        detail = "这个地址不支持这样的操作。"
    elif not isinstance(detail, str) or not detail or not any("\u4e00" <= c <= "\u9fff" for c in detail):
        detail = "请求无法完成，请返回重试。"
    return error_page(status, TITLES.get(status, "出错了"), detail)


async def server_error(request: Request, exc: Exception) -> Response:
    return error_page(500, "出错了", "处理时发生意外错误，已停止这次操作（工作区中的数据没有改动）。"
                      "请返回重试；如果反复出现，请联系技术人员，并告诉他们当时在做什么。")


def create_app(root: str | Path, *, token: str | None = None, port: int = 0,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, max_files: int = MAX_UPLOAD_FILES) -> Any:
    """The ASGI app over the workspace ``root``. ``port`` is the one the Host header must name."""
    app = Starlette(routes=[
        Route("/", overview),
        Route("/receive", receive_page),
        Route("/receive", receive_post, methods=["POST"]),
        Route("/state", state_json),
        Route("/jobs/{jid:int}", job_json),
        Route("/job/{jid:int}", job_page),
        Route("/assign", assign_post, methods=["POST"]),
        Route("/agency/{aid:int}", agency_page),
        Route("/agency/{aid:int}/{what:str}", decision_post, methods=["POST"]),
        Route("/agency/{aid:int}/feedback", feedback_download),
        Route("/original/{sha}", original_download),
        Route("/summary", summary_page),
        Route("/summary", summary_post, methods=["POST"]),
        Route("/summary/download", summary_download),
        Route("/summary/report.{ext:str}", report_download),
        Route("/templates", templates_page),
        Route("/templates", templates_post, methods=["POST"]),
        Route("/templates/zip", templates_zip),
        Route("/templates/file/{i:int}", template_download),
        Route("/chase", chase_page),
        Route("/chase/download", chase_download),
        Route("/log", log_page),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ], exception_handlers={HTTPException: http_error, 404: http_error, 405: http_error, Exception: server_error})
    guard = Guard(token or new_token(), port, max_upload_bytes)
    app.state.guard = guard
    app.state.root = Path(root)
    app.state.max_files = max_files
    app.state.jobs = Jobs(Path(root))
    app.state.reports = Reports()
    return GuardMiddleware(app, guard, error_page)

