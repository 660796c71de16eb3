"""Render the README pictures from real files: xlsx → PDF (LibreOffice) → PNG (pdftoppm).

    .venv/bin/python docs/make_pictures.py

Needs ``soffice`` (libreoffice-calc-nogui) and ``pdftoppm`` (poppler-utils), plus a CJK
font (fonts-wqy-zenhei or fonts-noto-cjk) so the Chinese text renders. Pictures go to
``docs/img/``. The pages are found by their text (pdftotext), not by number, so a layout
change does not silently picture the wrong page.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xltool import sampledata  # noqa: E402
from xltool.pipeline.combine import combine  # noqa: E402
from xltool.spec import format_for_year  # noqa: E402
from xltool.workbook.soffice import convert  # noqa: E402

IMG = ROOT / "docs" / "img"


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def page_png(pdf: Path, must_contain: list[str], target: Path, dpi: int = 80) -> None:
    """Render the first page whose text contains every string of ``must_contain``."""
    pages = pdf_pages(pdf)
    squash = [p.replace(" ", "") for p in pages]
    want = [w.replace(" ", "") for w in must_contain]
    hits = [i for i, text in enumerate(squash, start=1) if all(w in text for w in want)]
    if not hits:
        raise SystemExit(f"no page of {pdf.name} contains {must_contain}")
    i = hits[0]
    stem = target.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(i), "-l", str(i), "-singlefile",
                    str(pdf), str(stem)], check=True)
    print(f"{target.relative_to(ROOT)}  (page {i} of {pdf.name})")


def main() -> None:
    for tool in ("soffice", "pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install libreoffice-calc-nogui poppler-utils)")
    IMG.mkdir(parents=True, exist_ok=True)
    fmt = format_for_year(sampledata.YEAR)
    sec3 = fmt.table("sec3")
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        sampledata.main(tmp / "data")
        returns = tmp / "data" / "returns"
        # a filled agency workbook (the first clean sample) shows the template as agencies see it
        clean = sampledata.AGENCIES[0][0]
        agency_file = next(p for p in returns.glob("*.xlsx") if clean in p.name)
        summary = tmp / "summary.xlsx"
        combine([returns], year=sampledata.YEAR, roster=tmp / "data" / "roster.csv", out=summary, force=True)
        pdfs = convert([agency_file, summary], tmp / "pdf", "pdf")
        page_png(pdfs[0], [sec3.caption, sec3.rows[0].label], IMG / "template-sec3.png")
        page_png(pdfs[1], ["汇总", sec3.caption, sec3.rows[0].label], IMG / "summary-sec3.png")
        page_png(pdfs[1], ["全区政府信息公开申请办理结果"], IMG / "summary-chart.png")


if __name__ == "__main__":
    main()
