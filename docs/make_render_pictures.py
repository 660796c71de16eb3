"""Render the ``xltool render`` pictures from real files.

    .venv/bin/python docs/make_render_pictures.py

HTML → PNG with headless Chromium (``apt-get install chromium``); DOCX → PDF with LibreOffice
Writer (``libreoffice-writer-nogui``) → PNG with pdftoppm (``poppler-utils``). A CJK font
(fonts-wqy-zenhei or fonts-noto-cjk) is needed for the Chinese text. Pictures go to
``docs/img/``. The agency is the first clean sample of ``xltool.pipeline.sampledata`` (the demo data),
so the pictures show what ``make demo`` users get. Kept apart from make_pictures.py so that
the xlsx pictures do not need Chromium; the lead may merge the two.
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
from xltool.pipeline.render import prepare  # noqa: E402
from xltool.workbook.soffice import convert  # noqa: E402
from xltool.write.render.docx import write_docx  # noqa: E402
from xltool.write.render.html import write_html  # noqa: E402

IMG = ROOT / "docs" / "img"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--hide-scrollbars"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    raise SystemExit("chromium is not installed (apt-get install chromium)")


def main() -> None:
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install libreoffice-writer-nogui poppler-utils)")
    exe = chromium()
    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        sampledata.main(tmp / "data")
        name = sampledata.AGENCIES[0][0]
        book = next(p for p in (tmp / "data" / "returns").glob("*.xlsx") if name in p.name)
        prep = prepare(book)
        html = write_html(prep.doc, tmp / "sample.html")
        docx = write_docx(prep.doc, tmp / "sample.docx")
        png = IMG / "render-sample.png"
        subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'chromium'}", f"--screenshot={png}",
                        "--window-size=1000,1500", html.resolve().as_uri()], check=True, capture_output=True)
        print(f"{png.relative_to(ROOT)}  (HTML, headless Chromium)")
        pdf = convert([docx], tmp / "pdf", "pdf")[0]
        stem = IMG / "render-sample-docx"
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
                       check=True)
        print(f"{stem.relative_to(ROOT)}.png  (DOCX page 1, LibreOffice)")


if __name__ == "__main__":
    main()
