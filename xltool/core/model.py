"""One agency's report and the findings about it, as pydantic models.

A cell's value keeps its meaning: a number, blank, a not-filled marker such as "/", or
text we could not parse (kept verbatim). "/" is never silently 0.

The reader builds these with ``model_construct`` on its hot path (the values are already
parsed and typed), so thousands of files cost no extra validation time; anything built
from outside input goes through normal validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from xltool.core.names import normalize_name
from xltool.spec import Format, FormatId, get_format

ValueState = Literal["number", "blank", "marker", "text"]
# a value a finding's message template is rendered with (xltool.core.findings.make)
FieldValue = str | int | float | None


class CellValue(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: ValueState
    number: int | float | None = None  # set when state == "number"
    raw: str | None = None  # what the cell held, when it was not a plain number

    @property
    def is_number(self) -> bool:
        return self.state == "number"

    @classmethod
    def of(cls, number: int | float) -> CellValue:
        return cls.model_construct(state="number", number=number, raw=None)


BLANK = CellValue.model_construct(state="blank", number=None, raw=None)

_SHARED_NUMBERS: dict[int | float, CellValue] = {}
_SHARED_MAX = 100_000


def number_cell(number: int | float) -> CellValue:
    """One shared (frozen) object per distinct number: most values are small counts, and
    20,000 reports × 200 cells would otherwise be 4 million objects."""
    if number != number:  # NaN: never equal to itself, never found again
        return CellValue.of(number)
    got = _SHARED_NUMBERS.get(number)
    if got is None or type(got.number) is not type(number):  # 1 and 1.0 hash alike
        got = CellValue.of(number)
        if len(_SHARED_NUMBERS) < _SHARED_MAX:
            _SHARED_NUMBERS[number] = got
    return got


class ReportMeta(BaseModel):
    agency: str | None = Field(None, description="单位名称")
    credit_code: str | None = Field(None, description="统一社会信用代码")
    year: int | None = Field(None, description="年度")
    format: FormatId | None = None
    filler: str | None = Field(None, description="填报人")
    phone: str | None = Field(None, description="联系电话")
    fill_date: str | None = Field(None, description="填报日期")
    template_id: str | None = None  # set when the file is one of our templates
    tool_version: str | None = None


class AgencyReport(BaseModel):
    """Everything read from one agency's workbook, keyed by the spec's stable cell keys."""

    meta: ReportMeta = Field(default_factory=ReportMeta)
    values: dict[str, CellValue] = Field(default_factory=dict)
    narrative: dict[str, str] = Field(default_factory=dict)  # sec1 / sec5 / sec6 → text
    extras: dict[str, str] = Field(default_factory=dict)  # unknown rows kept, label → raw text

    @property
    def fmt(self) -> Format:
        if self.meta.format is None:
            raise ValueError("report has no format")
        return get_format(self.meta.format)

    def value(self, key: str) -> CellValue:
        return self.values.get(key, BLANK)

    def number(self, key: str) -> int | float | None:
        v = self.values.get(key)
        return v.number if v is not None and v.state == "number" else None


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


class FileStatus(str, Enum):
    """How one file came through reading and checking (``status`` in check's JSON record).

    The reader gives OK or UNREADABLE; check adds INVALID (read, but with errors).
    """

    OK = "ok"
    INVALID = "invalid"
    UNREADABLE = "unreadable"

    def __str__(self) -> str:
        return self.value


class FormulaState(str, Enum):
    """What the reader found at one of our template's formula cells (reader → rules)."""

    OK = "ok"
    MISSING = "missing"  # typed over by a value
    CHANGED = "changed"  # another formula
    ERROR = "error"  # shows an error value (#VALUE! …)
    NO_CACHE = "no_cache"  # no cached result (saved by a program that does not calculate)

    def __str__(self) -> str:
        return self.value


class Finding(BaseModel):
    """One problem, as a record first (frictionless-style); ``message`` is its Chinese text."""

    code: str
    severity: Severity
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None  # A1 address
    table: str | None = None  # 表二 / 表三 / 表四
    row: str | None = None  # official row label
    column: str | None = None  # official column label
    key: str | None = None  # spec cell key
    expected: str | int | float | None = None
    actual: str | int | float | None = None
    # (variant, the fields that are not Finding fields) the message was rendered from by
    # ``findings.make``; never serialised
    _rendered: tuple[str | None, dict[str, FieldValue]] | None = PrivateAttr(default=None)

    def location(self) -> str:
        """'表三!J12' style, for messages."""
        if self.table and self.cell:
            return f"{self.table}!{self.cell}"
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or self.table or ""


@dataclass
class PreviousData:
    """Last year's numbers per agency (``--previous``): only numbers; a blank or "/" is absent."""

    year: int | None
    format: FormatId | None
    by_agency: dict[str, dict[str, int | float]] = field(default_factory=dict)  # normalized name → key → number
    names: dict[str, str] = field(default_factory=dict)  # normalized name → name as written
    sources: list[str] = field(default_factory=list)

    def get(self, agency: str) -> dict[str, int | float] | None:
        return self.by_agency.get(normalize_name(agency))
