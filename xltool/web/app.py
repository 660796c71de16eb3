"""The Starlette app of ``xltool serve``: pages over the workspace functions of the pipeline.

Every request opens the workspace (sqlite connections stay in one thread) and closes it again.
Long work (receiving, combining) runs synchronously in this first version: the page waits.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from xltool import __version__
from xltool.pipeline.combine import CombineError
from xltool.pipeline.workspace import (
    Workspace,
    WorkspaceError,
    accept,
    agency_states,
    combine_workspace,
    open_workspace,
    receive,
)
from xltool.pipeline.workspace.ops import SUMMARIES
from xltool.pipeline.workspace.status import STATES, skipped, unidentified
from xltool.pipeline.workspace.summary import summary_name
from xltool.web.security import CSRF_FIELD, CSRF_HEADER, Guard, GuardMiddleware, new_token, size_zh

HERE = Path(__file__).resolve().parent
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_UPLOAD_FILES = 500
ACCEPTED_SUFFIXES = (".xlsx", ".zip")
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


def overview(request: Request) -> Response:
    t0 = time.perf_counter()
    ws = _ws(request)
    try:
        states = agency_states(ws)
        counts = {s: 0 for s in STATES}
        for st in states:
            counts[st.state] = counts.get(st.state, 0) + 1
        unknown = unidentified(ws)
        year = ws.year
    finally:
        ws.close()
    return _page("overview.html", request, states=states, counts=counts, state_class=STATE_CLASS,
                 unidentified=unknown, year=year, ms=round((time.perf_counter() - t0) * 1000))


def receive_page(request: Request) -> Response:
    ws = _ws(request)
    try:
        skip = skipped(ws)[-50:]
    finally:
        ws.close()
    return _page("receive.html", request, result=None, skipped_before=skip,
                 max_files=request.app.state.max_files, max_size=size_zh(request.app.state.guard.max_body_bytes))


async def receive_post(request: Request) -> Response:
    form = await _form(request)
    uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile)]
    if not uploads:
        raise HTTPException(400, "没有选择文件。请选择或拖入 .xlsx 或 .zip 文件后再点“收取”。")
    refused: list[tuple[str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="xltool-upload-"))
    try:
        paths: list[Path] = []
        for n, up in enumerate(uploads, 1):
            name = display_name(up.filename, n)
            if not name.lower().endswith(ACCEPTED_SUFFIXES):
                refused.append((name, "只能收取 .xlsx 工作簿或 .zip 压缩包"))
                continue
            # each file in its own numbered folder: the name is a label, the folder is ours
            target = tmp / str(n) / name
            target.parent.mkdir()
            if target.resolve().parent != (tmp / str(n)).resolve():
                refused.append((name, "文件名无法使用"))
                continue
            with target.open("wb") as out:
                shutil.copyfileobj(up.file, out)
            paths.append(target)
        ws = _ws(request)
        try:
            res = receive(ws, paths) if paths else None
        finally:
            ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for up in uploads:
            await up.close()
    rows: list[dict[str, str]] = []
    if res is not None:
        for r in res.received:
            rows.append({"file": r.file, "what": KIND_ZH.get(r.kind, r.kind),
                         "agency": r.agency or "未识别（请用 xltool assign 指定单位）",
                         "status": STATUS_ZH.get(r.status, r.status), "how": r.identified_by or ""})
        prefix = str(tmp)
        refused += [(p.replace(prefix, "").lstrip("/\\").split("/", 1)[-1].split("\\", 1)[-1], why)
                    for p, why in res.skipped]
    return _page("receive.html", request, result=rows, refused=refused, skipped_before=[],
                 feedback=[p.name for p in res.feedback_written] if res else [],
                 feedback_errors=res.feedback_errors if res else [],
                 max_files=request.app.state.max_files, max_size=size_zh(request.app.state.guard.max_body_bytes))


def _agency_state(ws: Workspace, aid: int) -> Any:
    st = next((s for s in agency_states(ws) if s.id == aid), None)
    if st is None:
        raise HTTPException(404, "名单中没有这个单位。")
    return st


def agency_page(request: Request) -> Response:
    aid = int(request.path_params["aid"])
    ws = _ws(request)
    try:
        st = _agency_state(ws, aid)
        fb = ws.conn.execute("SELECT path, written_at FROM feedback WHERE agency_id = ?", (aid,)).fetchone()
        has_feedback = fb is not None and (ws.root / fb["path"]).is_file()
    finally:
        ws.close()
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in st.findings:
        f = dict(f)
        f["where"] = f"{f.get('table') or f.get('sheet') or ''}!{f.get('cell')}" if f.get("cell") else (
            f.get("table") or f.get("sheet") or "")
        f["severity_zh"] = SEVERITY_ZH.get(f.get("severity", ""), f.get("severity", ""))
        groups.setdefault(f.get("table") or f.get("sheet") or "其他", []).append(f)
    return _page("agency.html", request, st=st, groups=groups, has_feedback=has_feedback,
                 state_class=STATE_CLASS, status_zh=STATUS_ZH, message=request.query_params.get("msg"))


async def accept_post(request: Request) -> Response:
    aid = int(request.path_params["aid"])
    form = await _form(request)
    ws = _ws(request)
    try:
        name = ws.agency_name(aid) if ws.conn.execute("SELECT 1 FROM agencies WHERE id = ?", (aid,)).fetchone() else None
        if name is None:
            raise HTTPException(404, "名单中没有这个单位。")
        try:
            accept(ws, name, str(form.get("code") or ""), str(form.get("cell") or ""), str(form.get("reason") or ""))
        except WorkspaceError as e:
            raise HTTPException(400, str(e)) from None
    finally:
        ws.close()
    return RedirectResponse(f"/agency/{aid}?msg=已标记为已核实", status_code=303)


def _download(path: Path, name: str) -> FileResponse:
    return FileResponse(path, filename=name, media_type="application/octet-stream",
                        headers={"cache-control": "no-store"})


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
        fb = ws.conn.execute("SELECT path FROM feedback WHERE agency_id = ?", (aid,)).fetchone()
        path = ws.root / fb["path"] if fb is not None else None
    finally:
        ws.close()
    if path is None or not path.is_file():
        raise HTTPException(404, "这个单位当前没有校验意见。")
    return _download(path, path.name)


def summary_page(request: Request) -> Response:
    ws = _ws(request)
    try:
        target = ws.root / SUMMARIES / summary_name(ws)
    finally:
        ws.close()
    return _page("summary.html", request, exists=target.is_file(), name=target.name, result=None)


async def summary_post(request: Request) -> Response:
    await _form(request)
    ws = _ws(request)
    t0 = time.perf_counter()
    try:
        try:
            res = combine_workspace(ws)
        except CombineError as e:
            raise HTTPException(400, str(e)) from None
    finally:
        ws.close()
    assert res.output is not None
    return _page("summary.html", request, exists=True, name=res.output.name, result=res,
                 seconds=round(time.perf_counter() - t0, 1))


def summary_download(request: Request) -> Response:
    ws = _ws(request)
    try:
        target = ws.root / SUMMARIES / summary_name(ws)
    finally:
        ws.close()
    if not target.is_file():
        raise HTTPException(404, "还没有生成汇总表，请先在“汇总”页点“生成汇总表”。")
    return _download(target, target.name)


def log_page(request: Request) -> Response:
    ws = _ws(request)
    try:
        rows = ws.conn.execute("SELECT at, user, what, sha256 FROM audit ORDER BY id DESC LIMIT 1000").fetchall()
    finally:
        ws.close()
    return _page("log.html", request, rows=rows)


# --- errors -----------------------------------------------------------------------------------

TITLES = {400: "无法完成", 403: "已拒绝", 404: "找不到页面", 405: "不支持的操作", 413: "文件太大"}


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
        Route("/agency/{aid:int}", agency_page),
        Route("/agency/{aid:int}/accept", accept_post, methods=["POST"]),
        Route("/agency/{aid:int}/feedback", feedback_download),
        Route("/original/{sha}", original_download),
        Route("/summary", summary_page),
        Route("/summary", summary_post, methods=["POST"]),
        Route("/summary/download", summary_download),
        Route("/log", log_page),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ], exception_handlers={HTTPException: http_error, 404: http_error, 405: http_error, Exception: server_error})
    guard = Guard(token or new_token(), port, max_upload_bytes)
    app.state.guard = guard
    app.state.root = Path(root)
    app.state.max_files = max_files
    return GuardMiddleware(app, guard, error_page)

