"""The district summary workbook (XlsxWriter), written from a ``CombineResult``.

Every district total on the 汇总 sheets is a formula over the 合计 row of 分单位明细, and
every 合计 is a SUM over the agency rows, so a clerk can trace any number back to the
agencies. Each formula carries its cached value (``value=``): viewers that do not
recalculate, and LibreOffice with default settings, would otherwise show 0
(excel-engineering-notes.md). The long sheets (分单位明细, 报送情况, 问题清单) are written
row by row in XlsxWriter's constant-memory mode, so 20,000 agencies cost little memory;
the small sheets with merged headers use normal mode.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter
from xlsxwriter.format import Format as XFormat
from xlsxwriter.worksheet import Worksheet

from xltool import __version__
from xltool.core.combined import DISTRICT_NAME, CombineResult
from xltool.core.findings import SEVERITY_ZH
from xltool.core.model import Finding, Severity
from xltool.core.numbers import show, tidy
from xltool.spec import Style, unnumbered
from xltool.spec.selections import headline_keys, outcome_groups, received_key
from xltool.spec.types import CellDef
from xltool.workbook import summary_layout as SL
from xltool.workbook.fileio import atomic_path, scratch_dir
from xltool.workbook.layout import (
    CHECK_BAD,
    CHECK_OK,
    META_SHEET,
    TABLE_SHEETS,
    Layout,
    a1,
    col_letter,
    compute_cached,
    layout_for,
    parse_a1,
)
from xltool.write.template import Entry, Formats, draw_plan, fit_heights, style_props, table_plan, text_height

TOP_N = 20  # agencies in the applications chart
FINDING_COLUMNS = ("文件", "单位", "级别", "代码", "工作表", "单元格", "行", "列", "应为", "实为", "说明")
STATUS_COLUMNS = ("序号", "单位", "统一社会信用代码", "报送状态", "计入汇总", "说明", "文件", "文件时间",
                  "填报时间", "模板版本", "错误数", "警告数", "SHA-256")

# 分单位明细: narrow value columns under wrapped headers, so a page holds many of them
DETAIL_AGENCY_WIDTH = 20
DETAIL_VALUE_WIDTH = 5
DETAIL_NOTE_WIDTH = 40
DETAIL_TITLE_PT = 9
DETAIL_PRINT_SCALE = 55  # percent

# fills (also explained on 说明)
UNFILLED_FILL = "#FFF2CC"  # a blank or "/" cell, and a total built over such cells
TEXT_FILL = "#F4CCCC"  # text that is not a number
INVALID_FILL = "#FCE4D6"  # an agency included despite errors


def detail_header(cell: CellDef) -> str:
    """'表三·（三）不予公开·1.属于国家秘密·法人或其他组织·商业企业' for a 分单位明细 column.

    Table short name, the sub-table caption (表二), the row's group labels (for 表三 without
    the outer 三、本年度办理结果, which the row numbering already implies), the row label,
    the column's group labels and the column label.
    """
    t = cell.table
    groups = cell.row.groups[1:] if t.style is Style.MATRIX else cell.row.groups
    parts = [TABLE_SHEETS[t.section][1]]
    if t.style is Style.GRID:
        parts.append(t.caption)
    parts += [*groups, cell.row.label, *cell.column.groups, cell.column.label]
    return "·".join(parts)


def _scope(result: CombineResult) -> str:
    """全区 / 全市 / 全省: the summary's level in its titles."""
    return SL.LEVEL_SCOPE.get(result.level, "全区")


def _q(sheet: str) -> str:
    """A sheet name as it must appear in a formula."""
    return f"'{sheet}'" if any(not (c.isalnum() or c == "_") for c in sheet) else sheet


