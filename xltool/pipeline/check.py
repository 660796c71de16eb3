"""Check returned workbooks: read (reader), validate (rules), compare with the roster, feed back.

``check_paths`` is the one entry point for ``xltool check`` and for ``combine``, so both
read with the same reader and judge with the same rules. Per file it keeps the reader's
``ReadResult`` (for combine), the findings, and the numbers validation used.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from xltool.core.findings import REGISTRY
from xltool.core.model import AgencyReport, CellValue, Finding, PreviousData, Severity
from xltool.core.names import normalize_name
from xltool.core.report import FileReport
from xltool.errors import XltoolError
from xltool.rules.validate import evaluate
from xltool.spec import format_for_year

Status = Literal["ok", "invalid", "unreadable"]
STATUS_ZH: dict[str, str] = {"ok": "通过", "invalid": "有错误", "unreadable": "无法读取"}
FEEDBACK_SUFFIX = "_校验意见"
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
    status: Status
    sha256: str | None
    findings: list[Finding]
    result: Any = None  # reader.ReadResult
    report: AgencyReport | None = None
    error: str | None = None  # Chinese reason when unreadable
    feedback_path: str | None = None

    @property
    def agency(self) -> str | None:
        return self.report.meta.agency if self.report is not None else None

    @property
    def year(self) -> int | None:
        return self.report.meta.year if self.report is not None else None

    @property
    def format(self) -> str | None:
        return self.report.meta.format if self.report is not None else None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR or f.severity == "error")

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    @property
    def mtime(self) -> float | None:
        return getattr(self.result, "mtime", None)

    @property
    def fill_time(self) -> Any:
        return getattr(self.result, "fill_time", None)

    @property
    def is_template(self) -> bool:
        return bool(getattr(self.result, "is_template", False))

    def to_json(self) -> dict[str, Any]:
        """The per-file record of ``--json`` (stable contract)."""
        return {
            "path": self.path,
            "agency": self.agency,
            "year": self.year,
            "format": self.format,
            "status": self.status,
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
    roster: list[Any] | None = None  # roster.RosterEntry
    roster_missing: list[str] = field(default_factory=list)  # roster names without a file
    # roster names without a readable file, but with an unreadable file named after them
    roster_unreadable: dict[str, list[CheckedFile]] = field(default_factory=dict)
    not_on_roster: list[CheckedFile] = field(default_factory=list)
    no_agency: list[CheckedFile] = field(default_factory=list)  # readable files without 单位名称
    duplicates: dict[str, list[CheckedFile]] = field(default_factory=dict)  # name → files
    previous: PreviousData | None = None
    previous_unmatched: list[CheckedFile] = field(default_factory=list)  # no last-year data for the agency
    skipped: list[str] = field(default_factory=list)  # our own feedback copies found among the inputs
    feedback_dir: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "invalid": 0, "unreadable": 0}
        for f in self.files:
            out[f.status] += 1
        return out

    @property
    def exit_code(self) -> int:
        """0 when every file passes (warnings allowed), else 1."""
        return 0 if all(f.status == "ok" for f in self.files) else 1

    def to_json(self) -> dict[str, Any]:
        return {"files": [f.to_json() for f in self.files]}


# --- helpers -----------------------------------------------------------------------------


def _finding(code: str, message: str, **kw: Any) -> Finding:
    return Finding.model_construct(code=code, severity=REGISTRY[code].severity, message=message, **kw)


def effective_report(report: AgencyReport, numbers: dict[str, int | float | None]) -> AgencyReport:
    """A copy of ``report`` whose totals are the numbers validation computed (see CheckedFile)."""
    fmt = report.fmt
    values = dict(report.values)
    changed = False
    for key in fmt.formulas:
        n = numbers.get(key)
        if n is None:
            continue
        v = values.get(key)
        if v is None or v.state != "number" or v.number != n:
            values[key] = CellValue.model_construct(state="number", number=n, raw=None)
            changed = True
    if not changed:
        return report
    return AgencyReport.model_construct(meta=report.meta, values=values, narrative=report.narrative,
                                        extras=report.extras)


def _status(result: Any, findings: list[Finding]) -> Status:
    if getattr(result, "status", "ok") != "ok" or getattr(result, "report", None) is None:
        return "unreadable"
    if any(f.severity is Severity.ERROR or f.severity == "error" for f in findings):
        return "invalid"
    return "ok"


def _progress_callback(progress: Any, n: int) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """progress=True → a tqdm bar on stderr (tty and ≥ PROGRESS_MIN_FILES); a callable is called (done, total)."""
    if callable(progress):
        return (lambda done: progress(done, n)), (lambda: None)
    if progress and n >= PROGRESS_MIN_FILES and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=n, desc="读取并校验", unit="个文件", file=sys.stderr, leave=False)
        state = {"done": 0}

        def step(done: int) -> None:
            bar.update(done - state["done"])
            state["done"] = done

        return step, bar.close
    return None, lambda: None


def _load_roster(roster: Any) -> list[Any] | None:
    if roster is None:
        return None
    if isinstance(roster, (str, Path)):
        from xltool.read.roster import RosterError, read_roster

        try:
            return read_roster(roster)
        except RosterError as e:
            raise CheckError(str(e)) from None
    return list(roster)


def _load_previous(previous: Any, workers: int | None) -> PreviousData | None:
    if previous is None or isinstance(previous, PreviousData):
        return previous
    from xltool.pipeline.previous import PreviousError, load_previous

    paths = [previous] if isinstance(previous, (str, Path)) else list(previous)
    try:
        return load_previous(paths, workers=workers)
    except PreviousError as e:
        raise CheckError(str(e)) from None


def _inputs(paths: Sequence[str | Path], feedback_dir: Path | None) -> tuple[list[Path], list[str]]:
    from xltool.read import find_workbooks

    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise CheckError("找不到以下路径：" + "、".join(missing) + "。请检查文件或文件夹名称。")
    files = find_workbooks([Path(p) for p in paths])
    skipped: list[str] = []
    if feedback_dir is not None:
        fb = feedback_dir.resolve()
        keep = []
        for f in files:
            if f.stem.endswith(FEEDBACK_SUFFIX) and f.resolve().parent == fb:
                skipped.append(str(f))
            else:
                keep.append(f)
        files = keep
    if not files:
        raise CheckError("在给定的路径中没有找到 Excel 工作簿（.xlsx / .xlsm / .xls）。")
    return files, skipped


def _roster_pass(run: CheckRun) -> None:
    """Roster agencies without a file, files of agencies not on it, one agency twice."""
    by_agency: dict[str, list[CheckedFile]] = {}
    for f in run.files:
        if f.status == "unreadable":
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
                f.findings.append(_finding(
                    "DUPLICATE_AGENCY",
                    f"单位“{name}”报送了多个文件（另见：{others}）。请确认以哪一份为准，删除其余文件。",
                    file=f.path,
                ))
    if run.roster is None:
        return
    names = {normalize_name(e.name): e for e in run.roster}
    codes = {e.credit_code.strip().upper(): e for e in run.roster if getattr(e, "credit_code", None)}
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
                f.findings.append(_finding(
                    "NOT_ON_ROSTER",
                    f"单位“{f.agency}”不在报送名单中。请核对单位名称是否与名单一致（全称、无简写）。",
                    file=f.path,
                ))
            continue
        seen.add(normalize_name(entry.name))
    missing = [e.name for e in run.roster if normalize_name(e.name) not in seen]
    unreadable = [f for f in run.files if f.status == "unreadable"]
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
    roster: str | Path | Sequence[Any] | None = None,
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
    from xltool.read import read_many

    t0 = time.perf_counter()
    paths = list(paths)
    fb_dir = Path(feedback_dir) if feedback_dir is not None else None
    files, skipped = _inputs(paths, fb_dir)
    roster_entries = _load_roster(roster)
    prev = _load_previous(previous, workers)
    if prev is not None and year is not None and prev.year is not None and prev.year != year - 1:
        raise CheckError(f"上年数据是 {prev.year} 年度的，而本次校验的是 {year} 年度，应提供 {year - 1} 年度的数据。")
    t1 = time.perf_counter()
    step, close = _progress_callback(progress, len(files))
    expect: dict[str, Any] = {}
    if year is not None:
        expect["expect_year"] = year
        # a district collects one format per year (≤2020 → 2019, ≥2021 → 2021): another
        # format cannot be added into the totals, so it is an error the agency must fix
        expect["expect_format"] = format_for_year(year).id
    run = CheckRun([], year=year, roster=roster_entries, previous=prev, skipped=skipped,
                   feedback_dir=str(fb_dir) if fb_dir is not None else None)
    t_validate = 0.0
    try:
        for i, res in enumerate(read_many(files, workers=workers, **expect), 1):
            tv = time.perf_counter()
            ev = evaluate(res, previous=prev)
            status = _status(res, ev.findings)
            report = getattr(res, "report", None)
            if report is not None and status != "unreadable" and report.meta.format is not None:
                report = effective_report(report, ev.numbers)
            run.files.append(CheckedFile(
                path=str(getattr(res, "path", files[i - 1])),
                status=status,
                sha256=getattr(res, "sha256", None),
                findings=ev.findings,
                result=res,
                report=report,
                error=getattr(res, "error", None),
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
            f for f in run.files if f.status != "unreadable" and f.agency and prev.get(f.agency) is None
        ]
    t3 = time.perf_counter()
    if fb_dir is not None:
        write_feedback_copies(run, fb_dir)
    t4 = time.perf_counter()
    if not keep_results:
        for f in run.files:
            f.result = None
            f.report = None if f.report is None else AgencyReport.model_construct(
                meta=f.report.meta, values={}, narrative={}, extras={})
    run.timings = {"prepare": t1 - t0, "read+validate": t2 - t1, "validate": t_validate,
                   "roster": t3 - t2, "feedback": t4 - t3}
    return run


def write_feedback_copies(run: CheckRun, out_dir: Path) -> list[Path]:
    """A marked-up copy for every readable file with findings (see ``xltool.write.feedback``)."""
    from xltool.write.feedback import write_feedback

    inputs = {Path(f.path).resolve() for f in run.files}
    years = Counter(f.year for f in run.files if f.year is not None)
    year = run.year or (years.most_common(1)[0][0] if years else None)  # for files that state no year
    used: set[str] = set()
    written: list[Path] = []
    for f in run.files:
        if f.status == "unreadable" or not f.findings or f.result is None:
            continue
        target = feedback_target(f.path, out_dir, used)
        if target.resolve() in inputs:
            raise CheckError(f"意见文件 {target} 与输入文件同名，不能覆盖输入。请换一个 --feedback 文件夹。")
        write_feedback(f.result, f.findings, target, year=year)
        f.feedback_path = str(target)
        written.append(target)
    return written
