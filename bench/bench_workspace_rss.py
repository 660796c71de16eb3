"""Peak RSS of ``combine --workspace`` over many agencies (issue 10: goal < 400 MB at 20,000).

Usage: ``python bench/bench_workspace_rss.py [N]`` (default 20000). Writes N filled workbooks
(two processes, cached under $TMPDIR/xltool-bench-ws-rss-N; each file seeded by its number),
receives them into a fresh workspace, then runs ``combine --workspace`` in a process of its own
and prints that process's peak RSS and, apart, its reader workers'. Printed figures only.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workspace import MEASURE_COMBINE, roster, timed

from xltool.pipeline.synth import synth_values
from xltool.spec import format_for_year

YEAR = 2025



def _one(task: tuple[str, int]) -> None:
    from xltool.write.template import write_workbook

    path, i = task
    if Path(path).exists():
        return
    fmt = format_for_year(YEAR)
    rng = random.Random(i)
    vals: dict[str, object] = dict(synth_values(fmt, rng, size=rng.uniform(0.5, 20)))
    tmp = Path(path).with_suffix(".part")
    write_workbook(tmp, fmt, YEAR, agency=f"单位{i:05d}", values=vals, overwrite=True)
    tmp.replace(path)


def files(n: int) -> Path:
    d = Path(tempfile.gettempdir()) / f"xltool-bench-ws-rss-{n}"
    d.mkdir(exist_ok=True)
    tasks = [(str(d / f"{YEAR}年_单位{i:05d}_政府信息公开年报.xlsx"), i) for i in range(n)]
    t = time.perf_counter()
    with get_context("spawn").Pool(2) as pool:
        for _ in pool.imap_unordered(_one, tasks, chunksize=50):
            pass
    print(f"  {n:,} files ready in {time.perf_counter() - t:.0f} s ({d})")
    return d


def run(n: int) -> None:
    print(f"N = {n:,}")
    src = files(n)
    base = Path(tempfile.mkdtemp(prefix="xltool-bench-ws-rss-"))
    try:
        ws = base / "ws"
        names = [f"单位{i:05d}" for i in range(n)]
        timed("init", ws, "--year", str(YEAR), "--roster", roster(base / "名单.csv", names))
        print(f"  receive                  {timed('receive', ws, src):7.1f} s")
        wal = ws / "state.sqlite-wal"
        print(f"  state.sqlite {(ws / 'state.sqlite').stat().st_size / 2**20:.0f} MiB, "
              f"WAL {wal.stat().st_size / 2**20 if wal.exists() else 0:.0f} MiB")
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", MEASURE_COMBINE, str(ws), str(base / "汇总.xlsx")],
                             capture_output=True, text=True, check=True).stdout.split()
        self_kib, workers_kib, rc = (int(x) for x in out[-3:])
        print(f"  combine --workspace      {time.perf_counter() - t:7.1f} s (exit {rc})")
        print(f"  peak RSS: combine process {self_kib / 1024:.0f} MiB, its reader workers {workers_kib / 1024:.0f} MiB")
    finally:
        if not os.environ.get("XLTOOL_BENCH_KEEP"):
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"  kept {base}")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
