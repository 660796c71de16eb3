"""The guard: decide, before any spreadsheet library runs, whether a file is safe to parse.

Why: a 5 KB workbook with cells at A1 and XFD1048576 makes python-calamine abort the
whole process (Rust allocation failure, SIGABRT, uncatchable), a 650 KB zip bomb costs
seconds and a gigabyte, and a zip directory can lie about sizes (excel-engineering-notes,
"Security"). So we check, in order: file size, magic bytes (OLE2 → password or legacy .xls,
decided from the OLE directory; text → CSV/HTML), the zip directory (member count, declared
sizes, per-member ratio), the real decompression of every XML part with its CRC and a cap,
no DTD/entities, and the real cell extent and cell count from the ``r=`` references
(never ``<dimension>``). All messages are Chinese and tell the clerk what to do.

The decompressed XML parts are kept on the result, so the structure scan that follows
does not inflate them a second time.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from xltool.errors import XltoolError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"


@dataclass(frozen=True)
class GuardLimits:
    """Caps applied before parsing; defaults from the measured real files (notes, Guard)."""

    max_file_bytes: int = 5 * 1024 * 1024
    max_members: int = 200
    max_member_bytes: int = 20 * 1024 * 1024
    max_total_bytes: int = 50 * 1024 * 1024
    max_ratio: float = 100.0
    ratio_min_bytes: int = 256 * 1024  # smaller parts cannot hurt, whatever their ratio
    max_cells: int = 200_000
    max_rows: int = 5_000
    max_cols: int = 200


DEFAULT_LIMITS = GuardLimits()


class GuardError(XltoolError):
    """The file is not safe or not a readable workbook; ``message`` is for the clerk."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.sha256 = ""  # of the file, when it could be read


@dataclass
class Guarded:
    """A file that passed the guard, with what the guard already learned about it."""

    path: str
    kind: Literal["xlsx", "xls"]
    data: bytes
    sha256: str
    size: int
    has_macros: bool = False
    parts: dict[str, bytes] = field(default_factory=dict)  # decompressed XML/rels parts (xlsx)
    extents: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # part → rows, cols, cells


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


# --- OLE2 (compound file) --------------------------------------------------------------


