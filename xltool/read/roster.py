"""The district's list of reporting agencies (名单), read from CSV, XLSX, XLS or plain text.

Clerks keep the list in Excel (.xlsx, or the old .xls) and often save it as CSV, which Excel
on Chinese Windows writes in GBK ("CSV (逗号分隔)") or UTF-8 with a BOM ("CSV UTF-8"), so
both are accepted; a .txt roster holds one agency name a line (UTF-8, UTF-8 BOM or GBK).
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
from xltool.errors import XltoolError, os_error_message

NAME_HEADER = "单位名称"
CODE_HEADER = "统一社会信用代码"
CONTACT_HEADER = "联系人"
PHONE_HEADERS = ("联系电话", "电话", "手机")
HEADER_SEARCH_ROWS = 10  # the header may sit below a title row or two


class RosterError(XltoolError):
    """The roster cannot be used; the message (Chinese) says what and where."""


SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".txt")
KINDS_TEXT = ".xlsx、.xls、.csv 文件，或每行一个单位名称的 .txt 文件"  # for messages and --help


def read_roster(path: str | Path) -> list[RosterEntry]:
    """Agencies of a roster file (.csv, .xlsx, .xls or .txt), in file order; raises RosterError."""
    p = Path(path)
    suffix = p.suffix.lower()
    if p.is_dir():
        raise RosterError(f"名单“{p}”是一个文件夹，不是文件：请给出名单文件的路径。")
    if suffix not in SUFFIXES:
        raise RosterError(f"名单文件“{p.name}”的类型不支持：请使用 {KINDS_TEXT}。")
    if not p.is_file():
        raise RosterError(f"找不到名单文件“{p}”，请检查路径。")
    if suffix == ".csv":
        rows = _csv_rows(p)
    elif suffix == ".txt":
        return _txt_entries(p)
    elif suffix == ".xls" and not _is_zip(p):
        rows = _xls_rows(p)
    else:  # .xlsx, or an .xlsx saved with the .xls extension
        rows = _xlsx_rows(p)
    return _entries(p, rows)


def _is_zip(p: Path) -> bool:
    try:
        with p.open("rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError as e:
        raise RosterError(f"无法读取名单文件“{p.name}”。{os_error_message(e)}") from e


def _text(p: Path, resave: str) -> str:
    """A text file's content: UTF-8 (with or without BOM) or GBK; ``resave`` says how to fix it."""
    try:
        data = p.read_bytes()
    except OSError as e:
        raise RosterError(f"无法读取名单文件“{p.name}”。{os_error_message(e)}") from e
    for enc in ("utf-8-sig", "gb18030"):  # gb18030 is a superset of GBK/GB2312
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise RosterError(f"名单文件“{p.name}”的编码无法识别：{resave}")


def _csv_rows(p: Path) -> list[list[str]]:
    text = _text(p, "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重试。")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = "\t" if "\t" in first and "," not in first and "，" not in first else ","
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as e:
        raise RosterError(f"名单文件“{p.name}”不是有效的 CSV 文件：{e}。") from e


def _xlsx_rows(p: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        data = p.read_bytes()
    except OSError as e:
        raise RosterError(f"无法读取名单文件“{p.name}”。{os_error_message(e)}") from e
    try:  # from bytes: openpyxl refuses file names that do not end in .xlsx (an .xlsx renamed .xls)
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
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


def _xls_rows(p: Path) -> list[list[str]]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(p), on_demand=True)
    except (OSError, xlrd.XLRDError, ValueError, AssertionError, IndexError, KeyError) as e:
        raise RosterError(
            f"无法打开名单文件“{p.name}”：文件已损坏、已加密或不是 .xls 格式（{type(e).__name__}）。"
            "请用 Excel 打开后另存为 .xlsx 再试。"
        ) from e
    try:
        sh = book.sheet_by_index(0)
        return [[_cell_text(v) for v in sh.row_values(r, 0, min(sh.ncols, 50))] for r in range(sh.nrows)]
    finally:
        book.release_resources()


def _txt_entries(p: Path) -> list[RosterEntry]:
    """One agency name a line; blank lines are skipped, a first line “单位名称” is a header."""
    text = _text(p, "请用记事本打开，“另存为”时编码选 UTF-8 后重试。")
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        raise RosterError(f"名单文件“{p.name}”是空的：请每行写一个单位名称。")
    if NAME_HEADER in [normalize_name(c) for c in first.split("\t")]:  # a table pasted from Excel
        return _entries(p, [ln.split("\t") for ln in lines])
    return _entries(p, [[NAME_HEADER], *([ln.strip()] for ln in lines)], row_offset=-1)


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _entries(p: Path, rows: list[list[str]], row_offset: int = 0) -> list[RosterEntry]:
    """Entries below the header row; ``row_offset`` corrects the reported row numbers
    (line numbers of a .txt roster, which has no header of its own)."""
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
            f"（可选列：“{CODE_HEADER}”“{CONTACT_HEADER}”“{PHONE_HEADERS[0]}”）。"
        )
    header = [normalize_name(c) for c in rows[header_at]]
    col_name = header.index(NAME_HEADER)
    col_code = header.index(CODE_HEADER) if CODE_HEADER in header else None
    col_contact = header.index(CONTACT_HEADER) if CONTACT_HEADER in header else None
    col_phone = next((header.index(h) for h in PHONE_HEADERS if h in header), None)

    def get(r: list[str], col: int | None) -> str:
        return r[col].strip() if col is not None and col < len(r) else ""

    entries: list[RosterEntry] = []
    problems: list[str] = []
    for i, r in enumerate(rows[header_at + 1 :], start=header_at + 2 + row_offset):
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
        entries.append(RosterEntry(name, code, contact, i, phone=get(r, col_phone) or None))
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
