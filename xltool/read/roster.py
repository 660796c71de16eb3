"""The district's list of reporting agencies (名单), read from CSV or XLSX.

Clerks keep the list in Excel and often save it as CSV, which Excel on Chinese Windows
writes in GBK ("CSV (逗号分隔)") or UTF-8 with a BOM ("CSV UTF-8"), so both are accepted.
Names become file names of the templates, so names that Windows cannot store are rejected
here, before anything is written. ``normalize_name`` is the one rule for matching agency
names across files (roster, templates, returned workbooks, summaries).

>>> normalize_name(" 环翠区　科学技术局（科协） ")
'环翠区科学技术局(科协)'
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from xltool.core.names import RosterEntry, name_problem, normalize_name
from xltool.errors import XltoolError

NAME_HEADER = "单位名称"
CODE_HEADER = "统一社会信用代码"
CONTACT_HEADER = "联系人"
HEADER_SEARCH_ROWS = 10  # the header may sit below a title row or two


class RosterError(XltoolError):
    """The roster cannot be used; the message (Chinese) says what and where."""


def read_roster(path: str | Path) -> list[RosterEntry]:
    """Agencies of a roster file (.csv or .xlsx), in file order; raises RosterError."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise RosterError(f"名单文件“{p.name}”的类型不支持：请使用 .csv 或 .xlsx 文件。")
    if not p.is_file():
        raise RosterError(f"找不到名单文件“{p}”，请检查路径。")
    rows = _csv_rows(p) if suffix == ".csv" else _xlsx_rows(p)
    return _entries(p, rows)


def _csv_rows(p: Path) -> list[list[str]]:
    try:
        data = p.read_bytes()
    except OSError as e:
        raise RosterError(f"无法读取名单文件“{p.name}”：{e.strerror or e}。") from e
    text = None
    for enc in ("utf-8-sig", "gb18030"):  # gb18030 is a superset of GBK/GB2312
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise RosterError(
            f"名单文件“{p.name}”的编码无法识别：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重试。"
        )
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = "\t" if "\t" in first and "," not in first and "，" not in first else ","
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as e:
        raise RosterError(f"名单文件“{p.name}”不是有效的 CSV 文件：{e}。") from e


def _xlsx_rows(p: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise RosterError(
            f"无法打开名单文件“{p.name}”：文件已损坏、已加密或不是 .xlsx 格式（{type(e).__name__}）。"
            "请用 Excel 打开后另存为 .xlsx 再试。"
        ) from e
    try:
        ws = wb.worksheets[0]
        return [[_cell_text(v) for v in row] for row in ws.iter_rows(max_col=50, values_only=True)]
    finally:
        wb.close()


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _entries(p: Path, rows: list[list[str]]) -> list[RosterEntry]:
    if not any(any(c.strip() for c in r) for r in rows):
        raise RosterError(f"名单文件“{p.name}”是空的：请至少填写表头“{NAME_HEADER}”和一个单位。")
    header_at = None
    for i, r in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if NAME_HEADER in [normalize_name(c) for c in r]:
            header_at = i
            break
    if header_at is None:
        raise RosterError(
            f"名单文件“{p.name}”的前 {HEADER_SEARCH_ROWS} 行中没有“{NAME_HEADER}”列：请在表头行写上“{NAME_HEADER}”"
            f"（可选列：“{CODE_HEADER}”“{CONTACT_HEADER}”）。"
        )
    header = [normalize_name(c) for c in rows[header_at]]
    col_name = header.index(NAME_HEADER)
    col_code = header.index(CODE_HEADER) if CODE_HEADER in header else None
    col_contact = header.index(CONTACT_HEADER) if CONTACT_HEADER in header else None

    def get(r: list[str], col: int | None) -> str:
        return r[col].strip() if col is not None and col < len(r) else ""

    entries: list[RosterEntry] = []
    problems: list[str] = []
    for i, r in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not any(c.strip() for c in r):
            continue
        name = get(r, col_name)
        if not name:
            problems.append(f"第 {i} 行有内容但“{NAME_HEADER}”为空")
            continue
        why = name_problem(name)
        if why:
            problems.append(f"第 {i} 行“{name}”{why}")
        code = normalize_name(get(r, col_code)).upper() or None
        contact = get(r, col_contact) or None
        entries.append(RosterEntry(name, code, contact, i))
    seen: dict[str, list[RosterEntry]] = {}
    for e in entries:
        seen.setdefault(normalize_name(e.name), []).append(e)
    for group in seen.values():
        if len(group) > 1:
            where = "、".join(f"第 {e.row} 行" for e in group)
            problems.append(f"单位“{group[0].name}”重复出现：{where}（每个单位只能出现一次）")
    if problems:
        raise RosterError(
            f"名单文件“{p.name}”有问题，请修改后重试：\n" + "\n".join(f"  - {x}" for x in problems)
        )
    if not entries:
        raise RosterError(f"名单文件“{p.name}”中没有任何单位：请在“{NAME_HEADER}”列下逐行填写单位名称。")
    return entries
