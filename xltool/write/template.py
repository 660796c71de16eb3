"""Locked Excel templates of the official tables, written with XlsxWriter.

Every label, value, formula and check cell goes exactly where ``layout_for(fmt)`` puts it;
this module only adds looks (fonts, borders, fills, widths), protection, data validation,
conditional formatting, the 填报说明 sheet and the very-hidden metadata sheet.

The same writer makes FILLED workbooks (tests, samples, feedback copies): every formula
gets its correct cached value from ``layout.compute_cached``, so viewers that do not
recalculate (and LibreOffice with default settings) show the right totals and texts.

"""

from __future__ import annotations

import io
import math
import os
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict
from xml.sax.saxutils import escape as xml_escape

import xlsxwriter
from xlsxwriter.format import Format as XFormat

from xltool.core.model import CellValue, PreviousData
from xltool.core.names import RosterEntry, normalize_name
from xltool.spec import AMOUNT_UNIT, Format, Kind, Style, format_for_year
from xltool.workbook.fileio import (
    add_structure_protection,
    atomic_path,
    legacy_password_hash,
    password_problem,
)
from xltool.workbook.layout import (
    CHECK_BAD,
    INFO_FIELDS,
    INFO_SHEET,
    INSTRUCTIONS_SHEET,
    META_SHEET,
    SHEET_ORDER,
    STATUS_OK,
    TABLE_SHEETS,
    TEXT_SHEET,
    Label,
    Layout,
    SheetLayout,
    a1,
    compute_cached,
    layout_for,
    parse_a1,
)
from xltool.workbook.meta import (
    MAX_TEXT,
    META_MAP_HEADER,
    TemplateError,
    agency_name_problem,
    format_label,
    meta_fields,
    meta_map,
    template_filename,
    template_id_for,
)

DEFAULT_PASSWORD = "zwgk"  # 政务公开: prevents accidental edits only; it is not a secret
FONT = "宋体"
FONT_CHARSET = 134  # GB2312: Excel then picks the Chinese face of the font
INPUT_FILL = "#FFF2CC"  # light yellow: the only cells a clerk may type in
CALC_FILL = "#EDEDED"  # light grey: computed by a formula
HIGHLIGHT_FILL = "#F4B084"  # orange: a cell commented on in a feedback copy
BAD_FILL, BAD_FONT = "#FFC7CE", "#9C0006"  # Excel's own "light red fill with dark red text"
GOOD_FILL, GOOD_FONT = "#C6EFCE", "#006100"

PROTECT_OPTIONS = {
    "select_locked_cells": True,
    "select_unlocked_cells": True,
    "format_columns": True,
    "format_rows": True,
}

_LINE_PT = 14.5  # one line of 11pt 宋体
_NARRATIVE_HEIGHT = {"sec1": 330.0}
_NARRATIVE_DEFAULT_HEIGHT = 200.0


# --- names and ids ----------------------------------------------------------------------


def resolve_format(year: int, fmt: Format | str | int | None) -> Format:
    """The format for ``year``; raises spec.SpecError (Chinese) when they do not fit."""
    if isinstance(fmt, Format):
        return format_for_year(year, fmt.id)
    return format_for_year(year, fmt)


# --- styles -----------------------------------------------------------------------------

_BASE: dict[str, Any] = {
    "font_name": FONT,
    "font_size": 11,
    "font_charset": FONT_CHARSET,
    "valign": "vcenter",
}
_STYLES: dict[str, dict[str, Any]] = {
    "plain": {},
    "title": {"bold": True, "font_size": 14, "align": "center"},
    "caption": {"bold": True, "align": "left", "border": 1, "text_wrap": True},
    "section": {"bold": True, "font_size": 12, "align": "left"},
    "header": {"align": "center", "border": 1, "text_wrap": True},
    "note": {"align": "center", "border": 1, "text_wrap": True, "font_size": 10},
    "group": {"align": "center", "border": 1, "text_wrap": True},
    "label": {"align": "left", "border": 1, "text_wrap": True},
    "input": {"border": 1, "bg_color": INPUT_FILL, "locked": False},
    "input_text": {
        "border": 1,
        "bg_color": INPUT_FILL,
        "locked": False,
        "num_format": "@",
        "align": "left",
        "text_wrap": True,
    },
    "narrative": {
        "border": 1,
        "bg_color": INPUT_FILL,
        "locked": False,
        "num_format": "@",
        "align": "left",
        "valign": "top",
        "text_wrap": True,
    },
    "formula": {"border": 1, "bg_color": CALC_FILL},
    "check": {"border": 1, "bg_color": CALC_FILL, "align": "center"},
    "status": {"border": 1, "bg_color": CALC_FILL, "align": "center", "bold": True},
    "fixed": {"border": 1, "bg_color": CALC_FILL, "align": "left", "text_wrap": True},
    "para_head": {"bold": True, "valign": "top", "text_wrap": True},
    "para": {"valign": "top", "text_wrap": True},
}
_LABEL_STYLE = {
    "heading": "title",
    "caption": "caption",
    "header": "header",
    "note": "note",
    "group": "group",
    "label": "label",
}


def style_props(style: str, **extra: str | int | float | bool) -> dict[str, Any]:
    return {**_BASE, **_STYLES[style], **extra}


