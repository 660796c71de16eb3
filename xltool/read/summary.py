"""Recognising our district summaries among returned files, and the guard limits to read one."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xltool.read.guard import GuardLimits, guard
from xltool.read.pool import run_isolated
from xltool.read.reader import read_grids
from xltool.workbook.layout import META_SHEET
from xltool.workbook.summary_layout import (
    DETAIL_SHEET,
    STATUS_SHEET,
    SUMMARY_MAX_COLS,
    SUMMARY_MAX_ROWS,
    SUMMARY_TABLE_SHEETS,
)

_WORKBOOK_XML_MAX = 1 << 20


def summary_guard_limits() -> GuardLimits:
    """Guard limits sized for a district summary (20,000 agencies ≈ 13 MB on 分单位明细)."""
    return GuardLimits(
        max_file_bytes=200 << 20,
        max_member_bytes=400 << 20,
        max_total_bytes=800 << 20,
        max_cells=SUMMARY_MAX_ROWS * 500,
        max_rows=SUMMARY_MAX_ROWS,
        max_cols=SUMMARY_MAX_COLS,
    )


def is_summary_file(path: str | Path) -> bool:
    """A district summary written by combine: its workbook.xml names the summary's sheets.

    Only ``xl/workbook.xml`` is read (through zipfile, size-capped), never the sheets, so
    this is safe on a file the reader's guard would refuse.
    """
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("xl/workbook.xml")
            if info.file_size > _WORKBOOK_XML_MAX:
                return False
            with z.open(info) as f:
                text = f.read(_WORKBOOK_XML_MAX).decode("utf-8", "replace")
    except MemoryError:
        raise
    except Exception:  # BadZipFile, zlib.error, struct.error, EOFError …: not one of our summaries
        return False
    names = (DETAIL_SHEET, META_SHEET, *SUMMARY_TABLE_SHEETS.values())
    return all(f'name="{n}"' in text for n in names)


@dataclass
class SummaryBook:
    """The sheets of one of our summaries, as values (nothing judged yet: rules.rollup does)."""

    path: Path
    sha256: str
    meta: dict[str, str]
    grids: dict[str, Sequence[Sequence[object]]] = field(default_factory=dict)


SUMMARY_SHEETS = (META_SHEET, DETAIL_SHEET, STATUS_SHEET, *SUMMARY_TABLE_SHEETS.values())


def guard_summary(path: str | Path) -> tuple[bytes, str]:
    """The file's bytes and sha256, once the guard (summary limits) passed; raises GuardError."""
    g = guard(Path(path), summary_guard_limits())
    return g.data, hashlib.sha256(g.data).hexdigest()


def summary_book(path: Path, sha: str, grids: dict[str, Sequence[Sequence[object]]]) -> SummaryBook:
    """The book over sheets already read (``read_grids(data, SUMMARY_SHEETS)``)."""
    meta: dict[str, str] = {}
    for row in grids.get(META_SHEET, []):
        if len(row) >= 2 and isinstance(row[0], str) and row[0].strip():
            v = row[1]
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            meta[row[0].strip()] = "" if v is None else str(v).strip()
    return SummaryBook(path, sha, meta, grids)


def read_summary_book(path: str | Path) -> SummaryBook:
    """Guard (summary limits), then read the meta, 分单位明细, 报送情况 and 汇总 sheets in a
    worker. Raises GuardError or IsolatedError (Chinese) for a file that cannot be read."""
    p = Path(path)
    data, sha = guard_summary(p)
    return summary_book(p, sha, run_isolated(read_grids, data, list(SUMMARY_SHEETS)))