class _Styles:
    """The formats of the summary; one place so all sheets look alike."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
        box = {**base, "border": 1, "text_wrap": True}

        def f(*bases: dict[str, Any], **kw: Any) -> XFormat:
            props: dict[str, Any] = {}
            for b in bases:
                props.update(b)
            props.update(kw)
            return wb.add_format(props)

        self.heading = f(base, bold=True, font_size=14, align="center")
        self.caption = f(base, bold=True, align="left")
        self.header = f(box, bold=True, align="center", bg_color="#DDEBF7")
        self.label = f(box, align="left")
        self.group = f(box, align="center")
        self.note = f(box, align="left", font_size=9)
        self.value = f(box, align="right")
        self.value_warn = f(box, align="right", bg_color=UNFILLED_FILL)
        self.check = f(box, align="center")
        self.ok = f(base, bold=True, font_color="#006100", text_wrap=True, align="left")
        self.bad = f(base, bold=True, font_color="#9C0006", text_wrap=True, align="left")
        self.text = f(base, text_wrap=True, align="left", valign="top")
        self.cell = f(font_name="宋体", font_size=10)
        self.unfilled = f(font_name="宋体", font_size=10, bg_color=UNFILLED_FILL)
        self.badtext = f(font_name="宋体", font_size=10, bg_color=TEXT_FILL, text_wrap=True)
        self.invalid = f(font_name="宋体", font_size=10, bg_color=INVALID_FILL)
        self.total = f(font_name="宋体", font_size=10, bold=True, top=1, bg_color="#EDEDED")
        self.title = f(font_name="宋体", font_size=10, bold=True, text_wrap=True, valign="top",
                       bg_color="#DDEBF7", border=1)
        self.detail_title = f(font_name="宋体", font_size=DETAIL_TITLE_PT, bold=True, text_wrap=True,
                              valign="top", bg_color="#DDEBF7", border=1)
        self.wrap = f(font_name="宋体", font_size=10, text_wrap=True, valign="top")
        # 分单位明细: wrapped names at the bottom of their rows, level with the numbers
        self.detail_wrap = f(font_name="宋体", font_size=10, text_wrap=True)
        self.invalid_wrap = f(font_name="宋体", font_size=10, text_wrap=True, bg_color=INVALID_FILL)
        self.key = f(font_name="Consolas", font_size=8, font_color="#808080")
        self.time = f(font_name="宋体", font_size=10, num_format="yyyy-mm-dd hh:mm:ss", valign="top")
        self.hash = f(font_name="宋体", font_size=HASH_PT, text_wrap=True, valign="top")
        self.status = {
            "good": f(font_name="宋体", font_size=10, bg_color="#C6EFCE", text_wrap=True, valign="top"),
            "bad": f(font_name="宋体", font_size=10, bg_color="#FFC7CE", text_wrap=True, valign="top"),
            "grey": f(font_name="宋体", font_size=10, font_color="#7F7F7F", text_wrap=True, valign="top"),
        }


class _Detail:
    """Where things are on 分单位明细 (column per key, the 合计 row)."""

    def __init__(self, result: CombineResult) -> None:
        self.keys = list(result.fmt.cells)
        self.col = {k: 2 + j for j, k in enumerate(self.keys)}
        c = 2 + len(self.keys)
        self.yoy: list[tuple[str, int, int]] = []  # (key, column of 上年, column of 本年)
        if result.has_previous:

            for k in headline_keys(result.fmt):
                self.yoy.append((k, c, c + 1))
                c += 2
        self.note_col = c
        self.unit_col, self.sha_col, self.via_col = c + 1, c + 2, c + 3
        self.last_col = self.via_col
        self.first = SL.DETAIL_FIRST_DATA_ROW
        self.last = self.first + len(result.rows) - 1
        self.total_row = self.last + 1

    def total_ref(self, key: str) -> str:
        return f"{SL.DETAIL_SHEET}!{col_letter(self.col[key])}{self.total_row + 1}"

    def cell_ref(self, key: str, i: int) -> str:
        return f"{SL.DETAIL_SHEET}!{col_letter(self.col[key])}{self.first + i + 1}"


def write_summary(result: CombineResult, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the summary workbook atomically; refuses to replace a file unless ``overwrite``."""
    path = Path(path)
    # XlsxWriter's spill files go to a folder of ours next to the output (never $TMPDIR), removed
    # on every exit; a killed run's are removed by the next run, like its temporary output
    with atomic_path(path, overwrite=overwrite) as tmp, scratch_dir(path.parent) as scratch:
        _write(result, tmp, scratch)
    return path


def _write(result: CombineResult, path: Path, scratch: Path | None = None) -> None:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": False, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False,
                                         **({"tmpdir": str(scratch)} if scratch is not None else {})})
    wb.set_properties({
        "title": f"{result.year}年度政府信息公开工作年度报告 {_scope(result)}汇总",
        "comments": f"xltool {__version__} 生成",
    })
    st = _Styles(wb)
    fmt = result.fmt
    lay = layout_for(fmt)
    det = _Detail(result)
    # sheet order: totals first, then the detail and the lists
    formats = Formats(wb)
    for sec in lay.sheets:  # the template's drawing adds the sheet itself
        _table_sheet(wb, formats, lay, sec, result, det)
    wb.constant_memory = True  # XlsxWriter reads this per sheet when the sheet is added
    detail = wb.add_worksheet(SL.DETAIL_SHEET)
    status = wb.add_worksheet(SL.STATUS_SHEET)
    problems = wb.add_worksheet(SL.FINDINGS_SHEET)
    wb.constant_memory = False
    chart = wb.add_worksheet(SL.CHART_SHEET)
    notes = wb.add_worksheet(SL.NOTES_SHEET)
    meta = wb.add_worksheet(META_SHEET)
    fingerprint = _detail_sheet(detail, result, det, st)
    if result.children:
        _child_sheet(wb.add_worksheet(SL.child_sheet(result.level)), result, det, st)
    _status_sheet(status, result, st)
    _findings_sheet(problems, result, st)
    _chart_sheet(wb, chart, result, lay, det, st)
    _notes_sheet(notes, result, st)
    _meta_sheet(meta, result, fingerprint)
    wb.get_worksheet_by_name(SL.SUMMARY_TABLE_SHEETS["sec3"]).activate()
    # the streamed sheets' row files are read back and removed while the package is assembled;
    # constant_memory stays False here so close() does not touch the other sheets' (absent) files
    wb.close()