class Formats:
    """One XlsxWriter Format per distinct property set (XlsxWriter does not dedupe)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self._cache: dict[tuple, Any] = {}

    def __call__(self, props: Mapping[str, object]) -> XFormat:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format(dict(props))
        return self._cache[key]


# --- a sheet as data, then drawn --------------------------------------------------------


@dataclass
class Entry:
    value: object = None  # number, str or None
    props: dict[str, Any] = field(default_factory=lambda: style_props("plain"))
    formula: str | None = None  # without '='
    cached: object = None
    last_row: int | None = None
    last_col: int | None = None


@dataclass
class Plan:
    name: str
    cells: dict[tuple[int, int], Entry] = field(default_factory=dict)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    min_height: float = 18.0
    validations: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    cond: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    comments: dict[tuple[int, int], str] = field(default_factory=dict)
    landscape: bool = False
    repeat: tuple[int, int] | None = None
    freeze: tuple[int, int] | None = None
    header: str = ""
    hidden: bool = False

    def put(self, row: int, col: int, entry: Entry) -> None:
        self.cells[(row, col)] = entry

    def label(self, lab: Label, style: str | None = None) -> None:
        self.put(
            lab.row,
            lab.col,
            Entry(
                lab.text,
                style_props(style or _LABEL_STYLE.get(lab.kind, "label")),
                last_row=lab.last_row,
                last_col=lab.last_col,
            ),
        )


def _text_units(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _lines(text: str, width: float) -> int:
    usable = max(1.0, width - 1.5)
    return sum(max(1, math.ceil(_text_units(part) / usable)) for part in text.split("\n"))


def text_height(text: str, width: float, font_size: float = 11.0) -> float:
    """Row height (points) that shows ``text`` whole, wrapped in a column (or merged range) of
    ``width`` Excel width units: the one line estimate of every sheet we write."""
    return min(409.0, _lines(text, width * 11 / font_size) * _LINE_PT * font_size / 11 + 5)


def fit_heights(plan: Plan) -> None:
    """Row heights for wrapped text (Excel does not auto-fit merged or pre-sized rows)."""

    def width(c0: int, c1: int) -> float:
        return sum(plan.widths.get(c, 8.43) for c in range(c0, c1 + 1))

    multi: list[tuple[int, int, float]] = []
    for (r, c), e in plan.cells.items():
        # inputs keep their given height: typed text must not resize the form
        if not isinstance(e.value, str) or not e.props.get("text_wrap") or e.props.get("locked") is False:
            continue
        lr = e.last_row if e.last_row is not None else r
        lc = e.last_col if e.last_col is not None else c
        need = text_height(e.value, width(c, lc), float(e.props.get("font_size", 11)))
        if lr == r:
            plan.heights[r] = max(plan.heights.get(r, plan.min_height), need)
        else:
            multi.append((r, lr, need))
    for r0, r1, need in multi:
        have = sum(plan.heights.get(r, plan.min_height) for r in range(r0, r1 + 1))
        if have < need:
            extra = (need - have) / (r1 - r0 + 1)
            for r in range(r0, r1 + 1):
                plan.heights[r] = plan.heights.get(r, plan.min_height) + extra


def draw_plan(wb: xlsxwriter.Workbook, formats: Formats, plan: Plan, password: str) -> None:
    ws = wb.add_worksheet(plan.name)
    for c, w in plan.widths.items():
        ws.set_column(c, c, w)
    rows_used = {r for r, _ in plan.cells} | {
        rr for (r, _), e in plan.cells.items() if e.last_row is not None for rr in range(r, e.last_row + 1)
    }
    for r in sorted(rows_used | set(plan.heights)):
        ws.set_row(r, max(plan.heights.get(r, plan.min_height), plan.min_height))
    for (r, c), e in sorted(plan.cells.items()):
        f = formats(e.props)
        if e.last_row is not None or e.last_col is not None:
            ws.merge_range(
                r,
                c,
                e.last_row if e.last_row is not None else r,
                e.last_col if e.last_col is not None else c,
                "",
                f,
            )
        if e.formula is not None:
            ws.write_formula(r, c, "=" + e.formula, f, e.cached)
        elif e.value is None:
            ws.write_blank(r, c, None, f)
        elif isinstance(e.value, str):
            if ws.write_string(r, c, e.value, f) != 0:
                raise ValueError(f"text too long for {plan.name}!{a1(r, c)}")
        else:
            ws.write_number(r, c, e.value, f)
    for r, c, opts in plan.validations:
        if ws.data_validation(r, c, r, c, opts) != 0:
            raise ValueError(f"data validation rejected at {plan.name}!{a1(r, c)}")
    for rng, opts in plan.cond:
        if isinstance(opts.get("format"), str):
            opts = {**opts, "format": formats(_COND_PROPS[opts["format"]])}
        if ws.conditional_format(rng, opts) != 0:
            raise ValueError(f"conditional format rejected at {plan.name}!{rng}")
    for (r, c), text in plan.comments.items():
        ws.write_comment(r, c, text, {"author": "xltool", "x_scale": 2.5, "y_scale": 2, "font_name": FONT})
    ws.set_paper(9)  # A4
    if plan.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    if plan.repeat:
        ws.repeat_rows(*plan.repeat)
    if plan.freeze:
        ws.freeze_panes(*plan.freeze)
    if plan.header:
        ws.set_header(plan.header)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.hide_gridlines(2)
    ws.protect(password, PROTECT_OPTIONS)
    if plan.hidden:
        ws.very_hidden()


# --- per-sheet builders -------------------------------------------------------------------

_RULES = {
    Kind.COUNT: "填写大于或等于 0 的整数。没有发生的事项填 0，不要留空，不要填“/”“无”。",
    Kind.SIGNED: "填写整数，减少用负数表示（如 -8）。没有变化的填 0，不要留空。",
    Kind.AMOUNT: "填写金额，单位：{unit}，可带小数（如 25.1）。只填数字，不要带“元”“万元”。没有的填 0。",
}
_ERRORS = {
    Kind.COUNT: "{where}只能填写大于或等于 0 的整数（件数）。没有发生的事项请填 0。",
    Kind.SIGNED: "{where}只能填写整数，减少用负数表示（如 -8）。",
    Kind.AMOUNT: "{where}只能填写大于或等于 0 的数字，单位：{unit}，不要带单位文字。",
}
_SIGNED_LIMIT = 999_999_999
_BAD, _GOOD = "<bad>", "<good>"  # conditional-format styles by name; draw_plan makes the Format objects
_COND_PROPS: dict[str, dict[str, Any]] = {
    _BAD: {"bg_color": BAD_FILL, "font_color": BAD_FONT},
    _GOOD: {"bg_color": GOOD_FILL, "font_color": GOOD_FONT},
}


def _where(lay: Layout, key: str) -> tuple[str, str]:
    """(row path, column path) of a cell, in official labels."""
    cd = lay.fmt.cells[key]
    t = cd.table
    row = " ".join((*cd.row.groups, cd.row.label))
    col = " ".join(((t.column_root,) if t.column_root else ()) + cd.column.groups + (cd.column.label,))
    if t.style is Style.GRID:
        row = f"{t.caption} {row}"
    return row, col


def _value_validation(lay: Layout, sh: SheetLayout, key: str, addr: str) -> dict[str, Any]:
    cd = lay.fmt.cells[key]
    row, col = _where(lay, key)
    unit = cd.column.unit or AMOUNT_UNIT
    where = f"{sh.short}!{addr}（{cd.row.label}·{cd.column.label}）"
    opts: dict[str, Any] = {
        "input_title": f"{sh.short}!{addr}",
        "input_message": f"行：{row}\n列：{col}\n{_RULES[cd.kind].format(unit=unit)}",
        "error_title": "输入有误",
        "error_message": _ERRORS[cd.kind].format(where=where, unit=unit),
        "error_type": "stop",
        "ignore_blank": True,
    }
    if cd.kind is Kind.COUNT:
        opts.update(validate="integer", criteria=">=", value=0)
    elif cd.kind is Kind.SIGNED:
        opts.update(validate="integer", criteria="between", minimum=-_SIGNED_LIMIT, maximum=_SIGNED_LIMIT)
    else:
        opts.update(validate="decimal", criteria=">=", value=0)
    return opts


def _plain(v: object) -> object:
    """A caller's value as what the cell holds: number, text or None."""
    if isinstance(v, CellValue):
        if v.state == "number":
            return v.number
        if v.state == "blank":
            return None
        return v.raw or ""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"unsupported cell value {v!r}")
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"not a finite number: {v!r}")
    return v


