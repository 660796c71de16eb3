"""``combine --workspace``: the district summary from each agency's current version and the
decisions, built from the cached check results (no workbook is read again)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from xltool.core.combined import CombineResult, Submission
from xltool.pipeline.combine import CombineError, child_submission, consolidate
from xltool.pipeline.workspace.ops import SUMMARIES, TEMPLATES, Workspace
from xltool.pipeline.workspace.receive import (
    cached_check,
    findings_from_json,
    previous_data,
    report_from_json,
)
from xltool.pipeline.workspace.status import agency_states
from xltool.read.summary import is_summary_file
from xltool.write.summary import write_summary

AUDIT_LINES_IN_SUMMARY = 200


def summary_name(ws: Workspace) -> str:
    return f"{ws.year}年全区汇总.xlsx"


def combine_workspace(ws: Workspace, *, out: str | Path | None = None, force: bool = True) -> CombineResult:
    """Consolidate the current versions (``include`` decisions count files with errors) and
    write the summary into 汇总/ (or ``out``). Raises CombineError (Chinese) like ``combine``."""
    states = agency_states(ws)
    subs: list[Submission] = []
    include: dict[str, str] = {}
    for st in states:
        if st.current is None:
            continue
        sha = st.current["sha256"]
        chk = cached_check(ws, sha)
        if chk is None:
            continue
        report = report_from_json(chk["report"])
        if report is not None:  # identified by the workspace (maybe by file name or by hand)
            report = report.model_copy(update={"meta": report.meta.model_copy(update={"agency": st.name})})
        fill = None
        if chk["fill_time"]:
            try:
                fill = datetime.fromisoformat(chk["fill_time"].strip())
            except ValueError:
                fill = None
        stored = ws.stored_path(sha)
        # a lower level's summary (逐级汇总) is never one of our templates: counted through its agencies
        if not chk["is_template"] and is_summary_file(stored):
            child = child_submission(stored)
            child.path = Path(st.current_file or stored.name)
            subs.append(child)
            continue
        # the name it arrived under (shown in 报送情况 and 说明); the sha256 ties it to 收件/
        subs.append(Submission(path=Path(st.current_file or stored.name), status=chk["status"], report=report,
                               findings=findings_from_json(chk["findings"]), sha256=sha, mtime=chk["mtime"],
                               fill_time=fill, is_template=bool(chk["is_template"]), error=chk["error"]))
        if st.included:
            include[sha] = st.included
    if not subs:
        raise CombineError("工作区中还没有任何单位报送的文件，无法汇总。请先用 xltool receive 收取文件。")
    previous = None
    if ws.previous_path is not None:
        previous = previous_data(ws)
    result = consolidate(subs, year=ws.year, roster=ws.roster(), previous=previous, include_sha256=include)
    result.roster_path = ws.roster_path
    result.district = ws.district
    result.notes.append("由工作区汇总：每个单位取当前版本（最新收到的文件，或人工指定的版本）。工作区操作记录（最近的）：")
    rows = ws.conn.execute("SELECT at, user, what, sha256 FROM audit ORDER BY id DESC LIMIT ?",
                           (AUDIT_LINES_IN_SUMMARY,)).fetchall()
    for r in reversed(rows):
        result.notes.append(f"{r['at']} {r['user']}：{r['what']}" + (f"（sha256 {r['sha256'][:12]}…）" if r["sha256"] else ""))
    target = Path(out) if out is not None else ws.root / SUMMARIES / summary_name(ws)
    if target.exists() and not force:
        raise CombineError(f"输出文件 {target} 已存在。如要覆盖，请加 --force；或换一个文件名。")
    try:
        write_summary(result, target, overwrite=True)
    except PermissionError:
        raise CombineError(f"汇总表“{target}”被占用（可能正在 Excel 中打开），无法写入。请关闭该文件后重试。") from None
    result.output = target
    ws.record(f"生成汇总表：{target.name}（计入 {len(result.rows)} 个单位）")
    return result


def template_targets(ws: Workspace) -> dict[str, Any]:
    """What ``template --workspace`` needs: year, roster, previous and the 模板/ folder."""
    return {"year": ws.year, "roster": ws.roster_path, "previous": ws.previous_path, "out": ws.root / TEMPLATES}
