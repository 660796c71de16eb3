"""How the cells of a table in one official format map onto the other format (mixed layouts).

Published 2021-format reports sometimes still carry a 2019-layout table (the single
（六）其他处理 row in 表三, or the whole 2019 表二), official-format.md §4 and §7 item 9. Such a
table is read by its own layout and carried over only where the mapping is exact. Nothing here
is typed twice: the mapping is derived from the stable cell keys, which the two formats share
exactly where they count the same thing (表三 and 表四 rows and columns, and 处理决定数量 of
行政许可 / 行政处罚 / 行政强制 in 表二). The one row that differs in structure is derived from the
keys too: a row of one format whose key is the group of rows of the other (V2019 ``other`` and
V2021 ``other.*``).

* ``same``: the destination cell is the same quantity as the source cell.
* ``sums``: the destination cell is the sum of several source cells (V2021 sub-rows → the V2019
  single row): exact when every part is a number.
* ``splits``: the source cell is the sum of several destination cells (the V2019 single row →
  the V2021 sub-rows). It cannot be split, except when it is 0: counts are never negative, so
  every part of a sum of 0 is 0.

Every other cell has no counterpart and is left unfilled by whoever maps.

>>> from xltool.spec import V2019, V2021
>>> cw = crosswalk(V2019, V2021)
>>> cw.same["sec2.art20_6.penalty.decisions"], "sec2.art20_1.regulations.issued" in cw.same
('sec2.art20_6.penalty.decisions', False)
>>> cw.splits["sec3.other.natural"]
('sec3.other.overdue_correction.natural', 'sec3.other.overdue_fee.natural', 'sec3.other.other.natural')
>>> crosswalk(V2021, V2019).sums["sec3.other.total"][-1]
'sec3.other.other.total'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xltool.spec.types import Format, Table


@dataclass(frozen=True)
class Crosswalk:
    src: Format
    dst: Format
    same: dict[str, str]  # destination key → source key
    sums: dict[str, tuple[str, ...]]  # destination key → the source keys it adds up
    splits: dict[str, tuple[str, ...]]  # source key → the destination keys it is the sum of

    def targets(self, src_key: str) -> tuple[str, ...]:
        """The destination keys a source cell feeds (possibly none)."""
        out = tuple(d for d, s in self.same.items() if s == src_key)
        out += tuple(d for d, parts in self.sums.items() if src_key in parts)
        return out + self.splits.get(src_key, ())


def _sub_rows(t: Table, key: str) -> list[str]:
    return [r.key for r in t.rows if r.key.startswith(key + ".")]


@lru_cache(maxsize=8)
def crosswalk(src: Format, dst: Format) -> Crosswalk:
    """The exact mapping of ``src`` cells onto ``dst`` cells (see the module doc)."""
    same = {k: k for k in dst.cells if k in src.cells}
    sums: dict[str, tuple[str, ...]] = {}
    splits: dict[str, tuple[str, ...]] = {}
    dst_tables = {t.key: t for t in dst.tables}
    for st in src.tables:
        dt = dst_tables.get(st.key)
        if dt is None:
            continue
        src_rows = {r.key for r in st.rows}
        dst_rows = {r.key for r in dt.rows}
        shared_cols = [c.key for c in dt.columns if any(c.key == sc.key for sc in st.columns)]
        for r in st.rows:
            fine = _sub_rows(dt, r.key) if r.key not in dst_rows else []
            for c in shared_cols if fine else ():
                splits[st.cell_key(r.key, c)] = tuple(dt.cell_key(f, c) for f in fine)
        for r in dt.rows:
            fine = _sub_rows(st, r.key) if r.key not in src_rows else []
            for c in shared_cols if fine else ():
                sums[dt.cell_key(r.key, c)] = tuple(st.cell_key(f, c) for f in fine)
    return Crosswalk(src, dst, same, sums, splits)
