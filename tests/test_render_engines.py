"""The rendered files in real engines: DOCX → PDF with LibreOffice Writer (one batch), HTML → PDF
and a screenshot with headless Chromium.

Both engines are optional on a developer machine: the tests skip with the reason when the
engine is missing, and fail instead when XLTOOL_REQUIRE_WRITER=1 / XLTOOL_REQUIRE_CHROMIUM=1.
(Writer has its own switch: CI's XLTOOL_REQUIRE_SOFFICE=1 is about Calc, which CI installs alone.)
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import writer_available
from xltool.cli import main
from xltool.pipeline.combine import combine
from xltool.pipeline.synth import synth_values
from xltool.spec import V2021
from xltool.workbook.soffice import convert, make_profile
from xltool.write.template import write_workbook

YEAR = 2025
A4 = (595.3, 841.9)  # points
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"]




def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


def need(ok: bool, env: str, reason: str) -> None:
    if ok:
        return
    if os.environ.get(env) == "1":
        pytest.fail(f"{env}=1 but {reason}")
    pytest.skip(reason)


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """Page sizes from the PDF's /MediaBox entries (both engines write them uncompressed)."""
    return [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)]


def pdf_text(path: Path) -> str | None:
    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    return subprocess.run([exe, "-layout", str(path), "-"], capture_output=True, text=True, timeout=60, check=True).stdout


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An agency report, a forced draft and the district summary, rendered to HTML and DOCX."""
    d = tmp_path_factory.mktemp("engines")
    vals = synth_values(V2021, random.Random(4), size=8)
    good = write_workbook(d / "good.xlsx", V2021, YEAR, agency="威海市环翠区科学技术局", values=vals,
                          narrative={"sec1": "2025年，我局认真贯彻落实条例。", "sec6": "本年度未收取信息处理费。"})
    bad_vals = dict(vals)
    bad_vals["sec3.carry_forward.natural"] = vals["sec3.carry_forward.natural"] + 3
    bad = write_workbook(d / "bad.xlsx", V2021, YEAR, agency="某某局", values=bad_vals)
    for i, name in enumerate(("甲局", "乙局")):
        write_workbook(d / "in" / f"{name}.xlsx", V2021, YEAR, agency=name, values=synth_values(V2021, random.Random(i)))
    summ = d / "汇总.xlsx"
    combine([d / "in"], out=summ, year=YEAR)
    out: dict[str, Path] = {}
    for name, src, extra in (("good", good, []), ("bad", bad, ["--force"]),
                             ("summary", summ, ["--agency", "威海市环翠区人民政府"])):
        main(["render", str(src), "--html", str(d / f"{name}.html"), "--docx", str(d / f"{name}.docx"), *extra])
        out[f"{name}.html"] = d / f"{name}.html"
        out[f"{name}.docx"] = d / f"{name}.docx"
    out["dir"] = d
    return out


def test_docx_converts_to_pdf_with_libreoffice(outputs: dict[str, Path]) -> None:
    need(writer_available(), "XLTOOL_REQUIRE_WRITER",
         "LibreOffice Writer is not installed (apt-get install libreoffice-writer-nogui)")
    d = outputs["dir"]
    docs = [outputs[f"{n}.docx"] for n in ("good", "bad", "summary")]
    pdfs = convert(docs, d / "lo-pdf", "pdf", profile=make_profile(d / "lo-profile"))  # one soffice call
    for pdf in pdfs:
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF")
        sizes = pdf_pages(data)
        assert len(sizes) >= 2, pdf  # 表三 alone does not fit one A4 page
        assert all(abs(w - A4[0]) < 1 and abs(h - A4[1]) < 1 for w, h in sizes), sizes
    text = pdf_text(pdfs[0])
    if text is not None:
        assert "威海市环翠区科学技术局2025年政府信息公开工作" in re.sub(r"\s+", "", text)
        assert "三、收到和处理政府信息公开申请情况" in text
    summary_text = pdf_text(pdfs[2])
    if summary_text is not None:
        assert "威海市环翠区人民政府" in re.sub(r"\s+", "", summary_text)


def _chromium(exe: str, profile: Path, *args: str) -> None:
    subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                   capture_output=True, timeout=120, check=True)


def test_html_in_headless_chromium(outputs: dict[str, Path]) -> None:
    exe = find_chromium()
    need(exe is not None, "XLTOOL_REQUIRE_CHROMIUM", "Chromium is not installed (apt-get install chromium)")
    assert exe is not None
    d = outputs["dir"]
    profile = d / "chromium-profile"
    for name in ("good", "bad", "summary"):
        html = outputs[f"{name}.html"]
        pdf = d / f"{name}-chromium.pdf"
        _chromium(exe, profile, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", html.resolve().as_uri())
        sizes = pdf_pages(pdf.read_bytes())
        assert len(sizes) >= 2 and all(abs(w - A4[0]) < 1 and abs(h - A4[1]) < 1 for w, h in sizes), (name, sizes)
        text = pdf_text(pdf)
        if text is not None:
            flat = re.sub(r"\s+", "", text)
            assert "政府信息公开工作年度报告" in flat and "四、政府信息公开行政复议、行政诉讼情况" in flat
            if name == "bad":
                assert "未通过校验" in flat
    shot = d / "good.png"
    _chromium(exe, profile, f"--screenshot={shot}", "--window-size=1000,1400", "--hide-scrollbars",
              outputs["good.html"].resolve().as_uri())
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000  # a page with text, not a blank image
