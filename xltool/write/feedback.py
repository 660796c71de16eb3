"""Marked-up copies of checked workbooks for the agencies (``xltool check --feedback``).

The copy is rebuilt from our template with the agency's values, not by loading and saving
the agency's file: openpyxl drops protected ranges and cached values on save, and a
foreign file has no template to keep. So every copy has the template's protection, data
validation and formulas with correct cached values; each offending cell is highlighted
with a comment (the Chinese message), and a first sheet ``校验结果`` lists every finding.
Invalid text such as "/" is written back as text so the agency sees what it typed. A
total that was typed over gets its formula back; its comment says what was typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xltool.core.findings import SEVERITY_ZH
from xltool.core.model import AgencyReport, Finding, Severity
from xltool.spec import CURRENT, Format, get_format
from xltool.workbook.layout import TABLE_SHEETS, layout_for

FEEDBACK_SHEET = "校验结果"
HEADERS = ("代码", "级别", "位置", "行", "列", "应为", "实为", "说明")
NOTE_MAX = 1500  # characters per cell comment (Excel shows long comments badly)


def _sev(f: Finding) -> Severity:
    return f.severity if isinstance(f.severity, Severity) else Severity(f.severity)


def _loc(f: Finding) -> str:
    if f.sheet and f.cell:
        shorts = {name: short for name, short in TABLE_SHEETS.values()}
        return f"{shorts.get(f.sheet, f.sheet)}!{f.cell}"
    return f.sheet or f.table or ""


def target_cell(f: Finding, lay: Any, is_template: bool) -> tuple[str, str] | None:
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


def _notes(findings: Sequence[Finding], lay: Any, is_template: bool) -> dict[tuple[str, str], str]:
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
            out[key] = v.raw
        elif v.state == "number":
            out[key] = v.number
    return out


def _info(report: AgencyReport) -> dict[str, str]:
    m = report.meta
    info = {"filler": m.filler, "phone": m.phone, "fill_date": m.fill_date}
    return {k: v for k, v in info.items() if v}


def _lines(text: str, width: float) -> int:
    units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return max(1, -(-units // max(1, int(width) - 2)))


def _findings_sheet(
    wb: Any,
    findings: Sequence[Finding],
    source: Path,
    lay: Any,
    is_template: bool,
    fmt: Format,
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
        "有问题的单元格已标成红色并加了批注（鼠标移到单元格上查看）；点击“位置”可跳到该单元格。",
        "本文件是校验意见副本，原文件没有被修改。请在本副本或原模板中改正后重新报送（本页可以保留）。",
    ]
    if not is_template:
        lines.insert(1, (
            f"注意：报回的文件不是本工具生成的模板。本副本按 {fmt.document} 格式的模板重新生成，"
            "填入了能识别出的数字；“位置”一列是原文件中的位置，“本文件位置”是本副本中的对应单元格。"
            "请今后使用下发的模板填报。"
        ))
    for i, text in enumerate(lines):
        ws.merge_range(1 + i, 0, 1 + i, len(HEADERS) - 1 + (not is_template), text, note)
        ws.set_row(1 + i, 30)
    r0 = 2 + len(lines)
    headers = list(HEADERS)
    if not is_template:
        headers.insert(3, "本文件位置")
    for j, h in enumerate(headers):
        ws.write(r0, j, h, head)
    order = sorted(findings, key=lambda x: _sev(x) is not Severity.ERROR)
    widths = [23, 6, 18, 34, 14, 10, 10, 90]
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
                ws.write(r, c, loc, wrap)
        else:
            ws.write(r, c, loc, wrap)
            c += 1
            if where:
                short = {n: s for n, s in TABLE_SHEETS.values()}.get(where[0], where[0])
                ws.write_url(r, c, f"internal:'{where[0]}'!{where[1]}", link, string=f"{short}!{where[1]}")
            else:
                ws.write(r, c, "", wrap)
        for j, val in enumerate((f.row, f.column, f.expected, f.actual, f.message), c + 1):
            ws.write(r, j, "" if val is None else val, wrap)
        # xlsxwriter cannot auto-fit wrapped rows: size them from the text (a CJK char ≈ 2 width units)
        n_lines = max(_lines(f.message, widths[-1]), _lines(f.row or "", widths[-5]), 1)
        ws.set_row(r, 15 * n_lines)
    if not is_template:
        widths.insert(3, 16)
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
    result: Any,
    findings: Sequence[Finding],
    target: str | Path,
    *,
    year: int | None = None,
    overwrite: bool = True,
) -> Path:
    """Write the marked-up copy of one read file to ``target``; returns the path.

    ``result`` is the reader's ``ReadResult`` (needs ``report``, ``path``, ``is_template``).
    """
    from xltool.write.template import write_workbook

    report: AgencyReport = result.report
    fmt = get_format(report.meta.format or CURRENT.id)
    lay = layout_for(fmt)
    is_template = bool(getattr(result, "is_template", False))
    y = report.meta.year or year or fmt.years[0]
    src = Path(getattr(result, "path", target))

    def before(wb: Any) -> None:
        _findings_sheet(wb, findings, src, lay, is_template, fmt)

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
    )
