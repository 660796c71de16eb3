"""V2021: 国办公开办函〔2021〕30号, report years 2021 onward (official-format.md §3)."""

from __future__ import annotations

from xltool.spec.common import (
    AMOUNT_UNIT,
    OTHER_GROUP,
    RESULTS,
    SECTIONS,
    count,
    grid,
    sec3_table,
    sec4_table,
)
from xltool.spec.types import Column, Format, Kind, Row, StockChange

_DECISIONS = count("decisions", "本年处理决定数量")

V2021 = Format(
    id="2021",
    name="中华人民共和国政府信息公开工作年度报告格式",
    document="国办公开办函〔2021〕30号",
    years=(2021, None),
    sections=SECTIONS,
    tables=(
        grid(
            "art20_1",
            "第二十条第（一）项",
            [("regulations", "规章"), ("normative_docs", "行政规范性文件")],
            [
                count("issued", "本年制发件数"),
                count("repealed", "本年废止件数"),
                count("in_force", "现行有效件数"),
            ],
            rules=(
                StockChange(
                    "STOCK_CHANGE", "in_force", "issued", "repealed",
                    "现行有效件数 ≠ 上年现行有效件数 + 本年制发 − 本年废止（跨年度核对，修订清理会使其不成立）",
                ),
            ),
        ),
        grid("art20_5", "第二十条第（五）项", [("licensing", "行政许可")], [_DECISIONS]),
        grid(
            "art20_6",
            "第二十条第（六）项",
            [("penalty", "行政处罚"), ("coercion", "行政强制")],
            [_DECISIONS],
        ),
        grid(
            "art20_8",
            "第二十条第（八）项",
            [("admin_fees", "行政事业性收费")],
            [Column("amount_wan_yuan", "本年收费金额（单位：万元）", Kind.AMOUNT, unit=AMOUNT_UNIT)],
        ),
        sec3_table(
            [
                Row(
                    "other.overdue_correction",
                    "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
                    (RESULTS, OTHER_GROUP),
                ),
                Row(
                    "other.overdue_fee",
                    "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
                    (RESULTS, OTHER_GROUP),
                ),
                Row("other.other", "3.其他", (RESULTS, OTHER_GROUP)),
            ]
        ),
        sec4_table(),
    ),
    detect_labels=("本年制发件数", "现行有效件数", "本年收费金额", "逾期不补正"),
)
