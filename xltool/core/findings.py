"""The finding registry: every code xltool reports, declared once (as frictionless-py does).

A code has a severity, a source (the stage that reports it), a meaning in Chinese for
the README catalogue, the feedback copy and the CLI, and its message template: the text a
finding says, in ``str.format`` style with named fields (``{where}``, ``{shown}`` …); a code
with several wordings has named ``variants``. The codes of the spec's table rules are derived
from the spec itself, so a new rule in the spec is a new code here with no typing.

Every finding is made by ``make(code, variant, **fields)``: the template rendered with the
fields, the severity from the registry, and the location fields (file, sheet, cell, table,
row, column, key, expected, actual) taken from the same fields; the others only render.

>>> REGISTRY["T3_BALANCE"].severity.value, REGISTRY["FILE_ENCRYPTED"].source
('error', '读取')
>>> f = make("NOT_INTEGER", where="表三!J12", row="某行", column="某列", shown="1.5", expected="整数",
...          actual=1.5, cell="J12")
>>> f.message, f.cell, f.severity.value
('表三!J12 某行·某列：应为整数，实为 1.5。请填写整数件数。', 'J12', 'error')
>>> rerender(f) == f.message
True
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from xltool.core.model import FieldValue, Finding, Severity
from xltool.spec import AMOUNT_UNIT, FORMATS, TABLE_SHEETS
from xltool.spec.types import AtLeast, Balance, CarryOver, ColumnTotal, RowTotal, StockChange

ERROR = Severity.ERROR
WARNING = Severity.WARNING
SEVERITY_ZH = {ERROR: "错误", WARNING: "警告"}

CHECK = "校验"  # validation rules
READ = "读取"  # the reader and the guard
ROSTER = "名单"  # the roster pass
COMBINE = "汇总"  # consolidation
NARRATIVE = "文字"  # the narrative rules (文字部分 against the tables)

# An amount of at least this many 万元 for one agency most likely was typed in 元 (§6.2 item 12).
MONEY_WAN_YUAN_LIMIT = 100_000
# A count, amount or change beyond this (in absolute value) is not a plausible figure of one agency:
# it is an error at the cell and never enters arithmetic (1e308 + 1e308 is inf).
PLAUSIBLE_MAX = 10**9


# the fields of a Finding that ``make`` takes from its keyword arguments (the rest only render)
LOCATION_FIELDS = ("file", "sheet", "cell", "table", "row", "column", "key", "expected", "actual")
_LOCATION = frozenset(LOCATION_FIELDS)


@dataclass(frozen=True)
class Code:
    """One finding code: how serious it is, who reports it, what it means and what it says (Chinese).

    ``message`` is the template of the finding's text (``str.format`` with named fields);
    ``variants`` the other wordings of the same code, chosen by name.
    """

    code: str
    severity: Severity
    meaning: str
    source: str = CHECK
    message: str = "{reason}"
    variants: Mapping[str, str] = field(default_factory=dict)

    def template(self, variant: str | None = None) -> str:
        return self.message if variant is None else self.variants[variant]

    def templates(self) -> dict[str | None, str]:
        """Every wording: the default (key None) and each variant."""
        out: dict[str | None, str] = {None: self.message}
        out.update(self.variants)
        return out

    def fields(self, variant: str | None = None) -> frozenset[str]:
        """The field names a wording needs."""
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.template(variant)) if name)


# a validation finding's text starts with its cell and its row and column labels: 表三!J12 行·列：
_AT = "{where} {row}·{column}："
_UNFILLED_NOTE = "其中 {missing} 项未填按 0 计"


def _total_missing() -> dict[str, str]:
    """TOTAL_MISSING's wordings: blank or a marker, derived (some parts unfilled) or not."""
    out: dict[str, str] = {}
    for state, said in (("blank", "为空"), ("marker", "填写的是“{raw}”")):
        head = f"{_AT}总计{said}，视为未填写；"
        out[state] = head + "请填写总计（等于各分项之和）。"
        out[f"{state}_derived"] = head + "已按各分项之和 {calc}统计。请填写总计（等于各分项之和）。"
        out[f"{state}_derived_unfilled"] = (head + "已按各分项之和 {calc}（其中 {unfilled} 项分项未填，按 0 计）统计。"
                                            "请填写总计（等于各分项之和）。")
    return out


_TOTAL_MISSING = _total_missing()

