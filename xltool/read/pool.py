"""Read many workbooks in worker processes, so one hostile file costs one worker, not the batch.

Why processes: python-calamine aborts the whole process (SIGABRT, uncatchable) when a file
makes it allocate too much, and a parser can hang. The guard stops every such file we
know of, but the batch must survive the ones we do not know yet. Each worker sets
``RLIMIT_AS`` (its own address space at start + ``memory_mb``), reads chunks of paths and
sends one result per file back at once, so the parent always knows which file a worker
was on when it died or stalled: that file becomes ``unreadable`` with a Chinese reason,
the worker is replaced, and the rest of its chunk is read again. Results come back in
input order.

Every batch is read this way, one file as a thousand (``read_many``); ``run_isolated`` runs
any other parsing call (a summary's sheets) in such a worker. Workers die with their parent.
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
from typing import Any, TypeVar

from xltool.core.findings import render
from xltool.errors import XltoolError
from xltool.read.guard import DEFAULT_LIMITS, GuardLimits
from xltool.read.reader import ReadResult, read_file, unreadable

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_T = TypeVar("_T")


# --- finding files ---------------------------------------------------------------------


def find_workbooks(
    paths: Iterable[str | Path],
    suffixes: tuple[str, ...] = WORKBOOK_SUFFIXES,
    skipped: list[tuple[str, str]] | None = None,
) -> list[Path]:
    """Workbooks under ``paths`` (files or folders, recursive), sorted, without duplicates.

    Skips Office lock files (``~$…``) and hidden files and folders (``.…``) found in
    folders; a path named explicitly is always kept (the user asked for it). Nothing else
    is dropped silently: an entry with a workbook's name is kept whatever it is (a FIFO, a
    device, a broken link: ``read_file`` reports each as unreadable without opening it), and
    a folder that cannot be listed, or a link to a folder (not followed), is appended to
    ``skipped`` as (path, Chinese reason).
    """
    found: dict[str, Path] = {}
    sfx = tuple(s.lower() for s in suffixes)

    def skip(path: str, why: str) -> None:
        if skipped is not None:
            skipped.append((path, why))

    for p in paths:
        p = Path(p)
        if not p.is_dir():
            if os.path.lexists(p):
                found.setdefault(os.path.normcase(os.path.abspath(p)), p)
            continue
        stack = [str(p)]
        while stack:
            d = stack.pop()
            try:
                it = os.scandir(d)
            except OSError as e:
                skip(d, f"文件夹无法打开（{e.strerror or type(e).__name__}），其中的文件没有读取")
                continue
            with it:
                for entry in it:
                    name = entry.name
                    if name.startswith((".", "~$")):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif name.lower().endswith(sfx):
                            found.setdefault(os.path.normcase(os.path.abspath(entry.path)), Path(entry.path))
                        elif entry.is_symlink() and entry.is_dir():
                            skip(entry.path, "是指向文件夹的链接，未进入（不跟随文件夹链接；需要时请直接给出该文件夹）")
                    except OSError as err:
                        skip(entry.path, f"无法访问（{err.strerror or type(err).__name__}），未读取")
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


# The parent's ends of the pipes of all live workers. A forked worker inherits them and closes
# them at once: an inherited end would keep its own pipe open after the parent dies.
_PARENT_ENDS: set[Connection] = set()
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _worker_setup(memory_mb: int, parent_pid: int) -> bool:
    """What every worker does first; False when its parent is already gone.

    On Linux the kernel kills the worker when its parent dies (PR_SET_PDEATHSIG); elsewhere
    the worker notices on its pipe (EOF) or by its parent id changing (``_parent_alive``).
    """
    import faulthandler

    faulthandler.disable()  # a parser abort is reported by the parent, not dumped on stderr
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl
            pass
    for end in list(_PARENT_ENDS):  # fork: copies of the parent's ends (spawn: empty)
        try:
            end.close()
        except OSError:
            pass
    _PARENT_ENDS.clear()
    if not _parent_alive(parent_pid):
        return False
    _limit_memory(memory_mb)
    return True


def _parent_alive(parent_pid: int) -> bool:
    return os.getppid() == parent_pid


def _wait_job(conn: Connection, parent_pid: int) -> Any:
    """The next job, or None when the parent says stop, closes the pipe or dies."""
    try:
        while not conn.poll(1.0):
            if not _parent_alive(parent_pid):
                return None
        return conn.recv()
    except (EOFError, OSError):
        return None


class _Deferred:
    """A result whose ``then`` failed in the worker: the parent applies it (and sees the error)."""

    def __init__(self, res: ReadResult) -> None:
        self.res = res


def _worker_main(conn: Connection, memory_mb: int, limits: GuardLimits, expect: dict[str, Any],
                 parent_pid: int, then: Callable[[ReadResult], Any] | None) -> None:
    if not _worker_setup(memory_mb, parent_pid):
        return
    while True:
        job = _wait_job(conn, parent_pid)
        if job is None:
            return
        for idx, path in job:
            try:
                res = read_file(path, limits=limits, **expect)
            except MemoryError:
                res = unreadable(path, "FILE_MEMORY", "worker", mb=memory_mb)
            except Exception as e:  # read_file catches the file's faults; a bug must not print a traceback either
                res = unreadable(path, "FILE_PARSE_ERROR", why=type(e).__name__)
            out: Any = res
            if then is not None:
                try:
                    out = then(res)
                except Exception:  # the parent applies it again, where an error is seen
                    out = _Deferred(res)
            try:
                conn.send((idx, out))
            except (OSError, ValueError):  # the parent is gone
                return




class _Worker:
    def __init__(self, ctx: Any, memory_mb: int, limits: GuardLimits, expect: dict[str, Any],
                 then: Callable[[ReadResult], Any] | None = None) -> None:
        parent, child = ctx.Pipe(duplex=True)
        _PARENT_ENDS.add(parent)
        self.proc = ctx.Process(target=_worker_main, args=(child, memory_mb, limits, expect, os.getpid(), then),
                                daemon=True)
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
        _PARENT_ENDS.discard(self.conn)
        self.conn.close()


def pool_context() -> Any:
    """The multiprocessing context the workers use (for other stages' process pools)."""
    return _context()


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
    expect_year: int | None = None,
    expect_agency: str | None = None,
    expect_format: str | None = None,
) -> Iterator[ReadResult]:
    """Read every file (``read_file`` with ``expect_*``); results in input order.

    ``workers`` defaults to the CPU count. ``timeout`` is per file, ``memory_mb`` the extra
    address space a worker may take. ``progress(done, total)`` is called as files finish.
    ``isolate``: None or True = worker processes, whatever the batch size, so one file's
    verdict never depends on how many came with it (a parser abort costs a worker, never the
    run: the memory limit and the timeout hold for one file as for a thousand). False reads
    in this process, without those protections: only for callers that accept that (tests).
    """
    files = [str(p) for p in paths]
    n = len(files)
    if not n:
        return
    expect: dict[str, Any] = {"expect_year": expect_year, "expect_agency": expect_agency,
                              "expect_format": expect_format}
    if isolate is False:
        for i, f in enumerate(files, 1):
            res = read_file(f, limits=limits, **expect)
            if progress is not None:
                progress(i, n)
            yield res
        return
    yield from _pool_read(files, workers, timeout, memory_mb, progress, limits, chunk, expect, None)


