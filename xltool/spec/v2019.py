"""V2019: 国办公开办函〔2019〕60号, 格式（试行）, report years 2019-2020 (official-format.md §2)."""

from __future__ import annotations

from xltool.spec.common import AMOUNT_UNIT, SECTIONS, count, grid, sec3_table, sec4_table
from xltool.spec.types import AtLeast, Column, Format, Kind, Row

_PREV = count("prev_year_items", "上一年项目数量")
_CHANGE = Column("change", "本年增/减", Kind.SIGNED)
_DECISIONS = count("decisions", "处理决定数量")

V2019 = Format(
    id="2019",
    name="中华人民共和国政府信息公开工作年度报告格式（试行）",
    document="国办公开办函〔2019〕60号",
    years=(2019, 2020),
    sections=SECTIONS,
    tables=(
        grid(
            "art20_1",
            "第二十条第（一）项",
            [("regulations", "规章"), ("normative_docs", "规范性文件")],
            [
                count("new_made", "本年新制作数量"),
                count("new_published", "本年新公开数量"),
                count("total_published", "对外公开总数量"),
            ],
            rules=(
                AtLeast(
                    "T2_PUBLISHED_GE_NEW",
                    "total_published",
                    "new_published",
                    "对外公开总数量一般不小于本年新公开数量",
                ),
            ),
        ),
        grid(
            "art20_5",
            "第二十条第（五）项",
            [("licensing", "行政许可"), ("other_mgmt_services", "其他对外管理服务事项")],
            [_PREV, _CHANGE, _DECISIONS],
        ),
        grid(
            "art20_6",
            "第二十条第（六）项",
            [("penalty", "行政处罚"), ("coercion", "行政强制")],
            [_PREV, _CHANGE, _DECISIONS],
        ),
        grid("art20_8", "第二十条第（八）项", [("admin_fees", "行政事业性收费")], [_PREV, _CHANGE]),
        grid(
            "art20_9",
            "第二十条第（九）项",
            [("central_procurement", "政府集中采购")],
            [
                count("projects", "采购项目数量"),
                # The official template gives no unit; our template asks for 万元 (see 填报说明).
                Column("total_amount", "采购总金额", Kind.AMOUNT, unit=AMOUNT_UNIT),
            ],
        ),
        sec3_table([Row("other", "（六）其他处理", ("三、本年度办理结果",))]),
        sec4_table(),
    ),
    detect_labels=("本年新制作数量", "对外公开总数量", "其他对外管理服务事项", "采购总金额"),
)