def table_plan(
    lay: Layout,
    sec: str,
    numbers: dict[str, object],
    overrides: dict[str, object],
    cached: dict[tuple[str, str], object],
) -> Plan:
    sh = lay.sheets[sec]
    fmt = lay.fmt
    plan = Plan(sh.name, landscape=sh.landscape, min_height=17.0)
    first_val = min(v.col for v in sh.values)
    if fmt.tables_of(sec)[0].style is Style.GRID:
        plan.widths = {0: 26.0, **{c: 16.0 for c in range(1, sh.width)}}
    else:
        label_w = [34.0] if first_val == 1 else [5.0, 9.0, 34.0][-first_val:] if first_val else []
        plan.widths = {i: w for i, w in enumerate(label_w)} | {c: 9.0 for c in range(first_val, sh.width)}
    if sh.header_rows != (0, 0):
        plan.repeat = sh.header_rows
        plan.freeze = (sh.header_rows[1] + 1, first_val)
    for lab in sh.labels:
        plan.label(lab)
    plan.heights[0] = 28.0
    for v in sh.values:
        if v.addr in sh.formulas:
            if v.key in overrides:
                plan.put(v.row, v.col, Entry(overrides[v.key], style_props("formula"), last_col=v.last_col))
            else:
                plan.put(
                    v.row,
                    v.col,
                    Entry(
                        None,
                        style_props("formula"),
                        formula=sh.formulas[v.addr].text,
                        cached=cached[(sh.name, v.addr)],
                        last_col=v.last_col,
                    ),
                )
            continue
        plan.put(v.row, v.col, Entry(numbers.get(v.key), style_props("input"), last_col=v.last_col))
        plan.validations.append((v.row, v.col, _value_validation(lay, sh, v.key, v.addr)))
    for c in sh.checks:
        r, col = parse_a1(c.addr)
        plan.put(r, col, Entry(None, style_props("check"), formula=c.text, cached=cached[(sh.name, c.addr)]))
    if sh.checks:
        first, last = sh.checks[0].addr, sh.checks[-1].addr
        plan.cond.append(
            (
                f"{first}:{last}",
                {
                    "type": "formula",
                    "criteria": f'=IF(ISERROR({first}),TRUE,{first}="{CHECK_BAD}")',
                    "format": _BAD,
                },
            )
        )
    if sh.status:
        r, col = parse_a1(sh.status.addr)
        _r1, c1 = parse_a1(sh.status.merged.split(":")[1])
        plan.put(
            r,
            col,
            Entry(
                None,
                style_props("status"),
                formula=sh.status.text,
                cached=cached[(sh.name, sh.status.addr)],
                last_col=c1,
            ),
        )
        s = sh.status.addr
        plan.cond.append(
            (s, {"type": "formula", "criteria": f'=IF(ISERROR({s}),TRUE,{s}<>"{STATUS_OK}")', "format": _BAD})
        )
        plan.cond.append(
            (
                s,
                {
                    "type": "formula",
                    "criteria": f'=IF(ISERROR({s}),FALSE,{s}="{STATUS_OK}")',
                    "format": _GOOD,
                },
            )
        )
    # inputs red when text (or negative, where negatives are not allowed): one rule per row run
    runs: list[tuple[int, int, int, Kind]] = []
    for v in sorted(sh.inputs, key=lambda x: (x.row, x.col)):
        kind = fmt.cells[v.key].kind
        if runs and runs[-1][0] == v.row and runs[-1][2] == v.col - 1 and runs[-1][3] is kind:
            runs[-1] = (v.row, runs[-1][1], v.col, kind)
        else:
            runs.append((v.row, v.col, v.col, kind))
    for r, c0, c1, kind in runs:
        tl = a1(r, c0)
        rule = f"=ISTEXT({tl})" if kind is Kind.SIGNED else f"=OR(ISTEXT({tl}),{tl}<0)"
        rng = tl if c0 == c1 else f"{tl}:{a1(r, c1)}"
        plan.cond.append((rng, {"type": "formula", "criteria": rule, "format": _BAD}))
    return plan


