"""The guard: decide, before any spreadsheet library runs, whether a file is safe to parse.

Why: a 5 KB workbook with cells at A1 and XFD1048576 makes python-calamine abort the
whole process (Rust allocation failure, SIGABRT, uncatchable), a 650 KB zip bomb costs
seconds and a gigabyte, and a zip directory can lie about sizes (excel-engineering-notes,
"Security"). So we check, in order: file size, magic bytes (OLE2 → password or legacy .xls,
decided from the OLE directory; text → CSV/HTML), the zip directory (member count, declared
sizes, per-member ratio, duplicate names, ``[Content_Types].xml``), the real decompression of
*every* member with its CRC and a cap (a reader follows the relationships, so a worksheet may
be named ``sheet1.bin``: XML is recognised by its content too), what Excel refuses in XML (a
declared encoding other than UTF-8, invalid UTF-8, raw control characters, invalid character
references), no DTD/entities, a bounded shared-string count (python-calamine reserves it), and
the real cell extent and cell count (``sheet_extent``: any XML whitespace, any attribute order,
never ``<dimension>``). Every exception of zipfile, zlib or the XML checks becomes a FILE_*
reason (``GuardError``), never a traceback. All messages are Chinese and tell the clerk what to do.

The decompressed XML parts are kept on the result, so the structure scan that follows
does not inflate them a second time.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import struct
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from xltool.errors import XltoolError
from xltool.read.xmlscan import workbook_info

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


def _col_num(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


# A cell start tag in the usual serialisation (Excel, WPS, LibreOffice, XlsxWriter, openpyxl):
# "<c", one space, r first with a canonical A1 value
_CANON_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
# an "r" attribute with whitespace before "=" (legal XML, never the usual serialisation)
_R_SPACED = re.compile(rb"r[ \t\r\n]+=")
_REF_ANY = re.compile(r"\$?([A-Za-z]+)\$?([0-9]+)$")


def sheet_extent(xml: bytes, max_rows: int | None = None, max_cols: int | None = None) -> tuple[int, int, int]:
    """(rows, columns, cells) a reader would have to allocate for this sheet part.

    Counted from the cells themselves: ``<dimension>`` is not trusted. Fast path, all in C:
    every unprefixed start tag beginning ``<c`` is counted (a cell, whatever whitespace follows;
    inside sheetData nothing else begins so), and so is every ``r=`` in the part (whitespace
    before ``=`` included). The extent comes from the cells written the usual way
    (``<c r="A1"``, ``_CANON_CELL``: text cannot hold ``<``, so each match is a real tag) only
    when every cell start is such a match and there is no other ``r=`` than theirs and the
    rows' (no second ``r`` in a cell: python-calamine takes the last one; no prefixed or
    spaced ``r``). Anything else (prefixes, LF/tab before ``r``, ``r`` not first, lower case,
    single quotes, cells without ``r``, such text in a cell) takes a real XML parse that places
    every cell as python-calamine does, as does an extent beyond the limits (it is then
    recomputed without empty cells: readers do not allocate for them, so a legitimate file
    with formatting far out is not rejected).
    """
    i, j = xml.find(b"sheetData"), xml.rfind(b"sheetData")
    if i < 0 or i == j:
        return 0, 0, 0
    # cells live only inside <sheetData> (bounds instead of a copy)
    if xml.find(b":c", i, j) >= 0:  # a namespace prefix somewhere: count every prefixed start too
        return _extent_by_parse(xml, len(_CELL_ANY.findall(xml, i, j)))
    n_cells = xml.count(b"<c", i, j)
    n_refs, n_rows, n_cols = _canon_extent(xml, i, j)
    if (n_refs != n_cells or xml.count(b"r=", i, j) != n_cells + xml.count(b'<row r="', i, j)
            or _R_SPACED.search(xml, i, j) is not None):
        return _extent_by_parse(xml, n_cells)
    if not n_refs:
        return 0, 0, n_cells
    if (max_rows is None or n_rows <= max_rows) and (max_cols is None or n_cols <= max_cols):
        return n_rows, n_cols, n_cells
    return _extent_by_parse(xml, n_cells)


# the canonical refs are collected this many bytes at a time: a summary's sheet of 1.4 million
# cells as one list of matches would take 350 MB for a moment
_EXTENT_CHUNK = 4 << 20


def _canon_extent(xml: bytes, i: int, j: int) -> tuple[int, int, int]:
    """(matches of ``_CANON_CELL``, largest row, largest column) between ``i`` and ``j``, taken
    chunk by chunk, each chunk ending where a ``<row`` tag starts (no cell tag spans one)."""
    n = max_r = max_c = 0
    pos = i
    while pos < j:
        end = xml.find(b"<row", min(pos + _EXTENT_CHUNK, j), j) if pos + _EXTENT_CHUNK < j else j
        if end < 0:
            end = j
        refs = _CANON_CELL.findall(xml, pos, end)
        if refs:
            cols, rows = zip(*refs, strict=True)  # every ref is a (column, row) pair
            n += len(refs)
            max_r = max(max_r, max(map(int, set(rows))))
            max_c = max(max_c, max(map(_col_num, set(cols))))
        pos = end
    return n, max_r, max_c


def _ref_position(ref: str) -> tuple[int, int] | None:
    """(row, column), 1-based, of an A1 reference written any way python-calamine accepts it
    (lower case, any number of letters and digits); ``$`` is tolerated. None if not one."""
    m = _REF_ANY.match(ref.strip())
    if m is None:
        return None
    return int(m.group(2)), _col_num(m.group(1).upper().encode())


def _extent_by_parse(xml: bytes, n_cells: int) -> tuple[int, int, int]:
    """The extent from a real (expat) parse: every ``c`` element inside ``sheetData``, whatever its
    prefix, placed by its ``r`` (the last one, as python-calamine) or, without one, by its row and
    the cells before it. Cells with no child element (no value) do not count. Not well-formed
    XML is refused: Excel does not open it either."""
    import xml.parsers.expat as expat

    st: dict[str, int] = {"in_sd": 0, "row": 0, "col": 0, "max_r": 0, "max_c": 0, "in_cell": 0, "children": 0}
    cell: list[int] = [0, 0]  # the open cell's row and column (a prefixed "x:r" counts too)

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rsplit(":", 1)[-1]
        if tag == "sheetData":
            st["in_sd"] += 1
        elif not st["in_sd"]:
            return
        elif st["in_cell"]:
            st["children"] += 1
        elif tag == "row":
            r = attrs.get("r", "").strip()
            st["row"] = int(r) if r.isdigit() else st["row"] + 1
            st["col"] = 0
        elif tag == "c":
            pos = _ref_position(attrs["r"]) if "r" in attrs else None
            row, col = pos if pos is not None else (max(st["row"], 1), st["col"] + 1)
            st["col"] = col
            for k, v in attrs.items():  # python-calamine ignores a prefixed r; we count it anyway
                if k.endswith(":r") and (other := _ref_position(v)) is not None:
                    row, col = max(row, other[0]), max(col, other[1])
            cell[0], cell[1] = row, col
            st["in_cell"], st["children"] = 1, 0

    def end(name: str) -> None:
        tag = name.rsplit(":", 1)[-1]
        if tag == "sheetData":
            st["in_sd"] = max(0, st["in_sd"] - 1)
        elif st["in_cell"] and tag == "c":
            if st["children"]:  # a cell with a value (or formula): a reader allocates up to it
                st["max_r"], st["max_c"] = max(st["max_r"], cell[0]), max(st["max_c"], cell[1])
            st["in_cell"] = 0

    p = expat.ParserCreate()
    p.StartElementHandler = start
    p.EndElementHandler = end
    try:
        p.Parse(xml, True)
    except expat.ExpatError as e:
        raise GuardError("XML_MALFORMED", f"工作表内容不是有效的 XML（{expat.ErrorString(e.code)}，第 {e.lineno} 行），"
                         "Excel 也无法打开，文件已损坏。请重新保存后再报送。") from None
    return st["max_r"], st["max_c"], n_cells


_CORRUPT_MSG = "文件内部部件{where}已损坏（{why}），可能在传输中出错或被篡改。请重新保存后再报送。"
_TRUNCATED_MSG = "文件不完整或已损坏（可能在下载、复制或发送过程中中断）。请重新保存后再报送。"


def _zip_guard(g: Guarded, limits: GuardLimits) -> None:
    """The zip checks; every exception of zipfile, zlib, struct or the XML checks becomes a GuardError."""
    try:
        _zip_checks(g, limits)
    except (GuardError, MemoryError):
        raise
    except Exception as e:  # zipfile.BadZipFile, zlib.error, ValueError (negative seek), struct.error, EOFError …
        raise GuardError("CORRUPT", _CORRUPT_MSG.format(where="", why=type(e).__name__)) from None


# bytes that XML 1.0 forbids anywhere (raw; as character references they are checked separately)
_XML_FORBIDDEN = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_XML_DECL = re.compile(rb"<\?xml[\s?]")
_XML_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_DTD = re.compile(rb"<!(?i:doctype|entity)")
_CHAR_REF = re.compile(rb"&#(?:x([0-9A-Fa-f]+)|([0-9]+));")
_UNIQUE_COUNT = re.compile(rb"""uniqueCount\s*=\s*["']\s*\+?([0-9]+)""")