# --- 汇总 表二 / 表三 / 表四 ---------------------------------------------------------------


def _table_sheet(wb: xlsxwriter.Workbook, formats: Any, lay: Layout, sec: str, result: CombineResult,
                 det: _Detail) -> None:
    """One official table with the template's drawing (labels, merges, widths, fonts); each
    value is a district total: a formula over 分单位明细's 合计 row, with its cached value.

    Reuses template.py's sheet plan and drawing so the 汇总 sheets look like the template
    (private helpers for now; a public drawing API is proposed in docs/dev-notes/combine.md).
    The sheet is protected without a password, as a guard against typing over a formula.
    """
    sh = lay.sheets[sec]
    plan = table_plan(lay, sec, {}, {}, compute_cached(lay, {}))
    plan.name = SL.SUMMARY_TABLE_SHEETS[sec]
    plan.validations = []
    plan.cond = []
    plan.header = f"&L{_scope(result)}汇总&R{result.year}年度"
    for lab in sh.labels:
        if lab.kind == "heading":
            plan.cells[(lab.row, lab.col)].value = f"{result.year}年度 {_scope(result)}汇总 {lab.text}"
    for v in sh.values:
        blanks = result.unfilled.get(v.key, [])
        props = style_props("formula", bg_color=UNFILLED_FILL) if blanks else style_props("formula")
        plan.put(v.row, v.col, Entry(None, props, formula=det.total_ref(v.key), cached=result.totals[v.key],
                                      last_col=v.last_col))
        if blanks:
            names = [result.rows[i].agency for i in blanks]
            shown = "、".join(names[:15]) + (f" 等 {len(names)} 个单位" if len(names) > 15 else "")
            plan.comments[(v.row, v.col)] = f"{len(names)} 个单位此项未填写（空白或“/”），合计按 0 计入：{shown}"
    for c in sh.checks:
        left = sum(result.totals[k] for k in c.relation.left)
        right = sum(result.totals[k] for k in c.relation.right)
        r, col = parse_a1(c.addr)
        plan.put(r, col, Entry(None, style_props("check"), formula=c.text, cached=_check_text(left, right)))
    findings = [f for f in result.district_findings if f.sheet == SL.SUMMARY_TABLE_SHEETS[sec]]
    errs = sum(1 for f in findings if f.severity == Severity.ERROR)
    n_unfilled = sum(1 for v in sh.values if v.key in result.unfilled)
    line, ok = _check_line(errs, len(findings) - errs, n_unfilled)
    tone = {"font_color": "#006100" if ok else "#9C0006", "bold": True}
    if sh.status is not None:
        r, col = parse_a1(sh.status.addr)
        c1 = parse_a1(sh.status.merged.split(":")[1])[1]
        plan.put(r, col, Entry(line, style_props("fixed", **tone), last_col=c1))
    used = max(r for r, _c in plan.cells)
    used = max(used, *(e.last_row for e in plan.cells.values() if e.last_row is not None))
    r = used + 2
    plan.put(r, 0, Entry(line, style_props("para", **tone), last_row=r, last_col=sh.width - 1))
    explain = (f"本表各数均为公式，引用“{SL.DETAIL_SHEET}”工作表的“{SL.TOTAL_ROW_LABEL}”行"
               f"（{len(result.rows)} 个单位之和）。黄色底色：有单位未填写该项（空白或“/”），合计按 0 计入，"
               "批注列出这些单位。本表受保护（无密码），以免误改公式。")
    plan.put(r + 1, 0, Entry(explain, style_props("para"), last_row=r + 1, last_col=sh.width - 1))
    fit_heights(plan)
    draw_plan(wb, formats, plan, "")


def _check_text(left: float, right: float) -> str:
    return CHECK_OK if math.isclose(left, right, abs_tol=1e-6) else CHECK_BAD


def _check_line(errors: int, warnings: int, unfilled: int) -> tuple[str, bool]:
    head = "校验（按 xltool check 的同一规则对全区合计重新校验）："
    if errors == 0 and warnings == 0:
        return head + "通过", True
    extra = f"，其中 {unfilled} 项合计含未填写的单位" if unfilled else ""
    text = f"{errors} 处错误、{warnings} 处警告{extra}，详见“{SL.FINDINGS_SHEET}”工作表（文件列为“全区合计”）"
    return head + text, errors == 0


# --- 分单位明细 -------------------------------------------------------------------------


