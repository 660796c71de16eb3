"""The per-file Report interface on real checked files (the samples)."""

from __future__ import annotations

from pathlib import Path

from xltool.core.report import FLAT_COLUMNS
from xltool.pipeline.check import check_paths

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "returns"


def test_checked_files_report_valid_stats_flatten() -> None:
    run = check_paths([SAMPLES], year=2025)
    assert run.files
    seen_invalid = seen_valid = False
    for f in run.files:
        assert f.stats["errors"] == f.errors and f.stats["warnings"] == f.warnings
        assert f.stats["findings"] == len(f.findings)
        if f.status == "invalid":
            assert not f.valid
            seen_invalid = True
        elif f.status == "ok":
            assert f.valid
            seen_valid = True
        rows = f.flatten()
        assert len(rows) == len(f.findings)
        assert all(len(r) == len(FLAT_COLUMNS) for r in rows)
        assert [r[0] for r in rows] == [x.code for x in f.findings]
    assert seen_invalid and seen_valid  # the samples hold both kinds
