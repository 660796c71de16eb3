"""Text copied out of a PDF (select all in a viewer, paste into a .txt) imports when unambiguous.

Two sources of such text: our own rendering of sample agency workbooks (render → DOCX → PDF by
LibreOffice Writer) passed through pypdf's ``extract_text`` (what a viewer's copy gives: numbers
separated by single spaces, labels wrapped in their cells, vertical group labels, stacked and
run-together header cells, the header repeated across a page break), and hand-made variants
written from the spec's labels with the wraps the wild has (a label's second half before the
numbers, after them, or three lines of label and then the numbers). The numbers must come out
as the workbook's; a row whose numbers ran together (1020) must be listed, never split.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import require_writer
from xltool.cli import main
from xltool.core.findings import REGISTRY
from xltool.pipeline.synth import synth_values
from xltool.read import read_file
from xltool.read.importer import from_text, import_file
from xltool.read.importer.core import ImportResult
from xltool.spec import V2019, V2021, Format, Style, Table
from xltool.workbook.soffice import convert, make_profile

ROOT = Path(__file__).resolve().parents[1]
RETURNS = ROOT / "samples" / "returns"
SAMPLES = [
    "2025年_威海市环翠区人民政府办公室_政府信息公开年报.xlsx",
    "2025年_威海市环翠区教育和体育局_政府信息公开年报.xlsx",  # 表三 across a page break
    "2025年_竹岛街道办事处_政府信息公开年报.xlsx",
    "2025年_威海市环翠区民政局_政府信息公开年报.xlsx",  # a 表二 row left blank: a label with no number
    "2025年_威海市环翠区应急管理局_政府信息公开年报.xlsx",  # the 2019 format in a 2025 report
    "../seed/2020年_环翠区科学技术局_政府信息公开年报.xlsx",  # the seed: 2019 format
]


SOURCES = ("docx", "html")




@pytest.fixture(scope="module")
def copied(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Each sample rendered to PDF, its text as a viewer's copy gives it, saved as .txt."""
    require_writer()
    from pypdf import PdfReader

    d = tmp_path_factory.mktemp("copied")
    docs = []
    for name in SAMPLES:  # Word's layout, and the web page's (LibreOffice breaks its rows across pages)
        for source in SOURCES:
            out = d / f"{Path(name).stem}_{source}.{source}"
            assert main(["render", str(RETURNS / name), f"--{source}", str(out), "--force"]) in (0, 1)
            docs.append(out)
    pdfs = convert(docs, d / "pdf", "pdf", profile=make_profile(d / "lo-profile"))
    out: dict[tuple[str, str], Path] = {}
    for doc, pdf in zip(docs, pdfs, strict=True):
        txt = d / f"{doc.stem}_复制.txt"
        txt.write_text("\n".join(p.extract_text() for p in PdfReader(pdf).pages), encoding="utf-8")
        name = next(n for n in SAMPLES if doc.stem.startswith(Path(n).stem))
        out[(name, doc.suffix[1:])] = txt
    return out


def _shown(v: object) -> object:
    return getattr(v, "number", None) if getattr(v, "state", None) == "number" else None


@pytest.mark.parametrize("name", SAMPLES)
def test_text_copied_from_a_rendered_pdf_imports_to_the_workbook_numbers(copied: dict[tuple[str, str], Path],
                                                                         name: str) -> None:
    path = copied[(name, "docx")]
    text = path.read_text(encoding="utf-8")
    assert "\t" not in text and "\n" in text  # no cells: lines only
    assert from_text(text).copied
    book = read_file(RETURNS / name).report
    assert book is not None
    res = import_file(path)
    assert res.ok and not res.errors, [i.message for i in res.issues]
    assert res.agency.value == book.meta.agency and res.year.value == book.meta.year
    assert res.format.value == book.meta.format
    assert set(res.values) == set(book.values)
    assert {k: _shown(v) for k, v in res.values.items()} == {k: _shown(v) for k, v in book.values.items()}
    assert res.narrative == book.narrative  # wrapped prose lines rejoined, "2025 年" spaces dropped
    assert not any(i.code == "COPIED_TEXT_UNPLACED" for i in res.issues)


