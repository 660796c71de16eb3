"""Benchmark of the roll-up at the national scale (issue 12). Printed figures, not timed tests.

Usage: ``python bench/bench_national.py [PROVINCES [CITIES DISTRICTS AGENCIES]]`` (default
31 10 10 65: 3,100 districts, 201,500 reporting bodies). District summaries are written from
generated numbers (two worker processes; set ``XLTOOL_BENCH_DIR`` to keep them for a rerun),
then every level is combined from the one below, as each office would on its own PC: 310 city
summaries, 31 province summaries and the national one. Prints the time of each level, the
slowest single combine of the level (what one office waits for) and the peak RSS.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_rollup import YEAR, district

from xltool.pipeline.combine import combine


def rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _district(task: tuple[str, str, int, int]) -> str:
    path, name, n, seed = task
    if not Path(path).exists():
        tmp = Path(path).with_suffix(".part.xlsx")
        district(tmp, name, n, random.Random(seed))
        tmp.replace(path)
    return path


def _level(groups: dict[Path, list[Path]], level: str) -> tuple[list[Path], float, float]:
    """Combine each group of child summaries into its parent file; returns (outputs, total, slowest)."""
    outs: list[Path] = []
    slowest = 0.0
    t0 = time.perf_counter()
    for out, children in groups.items():
        t = time.perf_counter()
        if not out.exists():
            combine(children, year=YEAR, out=out, district=out.stem, level=level)
        slowest = max(slowest, time.perf_counter() - t)
        outs.append(out)
    return outs, time.perf_counter() - t0, slowest


def main(provinces: int, cities: int, districts: int, agencies: int) -> None:
    keep = os.environ.get("XLTOOL_BENCH_DIR")
    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="xltool-bench-national-"))
    base.mkdir(parents=True, exist_ok=True)
    n_d = provinces * cities * districts
    print(f"{n_d * agencies:,} bodies in {n_d:,} districts: {provinces} provinces × {cities} cities × "
          f"{districts} districts × {agencies} agencies")
    try:
        tasks = []
        city_groups: dict[Path, list[Path]] = {}
        prov_groups: dict[Path, list[Path]] = {}
        for p in range(provinces):
            pdir = base / f"省{p:02d}"
            pdir.mkdir(exist_ok=True)
            prov_file = base / f"省{p:02d}.xlsx"
            prov_groups[prov_file] = []
            for c in range(cities):
                cdir = pdir / f"省{p:02d}市{c:02d}"
                cdir.mkdir(exist_ok=True)
                city_file = pdir / f"省{p:02d}市{c:02d}.xlsx"
                prov_groups[prov_file].append(city_file)
                city_groups[city_file] = []
                for k in range(districts):
                    name = f"省{p:02d}市{c:02d}区{k:02d}"
                    path = cdir / f"{name}.xlsx"
                    city_groups[city_file].append(path)
                    tasks.append((str(path), name, agencies, hash((p, c, k)) & 0xFFFF))
        t = time.perf_counter()
        with get_context("spawn").Pool(2) as pool:
            for i, _ in enumerate(pool.imap_unordered(_district, tasks, chunksize=4), 1):
                if i % 200 == 0:
                    print(f"    {i:,}/{len(tasks):,} district summaries", flush=True)
        print(f"  wrote {len(tasks):,} district summaries in {time.perf_counter() - t:.0f} s (2 processes)")
        _, total, slow = _level(city_groups, "city")
        print(f"  {len(city_groups)} city summaries: {total:.0f} s in all, slowest {slow:.1f} s "
              f"({districts * agencies:,} bodies each); peak RSS {rss_mib():.0f} MiB", flush=True)
        _, total, slow = _level(prov_groups, "province")
        print(f"  {len(prov_groups)} province summaries: {total:.0f} s in all, slowest {slow:.1f} s "
              f"({cities * districts * agencies:,} bodies each); peak RSS {rss_mib():.0f} MiB", flush=True)
        t = time.perf_counter()
        nation = base / "全国.xlsx"
        nation.unlink(missing_ok=True)
        res = combine(list(prov_groups), year=YEAR, out=nation, district="全国", level="nation")
        t_n = time.perf_counter() - t
        print(f"  national summary from {provinces} province summaries: {t_n:.0f} s, {len(res.rows):,} bodies, "
              f"{nation.stat().st_size / 1e6:.0f} MB; peak RSS {rss_mib():.0f} MiB "
              f"(reader workers {rss_mib(resource.RUSAGE_CHILDREN):.0f} MiB)")
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:5]]
    defaults = [31, 10, 10, 65]
    main(*(args + defaults[len(args):]))
