"""Background work of the workbench (receiving, combining, templates): a thread per job and
a small registry in memory, so a page never waits on a long request. One job at a time per
workspace; the workspace database stays the record (a job opens its own connection, as
sqlite connections stay in one thread). Pages poll ``/jobs/{id}`` (JSON) for progress."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xltool.errors import XltoolError
from xltool.pipeline.workspace import Workspace, open_workspace

STAGE_ZH = {"upload": "正在保存上传的文件", "check": "正在校验", "record": "正在登记",
            "feedback": "正在生成校验意见", "combine": "正在汇总", "report": "正在生成报告和图表", "template": "正在生成模板",
            "done": "已完成", "failed": "未能完成"}
KEEP = 50  # finished jobs remembered (their results are shown once more on their page)


class Busy(Exception):
    """Another job is still running in this workspace."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.title)
        self.job = job


@dataclass
class Job:
    id: int
    kind: str  # receive | combine | template
    title: str
    started: float = field(default_factory=time.time)
    done: int = 0
    total: int = 0
    stage: str = "upload"
    finished: float | None = None
    error: str | None = None
    result: dict[str, Any] | None = None

    @property
    def running(self) -> bool:
        return self.finished is None

    def progress(self, done: int, total: int, stage: str) -> None:
        self.done, self.total, self.stage = done, total, stage

    def to_json(self) -> dict[str, Any]:
        end = self.finished or time.time()
        if self.total:
            text = f"{STAGE_ZH.get(self.stage, self.stage)}：{self.done} / {self.total}"
        else:
            text = STAGE_ZH.get(self.stage, self.stage) + "…"
        return {"id": self.id, "kind": self.kind, "title": self.title, "running": self.running,
                "done": self.done, "total": self.total, "stage": self.stage, "text": text,
                "seconds": round(end - self.started, 1), "error": self.error}


Work = Callable[[Workspace, Job], dict[str, Any]]


class Jobs:
    """The registry: ``start`` runs ``work(ws, job)`` in a thread with its own workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._next = 1

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def running(self) -> Job | None:
        with self._lock:
            return next((j for j in self._jobs.values() if j.running), None)

    def start(self, kind: str, title: str, work: Work, cleanup: Callable[[], None] | None = None) -> Job:
        with self._lock:
            busy = next((j for j in self._jobs.values() if j.running), None)
            if busy is not None:
                raise Busy(busy)
            job = Job(self._next, kind, title)
            self._next += 1
            self._jobs[job.id] = job
            for old in sorted(self._jobs)[:-KEEP]:
                del self._jobs[old]
        threading.Thread(target=self._run, args=(job, work, cleanup), daemon=True,
                         name=f"xltool-job-{job.id}").start()
        return job

    def _run(self, job: Job, work: Work, cleanup: Callable[[], None] | None) -> None:
        try:
            ws = open_workspace(self.root)
            try:
                job.result = work(ws, job)
            finally:
                ws.close()
            job.stage = "done"
        except XltoolError as e:  # WorkspaceError, CombineError, …: their Chinese message
            job.error, job.stage = str(e), "failed"
        except Exception:  # never a traceback in the page; the database is unchanged by a failed step
            job.error = "处理时发生意外错误，已停止这次操作（已完成的部分已保存）。请重试；如果反复出现，请联系技术人员。"
            job.stage = "failed"
        finally:
            if cleanup is not None:
                cleanup()
            job.finished = time.time()

    def wait(self, job_id: int, timeout: float = 600.0) -> Job:
        """Until the job has finished (tests, benchmarks)."""
        end = time.time() + timeout
        while True:
            job = self.get(job_id)
            if job is None or not job.running or time.time() > end:
                assert job is not None
                return job
            time.sleep(0.02)
