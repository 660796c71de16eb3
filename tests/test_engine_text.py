"""Text typed where a number belongs: our cached values and our reader agree with the engine.

A spreadsheet's ``+`` converts some text to numbers ("12%" → 0.12, "(5)" → -5, "2020-1-1" →
43831, "\\u00a012" → 12) and ``=`` compares approximately (0.1+0.2 = 0.3). The template's
勾稽 row uses ``+`` and ``=``, so the values we cache (``layout.compute_cached``) must be what
LibreOffice computes for the same inputs, and the reader must read such text as the same number.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import load_workbook

from xltool.core.model import Severity
from xltool.core.numbers import engine_add, engine_equal, engine_number
from xltool.read.reader import read_file
from xltool.read.values import parse_value
from xltool.rules.validate import validate
from xltool.spec import V2019, V2021, Format
from xltool.workbook.layout import layout_for
from xltool.write.template import write_workbook

# Texts whose conversion LibreOffice 7.4 gives the same in the en-US and zh-CN locales
# (locale-dependent forms such as "$5", "１２", "2020/1/1" are left out on purpose).
TEXTS = [
    "12%", "(5)", "2020-1-1", "\u00a012", "12\u00a0", "\u202f12", " 12 ", "1,000", "12,345,678", "1e3", "1.5E+3",
    "+4", "-3", "12.", ".5", "5 %", "(5.5)", "(1,000)", "( 5 )", "(5)%", "5-", "5\u00a0-", "+12%", "-12%", "1,000%",
    "0.1", "3.0", "00012", "-0", "(0)", "1.e3", "1,000.", "2020-01-01", "2020-1-1 10:00", "2020-1-1T10:00",
    "10:00", "25:00", "1:2", "1 1/2", "-1 1/2", "3/4", "1/13", "TRUE", "false", "99-1-1", "20-1-1",
    # #VALUE! in both locales
    "\u300012", "\t12", "12\n", "0x10", "-(5)", "(-5)", "--5", "12%%", "%12", "1,00", "1,2345", "12 0", " ", "/",
    "无", "1.2.3.4", "12元", "12\u2009", "'12", "2021-02-30", "2020-1", "13/1", "2/30", "1/0", "12e-2%", "(12%)",
    "inf", "1_000", "＋5", "¥5",
]
PAIRS = [  # (left operands, right operands) of a 勾稽-style "=IF(a+b=c+d, …)"
    ((0.1, 0.2), (0.3, 0.0)), ((0.1, 0.7), (0.8, 0.0)), ((1.1, 2.2), (3.3, 0.0)), ((0.3, 0.0), (0.1, 0.2)),
    ((1e15 + 0.3, 0.0), (1e15, 0.3)), ((1.0, 0.0), (1.0 + 1e-15, 0.0)), ((1.0, 0.0), (1.0 + 2**-48, 0.0)),
    ((1.0, 0.0), (1.0 + 5e-15, 0.0)), ((100.0, 0.0), (100 + 1e-13, 0.0)), ((0.1, 0.0), (0.1 + 1e-15, 0.0)),
    ((3.3, -1.1), (2.2, 0.0)), ((0.0, 0.0), (1e-300, 0.0)), ((12.34, 56.78), (69.12, 0.0)), ((0.1, 0.2), (-0.3, 0.6)),
]


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory, recalc) -> Path:
    """One workbook: each text with ``=A+0``, each pair with ``=IF(A+B=C+D,…)``; recalculated by LibreOffice."""
    p = tmp_path_factory.mktemp("probe") / "probe.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("t")
    for i, t in enumerate(TEXTS):
        ws.write_string(i, 0, t)
        ws.write_formula(i, 1, f"=A{i + 1}+0", None, 0)
    ws = wb.add_worksheet("f")
    for i, (left, right) in enumerate(PAIRS):
        for j, x in enumerate((*left, *right)):
            ws.write_number(i, j, x)
        ws.write_formula(i, 4, f'=IF(A{i + 1}+B{i + 1}=C{i + 1}+D{i + 1},"通过","不平衡")', None, "")
    wb.close()
    return recalc([p])[0]


def test_engine_number_is_what_libreoffice_computes(probe: Path) -> None:
    ws = load_workbook(probe, data_only=True)["t"]
    today = dt.date.today()  # "3/4" is a date of the current year, also for LibreOffice
    wrong = []
    for i, t in enumerate(TEXTS):
        lo = ws.cell(i + 1, 2).value
        lo = None if lo == "#VALUE!" else lo
        mine = engine_number(t, today)
        same = (mine is None) == (lo is None) and (mine is None or math.isclose(mine, lo, rel_tol=1e-12))
        if not same:
            wrong.append((t, lo, mine))
    assert not wrong, wrong
    assert sum(engine_number(t) is not None for t in TEXTS) > 40


def test_equality_is_approximate_as_in_libreoffice(probe: Path) -> None:
    ws = load_workbook(probe, data_only=True)["f"]
    for i, (left, right) in enumerate(PAIRS):
        mine = "通过" if engine_equal(engine_add(*left), engine_add(*right)) else "不平衡"
        assert ws.cell(i + 1, 5).value == mine, (left, right)
    assert engine_equal(0.1 + 0.2, 0.3) and not engine_equal(1.0, 1.0 + 2**-48)


def _result_input(fmt: Format, key: str) -> str:
    """An input cell summed into the formula ``key`` (descending through subtotals)."""
    while key in fmt.formulas:
        key = fmt.formulas[key].parts[0]
    return key


def _engine_cases(fmt: Format) -> dict[str, object]:
    """表三 inputs: per applicant column one kind of text (or fractions) in the 勾稽 operands."""
    vals: dict[str, object] = {k: 0 for k in fmt.input_keys}
    cols = [b for b in fmt.balances if not any(k in fmt.formulas for k in b.left)]
    # (第一项, 第二项, a result that sums into 第三项, 第四项)
    kinds: list[tuple[object, object, object, object]] = [
        ("12%", 0, 0, 0),  # 0.12 ≠ 0: 不平衡 (we used to cache #VALUE!)
        ("(5)", 3, 0, -2),  # -5 + 3 = 0 + -2: 通过; -2 is a negative (status counts it)
        ("2020-1-1", 0, 43831, 0),  # a date serial, balanced by the number
        ("\u00a012", 0, 12, 0),  # non-breaking space before 12
        (0.1, 0.2, 0.3, 0),  # approximate equality
        ("无", 1, 1, ""),  # #VALUE!; an empty string is written as a blank cell
    ]
    for bal, (a, b, c, d) in zip(cols, kinds, strict=False):
        first, second = bal.left
        processed, forward = bal.right
        vals[first], vals[second], vals[_result_input(fmt, processed)], vals[forward] = a, b, c, d
    return vals


@pytest.mark.parametrize("fmt,year", [(V2019, 2020), (V2021, 2025)], ids=["2019", "2021"])
def test_cached_values_equal_libreoffice_for_text_the_engine_converts(
    tmp_path: Path, recalc, fmt: Format, year: int
) -> None:
    """Every formula, 勾稽 and status cell: our cached value = LibreOffice's result."""
    ours = write_workbook(tmp_path / f"engine_{fmt.id}.xlsx", fmt, year, values=_engine_cases(fmt))
    theirs = recalc([ours])[0]
    mine, lo = load_workbook(ours, data_only=True), load_workbook(theirs, data_only=True)
    lay = layout_for(fmt)
    cells = [lay.address[k] for k in fmt.formulas]
    for sh in lay.sheets.values():
        cells += [(sh.name, c.addr) for c in sh.checks]
        if sh.status:
            cells.append((sh.name, sh.status.addr))
    diff = []
    for sheet, addr in cells:
        a, b = mine[sheet][addr].value, lo[sheet][addr].value
        same = math.isclose(a, b, abs_tol=1e-9) if isinstance(b, (int, float)) and isinstance(a, (int, float)) else a == b
        if not same:
            diff.append((sheet, addr, a, b))
    assert not diff, diff
    checks = [mine[sh.name][c.addr].value for sh in lay.sheets.values() for c in sh.checks]
    assert {"通过", "不平衡", "#VALUE!"} <= set(checks)