def _detail_sheet(ws: Worksheet, result: CombineResult, det: _Detail, st: _Styles) -> str:
    """One row per included agency, one column per spec key; streamed in row order."""
    fmt = result.fmt
    cells = fmt.cells
    data = result.table.to_numpy()
    prev_total = {k: sum(p.get(k) or 0 for p in result.previous.values()) for k, _, _ in det.yoy}
    widths = {0: float(DETAIL_AGENCY_WIDTH), 1: 20.0, det.note_col: float(DETAIL_NOTE_WIDTH)}
    titles: dict[int, str] = {}
    for j, k in enumerate(det.keys):
        widths[det.col[k]] = _value_width([*data[:, j], result.totals[k]])
        titles[det.col[k]] = detail_header(cells[k])
    for k, cp, cc in det.yoy:
        widths[cp] = max(widths[det.col[k]], _value_width([prev_total[k]]))
        widths[cc] = widths[det.col[k]]
        titles[cp] = f"同比·上年·{detail_header(cells[k])}"
        titles[cc] = f"同比·本年·{detail_header(cells[k])}"
    for c, w in widths.items():
        ws.set_column(c, c, w)
    # chain of custody, for the next level and for drill-down; hidden so the sheet prints as
    # before (报送情况 and 说明 show each file's sha256 to a reader); 所属 shows when there are lower levels
    ws.set_column(det.unit_col, det.unit_col, 16, None, {"hidden": not result.children})
    ws.set_column(det.sha_col, det.via_col, 20, None, {"hidden": True})
    ws.freeze_panes(SL.DETAIL_FIRST_DATA_ROW, 1)
    ws.set_row(SL.DETAIL_TITLE_ROW, max(text_height(title, widths[c], DETAIL_TITLE_PT) for c, title in titles.items()))
    _print_wide(ws, det)
    ws.set_row(SL.DETAIL_KEY_ROW, None, None, {"hidden": True})
    # row 0: titles; row 1: keys (hidden)
    r0, r1 = SL.DETAIL_TITLE_ROW, SL.DETAIL_KEY_ROW
    ws.write_string(r0, 0, "单位", st.title)
    ws.write_string(r0, 1, "统一社会信用代码", st.title)
    for c, title in sorted(titles.items()):
        ws.write_string(r0, c, title, st.detail_title)
    ws.write_string(r0, det.note_col, "备注", st.title)
    ws.write_string(r0, det.unit_col, SL.UNIT_COLUMN, st.title)
    ws.write_string(r0, det.sha_col, "单位文件 SHA-256", st.title)
    ws.write_string(r0, det.via_col, "经由下级汇总表 SHA-256", st.title)
    ws.write_string(r1, 0, SL.AGENCY_KEY, st.key)
    ws.write_string(r1, 1, SL.CREDIT_CODE_KEY, st.key)
    for k in det.keys:
        ws.write_string(r1, det.col[k], k, st.key)
    for k, cp, cc in det.yoy:
        ws.write_string(r1, cp, SL.PREV_KEY_PREFIX + k, st.key)
        ws.write_string(r1, cc, SL.CURR_KEY_PREFIX + k, st.key)
    ws.write_string(r1, det.note_col, SL.NOTE_KEY, st.key)
    ws.write_string(r1, det.unit_col, SL.UNIT_KEY, st.key)
    ws.write_string(r1, det.sha_col, SL.SHA_KEY, st.key)
    ws.write_string(r1, det.via_col, SL.VIA_KEY, st.key)
    fp = SL.Fingerprint([result.year, result.fmt.id, result.level, result.district or ""])
    prev_sum = {k: 0.0 for k, _, _ in det.yoy}
    raw_in_row: dict[int, list[tuple[int, Any, float]]] = {}
    for (ri, rk), text in result.raw_text.items():
        raw_in_row.setdefault(ri, []).append((det.col[rk], text, 10))
    for i, o in enumerate(result.rows):
        r = det.first + i
        invalid = o.disposition.name == "INVALID"
        note = o.reason if invalid else (f"文件：{o.sub.path.name}")
        _fit_row(ws, r, [(0, o.agency, 10), (det.note_col, note, 10), *raw_in_row.get(i, [])], widths)
        ws.write_string(r, 0, o.agency, st.invalid_wrap if invalid else st.detail_wrap)
        if o.credit_code:
            ws.write_string(r, 1, o.credit_code)
        row = data[i]
        for j, k in enumerate(det.keys):
            x = row[j]
            if x != x:  # NaN: not filled (blank, "/", or text)
                raw = result.raw_text.get((i, k))
                if raw is not None:
                    ws.write_string(r, j + 2, raw, st.badtext)
                else:
                    ws.write_blank(r, j + 2, None, st.unfilled)
            else:
                ws.write_number(r, j + 2, x)
        prev = result.previous.get(i, {})
        for k, cp, cc in det.yoy:
            p = prev.get(k)
            if p is not None:
                ws.write_number(r, cp, p)
                prev_sum[k] += p
            cur = row[det.col[k] - 2]
            ws.write_formula(r, cc, f"={col_letter(det.col[k])}{r + 1}", None, 0 if cur != cur else tidy(cur))
        ws.write_string(r, det.note_col, note, st.invalid_wrap if invalid else st.detail_wrap)
        sha, via = o.sub.sha256 or "", SL.VIA_SEP.join(o.via)
        for c, text in ((det.unit_col, o.unit), (det.sha_col, sha), (det.via_col, via)):
            if text:
                ws.write_string(r, c, text, st.key if c != det.unit_col else st.detail_wrap)
        fp.add([o.agency, o.credit_code,
                *(result.raw_text.get((i, k)) if x != x else x for k, x in zip(det.keys, row, strict=True)),
                sha, o.unit, via])
    t = det.total_row
    ws.write_string(t, 0, SL.TOTAL_ROW_LABEL, st.total)
    ws.write_blank(t, 1, None, st.total)
    for k in det.keys:
        c = det.col[k]
        ws.write_formula(t, c, f"=SUM({a1(det.first, c)}:{a1(det.last, c)})", st.total, result.totals[k])
    for k, cp, cc in det.yoy:
        ws.write_formula(t, cp, f"=SUM({a1(det.first, cp)}:{a1(det.last, cp)})", st.total, tidy(prev_sum[k]))
        ws.write_formula(t, cc, f"=SUM({a1(det.first, cc)}:{a1(det.last, cc)})", st.total, result.totals[k])
    ws.write_string(t, det.note_col, f"{len(result.rows)} 个单位之和；空白与“/”按 0 计", st.total)
    ws.autofilter(SL.DETAIL_TITLE_ROW, 0, det.last, det.last_col)
    return fp.hexdigest()


