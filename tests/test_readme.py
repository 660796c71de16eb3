"""The README is part of the product: its catalogue and commands must match the code."""

from __future__ import annotations

import csv
import itertools
import os
import random
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import Workbook

from xltool.cli import build_parser
from xltool.core.findings import REGISTRY, catalogue_markdown

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_catalogue_in_readme_is_current() -> None:
    m = re.search(r"<!-- catalogue:start[^>]*-->\n(.*?)<!-- catalogue:end -->", README, re.S)
    assert m, "README lost its catalogue markers"
    assert m.group(1).strip() == catalogue_markdown().strip(), (
        "README catalogue is stale: run `make catalogue` (docs/make_catalogue.py)"
    )
    for code in REGISTRY:
        assert f"`{code}`" in README


def test_readme_commands_parse() -> None:
    """Every `xltool …` command line shown in the README is accepted by the CLI parser."""
    parser = build_parser()
    blocks = re.findall(r"```[a-z]*\n(.*?)```", README, re.S)
    lines = [ln.strip() for b in blocks for ln in b.splitlines() if ln.strip().startswith("xltool ")]
    assert len(lines) >= 3
    for ln in lines:
        argv = ln.split()[1:]
        if "|" in ln or "…" in ln or "--help" in argv:
            continue
        args = parser.parse_args(argv)
        assert callable(args.func), ln


# --- every README example runs, as written, on the samples ------------------------------

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def readme_examples() -> list[str]:
    """The `xltool …` lines of the README's ```bat / ```sh / ```bash blocks, in order."""
    blocks = re.findall(r"```(?:bat|sh|bash)\n(.*?)```", README, re.S)
    return [ln.strip() for b in blocks for ln in b.splitlines() if ln.strip().startswith("xltool ")]


class _CopiedText(HTMLParser):
    """A page's text as a browser copies it: table cells separated by tabs, rows and blocks by lines."""

    BLOCKS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "li", "tr", "br", "caption"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0
        self.row_start = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in ("style", "script", "head")
        if tag == "tr":
            self.row_start = True
        elif tag in ("td", "th"):
            self.parts.append("" if self.row_start else "\t")
            self.row_start = False

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("style", "script", "head")
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(" ".join(data.split()))


def _copied_text(html: str) -> str:
    p = _CopiedText()
    p.feed(html)
    return "".join(p.parts)


def _workspace(root: Path, soffice_profile: Path | None) -> None:
    """The files the README's examples name, made from samples/ (nothing is invented by hand):
    the roster as .xlsx, last year's summary, the returns, last year's published reports of three
    agencies (rendered from the 2024 returns the samples were made from), and this year's reports
    as downloaded from the agencies' sites."""
    import zipfile

    from xltool.pipeline import sampledata
    from xltool.pipeline.render import prepare
    from xltool.spec import V2021
    from xltool.workbook.meta import template_filename
    from xltool.workbook.soffice import convert
    from xltool.write.render.docx import write_docx
    from xltool.write.render.html import to_html, write_html
    from xltool.write.render.model import RenderDoc

    shutil.copytree(SAMPLES / "returns", root / "回收")
    wb = Workbook()
    with (SAMPLES / "roster.csv").open(encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f):
            wb.active.append(row)
    wb.save(root / "单位名单.xlsx")
    (summary,) = (SAMPLES / "last-year").glob("*.xlsx")
    shutil.copy(summary, root / "2024年全区汇总.xlsx")
    # last year's returns, exactly as samples/generate.py made them before combining them
    last = root / "_2024"
    sampledata.make_returns(last, V2021, sampledata.YEAR - 1, None, random.Random(sampledata.SEED), {})

    def report(folder: Path, year: int, name: str, force: bool = False) -> RenderDoc:
        return prepare(folder / template_filename(year, name), force=force).doc

    write_html(report(last, 2024, "威海市环翠区民政局"), root / "2024年报网页.html")
    kj = report(last, 2024, "威海市环翠区科学技术局")
    write_docx(kj, root / "科技局2024年报.docx")
    write_html(kj, root / "科技局2024年报.html")
    (root / "复制的年报.txt").write_text(_copied_text(to_html(report(last, 2024, "威海市环翠区财政局"))),
                                       encoding="utf-8")
    shutil.rmtree(last)
    # this year: files as they arrive, and reports downloaded from the agencies' sites
    down = root / "下载"
    down.mkdir()
    returns = root / "回收"
    shutil.copy(returns / template_filename(2025, "威海市环翠区科学技术局"), down / "科技局年报.xlsx")
    with zipfile.ZipFile(down / "街道报表.zip", "w") as z:
        for p in sorted(returns.glob("*街道办事处*.xlsx")):
            z.write(p, p.name)
    write_docx(report(returns, 2025, "威海市环翠区财政局"), down / "财政局年报.docx")
    if soffice_profile is not None:
        kj25 = write_docx(report(returns, 2025, "威海市环翠区科学技术局", force=True), root / "_kj.docx")
        (pdf,) = convert([kj25], root / "_pdf", "pdf", profile=soffice_profile)
        shutil.move(pdf, down / "科技局年报.pdf")
        kj25.unlink()
        shutil.rmtree(root / "_pdf")


OUTPUT_OPTIONS = ("--out", "-o", "--html", "--docx", "--json", "--feedback", "--xlsx")


def test_readme_examples_run_on_the_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run every README example, in README order, in one folder set up from samples/: each
    exits 0 or 1 as documented (1 = problems found in the samples, which have them on purpose),
    never 2 (a usage or input error, e.g. a file the example names does not exist) or a traceback."""
    from xltool.cli import main
    from xltool.workbook.soffice import find_soffice, make_profile

    examples = readme_examples()
    assert len(examples) >= 8
    needs_pdf = any(".pdf" in ln for ln in examples)
    profile = make_profile(tmp_path / "lo") if needs_pdf and find_soffice() else None
    if needs_pdf and profile is None and os.environ.get("XLTOOL_REQUIRE_SOFFICE") == "1":
        pytest.fail("XLTOOL_REQUIRE_SOFFICE=1 but LibreOffice (soffice) is not installed")
    work = tmp_path / "年报"
    work.mkdir()
    _workspace(work, profile)
    monkeypatch.chdir(work)
    results = []
    for ln in examples:
        argv = ln.split()[1:]
        if "--help" in argv:
            continue
        if profile is None and any(a.endswith(".pdf") for a in argv):
            results.append((ln, "skipped: no LibreOffice to make the PDF it names"))
            continue
        try:
            code = main(argv)
        except SystemExit as e:  # argparse
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        results.append((ln, code))
        assert code in (0, 1), f"README example failed (exit {code}):\n  {ln}\n{err or out}"
        # and it made what it says it makes (render exits 1 when it refuses a workbook with errors)
        made = [v for k, v in itertools.pairwise(argv) if k in OUTPUT_OPTIONS and v != "-"]
        missing = [v for v in made if not Path(v).exists()]
        assert not missing, f"README example made no {missing} (exit {code}):\n  {ln}\n{out}\n{err}"
    assert sum(isinstance(r[1], int) for r in results) >= len(examples) - 1, results
