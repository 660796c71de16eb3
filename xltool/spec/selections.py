"""Selections of cells derived from a format's relations (headline indicators, the chart's
received count, the outcome groups): computed from the declared rules, never typed."""

from __future__ import annotations

import re

from xltool.spec.types import Balance, ColumnTotal, Format, RowTotal


def headline_keys(fmt: Format) -> list[str]:
    """Headline indicators for the 同比 columns, derived from the spec's relations.

    表三: 本年新收 (first row of the 勾稽 identity) and （七）总计 (target of the row total),
    both in the 总计 column; 表四: the 总计 of every row.
    """
    out: list[str] = []
    for t in fmt.tables:
        if t.section not in ("sec3", "sec4"):
            continue
        col_total = next((r.target for r in t.rules if isinstance(r, ColumnTotal)), None)
        if col_total is None:
            continue
        rows = [r.left[0] for r in t.rules if isinstance(r, Balance)]
        rows += [r.target for r in t.rules if isinstance(r, RowTotal)]
        if not rows:
            rows = [r.key for r in t.rows]
        out.extend(t.cell_key(r, col_total) for r in dict.fromkeys(rows))
    return out


def received_key(fmt: Format) -> str:
    """本年新收政府信息公开申请 · 总计 (the chart of applications by agency): the first row
    of 表三's 勾稽 identity, in its 总计 column."""
    t = fmt.table("sec3")
    row = next(r.left[0] for r in t.rules if isinstance(r, Balance))
    return t.cell_key(row, next(r.target for r in t.rules if isinstance(r, ColumnTotal)))


def outcome_groups(fmt: Format) -> list[tuple[str, list[str]]]:
    """表三's handling outcomes, grouped as the official table groups them.

    The rows that make up （七）总计 (its row-total relation), grouped by their inner
    group label ((三)不予公开 → its 8 sub-rows); each group with its 总计-column keys.
    """
    t = fmt.table("sec3")
    rule = next(r for r in t.rules if isinstance(r, RowTotal))
    col_total = next(r.target for r in t.rules if isinstance(r, ColumnTotal))
    groups: dict[str, list[str]] = {}
    for rk in rule.parts:
        row = t.row(rk)
        label = row.groups[-1] if len(row.groups) >= 2 else _short_label(row.label)
        groups.setdefault(label, []).append(t.cell_key(rk, col_total))
    return list(groups.items())


def _short_label(label: str) -> str:
    """'（二）部分公开（区分处理的，…）' → '（二）部分公开' (drop a trailing parenthesis)."""
    return re.sub(r"(?<=.)（[^（）]*）$", "", label)
