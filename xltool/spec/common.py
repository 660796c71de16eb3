"""Parts shared by both official formats (official-format.md §1, §2.2-§2.3, §3.2-§3.3)."""

from __future__ import annotations

import re

from xltool.spec.types import (
    Balance,
    CarryOver,
    Column,
    ColumnTotal,
    Kind,
    Row,
    RowTotal,
    Section,
    Style,
    Table,
)

AMOUNT_UNIT = "万元"  # the unit every amount column asks for (V2019 gives none; our template says so)

# Column/row label aliases seen in the wild (official-format.md §7 item 13): alias → official label.
LABEL_ALIASES: dict[str, str] = {
    "合计": "总计",
    "办理结果总计": "总计",
    "本年度办理结果总计": "总计",
    "其他组织": "其他",
}

_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+\.)")


def unnumbered(label: str) -> str:
    """'一、本年新收政府信息公开申请数量' → '本年新收政府信息公开申请数量' (for titles and messages)."""
    return _NUMBERING.sub("", label)


SECTIONS: tuple[Section, ...] = (
    Section("sec1", "一、总体情况", narrative=True),
    Section("sec2", "二、主动公开政府信息情况", narrative=False),
    Section("sec3", "三、收到和处理政府信息公开申请情况", narrative=False),
    Section("sec4", "四、政府信息公开行政复议、行政诉讼情况", narrative=False),
    Section("sec5", "五、存在的主要问题及改进情况", narrative=True),
    Section("sec6", "六、其他需要报告的事项", narrative=True),
)

INFO_CONTENT = "信息内容"  # first header cell of every section-二 sub-table
CAPTION_PREFIX = "第二十条"  # every section-二 sub-table caption starts so (第二十条第（一）项 …)

# --- Section 三 -------------------------------------------------------------------------

SEC3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
SEC3_COLUMN_ROOT = "申请人情况"
ORG = "法人或其他组织"

SEC3_COLUMNS: tuple[Column, ...] = (
    Column("natural", "自然人"),
    Column("org.commercial", "商业企业", groups=(ORG,)),
    Column("org.research", "科研机构", groups=(ORG,)),
    Column("org.public_welfare", "社会公益组织", groups=(ORG,)),
    Column("org.legal_service", "法律服务机构", groups=(ORG,)),
    Column("org.other", "其他", groups=(ORG,)),
    Column("total", "总计"),
)
SEC3_PARTS = tuple(c.key for c in SEC3_COLUMNS if c.key != "total")

RESULTS = "三、本年度办理结果"
DENIED = "（三）不予公开"
UNABLE = "（四）无法提供"
NOT_PROCESSED = "（五）不予处理"
OTHER_GROUP = "（六）其他处理"


def _rows(group: tuple[str, ...], items: list[tuple[str, str]]) -> list[Row]:
    return [Row(k, label, group) for k, label in items]


def sec3_table(other_rows: list[Row]) -> Table:
    """Section 三; the formats differ only in the （六）其他处理 rows."""
    outcome: list[Row] = [
        Row("granted", "（一）予以公开", (RESULTS,)),
        Row("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", (RESULTS,)),
        *_rows(
            (RESULTS, DENIED),
            [
                ("denied.state_secret", "1.属于国家秘密"),
                ("denied.law_forbidden", "2.其他法律行政法规禁止公开"),
                ("denied.three_safety_one_stability", "3.危及“三安全一稳定”"),
                ("denied.third_party", "4.保护第三方合法权益"),
                ("denied.internal_affairs", "5.属于三类内部事务信息"),
                ("denied.process_info", "6.属于四类过程性信息"),
                ("denied.enforcement_file", "7.属于行政执法案卷"),
                ("denied.admin_query", "8.属于行政查询事项"),
            ],
        ),
        *_rows(
            (RESULTS, UNABLE),
            [
                ("unable.not_held", "1.本机关不掌握相关政府信息"),
                ("unable.need_creation", "2.没有现成信息需要另行制作"),
                ("unable.unclear_after_correction", "3.补正后申请内容仍不明确"),
            ],
        ),
        *_rows(
            (RESULTS, NOT_PROCESSED),
            [
                ("not_processed.petition", "1.信访举报投诉类申请"),
                ("not_processed.duplicate", "2.重复申请"),
                ("not_processed.publication", "3.要求提供公开出版物"),
                ("not_processed.excessive", "4.无正当理由大量反复申请"),
                ("not_processed.confirm_reissue", "5.要求行政机关确认或重新出具已获取信息"),
            ],
        ),
        *other_rows,
    ]
    rows = (
        Row("new_received", "一、本年新收政府信息公开申请数量"),
        Row("carried_over", "二、上年结转政府信息公开申请数量"),
        *outcome,
        Row("total_processed", "（七）总计", (RESULTS,)),
        Row("carry_forward", "四、结转下年度继续办理"),
    )
    return Table(
        key="sec3",
        section="sec3",
        style=Style.MATRIX,
        caption="三、收到和处理政府信息公开申请情况",
        rows=rows,
        columns=SEC3_COLUMNS,
        header_first=SEC3_NOTE,
        column_root=SEC3_COLUMN_ROOT,
        rules=(
            ColumnTotal("T3_ROW_TOTAL", "total", SEC3_PARTS, "总计列等于自然人与法人或其他组织各列之和"),
            RowTotal(
                "T3_TOTAL_PROCESSED",
                "total_processed",
                tuple(r.key for r in outcome),
                "（七）总计等于（一）至（六）各项办理结果之和",
            ),
            Balance(
                "T3_BALANCE",
                ("new_received", "carried_over"),
                ("total_processed", "carry_forward"),
                "第一项加第二项之和，等于第三项加第四项之和",
            ),
            CarryOver(
                "CARRY_OVER",
                "carried_over",
                "carry_forward",
                "本年“上年结转”应等于上年“结转下年度继续办理”",
            ),
        ),
    )


# --- Section 四 -------------------------------------------------------------------------

SEC4_COLUMNS: tuple[Column, ...] = (
    Column("upheld", "结果维持"),
    Column("corrected", "结果纠正"),
    Column("other", "其他结果"),
    Column("pending", "尚未审结"),
    Column("total", "总计"),
)
REVIEW = "行政复议"
SUIT = "行政诉讼"


def sec4_table() -> Table:
    return Table(
        key="sec4",
        section="sec4",
        style=Style.FLAT,
        caption="四、政府信息公开行政复议、行政诉讼情况",
        rows=(
            Row("review", REVIEW, ()),
            Row("suit_direct", "未经复议直接起诉", (SUIT,)),
            Row("suit_after_review", "复议后起诉", (SUIT,)),
        ),
        columns=SEC4_COLUMNS,
        rules=(
            ColumnTotal(
                "T4_TOTAL",
                "total",
                ("upheld", "corrected", "other", "pending"),
                "总计等于结果维持、结果纠正、其他结果、尚未审结之和",
            ),
        ),
    )


def grid(key: str, caption: str, rows: list[tuple[str, str]], cols: list[Column], **kw) -> Table:
    """A section-二 sub-table."""
    return Table(
        key=f"sec2.{key}",
        section="sec2",
        style=Style.GRID,
        caption=caption,
        rows=tuple(Row(k, label) for k, label in rows),
        columns=tuple(cols),
        header_first=INFO_CONTENT,
        **kw,
    )


def count(key: str, label: str) -> Column:
    return Column(key, label, Kind.COUNT)