def _info_plan(lay: Layout, values: dict[str, object], locked: set[str]) -> Plan:
    sh = lay.info
    plan = Plan(sh.name, min_height=24.0)
    plan.widths = {0: 22.0, 1: 20.0, 2: 20.0, 3: 20.0}
    for lab in sh.labels:
        plan.label(lab)
    plan.heights[0] = 28.0
    messages = {k: msg for k, _label, msg in INFO_FIELDS}
    labels = {k: label for k, label, _msg in INFO_FIELDS}
    limits = {
        "agency": (2, 100),
        "credit_code": (18, 18),
        "filler": (1, 50),
        "phone": (1, 50),
        "fill_date": (1, 30),
    }
    for v in sh.values:
        key = v.key.split(".", 1)[1]
        val = values.get(key)
        if key in locked:
            plan.put(v.row, v.col, Entry(val, style_props("fixed"), last_col=v.last_col))
            continue
        plan.put(
            v.row, v.col, Entry(None if val is None else str(val), style_props("input_text"), last_col=v.last_col)
        )
        lo, hi = limits.get(key, (1, 255))
        opts: dict[str, Any] = {
            "validate": "length",
            "input_title": labels[key],
            "input_message": messages[key],
            "error_title": "输入有误",
            "error_type": "stop",
            "ignore_blank": True,
        }
        if lo == hi:
            opts.update(
                criteria="==", value=lo, error_message=f"{INFO_SHEET}!{v.addr}“{labels[key]}”应为 {lo} 位。"
            )
        else:
            opts.update(
                criteria="between",
                minimum=lo,
                maximum=hi,
                error_message=f"{INFO_SHEET}!{v.addr}“{labels[key]}”的长度应在 {lo} 到 {hi} 个字之间。",
            )
        plan.validations.append((v.row, v.col, opts))
    return plan


def _text_plan(lay: Layout, fmt: Format, narrative: dict[str, str]) -> Plan:
    sh = lay.text
    plan = Plan(sh.name, min_height=18.0)
    plan.widths = {c: 9.5 for c in range(sh.width)}
    for lab in sh.labels:
        plan.label(lab, "title" if lab.kind == "heading" else "section")
    plan.heights[0] = 28.0
    hints = {
        "sec1": "概述本机关贯彻落实《政府信息公开条例》的情况，主要包括主动公开、依申请公开、政府信息管理、政府信息公开平台建设、监督保障等方面。",
        "sec5": "写明本年度工作存在的主要问题和改进措施，并说明上一年度所列问题的改进情况。",
        "sec6": "收取信息处理费的情况在此报告（发出收费通知的件数和总金额、实际收取的总金额）；也可报告其他事项。",
    }
    for v in sh.values:
        key = v.key.split(".", 1)[1]
        text = narrative.get(key)
        plan.put(v.row, v.col, Entry(text, style_props("narrative"), last_col=v.last_col))
        plan.heights[v.row] = _NARRATIVE_HEIGHT.get(key, _NARRATIVE_DEFAULT_HEIGHT)
        heading = fmt.section(key).heading
        plan.validations.append(
            (
                v.row,
                v.col,
                {
                    "validate": "length",
                    "criteria": "<=",
                    "value": MAX_TEXT,
                    "input_title": heading[:32],
                    "input_message": hints.get(key, "在此填写本部分内容。") + "单元格内换行按 Alt+Enter。",
                    "error_title": "内容过长",
                    "error_message": f"{TEXT_SHEET}!{v.addr}“{heading}”超过 Excel 单元格上限 {MAX_TEXT} 字，请精简。",
                    "error_type": "stop",
                    "ignore_blank": True,
                },
            )
        )
    return plan


