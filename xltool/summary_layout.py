"""Fixed places in the district summary workbook that other tools read back.

``combine`` writes the summary; ``--previous`` (check, combine, template) reads last
year's summary through these names, so they are declared once here.
"""

from __future__ import annotations

SUMMARY_KIND = "summary"  # value of the "kind" row in the summary's META_SHEET (layout.META_SHEET)
DETAIL_SHEET = "分单位明细"
DETAIL_TITLE_ROW = 0  # 0-based: Chinese column headers (表·行·列)
DETAIL_KEY_ROW = 1  # 0-based: spec cell keys (row hidden), "agency" / "credit_code" over the first columns
DETAIL_FIRST_DATA_ROW = 2  # 0-based: first agency row
AGENCY_KEY = "agency"
CREDIT_CODE_KEY = "credit_code"
TOTAL_ROW_LABEL = "合计"  # text in the agency column of the totals row (not an agency)
