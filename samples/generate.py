"""Rewrite the samples in this folder (deterministic: same numbers every time).

    python samples/generate.py [OUT_DIR]

The generator itself is ``xltool.pipeline.sampledata`` (so ``xltool demo`` can make the same data
on a machine that has only the installed package). When the project's shared seed report
(环翠区科学技术局 2020, format 2019; a copy is kept in ``seed/`` as ``…_原文.txt``) is
imported with ``xltool import`` into ``seed/`` as a filled 2019-format workbook.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from xltool.pipeline.sampledata import main  # noqa: E402
from xltool.read.importer import import_file, write_result  # noqa: E402

SEED = HERE / "seed" / "环翠区科学技术局2020年度报告_原文.txt"


def seed_workbook(out: Path) -> Path | None:
    if not SEED.exists():
        return None
    res = import_file(SEED)
    if res.error:
        raise SystemExit(f"seed import failed: {res.error}")
    target = out / "seed"
    for old in target.glob("*.xlsx"):
        old.unlink()
    return write_result(res, target, overwrite=True, created=datetime(2021, 1, 20, 9, 0, 0))


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    main(out)
    seed = seed_workbook(out)
    print(f"samples written under {out}" + (f"; seed report as {seed.name}" if seed else ""))
