"""The 年报发布核查 workbook of ``xltool compare``: one row per agency, each difference with its
cell and both values, the narrative findings, and the published files that matched no agency.

Fed with the comparison's JSON record (``CompareRun.to_json()``), so this layer needs nothing
from the pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xlsxwriter

from xltool.workbook.fileio import INERT_WORKBOOK, atomic_path, readable

SUMMARY_SHEET = "年报发布核查"
DIFF_SHEET = "数字不一致"
TEXT_SHEET = "文字问题"
UNMATCHED_SHEET = "未对应的已发布年报"


def _status(a: Mapping[str, Any]) -> str:
    if a["published"] is None:
        return "未发布（没有找到已发布的年报）"
    if a["submitted"] is None:
        return "没有报送的工作簿"
    n = len(a["differences"])
    return "一致" if n == 0 else f"有 {n} 处不一致"


def _name(path: str | None) -> str:
    return Path(path).name if path else ""


def write_compare_workbook(path: str | Path, data: Mapping[str, Any], *, overwrite: bool = True) -> Path:
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), INERT_WORKBOOK)
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
        cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
        bad = wb.add_format({"border": 1, "text_wrap": True, "valign": "top", "font_color": "#9C0006", "bg_color": "#FFC7CE"})
        good = wb.add_format({"border": 1, "valign": "top", "font_color": "#006100", "bg_color": "#C6EFCE"})

        def table(name: str, headers: list[str], widths: list[int], rows: list[list[Any]], fmt_of: Any = None) -> None:
            ws = wb.add_worksheet(name)
            for c, (h, w) in enumerate(zip(headers, widths, strict=True)):
                ws.write(0, c, h, head)
                ws.set_column(c, c, w)
            for r, row in enumerate(rows, start=1):
                for c, v in enumerate(row):
                    f = fmt_of(row, c) if fmt_of else cell
                    ws.write(r, c, "" if v is None else v, f)
            ws.freeze_panes(1, 0)
            if rows:
                ws.autofilter(0, 0, len(rows), len(headers) - 1)

        agencies = list(data.get("agencies", []))
        summary = [[a["agency"], _status(a), _name(a["published"]), _name(a["submitted"]), len(a["differences"]),
                    len(a["narrative"])] for a in agencies]

        def summary_fmt(row: list[Any], c: int) -> Any:
            if c != 1:
                return cell
            return good if row[1] == "一致" else bad

        table(SUMMARY_SHEET, ["单位", "核查结果", "已发布的年报", "报送的工作簿", "数字不一致（处）", "文字问题（条）"],
              [34, 26, 40, 46, 16, 14], summary, summary_fmt)
        diffs = [[a["agency"], d["sheet"], d["cell"], d["row"], d["column"], d["published"], d["submitted"]]
                 for a in agencies for d in a["differences"]]
        table(DIFF_SHEET, ["单位", "工作表", "单元格", "行", "列", "已发布", "报送"], [30, 18, 8, 44, 22, 10, 10], diffs)
        texts = [[a["agency"], f["code"], f["message"]] for a in agencies for f in a["narrative"]]
        table(TEXT_SHEET, ["单位", "问题代码", "说明"], [30, 22, 100], texts)
        un = [[_name(u["file"]), u.get("agency"), u.get("year"), u.get("reason")] for u in data.get("unmatched_published", [])]
        table(UNMATCHED_SHEET, ["文件", "报告中的单位", "报告中的年度", "原因"], [40, 30, 12, 50], un)
        wb.close()
        readable(tmp)
    return target
