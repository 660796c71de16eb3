"""The workspace's district summary as a publishable report and as chart data: what the
workbench's 汇总 page shows and offers for download. The report is the one ``xltool render``
makes from the same workbook (``pipeline.render.prepare``); the chart series are those of the
summary's 图表 sheet (``spec.selections``), read back from the workbook, never typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xltool.pipeline.render import Prepared, RenderError, prepare
from xltool.pipeline.workspace.ops import SUMMARIES, Workspace
from xltool.pipeline.workspace.summary import summary_name
from xltool.read.guard import GuardError
from xltool.read.pool import IsolatedError
from xltool.read.summary import read_summary_book
from xltool.read.values import cell_text
from xltool.spec import unnumbered
from xltool.spec.selections import outcome_groups, received_key
from xltool.workbook import summary_layout as SL

TOP_N = 20  # agencies in the applications chart (as in the workbook's 图表 sheet)


@dataclass
class Series:
    title: str
    unit: str  # what the numbers count (the value's column label)
    items: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class SummaryReport:
    path: Path
    prepared: Prepared
    draft: str | None  # the summary fails validation: the report is a draft, and why
    charts: list[Series]
    agencies: int  # agencies counted (rows of 分单位明细)


def summary_path(ws: Workspace) -> Path:
    return ws.root / SUMMARIES / summary_name(ws)


def _number(x: object) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or x != x:
        return 0.0
    return float(x)


def summary_report(ws: Workspace, path: Path | None = None) -> SummaryReport:
    """The report and charts of the workspace's summary (``path``: another of our summaries).
    Raises RenderError (Chinese) when the workbook cannot be read."""
    p = path or summary_path(ws)
    if not p.is_file():
        raise RenderError("还没有生成汇总表。")
    draft = None
    try:
        prep = prepare(p, agency=ws.district)
    except RenderError as e:
        if "未通过校验" not in str(e):
            raise
        draft = str(e).split("\n", 1)[0]
        prep = prepare(p, force=True, agency=ws.district)
    try:
        book = read_summary_book(p)
    except (GuardError, IsolatedError) as e:
        raise RenderError(f"无法读取 {p.name}：{getattr(e, 'message', None) or e}") from None
    fmt = prep.source.fmt
    detail = book.grids.get(SL.DETAIL_SHEET, [])
    keys = [cell_text(k).strip() for k in detail[SL.DETAIL_KEY_ROW]] if len(detail) > SL.DETAIL_KEY_ROW else []
    rk = received_key(fmt)
    cell = fmt.cells[rk]
    by_agency: list[tuple[str, float]] = []
    if rk in keys and SL.AGENCY_KEY in keys:
        j, a = keys.index(rk), keys.index(SL.AGENCY_KEY)
        for row in detail[SL.DETAIL_FIRST_DATA_ROW:]:
            name = cell_text(row[a]).strip() if a < len(row) else ""
            if not name or name == SL.TOTAL_ROW_LABEL:
                continue
            by_agency.append((name, _number(row[j]) if j < len(row) else 0.0))
    top = sorted(by_agency, key=lambda t: -t[1])[:TOP_N]
    scope = SL.LEVEL_SCOPE.get(book.meta.get(SL.META_LEVEL, ""), "全区")
    totals = {k: (float(t) if num and t else 0.0) for k, (t, num) in prep.source.cells.items()}
    outcomes = [(label, sum(totals.get(k, 0.0) for k in ks)) for label, ks in outcome_groups(fmt)]
    charts = [
        Series(f"{unnumbered(cell.row.label)}（前 {len(top)} 个单位）", cell.column.label, top),
        Series(f"{scope}政府信息公开申请办理结果", cell.column.label, outcomes),
    ]
    return SummaryReport(p, prep, draft, charts, len(by_agency))


__all__ = ["TOP_N", "Series", "SummaryReport", "summary_path", "summary_report"]