def _blocks(result: CombineResult) -> list[tuple[str, str, str, int, int]]:
    """(name, kind, sha256, first row index, last row index) per child summary and per direct
    agency, in 分单位明细 order (a child's agencies are contiguous there)."""
    by_sha = {o.sub.sha256: o for o in result.children}
    out: list[tuple[str, str, str, int, int]] = []
    for i, o in enumerate(result.rows):
        if not o.via:
            out.append((o.agency, "直报单位", o.sub.sha256 or "", i, i))
            continue
        if out and out[-1][1] == "下级汇总表" and out[-1][2] == o.via[0]:
            name, kind, sha, first, _ = out[-1]
            out[-1] = (name, kind, sha, first, i)
            continue
        child = by_sha.get(o.via[0])
        out.append((child.agency if child is not None else o.unit, "下级汇总表", o.via[0], i, i))
    return out


def _child_sheet(ws: Worksheet, result: CombineResult, det: _Detail, st: _Styles) -> None:
    """One row per child summary and per direct agency: each value a SUM over its rows of
    分单位明细 (drill-down: the city figure → this row → the agencies → their files)."""
    fmt = result.fmt
    data = result.table.to_numpy()
    widths = {0: 5.0, 1: 22.0, 2: 10.0, 3: 7.0, 4: 20.0}
    first_val = 5
    for c, w in widths.items():
        ws.set_column(c, c, w)
    heads = ["序号", "名称", "类型", "单位数", "SHA-256"]
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, st.title)
    for j, k in enumerate(det.keys):
        ws.set_column(first_val + j, first_val + j, widths.get(det.col[k], DETAIL_VALUE_WIDTH + 1.0))
        ws.write_string(0, first_val + j, detail_header(fmt.cells[k]), st.detail_title)
        ws.write_string(1, first_val + j, k, st.key)
    ws.write_string(1, 1, SL.AGENCY_KEY, st.key)
    ws.set_row(1, None, None, {"hidden": True})
    ws.set_row(0, 90)
    ws.freeze_panes(2, 2)
    blocks = _blocks(result)
    r = 2
    for n, (name, kind, sha, a, b) in enumerate(blocks, 1):
        ws.write_number(r, 0, n)
        ws.write_string(r, 1, name, st.detail_wrap)
        ws.write_string(r, 2, kind)
        ws.write_number(r, 3, b - a + 1)
        if sha:
            ws.write_string(r, 4, sha, st.hash)
        for j, k in enumerate(det.keys):
            c = det.col[k]
            cached = tidy(float(np.nansum(data[a : b + 1, j])))
            ref = f"{SL.DETAIL_SHEET}!{a1(det.first + a, c)}:{a1(det.first + b, c)}"
            ws.write_formula(r, first_val + j, f"=SUM({ref})", None, cached)
        r += 1
    ws.write_string(r, 1, SL.TOTAL_ROW_LABEL, st.total)
    ws.write_number(r, 3, len(result.rows), st.total)
    for j, k in enumerate(det.keys):
        c = first_val + j
        ws.write_formula(r, c, f"=SUM({a1(2, c)}:{a1(r - 1, c)})", st.total, result.totals[k])
    ws.autofilter(0, 0, r - 1, first_val + len(det.keys) - 1)


def _value_width(values: Sequence[Any]) -> float:
    """A 分单位明细 value column wide enough for its longest number (the 合计 among them).

    Whole numbers are longest at the extremes; only fractions are looked at one by one
    (few: amounts), so 20,000 agencies cost a few array passes per column.
    """
    a = np.asarray(values, dtype=float)
    a = a[~np.isnan(a)]
    if not a.size:
        return float(DETAIL_VALUE_WIDTH)
    candidates = [a.max(), a.min(), *np.unique(a[a != np.floor(a)])]
    longest = max(len(show(tidy(float(x)))) for x in candidates)
    return float(max(DETAIL_VALUE_WIDTH, longest + 1.5))