# the reader's wordings shared by several of its codes or variants
_SHIFTED_HEAD = "{table}被插入或删除了行/列：标签“{label}”应在 {was}，现在在 {now}"
_SHIFTED_TAIL = "。已按标签定位读取数据；请使用原模板重新填报，不要插入或删除行列。"
_BROKEN = "文件已损坏，无法读取（{why}）。请用 Excel/WPS 打开确认后重新保存再报送。"
_PART_NOT_FOUND = "{table}“{caption}”中找不到{what}“{labels}”{more}，这些数据无法读取。请按官方格式填写表格标签，或使用下发的模板填报。"
_TABLE_NOT_FOUND = {
    "sheet_missing": "找不到{table}“{caption}”（工作表“{sheet}”不存在），该表数据无法读取。请使用下发的原模板填报。",
    "format": "找不到{table}“{caption}”（按 {format} 版格式），该表数据无法读取。请按官方格式填写表格标签，或使用下发的模板填报。",
    **{f"{what}{more}": _PART_NOT_FOUND.replace("{what}", w).replace("{more}", m)
       for what, w in (("rows", "行"), ("columns", "列")) for more, m in (("", ""), ("_more", "等"))},
}

# combine's, the narrative rules' and the year-over-year rules' shared wordings
_COMBINE_UNFILLED = "{{count}} 个单位此项未填写（空白或“/”），全区合计按 0 计入：{names}。请核实这些单位是否应填 0。"
_SEC5_EMPTY = "文字部分“{{head}}”{said}。应写明本年度工作存在的主要问题和改进措施（含上年问题的整改情况）。"
_OLD_YEAR = "“{head}”写有“{sentence}”，其中的年度 {years} 与报告年度 {year} 不符（是否沿用了往年的文字？）。请核对。"


def _said(what: str) -> str:
    """A narrative rule's wording: the text states ``what`` as one number, the table another."""
    return "文字部分“{head}”写有“{sentence}”，" + what + "为 {stated}，但{cell_text}为 {table_value}。请核对文字或表格。"


def _yoy(how: str) -> str:
    """A year-over-year rule's wording: this year's and last year's figure, and ``how`` they differ."""
    return ("{table}“{label}”为 {now}，上年（{previous_year} 年度）为 {before}，" + how + "。"
            "变化异常，请核实是否填错（如多填或漏填一位、填成了其他单位或其他年度的数字）。")


