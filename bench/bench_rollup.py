"""Benchmark of the multi-level roll-up (issue 12). Printed figures, not timed tests.

Usage: ``python bench/bench_rollup.py [CITIES DISTRICTS AGENCIES]`` (default 16 10 100: a
province of 16,000 bodies). District summaries are written from generated numbers (no agency
files: the summary writer is what a district would run), then each city is combined from its
districts' summaries and the province from the cities'. For the national scale (about 200,000
bodies in about 3,000 districts) run e.g. ``python bench/bench_rollup.py 300 10 67``.
Prints the time of each level and the peak RSS of the process.
"""

from __future__ import annotations

import hashlib
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from xltool.core.combined import Submission
from xltool.core.model import AgencyReport, CellValue, FileStatus, ReportMeta
from xltool.pipeline.combine import combine, consolidate
from xltool.pipeline.synth import synth_values
from xltool.spec import format_for_year
from xltool.write.summary import write_summary

YEAR = 2025


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def district(path: Path, name: str, n: int, rng: random.Random) -> None:
    fmt = format_for_year(YEAR)
    subs = []
    for i in range(n):
        values = dict(synth_values(fmt, rng, size=5))
        for rel in fmt.formula_order:
            values[rel.target] = sum(values.get(p, 0) for p in rel.parts)
        agency = f"{name}单位{i:03d}"
        meta = ReportMeta(agency=agency, year=YEAR, format=fmt.id)
        subs.append(Submission(path=Path(f"{agency}.xlsx"), status=FileStatus.OK,
                               report=AgencyReport(meta=meta, values={k: CellValue.of(v) for k, v in values.items()}),
                               sha256=hashlib.sha256(agency.encode()).hexdigest()))
    result = consolidate(subs, year=YEAR)
    result.district = name
    write_summary(result, path)


def main(cities: int, districts: int, agencies: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="xltool-bench-rollup-"))
    rng = random.Random(7)
    try:
        t = time.perf_counter()
        city_dirs = []
        for c in range(cities):
            d = base / f"市{c:03d}"
            d.mkdir()
            for k in range(districts):
                district(d / f"区{k:02d}.xlsx", f"市{c:03d}区{k:02d}", agencies, rng)
            city_dirs.append(d)
        t_gen = time.perf_counter() - t
        n = cities * districts * agencies
        print(f"{n:,} bodies: {cities} cities × {districts} districts × {agencies} agencies")
        print(f"  wrote {cities * districts} district summaries in {t_gen:.1f} s")
        t = time.perf_counter()
        city_files = []
        for d in city_dirs:
            out = base / f"{d.name}.xlsx"
            combine([d], year=YEAR, out=out, district=d.name)
            city_files.append(out)
        t_city = time.perf_counter() - t
        print(f"  {cities} city summaries from their districts: {t_city:.1f} s ({t_city / cities:.2f} s each)")
        t = time.perf_counter()
        prov = combine(city_files, year=YEAR, out=base / "省.xlsx", district="某省")
        t_prov = time.perf_counter() - t
        size = (base / "省.xlsx").stat().st_size / 1e6
        print(f"  province from {cities} city summaries: {t_prov:.1f} s, {len(prov.rows):,} agencies, "
              f"{size:.1f} MB; level {prov.level}")
        print(f"  peak RSS of this process: {rss_mib():.0f} MiB")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]] if len(sys.argv) >= 4 else [16, 10, 100]
    main(*args)
