"""Reader benchmark: python-calamine alone (the floor) vs guard vs read_file vs read_many.

    .venv/bin/python bench/bench_read.py [N]        (N filled workbooks, default 200)

The workbooks are written once with ``template.write_workbook`` and cached under the
system temp folder. Prints wall-clock figures; nothing is asserted (timings are not tests).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import python_calamine as pc

from xltool.pipeline.synth import synth_values
from xltool.read import guard, read_file, read_many
from xltool.spec import V2021
from xltool.write.template import write_workbook


def make_files(n: int) -> list[Path]:
    d = Path(tempfile.gettempdir()) / "xltool-bench-read" / str(n)
    d.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        p = d / f"agency{i:05d}.xlsx"
        if not p.exists():
            vals = synth_values(V2021, random.Random(i), size=1 + (i % 7))
            write_workbook(p, V2021, 2025, agency=f"单位{i:05d}", values=vals,
                           narrative={"sec1": "总体情况" * 50})
        files.append(p)
    return files


def calamine_all(p: Path) -> None:
    wb = pc.CalamineWorkbook.from_path(str(p))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python(skip_empty_area=False)


def timed(label: str, fn, files: list[Path], floor: float | None = None) -> float:  # type: ignore[no-untyped-def]
    per: list[float] = []
    t0 = time.perf_counter()
    for f in files:
        t = time.perf_counter()
        fn(f)
        per.append(time.perf_counter() - t)
    total = time.perf_counter() - t0
    ratio = f"  {total / floor:4.2f}x floor" if floor else ""
    print(f"{label:<34} {total:7.3f} s  median {statistics.median(per) * 1000:6.2f} ms  "
          f"p90 {sorted(per)[int(len(per) * 0.9)] * 1000:6.2f} ms{ratio}")
    return total


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    t = time.perf_counter()
    files = make_files(n)
    print(f"{n} files ready in {time.perf_counter() - t:.1f} s "
          f"({sum(f.stat().st_size for f in files) / n / 1024:.0f} KB each), {os.cpu_count()} CPUs")
    for f in files[:20]:  # warm the page cache and the imports
        calamine_all(f)
        read_file(f)
    floor = timed("python-calamine, all sheets (1 proc)", calamine_all, files)
    timed("guard alone (1 proc)", guard, files, floor)
    timed("read_file (1 proc)", read_file, files, floor)
    for workers in (1, 2):
        t = time.perf_counter()
        res = list(read_many(files, workers=workers, expect_year=2025))
        total = time.perf_counter() - t
        bad = sum(r.status != "ok" or bool(r.findings) for r in res)
        print(f"{'read_many, ' + str(workers) + ' worker(s)':<34} {total:7.3f} s  "
              f"{total / n * 1000:6.2f} ms/file  {total / floor:4.2f}x floor  ({bad} with findings)")


if __name__ == "__main__":
    main()
