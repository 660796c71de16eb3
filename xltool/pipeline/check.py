"""Check returned workbooks: read (reader), validate (rules), compare with the roster, feed back.

``check_paths`` is the one entry point for ``xltool check`` and for ``combine``, so both
read with the same reader and judge with the same rules. Per file it keeps the reader's
``ReadResult`` (for combine), the findings, and the numbers validation used.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xltool.core.findings import PLAUSIBLE_MAX, REGISTRY, ROSTER, make, reworded
from xltool.core.model import (
    AgencyReport,
    CellValue,
    FileStatus,
    Finding,
    FormulaState,
    PreviousData,
    Severity,
)
from xltool.core.names import RosterEntry, normalize_name
from xltool.core.numbers import show
from xltool.core.report import FileReport
from xltool.errors import XltoolError
from xltool.pipeline.previous import PreviousError, load_previous
from xltool.read import ReadResult, find_workbooks, read_many
from xltool.read.roster import RosterError, read_roster
from xltool.rules.narrative import check_result as narrative_result
from xltool.rules.validate import evaluate, implausible
from xltool.rules.yoy import check_result as yoy_result
from xltool.spec import FormatId, format_for_year
from xltool.write.feedback import FEEDBACK_DIGEST, content_digest, copy_totals, write_feedback

STATUS_ZH: dict[FileStatus, str] = {FileStatus.OK: "通过", FileStatus.INVALID: "有错误", FileStatus.UNREADABLE: "无法读取"}
FEEDBACK_SUFFIX = "_校验意见"
EXPIRED_DIR = "已过期"  # where earlier feedback copies that this run no longer needs are moved
PROGRESS_MIN_FILES = 20  # no progress bar for fewer files


class CheckError(XltoolError):
    """The check cannot run (no such path, no workbooks, bad roster/previous); Chinese message."""


@dataclass
class CheckedFile(FileReport):
    """One file's outcome. ``report`` has totals as validation understood them.

    ``result`` is the reader's ``ReadResult`` (values exactly as read, cached totals
    included); ``report`` is the same report with every total whose template formula is
    intact replaced by the total recomputed from the inputs, and missing totals of foreign
    files derived from their parts where possible (both said in the findings). Use
    ``report`` for arithmetic, ``result.report`` to see what the file showed.
    """

    path: str
    status: FileStatus
    sha256: str | None
    findings: list[Finding]
    result: ReadResult | None = None  # dropped (None) once a caller no longer needs it
    report: AgencyReport | None = None
    error: str | None = None  # Chinese reason when unreadable
    feedback_path: str | None = None
    # facts of the read kept when ``result`` is dropped (combine decides by them)
    mtime: float | None = None
    fill_time: str | None = None  # docProps' dcterms:modified, ISO text
    is_template: bool = False

    @property
    def agency(self) -> str | None:
        return self.report.meta.agency if self.report is not None else None

    @property
    def year(self) -> int | None:
        return self.report.meta.year if self.report is not None else None

    @property
    def format(self) -> FormatId | None:
        return self.report.meta.format if self.report is not None else None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR or f.severity == "error")

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    def to_json(self) -> dict[str, Any]:
        """The per-file record of ``--json`` (stable contract)."""
        return {
            "path": self.path,
            "agency": self.agency,
            "year": self.year,
            "format": self.format,
            "status": self.status.value,
            "sha256": self.sha256,
            "issues": [issue_json(f) for f in self.findings],
        }


def issue_json(f: Finding) -> dict[str, Any]:
    sev = f.severity.value if isinstance(f.severity, Severity) else str(f.severity)
    return {
        "severity": sev,
        "code": f.code,
        "sheet": f.sheet,
        "cell": f.cell,
        "row": f.row,
        "column": f.column,
        "expected": f.expected,
        "actual": f.actual,
        "message": f.message,
    }


@dataclass
class CheckRun:
    files: list[CheckedFile]
    year: int | None = None
    roster: list[RosterEntry] | None = None
    roster_missing: list[str] = field(default_factory=list)  # roster names without a file
    # roster names without a readable file, but with an unreadable file named after them
    roster_unreadable: dict[str, list[CheckedFile]] = field(default_factory=dict)
    not_on_roster: list[CheckedFile] = field(default_factory=list)
    no_agency: list[CheckedFile] = field(default_factory=list)  # readable files without 单位名称
    duplicates: dict[str, list[CheckedFile]] = field(default_factory=dict)  # name → files
    previous: PreviousData | None = None
    previous_unmatched: list[CheckedFile] = field(default_factory=list)  # no last-year data for the agency
    skipped: list[str] = field(default_factory=list)  # our own feedback copies (unedited) among the inputs
    expired: list[str] = field(default_factory=list)  # earlier copies moved to EXPIRED_DIR (new paths)
    not_read: list[tuple[str, str]] = field(default_factory=list)  # folders met and not read: (path, reason)
    feedback_failed: list[tuple[str, str]] = field(default_factory=list)  # (input, why) whose copy could not be written
    feedback_dir: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "invalid": 0, "unreadable": 0}
        for f in self.files:
            out[f.status.value] += 1
        return out

    @property
    def exit_code(self) -> int:
        """0 when every file passes (warnings allowed), else 1."""
        return 0 if all(f.status is FileStatus.OK for f in self.files) else 1

    def to_json(self) -> dict[str, Any]:
        return {"files": [f.to_json() for f in self.files]}


# --- helpers -----------------------------------------------------------------------------


def effective_report(report: AgencyReport, numbers: dict[str, int | float | None]) -> AgencyReport:
    """A copy of ``report`` whose totals are the numbers validation computed (see CheckedFile),
    and whose implausible numbers (NUMBER_IMPLAUSIBLE: 1e308, 2e9 …) are kept as text only, so
    no sum, not even with --include-invalid, ever adds them."""
    fmt = report.fmt
    values = dict(report.values)
    changed = False
    for key, v in report.values.items():
        # the common case, a plain number in range, without a call
        if v.state == "number" and (v.number is None or abs(v.number) <= PLAUSIBLE_MAX):
            continue
        if v.state == "number" and implausible(v):
            values[key] = CellValue.model_construct(state="text", number=None, raw=v.raw or show(v.number))
            changed = True
    for key in fmt.formulas:
        n = numbers.get(key)
        if n is None:
            continue
        cur = values.get(key)
        if cur is None or cur.state != "number" or cur.number != n:
            values[key] = CellValue.model_construct(state="number", number=n, raw=None)
            changed = True
    if not changed:
        return report
    return AgencyReport.model_construct(meta=report.meta, values=values, narrative=report.narrative,
                                        extras=report.extras)


def unfilled_finding(result: ReadResult, findings: list[Finding]) -> None:
    """Add UNFILLED (an error) when every input of a readable report is blank or a marker."""
    report = result.report
    if result.status is not FileStatus.OK or report is None or report.meta.format is None:
        return
    if any(report.value(k).state in ("number", "text") for k in report.fmt.input_keys):
        return
    findings.insert(0, make("UNFILLED", file=result.path))


def judge_result(res: ReadResult, previous: PreviousData | None = None) -> tuple[FileStatus, list[Finding], AgencyReport | None]:
    """One reader result judged as ``check_paths`` judges it: (status, findings, effective report)."""
    ev = evaluate(res, previous=previous)
    ev.findings += narrative_result(res, ev.numbers) + yoy_result(res, ev.numbers, previous)
    unfilled_finding(res, ev.findings)
    status = _status(res, ev.findings)
    report = res.report
    if report is not None and status is not FileStatus.UNREADABLE and report.meta.format is not None:
        report = effective_report(report, ev.numbers)
    return status, ev.findings, report


def _status(result: ReadResult, findings: list[Finding]) -> FileStatus:
    if result.status is not FileStatus.OK or result.report is None:
        return FileStatus.UNREADABLE
    if any(f.severity is Severity.ERROR or f.severity == "error" for f in findings):
        return FileStatus.INVALID
    return FileStatus.OK


def _progress_callback(
    progress: bool | Callable[[int, int], None] | None, n: int, desc: str = "读取并校验"
) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """progress=True → a tqdm bar on stderr (tty and ≥ PROGRESS_MIN_FILES); a callable is called (done, total)."""
    if callable(progress):
        call = progress
        return (lambda done: call(done, n)), (lambda: None)
    if progress and n >= PROGRESS_MIN_FILES and sys.stderr.isatty():
        from tqdm import tqdm  # lazy: only a long batch on a terminal shows a bar

        bar = tqdm(total=n, desc=desc, unit="个文件", file=sys.stderr, leave=False)
        state = {"done": 0}

        def step(done: int) -> None:
            bar.update(done - state["done"])
            state["done"] = done

        return step, bar.close
    return None, lambda: None


def _load_roster(roster: str | Path | Sequence[RosterEntry] | None) -> list[RosterEntry] | None:
    if roster is None:
        return None
    if isinstance(roster, (str, Path)):
        try:
            return read_roster(roster)
        except RosterError as e:
            raise CheckError(str(e)) from None
    return list(roster)


def _load_previous(
    previous: str | Path | Sequence[str | Path] | PreviousData | None, workers: int | None
) -> PreviousData | None:
    if previous is None or isinstance(previous, PreviousData):
        return previous
    paths = [previous] if isinstance(previous, (str, Path)) else list(previous)
    try:
        return load_previous(paths, workers=workers)
    except PreviousError as e:
        raise CheckError(str(e)) from None


def _inputs(paths: Sequence[str | Path], not_read: list[tuple[str, str]] | None = None) -> list[Path]:
    """Every workbook under ``paths``; our own feedback copies are told apart once read
    (``is_feedback_copy``: by their meta sheet, not by their names). Folders that cannot be
    read are added to ``not_read`` with the reason (nothing is skipped silently)."""
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise CheckError("找不到以下路径：" + "、".join(missing) + "。请检查文件或文件夹名称。")
    files = find_workbooks([Path(p) for p in paths], skipped=not_read)
    if not files:
        raise CheckError("在给定的路径中没有找到 Excel 工作簿（.xlsx / .xlsm / .xls）。")
    return files


def is_feedback_copy(res: ReadResult) -> bool:
    """A feedback copy we wrote and nobody has edited since: its meta sheet's digest equals the
    digest of what was read. (A copy the agency corrected and sent back is its return.)"""
    digest = res.meta_fields.get(FEEDBACK_DIGEST)
    return (bool(digest) and res.status is FileStatus.OK and res.report is not None
            and res.report.meta.format is not None and content_digest(res.report) == digest)


def _roster_pass(run: CheckRun) -> None:
    """Roster agencies without a file, files of agencies not on it, one agency twice."""
    by_agency: dict[str, list[CheckedFile]] = {}
    for f in run.files:
        if f.status is FileStatus.UNREADABLE:
            continue
        if not f.agency:
            run.no_agency.append(f)
            continue
        by_agency.setdefault(normalize_name(f.agency), []).append(f)
    for files in by_agency.values():
        if len(files) > 1:
            name = files[0].agency or ""
            run.duplicates[name] = files
            for f in files:
                others = "、".join(Path(o.path).name for o in files if o is not f)
                f.findings.append(make("DUPLICATE_AGENCY", agency=name, others=others, file=f.path))
    if run.roster is None:
        return
    names = {normalize_name(e.name): e for e in run.roster}
    codes = {e.credit_code.strip().upper(): e for e in run.roster if e.credit_code}
    seen: set[str] = set()
    for key, files in by_agency.items():
        entry = names.get(key)
        if entry is None:
            for f in files:
                cc = (f.report.meta.credit_code or "").strip().upper() if f.report is not None else ""
                if cc and cc in codes:
                    entry = codes[cc]
                    break
        if entry is None:
            for f in files:
                run.not_on_roster.append(f)
                f.findings.append(make("NOT_ON_ROSTER", agency=f.agency, file=f.path))
            continue
        seen.add(normalize_name(entry.name))
    missing = [e.name for e in run.roster if normalize_name(e.name) not in seen]
    unreadable = [f for f in run.files if f.status is FileStatus.UNREADABLE]
    for name in missing:
        hits = [f for f in unreadable if normalize_name(name) in normalize_name(Path(f.path).stem)]
        if hits:
            run.roster_unreadable[name] = hits
    run.roster_missing = [n for n in missing if n not in run.roster_unreadable]


def feedback_target(path: str | Path, out_dir: Path, used: set[str]) -> Path:
    """``<stem>_校验意见.xlsx`` in ``out_dir``; a numeric suffix when two inputs share a stem."""
    stem = Path(path).stem + FEEDBACK_SUFFIX
    name = stem + ".xlsx"
    i = 2
    while name in used:
        name = f"{stem}_{i}.xlsx"
        i += 1
    used.add(name)
    return out_dir / name


# --- the entry point ---------------------------------------------------------------------


def check_paths(
    paths: Iterable[str | Path],
    *,
    year: int | None = None,
    roster: str | Path | Sequence[RosterEntry] | None = None,
    previous: str | Path | Sequence[str | Path] | PreviousData | None = None,
    feedback_dir: str | Path | None = None,
    workers: int | None = None,
    progress: bool | Callable[[int, int], None] | None = None,
    keep_results: bool = True,
    on_file: Callable[[CheckedFile], None] | None = None,
) -> CheckRun:
    """Read, validate and (optionally) write feedback copies for every workbook under ``paths``.

    ``roster``/``previous`` may be paths or loaded objects. ``keep_results=False`` drops the
    reader results and reports after validation. ``on_file(f)`` is called for each file as
    soon as it is validated, so a caller (combine) can shrink what is kept per file while
    the batch goes on: memory then grows with what the caller keeps, not with the files.
    Raises ``CheckError`` (Chinese) for input problems; bad files never raise.
    """
    t0 = time.perf_counter()
    paths = list(paths)
    fb_dir = Path(feedback_dir) if feedback_dir is not None else None
    not_read: list[tuple[str, str]] = []
    files = _inputs(paths, not_read)
    roster_entries = _load_roster(roster)
    prev = _load_previous(previous, workers)
    if prev is not None and year is not None and prev.year is not None and prev.year != year - 1:
        raise CheckError(f"上年数据是 {prev.year} 年度的，而本次校验的是 {year} 年度，应提供 {year - 1} 年度的数据。")
    t1 = time.perf_counter()
    step, close = _progress_callback(progress, len(files))
    # a district collects one format per year (≤2020 → 2019, ≥2021 → 2021): another
    # format cannot be added into the totals, so it is an error the agency must fix
    expect_format = format_for_year(year).id if year is not None else None
    run = CheckRun([], year=year, roster=roster_entries, previous=prev,
                   feedback_dir=str(fb_dir) if fb_dir is not None else None, not_read=not_read)
    t_validate = 0.0
    try:
        for i, res in enumerate(read_many(files, workers=workers, expect_year=year,
                                                expect_format=expect_format), 1):
            tv = time.perf_counter()
            if is_feedback_copy(res):  # ours, unedited: not a return (said in the listing)
                run.skipped.append(res.path)
                if step is not None:
                    step(i)
                continue
            status, findings, report = judge_result(res, prev)  # the one judging, shared with the workspace
            run.files.append(CheckedFile(
                path=res.path,
                status=status,
                sha256=res.sha256,
                findings=findings,
                result=res,
                report=report,
                error=res.error,
                mtime=res.mtime,
                fill_time=res.fill_time,
                is_template=res.is_template,
            ))
            if on_file is not None:
                on_file(run.files[-1])
            t_validate += time.perf_counter() - tv
            if step is not None:
                step(i)
    finally:
        close()
    t2 = time.perf_counter()
    _roster_pass(run)
    if prev is not None:
        run.previous_unmatched = [
            f for f in run.files if f.status is not FileStatus.UNREADABLE and f.agency and prev.get(f.agency) is None
        ]
    t3 = time.perf_counter()
    if fb_dir is not None:
        write_feedback_copies(run, fb_dir, progress=progress)
    t4 = time.perf_counter()
    if not keep_results:
        for f in run.files:
            f.result = None
            f.report = None if f.report is None else AgencyReport.model_construct(
                meta=f.report.meta, values={}, narrative={}, extras={})
    run.timings = {"prepare": t1 - t0, "read+validate": t2 - t1, "validate": t_validate,
                   "roster": t3 - t2, "feedback": t4 - t3}
    return run


def _restored_message(state: FormulaState | None, v: CellValue | None, now: float, is_template: bool) -> str:
    typed = (show(v.number) if v is not None and v.state == "number" and v.raw is None
             else f"“{v.raw}”" if v is not None and v.raw else None)
    tail = f"当前为 {show(now)}，请核对各分项。合计由公式按各分项自动计算，请勿手工填写。"
    if state is FormulaState.ERROR:
        return f"原文件中此合计显示错误值{typed or ''}；本副本中此合计{tail}"
    if state is FormulaState.CHANGED:
        return f"被改动的合计公式（原结果 {typed or '（空）'}）已恢复为原公式，{tail}"
    if typed is None:
        return f"总计未填写；本副本中此格是公式，{tail}"
    return f"你填写的 {typed} 已{'恢复' if is_template else '改'}为公式，{tail}"


def feedback_findings(
    res: ReadResult | None, findings: Sequence[Finding], previous: PreviousData | None = None
) -> tuple[list[Finding], int]:
    """What the feedback copy of a read file lists, judged on the copy as it stands; and how
    many totals it restores. ``findings``: the file's own (``CheckedFile.findings``).

    The copy holds the agency's inputs under the template's formulas, so a total typed over
    (or, in a foreign file, typed at all) shows the sum of its parts there: the copy is judged
    again on those totals (a relation broken only by the typed number no longer is; one still
    broken quotes the copy's numbers), and each total whose shown value changed says so:
    你填写的 20 已恢复为公式，当前为 19，请核对各分项。Reader findings about the returned file
    (protection, sheets …) and the roster's findings are kept; ``findings`` (what check
    reports about the returned file) are left as they are.
    """
    report = res.report if res is not None else None
    if res is None or report is None or report.meta.format is None:
        return list(findings), 0
    fmt = report.fmt
    shown = copy_totals(report)
    values = dict(report.values)
    for k, n in shown.items():
        values[k] = CellValue.model_construct(state="number", number=n, raw=None)
    copy_report = AgencyReport.model_construct(meta=report.meta, values=values, narrative=report.narrative,
                                               extras=report.extras)
    reader: list[Finding] = []
    for x in res.findings:
        if x.code in ("FORMULA_REPLACED", "FORMULA_CHANGED"):
            if x.key in fmt.formulas:
                continue  # said below, per total, with the numbers of the copy
            x = reworded(x, x.message + "本副本中已恢复为原公式。")
        reader.append(x)
    copy_res = dataclasses.replace(res, report=copy_report, findings=reader,
                                   formula_state={k: FormulaState.OK for k in shown})
    _, found, _ = judge_result(copy_res, previous)
    by_key: dict[str, list[Finding]] = {}
    for x in findings:
        if x.key:
            by_key.setdefault(x.key, []).append(x)
    first = ("TOTAL_OVERWRITTEN", "FORMULA_CHANGED", "FORMULA_ERROR", "TOTAL_MISSING")
    notes: list[Finding] = []
    for k, now in shown.items():
        state = res.formula_state.get(k)
        v = report.values.get(k)
        said = sorted(by_key.get(k, []), key=lambda x: x.code not in first)
        if not said:
            continue
        if state in (FormulaState.OK, FormulaState.NO_CACHE):
            continue  # the formula was there: the copy shows what the file should have shown
        if state is None:  # a foreign file's typed total
            if v is not None and v.state == "number" and v.raw is None and v.number == now:
                continue
        where = said[0].message.split("：", 1)[0] + "：" if "：" in said[0].message else ""  # 表三!J29 行·列：
        notes.append(reworded(said[0], where + _restored_message(state, v, now, res.is_template),
                              expected="公式", actual=f"公式，当前为 {show(now)}"))
    kept = [x for x in findings if x.code in REGISTRY and REGISTRY[x.code].source == ROSTER]
    return notes + found + kept, len(notes)


def _our_copies(out_dir: Path, run: CheckRun) -> tuple[list[Path], set[str]]:
    """Feedback copies we wrote earlier lying in ``out_dir`` (unedited, by their meta sheet),
    and the names of every other file there (never touched: no copy is written over them)."""
    if not out_dir.is_dir():
        return [], set()
    here = sorted(p for p in out_dir.iterdir() if p.is_file() and p.suffix.lower() in (".xlsx", ".xlsm"))
    known = {Path(p).resolve() for p in run.skipped}
    inputs = {Path(f.path).resolve() for f in run.files}
    ours = [p for p in here if p.resolve() in known]
    unknown = [p for p in here if p.resolve() not in known and p.resolve() not in inputs]
    if unknown:
        ours += [Path(r.path) for r in read_many(unknown) if is_feedback_copy(r)]
    mine = {p.resolve() for p in ours}
    return ours, {p.name for p in here if p.resolve() not in mine}


def _move_aside(p: Path, out_dir: Path) -> Path:
    dest_dir = out_dir / EXPIRED_DIR
    dest_dir.mkdir(exist_ok=True)
    dest = dest_dir / p.name
    i = 2
    while dest.exists():
        dest = dest_dir / f"{p.stem}_{i}{p.suffix}"
        i += 1
    shutil.move(str(p), str(dest))
    return dest


def write_feedback_copies(
    run: CheckRun, out_dir: Path, *, progress: bool | Callable[[int, int], None] | None = None
) -> list[Path]:
    """A marked-up copy for every readable file with findings (see ``xltool.write.feedback``).

    The folder then holds this run's copies: copies we wrote earlier that this run does not
    write again (their files now pass, or are gone) are moved to ``EXPIRED_DIR``; other
    files are never touched, and a copy is never written over one of them.
    """
    inputs = {Path(f.path).resolve() for f in run.files}
    years = Counter(f.year for f in run.files if f.year is not None)
    year = run.year or (years.most_common(1)[0][0] if years else None)  # for files that state no year
    earlier, used = _our_copies(out_dir, run)
    todo = [f for f in run.files if f.status is not FileStatus.UNREADABLE and f.findings and f.result is not None]
    step, close = _progress_callback(progress, len(todo), "生成校验意见")
    written: list[Path] = []
    try:
        for i, f in enumerate(todo, 1):
            assert f.result is not None  # todo keeps files with a result
            target = feedback_target(f.path, out_dir, used)
            if target.resolve() in inputs:
                raise CheckError(f"意见文件 {target} 与输入文件同名，不能覆盖输入。请换一个 --feedback 文件夹。")
            listed, restored = feedback_findings(f.result, f.findings, run.previous)
            try:
                write_feedback(f.result, listed, target, year=year, restored=restored)
            except (ValueError, TypeError) as e:  # content the writer refuses: this file's copy only, never the batch
                run.feedback_failed.append((f.path, f"{type(e).__name__}: {str(e)[:160]}"))
                continue
            f.feedback_path = str(target)
            written.append(target)
            if step is not None:
                step(i)
    finally:
        close()
    now = {p.resolve() for p in written}
    run.expired = [str(_move_aside(p, out_dir)) for p in earlier if p.resolve() not in now and p.exists()]
    return written
