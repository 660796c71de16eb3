"""Marked-up copies of checked workbooks for the agencies (``xltool check --feedback``).

The copy is rebuilt from our template with the agency's values, not by loading and saving
the agency's file: openpyxl drops protected ranges and cached values on save, and a
foreign file has no template to keep. So every copy has the template's protection, data
validation and formulas with correct cached values; each offending cell is highlighted
with a comment (the Chinese message), and a first sheet ``校验结果`` lists every finding.
Invalid text such as "/" is written back as text so the agency sees what it typed. A
total that was typed over gets its formula back; the findings handed in describe the copy
as it stands (``pipeline.check.feedback_findings``): such a total's line says what was
typed and what the formula shows now, so the list and the sheets agree.

The meta sheet marks the copy as ours (``FEEDBACK_OF``: the file it was made from) with a
digest of the values written (``FEEDBACK_DIGEST``, ``content_digest``): a copy read back
with the same digest is our copy, unedited, not an agency's return; once the agency has
corrected it, the digest differs and it is read as the return it is.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xltool.core.findings import SEVERITY_ZH
from xltool.core.labels import xml_safe
from xltool.core.model import AgencyReport, Finding, Severity
from xltool.core.numbers import show, tidy
from xltool.read.reader import ReadResult
from xltool.spec import CURRENT, Format, get_format
from xltool.workbook.layout import TABLE_SHEETS, Layout, compute_cached, layout_for
from xltool.workbook.meta import MAX_TEXT
from xltool.write.template import text_height, write_workbook

FEEDBACK_SHEET = "校验结果"
HEADERS = ("代码", "级别", "位置", "行", "列", "应为", "实为", "说明")
SOURCE_SHA256 = "source_sha256"  # meta row of a feedback copy: sha256 of the file it was made from
FEEDBACK_OF = "feedback_of"  # meta row of a feedback copy: the name of the file it was made from
FEEDBACK_DIGEST = "feedback_digest"  # meta row: content_digest of what the copy was written with
NOTE_MAX = 1500  # characters per cell comment (Excel shows long comments badly)
WIDTHS = (22, 6, 12, 24, 12, 8, 12, 50)  # 校验结果 columns (HEADERS): a laptop screen wide; 本文件位置 (16) after 位置 for foreign files
INTRO_PT = 11.0


def _sev(f: Finding) -> Severity:
    return f.severity if isinstance(f.severity, Severity) else Severity(f.severity)


def _loc(f: Finding) -> str:
    if f.sheet and f.cell:
        shorts = {name: short for name, short in TABLE_SHEETS.values()}
        return f"{shorts.get(f.sheet, f.sheet)}!{f.cell}"
    return f.sheet or f.table or ""


def target_cell(f: Finding, lay: Layout, is_template: bool) -> tuple[str, str] | None:
    """Where a finding sits in the copy: by its spec key, or (our template) by its own address."""
    if f.key and f.key in lay.address:
        return lay.address[f.key]
    if f.key and f.key.startswith("info."):
        addr = lay.info_address.get(f.key[5:])
        if addr:
            return addr
    if is_template and f.sheet and f.cell:
        names = {sh.name for sh in lay.all_sheets()}
        if f.sheet in names:
            return f.sheet, f.cell
    return None


def _notes(findings: Sequence[Finding], lay: Layout, is_template: bool) -> dict[tuple[str, str], str]:
    notes: dict[tuple[str, str], list[str]] = {}
    for f in sorted(findings, key=lambda x: _sev(x) is not Severity.ERROR):
        where = target_cell(f, lay, is_template)
        if where is None:
            continue
        notes.setdefault(where, []).append(f"【{SEVERITY_ZH[_sev(f)]} {f.code}】{f.message}")
    out = {}
    for k, msgs in notes.items():
        text = "\n".join(msgs)
        out[k] = text if len(text) <= NOTE_MAX else text[: NOTE_MAX - 1] + "…"
    return out


def _values(report: AgencyReport, fmt: Format) -> dict[str, Any]:
    """Input values for the copy: plain numbers as numbers; anything typed as text verbatim.

    "/" and "约10件" stay text, and so do coerced numbers such as "１２" or "251000元": the
    comment on the cell talks about what the agency typed, so the copy shows exactly that.
    """
    out: dict[str, Any] = {}
    for key in fmt.input_keys:
        v = report.values.get(key)
        if v is None or v.state == "blank":
            continue
        if v.raw is not None and v.raw.strip():
            out[key] = xml_safe(v.raw)[:MAX_TEXT]  # a cell holds no more; the reader said so
        elif v.state == "number":
            out[key] = v.number
    return out


def _info(report: AgencyReport) -> dict[str, str]:
    m = report.meta
    info = {"filler": m.filler, "phone": m.phone, "fill_date": m.fill_date}
    return {k: v for k, v in info.items() if v}


def content_digest(report: AgencyReport) -> str:
    """A digest of what a feedback copy of ``report`` holds (inputs as written, 基本信息 and
    文字部分); reading the unedited copy back gives a report with the same digest."""
    fmt = get_format(report.meta.format or CURRENT.id)
    values = {k: v if isinstance(v, str) else show(tidy(v)) for k, v in _values(report, fmt).items()}
    text = {k: v.strip() for k, v in report.narrative.items() if v and v.strip()}
    info = {k: str(v).strip() for k, v in _info(report).items()}
    src = json.dumps([fmt.id, report.meta.agency or "", values, info, text], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(src.encode("utf-8")).hexdigest()


def copy_totals(report: AgencyReport) -> dict[str, int | float]:
    """What each total of the feedback copy shows: the template's formulas over the values
    the copy is written with (a number typed as text is not added, as in a spreadsheet)."""
    fmt = get_format(report.meta.format or CURRENT.id)
    lay = layout_for(fmt)
    cached = compute_cached(lay, _values(report, fmt))
    out: dict[str, int | float] = {}
    for key in fmt.formulas:
        v = cached.get(lay.address[key])
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = v
    return out


def _put(ws: Any, r: int, c: int, val: object, fmt: Any) -> None:
    """One value of the findings table: a finite number as a number, anything else (agency text
    among it: "=cmd|…", "http://…") as a plain string, cut to Excel's limit, XML-safe."""
    if isinstance(val, (int, float)) and not isinstance(val, bool) and math.isfinite(val):
        ws.write_number(r, c, val, fmt)
    else:
        ws.write_string(r, c, xml_safe("" if val is None else str(val))[:MAX_TEXT], fmt)


