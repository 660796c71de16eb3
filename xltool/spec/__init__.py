"""The official formats, declared once as data.

>>> from xltool.spec import format_for_year
>>> fmt = format_for_year(2025)
>>> fmt.id, len(fmt.cells), len(fmt.table("sec3").rows)
('2021', 200, 25)
>>> format_for_year(2020).id
'2019'
"""

from __future__ import annotations

from datetime import date

from xltool.errors import XltoolError
from xltool.spec.common import AMOUNT_UNIT, CAPTION_PREFIX, INFO_CONTENT, LABEL_ALIASES, SECTIONS, unnumbered
from xltool.spec.types import (
    AtLeastRelation,
    BalanceRelation,
    CellDef,
    Column,
    Format,
    FormatId,
    Kind,
    Row,
    Section,
    Style,
    SumRelation,
    Table,
)
from xltool.spec.v2019 import V2019
from xltool.spec.v2021 import V2021

FORMATS: dict[str, Format] = {V2019.id: V2019, V2021.id: V2021}

FIRST_YEAR = 2019
CURRENT: Format = V2021  # the format of the current collection round (and the default)

# The table sections as our workbooks name them: (sheet name, short name used in addresses such as 表三!J7)
TABLE_SHEETS: dict[str, tuple[str, str]] = {
    "sec2": ("表二 主动公开", "表二"),
    "sec3": ("表三 依申请公开", "表三"),
    "sec4": ("表四 复议诉讼", "表四"),
}
LAST_YEAR = 2100


class SpecError(XltoolError):
    """A format/year request that the official formats do not allow (message in Chinese)."""


def get_format(format_id: str | int) -> Format:
    fid = str(format_id).strip()
    if fid not in FORMATS:
        raise SpecError(f"未知的报告格式“{fid}”：只支持 2019（国办公开办函〔2019〕60号）和 2021（国办公开办函〔2021〕30号）。")
    return FORMATS[fid]


def years_text() -> str:
    """Which report years each format covers, from ``Format.years`` (for messages and --help).

    >>> years_text()
    '2019 格式（国办公开办函〔2019〕60号）用于 2019–2020 年度；2021 格式（国办公开办函〔2021〕30号）用于 2021 年度起'
    """
    parts = []
    for f in FORMATS.values():
        first, last = f.years
        parts.append(f"{f.id} 格式（{f.document}）用于 " + (f"{first}–{last} 年度" if last else f"{first} 年度起"))
    return "；".join(parts)


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise SpecError(
            f"年度 {year} 不在支持范围内：年度报告格式适用于 {FIRST_YEAR} 年及以后的报告年度（{years_text()}）。"
        )
    return year


def check_not_future(year: int, today: date | None = None) -> int:
    """A report year the clerk asks for must not lie after the current year: report year Y is
    collected in January of Y+1, so the newest round is last year's, and this year's only
    exists as templates prepared ahead. Raises SpecError (Chinese) otherwise."""
    this = (today or date.today()).year
    if year > this:
        raise SpecError(
            f"报告年度 {year} 晚于今年（{this} 年）：年度报告在次年年初报送，今年报送的是 {this - 1} 年度的报告，"
            f"最晚只能是 {this} 年度。请检查 --year。（{years_text()}）"
        )
    return check_year(year)


def format_for_year(year: int, override: str | int | None = None) -> Format:
    """≤2020 → V2019, ≥2021 → V2021; an explicit override must still fit the year."""
    check_year(year)
    if override is None:
        return V2019 if year <= 2020 else V2021
    fmt = get_format(override)
    first, _last = fmt.years
    if year < first:
        raise SpecError(
            f"{year} 年度不能使用 {fmt.id} 格式（{fmt.document}），该格式自 {first} 年度起适用。"
        )
    return fmt


__all__ = [
    "AMOUNT_UNIT",
    "CAPTION_PREFIX",
    "CURRENT",
    "FORMATS",
    "INFO_CONTENT",
    "LABEL_ALIASES",
    "SECTIONS",
    "TABLE_SHEETS",
    "V2019",
    "V2021",
    "AtLeastRelation",
    "BalanceRelation",
    "CellDef",
    "Column",
    "Format",
    "FormatId",
    "Kind",
    "Row",
    "Section",
    "SpecError",
    "Style",
    "SumRelation",
    "Table",
    "check_not_future",
    "check_year",
    "format_for_year",
    "get_format",
    "unnumbered",
    "years_text",
]
