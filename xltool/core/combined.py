"""What combine decided, as a typed model: every file's outcome, the per-agency table and
the district totals. The summary writer takes this object; it never calls combine."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd

from xltool import __version__
from xltool.core.model import AgencyReport, CellValue, FileStatus, Finding, ReportMeta, Severity
from xltool.spec import Format, FormatId

DISTRICT_NAME = "全区合计"  # the agency name of the district totals in findings


class Disposition(str, Enum):
    """What became of one file (the 报送状态 column of 报送情况)."""

    OK = "已报送·通过"
    INVALID = "已报送·有错误"
    SUPERSEDED = "重复报送（已被替代）"
    UNKNOWN_AGENCY = "名单外单位"
    UNREADABLE = "无法读取"
    WRONG_YEAR = "年度不符"
    NO_FORMAT = "无法识别格式"
    WRONG_FORMAT = "格式不符"
    SUMMARY = "汇总表（非单位报表）"  # our summary whose agency files are all in this run already
    CHILD = "已报送·下级汇总表"  # a lower level's summary, counted through its 分单位明细
    CHILD_INVALID = "下级汇总表·有错误"  # edited, broken or inconsistent: left out with the reason
    DUPLICATE = "重复计入（已在其他汇总中）"  # an agency already counted directly or in another summary


MISSING = "未报送"  # a roster agency without any file


@dataclass
class Submission:
    """One checked file, as combine needs it (made from check's per-file record)."""

    path: Path
    status: FileStatus  # a plain "ok" / "invalid" / "unreadable" is converted
    report: AgencyReport | None = None
    findings: list[Finding] = field(default_factory=list)
    sha256: str | None = None
    mtime: float | None = None  # seconds since the epoch
    fill_time: datetime | None = None  # when the agency filled our template, if known
    is_template: bool = False
    error: str | None = None  # why the file could not be read (Chinese), when unreadable
    record: dict[str, Any] | None = None  # check's JSON record of the file, if it has one
    child: ChildSummary | None = None  # set when the file is a lower level's summary

    def __post_init__(self) -> None:
        self.status = FileStatus(self.status)

    @property
    def meta(self) -> ReportMeta:
        return self.report.meta if self.report is not None else ReportMeta()

    @property
    def n_errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == Severity.ERROR)

    @property
    def n_warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == Severity.WARNING)


@dataclass
class FileOutcome:
    """A submission and the decision about it."""

    sub: Submission
    disposition: Disposition
    included: bool
    reason: str = ""  # Chinese: why excluded / how included
    roster_name: str | None = None  # the roster entry it was matched to
    superseded_by: Path | None = None
    unit: str = ""  # the summaries it came through (“某市·某区”), "" for a file sent directly
    via: tuple[str, ...] = ()  # sha256 of those summaries, from this level down
    child: ChildSummary | None = None  # set on the outcome of a lower level's summary file
    # set on a row counted through a lower level's summary: its values are here, not in the report
    from_child: ChildAgency | None = None

    def value_items(self) -> Iterable[tuple[str, CellValue]]:
        """The row's values, wherever they are held."""
        if self.from_child is not None:
            return self.from_child.items()
        return self.sub.report.values.items() if self.sub.report is not None else ()

    @property
    def agency(self) -> str:
        if self.sub.report is None:
            return f"（无法读取：{self.sub.path.name}）"
        return self.roster_name or (self.sub.meta.agency or "").strip() or f"（未填单位名称：{self.sub.path.name}）"

    @property
    def credit_code(self) -> str:
        return (self.sub.meta.credit_code or "").strip()

    @property
    def version(self) -> str:
        m = self.sub.meta
        parts = [p for p in (m.template_id, f"xltool {m.tool_version}" if m.tool_version else None) if p]
        return "；".join(parts) if parts else ("本工具模板" if self.sub.is_template else "非本工具模板")

    @property
    def file_time(self) -> datetime | None:
        return datetime.fromtimestamp(self.sub.mtime) if self.sub.mtime is not None else None


@dataclass
class RosterRow:
    """One line of 报送情况 for a roster agency (or a file without roster)."""

    name: str
    credit_code: str
    status: str
    outcome: FileOutcome | None
    unit: str = ""  # for a line taken from a lower level's own 报送情况: where it came from
    included: bool | None = None  # for such a line: 计入汇总 as that level recorded it
    reason: str = ""


@dataclass
class ChildAgency:
    """One agency row of a lower level's 分单位明细, as the next level reads it."""

    name: str
    credit_code: str
    # the values as two aligned tuples, ``keys`` shared by every row of one child: a nation's
    # 200,000 rows as dicts would cost about 9 KB each, as tuples under 2 KB
    keys: tuple[str, ...]
    cells: tuple[CellValue, ...]
    sha256: str  # the agency file's own sha256 ("" if the summary did not record it)
    unit: str  # the chain below the child (“某区”), "" when the agency is the child's direct one
    via: tuple[str, ...]  # sha256 of the summaries below the child it came through, top down
    note: str = ""

    def items(self) -> Iterator[tuple[str, CellValue]]:
        return zip(self.keys, self.cells, strict=True)

    @property
    def values(self) -> dict[str, CellValue]:
        return dict(self.items())