def read_many_then(
    paths: Iterable[str | Path],
    then: Callable[[ReadResult], _T],
    *,
    workers: int | None = None,
    timeout: float = 30.0,
    memory_mb: int = 1024,
    progress: Callable[[int, int], None] | None = None,
    limits: GuardLimits = DEFAULT_LIMITS,
    expect_year: int | None = None,
    expect_format: str | None = None,
) -> Iterator[_T]:
    """``then(result)`` of every file, applied in the worker that read it (in input order).

    Why: judging a result where it was read spares pickling the whole result to the parent
    and back, and spreads the judging over the workers instead of the one parent. ``then``
    must be picklable where workers are spawned (a module-level function or a partial of one);
    for a file whose worker died it runs in the parent, on the unreadable result."""
    files = [str(p) for p in paths]
    if not files:
        return
    expect: dict[str, Any] = {"expect_year": expect_year, "expect_agency": None, "expect_format": expect_format}
    for out in _pool_read(files, workers, timeout, memory_mb, progress, limits, None, expect, then):
        yield then(out.res) if isinstance(out, _Deferred) else out


def _pool_read(
    files: list[str],
    workers: int | None,
    timeout: float,
    memory_mb: int,
    progress: Callable[[int, int], None] | None,
    limits: GuardLimits,
    chunk: int | None,
    expect: dict[str, Any],
    then: Callable[[ReadResult], Any] | None,
) -> Iterator[Any]:
    n = len(files)
    nw = max(1, min(workers or os.cpu_count() or 1, n))
    size = chunk or max(1, min(32, n // (nw * 4)))
    ctx = _context()
    pool = [_Worker(ctx, memory_mb, limits, expect, then) for _ in range(nw)]
    pending: deque[tuple[int, str]] = deque(enumerate(files))
    results: dict[int, Any] = {}
    nxt = done = 0

    def finish(idx: int, res: Any) -> None:
        nonlocal done
        results[idx] = res
        done += 1
        if progress is not None:
            progress(done, n)

    def fail(w: _Worker, code: str, *, why: str | None = None, sec: float | None = None) -> None:
        """The file ``w`` was on is unreadable (its code's wording takes ``why`` or ``sec``);
        requeue the rest of its chunk; replace it."""
        if w.inflight:
            idx, path = w.inflight.popleft()
            res = unreadable(path, code, why=why) if sec is None else unreadable(path, code, sec=sec)
            finish(idx, res if then is None else _Deferred(res))
            pending.extendleft(reversed(w.inflight))
            w.inflight.clear()
        pool[pool.index(w)] = _Worker(ctx, memory_mb, limits, expect, then)

    try:
        while nxt < n:
            now = time.monotonic()
            for w in pool:
                # the next chunk goes out while half of this one is left: a worker never waits
                # for the caller, which may be busy with the results already yielded
                if len(w.inflight) <= size // 2 and pending:
                    job = [pending.popleft() for _ in range(min(size, len(pending)))]
                    if not w.inflight:  # the timeout runs from the last result, not from this send
                        w.deadline = now + timeout
                    w.inflight.extend(job)
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
                    fail(w, "FILE_CRASHED", why=_why(code))
                elif time.monotonic() > w.deadline:
                    w.stop(kill=True)
                    fail(w, "FILE_TIMEOUT", sec=timeout)
            while nxt in results:
                yield results.pop(nxt)
                nxt += 1
    finally:
        for w in pool:
            w.stop(kill=bool(w.inflight))


# --- one call in a worker ------------------------------------------------------------------


class IsolatedError(XltoolError):
    """A call run by ``run_isolated`` failed; the message (Chinese) says how."""


def _run_one(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], memory_mb: int, parent_pid: int) -> None:
    if not _worker_setup(memory_mb, parent_pid):
        return
    try:
        out: tuple[str, Any] = ("ok", fn(*args))
    except MemoryError:
        out = ("error", render("FILE_MEMORY", "worker", mb=memory_mb))
    except XltoolError as e:
        out = ("error", str(e))
    except Exception as e:
        out = ("error", render("FILE_PARSE_ERROR", why=f"{type(e).__name__}: {str(e)[:120]}"))
    try:
        conn.send(out)
    except (OSError, ValueError):
        pass




def run_isolated(fn: Callable[..., _T], *args: object, timeout: float = 60.0, memory_mb: int = 1024) -> _T:
    """``fn(*args)`` in a worker process with the pool's protections (memory limit, timeout, dies
    with its parent); returns its result. A failure of any kind, the worker's death included,
    raises ``IsolatedError`` with a Chinese message. ``fn`` must be a module-level function, and
    its arguments and result picklable (spawn)."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    _PARENT_ENDS.add(parent)
    proc = ctx.Process(target=_run_one, args=(child, fn, args, memory_mb, os.getpid()), daemon=True)
    try:
        proc.start()
        child.close()
        deadline = time.monotonic() + timeout
        got: tuple[str, Any] | None = None
        while got is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise IsolatedError(render("FILE_TIMEOUT", sec=timeout))
            ready = wait([parent, proc.sentinel], timeout=left)
            if parent in ready:
                try:
                    got = parent.recv()
                except (EOFError, OSError):
                    proc.join(1.0)
                    raise IsolatedError(render("FILE_CRASHED", why=_why(proc.exitcode))) from None
            elif proc.sentinel in ready and not parent.poll():
                proc.join(1.0)
                raise IsolatedError(render("FILE_CRASHED", why=_why(proc.exitcode)))
        kind, value = got
        if kind != "ok":
            raise IsolatedError(value)
        return value
    finally:
        if proc.pid is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5.0)
        _PARENT_ENDS.discard(parent)
        parent.close()
