"""Rewrite the samples in this folder (deterministic: same numbers every time).

    python samples/generate.py [OUT_DIR]

The generator itself is ``xltool.sampledata`` (so ``xltool demo`` can make the same data
on a machine that has only the installed package).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from xltool.sampledata import main  # noqa: E402

if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    main(out)
    print(f"samples written under {out}")
