"""Benchmark of the season workspace (issue 10). Printed figures, not timed tests.

Usage: ``python bench/bench_workspace.py [N ...]`` (default 200). For each N:

* cold ``receive`` of N filled workbooks (hash, store, guard + read + validate, record)
  against python-calamine alone reading the same files' values, in turn, three times
  (goal ≤ 2×); ``XLTOOL_BENCH_DIR`` says where the workspaces are made;
* warm: ``receive`` of 10 new files into that workspace, then ``status`` (goal: status
  ≤ 5 % of the cold receive);
* ``combine --workspace`` from the cached results;
* ``template --workspace`` for 200 agencies (goal ≤ 3 s).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import YEAR, calamine_only, make_files

from xltool.cli import main
from xltool.pipeline.synth import synth_values
from xltool.spec import format_for_year

# where the workspaces are made (default: the system's temporary folder). On a freshly made
# virtual disk, creating a file under /tmp was seen to cost 0.6–1 ms of kernel time against
# 0.12 ms in another folder of the same disk (cause not pinned down); a
# receive creates one file per input, so the folder is worth stating with the figures
BENCH_DIR = os.environ.get("XLTOOL_BENCH_DIR") or None


def roster(path: Path, names: list[str]) -> Path:
    path.write_text("单位名称,联系人\n" + "".join(f"{n},联系人{i}\n" for i, n in enumerate(names)), encoding="utf-8")
    return path


def extras(d: Path, n: int, start: int) -> list[Path]:
    from xltool.write.template import write_workbook

    fmt = format_for_year(YEAR)
    rng = random.Random(start)
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        p = d / f"{YEAR}年_单位{i:05d}_政府信息公开年报.xlsx"
        write_workbook(p, fmt, YEAR, agency=f"单位{i:05d}", values=dict(synth_values(fmt, rng, size=5)), overwrite=True)
        out.append(p)
    return out


def timed(*argv: str | Path) -> float:
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        rc = main([str(a) for a in argv])
    assert rc in (0, 1), rc
    return time.perf_counter() - t


# VmHWM, not ru_maxrss: ru_maxrss survives exec, so a child started by a large bench process
# would report that process's size at the fork (and RUSAGE_CHILDREN mixes in the workers)
MEASURE_COMBINE = """
import resource, sys
from xltool.cli import main
rc = main(["combine", "--workspace", sys.argv[1], "--out", sys.argv[2]])
hwm = next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM"))
print(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)
"""


def combine_rss(ws: Path) -> float:
    """Peak RSS (MiB) of ``combine --workspace`` in a process of its own (its VmHWM; Linux)."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", MEASURE_COMBINE, str(ws), str(ws / "汇总" / "rss.xlsx")],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[-3]) / 1024


def _cpu() -> float:
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _fresh(base: Path, k: int, names: list[str]) -> Path:
    ws = base / f"ws{k}"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(ws), "--year", str(YEAR), "--roster", str(roster(base / f"名单{k}.csv", names))]) == 0
    return ws


def run(n: int, rounds: int = 3) -> None:
    """Floor and cold receive measured in turn, ``rounds`` times, each receive into a fresh
    workspace: on a shared machine the speed drifts by half within a minute, so a ratio is
    only fair between neighbours. The median of the rounds' ratios is the figure."""
    print(f"N = {n}")
    paths = make_files(n)
    base = Path(tempfile.mkdtemp(prefix="xltool-bench-ws-", dir=BENCH_DIR))
    try:
        names = [f"单位{i:05d}" for i in range(n + 10)]
        calamine_only(paths[: min(20, n)])  # warm the page cache
        ratios, colds, floors = [], [], []
        ws = base
        for k in range(rounds):
            c0 = _cpu()
            floor = calamine_only(paths)
            c1 = _cpu()
            ws = _fresh(base, k, names)
            c2 = _cpu()
            cold = timed("receive", ws, paths[0].parent)
            c3 = _cpu()
            ratios.append(cold / floor)
            colds.append(cold)
            floors.append(floor)
            print(f"  round {k + 1}: calamine-only {floor:6.2f} s ({1000 * (c1 - c0) / n:.2f} ms CPU/file), "
                  f"cold receive {cold:6.2f} s ({1000 * (c3 - c2) / n:.2f} ms CPU/file, all processes) "
                  f"= {cold / floor:.2f}× floor")
        new = extras(base / "new", 10, n)
        warm_receive = timed("receive", ws, *new)
        warm_status = timed("status", ws)
        comb = timed("combine", "--workspace", ws)
        rss = combine_rss(ws)
        cold = statistics.median(colds)
        print(f"  calamine-only floor      {statistics.median(floors):7.2f} s  (median of {rounds})")
        print(f"  cold receive             {cold:7.2f} s  (median; median of the rounds' ratios "
              f"{statistics.median(ratios):.2f}× floor)")
        print(f"  warm receive of 10 new   {warm_receive:7.2f} s")
        print(f"  warm status              {warm_status:7.2f} s  ({100 * warm_status / cold:.1f} % of cold receive)")
        print(f"  combine --workspace      {comb:7.2f} s")
        print(f"  combine --workspace, own process: peak RSS {rss:.0f} MiB")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def templates(n: int = 200) -> None:
    base = Path(tempfile.mkdtemp(prefix="xltool-bench-tpl-", dir=BENCH_DIR))
    try:
        ws = base / "ws"
        r = roster(base / "名单.csv", [f"单位{i:05d}" for i in range(n)])
        assert main(["init", str(ws), "--year", str(YEAR), "--roster", str(r)]) == 0
        t = timed("template", "--workspace", ws)
        print(f"template --workspace, {n} agencies: {t:.2f} s ({1000 * t / n:.0f} ms each)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["200"]:
        run(int(arg))
    templates(200)