_DECLARED: tuple[Code, ...] = (
    Code("NOT_NUMBER", ERROR, "应填数字的单元格里是文字，无法作为数字统计",
         message=_AT + "内容“{raw}”不是数字，请填写阿拉伯数字（没有发生的事项填 0）。"),
    Code("NEGATIVE", ERROR, "件数或金额为负数（只有“本年增/减”可以为负）",
         message=_AT + "件数不能为负数，实为 {shown}。请填写 0 或正数。",
         variants={"amount": _AT + "金额不能为负数，实为 {shown}。请填写 0 或正数。"}),
    Code("NOT_INTEGER", ERROR, "件数不是整数", message=_AT + "应为整数，实为 {shown}。请填写整数件数。"),
    Code("NUMBER_IMPLAUSIBLE", ERROR, "数值超出合理范围（绝对值超过 10 亿，或为无穷大、非数字），不参与核对和汇总",
         message=_AT + "数值为 {shown}，超出合理范围（绝对值不超过 10 亿），可能是误填或文件被篡改。该数不参与核对和汇总，请改正。"),
    Code("MISSING_MARKER", WARNING, "用“/”“无”“-”等符号代替数字：视为未填写，不按 0 计；没有发生的事项请填 0",
         message=_AT + "填写的是“{raw}”，视为未填写，不按 0 计。没有发生的事项请填 0。"),
    Code("BLANK", WARNING, "应填数字的单元格为空：视为未填写，不按 0 计；没有发生的事项请填 0",
         message=_AT + "未填写，视为未填写，不按 0 计。没有发生的事项请填 0。"),
    Code("TOTAL_MISSING", WARNING, "总计未填写（只有各分项时按分项核对，不作为错误）",
         message=_TOTAL_MISSING["blank"], variants=_TOTAL_MISSING),
    Code("TEXT_NUMBER", WARNING, "数字以文本形式保存，或使用了全角数字、千位分隔符等，已按数字读取",
         message=_AT + "“{raw}”是以文本形式保存的数字，已按 {shown} 读取（表格中的合计公式不计算文本）。"
         "请改为直接输入阿拉伯数字（半角）。"),
    Code("UNIT_CONVERTED", WARNING, f"金额带有单位（如“元”），已换算为{AMOUNT_UNIT}",
         message=_AT + "填写的是“{raw}”，已换算为 {shown} {unit}。请直接填写以{unit}为单位的数字。"),
    Code("MONEY_MAGNITUDE", WARNING, f"金额不小于 {MONEY_WAN_YUAN_LIMIT} {AMOUNT_UNIT}，可能误按“元”填写",
         message=_AT + "金额为 {shown} {unit}，数额异常大，可能误按“元”填写。本栏单位是{unit}，请核对。"),
    Code("TOTAL_OVERWRITTEN", ERROR, "合计单元格的公式被手工数字覆盖",
         message=_AT + "合计公式被手工填写的 {shown} 覆盖。合计由公式自动计算，请勿手工填写；"
         "请在工具生成的模板中重新填报（或撤销对该单元格的修改）。"),
    Code("FORMULA_CHANGED", ERROR, "公式被改动（合计、勾稽校验或校验状态单元格）",
         message="{where}!{cell} 的公式被改动：应为“={formula}”，现为“={found}”。请勿修改公式，使用原模板重新填报。",
         variants={"total": _AT + "合计公式被改动（当前结果 {shown}）。请勿修改合计公式，请在工具生成的模板中重新填报。"}),
    Code("FORMULA_ERROR", ERROR, "合计单元格显示错误值（如 #DIV/0!、#REF!、#VALUE!）",
         message=_AT + "合计显示错误值“{raw}”，通常是某个分项里填了公式或错误值。请检查该合计引用的各分项，只填写数字。",
         variants={"no_value": _AT + "合计显示错误值，通常是某个分项里填了公式或错误值。请检查该合计引用的各分项，只填写数字。"}),
    Code("NO_CACHE", WARNING, "文件由不计算公式的软件保存，合计没有计算结果；本工具已按填报数字重新计算",
         message=_AT + "合计没有计算结果（文件可能由不计算公式的软件保存），已按各分项重新计算为 {calc}。"
         "请用 Excel 或 WPS 打开并保存后再报送。"),
    Code("STALE_TOTAL", WARNING, "合计单元格显示的结果与填报数字不符（未重新计算）；本工具已按填报数字重新计算",
         message=_AT + "合计显示 {shown}，但按各分项计算应为 {calc}（文件保存时未重新计算）。"
         "本工具按 {calc} 统计；请用 Excel 或 WPS 打开、确认合计后保存再报送。"),
    Code("NOT_ON_ROSTER", WARNING, "单位不在报送名单中", ROSTER,
         message="单位“{agency}”不在报送名单中。请核对单位名称是否与名单一致（全称、无简写）。"),
    Code("DUPLICATE_AGENCY", WARNING, "同一单位报送了多个文件", ROSTER,
         message="单位“{agency}”报送了多个文件（另见：{others}）。请确认以哪一份为准，删除其余文件。"),
    Code("UNFILLED", ERROR, "报表一项也没有填写（全部空白或“/”），视为未填写，不能作为报送",
         message="报表一项也没有填写（全部空白或“/”），不能作为报送。请按模板填写后重新报送；没有发生的事项请填 0。"),
    Code("COMBINE_UNFILLED", WARNING, "全区合计中有单位此项未填写（空白或“/”），按 0 计入，请核实", COMBINE,
         message=_COMBINE_UNFILLED.format(names="{names}"),
         variants={"many": _COMBINE_UNFILLED.format(names="{names} 等 {count} 个单位")}),
    # a lower level's summary combined into this one (逐级汇总)
    Code("SUMMARY_META_BROKEN", ERROR, "下级汇总表的元数据工作表缺失或被改动，无法确认它是本工具生成的", COMBINE,
         message="下级汇总表“{summary}”的元数据不完整或被改动（{broken}），无法确认它由本工具生成、未被修改，不计入。"
         "请该地区用 xltool combine 重新生成汇总表后再报送。",
         variants={"no_detail": "下级汇总表“{summary}”没有“{detail}”工作表，不计入。请重新生成汇总表。",
                   "detail_columns": "下级汇总表“{summary}”的“{detail}”缺少单位列或数据列（被删改过），不计入。请重新生成汇总表。"}),
    Code("SUMMARY_EDITED", ERROR, "下级汇总表生成后被修改过（分单位明细与生成时的指纹不符）", COMBINE,
         message="下级汇总表“{summary}”（{region}）生成后“{detail}”被修改过（与生成时记录的指纹不符），"
         "其中的数字无法追溯到各单位报送的文件，不计入。请该地区改正单位文件后用 xltool combine 重新生成汇总表。"),
    Code("SUMMARY_TOTAL_MISMATCH", ERROR, "下级汇总表的汇总表数字与其分单位明细各单位之和不符", COMBINE,
         message="下级汇总表“{summary}”（{region}）{detail}!{cell} 的{total_label}为 {got}，但各单位之和为 {want}"
         "（{row}·{column}）。汇总表被改动过，不计入；请重新生成。",
         variants={"sheet": "下级汇总表“{summary}”（{region}）{sheet}!{cell}（{table} {row}·{column}）为 {got}，"
                            "但其{detail}各单位之和为 {want}。汇总表生成后被改动过，不计入；请该地区重新生成。"}),
    Code("ROLLUP_DUPLICATE", ERROR, "同一单位在两个下级汇总表中、或既直接报送又在下级汇总表中，只计入一次", COMBINE,
         message="单位“{agency}”（{unit}）已在{counted}中计入，这里不再重复计入。请核实该单位应归属哪一级，并让相应地区重新生成汇总表。"),
    # the file cannot be read at all (status "unreadable"); the guard's reasons
    Code("FILE_EMPTY", ERROR, "文件为空（0 字节）", READ),
    Code("FILE_TRUNCATED", ERROR, "文件不完整或已损坏（传输中断）", READ),
    Code("FILE_NOT_WORKBOOK", ERROR, "不是 Excel 工作簿", READ),
    Code("FILE_CSV", ERROR, "CSV/文本文件改了扩展名", READ),
    Code("FILE_TEXT", ERROR, "纯文本文件改了扩展名", READ),
    Code("FILE_HTML", ERROR, "网页（HTML）文件改了扩展名", READ),
    Code("FILE_XML2003", ERROR, "Excel 2003 XML 表格，需另存为 .xlsx", READ),
    Code("FILE_ENCRYPTED", ERROR, "文件设置了打开密码", READ),
    Code("FILE_WPS_ET", ERROR, "WPS 表格专用格式（.et），需另存为 .xlsx", READ),
    Code("FILE_OLE_UNKNOWN", ERROR, "OLE2 文件但不是 Excel 工作簿（如 WPS .et、Word .doc 改了扩展名）", READ),
    Code("FILE_XLSB", ERROR, "Excel 二进制工作簿（.xlsb），需另存为 .xlsx", READ),
    Code("FILE_ODS", ERROR, "OpenDocument 表格（.ods），需另存为 .xlsx", READ),
    Code("FILE_TOO_LARGE", ERROR, "文件或其解压后大小超过上限", READ),
    Code("FILE_TOO_LARGE_PART", ERROR, "文件内部部件过大", READ),
    Code("FILE_TOO_MANY_PARTS", ERROR, "文件内部部件数量异常", READ),
    Code("FILE_ZIP_BOMB", ERROR, "压缩比异常（疑似压缩炸弹），拒绝读取", READ),
    Code("FILE_CORRUPT", ERROR, "文件内部部件损坏（校验和不符或目录与内容不符）", READ,
         variants={"unexpected": _BROKEN}),
    Code("FILE_XML_ENCODING", ERROR, "文件内部使用了不支持的编码", READ),
    Code("FILE_XML_DTD", ERROR, "文件含 DTD/实体声明（疑似恶意构造），拒绝读取", READ),
    Code("FILE_XML_MALFORMED", ERROR, "文件内部 XML 格式错误（如含非法字符），Excel 无法打开", READ),
    Code("FILE_NO_CONTENT_TYPES", ERROR, "缺少 [Content_Types].xml，不是完整的 Excel 文件（Excel 无法打开）", READ),
    Code("FILE_TOO_MANY_CELLS", ERROR, "单元格数量超过上限", READ),
    Code("FILE_EXTENT", ERROR, "工作表使用范围异常（远处单元格有内容）", READ),
    Code("FILE_IO", ERROR, "文件无法打开", READ,
         variants={"open": "无法打开文件：{why}。请检查文件是否存在。"}),
    Code("FILE_NOT_REGULAR", ERROR, "不是普通文件（管道、设备或失效的链接），未读取", READ),
    Code("FILE_PARSE_ERROR", ERROR, "文件已损坏，表格程序无法解析", READ,
         message=_BROKEN),
    Code("FILE_CRASHED", ERROR, "读取该文件时读取进程异常终止（疑似恶意或损坏的文件）", READ,
         message="读取该文件时读取进程异常终止（{why}），文件可能被恶意构造或已损坏。"
         "请用 Excel/WPS 打开确认内容后另存为新的 .xlsx 文件再报送。"),
    Code("FILE_TIMEOUT", ERROR, "读取超时", READ,
         message="读取超时（超过 {sec:g} 秒），文件可能被恶意构造或过于复杂。请删除无关内容后重新报送。"),
    Code("FILE_MEMORY", ERROR, "读取时超出内存上限", READ,
         variants={"reader": "读取时超出内存上限，文件可能含有大量无关内容。请删除无关内容后重新报送。",
                   "worker": "读取时超出内存上限（{mb} MB），文件可能含有大量无关内容或被恶意构造。请删除无关内容后重新报送。"}),
    # read, with problems
    Code("NOT_TEMPLATE", WARNING, "文件不是本工具生成的模板，已按表格标签定位读取", READ,
         message="文件不是本工具生成的模板，已按表格标签定位读取数据，无法检查公式和保护是否被改动。请尽量使用下发的模板填报。"),
    Code("NO_TABLES", ERROR, "文件中找不到年报表格", READ,
         message="文件中没有找到年报表格（{tables}）。请使用下发的模板填报后重新报送。"),
    Code("TABLE_NOT_FOUND", ERROR, "找不到某张表格（或其部分行列）", READ,
         message="找不到表格“{caption}”，该表数据无法读取。请使用下发的原模板填报。",
         variants=_TABLE_NOT_FOUND),
    Code("FORMAT_CONFLICT", ERROR, "各表格使用的报告格式（2019/2021 版）不一致", READ,
         message="各表格使用的报告格式不一致（{parts}），已按 {format} 版读取。同一份报告的各表须使用同一格式，请使用下发的模板重新填报。"),
    Code("FORMAT_MISMATCH", ERROR, "报告格式与要求的格式不符", READ,
         message="报告使用的是 {format} 版格式，但本次要求 {expected} 版格式。请使用下发的模板重新填报。"),
    Code("YEAR_MISMATCH", ERROR, "报告年度与要求的年度不符", READ,
         message="报告年度是 {year} 年，但本次收集的是 {expected} 年度的报告。请使用 {expected} 年度的模板重新填报。"),
    Code("AGENCY_MISMATCH", ERROR, "单位名称与要求的单位不符", READ,
         message="报告的单位名称是“{agency}”，与预期的“{expected}”不符。请确认是否报错了文件或使用了其他单位的模板。"),
    Code("EXTRA_ROWS", WARNING, "表格中有官方格式以外的行，已单独保留、不计入汇总", READ,
         message="{table}中有官方格式以外的行“{label}”（{values}），已单独保留，不计入汇总。"),
    Code("LEGACY_XLS", WARNING, "旧版 .xls 文件，无法检查公式和保护", READ,
         message="文件是旧版 .xls 格式，无法检查公式和保护是否被改动，已按表格标签读取。请使用下发的 .xlsx 模板填报。"),
    Code("HAS_MACROS", WARNING, "文件含宏（未运行）", READ,
         message="文件含有宏（VBA），本工具不会运行宏，只读取数值。请使用不含宏的 .xlsx 模板填报。"),
    Code("INPUT_FORMULA", WARNING, "填写格中是算式（如 =3+4），已按算式的结果读取", READ,
         message="{table}!{cell} 填写的是算式“{shown}”，已按其结果 {result} 读取。请直接填写数字。"),
    Code("INPUT_FORMULA_UNSUPPORTED", ERROR, "填写格中是引用其他单元格或函数的公式，无法核实其结果，不计数", READ,
         message="{table}!{cell} 填写的是公式“{shown}”（引用其他单元格或使用了函数），本工具无法核实其结果，不计数。"
         "请直接填写数字。"),
    Code("TEXT_CONTROL_CHARS", WARNING, "文字中含有不可见的控制字符，生成的文件中已去除", READ,
         message="{sheet}!{cell} 的文字中含有不可见的控制字符（{chars}），生成的校验意见表和发布稿中已去除。"
         "请检查该处文字是否完整（常见于从网页或其他软件复制粘贴）。"),
    Code("TEXT_TOO_LONG", ERROR, "单元格文字超过 Excel 的上限（32767 个字符）", READ,
         message="{sheet}!{cell} 的文字有 {length} 个字符，超过 Excel 单元格的上限 {limit}，"
         "不是 Excel 能保存的内容（超出部分已截去）。请删减后重新报送。"),
    # our template, tampered with
    Code("META_INVALID", WARNING, "模板元数据工作表无法识别，已按非模板读取", READ,
         message="隐藏的模板信息工作表“{sheet}”无法识别（可能被修改），已按表格标签读取。请使用下发的原模板填报。"),
    Code("META_MISMATCH", ERROR, "模板元数据与“基本信息”内容不一致", READ,
         message="“{sheet}”中的报告年度为“{found}”，但模板是 {meta_year} 年度的。请使用 {meta_year} 年度的原模板重新填报。",
         variants={
             "format": "“{sheet}”中的报告格式为“{found}”，与模板（{meta_format} 版）不一致。请使用原模板重新填报。",
             "agency": "“{sheet}”中的单位名称为“{found}”，但该模板是下发给“{meta_agency}”的。请使用本单位的模板填报。",
         }),
    Code("TEMPLATE_OUTDATED", WARNING, "模板由其他版本的工具生成，已按表格标签定位读取", READ,
         message="模板由其他版本的工具（{version}）生成，表格位置可能不同，已按表格标签读取。建议使用本次下发的模板。",
         variants={"unknown_version": "模板由其他版本的工具（未知版本）生成，表格位置可能不同，已按表格标签读取。建议使用本次下发的模板。"}),
    Code("SHEET_MISSING", ERROR, "模板中的工作表被删除", READ,
         message="模板中的工作表“{name}”不存在（被删除或改名）。请使用下发的原模板重新填报。"),
    Code("SHEET_RENAMED", ERROR, "模板中的工作表被改名", READ,
         message="工作表“{name}”被改名为“{found}”。已按原位置读取；请勿修改模板的工作表名称，使用原模板重新填报。"),
    Code("SHEET_UNPROTECTED", ERROR, "工作表保护被取消", READ,
         message="工作表“{sheet}”的保护被取消，表格可能被改动。请使用下发的原模板重新填报（不要撤销工作表保护）。"),
    Code("STRUCTURE_UNPROTECTED", WARNING, "工作簿结构保护被取消（LibreOffice 保存时也会去掉）", READ,
         message="工作簿结构保护已被取消（用 LibreOffice 保存也会出现这种情况）。请尽量使用下发的原模板填报。"),
    Code("LAYOUT_SHIFTED", ERROR, "表格被插入或删除了行/列（标签移位）", READ,
         message=_SHIFTED_HEAD + _SHIFTED_TAIL, variants={"many": _SHIFTED_HEAD + "（共 {moved} 个标签移位）" + _SHIFTED_TAIL}),
    Code("LABEL_CHANGED", ERROR, "表格标签文字被修改", READ,
         message="{table}!{cell} 的标签应为“{label}”，现为“{found}”。请勿修改表格标签，使用原模板重新填报。"),
    Code("FORMULA_REPLACED", ERROR, "公式被手工填写的数值覆盖", READ,
         message="{table}!{cell} 的公式被手工填写的“{shown}”覆盖。合计和校验由公式自动计算，请勿改写；请使用原模板重新填报。"),
    Code("CELL_UNLOCKED", WARNING, "原本锁定的单元格被解除锁定", READ,
         message="{table}!{cell} 原本是锁定的单元格（标签、公式），现在被解除了锁定。请使用原模板重新填报。"),
    Code("INPUT_LOCKED", WARNING, "原本可填写的单元格被锁定", READ,
         message="{table}!{cell} 原本是填写单元格，现在被锁定了。请使用原模板重新填报。"),
    Code("MERGE_CHANGED", WARNING, "合并单元格被改动", READ,
         message="{table}的合并单元格被改动（如 {merges}）。请使用原模板重新填报。"),
    # the narrative (文字部分) against the tables (rules/narrative.py; official-format.md §6.2 item 10)
    Code("TEXT_RECEIVED", WARNING, "文字中所述收到的政府信息公开申请数与表三不符", NARRATIVE,
         message=_said("收到的申请数"), variants={"with_carry": _said("收到的申请数（含上年结转）")}),
    Code("TEXT_CARRIED_OVER", WARNING, "文字中所述上年结转的申请数与表三不符", NARRATIVE,
         message=_said("上年结转的申请数")),
    Code("TEXT_PROCESSED", WARNING, "文字中所述办结（答复）的申请数与表三办理结果总计不符", NARRATIVE,
         message=_said("办结（答复）的申请数")),
    Code("TEXT_CARRY_FORWARD", WARNING, "文字中所述结转下年度的申请数与表三不符", NARRATIVE,
         message=_said("结转下年度的申请数")),
    Code("TEXT_REVIEW", WARNING, "文字中所述行政复议件数与表四不符", NARRATIVE,
         message=_said("行政复议件数")),
    Code("TEXT_SUIT", WARNING, "文字中所述行政诉讼件数与表四（直接起诉与复议后起诉之和）不符", NARRATIVE,
         message=_said("行政诉讼件数（{parts}之和）")),
    Code("TEXT_PROACTIVE", WARNING, "文字中所述主动公开的数字（规范性文件、许可、处罚等）与表二不符", NARRATIVE,
         message=_said("主动公开的数字")),
    Code("TEXT_PERCENT", WARNING, "文字中的百分比对不上（各项占比之和超过 100%，或与件数不符）", NARRATIVE,
         message="文字部分“{head}”写有“{sentence}”：{count} 件占 {pct}%，但按表格的申请总数计算应为 {shares}。请核对。",
         variants={"over_100": "文字部分“{head}”写有“{sentence}”，所列各项占比之和为 {total}%，超过 100%。请核对。"}),
    Code("TEXT_SEC5_EMPTY", WARNING, "第五部分（问题和改进情况）为空或只写“无”", NARRATIVE,
         message=_SEC5_EMPTY.format(said="为空"), variants={"only": _SEC5_EMPTY.format(said="只写了“{text}”")}),
    Code("TEXT_FEES", WARNING, "第六部分说未收取费用，但表二有收费金额", NARRATIVE,
         message=_said("所述收费金额")),
    Code("TEXT_SECTION_MISSING", WARNING, "年报缺少某一部分的标题", NARRATIVE,
         message="找不到“{heading}”这一部分的标题。年报应按格式包括全部六个部分。"),
    Code("TEXT_SECTION_NUMBER", WARNING, "年报某一部分的标题序号与格式不符", NARRATIVE,
         message="标题“{line}”的序号为“{number}”，按年报格式应为“{heading}”。请核对各部分的顺序和序号。"),
    Code("TEXT_YEAR", WARNING, "标题或文字中的年度与报告年度不符（可能沿用了往年的文字）", NARRATIVE,
         message="文字部分" + _OLD_YEAR, variants={"heading": _OLD_YEAR,
                                                 "title": "标题“{title}”中的年度为 {years}，与报告年度 {year} 不符。请核对。"}),
    # published tables as found in the wild
    Code("LAYOUT_MIXED", WARNING, "已发布的报告中某张表格使用另一版格式（如 2021 版报告中仍用 2019 版的表二，或表三只有一行其他处理）："
                                  "该表按其自身格式读取，只导入含义完全相同的数字，其余留空", READ,
         message="{table}{captions}使用的是 {source} 版格式（{document}）的表格，而本报告按 {target} 版格式导入："
                 "该表已按 {source} 版的标签读取{details}。请核对，需要时按原报告补填。"),
    Code("COPIED_TEXT_UNPLACED", WARNING, "从 PDF 复制的文字中有内容对应不到表格（一行数字找不到对应的表格行，"
                                          "或表格中间的文字不是官方标签），未导入", READ,
         message="{where}的{what}（{numbers}）找不到对应的表格行（标签缺失或无法识别），未导入。",
         variants={"stray_text": "{where}的文字“{text}”在表格中间，但不是官方表格标签的一部分（可能是换行后没能接上的标签），未导入。"}),
    # year over year (--previous; rules/yoy.py): key figures that jump or collapse
    Code("YOY_JUMP", WARNING, "主要指标比上年增长超过 5 倍，请核实", CHECK,
         message=_yoy("是上年的 {ratio} 倍")),
    Code("YOY_DROP", WARNING, "主要指标不到上年的五分之一，请核实", CHECK,
         message=_yoy("只有上年的 {percent}%")),
    Code("YOY_ZERO", WARNING, "主要指标上年较多、本年为 0，请核实", CHECK,
         message=_yoy("本年为 0")),
)


