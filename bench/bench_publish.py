"""Timings of ``xltool import`` and ``xltool render`` (figures, not tests).

    .venv/bin/python bench/bench_publish.py [N]

Per file, median and p90 over N runs: importing the seed text, a rendered HTML page and a
rendered DOCX; rendering one agency workbook (read + validate + lay out) to HTML and DOCX;
rendering the district summary of 200 agencies.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xltool.pipeline.combine import combine  # noqa: E402
from xltool.pipeline.render import prepare  # noqa: E402
from xltool.pipeline.synth import synth_values  # noqa: E402
from xltool.read.importer import import_file, write_result  # noqa: E402
from xltool.spec import V2021  # noqa: E402
from xltool.write.render.docx import write_docx  # noqa: E402
from xltool.write.render.html import write_html  # noqa: E402
from xltool.write.template import write_workbook  # noqa: E402

SEED = Path("/work/shared/seeds/000_6a92d385738fdefa.txt")


def timed(label: str, n: int, fn: Callable[[int], object]) -> None:
    ms = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    print(f"{label:<44} median {statistics.median(ms):7.1f} ms   p90 {p90:7.1f} ms   (n={n})")


def main(n: int = 20) -> None:
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        book = write_workbook(tmp / "a.xlsx", V2021, 2025, agency="某局", values=synth_values(V2021, random.Random(1), size=5))
        prep = prepare(book)
        html = write_html(prep.doc, tmp / "a.html")
        docx = write_docx(prep.doc, tmp / "a.docx")
        if SEED.exists():
            timed("import seed text (V2019)", n, lambda i: import_file(SEED))
            res = import_file(SEED)
            timed("import seed + write workbook", n, lambda i: write_result(res, tmp / f"s{i}"))
        timed("import rendered HTML (V2021)", n, lambda i: import_file(html))
        timed("import rendered DOCX (V2021)", n, lambda i: import_file(docx))
        timed("render: read + validate + lay out", n, lambda i: prepare(book))
        timed("render: write HTML", n, lambda i: write_html(prep.doc, tmp / f"h{i}.html"))
        timed("render: write DOCX", n, lambda i: write_docx(prep.doc, tmp / f"d{i}.docx"))
        for i in range(200):
            write_workbook(tmp / "in" / f"{i}.xlsx", V2021, 2025, agency=f"单位{i:03d}",
                           values=synth_values(V2021, random.Random(i)))
        summ = tmp / "summary.xlsx"
        combine([tmp / "in"], out=summ, year=2025)
        timed("render summary of 200 agencies (prepare)", max(3, n // 4), lambda i: prepare(summ, agency="某区人民政府"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