def _is_xml_char(cp: int) -> bool:
    return cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF


def _xml_like(name: str, data: bytes) -> bool:
    """Would a reader parse this member as XML? By its name, or by its first bytes (a worksheet
    may be named ``sheet1.bin`` and still be read through the workbook's relationships)."""
    if name.lower().endswith((".xml", ".rels", ".vml")):
        return True
    head = data[:512]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<"):  # UTF-16/32 text
        return True
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    return head[:1] == b"<" and b"\x00" not in head


def _check_xml(name: str, xml: bytes) -> None:
    """What Excel refuses in an XML part, and what no real file contains (raises GuardError).

    A sheet's part after its cells (merges, data validations with their Chinese prompts,
    protection) is most of it and the same in every agency's file: checked once per process."""
    if xml[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in xml[:64]:
        raise GuardError("XML_ENCODING", f"文件内部部件 {name} 使用了不支持的编码，不像 Excel 保存的文件。请用 Excel/WPS 重新保存后再报送。")
    body = xml.removeprefix(b"\xef\xbb\xbf")
    if body.startswith(b"<?xml"):
        end = body.find(b"?>", 0, 1024)
        m = _XML_ENCODING.search(body, 0, end if end > 0 else 1024)
        if m is not None and m.group(1).strip().lower() not in (b"utf-8", b"utf8"):
            enc = m.group(1).decode("ascii", "replace")[:40]
            raise GuardError("XML_ENCODING", f"文件内部部件 {name} 声明的编码为“{enc}”，与实际内容（UTF-8）不符，"
                             "Excel 无法打开。请用 Excel/WPS 重新保存后再报送。")
    elif (m := _XML_DECL.search(body, 0, 512)) is not None:
        raise GuardError("XML_MALFORMED", f"文件内部部件 {name} 的 XML 声明不在开头，不是有效的 XML，Excel 无法打开。请重新保存后再报送。")
    # split where the last "sheetData" begins: an ASCII letter, so no character, character
    # reference or declaration spans the cut, and each side is checked as text on its own
    cut = xml.rfind(b"sheetData")
    if cut < 0 or len(xml) - cut < _TAIL_CACHE_MIN:
        _check_text(name, xml)
        return
    _check_text(name, xml[:cut])
    tail = xml[cut:]
    if tail in _TAILS:
        _TAILS.move_to_end(tail)
        return
    _check_text(name, tail)
    if len(tail) <= _MEMBER_CACHE_BYTES:
        _TAILS[tail] = None
        if len(_TAILS) > _MEMBER_CACHE_SIZE:
            _TAILS.popitem(last=False)


_TAILS: OrderedDict[bytes, None] = OrderedDict()  # sheet-part tails that passed _check_text
_TAIL_CACHE_MIN = 4096


def forget_checked() -> None:
    """Empty the caches of checked members and tails (a test compares a cold guard with a warm one)."""
    _MEMBERS.clear()
    _TAILS.clear()


def _check_text(name: str, xml: bytes) -> None:
    """The characters of (a piece of) an XML part: raw control characters, UTF-8, U+FFFE/U+FFFF,
    character references, DTDs."""
    if len(xml.translate(None, _XML_FORBIDDEN)) != len(xml):
        bad = next(b for b in xml if b in _XML_FORBIDDEN)
        raise GuardError("XML_MALFORMED", f"文件内部部件 {name} 含有 XML 不允许的控制字符（0x{bad:02X}），"
                         "Excel 无法打开，文件已损坏。请重新保存后再报送。")
    if not xml.isascii():  # ASCII is valid UTF-8 and holds no U+FFFE/U+FFFF
        try:
            text = xml.decode("utf-8")
        except UnicodeDecodeError:
            raise GuardError("XML_ENCODING", f"文件内部部件 {name} 不是有效的 UTF-8 编码，Excel 无法打开。请用 Excel/WPS 重新保存后再报送。") from None
        if "\ufffe" in text or "\uffff" in text:  # not XML characters
            raise GuardError("XML_MALFORMED", f"文件内部部件 {name} 含有 XML 不允许的字符（U+FFFE/U+FFFF），Excel 无法打开。请重新保存后再报送。")
        del text
    if b"&#" in xml:
        for hexa, dec in set(_CHAR_REF.findall(xml)):  # a prompt's line breaks: hundreds of one reference
            cp = int(hexa, 16) if hexa else int(dec)
            if not _is_xml_char(cp):
                raise GuardError("XML_MALFORMED", f"文件内部部件 {name} 含有 XML 不允许的字符引用（U+{cp:04X}），"
                                 "Excel 无法打开，文件已损坏。请重新保存后再报送。")
    if _DTD.search(xml):
        raise GuardError("XML_DTD", f"文件内部部件 {name} 含有 DTD/实体声明（Excel 从不写入），疑似恶意构造的文件，已拒绝读取。请用原模板重新填报。")


def _zip_checks(g: Guarded, limits: GuardLimits) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(g.data))
        infos = zf.infolist()
    except (MemoryError, GuardError):
        raise
    except Exception:  # BadZipFile, and what a damaged directory makes zipfile raise
        raise GuardError("TRUNCATED", _TRUNCATED_MSG) from None
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
    # part names are case-insensitive in a package (OPC): two of one name are two candidates for
    # one part, and readers disagree on which one they take
    if len({n.lower() for n in names}) != len(infos):
        raise GuardError("CORRUPT", _CORRUPT_MSG.format(where="", why="有重名的部件"))
    if "[Content_Types].xml" not in names:
        raise GuardError("NO_CONTENT_TYPES", "文件缺少内容类型清单 [Content_Types].xml，不是完整的 Excel 文件，Excel 也无法打开。"
                         "请用 Excel/WPS 打开原文件另存为 .xlsx 后重新报送。")
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
    keys = _member_keys(g.data, infos, limits)
    # every member is inflated (capped, CRC checked), whatever its name: a reader follows the
    # relationships, so a worksheet may hide behind any name; XML is recognised by content too
    for i in infos:
        name = i.filename
        if name.endswith("/") and i.file_size == 0:
            continue  # a folder entry
        key = keys.get(name)
        known = _MEMBERS.get(key) if key is not None else None
        if known is not None:
            _MEMBERS.move_to_end(key)  # type: ignore[arg-type]  # known implies a key
            data, extent = known
        else:
            data, extent = _check_member(zf, i, limits, key)
            if key is not None and len(data) <= _MEMBER_CACHE_BYTES:
                _MEMBERS[key] = (data, extent)
                if len(_MEMBERS) > _MEMBER_CACHE_SIZE:
                    _MEMBERS.popitem(last=False)
        if extent is None:
            continue  # not XML: no reader parses it
        g.parts[name] = data
        if extent[2] < 0:
            continue  # no sheetData
        rows, cols, cells = extent
        g.extents[name] = extent
        if cells > limits.max_cells:
            raise GuardError("TOO_MANY_CELLS", f"{_sheet_title(zf, name)}含 {cells} 个单元格，超过上限 {limits.max_cells}，不像正常的年报表格。请删除无关内容后重新报送。")
        if rows > limits.max_rows or cols > limits.max_cols:
            raise GuardError(
                "EXTENT",
                f"{_sheet_title(zf, name)}的使用范围异常（{rows} 行 × {cols} 列，上限 {limits.max_rows} 行 × {limits.max_cols} 列），"
                "可能在很远的单元格里有内容。请删除表格以外的内容后重新报送。",
            )