@pytest.mark.parametrize(
    "text,number",
    [("12%", 0.12), ("(5)", -5), ("5-", -5), ("1e3", 1000), ("\u00a012", 12), ("12\u00a0", 12), ("(1,000)", -1000),
     ("5 %", 0.05), ("1,000", 1000)],
)
def test_reader_reads_text_as_the_engine_does(text: str, number: float) -> None:
    cv = parse_value(text)
    assert cv.state == "number" and cv.number == pytest.approx(number) and cv.raw == text
    assert engine_number(text) == pytest.approx(number)


def test_validation_counts_what_the_engine_computes(tmp_path: Path) -> None:
    """Read back from a real file: converted text is a number (warned), dates are not counts."""
    fmt = V2021
    vals = {k: 0 for k in fmt.input_keys}
    cells = {
        "sec3.new_received.natural": "(5)",  # -5: a negative count
        "sec3.new_received.org.commercial": "12%",  # 0.12: not a whole count
        "sec3.new_received.org.research": "\u00a07",  # 7, with a warning
        "sec3.new_received.org.public_welfare": "2020-1-1",  # a date is not a count
    }
    vals.update(cells)
    p = write_workbook(tmp_path / "t.xlsx", fmt, 2025, agency="某区科学技术局", values=vals)
    res = read_file(p)
    report = res.report
    assert report is not None
    assert report.number("sec3.new_received.natural") == -5
    assert report.number("sec3.new_received.org.commercial") == pytest.approx(0.12)
    assert report.number("sec3.new_received.org.research") == 7
    assert report.values["sec3.new_received.org.public_welfare"].state == "text"
    lay = layout_for(fmt)
    by_cell: dict[str, set[str]] = {}
    for f in validate(res):
        if f.cell:
            by_cell.setdefault(f.cell, set()).add(f.code)
    addr = {k: lay.address[k][1] for k in cells}
    assert "NEGATIVE" in by_cell[addr["sec3.new_received.natural"]]
    assert "NOT_INTEGER" in by_cell[addr["sec3.new_received.org.commercial"]]
    assert by_cell[addr["sec3.new_received.org.research"]] == {"TEXT_NUMBER"}
    assert "NOT_NUMBER" in by_cell[addr["sec3.new_received.org.public_welfare"]]
    errors = [f for f in validate(res) if f.severity is Severity.ERROR and f.cell == addr["sec3.new_received.org.research"]]
    assert errors == []