_Wording = tuple[str, dict[str, str]]
# the wordings of the spec's rules, per kind of rule (rules/validate.py renders them)
_SUM: _Wording = (_AT + "应为 {total}（{description}），实为 {shown}。请核对各分项与合计。",
        {"unfilled": _AT + "应为 {total}（{description}，" + _UNFILLED_NOTE + "），实为 {shown}。请核对各分项与合计。"})
_BALANCE_HEAD = "{where} {col}列勾稽关系不成立：{left} = {left_sum}，应等于 {right} = {right_sum}"
_BALANCE_TAIL = "。{description}，请核对这几项。"
_BALANCE: _Wording = (_BALANCE_HEAD + _BALANCE_TAIL, {"unfilled": _BALANCE_HEAD + "（" + _UNFILLED_NOTE + "）" + _BALANCE_TAIL})
_AT_LEAST: _Wording = (_AT + "为 {big}，小于{small_column} {small}（{small_where}）。{description}，请核对。", {})
_CARRY_OVER: _Wording = (_AT + "为 {now}，但上年（{previous_year} 年度）报告的“{from_label}”为 {before}。"
               "{description}（跨年度核对），请核对。", {})
_STOCK_CHANGE: _Wording = (_AT + "为 {got}，按上年{stock_column} {last} + {issued} {issued_n} − {repealed} {repealed_n} "
                 "应约为 {expect}。若有修订、清理等原因可忽略，否则请核对。", {})