# Members already checked in this process, by everything reading them depends on: the directory's
# fields (the name as written, before zipfile's clean-up), the local header and the compressed
# bytes (inflating is a pure function of these, and so is every check of ``_check_member``), and
# the limits. A template's styles, theme, relationships and meta sheet are the same in every
# agency's file: each is inflated and checked once per worker.
_MembersKey = tuple[str, int, int, int, int, int, GuardLimits, bytes]
_MEMBERS: OrderedDict[_MembersKey, tuple[bytes, tuple[int, int, int] | None]] = OrderedDict()
_MEMBER_CACHE_SIZE = 64
_MEMBER_CACHE_BYTES = 256 * 1024
_LOCAL = struct.Struct("<4s2xH18xHH")  # local file header: signature, flags, …, name and extra lengths


def _member_keys(data: bytes, infos: list[zipfile.ZipInfo], limits: GuardLimits) -> dict[str, _MembersKey]:
    """The cache key of each member whose bytes lie apart from every other member's (overlapping
    members, a zip bomb's trick, get none: they take zipfile's own reading, which refuses them)."""
    spans = sorted((i.header_offset, i.filename) for i in infos)
    nxt = {name: (spans[k + 1][0] if k + 1 < len(spans) else len(data)) for k, (_off, name) in enumerate(spans)}
    keys: dict[str, _MembersKey] = {}
    for i in infos:
        off = i.header_offset
        if off < 0 or off + _LOCAL.size > len(data):
            continue
        sig, _flags, n, m = _LOCAL.unpack_from(data, off)
        end = off + _LOCAL.size + n + m + i.compress_size
        if sig != b"PK\x03\x04" or end > nxt[i.filename] or i.compress_size > _MEMBER_CACHE_BYTES:
            continue
        keys[i.filename] = (i.orig_filename, i.flag_bits, i.compress_type, i.CRC, i.file_size, i.compress_size, limits,
                            data[off:end])
    return keys


