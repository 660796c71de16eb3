"""Fixed places in the district summary workbook that other tools read back.

``combine`` writes the summary; ``--previous`` (check, combine, template) reads last
year's summary through these names, so they are declared once here.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from xltool.workbook.layout import META_SHEET, TABLE_SHEETS

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


def summary_guard_limits():  # -> reader.guard.GuardLimits (imported lazily: no cycle)
    """Guard limits sized for a district summary (20,000 agencies ≈ 13 MB on 分单位明细)."""
    from xltool.read.guard import GuardLimits

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
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
        return False
    names = (DETAIL_SHEET, META_SHEET, *SUMMARY_TABLE_SHEETS.values())
    return all(f'name="{n}"' in text for n in names)
