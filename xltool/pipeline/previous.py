"""Last year's numbers per agency, for the cross-year checks (``--previous``).

Two sources are accepted: last year's district summary written by ``combine`` (its
``分单位明细`` sheet holds one row per agency and one column per spec key, see
``xltool.workbook.summary_layout``), or last year's agency workbooks themselves (read with the
reader, totals recomputed as in validation). Only numbers are kept: a blank or "/" of
last year is simply absent, so no cross-year check is made on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from xltool.core.model import FileStatus, PreviousData
from xltool.core.names import normalize_name
from xltool.core.numbers import as_number
from xltool.errors import XltoolError
from xltool.read import GuardError, find_workbooks, guard, read_many
from xltool.read.pool import IsolatedError, run_isolated
from xltool.read.reader import read_grids
from xltool.read.summary import is_summary_file, summary_guard_limits
from xltool.rules.validate import evaluate
from xltool.spec import FORMATS, FormatId
from xltool.workbook import summary_layout as SL
from xltool.workbook.layout import META_SHEET


class PreviousError(XltoolError):
    """Last year's data cannot be used (message in Chinese)."""


def _meta_rows(rows: Sequence[Sequence[object]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in rows:
        if len(r) >= 2 and isinstance(r[0], str) and r[0].strip():
            v = r[1]
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            out[r[0].strip()] = "" if v is None else str(v).strip()
    return out


def _guard_summary(path: Path) -> None:
    """Run the reader's guard with limits sized for a summary; raise PreviousError if unsafe."""
    limits = summary_guard_limits()
    try:
        guard(path, limits)
    except GuardError as e:
        raise PreviousError(f"上年数据文件 {path.name} 无法安全读取：{e.message}") from None


def _summary_meta(path: Path) -> dict[str, str] | None:
    """The summary's meta key/value rows, or None when the file is not a district summary.

    Parsed in a worker (``run_isolated``: the pool's protections), after the guard."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    _guard_summary(path)
    if not is_summary_file(path):
        return None
    try:
        grids = run_isolated(read_grids, str(path), [META_SHEET])
    except IsolatedError:
        return None
    if META_SHEET not in grids:
        return None
    meta = _meta_rows(grids[META_SHEET])
    if meta.get("kind") != SL.SUMMARY_KIND:
        return None
    return meta


def _from_summary(path: Path, meta: dict[str, str]) -> PreviousData:
    fmt_id = meta.get("format")
    if fmt_id not in FORMATS:
        raise PreviousError(f"上年汇总表 {path.name} 的格式信息“{fmt_id}”无法识别。")
    try:
        year = int(meta.get("year", ""))
    except ValueError:
        raise PreviousError(f"上年汇总表 {path.name} 没有有效的年度信息。") from None
    fmt = FORMATS[fmt_id]
    cells = fmt.cells
    try:
        rows = run_isolated(read_grids, str(path), [SL.DETAIL_SHEET]).get(SL.DETAIL_SHEET, [])
    except IsolatedError as e:
        raise PreviousError(f"上年汇总表 {path.name} 无法读取：{e}") from None
    if len(rows) <= SL.DETAIL_KEY_ROW:
        raise PreviousError(f"上年汇总表 {path.name} 的“{SL.DETAIL_SHEET}”工作表是空的。")
    keys = [str(k).strip() if isinstance(k, str) else "" for k in rows[SL.DETAIL_KEY_ROW]]
    if SL.AGENCY_KEY not in keys:
        raise PreviousError(f"上年汇总表 {path.name} 的“{SL.DETAIL_SHEET}”工作表缺少单位名称列。")
    name_col = keys.index(SL.AGENCY_KEY)
    value_cols = [(i, k) for i, k in enumerate(keys) if k in cells]
    data = PreviousData(year, fmt.id, sources=[str(path)])
    for row in rows[SL.DETAIL_FIRST_DATA_ROW:]:
        if name_col >= len(row):
            continue
        name = row[name_col]
        if not isinstance(name, str) or not name.strip() or name.strip() == SL.TOTAL_ROW_LABEL:
            continue
        nums = {k: n for i, k in value_cols if i < len(row) and (n := as_number(row[i])) is not None}
        data.by_agency[normalize_name(name)] = nums
        data.names[normalize_name(name)] = name.strip()
    if not data.by_agency:
        raise PreviousError(f"上年汇总表 {path.name} 中没有单位数据。")
    return data


def _from_agency_files(files: Sequence[Path], workers: int | None) -> PreviousData:
    years: Counter[int] = Counter()
    formats: Counter[FormatId] = Counter()
    by_agency: dict[str, dict[str, int | float]] = {}
    names: dict[str, str] = {}
    unreadable: list[str] = []
    for res in read_many(files, workers=workers):
        if res.status is not FileStatus.OK or res.report is None or not res.report.meta.agency:
            unreadable.append(Path(res.path).name)
            continue
        meta = res.report.meta
        if meta.year is not None:
            years[meta.year] += 1
        if meta.format is not None:
            formats[meta.format] += 1
        ev = evaluate(res)
        k = normalize_name(meta.agency or "")
        by_agency[k] = {key: n for key, n in ev.numbers.items() if n is not None}
        names[k] = meta.agency or ""
    if not by_agency:
        raise PreviousError("上年数据中没有可以读取的单位报表" + (f"（无法使用：{'、'.join(unreadable[:5])}）" if unreadable else "") + "。")
    if len(years) > 1:
        raise PreviousError(
            "上年数据中的报表属于不同年度（" + "、".join(f"{y} 年度 {n} 份" for y, n in sorted(years.items()))
            + "），请只提供上一年度的报表或汇总表。"
        )
    year = next(iter(years)) if years else None
    fmt = formats.most_common(1)[0][0] if formats else None
    return PreviousData(year, fmt, by_agency, names, [str(f) for f in files])


def load_previous(paths: Iterable[str | Path], *, workers: int | None = None) -> PreviousData:
    """Last year's numbers from a district summary or from agency workbooks (files or folders)."""
    given = [Path(p) for p in paths]
    for p in given:
        if not p.exists():
            raise PreviousError(f"找不到上年数据：{p}")
    files = find_workbooks(given)
    if not files:
        raise PreviousError("上年数据路径中没有找到 Excel 工作簿（.xlsx）。")
    summaries = [(f, m) for f in files if (m := _summary_meta(f)) is not None]
    if summaries:
        if len(files) > 1:
            raise PreviousError(
                f"上年数据中既有汇总表 {summaries[0][0].name}，又有其他文件。请只提供上年汇总表，或只提供上年各单位报表。"
            )
        return _from_summary(*summaries[0])
    return _from_agency_files(files, workers)