def _inflate(i: zipfile.ZipInfo, key: _MembersKey | None, cap: int) -> bytes | None:
    """A plain stored or deflated member straight from its bytes (zipfile's reader costs a third
    more). None unless every check passes (a whole stream, its size and CRC as the directory
    says): anything unusual takes zipfile's reading, whose verdict stands."""
    # encrypted (bit 0), patched (bit 5), strongly encrypted (bit 6): zipfile's verdict
    if key is None or i.flag_bits & 0x61 or i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    raw = key[-1]
    _sig, flags, n, m = _LOCAL.unpack_from(raw, 0)
    # the local header must name the member as the directory does, decoded as zipfile decodes
    # it (by the local header's UTF-8 flag): zipfile refuses the member otherwise
    try:
        local = raw[_LOCAL.size:_LOCAL.size + n].decode("utf-8" if flags & 0x800 else "cp437")
    except UnicodeDecodeError:
        return None
    if local != i.orig_filename:
        return None
    payload = memoryview(raw)[_LOCAL.size + n + m:]
    if i.compress_type == zipfile.ZIP_STORED:
        out = bytes(payload)
    else:
        try:
            d = zlib.decompressobj(-15)
            out = d.decompress(payload, cap + 1)
        except zlib.error:
            return None
        if not d.eof or d.unused_data or d.unconsumed_tail:
            return None
    if len(out) != i.file_size or zlib.crc32(out) != i.CRC:
        return None
    return out