def _instruction_items(fmt: Format, year: int, lay: Layout) -> list[tuple[str, str]]:
    """The 填报说明 text; labels and units come from the spec, never typed here."""
    signed = sorted({c.label for t in fmt.tables for c in t.columns if c.kind is Kind.SIGNED})
    amounts = [
        (t.caption, c.label, c.unit or AMOUNT_UNIT) for t in fmt.tables for c in t.columns if c.kind is Kind.AMOUNT
    ]
    sheets = "、".join(f"“{n}”" for n in SHEET_ORDER if n not in (INSTRUCTIONS_SHEET, META_SHEET))
    sec3 = lay.sheets["sec3"]
    totals: list[str] = []
    for sec, sh in lay.sheets.items():
        for t in fmt.tables_of(sec):
            cols = [
                c.label for c in t.columns if all(t.cell_key(r.key, c.key) in fmt.formulas for r in t.rows)
            ]
            rows = [
                r.label for r in t.rows if all(t.cell_key(r.key, c.key) in fmt.formulas for c in t.columns)
            ]
            if cols or rows:
                totals.append(
                    f"“{sh.short}”的" + "和".join([f"“{c}”列" for c in cols] + [f"“{r}”行" for r in rows])
                )
    items: list[tuple[str, str]] = [
        (
            "用途",
            f"本工作簿依据{fmt.document}《{fmt.name}》制作，用于填报 {year} 年度政府信息公开工作年度报告"
            f"（统计时限为 {year} 年 1 月 1 日至 {year} 年 12 月 31 日）。请按工作表顺序填写：{sheets}。",
        ),
        (
            "填写哪些单元格",
            "只有浅黄色底色的单元格可以填写，其他单元格均已锁定。选中浅黄色单元格时会显示该格对应的行、列和填写要求。"
            "灰色底色的单元格由公式自动计算。",
        ),
        (
            "没有发生的事项填 0",
            "没有发生的事项填 0，不要留空，不要填“/”“无”“—”等文字。空白单元格表示“未填写”，会被退回补填。"
            "填了文字的单元格会显示为红色。",
        ),
        (
            "数字怎么填",
            "件数填写大于或等于 0 的整数，直接输入阿拉伯数字，不要输入全角数字（如“１２”），不要在数字前后加空格、单位或说明文字。",
        ),
    ]
    if signed:
        items.append(
            (
                "可以填负数的列",
                "、".join(f"“{s}”" for s in signed)
                + "填写本年比上一年增加或减少的数量，减少用负数表示，如 -8；没有变化的填 0。",
            )
        )
    for caption, label, unit in amounts:
        official_unit = unit in label
        extra = "" if official_unit else f"官方表格未注明单位，本模板统一按“{unit}”填写。"
        items.append(
            (
                "金额单位",
                f"{caption}“{label}”以{unit}为单位填写，可带小数（如 25.1 {unit}填 25.1）。{extra}"
                f"只填数字，不要带“元”“{unit}”等文字；元的金额请除以 10000 后填写。",
            )
        )
    items += [
        (
            "合计自动计算",
            "、".join(totals) + "由公式自动计算（灰色底色），不需要也不能填写。",
        ),
        (
            "校验状态",
            f"“{sec3.short}”顶部的校验状态单元格显示“{STATUS_OK}”时表示本表没有发现问题；否则显示问题数量并标红。"
            f"底部的勾稽关系校验行逐列检查“第一项加第二项之和，等于第三项加第四项之和”，不平衡的列显示“{CHECK_BAD}”并标红。"
            "请在报送前把所有标红的单元格改正。",
        ),
        (
            "文字部分",
            "“"
            + TEXT_SHEET
            + "”工作表填写"
            + "".join(f"“{s.heading}”" for s in fmt.sections if s.narrative)
            + "。可以从 Word 中复制文字后，双击单元格粘贴；单元格内换行按 Alt+Enter。",
        ),
        (
            "不要做的事",
            "不要复制粘贴覆盖灰色公式单元格；从其他表格粘贴数据时请使用“选择性粘贴 → 数值”；"
            "不要插入或删除行、列、工作表，不要修改工作表名称。",
        ),
        (
            "保存",
            "填好后保存为 .xlsx 格式（Excel 工作簿），不要另存为 .xls、.et、.csv 或 .pdf；WPS 用户保存时请选择“.xlsx”。文件名请保持不变。",
        ),
        (
            "工作表保护",
            "工作表设有保护，默认密码只用于防止误操作，不是保密措施。请不要撤销保护或修改表格结构；如确有需要，请与区政务公开办联系。",
        ),
    ]
    numerals = "一二三四五六七八九十"
    return [
        (f"{numerals[i] if i < 10 else '十' + numerals[i - 10]}、{head}", text)
        for i, (head, text) in enumerate(items)
    ]