def _print_wide(ws: Worksheet, det: _Detail) -> None:
    """Print 分单位明细 readably: too wide for one page, so pages run across first (a block of
    agencies through all columns, then the next block), the header rows and the 单位 column
    on every page, at a fixed scale that keeps the numbers legible."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.5)
    ws.repeat_rows(SL.DETAIL_TITLE_ROW, SL.DETAIL_KEY_ROW)
    ws.repeat_columns(0)
    ws.print_across()
    ws.hide_gridlines(0)  # gridlines printed too: 200 columns of bare numbers are hard to follow
    ws.set_print_scale(DETAIL_PRINT_SCALE)
    ws.set_footer("&C第 &P 页，共 &N 页")


# --- 报送情况 / 问题清单 ------------------------------------------------------------------


STATUS_WIDTHS = (5, 20, 19, 12, 5, 30, 30, 18, 18, 16, 5, 5, 17)
FINDING_WIDTHS = (28, 20, 5, 20, 12, 7, 24, 12, 8, 8, 60)
LIST_PT = 10  # font size of the list sheets (报送情况, 问题清单, 说明)
HASH_PT = 8  # SHA-256 in a smaller font, wrapped


@functools.lru_cache(maxsize=8192)  # messages and statuses repeat across thousands of rows
def _height(text: str, width: float, pt: float) -> float:
    if "\n" not in text and len(text) * 2 <= width * 11 / pt - 1.5:  # one line even if every character is wide
        return text_height("", width, pt)
    return text_height(text, width, pt)


def _fit_row(ws: Worksheet, r: int, cells: Sequence[tuple[int, Any, float]],
             widths: Sequence[float] | dict[int, float]) -> None:
    """Height of list row ``r`` so that every wrapped text (col, value, font size) shows whole."""
    need = [_height(v, widths[c], pt) for c, v, pt in cells if isinstance(v, str) and v]
    ws.set_row(r, max([15.0, *need]))


def _print_list(ws: Worksheet, header_rows: int = 1) -> None:
    """A list sheet on paper: A4 landscape, one page wide, header rows on every page, gridlines."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.fit_to_pages(1, 0)
    if header_rows:
        ws.repeat_rows(0, header_rows - 1)
    ws.hide_gridlines(0)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _status_sheet(ws: Worksheet, result: CombineResult, st: _Styles) -> None:
    widths = STATUS_WIDTHS
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(1, 2)
    _fit_row(ws, 0, [(j, h, LIST_PT) for j, h in enumerate(STATUS_COLUMNS)], widths)
    for j, h in enumerate(STATUS_COLUMNS):
        ws.write_string(0, j, h, st.title)
    if any(rr.unit for rr in result.roster_rows):
        ws.set_column(len(STATUS_COLUMNS), len(STATUS_COLUMNS), 16)
        ws.write_string(0, len(STATUS_COLUMNS), SL.UNIT_COLUMN, st.title)
    for i, rr in enumerate(result.roster_rows):
        r = i + 1
        o = rr.outcome
        if o is not None and o.disposition.name in ("SUPERSEDED", "SUMMARY"):
            tone = "grey"
        elif o is None and rr.included is not None:
            tone = "good" if rr.included and rr.status == "已报送·通过" else "bad"
        elif o is not None and o.included and o.disposition.name in ("OK", "CHILD"):
            tone = "good"
        else:
            tone = "bad"
        texts: list[tuple[int, Any, float]] = [(1, rr.name, LIST_PT), (3, rr.status, LIST_PT)]
        if o is None:
            texts.append((5, "名单中的单位没有报送文件。", LIST_PT))
        else:
            texts += [(5, o.reason or "", LIST_PT), (6, str(o.sub.path), LIST_PT), (9, o.version, LIST_PT),
                      (12, o.sub.sha256 or "", HASH_PT)]
        _fit_row(ws, r, texts, widths)
        ws.write_number(r, 0, i + 1, st.wrap)
        ws.write_string(r, 1, rr.name, st.wrap)
        if rr.credit_code:
            ws.write_string(r, 2, rr.credit_code, st.wrap)
        ws.write_string(r, 3, rr.status, st.status[tone])
        if rr.unit:
            ws.write_string(r, len(STATUS_COLUMNS), rr.unit, st.wrap)
        if o is None and rr.included is not None:  # a lower level's own line, as it recorded it
            ws.write_string(r, 4, "是" if rr.included else "否", st.wrap)
            if rr.reason:
                ws.write_string(r, 5, rr.reason, st.wrap)
            continue
        if o is None:
            ws.write_string(r, 4, "否", st.wrap)
            ws.write_string(r, 5, "名单中的单位没有报送文件。", st.wrap)
            continue
        ws.write_string(r, 4, "是" if o.included else "否", st.wrap)
        if o.reason:
            ws.write_string(r, 5, o.reason, st.wrap)
        ws.write_string(r, 6, str(o.sub.path), st.wrap)
        if o.file_time is not None:
            ws.write_datetime(r, 7, o.file_time, st.time)
        if o.sub.fill_time is not None:
            ft = o.sub.fill_time.replace(tzinfo=None) if o.sub.fill_time.tzinfo else o.sub.fill_time
            ws.write_datetime(r, 8, ft, st.time)
        ws.write_string(r, 9, o.version, st.wrap)
        ws.write_number(r, 10, o.sub.n_errors, st.wrap)
        ws.write_number(r, 11, o.sub.n_warnings, st.wrap)
        if o.sub.sha256:
            ws.write_string(r, 12, o.sub.sha256, st.hash)
    last = max(1, len(result.roster_rows))
    ws.autofilter(0, 0, last, len(STATUS_COLUMNS) - 1)
    _print_list(ws)


