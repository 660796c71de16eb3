"""Mutation fuzz of the reader and check (issue 15): seeded, ~300 mutants, a few seconds.

Three good files (a filled V2019 and V2021 template, the foreign sample table) get one
mutation each (``tests/fuzz_gen.py``: byte flips, truncation, zip members renamed or
removed, XML attribute whitespace, far cells, encoding declarations, control characters,
huge counts) and are checked as ``xltool check`` does, in one batch through the worker pool.
The run must print no traceback, list every file once, never pass (通过) a file whose
numbers differ from its original unless a finding names the cell, leave every input as it
was, lose no worker to a parser abort, and keep the memory of the process bounded.
``bench/bench_fuzz.py`` runs the same with thousands of fresh mutants.
"""

from __future__ import annotations

import importlib
import resource
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
fz = importlib.import_module("fuzz_gen")

SEED = 20250415
N_MUTANTS = 300
RSS_GROWTH_MAX_MB = 400  # of this process over the run (the workers have their own memory limit)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], dict[str, object]]:
    d = tmp_path_factory.mktemp("fuzz-originals")
    files = fz.originals(d)
    facts = {f.path: f for f in fz.check_facts(files)}
    for f in facts.values():
        assert f.status == "ok", (f.path, f.codes)  # the originals pass
    return files, facts


def test_fuzz_mutants_are_judged_safely(tmp_path: Path, bases, capfd: pytest.CaptureFixture[str]) -> None:
    files, originals = bases
    mutants = fz.make_mutants(files, tmp_path / "m", N_MUTANTS, SEED)
    assert {m.kind for m in mutants} == set(fz.KINDS)
    rss0 = _rss_mb()
    facts = fz.check_facts([m.path for m in mutants])
    grown = _rss_mb() - rss0
    out, err = capfd.readouterr()
    assert "Traceback" not in err + out, (err + out)[-3000:]
    v = fz.judge(mutants, facts, originals)
    assert not v.listed_wrong, v.listed_wrong[:5]
    assert not v.inputs_changed, v.inputs_changed[:5]
    assert not v.crashed, f"worker aborts (a guard gap): {v.crashed[:5]}"
    assert not v.mismatched_ok, f"通过 with other numbers and no finding: {v.mismatched_ok[:5]}"
    assert not v.wrongly_ok, f"passed although Excel would refuse it or a reader would allocate the grid: {v.wrongly_ok[:5]}"
    assert grown < RSS_GROWTH_MAX_MB, f"the process grew by {grown:.0f} MB"
    # the fuzz reaches every verdict: some mutants still pass, many are unreadable
    assert v.by_status.get("ok", 0) > 0 and v.by_status.get("unreadable", 0) > 0, v.by_status