def _instructions_plan(fmt: Format, year: int, lay: Layout, agency: str | None) -> Plan:
    plan = Plan(INSTRUCTIONS_SHEET, min_height=18.0)
    plan.widths = {0: 18.0, 1: 86.0}
    title = f"{year}年度政府信息公开工作年度报告 填报说明"
    plan.put(0, 0, Entry(title, style_props("title"), last_col=1))
    plan.heights[0] = 30.0
    sub = f"填报单位：{agency}" if agency else "填报单位：（请在“基本信息”工作表填写）"
    plan.put(1, 0, Entry(sub, style_props("para"), last_col=1))
    for i, (head, text) in enumerate(_instruction_items(fmt, year, lay)):
        plan.put(3 + i, 0, Entry(head, style_props("para_head")))
        plan.put(3 + i, 1, Entry(text, style_props("para")))
    return plan


def _meta_plan(fields: list[tuple[str, str]], cells: list[tuple[str, str, str, str, str]]) -> Plan:
    plan = Plan(META_SHEET, hidden=True, min_height=15.0)
    plan.widths = {0: 14.0, 1: 48.0, 2: 18.0, 3: 8.0, 4: 60.0}
    rows: list[Sequence[str]] = [("key", "value"), *fields, (), META_MAP_HEADER, *cells]
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v != "":
                plan.put(r, c, Entry(v, {}))
    return plan


# --- public writers ---------------------------------------------------------------------


def _resolve(lay: Layout, key: str) -> tuple[str, str]:
    if key in lay.address:
        return lay.address[key]
    if key.startswith("info.") and key[5:] in lay.info_address:
        return lay.info_address[key[5:]]
    if key.startswith("text.") and key[5:] in lay.text_address:
        return lay.text_address[key[5:]]
    raise KeyError(f"unknown cell key {key!r} for format {lay.fmt.id}")


def write_workbook(
    path: str | Path,
    fmt: Format | str | int,
    year: int,
    *,
    agency: str | None = None,
    credit_code: str | None = None,
    contact: str | None = None,
    password: str = DEFAULT_PASSWORD,
    values: Mapping[str, object] | None = None,
    info: Mapping[str, str] | None = None,
    narrative: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
    notes: Mapping[tuple[str, str], str] | None = None,
    prefill_notes: Mapping[str, str] | None = None,
    before_sheets: Callable[[xlsxwriter.Workbook], None] | None = None,
    overwrite: bool = False,
    template_id: str | None = None,
    created: datetime | None = None,
    meta_extra: Mapping[str, str] | None = None,
) -> Path:
    """Write one locked workbook (blank template or filled copy) atomically; returns its path.

    ``values`` holds input cells by spec key (numbers, text such as "/", or CellValue);
    values at formula keys are ignored because the workbook computes them; use
    ``overrides`` to put a constant where a formula belongs. ``created`` fixes the creation
    time (reproducible output); ``meta_extra`` adds or replaces META_SHEET key/value rows.
    """
    fmt = resolve_format(year, fmt)
    why = password_problem(password)
    if why:
        raise TemplateError(why)
    lay = layout_for(fmt)
    values = dict(values or {})
    overrides = dict(overrides or {})
    unknown = [k for k in [*values, *overrides] if k not in fmt.cells]
    if unknown:
        raise KeyError(f"keys not in format {fmt.id}: {unknown[:5]}")
    not_formula = [k for k in overrides if k not in fmt.formulas]
    if not_formula:
        raise KeyError(f"overrides must name formula cells: {not_formula[:5]}")
    numbers = {k: _plain(v) for k, v in values.items() if k not in fmt.formulas}
    plain_overrides = {k: _plain(v) for k, v in overrides.items()}
    narrative = dict(narrative or {})
    bad_text = [k for k in narrative if k not in lay.text_address]
    if bad_text:
        raise KeyError(f"unknown narrative sections: {bad_text}")
    too_long = [k for k, t in narrative.items() if len(t) > MAX_TEXT]
    if too_long:
        raise ValueError(f"narrative longer than {MAX_TEXT} characters: {too_long}")
    info = dict(info or {})
    info_keys = {k for k, _l, _m in INFO_FIELDS}
    if set(info) - info_keys:
        raise KeyError(f"unknown info fields: {sorted(set(info) - info_keys)}")
    created = created or datetime.now().replace(microsecond=0)
    agency = agency.strip() if agency else None
    template_id = template_id or template_id_for(fmt, year, agency)

    info_values: dict[str, object] = {
        "agency": agency,
        "credit_code": credit_code,
        "year": year,
        "format": format_label(fmt),
        "filler": contact,
    }
    info_values.update(info)
    locked = {"year", "format"} | ({"agency"} if agency else set())

    cached = compute_cached(lay, numbers, plain_overrides)
    plans = {
        INSTRUCTIONS_SHEET: _instructions_plan(fmt, year, lay, agency),
        INFO_SHEET: _info_plan(lay, info_values, locked),
        **{
            TABLE_SHEETS[sec][0]: table_plan(lay, sec, numbers, plain_overrides, cached)
            for sec in lay.sheets
        },
        TEXT_SHEET: _text_plan(lay, fmt, narrative),
    }
    fields = dict(meta_fields(fmt, year, agency, credit_code, contact, template_id, created))
    fields.update(meta_extra or {})
    plans[META_SHEET] = _meta_plan(list(fields.items()), meta_map(lay, locked))

    header = f"&L{_header_text(agency or '')}&R{year}年度"
    for name, plan in plans.items():
        if name != META_SHEET:
            plan.header = header
    for (sheet, addr), text in (notes or {}).items():
        _note(plans, sheet, addr, text, highlight=True)
    for key, text in (prefill_notes or {}).items():
        sheet, addr = _resolve(lay, key)
        _note(plans, sheet, addr, text, highlight=False)
    for plan in plans.values():
        fit_heights(plan)

    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "error"
            )  # XlsxWriter warns and drops data (e.g. a long prompt): fail instead
            wb = xlsxwriter.Workbook(
                str(tmp),
                {
                    "in_memory": True,
                    # agency text stays text: "=cmd|…", "{=1+1}", "http://…" are never made
                    # formulas, array formulas or links by a generic write() (feedback copies)
                    "strings_to_formulas": False,
                    "strings_to_urls": False,
                    "strings_to_numbers": False,
                    "default_format_properties": {
                        "font_name": FONT,
                        "font_size": 11,
                        "font_charset": FONT_CHARSET,
                    },
                },
            )
            try:
                wb.set_properties(
                    {
                        "title": f"{year}年度政府信息公开工作年度报告" + (f"（{agency}）" if agency else ""),
                        "subject": f"{fmt.document}《{fmt.name}》",
                        "author": "xltool",
                        "company": "",
                        "comments": f"template_id={template_id}",
                        "created": created,
                    }
                )
                formats = Formats(wb)
                if before_sheets is not None:
                    before_sheets(wb)
                for name in SHEET_ORDER:
                    draw_plan(wb, formats, plans[name], password)
            finally:
                wb.close()
        add_structure_protection(tmp, legacy_password_hash(password) if password else None)
    return target


