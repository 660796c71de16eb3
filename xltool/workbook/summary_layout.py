"""Fixed places in the district summary workbook that other tools read back.

``combine`` writes the summary; ``--previous`` (check, combine, template) reads last
year's summary through these names, so they are declared once here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from xltool.workbook.layout import TABLE_SHEETS

SUMMARY_KIND = "summary"  # value of the "kind" row in the summary's META_SHEET (layout.META_SHEET)
DETAIL_SHEET = "分单位明细"
DETAIL_TITLE_ROW = 0  # 0-based: Chinese column headers (表·行·列)
DETAIL_KEY_ROW = 1  # 0-based: spec cell keys (row hidden), "agency" / "credit_code" over the first columns
DETAIL_FIRST_DATA_ROW = 2  # 0-based: first agency row
AGENCY_KEY = "agency"
CREDIT_CODE_KEY = "credit_code"
TOTAL_ROW_LABEL = "合计"  # text in the agency column of the totals row (not an agency)

# Added by combine (additive): the 汇总 sheets, one per official table, named after the
# template's short names (layout.TABLE_SHEETS), and the keys of the extra 分单位明细 columns.
SUMMARY_TABLE_SHEETS = {sec: f"汇总 {short}" for sec, (_name, short) in TABLE_SHEETS.items()}
STATUS_SHEET = "报送情况"
FINDINGS_SHEET = "问题清单"
CHART_SHEET = "图表"
NOTES_SHEET = "说明"
PREV_KEY_PREFIX = "prev:"  # 同比 column: last year's value of the spec key after the prefix
CURR_KEY_PREFIX = "curr:"  # 同比 column: this year's value (a formula over the key's own column)
NOTE_KEY = "note"  # last column: how the agency's file entered the totals

# A summary holds one row per agency and ~210 columns: bigger than an agency file, so it is
# guarded with these (still bounded) limits before any parser opens it.
SUMMARY_MAX_ROWS = 50_000
SUMMARY_MAX_COLS = 1_000
_WORKBOOK_XML_MAX = 1 << 20

# --- multi-level roll-up (逐级汇总) -------------------------------------------------------
# A summary may itself be combined into the next level's summary (district → city →
# province …). These places let the next level read it back and prove it unedited.
LEVELS = ("district", "city", "province", "nation")  # the summary's level, lowest first
LEVEL_SCOPE = {"district": "全区", "city": "全市", "province": "全省", "nation": "全国"}
CHILD_SHEET = {"city": "分区县明细", "province": "分市明细", "nation": "分省明细"}
UNIT_KEY = "unit"  # 分单位明细 column: the chain of summaries an agency came through (“某市·某区”), blank if direct
SHA_KEY = "sha256"  # 分单位明细 column: the sha256 of the agency's own file
VIA_KEY = "via"  # 分单位明细 column: sha256 of the summaries it came through, nearest first, “;”-separated
UNIT_SEP = "·"
VIA_SEP = ";"
META_LEVEL = "level"
META_FINGERPRINT = "fingerprint"
META_DISTRICT = "district"


def child_sheet(level: str) -> str:
    """The sheet with one row per child summary and per direct agency, for a summary of ``level``."""
    return CHILD_SHEET.get(level, "分下级明细")


def level_above(level: str) -> str:
    i = LEVELS.index(level) if level in LEVELS else 0
    return LEVELS[min(i + 1, len(LEVELS) - 1)]


def canonical(value: object) -> str:
    """One cell of 分单位明细 as the fingerprint sees it: numbers by value, text as text."""
    if type(value) is int:  # the common case first: a count (a bool is not exactly int)
        return repr(value) if -10**15 < value < 10**15 else repr(float(value))
    if type(value) is float:
        if value != value:
            return ""
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "s:" + str(value)
    if isinstance(value, (int, float)):
        x = float(value)
        return repr(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
    text = str(value)
    return "" if not text.strip() else "s:" + text


class Fingerprint:
    """sha256 over a summary's identity (year, format, level, name) and its 分单位明细 rows
    (name, code, every value, the file's sha256, unit, via), so an edit after writing shows.
    Fed row by row: a nation's 200,000 rows are never held at once."""

    def __init__(self, head: Sequence[object]) -> None:
        self._h = hashlib.sha256("\x1e".join(canonical(v) for v in head).encode("utf-8"))
        self._n = 0

    def add(self, row: Iterable[object]) -> None:
        self._h.update(b"\x1d")
        self._h.update("\x1f".join(canonical(v) for v in row).encode("utf-8"))
        self._n += 1

    def hexdigest(self) -> str:
        h = self._h.copy()
        h.update(f"\x1c{self._n}".encode())
        return h.hexdigest()


def fingerprint(head: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """The ``Fingerprint`` of ``head`` and ``rows``."""
    fp = Fingerprint(head)
    for row in rows:
        fp.add(row)
    return fp.hexdigest()
UNIT_COLUMN = "所属"  # 报送情况 / 分单位明细 header of the unit column
