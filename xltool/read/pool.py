"""Read many workbooks in worker processes, so one hostile file costs one worker, not the batch.

Why processes: python-calamine aborts the whole process (SIGABRT, uncatchable) when a file
makes it allocate too much, and a parser can hang. The guard stops every such file we
know of, but the batch must survive the ones we do not know yet. Each worker sets
``RLIMIT_AS`` (its own address space at start + ``memory_mb``), reads chunks of paths and
sends one result per file back at once, so the parent always knows which file a worker
was on when it died or stalled: that file becomes ``unreadable`` with a Chinese reason,
the worker is replaced, and the rest of its chunk is read again. Results come back in
input order.

Small batches (≤ ``SMALL_BATCH`` files) are read in-process after the guard, see
``read_many``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from xltool.read.guard import DEFAULT_LIMITS, GuardLimits
from xltool.read.reader import ReadResult, read_file, unreadable

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
SMALL_BATCH = 3


# --- finding files ---------------------------------------------------------------------


def find_workbooks(paths: Iterable[str | Path], suffixes: tuple[str, ...] = WORKBOOK_SUFFIXES) -> list[Path]:
    """Workbooks under ``paths`` (files or folders, recursive), sorted, without duplicates.

    Skips Office lock files (``~$…``) and hidden files and folders (``.…``) found in
    folders; a file named explicitly is always kept (the user asked for it).
    """
    found: dict[str, Path] = {}
    sfx = tuple(s.lower() for s in suffixes)
    for p in paths:
        p = Path(p)
        if p.is_file():
            found.setdefault(os.path.normcase(os.path.abspath(p)), p)
            continue
        if not p.is_dir():
            continue
        stack = [str(p)]
        while stack:
            d = stack.pop()
            try:
                it = os.scandir(d)
            except OSError:
                continue
            with it:
                for e in it:
                    name = e.name
                    if name.startswith((".", "~$")):
                        continue
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        elif name.lower().endswith(sfx) and e.is_file():
                            found.setdefault(os.path.normcase(os.path.abspath(e.path)), Path(e.path))
                    except OSError:
                        continue
    return sorted(found.values(), key=lambda q: str(q))


# --- workers ---------------------------------------------------------------------------


def _vm_size() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    limit = _vm_size() + memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _worker_main(conn: Connection, memory_mb: int, limits: GuardLimits, expect: dict[str, Any]) -> None:
    import faulthandler

    faulthandler.disable()  # a parser abort is reported by the parent, not dumped on stderr
    _limit_memory(memory_mb)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        for idx, path in job:
            try:
                res = read_file(path, limits=limits, **expect)
            except MemoryError:
                res = unreadable(path, "FILE_MEMORY", _MEMORY_MSG.format(mb=memory_mb))
            conn.send((idx, res))


_MEMORY_MSG = "读取时超出内存上限（{mb} MB），文件可能含有大量无关内容或被恶意构造。请删除无关内容后重新报送。"
_CRASH_MSG = ("读取该文件时读取进程异常终止（{why}），文件可能被恶意构造或已损坏。"
              "请用 Excel/WPS 打开确认内容后另存为新的 .xlsx 文件再报送。")
_TIMEOUT_MSG = "读取超时（超过 {sec:g} 秒），文件可能被恶意构造或过于复杂。请删除无关内容后重新报送。"


class _Worker:
    def __init__(self, ctx: Any, memory_mb: int, limits: GuardLimits, expect: dict[str, Any]) -> None:
        parent, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, memory_mb, limits, expect), daemon=True)
        self.proc.start()
        child.close()
        self.conn: Connection = parent
        self.inflight: deque[tuple[int, str]] = deque()
        self.deadline = 0.0

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
        self.proc.join(1.0 if not kill else 5.0)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5.0)
        self.conn.close()


def _context() -> Any:
    methods = mp.get_all_start_methods()
    # fork: workers start in milliseconds and share the imported modules; elsewhere spawn.
    # XLTOOL_START_METHOD=spawn forces the Windows/macOS way (tests use it).
    forced = os.environ.get("XLTOOL_START_METHOD")
    if forced in methods:
        return mp.get_context(forced)
    return mp.get_context("fork" if "fork" in methods and sys.platform != "darwin" else "spawn")


def _why(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        import signal

        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = str(-exitcode)
        if name == "SIGABRT":
            return "程序中止 SIGABRT，常见于内存分配失败"
        if name == "SIGKILL":
            return "被系统强制结束 SIGKILL，常见于内存耗尽"
        return f"信号 {name}"
    return f"退出码 {exitcode}"


def read_many(
    paths: Iterable[str | Path],
    *,
    workers: int | None = None,
    timeout: float = 30.0,
    memory_mb: int = 1024,
    progress: Callable[[int, int], None] | None = None,
    limits: GuardLimits = DEFAULT_LIMITS,
    chunk: int | None = None,
    isolate: bool | None = None,
    **expect: Any,
) -> Iterator[ReadResult]:
    """Read every file (``read_file`` with ``expect_*``); results in input order.

    ``workers`` defaults to the CPU count. ``timeout`` is per file, ``memory_mb`` the extra
    address space a worker may take. ``progress(done, total)`` is called as files finish.
    ``isolate``: None = worker processes unless the batch has at most ``SMALL_BATCH``
    files; those are read in-process after the guard (the guard bounds what the parser
    allocates, and a pool would cost more than the reading itself). True/False force it.
    """
    files = [str(p) for p in paths]
    n = len(files)
    if not n:
        return
    for k in expect:
        if k not in ("expect_year", "expect_agency", "expect_format"):
            raise TypeError(f"read_many() got an unexpected keyword argument {k!r}")
    if isolate is None:
        isolate = n > SMALL_BATCH
    if not isolate:
        for i, f in enumerate(files, 1):
            res = read_file(f, limits=limits, **expect)
            if progress is not None:
                progress(i, n)
            yield res
        return
    yield from _pool_read(files, workers, timeout, memory_mb, progress, limits, chunk, expect)


def _pool_read(
    files: list[str],
    workers: int | None,
    timeout: float,
    memory_mb: int,
    progress: Callable[[int, int], None] | None,
    limits: GuardLimits,
    chunk: int | None,
    expect: dict[str, Any],
) -> Iterator[ReadResult]:
    n = len(files)
    nw = max(1, min(workers or os.cpu_count() or 1, n))
    size = chunk or max(1, min(32, n // (nw * 4)))
    ctx = _context()
    pool = [_Worker(ctx, memory_mb, limits, expect) for _ in range(nw)]
    pending: deque[tuple[int, str]] = deque(enumerate(files))
    results: dict[int, ReadResult] = {}
    nxt = done = 0

    def finish(idx: int, res: ReadResult) -> None:
        nonlocal done
        results[idx] = res
        done += 1
        if progress is not None:
            progress(done, n)

    def fail(w: _Worker, code: str, message: str) -> None:
        """The file ``w`` was on is unreadable; requeue the rest of its chunk; replace it."""
        if w.inflight:
            idx, path = w.inflight.popleft()
            finish(idx, unreadable(path, code, message))
            pending.extendleft(reversed(w.inflight))
            w.inflight.clear()
        pool[pool.index(w)] = _Worker(ctx, memory_mb, limits, expect)

    try:
        while nxt < n:
            now = time.monotonic()
            for w in pool:
                if not w.inflight and pending:
                    job = [pending.popleft() for _ in range(min(size, len(pending)))]
                    w.inflight.extend(job)
                    w.deadline = now + timeout
                    w.conn.send(job)
            busy = [w for w in pool if w.inflight]
            if busy:
                wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
                wait([x for w in busy for x in (w.conn, w.proc.sentinel)], timeout=wait_for)
            for w in list(busy):
                dead = False
                try:
                    while w.inflight and w.conn.poll():
                        idx, res = w.conn.recv()
                        if w.inflight and w.inflight[0][0] == idx:
                            w.inflight.popleft()
                        finish(idx, res)
                        w.deadline = time.monotonic() + timeout
                except (EOFError, OSError):
                    dead = True
                if not w.inflight:
                    continue
                if dead or not w.proc.is_alive():
                    w.proc.join(1.0)
                    code = w.proc.exitcode
                    w.stop(kill=True)
                    fail(w, "FILE_CRASHED", _CRASH_MSG.format(why=_why(code)))
                elif time.monotonic() > w.deadline:
                    w.stop(kill=True)
                    fail(w, "FILE_TIMEOUT", _TIMEOUT_MSG.format(sec=timeout))
            while nxt in results:
                yield results.pop(nxt)
                nxt += 1
    finally:
        for w in pool:
            w.stop(kill=bool(w.inflight))