def _spec_codes() -> list[Code]:
    """Codes, meanings and wordings of the spec's table rules (both formats), in declaration order.

    Official relations are errors; heuristics (§6.2) and cross-year checks are warnings.
    """
    out: dict[str, Code] = {}
    for fmt in FORMATS.values():
        for t in fmt.tables:
            for rule in t.rules:
                sev = ERROR if isinstance(rule, (ColumnTotal, RowTotal, Balance)) else WARNING
                assert isinstance(rule, (ColumnTotal, RowTotal, Balance, AtLeast, CarryOver, StockChange))
                note = "（跨年度核对，提供上年数据时进行；非官方强制关系）" if isinstance(rule, CarryOver) else ""
                prefix = "" if isinstance(rule, StockChange) else f"{TABLE_SHEETS[t.section][1]}："
                message, variants = (
                    _SUM if isinstance(rule, (ColumnTotal, RowTotal)) else _BALANCE if isinstance(rule, Balance)
                    else _AT_LEAST if isinstance(rule, AtLeast) else _CARRY_OVER if isinstance(rule, CarryOver)
                    else _STOCK_CHANGE)
                out.setdefault(rule.code, Code(rule.code, sev, f"{prefix}{rule.description}{note}", CHECK,
                                               message, variants))
    return list(out.values())


