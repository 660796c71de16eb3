"""Compare what agencies published with what they submitted (``xltool compare``).

For each agency: its published report (HTML, PDF, DOCX or txt, imported) against its current
submitted workbook, cell by cell; the narrative rules on the published text; and the roster
(or submitted) agencies that have no published report. A published file is matched to an
agency by the agency and year found in the document itself (file names saved from websites
mean nothing); one that matches no agency, or another year, is listed as unmatched.

The submitted numbers are the ones ``check`` judged (totals recomputed from the inputs); the
published numbers are as published. A cell the published table does not have is not
compared (the import lists it); a cell that is a number on one side and blank or "/" on the
other is a difference.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xltool.core.model import CellValue, Finding
from xltool.core.names import normalize_name
from xltool.core.numbers import show
from xltool.errors import XltoolError
from xltool.pipeline.check import CheckedFile, check_paths, issue_json
from xltool.pipeline.published import narrative_findings
from xltool.read.importer import ImportResult, import_file
from xltool.spec import TABLE_SHEETS
from xltool.workbook.fileio import atomic_path, readable
from xltool.workbook.layout import layout_for

_TOL = 1e-6


class CompareError(XltoolError):
    """The comparison cannot run (Chinese message)."""


@dataclass
class Difference:
    key: str
    sheet: str
    cell: str
    row: str
    column: str
    published: str | int | float | None
    submitted: str | int | float | None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "sheet": self.sheet, "cell": self.cell, "row": self.row, "column": self.column,
                "published": self.published, "submitted": self.submitted}


@dataclass
class AgencyComparison:
    agency: str
    published: str | None = None
    submitted: str | None = None
    differences: list[Difference] = field(default_factory=list)
    narrative: list[Finding] = field(default_factory=list)
    note: str | None = None  # why nothing could be compared (Chinese)

    @property
    def matched(self) -> bool:
        return self.published is not None and self.submitted is not None and not self.differences

    def to_json(self) -> dict[str, Any]:
        return {"agency": self.agency, "published": self.published, "submitted": self.submitted,
                "matched": self.matched, "differences": [d.to_json() for d in self.differences],
                "narrative": [issue_json(f) for f in self.narrative]}


@dataclass
class Unmatched:
    file: str
    agency: str | None
    year: int | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "agency": self.agency, "year": self.year, "reason": self.reason}


@dataclass
class CompareRun:
    year: int | None
    agencies: list[AgencyComparison]
    unmatched_published: list[Unmatched]

    def to_json(self) -> dict[str, Any]:
        return {"year": self.year, "agencies": [a.to_json() for a in self.agencies],
                "unmatched_published": [u.to_json() for u in self.unmatched_published]}


def _shown(v: CellValue | None) -> str | int | float | None:
    if v is None or v.state == "blank":
        return None
    if v.state == "number":
        return v.number
    return v.raw


def _differs(pub: CellValue, sub: CellValue) -> bool:
    if pub.state == "number" and sub.state == "number":
        return abs(float(pub.number or 0) - float(sub.number or 0)) > _TOL
    return (pub.state == "number") != (sub.state == "number")


def differences(res: ImportResult, f: CheckedFile) -> list[Difference]:
    """Cell-by-cell differences between an imported published report and a checked workbook."""
    report = f.report
    fmt_pub = res.fmt
    if report is None or report.meta.format is None or fmt_pub is None:
        return []
    fmt = report.fmt
    lay = layout_for(fmt)
    locations = f.result.locations if f.result is not None else {}
    out: list[Difference] = []
    for key, cd in fmt.cells.items():
        pub = res.values.get(key)
        if pub is None or key not in fmt_pub.cells:
            continue
        sub = report.value(key)
        if not _differs(pub, sub):
            continue
        sheet, addr = locations.get(key) or lay.address[key]
        out.append(Difference(key, sheet, addr, cd.row.label, cd.column.label, _shown(pub), _shown(sub)))
    return out


def _newest(files: list[CheckedFile]) -> CheckedFile:
    def when(f: CheckedFile) -> tuple[str, float]:
        return (str(f.fill_time or ""), float(f.mtime or 0.0))

    return max(files, key=when)


def _find(name: str | None, agencies: dict[str, str]) -> str | None:
    """The agency key a published report names: exact (normalised), else the one name that
    contains the other (a title that drops 威海市 or the last character)."""
    if not name:
        return None
    n = normalize_name(name)
    if n in agencies:
        return n
    hits = [k for k in agencies if len(n) >= 4 and (n in k or k in n)]
    return hits[0] if len(hits) == 1 else None


def compare(
    submitted: Sequence[str | Path],
    published: Sequence[str | Path],
    *,
    year: int | None = None,
    roster: str | Path | None = None,
    workers: int | None = None,
) -> CompareRun:
    """Compare published reports with the submitted workbooks under ``submitted``."""
    for p in published:
        if not Path(p).is_file():
            raise CompareError(f"找不到已发布的年报文件：{p}")
    run = check_paths(submitted, year=year, roster=roster, workers=workers)
    readable_files = [f for f in run.files if f.status != "unreadable" and f.agency]
    years = [f.year for f in readable_files if f.year is not None]
    the_year = year or (max(set(years), key=years.count) if years else None)
    by_agency: dict[str, list[CheckedFile]] = {}
    names: dict[str, str] = {}
    for f in readable_files:
        if the_year is not None and f.year != the_year:
            continue
        k = normalize_name(f.agency)
        by_agency.setdefault(k, []).append(f)
        names.setdefault(k, f.agency or "")
    for e in run.roster or []:
        names.setdefault(normalize_name(e.name), e.name)
    if run.roster:
        # the roster decides the list (and the spelling)
        names = {normalize_name(e.name): e.name for e in run.roster}
    rows = {k: AgencyComparison(n) for k, n in names.items()}
    for k, files in by_agency.items():
        if k in rows:
            rows[k].submitted = _newest(files).path
    unmatched: list[Unmatched] = []
    for p in published:
        res = import_file(p)
        agency, y = res.agency.value, res.year.value
        if not res.ok:
            unmatched.append(Unmatched(str(p), agency, y, f"无法导入：{res.error}"))
            continue
        found = _find(agency, names)
        if found is None:
            why = "报告中找不到单位名称" if not agency else f"单位“{agency}”不在报送的单位中"
            unmatched.append(Unmatched(str(p), agency, y, why))
            continue
        if the_year is not None and y != the_year:
            unmatched.append(Unmatched(str(p), agency, y, f"报告年度为 {y if y else '（未找到）'}，不是 {the_year} 年度"))
            continue
        k = found
        row = rows[k]
        if row.published is not None:
            unmatched.append(Unmatched(str(p), agency, y, f"同一单位已有已发布的年报 {Path(row.published).name}"))
            continue
        row.published = str(p)
        row.narrative = narrative_findings(res)
        if row.submitted is None:
            row.note = "没有报送的工作簿（或无法读取），无法逐项核对"
            continue
        sub = _newest(by_agency[k])
        row.differences = differences(res, sub)
        if res.fmt is not None and sub.report is not None and sub.report.meta.format != res.fmt.id:
            row.note = f"已发布的年报使用 {res.fmt.id} 版格式，报送的工作簿为 {sub.report.meta.format} 版，只核对两版共有的单元格"
    for row in rows.values():
        if row.published is None:
            row.note = "没有找到已发布的年报"
    return CompareRun(the_year, list(rows.values()), unmatched)


def difference_text(d: Difference) -> str:
    """表三!J6 一、本年新收…·总计：已发布 60，报送 59."""
    short = next((s for name, s in TABLE_SHEETS.values() if name == d.sheet), d.sheet)
    return f"{short}!{d.cell} {d.row}·{d.column}：已发布 {show(d.published) if isinstance(d.published, (int, float)) else d.published or '（空）'}，" \
           f"报送 {show(d.submitted) if isinstance(d.submitted, (int, float)) else d.submitted or '（空）'}"


def dump_json(run: CompareRun, path: str | Path) -> Path:
    p = Path(path)
    with atomic_path(p, overwrite=True) as tmp:
        tmp.write_text(json.dumps(run.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
        readable(tmp)
    return p
