"""The long mutation fuzz (issue 15): rounds of fresh mutants, each round in its own process.

Usage: ``python bench/bench_fuzz.py [--rounds 3] [--n 1000] [--seed 7] [--workers 2]``.
The mutants are those of ``tests/test_fuzz.py`` (``tests/fuzz_gen.py``), made from a filled
V2019 and V2021 template and the foreign sample table; each round checks its ``n`` mutants in
one batch, as ``xltool check`` does, in a child process. Prints per round and in total:
N mutants, tracebacks (on the child's stderr), aborts (the child killed by a signal, or a
worker lost to a parser abort: FILE_CRASHED), inputs changed, mismatched 通过 (a pass with
other numbers and no finding naming the cell), files not listed once, and the verdicts by
status. Exit code 1 when any of those counts is not 0.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the tree this file is in (not another installed xltool)


def child(d: Path, seed: int, n: int, workers: int) -> None:
    """One round: originals, mutants, check, verdict; prints one JSON line."""
    import fuzz_gen as fz

    bases = fz.originals(d / "originals")
    originals = {f.path: f for f in fz.check_facts(bases, workers)}
    bad = [f.path for f in originals.values() if f.status != "ok"]
    if bad:
        raise SystemExit(f"originals do not pass: {bad}")
    mutants = fz.make_mutants(bases, d / "mutants", n, seed)
    t = time.perf_counter()
    facts = fz.check_facts([m.path for m in mutants], workers)
    dt = time.perf_counter() - t
    v = fz.judge(mutants, facts, originals)
    print(json.dumps({
        "n": v.n, "seconds": round(dt, 2), "inputs_changed": v.inputs_changed, "mismatched_ok": v.mismatched_ok,
        "listed_wrong": v.listed_wrong, "crashed": v.crashed, "wrongly_ok": v.wrongly_ok, "by_status": v.by_status, "ok_by_kind": v.by_kind_ok,
    }, ensure_ascii=False))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--child", nargs=4, metavar=("DIR", "SEED", "N", "WORKERS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(Path(a.child[0]), int(a.child[1]), int(a.child[2]), int(a.child[3]))
        return 0
    total = {"mutants": 0, "tracebacks": 0, "aborts": 0, "inputs changed": 0, "mismatched 通过": 0, "listed wrong": 0,
             "unreadable elsewhere but 通过": 0}
    statuses: dict[str, int] = {}
    for r in range(a.rounds):
        seed = a.seed * 1000 + r
        with tempfile.TemporaryDirectory(prefix="xltool-fuzz-") as tmp:
            p = subprocess.run([sys.executable, __file__, "--child", tmp, str(seed), str(a.n), str(a.workers)],
                               capture_output=True, text=True, cwd=ROOT)
        tracebacks = p.stderr.count("Traceback")
        died = p.returncode < 0
        line = next((x for x in reversed(p.stdout.splitlines()) if x.startswith("{")), None)
        if line is None:
            print(f"round {r + 1} (seed {seed}): no result, exit {p.returncode}\n{p.stderr[-2000:]}")
            total["aborts"] += int(died)
            total["tracebacks"] += tracebacks
            continue
        res = json.loads(line)
        figures = {"mutants": res["n"], "tracebacks": tracebacks, "aborts": int(died) + len(res["crashed"]),
                   "inputs changed": len(res["inputs_changed"]), "mismatched 通过": len(res["mismatched_ok"]),
                   "listed wrong": len(res["listed_wrong"]), "unreadable elsewhere but 通过": len(res["wrongly_ok"])}
        for k, x in figures.items():
            total[k] += x
        for k, x in res["by_status"].items():
            statuses[k] = statuses.get(k, 0) + x
        print(f"round {r + 1} (seed {seed}, {res['seconds']} s): "
              + ", ".join(f"{k} {x}" for k, x in figures.items()) + f"; status {res['by_status']}; 通过 by kind {res['ok_by_kind']}")
        for what in ("crashed", "mismatched_ok", "inputs_changed", "listed_wrong", "wrongly_ok"):
            for item in res[what][:5]:
                print(f"    {what}: {item}")
        if tracebacks:
            print(p.stderr[-3000:])
    print("total: " + ", ".join(f"{k} {x}" for k, x in total.items()) + f"; status {statuses}")
    return 0 if all(total[k] == 0 for k in total if k != "mutants") else 1


if __name__ == "__main__":
    sys.exit(main())