@pytest.mark.parametrize("name", SAMPLES)
def test_text_copied_from_a_web_page_pdf_imports_to_the_workbook_numbers(copied: dict[tuple[str, str], Path],
                                                                         name: str) -> None:
    """The web page printed to PDF: narrow label cells (labels over up to 8 lines), rows broken
    across pages with the header repeated between a label's two halves (``2.其他法律 0 0 …`` ⏎ header
    ⏎ ``开 行政法规禁`` ⏎ ``止公开``), group labels split across the page. pypdf loses the title's
    text in this layout (and some commas), so agency and year are given as ``--agency``/``--year``."""
    book = read_file(RETURNS / name).report
    assert book is not None
    res = import_file(copied[(name, "html")], agency=book.meta.agency, year=book.meta.year)
    assert res.ok and not res.errors, [i.message for i in res.issues]
    assert res.format.value == book.meta.format
    assert {k: _shown(v) for k, v in res.values.items()} == {k: _shown(v) for k, v in book.values.items()}
    assert not any(i.code == "COPIED_TEXT_UNPLACED" for i in res.issues), [i.message for i in res.issues]


def test_copied_cli_writes_the_same_workbook(copied: dict[tuple[str, str], Path], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    name = SAMPLES[1]
    assert main(["import", str(copied[(name, "docx")]), "--out", str(tmp_path)]) == 0
    assert "[已导入]" in capsys.readouterr().out
    [book] = list(tmp_path.glob("*.xlsx"))
    again, first = read_file(book).report, read_file(RETURNS / name).report
    assert again is not None and first is not None
    assert {k: _shown(v) for k, v in again.values.items()} == {k: _shown(v) for k, v in first.values.items()}


# --- hand-made copies, written from the spec's labels ---------------------------------------


def _full(fmt: Format, seed: int) -> dict[str, int | float]:
    vals = dict(synth_values(fmt, random.Random(seed), size=4))
    for rel in fmt.formula_order:
        vals[rel.target] = sum(vals.get(p, 0) for p in rel.parts)
    return vals


def _chunks(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]


def _num(v: int | float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _table_lines(t: Table, vals: dict[str, int | float], wrap: int, variants: list[str]) -> list[str]:
    """One table as a PDF viewer copies it: long labels wrapped at ``wrap`` characters, in turn
    before the numbers, after them, and on lines of their own before a line of numbers."""
    out: list[str] = []
    if t.style == Style.GRID:
        out += [t.caption, " ".join([t.header_first, *(c.label for c in t.columns)])]
    elif t.style == Style.MATRIX:
        out += [*_chunks(t.header_first, 20), t.column_root]
        for c in t.columns:
            out += _chunks(c.label, 2)  # stacked in narrow header cells
    else:
        out += [" ".join(r.label for r in t.rows[:1]) + " " + t.rows[1].groups[0]]
        for c in t.columns:
            out += _chunks(c.label, 2)
        out += [" ".join(r.label for r in t.rows[1:])]
        out += [" ".join(c.label for c in t.columns)] * 2
        out.append(" ".join(_num(vals[t.cell_key(r.key, c.key)]) for r in t.rows for c in t.columns))
        return out
    seen: set[str] = set()
    turn = 0
    for r in t.rows:
        for g in r.groups:
            if g not in seen:
                seen.add(g)
                out += _chunks(g, 2)  # vertical group labels
        nums = " ".join(_num(vals[t.cell_key(r.key, c.key)]) for c in t.columns)
        parts = _chunks(r.label, wrap)
        if len(parts) == 1:
            out.append(f"{r.label} {nums}")
            continue
        how = variants[turn % len(variants)]
        turn += 1
        if how == "before":
            out += [*parts[:-1], f"{parts[-1]} {nums}"]
        elif how == "after":
            out += [f"{parts[0]} {nums}", "".join(parts[1:])]
        else:
            out += [*parts, nums]
    return out


def hand_copy(fmt: Format, year: int, vals: dict[str, int | float], *, wrap: int = 14,
              variants: tuple[str, ...] = ("before", "after", "lines")) -> str:
    agency = "某某市某某区某某局"
    title = f"{agency}{year} 年政府信息公开工作年度报告"
    lines = _chunks(title, 20)
    for s in fmt.sections:
        lines.append(s.heading)
        if s.narrative:
            lines += [f"{year} 年，我局认真贯彻落实政府信息公开条例，稳步推进主动公", "开、依申请公开等工作。"]
        for t in fmt.tables_of(s.key):
            lines += _table_lines(t, vals, wrap, list(variants))
    return "\n".join(lines) + "\n"


def numbers(res: ImportResult) -> dict[str, object]:
    return {k: _shown(v) for k, v in res.values.items()}


@pytest.mark.parametrize("fmt,year", [(V2021, 2025), (V2019, 2020)], ids=["2021", "2019"])
@pytest.mark.parametrize("variants", [("before",), ("after",), ("lines",), ("before", "after", "lines")])
def test_hand_made_copies_with_wrapped_labels(tmp_path: Path, fmt: Format, year: int,
                                              variants: tuple[str, ...]) -> None:
    vals = _full(fmt, 4)
    src = tmp_path / "复制.txt"
    src.write_text(hand_copy(fmt, year, vals, variants=variants), encoding="utf-8")
    res = import_file(src)
    assert res.ok and res.errors == [], [i.message for i in res.issues]
    assert res.format.value == fmt.id and res.year.value == year and res.agency.value == "某某市某某区某某局"
    assert numbers(res) == {k: vals[k] for k in fmt.cells}
    assert res.narrative["sec1"] == f"{year}年，我局认真贯彻落实政府信息公开条例，稳步推进主动公开、依申请公开等工作。"


def test_numbers_run_together_are_listed_not_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fmt = V2021
    vals = _full(fmt, 8)
    t3 = fmt.table("sec3")
    granted = [_num(vals[t3.cell_key("granted", c.key)]) for c in t3.columns]
    regs = [_num(vals[f"sec2.art20_1.regulations.{c}"]) for c in ("issued", "repealed", "in_force")]
    text = hand_copy(fmt, 2025, vals, wrap=40)
    row = f"{t3.row('granted').label} {' '.join(granted)}"
    assert row in text
    # two neighbouring numbers printed without a space between them: one number, 6 where 7 belong
    text = text.replace(row, f"{t3.row('granted').label} {' '.join(granted[:2])}{' '.join(granted[2:])}")
    regs_row = f"{fmt.table('sec2.art20_1').rows[0].label} {' '.join(regs)}"
    assert regs_row in text
    text = text.replace(regs_row, f"{fmt.table('sec2.art20_1').rows[0].label} {''.join(regs)}")
    src = tmp_path / "复制.txt"
    src.write_text(text, encoding="utf-8")
    res = import_file(src)
    assert res.ok
    got = numbers(res)
    assert not any(k.startswith("sec3.granted.") for k in got)  # not split, not guessed
    assert not any(k.startswith("sec2.art20_1.regulations.") for k in got)
    assert all(got[k] == vals[k] for k in fmt.cells if not k.startswith(("sec3.granted.", "sec2.art20_1.regulations.")))
    cells = [i for i in res.issues if i.code == "ROW_CELLS"]
    assert len(cells) == 2 and all("连在一起" in i.message and i.severity == "error" for i in cells)
    assert any(t3.row("granted").label in i.message and "有 6 个" in i.message for i in cells)
    assert main(["import", str(src), "--out", str(tmp_path / "o")]) == 1
    out = capsys.readouterr().out
    assert "[部分导入]" in out and "连在一起" in out


def test_a_line_of_numbers_without_its_label_is_listed(tmp_path: Path) -> None:
    fmt = V2021
    vals = _full(fmt, 2)
    t3 = fmt.table("sec3")
    label = t3.row("unable.need_creation").label
    text = hand_copy(fmt, 2025, vals, wrap=40)
    nums = " ".join(_num(vals[t3.cell_key("unable.need_creation", c.key)]) for c in t3.columns)
    assert f"{label} {nums}" in text
    text = text.replace(f"{label} {nums}", f"{label[:3]}（此处文字无法识别）\n{nums}")  # a garbled label
    src = tmp_path / "复制.txt"
    src.write_text(text, encoding="utf-8")
    res = import_file(src)
    assert not any(k.startswith("sec3.unable.need_creation.") for k in res.values)
    unplaced = [i for i in res.issues if i.code in ("COPIED_TEXT_UNPLACED", "EXTRA_ROW")]
    assert unplaced and any(nums in i.message or nums.replace(" ", "；") in i.message for i in unplaced)
    assert any(i.code == "ROW_NOT_FOUND" and label in i.message for i in res.issues)


def test_a_bare_line_of_numbers_is_listed(tmp_path: Path) -> None:
    fmt = V2021
    vals = _full(fmt, 2)
    text = hand_copy(fmt, 2025, vals, wrap=40)
    t3 = fmt.table("sec3")
    label = t3.row("unable.need_creation").label
    nums = " ".join(_num(vals[t3.cell_key("unable.need_creation", c.key)]) for c in t3.columns)
    text = text.replace(f"{label} {nums}", nums)  # the label lost in the copy
    src = tmp_path / "复制.txt"
    src.write_text(text, encoding="utf-8")
    res = import_file(src)
    [u] = [i for i in res.issues if i.code == "COPIED_TEXT_UNPLACED"]
    assert nums in u.message and u.severity == "warning"
    assert REGISTRY["COPIED_TEXT_UNPLACED"].severity.value == "warning"
    assert not any(k.startswith("sec3.unable.need_creation.") for k in res.values)


def test_a_label_that_ends_another_takes_the_fragment_above() -> None:
    """``行政`` ⏎ ``规范性文件 1 2 3``: the 2021 row, not the 2019 ``规范性文件`` with a stray line."""
    label = V2021.table("sec2.art20_1").rows[1].label
    short = V2019.table("sec2.art20_1").rows[1].label
    assert label.endswith(short) and label != short
    head = V2021.table("sec2.art20_1")
    text = "\n".join([head.caption, " ".join([head.header_first, *(c.label for c in head.columns)]),
                      f"{head.rows[0].label} 1 2 3", label[: -len(short)], f"{short} 4 5 6"])
    rows = from_text(text).rows
    assert rows[-1].cells == (label, "4", "5", "6")


def test_labels_and_numbers_copied_column_by_column_are_not_paired(tmp_path: Path) -> None:
    """Some viewers copy a table column by column: every label, then every line of numbers. Which
    numbers belong to which label is then unknown: nothing is placed, everything is listed."""
    fmt = V2021
    vals = _full(fmt, 6)
    t = fmt.table("sec2.art20_1")
    lines = hand_copy(fmt, 2025, vals, wrap=40).split("\n")
    rows = [f"{r.label} {' '.join(_num(vals[t.cell_key(r.key, c.key)]) for c in t.columns)}" for r in t.rows]
    i = lines.index(rows[0])
    assert lines[i + 1] == rows[1]
    lines[i : i + 2] = [r.label for r in t.rows] + [row.split(" ", 1)[1] for row in rows]
    src = tmp_path / "复制.txt"
    src.write_text("\n".join(lines), encoding="utf-8")
    res = import_file(src)
    assert not any(k.startswith("sec2.art20_1.") for k in res.values)  # neither blank nor paired
    assert sum(i.code == "ROW_CELLS" for i in res.issues) == 2
    assert sum(i.code == "COPIED_TEXT_UNPLACED" for i in res.issues) == 2
    assert all(numbers(res)[k] == vals[k] for k in fmt.cells if not k.startswith("sec2.art20_1."))


def test_a_label_fragment_that_does_not_rejoin_is_listed(tmp_path: Path) -> None:
    fmt = V2021
    vals = _full(fmt, 2)
    t3 = fmt.table("sec3")
    label = t3.row("unable.need_creation").label
    nums = " ".join(_num(vals[t3.cell_key("unable.need_creation", c.key)]) for c in t3.columns)
    text = hand_copy(fmt, 2025, vals, wrap=40).replace(f"{label} {nums}", f"{label} {nums}\n（见说明）")
    src = tmp_path / "复制.txt"
    src.write_text(text, encoding="utf-8")
    res = import_file(src)
    assert res.errors == [] and numbers(res) == {k: vals[k] for k in fmt.cells}
    [u] = [i for i in res.issues if i.code == "COPIED_TEXT_UNPLACED"]
    assert "（见说明）" in u.message and "在表格中间" in u.message


def test_copied_text_with_a_2019_table_three_in_a_2021_report(tmp_path: Path) -> None:
    """Both at once: a copy out of a PDF whose 表三 still has the single 2019 （六） row."""
    v21 = _full(V2021, 4)
    v19 = {k: v21[k] for k in V2019.cells if k in V2021.cells}
    for c in V2019.table("sec3").columns:
        v19[f"sec3.other.{c.key}"] = sum(v21[f"sec3.other.{r}.{c.key}"] for r in ("overdue_correction", "overdue_fee", "other"))
    v19.update({k: 0 for k in V2019.cells if k not in v19})
    heads = [s.heading for s in V2021.sections]
    a = hand_copy(V2021, 2025, v21)
    b = hand_copy(V2019, 2025, v19)
    sec3 = b[b.index(heads[2]) : b.index(heads[3])]
    text = a[: a.index(heads[2])] + sec3 + a[a.index(heads[3]) :]
    src = tmp_path / "复制.txt"
    src.write_text(text, encoding="utf-8")
    res = import_file(src)
    assert res.format.value == "2021" and res.errors == [], [i.message for i in res.issues]
    [mixed] = [i for i in res.issues if i.code == "LAYOUT_MIXED"]
    assert mixed.table == "表三"
    got = numbers(res)
    wholes = [v19[f"sec3.other.{c.key}"] for c in V2019.table("sec3").columns]
    assert 0 in wholes and any(wholes)  # both cases: a 0 that splits into 0s, a number that cannot split
    for k in V2021.cells:
        if k.startswith("sec3.other."):
            whole = v19[f"sec3.other.{k.split('.', 3)[3]}"]  # sec3.other.<sub-row>.<column>
            assert got.get(k) == (0 if whole == 0 else None), k
        else:
            assert got[k] == v21[k], k


def test_an_amount_with_its_unit_after_a_space() -> None:
    t = V2021.table("sec2.art20_8")
    text = "\n".join([t.caption, " ".join([t.header_first, t.columns[0].label]), f"{t.rows[0].label} 51.98 万元"])
    assert from_text(text).rows[-1].cells == (t.rows[0].label, "51.98万元")


def test_one_sub_table_of_table_two_in_the_other_layout(tmp_path: Path) -> None:
    """A 2020 report whose 表二 is 2019 except “第二十条第（五）项” (2021 layout), and whose
    “第二十条第（九）项” is missing: only （五） is mapped; the missing table is still missing."""
    v19, v21 = _full(V2019, 3), _full(V2021, 3)
    a = hand_copy(V2019, 2020, v19).split("\n")
    b = hand_copy(V2021, 2020, v21).split("\n")
    t5, t6, t9 = (V2019.table(f"sec2.art20_{n}") for n in (5, 6, 9))
    block21 = b[b.index(t5.caption) : b.index(t6.caption)]
    lines = a[: a.index(t5.caption)] + block21 + a[a.index(t6.caption) : a.index(t9.caption)]
    lines += a[a.index(V2019.sections[2].heading) :]
    src = tmp_path / "复制.txt"
    src.write_text("\n".join(lines), encoding="utf-8")
    res = import_file(src)
    assert res.format.value == "2019"
    [mixed] = [i for i in res.issues if i.code == "LAYOUT_MIXED"]
    assert mixed.table == "表二" and t5.caption in mixed.message and t6.caption not in mixed.message
    assert res.values["sec2.art20_5.licensing.decisions"].number == v21["sec2.art20_5.licensing.decisions"]
    assert "sec2.art20_5.licensing.change" not in res.values
    assert "sec2.art20_5.other_mgmt_services.decisions" not in res.values
    assert res.values["sec2.art20_6.penalty.change"].number == v19["sec2.art20_6.penalty.change"]
    assert any(i.code == "TABLE_NOT_FOUND" and t9.caption in i.message for i in res.issues)
