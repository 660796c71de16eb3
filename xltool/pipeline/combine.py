"""District consolidation: which files count, and what the district totals are.

``combine`` checks the files with the same reader and rules as ``xltool check``
(``check_paths``), decides per file whether it enters the totals (policy below, nothing
silent), builds the per-agency table (pandas, rows = agencies, columns = spec keys; only
numbers are kept, never workbooks), re-runs the validation rules on the district totals
and hands everything to ``xltool.write.summary`` to write the summary workbook.

Policy, in the order it is applied:

* unreadable files never count;
* the run's year is ``--year`` or else the year most files carry; files of another year
  are excluded with a reason; so is a file in the other official format than the run's
  year calls for (adding V2019 and V2021 tables cell by cell would be wrong, and no
  mapping between them is attempted): the agency must refill the current template;
* files of one agency (same normalised name, same credit code or same roster entry) are
  reduced to the newest (fill time if known, else file time); the others are superseded;
* with a roster, a file of an agency not on it is excluded (名单外单位) and every roster
  agency without a file is listed as 未报送;
* a file with errors is excluded unless ``include_invalid``; then it counts and is marked;
* a blank or "/" cell adds nothing to a total, and every total built over such cells
  carries a warning (never a silent 0).
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from xltool.core.combined import (
    DISTRICT_NAME,
    MISSING,
    ChildSummary,
    CombineResult,
    Disposition,
    FileOutcome,
    RosterRow,
    Submission,
)
from xltool.core.findings import make
from xltool.core.model import AgencyReport, CellValue, FileStatus, Finding, PreviousData, ReportMeta, Severity
from xltool.core.names import RosterEntry, norm_code, normalize_name
from xltool.core.numbers import tidy
from xltool.errors import XltoolError
from xltool.pipeline.check import CheckedFile, CheckError, check_paths
from xltool.pipeline.previous import PreviousError, load_previous
from xltool.read import GuardError, find_workbooks
from xltool.read.pool import IsolatedError, run_isolated
from xltool.read.reader import read_grids
from xltool.read.roster import RosterError, read_roster
from xltool.read.summary import SUMMARY_SHEETS, guard_summary, is_summary_file, summary_book
from xltool.rules.rollup import judge_child
from xltool.rules.validate import validate_totals
from xltool.spec import Format, format_for_year
from xltool.spec.selections import headline_keys
from xltool.workbook import summary_layout as SL
from xltool.workbook.layout import TABLE_SHEETS, layout_for
from xltool.workbook.summary_layout import SUMMARY_TABLE_SHEETS
from xltool.write.summary import write_summary


class CombineError(XltoolError):
    """The run cannot produce a summary (message in Chinese); the CLI exits with 2."""


# --- policy -----------------------------------------------------------------------------


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _choose_year(subs: Sequence[Submission], year: int | None) -> tuple[int, str]:
    if year is not None:
        return year, f"按指定年度 {year} 年汇总。"
    years = Counter(s.meta.year for s in subs if s.report is not None and s.meta.year)
    if not years:
        raise CombineError("无法确定汇总年度：没有一个文件注明了报告年度。请用 --year 指定年度。")
    (best, n), *rest = years.most_common()
    if rest and rest[0][1] == n:
        tied = sorted(y for y, c in years.items() if c == n)
        raise CombineError(
            f"无法确定汇总年度：{'、'.join(map(str, tied))} 年度的文件一样多（各 {n} 个）。请用 --year 指定年度。"
        )
    total = sum(years.values())
    return best, f"未指定 --year：按多数文件的年度汇总（{total} 个注明年度的文件中 {n} 个为 {best} 年度）。"


def _time_key(s: Submission) -> tuple[float, float, str]:
    t = s.fill_time.timestamp() if s.fill_time is not None else (s.mtime or 0.0)
    return (t, s.mtime or 0.0, str(s.path))


def decide(
    subs: Sequence[Submission],
    *,
    year: int | None = None,
    roster: Sequence[RosterEntry] | None = None,
    include_invalid: bool = False,
    include_sha256: Mapping[str, str] | None = None,
) -> tuple[Format, int, str, list[FileOutcome], list[FileOutcome], list[RosterRow], list[str], list[str]]:
    """Apply the policy: (fmt, year, year note, outcomes, included rows, roster rows, missing, notes).

    ``include_sha256`` maps the sha256 of a file with errors to the recorded reason for
    counting it anyway (the workspace's ``include`` decisions), file by file."""
    y, year_note = _choose_year(subs, year)
    fmt = format_for_year(y)
    notes: list[str] = []
    outcomes: list[FileOutcome | None] = [None] * len(subs)
    candidates: list[int] = []
    for i, s in enumerate(subs):
        m = s.meta
        if s.child is not None:
            outcomes[i] = _child_outcome(s, y, fmt, subs)
            continue
        if not s.is_template and is_summary_file(s.path):
            outcomes[i] = FileOutcome(
                s, Disposition.SUMMARY, False,
                "这是本工具生成的全区汇总表，不是单位报表，已跳过。请不要把汇总表放在回收文件夹中。",
            )
        elif s.status is FileStatus.UNREADABLE or s.report is None:
            why = s.error or next((f.message for f in s.findings if f.severity == Severity.ERROR), "文件无法读取")
            outcomes[i] = FileOutcome(s, Disposition.UNREADABLE, False, f"无法读取，不计入汇总：{why}")
        elif m.year is not None and m.year != y:
            outcomes[i] = FileOutcome(
                s, Disposition.WRONG_YEAR, False,
                f"报告年度为 {m.year} 年，本次汇总 {y} 年度，不计入。若年度填错，请单位改正后重新报送。",
            )
        elif m.format is None:
            outcomes[i] = FileOutcome(s, Disposition.NO_FORMAT, False, "无法识别报表格式（2019 或 2021），不计入汇总。")
        elif m.format != fmt.id:
            outcomes[i] = FileOutcome(
                s, Disposition.WRONG_FORMAT, False,
                f"使用的是 {m.format} 格式，{y} 年度应使用 {fmt.id} 格式（{fmt.document}）。两种格式的表格不能逐格相加，"
                "不计入汇总。请该单位改用本年度模板重新填报。",
            )
        else:
            if m.year is None:
                notes.append(f"{s.path.name} 未注明报告年度，按本次汇总年度 {y} 年处理。")
            candidates.append(i)
    # group files of one agency: same normalised name, same credit code or same roster entry
    r_names: list[str] = []
    r_by_name: dict[str, int] = {}
    r_by_code: dict[str, int] = {}
    for j, e in enumerate(roster or []):
        r_names.append(e.name)
        r_by_name.setdefault(normalize_name(e.name), j)
        code = norm_code(e.credit_code)
        if code:
            r_by_code.setdefault(code, j)
    n = len(subs)
    uf = _UnionFind(n + len(r_names))
    first_by: dict[tuple[str, str], int] = {}
    matched: dict[int, int] = {}
    for i in candidates:
        m = subs[i].meta
        name = normalize_name(m.agency or "")
        code = norm_code(m.credit_code)
        keys = [("n", name)] if name else [("p", str(subs[i].path))]
        if code:
            keys.append(("c", code))
        for k in keys:
            if k in first_by:
                uf.union(i, first_by[k])
            else:
                first_by[k] = i
        rj = r_by_name.get(name) if name else None
        if rj is None and code:
            rj = r_by_code.get(code)
        if rj is not None:
            matched[i] = rj
            uf.union(i, n + rj)
    groups: dict[int, list[int]] = {}
    for i in candidates:
        groups.setdefault(uf.find(i), []).append(i)

    winners: dict[int, FileOutcome] = {}  # file index → outcome of the file that counts for the agency
    for members in groups.values():
        members.sort(key=lambda i: _time_key(subs[i]))
        win = members[-1]
        s = subs[win]
        rj = next((matched[i] for i in reversed(members) if i in matched), None)
        rname = r_names[rj] if rj is not None else None
        if roster is not None and rname is None:
            o = FileOutcome(s, Disposition.UNKNOWN_AGENCY, False,
                            "单位不在报送名单中，不计入汇总。请核对单位名称或统一社会信用代码，或把该单位加入名单。")
        elif s.status is FileStatus.OK:
            o = FileOutcome(s, Disposition.OK, True, "", rname)
        elif include_sha256 and s.sha256 is not None and s.sha256 in include_sha256:
            o = FileOutcome(s, Disposition.INVALID, True,
                            f"有 {s.n_errors} 处错误，按已记录的决定仍计入汇总：{include_sha256[s.sha256]}", rname)
        elif include_invalid:
            o = FileOutcome(s, Disposition.INVALID, True,
                            f"有 {s.n_errors} 处错误，按 --include-invalid 仍计入汇总（已在分单位明细中标出）。", rname)
        else:
            o = FileOutcome(s, Disposition.INVALID, False,
                            f"有 {s.n_errors} 处错误，未计入汇总。请单位按问题清单改正后重新报送；"
                            f"{_INCLUDE_HINT[include_sha256 is not None]}。", rname)
        outcomes[win] = o
        winners[win] = o
        for i in members[:-1]:
            outcomes[i] = FileOutcome(
                subs[i], Disposition.SUPERSEDED, False,
                f"同一单位有更新的文件 {s.path.name}（按{'填报时间' if s.fill_time else '文件时间'}），本文件不计入。",
                rname, superseded_by=s.path,
            )
    final = [o for o in outcomes if o is not None]
    assert len(final) == len(subs)

    roster_rows: list[RosterRow] = []
    missing: list[str] = []
    if roster is not None:
        by_entry: dict[int, FileOutcome] = {}
        for win, o in winners.items():
            ej = next((matched[i] for i in groups[uf.find(win)] if i in matched), None)
            if ej is not None:
                by_entry[ej] = o
        shown: set[int] = set()  # outcomes already on a roster line
        by_region = {normalize_name(o.sub.child.name): o for o in final if o.sub.child is not None}
        for j, e in enumerate(roster):
            line = by_entry.get(j) or by_region.get(normalize_name(e.name)) or _excluded_file_of(e, final, shown)
            if line is None:
                missing.append(e.name)
                roster_rows.append(RosterRow(e.name, e.credit_code or "", MISSING, None))
            else:
                shown.add(id(line))
                roster_rows.append(RosterRow(e.name, e.credit_code or line.credit_code,
                                             line.disposition.value, line))
        order = {id(o): j for j, o in by_entry.items()}
        rows = sorted((o for o in winners.values() if o.included), key=lambda o: order.get(id(o), 1 << 30))
        for o in final:
            if o.disposition is not Disposition.OK and o.disposition is not Disposition.INVALID and id(o) not in shown:
                roster_rows.append(RosterRow(o.agency, o.credit_code, o.disposition.value, o))
                shown.add(id(o))
            if o.disposition is Disposition.CHILD and o.sub.child is not None:
                roster_rows.extend(o.sub.child.roster)  # the lower level's own accounting
    else:
        rows = [o for o in final if o.included and o.sub.child is None]
        roster_rows = []
        for o in final:
            roster_rows.append(RosterRow(o.agency, o.credit_code, o.disposition.value, o))
            if o.disposition is Disposition.CHILD and o.sub.child is not None:
                roster_rows.extend(o.sub.child.roster)
    return fmt, y, year_note, final, rows, roster_rows, missing, notes


# --- consolidation ----------------------------------------------------------------------


# how a file with errors can still be counted: a flag of the folder command, or a recorded
# decision in a workspace (``include_sha256`` is given)
_INCLUDE_HINT = {False: "或用 --include-invalid 仍然计入",
                 True: "确需带着错误计入的，在工作区记录“计入汇总”的决定（xltool include，或工作台单位页）"}


def consolidate(
    subs: Sequence[Submission],
    *,
    year: int | None = None,
    roster: Sequence[RosterEntry] | None = None,
    previous: PreviousData | None = None,
    include_invalid: bool = False,
    include_sha256: Mapping[str, str] | None = None,
) -> CombineResult:
    """Decide per file, build the per-agency table and the district totals (no writing)."""
    fmt, y, year_note, outcomes, rows, roster_rows, missing, notes = decide(
        subs, year=year, roster=roster, include_invalid=include_invalid, include_sha256=include_sha256
    )
    children = [o for o in outcomes if o.sub.child is not None]
    rows = rows + _expand_children(rows, [o for o in children if o.included])
    if not rows:
        raise CombineError(_nothing_message(outcomes, missing))
    keys = list(fmt.cells)
    col = {k: j for j, k in enumerate(keys)}
    data = np.full((len(rows), len(keys)), np.nan)
    raw_text: dict[tuple[int, str], str] = {}
    for i, o in enumerate(rows):
        for k, v in o.value_items():
            j = col.get(k)
            if j is None:
                continue
            if v.state == "number" and v.number is not None:
                data[i, j] = v.number
            elif v.state == "text" and v.raw:
                raw_text[(i, k)] = v.raw
    names = [o.agency for o in rows]
    table = pd.DataFrame(data, index=pd.Index(names, name="单位"), columns=keys, copy=False)  # 200,000 × 200 floats once
    sums = np.nansum(data, axis=0)
    totals = {k: tidy(sums[j]) for k, j in col.items()}
    blank = np.isnan(data)
    unfilled = {k: np.flatnonzero(blank[:, j]).tolist() for k, j in col.items() if blank[:, j].any()}
    findings = validate_totals(fmt, y, totals)
    findings.extend(_unfilled_findings(fmt, unfilled, names))
    prev_rows: dict[int, dict[str, float]] = {}
    prev_paths: list[Path] = []
    if previous is not None:
        by_agency = previous.by_agency
        prev_paths = [Path(p) for p in previous.sources]
        heads = headline_keys(fmt)
        for i, o in enumerate(rows):
            cand = by_agency.get(normalize_name(o.agency))
            if cand is None and o.sub.meta.agency:
                cand = by_agency.get(normalize_name(o.sub.meta.agency))
            if cand:
                prev_rows[i] = {k: cand[k] for k in heads if cand.get(k) is not None}
        pyear = previous.year
        if pyear is not None and pyear != y - 1:
            notes.append(f"上年数据的年度为 {pyear} 年，不是 {y - 1} 年，同比列仅供参考。")
        if len(prev_rows) < len(rows):
            notes.append(f"{len(rows) - len(prev_rows)} 个单位在上年数据中没有找到，同比列的上年数为空。")
    if include_invalid:
        n_inv = sum(1 for o in rows if o.disposition is Disposition.INVALID)
        notes.append(f"按 --include-invalid，{n_inv} 个有错误的文件仍计入了汇总（分单位明细中以橙色标出）。")
    return CombineResult(
        fmt=fmt, year=y, year_note=year_note, outcomes=outcomes, rows=rows, table=table, raw_text=raw_text,
        totals=totals, unfilled=unfilled, district_findings=findings, roster_rows=roster_rows,
        missing=missing, previous=prev_rows, has_previous=previous is not None, has_roster=roster is not None,
        include_invalid=include_invalid, previous_paths=prev_paths, notes=notes,
        children=[o for o in children if o.included],
    )


# a summary of 20,000 agencies read as grids takes about 1 GB in its worker
_SUMMARY_WORKER_MB = 2048


def _judge_summary(data: bytes, path: Path, sha: str) -> ChildSummary:
    """In the worker: read the summary's sheets and judge them there, so only the compact
    judgement crosses back (a province's 分单位明细 as grids is hundreds of MB)."""
    return judge_child(summary_book(path, sha, read_grids(data, list(SUMMARY_SHEETS))))


def child_submission(path: Path) -> Submission:
    """A summary file as a submission: read and judged; unreadable ones say why."""
    try:
        data, sha = guard_summary(path)
        child = run_isolated(_judge_summary, data, path, sha, timeout=600.0, memory_mb=_SUMMARY_WORKER_MB)
    except GuardError as e:
        return Submission(path=path, status=FileStatus.UNREADABLE, error=e.message)
    except IsolatedError as e:
        return Submission(path=path, status=FileStatus.UNREADABLE, error=str(e))
    meta = ReportMeta(agency=child.name, year=child.year, format=child.format)
    status = FileStatus.OK if child.valid else FileStatus.INVALID
    return Submission(path=path, status=status, report=AgencyReport(meta=meta), findings=list(child.findings),
                      sha256=child.sha256, child=child)


def _level(result: CombineResult, level: str | None) -> str:
    if level:
        return level
    if not result.children:
        return "district"
    lowest = max(SL.LEVELS.index(o.sub.child.level) for o in result.children if o.sub.child is not None)
    return SL.level_above(SL.LEVELS[lowest])


def _child_outcome(s: Submission, y: int, fmt: Format, subs: Sequence[Submission]) -> FileOutcome:
    """A lower level's summary: counted through its 分单位明细 when it is valid and of this run."""
    child = s.child
    assert child is not None
    if child.year is not None and child.year != y:
        return FileOutcome(s, Disposition.WRONG_YEAR, False,
                           f"下级汇总表“{child.name}”是 {child.year} 年度的，本次汇总 {y} 年度，不计入。")
    if child.format is not None and child.format != fmt.id:
        return FileOutcome(s, Disposition.WRONG_FORMAT, False,
                           f"下级汇总表“{child.name}”使用 {child.format} 格式，{y} 年度应为 {fmt.id} 格式，不计入。")
    if not child.valid:
        why = next(f.message for f in child.findings if f.severity == Severity.ERROR)
        return FileOutcome(s, Disposition.CHILD_INVALID, False, why, child=child)
    own = {x.sha256 for x in subs if x.child is None and x.sha256}
    shas = [a.sha256 for a in child.agencies if a.sha256]
    if shas and all(h in own for h in shas):
        return FileOutcome(s, Disposition.SUMMARY, False,
                           "这是本工具生成的汇总表，其中每个单位的文件本次都已直接读取，不重复计入。"
                           "请不要把汇总表放在回收文件夹中。")
    return FileOutcome(s, Disposition.CHILD, True,
                       f"下级汇总表，计入其 {len(child.agencies)} 个单位（{child.name}）。", child=child)


def _expand_children(direct: Sequence[FileOutcome], children: Sequence[FileOutcome]) -> list[FileOutcome]:
    """Each valid child's agencies as rows (contiguous per child); an agency already counted
    (same credit code or same file sha256) directly or in an earlier child counts once."""
    seen: dict[str, str] = {}

    def keys(code: str, sha: str | None) -> list[str]:
        return [k for k in (f"c:{norm_code(code)}" if norm_code(code) else "", f"s:{sha}" if sha else "") if k]

    for o in direct:
        for k in keys(o.credit_code, o.sub.sha256):
            seen.setdefault(k, "直接报送")
    out: list[FileOutcome] = []
    for co in children:
        child = co.sub.child
        assert child is not None
        for a in child.agencies:
            unit = child.name + (SL.UNIT_SEP + a.unit if a.unit else "")
            ks = keys(a.credit_code, a.sha256)
            dup = next((seen[k] for k in ks if k in seen), None)
            if dup is not None:
                co.sub.findings.append(make("ROLLUP_DUPLICATE", agency=a.name, unit=unit, counted=dup,
                                            file=str(child.path), sheet=SL.DETAIL_SHEET, row=a.name))
                continue
            for k in ks:
                seen[k] = f"“{unit}”"
            meta = ReportMeta(agency=a.name, credit_code=a.credit_code or None, year=child.year, format=child.format)
            sub = Submission(path=child.path, status=FileStatus.OK, report=AgencyReport(meta=meta),
                             sha256=a.sha256 or None)
            out.append(FileOutcome(sub, Disposition.OK, True, a.note, a.name, unit=unit,
                                   via=(child.sha256, *a.via), from_child=a))
    return out


def _nothing_message(outcomes: Sequence[FileOutcome], missing: Sequence[str]) -> str:
    if not outcomes:
        return "没有可汇总的文件：给出的路径下没有找到 Excel 报表（.xlsx）。"
    counts = Counter(o.disposition.value for o in outcomes)
    parts = "、".join(f"{k} {v} 个" for k, v in counts.items())
    hint = "可用 --include-invalid 把有错误的文件也计入。" if counts.get(Disposition.INVALID.value) else ""
    return f"没有可以计入汇总的文件（共 {len(outcomes)} 个文件：{parts}）。{hint}未生成汇总表。"


def _unfilled_findings(fmt: Format, unfilled: dict[str, list[int]], names: Sequence[str]) -> list[Finding]:
    """One warning per total that was built over blank or "/" cells."""
    lay = layout_for(fmt)
    out = []
    for key, idx in unfilled.items():
        cell = fmt.cells[key]
        sec = cell.table.section
        out.append(make(
            "COMBINE_UNFILLED", "many" if len(idx) > 5 else None,
            count=len(idx),
            names="、".join(names[i] for i in idx[:5]),
            file=DISTRICT_NAME,
            sheet=SUMMARY_TABLE_SHEETS[sec],
            cell=lay.address[key][1],
            table=TABLE_SHEETS[sec][1],
            row=cell.row.label,
            column=cell.column.label,
            key=key,
            actual=len(idx),
        ))
    return out


# --- adapters to check ------------------------------------------------------------------


def submission_from_check(f: CheckedFile) -> Submission:
    """Check's per-file record → Submission."""
    report = f.report
    if report is None and f.result is not None:
        report = f.result.report
    fill_time: datetime | None = None
    if f.fill_time:  # the reader gives docProps' dcterms:modified as ISO text
        try:
            fill_time = datetime.fromisoformat(f.fill_time.strip())
        except ValueError:
            fill_time = None
    return Submission(
        path=Path(f.path),
        status=f.status,
        report=report,
        findings=list(f.findings),
        sha256=f.sha256,
        mtime=f.mtime,
        fill_time=fill_time,
        is_template=f.is_template,
        error=f.error,
        record=f.to_json(),
    )


def combine(
    paths: Iterable[str | Path],
    *,
    year: int | None = None,
    roster: str | Path | Sequence[RosterEntry] | None = None,
    previous: str | Path | Sequence[str | Path] | PreviousData | None = None,
    include_invalid: bool = False,
    out: str | Path | None = None,
    force: bool = False,
    workers: int | None = None,
    progress: bool | Callable[[int, int], None] | None = None,
    district: str | None = None,
    level: str | None = None,
) -> CombineResult:
    """Check the files (``check_paths``), consolidate them and, with ``out``, write the summary.

    Our own summaries among the inputs (recognised by their meta sheet) are lower levels
    (逐级汇总): each is judged (``rules.rollup``) and, when valid, counted through its agencies.
    ``level`` names the output's level (city, province …); by default one above the inputs'.

    ``roster`` and ``previous`` may be paths or already loaded objects. Raises
    ``CombineError`` (Chinese message) when there is nothing to write or the input is wrong.
    """
    t0 = time.perf_counter()
    in_paths = [Path(p) for p in paths]
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        _check_output(out_path, in_paths, force)
    roster_path = None
    entries: Sequence[RosterEntry] | None
    if isinstance(roster, (str, Path)):
        roster_path = Path(roster)
        try:
            entries = read_roster(roster_path)
        except RosterError as e:
            raise CombineError(str(e)) from None
    else:
        entries = roster
    prev: PreviousData | None
    if previous is None or isinstance(previous, PreviousData):
        prev = previous
    else:
        prev_list = [previous] if isinstance(previous, (str, Path)) else list(previous)
        try:
            prev = load_previous(prev_list, workers=workers)
        except PreviousError as e:
            raise CombineError(str(e)) from None
    missing_paths = [str(p) for p in in_paths if not os.path.lexists(p)]
    if missing_paths:
        raise CombineError("找不到以下路径：" + "、".join(missing_paths) + "。请检查文件或文件夹名称。")
    not_read: list[tuple[str, str]] = []
    files = find_workbooks(in_paths, skipped=not_read)
    summary_files = [p for p in files if is_summary_file(p)]  # by their meta sheet: no flag needed
    agency_files = [p for p in files if p not in set(summary_files)]
    subs: list[Submission] = []
    check_timings: dict[str, float] = {}
    skipped: list[str] = []
    if agency_files or not summary_files:
        try:
            run = check_paths(agency_files or in_paths, year=year, roster=entries, previous=prev, workers=workers,
                              progress=progress, on_file=_slim)
        except CheckError as e:
            raise CombineError(str(e)) from None
        subs = [submission_from_check(f) for f in run.files]
        check_timings = dict(run.timings)
        skipped = list(run.skipped)
        not_read += [x for x in run.not_read if x not in not_read]
        del run
    subs += [child_submission(p) for p in summary_files]
    if out_path is not None:
        resolved = {s.path.resolve() for s in subs}
        if out_path.resolve() in resolved:
            raise CombineError(f"输出文件 {out_path} 是本次汇总的输入文件之一，不能覆盖输入。请换一个输出文件名。")
    t1 = time.perf_counter()
    result = consolidate(subs, year=year, roster=entries, previous=prev, include_invalid=include_invalid)
    result.roster_path = roster_path
    result.district = district.strip() if district and district.strip() else None
    result.level = _level(result, level)
    if skipped:
        result.notes.append(f"已跳过 {len(skipped)} 个本工具生成的校验意见副本（未经修改，不是单位报送的文件，不计入汇总）："
                            + "、".join(Path(p).name for p in skipped))
    for p, why in not_read:
        result.notes.append(f"没有读取 {p}：{why}。")
    for o in result.outcomes:  # keep numbers (the table), drop the per-file value maps
        if o.sub.report is not None:
            o.sub.report = AgencyReport.model_construct(meta=o.sub.report.meta, values={}, narrative={}, extras={})
    t2 = time.perf_counter()
    if out_path is not None:
        if progress is True and len(result.rows) >= 500 and sys.stderr.isatty():
            print(f"正在写入汇总表（{len(result.rows)} 个单位）……", file=sys.stderr)
        write_summary(result, out_path, overwrite=force)
        result.output = out_path
    t3 = time.perf_counter()
    result.timings = {"check": t1 - t0, **{f"check.{k}": v for k, v in check_timings.items()},
                      "consolidate": t2 - t1, "write": t3 - t2}
    return result


_EXCLUDED_BEFORE_GROUPING = frozenset(
    {Disposition.WRONG_YEAR, Disposition.WRONG_FORMAT, Disposition.NO_FORMAT, Disposition.UNREADABLE}
)


def _excluded_file_of(entry: RosterEntry, outcomes: Sequence[FileOutcome], shown: set[int]) -> FileOutcome | None:
    """A roster agency with no counted file may still have sent one that was excluded early
    (another year or format, or unreadable): say that on its line instead of 未报送.
    Readable files match by name or credit code; unreadable ones by the name in the file name."""
    name = normalize_name(entry.name)
    code = norm_code(entry.credit_code)
    for o in outcomes:
        if id(o) in shown or o.disposition not in _EXCLUDED_BEFORE_GROUPING:
            continue
        if o.sub.report is not None:
            m = o.sub.meta
            if (m.agency and normalize_name(m.agency) == name) or (code and norm_code(m.credit_code) == code):
                return o
        elif name and name in normalize_name(o.sub.path.stem):
            return o
    return None


_CV_CACHE: dict[tuple[str, int | float | None, str | None], CellValue] = {}


def _shared(v: CellValue) -> CellValue:
    """One shared object per distinct cell value (most are small counts): memory per file
    stays at one dict of references instead of ~200 objects."""
    key = (v.state, v.number, v.raw)
    got = _CV_CACHE.get(key)
    if got is None:
        if len(_CV_CACHE) < 100_000:
            _CV_CACHE[key] = v
        return v
    return got


def _slim(f: CheckedFile) -> None:
    """Called by check_paths per file: keep the numbers and facts combine uses, drop the rest
    (the read facts it decides by, such as the times, stay on ``f`` itself)."""
    f.result = None
    rep = f.report
    if rep is not None:
        f.report = AgencyReport.model_construct(
            meta=rep.meta, values={k: _shared(v) for k, v in rep.values.items()}, narrative={}, extras={})


def _check_output(out: Path, inputs: Sequence[Path], force: bool) -> None:
    if out.suffix.lower() != ".xlsx":
        raise CombineError(f"输出文件 {out} 的扩展名应为 .xlsx。")
    if out.is_dir():
        raise CombineError(f"输出路径 {out} 是一个文件夹，请给出文件名，例如 {out / '全区汇总.xlsx'}。")
    res = out.resolve()
    for p in inputs:
        if p.resolve() == res:
            raise CombineError(f"输出文件 {out} 是本次汇总的输入文件之一，不能覆盖输入。请换一个输出文件名。")
    if out.exists() and not force:
        raise CombineError(f"输出文件 {out} 已存在。如要覆盖，请加 --force；或换一个文件名。")