def _header_text(s: str) -> str:
    return s.replace("&", "&&")


def _note(plans: dict[str, Plan], sheet: str, addr: str, text: str, highlight: bool) -> None:
    if sheet not in plans or sheet == META_SHEET:
        raise KeyError(f"no sheet {sheet!r} to put a note on")
    plan = plans[sheet]
    r, c = parse_a1(addr)
    plan.comments[(r, c)] = text
    if highlight:
        e = plan.cells.get((r, c))
        if e is None:
            e = Entry(None, style_props("plain", border=1))
            plan.put(r, c, e)
        e.props = {**e.props, "bg_color": HIGHLIGHT_FILL}


def plan_templates(
    out_dir: str | Path, year: int, agencies: Sequence[RosterEntry] | None, overwrite: bool = False
) -> list[tuple[RosterEntry | None, Path]]:
    """Target path per agency, checked ALL before anything is written (TemplateError)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TemplateError(f"输出位置“{out}”是一个文件，不是文件夹：请用 --out 指定一个文件夹。")
    entries: list[RosterEntry | None] = list(agencies) if agencies else [None]
    problems: list[str] = []
    seen: dict[str, str] = {}
    targets: list[tuple[RosterEntry | None, Path]] = []
    for e in entries:
        if e is None:
            targets.append((None, out / template_filename(year, None)))
            continue
        why = agency_name_problem(e.name)  # the byte limit of the real file name, too
        if why:
            problems.append(f"单位名称“{e.name}”{why}")
            continue
        k = normalize_name(e.name).casefold()
        if k in seen:
            problems.append(f"单位“{e.name}”重复（与“{seen[k]}”相同），每个单位只能生成一个模板")
            continue
        seen[k] = e.name
        targets.append((e, out / template_filename(year, e.name)))
    if problems:
        raise TemplateError("无法生成模板：\n" + "\n".join(f"  - {p}" for p in problems))
    if not overwrite:
        existing = [p for _e, p in targets if p.exists()]
        if existing:
            shown = "\n".join(f"  - {p}" for p in existing[:20])
            more = f"\n  ……等共 {len(existing)} 个" if len(existing) > 20 else ""
            raise TemplateError(
                f"以下文件已经存在，没有生成任何模板（如要覆盖，请加 --force）：\n{shown}{more}"
            )
    return targets


def write_templates(
    out_dir: str | Path,
    year: int,
    fmt: Format | str | int | None = None,
    agencies: Sequence[RosterEntry] | None = None,
    password: str = DEFAULT_PASSWORD,
    overwrite: bool = False,
    *,
    created: datetime | None = None,
    per_agency: Callable[[RosterEntry | None], Prefill] | None = None,
) -> list[Path]:
    """One template per agency (or one blank template); all targets are checked first.

    ``per_agency(entry)`` may return extra ``write_workbook`` keyword arguments for an
    agency (e.g. prefilled carry-over values and their notes).
    """
    f = resolve_format(year, fmt)
    targets = plan_templates(out_dir, year, agencies, overwrite)
    created = created or datetime.now().replace(microsecond=0)
    written: list[Path] = []
    bases: dict[tuple[int, ...], tuple[bytes, _Tokens]] = {}
    for e, path in targets:
        kw: Prefill = per_agency(e) if per_agency else {}
        if e is None or kw or len(targets) < _PATCH_FROM:
            written.append(write_workbook(
                path, f, year, agency=e.name if e else None, credit_code=e.credit_code if e else None,
                contact=e.contact if e else None, password=password, overwrite=overwrite, created=created, **kw,
            ))
            continue
        # Templates of one roster differ only in the agency's name, code and contact. One base
        # per shape (the text widths those take, which alone decide every row height) is drawn
        # with stand-in tokens; each agency's file is that base with its own texts put in.
        key = _shape(e)
        if key not in bases:
            tokens = _Tokens.of(e)
            base = _tmp_sibling(path)
            try:
                write_workbook(base, f, year, agency=tokens.name, credit_code=tokens.code, contact=tokens.contact,
                               password=password, overwrite=True, created=created,
                               template_id=tokens.template_id)
                bases[key] = (base.read_bytes(), tokens)
            finally:
                base.unlink(missing_ok=True)
        data, tokens = bases[key]
        written.append(_put_agency(data, tokens, e, path, f, year, overwrite))
    return written


_PATCH_FROM = 3  # fewer templates than this are simply drawn one by one
_TOKEN_CHARS = ("\ue000", "\ue001", "\ue002")  # private-use: never in any text we write, 1 width unit each


def _shape(e: RosterEntry) -> tuple[int, ...]:
    return tuple(-1 if t is None else _text_units(t) for t in (e.name.strip(), e.credit_code, e.contact))


@dataclass(frozen=True)
class _Tokens:
    name: str
    code: str | None
    contact: str | None
    template_id: str

    @classmethod
    def of(cls, e: RosterEntry) -> _Tokens:
        n, c, k = (None if t is None else ch * _text_units(t)
                   for t, ch in zip((e.name.strip(), e.credit_code, e.contact), _TOKEN_CHARS, strict=True))
        assert n is not None
        return cls(n, c, k, "\ue003" * 8)


def _tmp_sibling(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".~xltool-base-{os.getpid()}-{path.name}")


def _put_agency(data: bytes, tokens: _Tokens, e: RosterEntry, path: Path, fmt: Format, year: int,
                overwrite: bool) -> Path:
    """The base template with this agency's texts in place of the tokens, written atomically."""
    name = e.name.strip()
    plain: list[tuple[str, str]] = [(tokens.template_id, template_id_for(fmt, year, name)), (tokens.name, name)]
    if tokens.code is not None and e.credit_code is not None:
        plain.append((tokens.code, e.credit_code))
    if tokens.contact is not None and e.contact is not None:
        plain.append((tokens.contact, e.contact))
    # worksheet XML holds the page header, where "&" is written "&&"
    in_sheet = [(t, _header_text(v)) for t, v in plain]
    with zipfile.ZipFile(io.BytesIO(data)) as src, atomic_path(path, overwrite=overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                raw = src.read(info)
                if info.filename.endswith((".xml", ".rels")):
                    text = raw.decode("utf-8")
                    for t, v in (in_sheet if info.filename.startswith("xl/worksheets/") else plain):
                        text = text.replace(t, xml_escape(v))
                    if any(ch in text for ch in (*_TOKEN_CHARS, "\ue003")):  # pragma: no cover - a writer change
                        raise AssertionError(f"stand-in left in {info.filename}")
                    raw = text.encode("utf-8")
                out.writestr(info, raw)
    return path


class Prefill(TypedDict, total=False):
    """Extra ``write_workbook`` arguments for one agency's template (see ``write_templates``)."""

    values: Mapping[str, object]
    prefill_notes: Mapping[str, str]


def carry_over_prefill(fmt: Format, previous: PreviousData, agency: str, year: int) -> Prefill:
    """``write_workbook`` arguments that prefill this year's carried-over row from last year's (``fmt.carry_over``).

    The cells stay editable; each gets a comment
    saying where the number came from. An agency missing from last year's data gets an
    empty row and a comment asking it to fill the row itself.
    """
    last = previous.get(agency)
    source = "、".join(Path(s).name for s in previous.sources[:2]) or "上年数据"
    values: dict[str, object] = {}
    notes: dict[str, str] = {}
    pairs = fmt.carry_over
    for this_key, prev_key, _rule in pairs:
        if this_key in fmt.formulas:
            continue
        if last is not None and prev_key in last:
            values[this_key] = last[prev_key]
            cell = fmt.cells[prev_key]
            notes[this_key] = (
                f"已按上年数据预填：取自《{source}》中本单位 {year - 1} 年度“{cell.row.label}·{cell.column.label}”"
                f"（{last[prev_key]}）。如与实际不符，请据实修改并在“{fmt.section('sec6').heading}”中说明。"
            )
    if last is None and pairs:
        first = next(k for k, _p, _r in pairs if k not in fmt.formulas)
        notes[first] = f"上年数据（《{source}》）中没有本单位，本行未预填，请据实填写上年结转数量。"
    return {"values": values, "prefill_notes": notes}