def _check_member(zf: zipfile.ZipFile, i: zipfile.ZipInfo, limits: GuardLimits,
                  key: _MembersKey | None) -> tuple[bytes, tuple[int, int, int] | None]:
    """Inflate one member (capped, CRC checked) and check it; its bytes and, for XML, its extent
    (rows, columns, cells; cells -1 without sheetData), None for a part no reader parses as XML."""
    name = i.filename
    data = _inflate(i, key, limits.max_member_bytes) if i.file_size <= limits.max_member_bytes else None
    if data is None:
        try:
            with zf.open(i) as fh:
                data = fh.read(limits.max_member_bytes + 1)
        except (MemoryError, GuardError):
            raise
        except Exception as e:  # BadZipFile (CRC), zlib.error, EOFError, NotImplementedError, RuntimeError …
            raise GuardError("CORRUPT", _CORRUPT_MSG.format(where=f" {name} ", why=type(e).__name__)) from None
    if len(data) > limits.max_member_bytes:
        raise GuardError("TOO_LARGE_PART", f"文件内部部件 {name} 超过上限 {_mb(limits.max_member_bytes)}。请用原模板重新填报。")
    if not _xml_like(name, data):
        return data, None
    _check_xml(name, data)
    if b"uniqueCount" in data:  # python-calamine reserves the shared-string table at this size
        declared = max((int(n) for n in _UNIQUE_COUNT.findall(data)), default=0)
        if declared > limits.max_cells:
            raise GuardError("CORRUPT", _CORRUPT_MSG.format(
                where=f" {name} ", why=f"声明了 {declared} 个共享字符串，上限 {limits.max_cells}"))
    if b"sheetData" in data:
        return data, sheet_extent(data, limits.max_rows, limits.max_cols)
    return data, (0, 0, -1)


