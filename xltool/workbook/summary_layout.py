"""Fixed places in the district summary workbook that other tools read back.

``combine`` writes the summary; ``--previous`` (check, combine, template) reads last
year's summary through these names, so they are declared once here.
"""

from __future__ import annotations

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
