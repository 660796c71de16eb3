"""The declared formats match official-format.md (§2-§6) in counts, labels and relations."""

from __future__ import annotations

import pytest

from xltool.spec import V2019, V2021, SpecError, format_for_year


def test_cell_inventory_matches_spec_section5() -> None:
    assert sum(1 for k in V2019.cells if k.startswith("sec2.")) == 22
    assert sum(1 for k in V2021.cells if k.startswith("sec2.")) == 10
    assert len(V2019.table("sec3").rows) == 23
    assert len(V2021.table("sec3").rows) == 25
    assert len(V2019.table("sec3").columns) == 7
    assert sum(1 for k in V2021.cells if k.startswith("sec4.")) == 15


def test_keys_are_unique_and_dotted_like_section5() -> None:
    for fmt in (V2019, V2021):
        assert len(set(fmt.cells)) == len(fmt.cells)
    assert "sec2.art20_1.regulations.new_made" in V2019.cells
    assert "sec3.denied.three_safety_one_stability.org.legal_service" in V2021.cells
    assert "sec3.other.natural" in V2019.cells and "sec3.other.natural" not in V2021.cells
    assert "sec3.other.overdue_fee.total" in V2021.cells
    assert "sec4.suit_after_review.pending" in V2021.cells


def test_total_processed_composition_has_all_outcome_rows() -> None:
    for fmt, n in ((V2019, 19), (V2021, 21)):
        rel = next(r for r in fmt.sums if r.target == "sec3.total_processed.natural")
        assert len(rel.parts) == n
        assert "sec3.carried_over.natural" not in rel.parts
        assert "sec3.new_received.natural" not in rel.parts


def test_balance_identity_per_column() -> None:
    bal = [b for b in V2021.balances if b.column == "total"]
    assert len(bal) == 1
    assert bal[0].left == ("sec3.new_received.total", "sec3.carried_over.total")
    assert bal[0].right == ("sec3.total_processed.total", "sec3.carry_forward.total")
    assert len(V2019.balances) == 7


def test_formula_cells_are_the_totals() -> None:
    f = V2021.formulas
    assert all(k.endswith(".total") or ".total_processed." in k for k in f)
    # 25 row totals + 6 (七)总计 parts + 3 表四 totals
    assert len(f) == 25 + 6 + 3


def test_format_by_year_and_override() -> None:
    assert format_for_year(2019).id == "2019"
    assert format_for_year(2020).id == "2019"
    assert format_for_year(2021).id == "2021"
    assert format_for_year(2023, "2019").id == "2019"  # laggards kept the old format (§7.9)
    with pytest.raises(SpecError):
        format_for_year(2020, "2021")
    with pytest.raises(SpecError):
        format_for_year(2018)
    with pytest.raises(SpecError):
        format_for_year(2025, "2022")


def test_v2021_labels_differ_from_v2019_where_section4_says() -> None:
    labels19 = {c.label for t in V2019.tables for c in t.columns} | {r.label for t in V2019.tables for r in t.rows}
    labels21 = {c.label for t in V2021.tables for c in t.columns} | {r.label for t in V2021.tables for r in t.rows}
    assert "规范性文件" in labels19 and "行政规范性文件" in labels21
    assert "本年收费金额（单位：万元）" in labels21 and "采购总金额" in labels19
    assert "（六）其他处理" in labels19 and "（六）其他处理" not in labels21  # a group label in V2021