def _findings_sheet(
    wb: Any,
    findings: Sequence[Finding],
    source: Path,
    lay: Layout,
    is_template: bool,
    fmt: Format,
    restored: int = 0,
) -> None:
    """The first sheet: a summary and one row per finding (errors first), with links to the cells."""
    ws = wb.add_worksheet(FEEDBACK_SHEET)
    font = {"font_name": "宋体", "font_size": 11}
    title = wb.add_format({**font, "bold": True, "font_size": 14})
    wrap = wb.add_format({**font, "text_wrap": True, "valign": "top", "border": 1})
    head = wb.add_format({**font, "bold": True, "bg_color": "#D9D9D9", "border": 1, "align": "center"})
    err = wb.add_format({**font, "font_color": "#C00000", "bold": True, "border": 1, "valign": "top"})
    warn = wb.add_format({**font, "font_color": "#9C5700", "border": 1, "valign": "top"})
    link = wb.add_format({**font, "font_color": "#0563C1", "underline": 1, "border": 1, "valign": "top"})
    note = wb.add_format({**font, "text_wrap": True, "valign": "top"})
    n_err = sum(1 for f in findings if _sev(f) is Severity.ERROR)
    n_warn = len(findings) - n_err
    ws.write(0, 0, f"校验结果：{source.name}", title)
    lines = [
        f"共 {n_err} 个错误、{n_warn} 个警告。错误必须改正后重新报送；警告请逐项核对，确认无误的可以不改。",
        "有问题的单元格已标上底色并加了批注（鼠标移到单元格上查看）；点击“位置”可跳到该单元格。",
        "本文件是校验意见副本，原文件没有被修改。请在本副本或原模板中改正后重新报送（本页可以保留）。",
    ]
    if restored:
        lines.insert(1, (
            f"其中 {restored} 处合计原来被手工填写或改动，本副本已恢复为公式（按各分项自动计算）："
            "下表写明原来的数和现在的结果，表中的数字都是本副本中的数字。请核对各分项。"
        ))
    if not is_template:
        lines.insert(1, (
            f"注意：报回的文件不是本工具生成的模板。本副本按 {fmt.document} 格式的模板重新生成，"
            "填入了能识别出的数字；“位置”一列是原文件中的位置，“本文件位置”是本副本中的对应单元格。"
            "请今后使用下发的模板填报。"
        ))
    widths = list(WIDTHS)
    if not is_template:
        widths.insert(3, 16)
    for i, text in enumerate(lines):
        # the explanation spans the table's width, wrapped; its row is as tall as its lines
        ws.merge_range(1 + i, 0, 1 + i, len(widths) - 1, text, note)
        ws.set_row(1 + i, text_height(text, sum(widths), INTRO_PT))
    r0 = 2 + len(lines)
    headers = list(HEADERS)
    if not is_template:
        headers.insert(3, "本文件位置")
    for j, h in enumerate(headers):
        ws.write(r0, j, h, head)
    order = sorted(findings, key=lambda x: _sev(x) is not Severity.ERROR)
    for i, f in enumerate(order, 1):
        r = r0 + i
        sev = _sev(f)
        ws.write(r, 0, f.code, err if sev is Severity.ERROR else warn)
        ws.write(r, 1, SEVERITY_ZH[sev], err if sev is Severity.ERROR else warn)
        where = target_cell(f, lay, is_template)
        loc = _loc(f)
        c = 2
        if is_template:
            if where:
                ws.write_url(r, c, f"internal:'{where[0]}'!{where[1]}", link, string=loc or where[1])
            else:
                _put(ws, r, c, loc, wrap)
        else:
            _put(ws, r, c, loc, wrap)
            c += 1
            if where:
                short = {n: s for n, s in TABLE_SHEETS.values()}.get(where[0], where[0])
                ws.write_url(r, c, f"internal:'{where[0]}'!{where[1]}", link, string=f"{short}!{where[1]}")
            else:
                ws.write(r, c, "", wrap)
        texts = (f.row, f.column, f.expected, f.actual, f.message)
        for j, val in enumerate(texts, c + 1):
            _put(ws, r, j, val, wrap)
        # xlsxwriter cannot auto-fit wrapped rows: size them from the text (template.text_height)
        ws.set_row(r, max([15.0, *(text_height(str(val), widths[j], INTRO_PT)
                                   for j, val in enumerate(texts, c + 1) if val is not None and val != "")]))
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    if order:
        ws.autofilter(r0, 0, r0 + len(order), len(headers) - 1)
    ws.freeze_panes(r0 + 1, 0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(r0)
    ws.activate()
    ws.set_first_sheet()


def write_feedback(
    result: ReadResult,
    findings: Sequence[Finding],
    target: str | Path,
    *,
    year: int | None = None,
    overwrite: bool = True,
    source_sha256: str | None = None,
    restored: int = 0,
) -> Path:
    """Write the marked-up copy of one read file to ``target``; returns the path.

    ``result`` is the reader's ``ReadResult`` of a readable file (``report`` set).
    The meta sheet records ``source_sha256`` (default: the result's sha256), so an unedited
    copy sent back is recognised and never counted as a submission; also ``FEEDBACK_OF`` and
    ``FEEDBACK_DIGEST`` (see the module doc). ``restored``: how many typed-over totals the
    copy gives their formula back (said at the top of 校验结果).
    """
    report = result.report
    if report is None:
        raise ValueError(f"no report to copy: {result.path} was not readable")
    fmt = get_format(report.meta.format or CURRENT.id)
    lay = layout_for(fmt)
    is_template = result.is_template
    y = report.meta.year or year or fmt.years[0]
    src = Path(result.path)

    def before(wb: Any) -> None:
        _findings_sheet(wb, findings, src, lay, is_template, fmt, restored)

    return write_workbook(
        Path(target),
        fmt,
        y,
        agency=report.meta.agency or None,
        credit_code=report.meta.credit_code or None,
        values=_values(report, fmt),
        info=_info(report),
        narrative={k: v for k, v in report.narrative.items() if v},
        notes=_notes(findings, lay, is_template),
        before_sheets=before,
        overwrite=overwrite,
        meta_extra={SOURCE_SHA256: source_sha256 or result.sha256,
                    FEEDBACK_OF: src.name, FEEDBACK_DIGEST: content_digest(report)},
    )