def _finding_row(ws: Worksheet, r: int, f: Finding, file: str, agency: str, st: _Styles) -> None:
    sev = f.severity if isinstance(f.severity, Severity) else Severity(f.severity)
    vals = (file, agency, SEVERITY_ZH[sev], f.code, f.sheet or f.table or "", f.cell or "", f.row or "",
            f.column or "", f.expected, f.actual, f.message)
    _fit_row(ws, r, [(j, v, LIST_PT) for j, v in enumerate(vals) if isinstance(v, str)], FINDING_WIDTHS)
    for j, v in enumerate(vals):
        if v is None or v == "":
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            ws.write_number(r, j, v, st.wrap)
        else:
            ws.write_string(r, j, str(v), st.wrap)


def _findings_sheet(ws: Worksheet, result: CombineResult, st: _Styles) -> None:
    """Every finding of every file (the same records as check), district findings first."""
    widths = FINDING_WIDTHS
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(1, 0)
    _fit_row(ws, 0, [(j, h, LIST_PT) for j, h in enumerate(FINDING_COLUMNS)], widths)
    for j, h in enumerate(FINDING_COLUMNS):
        ws.write_string(0, j, h, st.title)
    r = 1

    for f in result.district_findings:
        _finding_row(ws, r, f, DISTRICT_NAME, DISTRICT_NAME, st)
        r += 1
    for o in result.outcomes:
        for f in o.sub.findings:
            _finding_row(ws, r, f, str(o.sub.path), o.agency, st)
            r += 1
    ws.autofilter(0, 0, max(1, r - 1), len(FINDING_COLUMNS) - 1)
    _print_list(ws)


# --- 图表 ------------------------------------------------------------------------------


