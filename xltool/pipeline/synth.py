"""Plausible, internally consistent report numbers for samples, tests and benchmarks.

Derived from the spec's relations, so the numbers fit either format: the 勾稽 identity
holds per column, and totals are left to the template's formulas (inputs only are
returned unless ``with_totals``). Deterministic for a given ``random.Random``.
"""

from __future__ import annotations

import random

from xltool.spec import Format, Kind
from xltool.spec.types import RowTotal


def _split(rng: random.Random, total: int, n: int, weights: list[float]) -> list[int]:
    """Split ``total`` into ``n`` non-negative integers, roughly by ``weights``."""
    out = [0] * n
    for _ in range(total):
        out[rng.choices(range(n), weights)[0]] += 1
    return out


def synth_values(
    fmt: Format,
    rng: random.Random,
    size: float = 1.0,
    carried_over: dict[str, int] | None = None,
    with_totals: bool = False,
) -> dict[str, int | float]:
    """Input values of one agency's report; ``size`` scales the application counts.

    ``carried_over`` (column key → number) fixes 上年结转 (e.g. from last year's 结转下年度).
    """
    t3 = fmt.table("sec3")
    vals: dict[str, int | float] = {}
    parts = [c.key for c in t3.columns if c.key != "total"]
    col_weight = {"natural": 8.0, "org.commercial": 1.5, "org.research": 0.2, "org.public_welfare": 0.2,
                  "org.legal_service": 0.6, "org.other": 0.4}
    total_rule = next(r for r in t3.rules if isinstance(r, RowTotal))
    outcomes = list(total_rule.parts)
    # most applications are granted or partly granted; a few denied / unable / not processed
    weights = [
        30.0 if k == "granted" else 8.0 if k == "partial" else 6.0 if k == "unable.not_held" else 0.6
        for k in outcomes
    ]
    for col in parts:
        base = size * col_weight.get(col, 0.5)
        new = max(0, int(rng.expovariate(1 / base))) if base > 0 else 0
        prev = (carried_over or {}).get(col)
        if prev is None:
            prev = rng.choice([0, 0, 0, 1]) if new else 0
        pool = new + prev
        forward = min(pool, rng.choice([0, 0, 0, 1, 2])) if pool else 0
        done = pool - forward
        split = _split(rng, done, len(outcomes), weights)
        vals[t3.cell_key("new_received", col)] = new
        vals[t3.cell_key("carried_over", col)] = prev
        vals[t3.cell_key("carry_forward", col)] = forward
        for k, n in zip(outcomes, split, strict=True):
            vals[t3.cell_key(k, col)] = n
    for key, cell in fmt.cells.items():
        if key in vals or key in fmt.formulas or cell.table.key == "sec3":
            continue
        if cell.table.section == "sec4":
            vals[key] = rng.choice([0] * 8 + [1, 1, 2])
        elif cell.kind is Kind.AMOUNT:
            vals[key] = rng.choice([0, 0, round(rng.uniform(0.5, 80), 2)])
        elif cell.kind is Kind.SIGNED:
            vals[key] = rng.randint(-5, 8)
        else:
            vals[key] = int(rng.expovariate(1 / (5 * size))) if rng.random() < 0.6 else 0
    # V2019 plausibility: 对外公开总数量 ≥ 本年新公开数量
    for rel in fmt.at_least:
        if vals[rel.big] < vals[rel.small]:
            vals[rel.big] = vals[rel.small] + rng.randint(0, 10)
    if with_totals:
        vals.update(totals(fmt, vals))
    return vals


def totals(fmt: Format, vals: dict[str, int | float]) -> dict[str, int | float]:
    """Every formula cell's value for the given inputs (blank = 0)."""
    out: dict[str, int | float] = {}
    pending = dict(fmt.formulas)
    while pending:
        for key, rel in list(pending.items()):
            if all(p in out or p not in fmt.formulas for p in rel.parts):
                out[key] = sum(out.get(p, vals.get(p, 0)) or 0 for p in rel.parts)
                del pending[key]
    return out