def _sheet_title(zf: zipfile.ZipFile, part: str) -> str:
    """'工作表“表三”' for a sheet part, for messages (the part name if the workbook says nothing)."""
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


_SPECIAL = (
    (stat.S_ISFIFO, "命名管道（FIFO）"),
    (stat.S_ISCHR, "字符设备"),
    (stat.S_ISBLK, "块设备"),
    (stat.S_ISSOCK, "套接字"),
    (stat.S_ISDIR, "文件夹"),
)


def not_regular(path: str | Path) -> str | None:
    """Why ``path`` is not a regular file that could be a workbook (Chinese), without opening it;
    None for a regular file. A FIFO would block the reader forever, a device never ends."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return "是失效的链接（快捷方式指向的文件不存在），未读取。请报送 Excel 工作簿文件本身。"
        return None  # missing: the open reports it
    except OSError:
        return None
    if stat.S_ISREG(st.st_mode):
        return None
    kind = next((name for test, name in _SPECIAL if test(st.st_mode)), "特殊文件")
    link = "（通过链接）" if os.path.islink(path) else ""
    return f"不是普通文件，而是{kind}{link}，未读取。请报送 Excel 工作簿文件本身。"


def guard(path: str | Path, limits: GuardLimits = DEFAULT_LIMITS) -> Guarded:
    """Check one file; return what was learned, or raise ``GuardError`` with a Chinese reason."""
    p = Path(path)
    try:
        why = not_regular(p)
        if why:
            raise GuardError("NOT_REGULAR", why)
        size = p.stat().st_size
        if size > limits.max_file_bytes:
            raise GuardError("TOO_LARGE", f"文件大小 {_mb(size)}，超过上限 {_mb(limits.max_file_bytes)}，不像正常的年报表格。请删除无关的工作表、图片后重新报送。")
        # O_NONBLOCK: should a FIFO be swapped in after the check above, opening it does not block
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise GuardError("NOT_REGULAR", "不是普通文件，未读取。请报送 Excel 工作簿文件本身。")
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