@dataclass
class ChildSummary:
    """A lower level's summary workbook read back: what it claims, and what it holds."""

    path: Path
    sha256: str
    name: str  # the 本级政府 it summarises (meta ``district``), or the file name
    level: str
    year: int | None
    format: FormatId | None
    agencies: list[ChildAgency] = field(default_factory=list)
    roster: list[RosterRow] = field(default_factory=list)  # its 报送情况, as recorded
    findings: list[Finding] = field(default_factory=list)  # cross-level checks on this file
    created: str = ""

    @property
    def valid(self) -> bool:
        return not any(f.severity == Severity.ERROR for f in self.findings)


@dataclass
class CombineResult:
    fmt: Format
    year: int
    year_note: str
    outcomes: list[FileOutcome]  # every file, in input order
    rows: list[FileOutcome]  # included files, one per agency, in 分单位明细 order
    table: pd.DataFrame  # rows = agencies (index: name), columns = spec keys; NaN = not filled
    raw_text: dict[tuple[int, str], str]  # (row index, key) → text that was not a number
    totals: dict[str, int | float]
    unfilled: dict[str, list[int]]  # key → row indices of agencies that did not fill it
    district_findings: list[Finding]  # rules re-run on the totals, and the unfilled warnings
    roster_rows: list[RosterRow]
    missing: list[str]  # roster agencies without any file
    previous: dict[int, dict[str, float]] = field(default_factory=dict)  # row index → last year's headline
    has_previous: bool = False
    has_roster: bool = False
    include_invalid: bool = False
    roster_path: Path | None = None
    district: str | None = None  # 本级政府 name, for titles (render reads it from the meta sheet)
    previous_paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # Chinese lines for 说明
    created: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    output: Path | None = None
    level: str = "district"  # this summary's level (summary_layout.LEVELS)
    children: list[FileOutcome] = field(default_factory=list)  # outcomes of lower-level summaries
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def excluded(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if not o.included]

    @property
    def exit_code(self) -> int:
        """0: every file counted and passed, nobody missing; 1: written, but something to look at."""
        bad = (self.excluded or self.missing or any(o.disposition is Disposition.INVALID for o in self.rows)
               or any(o.sub.n_errors for o in self.children))  # e.g. an agency counted in two summaries
        return 1 if bad else 0

    def district_report(self) -> AgencyReport:
        return district_report(self.fmt, self.year, self.totals)

    def to_json(self) -> dict[str, Any]:
        """Per-file records (check's contract plus the combine decision) and a summary section."""
        files = []
        for o in self.outcomes:
            rec = dict(o.sub.record) if o.sub.record else _file_record(o.sub)
            rec["kind"] = "summary" if o.sub.child is not None else "agency"
            rec["combine"] = {
                "status": o.disposition.value,
                "included": o.included,
                "reason": o.reason,
                "agency": o.agency,
                "superseded_by": str(o.superseded_by) if o.superseded_by else None,
            }
            files.append(rec)
        return {
            "files": files,
            "summary": {
                "output": str(self.output) if self.output else None,
                "year": self.year,
                "year_note": self.year_note,
                "format": self.fmt.id,
                "tool_version": __version__,
                "created": self.created.isoformat(),
                "n_files": len(self.outcomes),
                "n_agencies": len(self.rows),
                "n_excluded": len(self.excluded),
                "include_invalid": self.include_invalid,
                "included": [{"agency": o.agency, "path": str(o.sub.path), "status": o.disposition.value}
                             for o in self.rows],
                "excluded": [{"path": str(o.sub.path), "status": o.disposition.value, "reason": o.reason}
                             for o in self.excluded],
                "missing": list(self.missing),
                "roster": [{"agency": r.name, "status": r.status,
                            "path": str(r.outcome.sub.path) if r.outcome else None} for r in self.roster_rows],
                "totals": dict(self.totals),
                "district_findings": [f.model_dump(mode="json") for f in self.district_findings],
                "notes": list(self.notes),
                "exit_code": self.exit_code,
            },
        }


def _file_record(sub: Submission) -> dict[str, Any]:
    m = sub.meta
    return {
        "path": str(sub.path),
        "agency": m.agency,
        "year": m.year,
        "format": m.format,
        "status": sub.status.value,
        "sha256": sub.sha256,
        "errors": sub.n_errors,
        "warnings": sub.n_warnings,
        "findings": [f.model_dump(mode="json") for f in sub.findings],
    }


def district_report(fmt: Format, year: int, totals: dict[str, int | float]) -> AgencyReport:
    values = {k: CellValue.of(v) for k, v in totals.items()}
    return AgencyReport(meta=ReportMeta(agency=DISTRICT_NAME, year=year, format=fmt.id), values=values)
