"""Benchmark of ``combine`` (read + validate + consolidate + write) against python-calamine-only
reading of the same files.

Usage: ``python bench/bench_combine.py [N ...]`` (default 200 2000; 20000 works too, the
files are generated once and cached, shared with bench_check.py).
``python bench/bench_combine.py --write-only N`` times only the summary writer for N
agencies built in memory (no files), e.g. 20000.
Each size runs in a fresh process so the peak RSS printed is that run's own.
Timings are printed, not asserted (goal: whole combine ≤ 3× calamine-only at 2,000 files).
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import YEAR, calamine_only, make_files


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int) -> None:
    from xltool.pipeline.combine import combine

    paths = make_files(n)
    folder = paths[0].parent
    calamine_only(paths[: min(20, n)])  # warm the page cache
    floor = statistics.median(calamine_only(paths) for _ in range(3))
    print(f"N = {n}")
    print(f"  calamine-only (1 process, all sheets): {floor:.2f} s  ({floor / n * 1000:.2f} ms/file)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.xlsx"
        t = time.perf_counter()
        res = combine([folder], year=YEAR, out=out, force=True)
        total = time.perf_counter() - t
        size = out.stat().st_size / 1e6
    tm = res.timings
    read_validate = tm.get("check.read+validate", tm["check"])
    validate = tm.get("check.validate", 0.0)
    print(
        f"  combine: {total:.2f} s ({total / n * 1000:.2f} ms/file, {total / floor:.1f}x calamine-only); "
        f"read {read_validate - validate:.2f} s, validate {validate:.2f} s, "
        f"other check phases {tm['check'] - read_validate:.2f} s, consolidate {tm['consolidate']:.2f} s, "
        f"write {tm['write']:.2f} s ({size:.1f} MB); agencies {len(res.rows)}, excluded {len(res.excluded)}; "
        f"peak RSS {_rss_mib():.0f} MiB"
    )


def write_only(n: int) -> None:
    """The summary writer alone for N agencies (reports built in memory)."""
    from xltool.core.model import AgencyReport, CellValue, ReportMeta
    from xltool.pipeline.combine import Submission, consolidate
    from xltool.pipeline.synth import synth_values
    from xltool.spec import format_for_year
    from xltool.write.summary import write_summary

    fmt = format_for_year(YEAR)
    rng = random.Random(n)
    subs = []
    for i in range(n):
        vals = synth_values(fmt, rng, size=rng.uniform(0.5, 20), with_totals=True)
        rep = AgencyReport.model_construct(
            meta=ReportMeta(agency=f"单位{i:05d}", year=YEAR, format=fmt.id),
            values={k: CellValue.of(v) for k, v in vals.items()}, narrative={}, extras={})
        subs.append(Submission(Path(f"/in/{i}.xlsx"), "ok", rep, [], "0" * 64, 1.7e9 + i))
    t = time.perf_counter()
    res = consolidate(subs)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = write_summary(res, Path(tmp) / "s.xlsx")
        t2 = time.perf_counter()
        size = out.stat().st_size / 1e6
    print(f"write-only N = {n}: consolidate {t1 - t:.2f} s, write {t2 - t1:.2f} s ({size:.1f} MB), "
          f"peak RSS {_rss_mib():.0f} MiB (inputs held in memory included)")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        run(int(argv[1]))
        return 0
    if argv[:1] == ["--write-only"]:
        for a in argv[1:] or ["20000"]:
            write_only(int(a))
        return 0
    sizes = [int(a) for a in argv] or [200, 2000]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for n in sizes:
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