def ole_entry_names(data: bytes) -> set[str]:
    """Names of the streams/storages in an OLE2 compound file (empty set if unreadable).

    A tiny reader of the directory chain only: enough to tell an encrypted OOXML package
    (``EncryptionInfo``/``EncryptedPackage``) from a legacy workbook (``Workbook``/``Book``).
    """
    try:
        shift = struct.unpack_from("<H", data, 30)[0]
        if shift not in (9, 12):
            return set()
        ssz = 1 << shift
        n_sectors = max(0, (len(data) - ssz) // ssz) + 1
        dir_start = struct.unpack_from("<i", data, 48)[0]
        difat_next, n_difat = struct.unpack_from("<ii", data, 68)
        fat_sids = [s for s in struct.unpack_from("<109i", data, 76) if s >= 0]
        per = ssz // 4
        seen = 0
        while difat_next >= 0 and seen < n_difat and seen < n_sectors:
            off = (difat_next + 1) * ssz
            vals = struct.unpack_from(f"<{per}i", data, off)
            fat_sids.extend(s for s in vals[:-1] if s >= 0)
            difat_next = vals[-1]
            seen += 1
        fat: list[int] = []
        for sid in fat_sids[: n_sectors + 1]:
            off = (sid + 1) * ssz
            if off + ssz > len(data):
                break
            fat.extend(struct.unpack_from(f"<{per}i", data, off))
        names: set[str] = set()
        sid, steps = dir_start, 0
        while 0 <= sid < len(fat) and steps < n_sectors:
            off = (sid + 1) * ssz
            if off + ssz > len(data):
                break
            for e in range(ssz // 128):
                ent = data[off + e * 128 : off + (e + 1) * 128]
                nlen = struct.unpack_from("<H", ent, 64)[0]
                if ent[66] in (1, 2, 5) and 2 <= nlen <= 64:
                    names.add(ent[: nlen - 2].decode("utf-16-le", "replace"))
            sid = fat[sid]
            steps += 1
        return names
    except (struct.error, IndexError):
        return set()


def _ole_kind(data: bytes, path: str) -> Literal["xls"]:
    names = ole_entry_names(data)
    if not names:  # unreadable directory: fall back to looking for the UTF-16 names
        for n in ("EncryptionInfo", "EncryptedPackage", "Workbook", "Book"):
            if n.encode("utf-16-le") in data:
                names.add(n)
    if {"EncryptionInfo", "EncryptedPackage"} & names:
        raise GuardError("ENCRYPTED", "文件设置了打开密码，请去掉密码后重新报送（在 Excel/WPS 中：文件→信息→保护工作簿→用密码进行加密，清空密码后保存）。")
    if {"Workbook", "Book"} & names:
        return "xls"
    if path.lower().endswith((".et", ".ett")):
        raise GuardError("WPS_ET", "文件是 WPS 表格专用格式（.et），本工具无法读取。请在 WPS 中“另存为”Excel 工作簿（*.xlsx）后重新报送。")
    raise GuardError(
        "OLE_UNKNOWN",
        "文件不是 Excel 工作簿（可能是 WPS 表格 .et、Word .doc 等格式改了扩展名）。请在 WPS/Excel 中“另存为”Excel 工作簿（*.xlsx）后重新报送。",
    )


# --- text files ------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text_kind(data: bytes) -> GuardError:
    head = data[:4096]
    low = head.lower()
    if low.lstrip().startswith((b"<!doctype html", b"<html")) or b"<table" in low or b"<html" in low:
        return GuardError("HTML", "文件是网页（HTML）格式，只是扩展名为 Excel。请用 Excel/WPS 打开后“另存为”Excel 工作簿（*.xlsx），或使用本工具下发的模板填报。")
    if low.lstrip().startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in low:
        return GuardError("XML2003", "文件是 Excel 2003 XML 表格格式，本工具无法读取。请“另存为”Excel 工作簿（*.xlsx）后重新报送。")
    text = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is not None and not _CONTROL.search(text):
        if "," in text or "\t" in text or "，" in text:
            return GuardError("CSV", "文件是 CSV/文本文件，只是扩展名为 Excel，不含表格格式和公式。请使用本工具下发的模板（.xlsx）填报后重新报送。")
        return GuardError("TEXT", "文件是纯文本文件，不是 Excel 工作簿。请使用本工具下发的模板（.xlsx）填报后重新报送。")
    return GuardError("NOT_WORKBOOK", "文件不是 Excel 工作簿（无法识别的文件格式），可能已损坏或改了扩展名。请重新导出或使用原模板填报后重新报送。")


# --- zip (OOXML) -----------------------------------------------------------------------

_CELL_ANY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
# cells with an r= reference: (column letters, row digits, "/" if self-closing)
_CELL_REF = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br="\$?([A-Z]{1,3})\$?([0-9]{1,7})"[^>]*?(/?)>')


def _col_num(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


_FAST_REF = re.compile(rb' r="\$?([A-Z]{1,3})\$?([0-9]{1,7})"')


def sheet_extent(xml: bytes, max_rows: int | None = None, max_cols: int | None = None) -> tuple[int, int, int]:
    """(rows, columns, cells) a reader would have to allocate for this sheet part.

    Counted from the cells themselves: ``<dimension>`` is not trusted. Cells without
    ``r=`` take their position from their row; then an ElementTree pass (safe: no DTD,
    size already capped) is used. Fast path: the extent of every referenced cell, in C
    (``bytes.count`` and one literal-led ``findall``). Only when that exceeds the limits
    is it recomputed without empty self-closing cells (style only: readers do not
    allocate for them), so a legitimate file with formatting far out is not rejected.
    """
    i, j = xml.find(b"sheetData"), xml.rfind(b"sheetData")
    if i < 0 or i == j:
        return 0, 0, 0
    prefixed = xml[i - 1 : i] == b":"
    whole, xml = xml, xml[i:j]  # cells live only inside <sheetData>
    if prefixed:
        n_cells = len(_CELL_ANY.findall(xml))
        refs = [(c, r) for c, r, _closed in _CELL_REF.findall(xml)]
    else:
        n_cells = xml.count(b"<c ") + xml.count(b"<c>") + xml.count(b"<c/")
        refs = _FAST_REF.findall(xml)
    if len(refs) < n_cells:
        return _extent_by_position(whole, n_cells)
    if not refs:
        return 0, 0, n_cells
    rows = max(map(int, {r for _c, r in refs}))
    cols = max(map(_col_num, {c for c, _r in refs}))
    if (max_rows is None or rows <= max_rows) and (max_cols is None or cols <= max_cols):
        return rows, cols, n_cells
    valued = [(c, r) for c, r, closed in _CELL_REF.findall(xml) if not closed]
    if not valued:
        return 0, 0, n_cells
    return max(map(int, {r for _c, r in valued})), max(map(_col_num, {c for c, _r in valued})), n_cells


def _extent_by_position(xml: bytes, n_cells: int) -> tuple[int, int, int]:
    import xml.etree.ElementTree as ET

    max_r = max_c = 0
    row_no = 0
    col_no = 0
    try:
        events = list(ET.iterparse(io.BytesIO(xml), events=("start",)))
    except ET.ParseError as e:
        raise GuardError("CORRUPT", f"工作表内容不是有效的 XML（{e}），文件已损坏。请重新保存后再报送。") from None
    for _ev, el in events:
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "row":
            r = el.get("r")
            row_no = int(r) if r and r.isdigit() else row_no + 1
            col_no = 0
        elif tag == "c":
            ref = el.get("r")
            if ref:
                m = re.match(r"\$?([A-Z]{1,3})\$?([0-9]+)", ref)
                if m:
                    col_no = _col_num(m.group(1).encode())
                    row_no = int(m.group(2))
            else:
                col_no += 1
            max_r = max(max_r, row_no)
            max_c = max(max_c, col_no)
    return max_r, max_c, n_cells


def _zip_guard(g: Guarded, limits: GuardLimits) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(g.data))
    except zipfile.BadZipFile:
        raise GuardError("TRUNCATED", "文件不完整或已损坏（可能在下载、复制或发送过程中中断）。请重新保存后再报送。") from None
    infos = zf.infolist()
    names = {i.filename for i in infos}
    if len(infos) > limits.max_members:
        raise GuardError("TOO_MANY_PARTS", f"文件内部结构异常（包含 {len(infos)} 个部件，超过上限 {limits.max_members}），可能不是正常的 Excel 文件。请用原模板重新填报。")
    if "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            raise GuardError("XLSB", "文件是 Excel 二进制工作簿（.xlsb），本工具无法读取。请“另存为”Excel 工作簿（*.xlsx）后重新报送。")
        if "word/document.xml" in names:
            raise GuardError("NOT_WORKBOOK", "文件是 Word 文档，不是 Excel 工作簿。请使用本工具下发的模板（.xlsx）填报后重新报送。")
        if "mimetype" in names:
            raise GuardError("ODS", "文件是 OpenDocument 表格（.ods）等格式，本工具无法读取。请“另存为”Excel 工作簿（*.xlsx）后重新报送。")
        raise GuardError("NOT_WORKBOOK", "文件是压缩包，但不是 Excel 工作簿。请使用本工具下发的模板（.xlsx）填报后重新报送。")
    total = 0
    for i in infos:
        if i.file_size > limits.max_member_bytes:
            raise GuardError("TOO_LARGE_PART", f"文件内部部件 {i.filename} 解压后达 {_mb(i.file_size)}，超过上限 {_mb(limits.max_member_bytes)}，不像正常的年报表格。请用原模板重新填报。")
        total += i.file_size
        if i.file_size >= limits.ratio_min_bytes and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            ratio = i.file_size / max(i.compress_size, 1)
            raise GuardError("ZIP_BOMB", f"文件内部部件 {i.filename} 的压缩比异常（{ratio:.0f} 倍，上限 {limits.max_ratio:.0f} 倍），疑似“压缩炸弹”，已拒绝读取。请用原模板重新填报。")
    if total > limits.max_total_bytes:
        raise GuardError("TOO_LARGE", f"文件解压后共 {_mb(total)}，超过上限 {_mb(limits.max_total_bytes)}。请删除无关的工作表、图片后重新报送。")
    g.has_macros = any(n.lower().endswith("vbaproject.bin") for n in names)
    for i in infos:
        name = i.filename
        if not name.endswith((".xml", ".rels")):
            continue
        try:
            with zf.open(i) as fh:
                xml = fh.read(limits.max_member_bytes + 1)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as e:
            raise GuardError("CORRUPT", f"文件内部部件 {name} 已损坏（{type(e).__name__}），可能在传输中出错或被篡改。请重新保存后再报送。") from None
        if len(xml) > limits.max_member_bytes:
            raise GuardError("TOO_LARGE_PART", f"文件内部部件 {name} 超过上限 {_mb(limits.max_member_bytes)}。请用原模板重新填报。")
        if xml[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in xml[:64]:
            raise GuardError("XML_ENCODING", f"文件内部部件 {name} 使用了不支持的编码，不像 Excel 保存的文件。请用 Excel/WPS 重新保存后再报送。")
        if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
            raise GuardError("XML_DTD", f"文件内部部件 {name} 含有 DTD/实体声明（Excel 从不写入），疑似恶意构造的文件，已拒绝读取。请用原模板重新填报。")
        g.parts[name] = xml
        if b"sheetData" in xml:
            rows, cols, cells = sheet_extent(xml, limits.max_rows, limits.max_cols)
            g.extents[name] = (rows, cols, cells)
            if cells > limits.max_cells:
                raise GuardError("TOO_MANY_CELLS", f"{_sheet_title(zf, name)}含 {cells} 个单元格，超过上限 {limits.max_cells}，不像正常的年报表格。请删除无关内容后重新报送。")
            if rows > limits.max_rows or cols > limits.max_cols:
                raise GuardError(
                    "EXTENT",
                    f"{_sheet_title(zf, name)}的使用范围异常（{rows} 行 × {cols} 列，上限 {limits.max_rows} 行 × {limits.max_cols} 列），"
                    "可能在很远的单元格里有内容。请删除表格以外的内容后重新报送。",
                )


def _sheet_title(zf: zipfile.ZipFile, part: str) -> str:
    """'工作表“表三”' for a sheet part, for messages (the part name if the workbook says nothing)."""
    from xltool.read.xmlscan import workbook_info

    try:
        parts = {}
        for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
            with zf.open(n) as fh:
                data = fh.read(1 << 20)
            if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
                raise ValueError(n)
            parts[n] = data
        for sh in workbook_info(parts).sheets:
            if sh.part == part:
                return f"工作表“{sh.name}”"
    except Exception:
        pass
    return f"工作表（{part}）"


def guard(path: str | Path, limits: GuardLimits = DEFAULT_LIMITS) -> Guarded:
    """Check one file; return what was learned, or raise ``GuardError`` with a Chinese reason."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limits.max_file_bytes:
            raise GuardError("TOO_LARGE", f"文件大小 {_mb(size)}，超过上限 {_mb(limits.max_file_bytes)}，不像正常的年报表格。请删除无关的工作表、图片后重新报送。")
        with p.open("rb") as fh:
            data = fh.read(limits.max_file_bytes + 1)
    except OSError as e:
        raise GuardError("IO", f"无法打开文件：{e.strerror or e}。请检查文件是否存在、是否被其他程序占用。") from None
    if len(data) > limits.max_file_bytes:
        raise GuardError("TOO_LARGE", f"文件大小超过上限 {_mb(limits.max_file_bytes)}。")
    if not data:
        raise GuardError("EMPTY", "文件是空的（0 字节），可能保存或发送失败。请重新保存后再报送。")
    g = Guarded(str(path), "xlsx", data, hashlib.sha256(data).hexdigest(), len(data))
    try:
        if data.startswith(OLE_MAGIC):
            g.kind = _ole_kind(data, str(path))
            return g
        if data.startswith(EMPTY_ZIP_MAGIC):
            raise GuardError("NOT_WORKBOOK", "文件是空的压缩包，不是 Excel 工作簿。请重新保存后再报送。")
        if not data.startswith(ZIP_MAGIC):
            raise _text_kind(data)
        _zip_guard(g, limits)
    except GuardError as e:
        e.sha256 = g.sha256
        raise
    return g
