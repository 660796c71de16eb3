"""Feedback copies in 校验意见/: one up-to-date marked-up copy per agency whose current version
has findings, written when the clerk asks for them (``xltool feedback``, ``xltool sent``, the
workbench), never during ``receive``: a copy is a whole template drawn again (~90 ms), which
would be most of a receive."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from xltool.core.model import Finding, PreviousData
from xltool.pipeline.check import feedback_findings
from xltool.pipeline.workspace.db import WorkspaceError, append_log, audit, now_iso, tx
from xltool.pipeline.workspace.ops import FEEDBACK, Workspace, cached_check, current_or_fail
from xltool.pipeline.workspace.receive import findings_from_json, previous_data
from xltool.read import ReadResult, read_file
from xltool.read.pool import pool_context
from xltool.read.summary import is_summary_file
from xltool.spec import format_for_year
from xltool.write.feedback import write_feedback


def feedback_name(year: int, agency: str) -> str:
    return f"{year}年_{agency}_校验意见.xlsx"


@dataclass
class _CopyJob:
    """One feedback copy to write: everything the writer needs, picklable for a worker."""

    agency_id: int
    sha256: str
    target: Path
    result: ReadResult
    listed: list[Finding]
    restored: int
    year: int


def _write_copy(job: _CopyJob) -> str | None:
    """Write one copy (in a worker when there are several); the problem in Chinese, or None."""
    try:
        write_feedback(job.result, job.listed, job.target, year=job.year, source_sha256=job.sha256,
                       restored=job.restored)
    except PermissionError:
        return f"校验意见文件“{job.target}”被占用（可能正在 Excel 中打开），未能更新。请关闭该文件后再运行一次。"
    except OSError as e:
        return f"校验意见文件“{job.target}”无法写入（{e.strerror or e}）。请检查磁盘空间和文件夹权限后再运行一次。"
    return None


# below this many copies the workers' start-up costs more than it saves
_PARALLEL_COPIES = 4


def feedback_outdated(ws: Workspace, agency_id: int) -> bool:
    """The agency's current version has findings and its copy in 校验意见/ is missing or older."""
    return bool(_stale_copies(ws, [agency_id]))


def _stale_copies(ws: Workspace, agency_ids: Sequence[int] | None) -> list[tuple[int, str, str, Path, str]]:
    """(agency id, current sha256, file name it came as, target, findings JSON) of each copy to write."""
    out: list[tuple[int, str, str, Path, str]] = []
    wanted = None if agency_ids is None else set(agency_ids)
    for r in ws.conn.execute("SELECT id, name FROM agencies ORDER BY id").fetchall():
        if wanted is not None and r["id"] not in wanted:
            continue
        cur = ws.current(r["id"])
        if cur is None:
            continue
        chk = cached_check(ws, cur["sha256"])
        if chk is None or chk["status"] == "unreadable" or not (chk["errors"] or chk["warnings"]):
            continue
        have = ws.conn.execute("SELECT sha256 FROM feedback WHERE agency_id = ?", (r["id"],)).fetchone()
        target = ws.root / FEEDBACK / feedback_name(ws.year, r["name"])
        if have is not None and have[0] == cur["sha256"] and target.exists():
            continue
        if is_summary_file(ws.stored_path(cur["sha256"])):  # a lower level's summary: no copy
            continue
        out.append((r["id"], cur["sha256"], cur["file"], target, chk["findings"]))
    return out


def _copy_jobs(ws: Workspace, agency_ids: Sequence[int] | None) -> list[_CopyJob]:
    jobs: list[_CopyJob] = []
    year = ws.year
    stale = _stale_copies(ws, agency_ids)
    prev: PreviousData | None = previous_data(ws) if stale else None
    for aid, sha, file, target, findings in stale:
        res = read_file(ws.stored_path(sha), expect_year=year, expect_format=format_for_year(year).id)
        if res.report is None:
            continue
        res = replace(res, path=file)
        # the copy lists what it shows (a restored total says so), as check's copies do
        listed, restored = feedback_findings(res, findings_from_json(findings), prev)
        jobs.append(_CopyJob(aid, sha, target, res, listed, restored, year))
    return jobs


def refresh_feedback(ws: Workspace, agency_ids: Sequence[int] | None = None,
                     workers: int | None = None) -> tuple[list[Path], list[str]]:
    """Bring 校验意见/ up to date: one copy per agency (of ``agency_ids``, default all) whose
    current version has findings and whose copy is missing or older. Several copies are
    written by worker processes (a copy is a whole template drawn again, ~90 ms)."""
    jobs = _copy_jobs(ws, agency_ids)
    nw = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if nw > 1 and len(jobs) >= _PARALLEL_COPIES:
        with ProcessPoolExecutor(max_workers=nw, mp_context=pool_context()) as ex:
            problems_of = list(ex.map(_write_copy, jobs))
    else:
        problems_of = [_write_copy(j) for j in jobs]
    written: list[Path] = []
    problems: list[str] = []
    log: list[tuple[str, str, str, str | None]] = []
    for job, problem in zip(jobs, problems_of, strict=True):
        if problem is not None:
            problems.append(problem)
            continue
        at = now_iso()
        with tx(ws.conn):
            ws.conn.execute("INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?)",
                            (job.agency_id, job.sha256, f"{FEEDBACK}/{job.target.name}", at))
            what = f"生成校验意见：{job.target.name}"
            log.append((*audit(ws.conn, what, job.sha256, at), what, job.sha256))
        written.append(job.target)
    append_log(ws.root, log)
    return written, problems


def outdated(ws: Workspace) -> list[str]:
    """The agencies whose feedback copy is due (missing, or older than the current version)."""
    return [ws.agency_name(aid) for aid, *_ in _stale_copies(ws, None)]


def sent(ws: Workspace, agency: str) -> Path | None:
    """Record that the agency's feedback went out, after bringing its copy up to date (what is
    recorded as sent is the copy of the current version); returns the copy, if it has one."""
    aid = ws.agency_id(agency)
    cur = current_or_fail(ws, aid)
    _, problems = refresh_feedback(ws, [aid], workers=1)
    if problems:
        raise WorkspaceError(problems[0])
    ws.record(f"已退回修改（校验意见已发出）：{ws.agency_name(aid)}", cur["sha256"], kind="sent", agency_id=aid)
    row = ws.conn.execute("SELECT path, sha256 FROM feedback WHERE agency_id = ?", (aid,)).fetchone()
    return ws.root / row["path"] if row is not None and row["sha256"] == cur["sha256"] else None
