"""Benchmark of ``check_paths`` against python-calamine-only reading of the same files.

Usage: ``python bench/bench_check.py [N ...]`` (default 200 2000). Filled workbooks are
generated once with the template writer (about 1 in 10 with a mistake, so validation and
findings are exercised) and cached under the system temp dir. Prints per-phase times
and the ratio to the calamine-only floor (goal: ≤ 3×). Timings are printed, not asserted.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

from xltool.pipeline.check import check_paths
from xltool.pipeline.synth import synth_values
from xltool.spec import format_for_year

YEAR = 2025
CACHE = Path(tempfile.gettempdir()) / "xltool-bench-check"


def make_files(n: int) -> list[Path]:
    """N filled workbooks of the current format (cached; regenerated when missing)."""
    from xltool.write.template import write_workbook

    fmt = format_for_year(YEAR)
    d = CACHE / f"{fmt.id}-{n}"
    d.mkdir(parents=True, exist_ok=True)
    rng = random.Random(n)
    paths = []
    t = time.perf_counter()
    made = 0
    for i in range(n):
        p = d / f"{YEAR}年_单位{i:05d}_政府信息公开年报.xlsx"
        paths.append(p)
        if p.exists():
            rng.random()
            continue
        vals: dict[str, object] = dict(synth_values(fmt, rng, size=rng.uniform(0.5, 20)))
        if rng.random() < 0.1:  # a mistake: a broken 勾稽, a "/" or a blank
            key = rng.choice([k for k in fmt.input_keys if k.startswith("sec3.")])
            vals[key] = rng.choice([(vals.get(key) or 0) + 1, "/", None])  # type: ignore[operator]
        write_workbook(p, fmt, YEAR, agency=f"单位{i:05d}", values=vals, overwrite=True)
        made += 1
    if made:
        print(f"  generated {made} files in {time.perf_counter() - t:.1f} s ({d})")
    return paths


def calamine_only(paths: list[Path]) -> float:
    """The floor: every value of every sheet with python-calamine, one process."""
    t = time.perf_counter()
    for p in paths:
        wb = CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        wb.close()
    return time.perf_counter() - t


def run(n: int) -> None:
    print(f"N = {n}")
    paths = make_files(n)
    folder = paths[0].parent
    calamine_only(paths[: min(20, n)])  # warm the page cache
    floor = statistics.median(calamine_only(paths) for _ in range(3))
    rows = []
    for workers in (None, 1):
        t = time.perf_counter()
        res = check_paths([folder], year=YEAR, workers=workers, keep_results=False)
        total = time.perf_counter() - t
        c = res.counts
        rows.append((workers, total, res.timings, c))
    print(f"  calamine-only (1 process, all sheets): {floor:.2f} s  ({floor / n * 1000:.2f} ms/file)")
    for workers, total, tm, c in rows:
        label = "default workers" if workers is None else f"workers={workers}"
        print(
            f"  check_paths ({label}): {total:.2f} s  ({total / n * 1000:.2f} ms/file, "
            f"{total / floor:.1f}x calamine-only)  phases: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in tm.items())
            + f"  [ok {c['ok']}, invalid {c['invalid']}, unreadable {c['unreadable']}]"
        )


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [200, 2000]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for n in sizes:
        run(n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
