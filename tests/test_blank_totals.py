"""Blank row totals are derived from their parts for every check (issue 13, item 4).

An agency's own table often leaves the 总计 column blank on the 表三 outcome rows, and some
of each row's parts blank too (meaning 0), while filling （七）总计. The composition check
used to count those rows as 0 (应为 81（…其中 20 项未填按 0 计），实为 151); the row totals
are now derived from the parts that are filled, so the check compares real numbers, and a
（七）总计 that really is wrong is still an error.
"""

from __future__ import annotations

import random

import pytest

from xltool.core.model import AgencyReport, CellValue, ReportMeta, Severity
from xltool.pipeline.synth import synth_values
from xltool.rules.validate import evaluate_report
from xltool.spec import V2019, V2021, Format
from xltool.spec.types import SumRelation

YEARS = {V2021.id: 2025, V2019.id: 2020}


def composition(fmt: Format, target: str) -> SumRelation:
    """The column composition of ``target``: the relation over the most parts (the outcome rows)."""
    rels = [r for r in fmt.relations if isinstance(r, SumRelation) and r.target == target]
    return max(rels, key=lambda r: len(r.parts))


def own_table(fmt: Format, seed: int, *, grand_total_delta: int = 0) -> tuple[AgencyReport, SumRelation]:
    """Every total filled right, then the outcome rows' 总计 blanked, and their zero parts blanked."""
    vals: dict[str, int | float] = dict(synth_values(fmt, random.Random(seed), size=50))
    for rel in fmt.formula_order:
        vals[rel.target] = sum(vals.get(p, 0) for p in rel.parts)
    grand = next(r.target for r in fmt.formula_order if r.target.startswith("sec3.total_processed.")
                 and r.target.endswith(".total"))
    rel = composition(fmt, grand)
    values = {k: CellValue.of(v) for k, v in vals.items()}
    values[grand] = CellValue.of(vals[grand] + grand_total_delta)
    blanked_parts = 0
    for row_total in rel.parts:
        values[row_total] = CellValue(state="blank")
        row_rel = next(r for r in fmt.formula_order if r.target == row_total)
        for p in row_rel.parts:
            if vals.get(p) == 0:
                values[p] = CellValue(state="blank")
                blanked_parts += 1
    assert blanked_parts > 0  # the case under test: rows with blank parts
    meta = ReportMeta(agency="自制表格局", year=YEARS[fmt.id], format=fmt.id)
    return AgencyReport(meta=meta, values=values), rel


@pytest.mark.parametrize("fmt", [V2021, V2019], ids=lambda f: f.id)
@pytest.mark.parametrize("seed", [3, 11, 29])
def test_blank_row_totals_are_derived_and_composition_passes(fmt: Format, seed: int) -> None:
    report, rel = own_table(fmt, seed)
    ev = evaluate_report(report)
    errors = [f for f in ev.findings if f.severity == Severity.ERROR]
    assert errors == [], [f.message for f in errors]
    derived = [f for f in ev.findings if f.code == "TOTAL_MISSING" and f.key in rel.parts]
    assert len(derived) == len(rel.parts)  # each blank row total is reported, once
    assert any("按 0 计" in f.message for f in derived)  # and says that blank parts counted as 0
    # the derived row totals are the sums of their filled parts
    for f in derived:
        row_rel = next(r for r in fmt.formula_order if r.target == f.key)
        filled = [report.values[p].number or 0 for p in row_rel.parts if report.values[p].state == "number"]
        # a row with every part blank has nothing to derive from and stays missing
        assert ev.numbers.get(f.key) == (sum(filled) if filled else None)


@pytest.mark.parametrize("fmt", [V2021, V2019], ids=lambda f: f.id)
def test_wrong_grand_total_still_fails(fmt: Format) -> None:
    report, rel = own_table(fmt, 3, grand_total_delta=7)
    ev = evaluate_report(report)
    bad = [f for f in ev.findings if f.key == rel.target and f.severity == Severity.ERROR]
    # wrong against its row (Σ columns) and against its column (Σ the derived row totals)
    assert {f.code for f in bad} >= {rel.code}, [f.code for f in bad]
    for f in bad:
        assert f.expected is not None and f.actual is not None
        assert float(f.actual) - float(f.expected) == 7


def test_a_row_with_every_part_blank_stays_missing() -> None:
    fmt = V2021
    report, rel = own_table(fmt, 3)
    row_total = rel.parts[0]
    row_rel = next(r for r in fmt.formula_order if r.target == row_total)
    for p in row_rel.parts:
        report.values[p] = CellValue(state="blank")
    ev = evaluate_report(report)
    assert ev.numbers.get(row_total) is None  # nothing to derive from: not invented