def _build() -> dict[str, Code]:
    reg: dict[str, Code] = {}
    for c in [*_spec_codes(), *_DECLARED]:
        if c.code in reg:
            raise ValueError(f"finding code declared twice: {c.code}")
        reg[c.code] = c
    return reg


REGISTRY: dict[str, Code] = _build()


def severity_of(code: str) -> Severity:
    return REGISTRY[code].severity


def render(code: str, variant: str | None = None, /, **fields: FieldValue) -> str:
    """The text of ``code`` (its ``variant``) with ``fields`` put in."""
    return REGISTRY[code].template(variant).format_map(fields)


def make(code: str, variant: str | None = None, /, **fields: FieldValue) -> Finding:
    """The one constructor of a finding: the code's template rendered with ``fields``, the
    registry's severity, and the location fields (``LOCATION_FIELDS``) from ``fields``.

    Built with ``model_construct`` (no validation: reader and rules are hot paths). Fields that
    are not Finding fields only render; they are kept on the finding (for ``rerender``) but
    never serialised.
    """
    c = REGISTRY[code]
    g: Callable[[str], Any] = fields.get  # the fields are the caller's; Finding's types are not re-checked
    f = Finding.model_construct(
        code=code, severity=c.severity,
        message=(c.message if variant is None else c.variants[variant]).format_map(fields),
        file=g("file"), sheet=g("sheet"), cell=g("cell"), table=g("table"), row=g("row"),
        column=g("column"), key=g("key"), expected=g("expected"), actual=g("actual"),
    )
    f._rendered = (variant, {k: v for k, v in fields.items() if k not in _LOCATION})  # the location is on f
    return f


def reworded(f: Finding, message: str, **update: FieldValue) -> Finding:
    """A copy of ``f`` saying ``message`` (and other ``update`` fields): text derived from a
    finding's own (the feedback copy's notes), so not a rendering of its template any more."""
    out = f.model_copy(update={"message": message, **update})
    out._rendered = None
    return out


def rerender(f: Finding) -> str | None:
    """The message of ``f`` rendered again from its code's template, its location fields and
    the other fields it was made with; None for a finding not made by ``make``."""
    if f._rendered is None:
        return None
    variant, fields = f._rendered
    return render(f.code, variant, **fields, **{k: getattr(f, k) for k in LOCATION_FIELDS})


def catalogue_markdown() -> str:
    """The registry as a Markdown table (代码 | 级别 | 来源 | 含义) for the README."""
    lines = ["| 代码 | 级别 | 来源 | 含义 |", "|---|---|---|---|"]
    for r in REGISTRY.values():
        lines.append(f"| `{r.code}` | {SEVERITY_ZH[r.severity]} | {r.source} | {r.meaning} |")
    return "\n".join(lines) + "\n"