def _chart_sheet(wb: xlsxwriter.Workbook, ws: Worksheet, result: CombineResult, lay: Layout,
                 det: _Detail, st: _Styles) -> None:
    """Applications received by agency (top 20) and how applications were handled district-wide."""

    fmt = result.fmt
    rk = received_key(fmt)
    j = list(det.keys).index(rk)
    data = result.table.to_numpy()[:, j]
    order = sorted(range(len(result.rows)), key=lambda i: (-(0 if data[i] != data[i] else data[i]), i))[:TOP_N]
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 16)
    ws.set_column(3, 3, 24)
    ws.set_column(4, 4, 16)
    cell = fmt.cells[rk]
    ws.write_string(0, 0, "单位", st.title)
    ws.write_string(0, 1, f"{cell.row.label}（{cell.column.label}）", st.title)
    for n, i in enumerate(order):
        r = det.first + i + 1
        ws.write_formula(n + 1, 0, f"={SL.DETAIL_SHEET}!A{r}", None, result.rows[i].agency)
        v = data[i]
        ws.write_formula(n + 1, 1, f"={det.cell_ref(rk, i)}", None, 0 if v != v else tidy(v))
    bar = wb.add_chart({"type": "bar"})
    n = len(order)
    bar.add_series({
        "name": f"{cell.row.label}",
        "categories": [SL.CHART_SHEET, 1, 0, n, 0],
        "values": [SL.CHART_SHEET, 1, 1, n, 1],
        "data_labels": {"value": True},
    })
    bar.set_title({"name": f"{unnumbered(cell.row.label)}（前 {min(TOP_N, n)} 个单位）"})
    bar.set_y_axis({"reverse": True})
    bar.set_legend({"none": True})
    bar.set_size({"width": 720, "height": max(320, 24 * n + 80)})
    ws.insert_chart(1, 6, bar)

    groups = outcome_groups(fmt)
    sheet3 = SL.SUMMARY_TABLE_SHEETS["sec3"]
    ws.write_string(0, 3, "办理结果", st.title)
    ws.write_string(0, 4, f"{_scope(result)}件数（总计列）", st.title)
    for n2, (label, keys) in enumerate(groups):
        refs = ",".join(f"{_q(sheet3)}!{lay.address[k][1]}" for k in keys)
        ws.write_string(n2 + 1, 3, label)
        ws.write_formula(n2 + 1, 4, f"=SUM({refs})", None, tidy(sum(result.totals[k] for k in keys)))
    col = wb.add_chart({"type": "column"})
    col.add_series({
        "name": "办理结果",
        "categories": [SL.CHART_SHEET, 1, 3, len(groups), 3],
        "values": [SL.CHART_SHEET, 1, 4, len(groups), 4],
        "data_labels": {"value": True},
    })
    col.set_title({"name": f"{_scope(result)}政府信息公开申请办理结果"})
    col.set_legend({"none": True})
    col.set_size({"width": 720, "height": 360})
    ws.insert_chart(max(20, 24 * n // 20 + 22), 6, col)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


# --- 说明 / meta -----------------------------------------------------------------------


NOTES_WIDTHS = (22, 80, 26, 14, 40)


def _notes_sheet(ws: Worksheet, result: CombineResult, st: _Styles) -> None:
    widths = NOTES_WIDTHS
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    fmt = result.fmt
    errs = sum(1 for f in result.district_findings if f.severity == Severity.ERROR)
    warns = len(result.district_findings) - errs
    n_inv = sum(1 for o in result.rows if o.disposition.name == "INVALID")
    items: list[tuple[str, str]] = [
        ("工具版本", f"xltool {__version__}"),
        ("生成时间", result.created.strftime("%Y-%m-%d %H:%M:%S")),
        ("报告年度", f"{result.year} 年。{result.year_note}"),
        ("报表格式", f"{fmt.id} 格式：{fmt.name}（{fmt.document}）"),
        ("报送名单", str(result.roster_path or "已提供") if result.has_roster else "未提供（报送情况列出每个文件）"),
        ("上年数据", "；".join(map(str, result.previous_paths)) or ("已提供" if result.has_previous else "未提供")),
        ("文件数", f"共 {len(result.outcomes)} 个；计入汇总 {len(result.rows)} 个单位；未计入 {len(result.excluded)} 个"),
        ("未报送单位", "、".join(result.missing) if result.missing else ("无" if result.has_roster else "（未提供名单）")),
        ("有错误仍计入", f"{n_inv} 个（--include-invalid）" if result.include_invalid else "否：有错误的文件不计入汇总"),
        (f"{_scope(result)}合计校验", "通过" if not result.district_findings else f"{errs} 处错误、{warns} 处警告，见“{SL.FINDINGS_SHEET}”"),
        ("格式说明", "本工具不在 2019 与 2021 两种格式之间换算：同一年度的文件若混用两种格式，汇总会被拒绝。"),
        ("颜色说明", "黄色：单位未填写（空白或“/”），不是 0，合计按 0 计入；红色：填了不是数字的内容；"
                 "橙色：有错误但按 --include-invalid 计入的单位。"),
    ]
    items += [("备注", n) for n in result.notes]
    r = 0
    ws.merge_range(r, 0, r, 4, f"{result.year}年度政府信息公开工作年度报告 {_scope(result)}汇总 说明", st.heading)
    r = 2
    for k, v in items:
        _fit_row(ws, r, [(0, k, LIST_PT), (1, v, LIST_PT)], widths)
        ws.write_string(r, 0, k, st.caption)
        ws.write_string(r, 1, v, st.text)
        r += 1
    r += 1
    ws.write_string(r, 0, "计入汇总的文件", st.caption)
    r += 1
    for j, h in enumerate(("单位", "文件", "SHA-256", "状态")):
        ws.write_string(r, j, h, st.title)
    r += 1
    for o in result.rows:
        _file_line(ws, r, o.agency, o, st)
        r += 1
    r += 1
    ws.write_string(r, 0, "未计入汇总的文件", st.caption)
    r += 1
    for j, h in enumerate(("单位", "文件", "SHA-256", "状态", "原因")):
        ws.write_string(r, j, h, st.title)
    r += 1
    for o in result.excluded:
        _file_line(ws, r, o.agency, o, st, o.reason)
        r += 1
    _print_list(ws, header_rows=0)


def _file_line(ws: Worksheet, r: int, agency: str, o: Any, st: _Styles, reason: str = "") -> None:
    cells = [(0, agency, LIST_PT), (1, str(o.sub.path), LIST_PT), (2, o.sub.sha256 or "", HASH_PT),
             (3, o.disposition.value, LIST_PT), (4, reason, LIST_PT)]
    _fit_row(ws, r, cells, NOTES_WIDTHS)
    ws.write_string(r, 0, agency, st.wrap)
    ws.write_string(r, 1, str(o.sub.path), st.wrap)
    if o.sub.sha256:
        ws.write_string(r, 2, o.sub.sha256, st.hash)
    ws.write_string(r, 3, o.disposition.value, st.wrap)
    if reason:
        ws.write_string(r, 4, reason, st.text)


def meta_items(result: CombineResult, fingerprint: str = "") -> Sequence[tuple[str, str | int]]:
    return (
        ("kind", SL.SUMMARY_KIND),
        ("format", result.fmt.id),
        ("year", result.year),
        ("tool_version", __version__),
        ("created", result.created.isoformat()),
        ("n_agencies", len(result.rows)),
        (SL.META_DISTRICT, result.district or ""),
        (SL.META_LEVEL, result.level),
        (SL.META_FINGERPRINT, fingerprint),
    )


def _meta_sheet(ws: Worksheet, result: CombineResult, fingerprint: str) -> None:
    for r, (k, v) in enumerate(meta_items(result, fingerprint)):
        ws.write_string(r, 0, k)
        if isinstance(v, int):
            ws.write_number(r, 1, v)
        else:
            ws.write_string(r, 1, v)
    ws.very_hidden()


__all__ = ["detail_header", "meta_items", "write_summary"]
