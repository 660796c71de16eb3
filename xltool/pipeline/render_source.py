"""What a publishable report is rendered from: one agency's workbook or the district summary.

An agency workbook is read and validated exactly as ``xltool check`` does (reader +
``validate.evaluate``); totals are shown as recomputed from the inputs, never from a
cached formula result. The district summary (``combine``'s output, meta kind=summary) is
read at the template layout's addresses on its 汇总 sheets, and its totals are validated
with the same rules (``combine.validate_totals``). Errors block rendering unless forced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xltool.core.combined import Disposition
from xltool.core.labels import norm_label
from xltool.core.model import CellValue, FileStatus, Finding, Severity
from xltool.core.numbers import show as fmt_num
from xltool.errors import XltoolError
from xltool.read import read_many
from xltool.read.guard import DEFAULT_LIMITS, Guarded, GuardError, GuardLimits, guard
from xltool.read.pool import IsolatedError, run_isolated
from xltool.read.reader import read_grids
from xltool.read.summary import is_summary_file, summary_guard_limits
from xltool.read.values import cell_text
from xltool.read.xmlscan import workbook_info
from xltool.rules.validate import evaluate, validate_totals
from xltool.spec import FORMATS, Format
from xltool.workbook.layout import META_SHEET, Layout, layout_for, parse_a1
from xltool.workbook.summary_layout import STATUS_SHEET, SUMMARY_KIND, SUMMARY_TABLE_SHEETS


class RenderError(XltoolError):
    """The file cannot be rendered (message in Chinese)."""


@dataclass
class RenderInput:
    path: str
    kind: str  # agency | summary
    fmt: Format
    year: int
    name: str | None  # agency name, or the district's name for a summary
    name_how: str
    cells: dict[str, tuple[str, bool]]  # key → (text as published, is a number)
    narrative: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    coverage: list[str] = field(default_factory=list)  # a summary: N of M agencies counted, who not and why

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity in (Severity.ERROR, "error")]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity not in (Severity.ERROR, "error")]

    def flags(self) -> dict[str, str]:
        """key → the error messages about that cell (for marking it)."""
        out: dict[str, list[str]] = {}
        for f in self.errors:
            if f.key:
                out.setdefault(f.key, []).append(f.message)
        return {k: "；".join(v) for k, v in out.items()}


def show(v: CellValue | None, number: int | float | None = None) -> tuple[str, bool]:
    """A cell as published: numbers without grouping, "/" and text as written, blank as ''."""
    if number is not None:
        return fmt_num(number), True
    if v is None or v.state == "blank":
        return "", False
    if v.state == "number" and v.number is not None:
        return fmt_num(v.number), True
    return (v.raw or "").strip(), False


# A district summary holds one row per agency on 分单位明细, far beyond the guard's limits
# for an agency's file: it gets summary-sized limits; only its small sheets are parsed, each
# after its real extent is checked.
SUMMARY_LIMITS = summary_guard_limits()


def _small_sheets(g: Guarded, names: list[str], limits: GuardLimits = DEFAULT_LIMITS) -> dict[str, Sequence[Sequence[object]]]:
    """Grids of the named sheets, each checked against the normal extent limits first, parsed
    in a worker process (the pool's protections: memory limit, timeout)."""
    info = workbook_info(g.parts)
    for n in names:
        part = info.part_of(n)
        rows, cols, _cells = g.extents.get(part or "", (0, 0, 0))
        if part is None or (limits.max_rows is not None and rows > limits.max_rows) or (limits.max_cols is not None and cols > limits.max_cols):
            raise RenderError(f"{Path(g.path).name} 的“{n}”工作表缺失或范围异常，请用 xltool combine 重新生成汇总表。")
    try:
        grids: dict[str, Sequence[Sequence[object]]] = run_isolated(read_grids, g.data, names)
    except IsolatedError as e:
        raise RenderError(f"无法读取 {Path(g.path).name}：{e}") from None
    missing = [n for n in names if n not in grids]
    if missing:
        raise RenderError(f"{Path(g.path).name} 的“{missing[0]}”工作表缺失，请用 xltool combine 重新生成汇总表。")
    return grids


def load(path: str | Path, *, name: str | None = None) -> RenderInput:
    """Read and validate the workbook to render; ``name`` overrides the agency/district name."""
    p = Path(path)
    if not is_summary_file(p):
        return _load_agency(p, name)
    try:
        g = guard(p, SUMMARY_LIMITS)
    except GuardError as e:
        raise RenderError(f"无法读取 {p.name}：{e.message}") from None
    grids = _small_sheets(g, [META_SHEET, *SUMMARY_TABLE_SHEETS.values()])
    meta = {cell_text(r[0]).strip(): cell_text(r[1]).strip() for r in grids[META_SHEET] if len(r) >= 2 and cell_text(r[0]).strip()}
    if meta.get("kind") != SUMMARY_KIND:
        return _load_agency(p, name)
    src = _load_summary(p, meta, {sec: grids[sheet] for sec, sheet in SUMMARY_TABLE_SHEETS.items()}, name)
    src.coverage = coverage_lines(_small_sheets(g, [STATUS_SHEET], SUMMARY_LIMITS)[STATUS_SHEET])
    return src


def _load_agency(p: Path, name: str | None) -> RenderInput:
    res = next(read_many([p]))  # in a worker, as check reads it (one file is no exception)
    if res.status is not FileStatus.OK or res.report is None:
        raise RenderError(f"无法读取 {p.name}：{res.error or '文件无法读取'}")
    rep = res.report
    if rep.meta.format is None or not res.report.values:
        raise RenderError(f"{p.name} 中没有找到年报表格，无法生成报告。")
    if rep.meta.year is None:
        raise RenderError(f"{p.name} 没有注明报告年度，无法生成报告。")
    ev = evaluate(res)
    fmt = rep.fmt
    cells: dict[str, tuple[str, bool]] = {}
    for key in fmt.cells:
        n = ev.numbers.get(key) if key in fmt.formulas else None
        cells[key] = show(rep.values.get(key), n)
    how = "按 --agency 指定" if name else "取自工作簿“基本信息”" if rep.meta.agency else "未找到"
    return RenderInput(str(p), "agency", fmt, rep.meta.year, name or rep.meta.agency, how, cells,
                       dict(rep.narrative), ev.findings)


def _load_summary(p: Path, meta: Mapping[str, str], grids: Mapping[str, Sequence[Sequence[object]]], name: str | None) -> RenderInput:
    fid = meta.get("format", "")
    if fid not in FORMATS or not meta.get("year", "").isdigit():
        raise RenderError(f"{p.name} 的汇总信息（格式/年度）无法识别，请用 xltool combine 重新生成汇总表。")
    fmt, year = FORMATS[fid], int(meta["year"])
    lay = layout_for(fmt)
    _verify_labels(p, lay, grids)
    totals: dict[str, int | float] = {}
    cells: dict[str, tuple[str, bool]] = {}
    missing: list[str] = []
    for key, (_sheet, addr) in lay.address.items():
        sec = fmt.cells[key].table.section
        r, c = parse_a1(addr)
        g = grids[sec]
        x = g[r][c] if r < len(g) and c < len(g[r]) else None
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            n = int(x) if float(x).is_integer() else float(x)
            totals[key] = n
            cells[key] = (fmt_num(n), True)
        else:
            missing.append(f"{SUMMARY_TABLE_SHEETS[sec]}!{addr}")
            cells[key] = (cell_text(x).strip(), False)
    if missing:
        raise RenderError(f"{p.name} 中有 {len(missing)} 个汇总数没有计算结果（如 {missing[0]}），"
                          "可能被不计算公式的软件保存过。请用 xltool combine 重新生成汇总表，或用 Excel/WPS 打开保存后再试。")
    findings = validate_totals(fmt, year, totals)
    district = name or meta.get("district") or meta.get("agency") or None
    how = "按 --agency 指定" if name else "取自汇总表" if district else "未指定（请用 --agency 给出本级政府名称）"
    return RenderInput(str(p), "summary", fmt, year, district, how, cells, {}, findings)


def _verify_labels(p: Path, lay: Layout, grids: Mapping[str, Sequence[Sequence[object]]]) -> None:
    """The 汇总 sheets must carry the layout's labels where the layout puts them."""
    for sec, sh in lay.sheets.items():
        g = grids[sec]
        for lab in sh.labels:
            if lab.kind == "heading":
                continue
            x = g[lab.row][lab.col] if lab.row < len(g) and lab.col < len(g[lab.row]) else ""
            if norm_label(cell_text(x)) != norm_label(lab.text):
                raise RenderError(f"{p.name} 的“{sh.short}”汇总表结构与本工具的格式不符（{lab.addr} 应为“{lab.text}”）。"
                                  "请用本版本的 xltool combine 重新生成汇总表。")


# 报送情况 rows that are not an agency of their own: an older file of an agency, or a summary
_NOT_AN_AGENCY = {Disposition.SUPERSEDED.value, Disposition.SUMMARY.value}
COVERAGE_SHOWN = 30  # agencies named on the first page; the rest are counted


def coverage_lines(rows: Sequence[Sequence[object]]) -> list[str]:
    """The district report's first-page statement of what it counts, from the summary's 报送情况:
    N of M agencies, and each agency left out with its 报送状态 and reason."""
    if not rows:
        return []
    head = [cell_text(x).strip() for x in rows[0]]
    try:
        c_name, c_status, c_in, c_why = (head.index(h) for h in ("单位", "报送状态", "计入汇总", "说明"))
    except ValueError:
        return ["注意：汇总表的“报送情况”工作表无法识别，无法说明本报告覆盖了哪些单位。"]
    counted, left = 0, []
    for r in rows[1:]:
        cells = [cell_text(x).strip() for x in r] + [""] * len(head)
        name, status, inside, why = cells[c_name], cells[c_status], cells[c_in], cells[c_why]
        if not name or status in _NOT_AN_AGENCY:
            continue
        if inside == "是":
            counted += 1
        else:
            left.append(f"{name}（{status}{'：' + why.rstrip('。') if why else ''}）")
    total = counted + len(left)
    lines = [f"本报告汇总了 {total} 个单位中 {counted} 个单位的数据。"]
    if left:
        shown = "；".join(left[:COVERAGE_SHOWN])
        more = f"；……等共 {len(left)} 个单位" if len(left) > COVERAGE_SHOWN else ""
        lines.append(f"未计入的 {len(left)} 个单位：{shown}{more}。")
    return lines
