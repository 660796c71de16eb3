"""``xltool import`` of PDFs: our own rendering (render → DOCX → PDF by LibreOffice Writer) imports
to the same numbers as the workbook; a PDF without a text layer gets a clear message."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from tests.conftest import require_writer
from xltool.cli import main
from xltool.pipeline.published import narrative_findings
from xltool.read import read_file
from xltool.read.importer import import_file
from xltool.read.importer.pdf import SCANNED
from xltool.workbook.soffice import convert, make_profile

ROOT = Path(__file__).resolve().parents[1]
RETURNS = ROOT / "samples" / "returns"
SAMPLES = [
    "2025年_威海市环翠区人民政府办公室_政府信息公开年报.xlsx",
    "2025年_威海市环翠区教育和体育局_政府信息公开年报.xlsx",  # a blank cell in 表三, and 表三 across a page break
    "2025年_竹岛街道办事处_政府信息公开年报.xlsx",
    "2025年_威海市环翠区民政局_政府信息公开年报.xlsx",  # a 表二 row left blank
    "../seed/2020年_环翠区科学技术局_政府信息公开年报.xlsx",  # the seed: 2019 format, three paragraphs in 一
]




@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require_writer()
    d = tmp_path_factory.mktemp("pdf")
    docs = []
    for name in SAMPLES:
        out = d / (Path(name).stem + ".docx")
        assert (RETURNS / name).is_file()
        assert main(["render", str(RETURNS / name), "--docx", str(out), "--force"]) in (0, 1)
        docs.append(out)
    made = convert(docs, d / "pdf", "pdf", profile=make_profile(d / "lo-profile"))
    return {name: p for name, p in zip(SAMPLES, made, strict=True)}


def _shown(v: object) -> object:
    return getattr(v, "number", None) if getattr(v, "state", None) == "number" else None


@pytest.mark.parametrize("name", SAMPLES)
def test_rendered_pdf_imports_to_the_workbook_numbers(pdfs: dict[str, Path], name: str) -> None:
    book = read_file(RETURNS / name).report
    assert book is not None
    t0 = time.perf_counter()
    res = import_file(pdfs[name])
    assert time.perf_counter() - t0 < 5
    assert res.ok and res.kind == "pdf" and not res.errors, [i.message for i in res.issues]
    assert res.agency.value == book.meta.agency and res.year.value == book.meta.year
    assert res.format.value == book.meta.format
    assert set(res.values) == set(book.values)
    assert {k: _shown(v) for k, v in res.values.items()} == {k: _shown(v) for k, v in book.values.items()}
    assert res.narrative == book.narrative
    assert narrative_findings(res) == []


def test_pdf_cli_writes_a_workbook(pdfs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = pdfs[SAMPLES[0]]
    assert main(["import", str(src), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "[已导入]" in out and "（PDF）" in out
    [book] = list(tmp_path.glob("*.xlsx"))
    again = read_file(book).report
    first = read_file(RETURNS / SAMPLES[0]).report
    assert again is not None and first is not None
    assert {k: _shown(v) for k, v in again.values.items()} == {k: _shown(v) for k, v in first.values.items()}


def test_scanned_pdf_gets_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(595, 842)  # a page with no text layer, like a scan
    buf = io.BytesIO()
    w.write(buf)
    scan = tmp_path / "扫描件.pdf"
    scan.write_bytes(buf.getvalue())
    res = import_file(scan)
    assert not res.ok and res.error == SCANNED and "OCR" in SCANNED and "扫描件" in SCANNED
    assert main(["import", str(scan), "--out", str(tmp_path / "o")]) == 1
    assert "[无法导入]" in capsys.readouterr().out
    broken = tmp_path / "坏.pdf"
    broken.write_bytes(b"%PDF-1.7\n...")
    res = import_file(broken)
    assert not res.ok and "PDF" in (res.error or "")


def test_compare_with_published_pdfs(pdfs: dict[str, Path]) -> None:
    """The rendered PDFs as the published reports: each matches its agency with no difference."""
    from xltool.pipeline.compare import compare

    returns = [n for n in SAMPLES if not n.startswith("..")]
    run = compare([RETURNS], [pdfs[n] for n in returns], year=2025)
    published = {a.agency: a for a in run.agencies if a.published}
    assert len(published) == len(returns) and run.unmatched_published == []
    assert all(a.matched and not a.narrative for a in published.values())
