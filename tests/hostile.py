"""Writers of the hostile corpus: every kind of bad file the reader must survive.

Each function writes one file into a directory and returns its path. Nothing binary is
checked in; the files are small (the dense bomb is ~0.2 MB on disk).
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from openpyxl import Workbook

_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "{extra}</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WB = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "{extra}</Relationships>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _raw_xlsx(path: Path, sheet_xml: str | bytes, *, shared_strings: str | None = None) -> Path:
    """A minimal one-sheet xlsx written by hand (so it can hold what no library writes)."""
    ss_ct = (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        if shared_strings
        else ""
    )
    ss_rel = (
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        if shared_strings
        else ""
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT.format(extra=ss_ct))
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS.format(extra=ss_rel))
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared_strings:
            z.writestr("xl/sharedStrings.xml", shared_strings)
    return path


def plain_workbook(path: Path, rows: list[list[object]] | None = None) -> Path:
    """An ordinary small workbook (the control: must read fine)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows or [["说明", "这不是年报表格"], ["数量", 3]]:
        ws.append(r)
    wb.save(path)
    return path


def not_a_zip(d: Path) -> Path:
    p = d / "not_a_zip.xlsx"
    rng = random.Random(1)
    p.write_bytes(bytes(rng.randrange(256) for _ in range(3000)).replace(b"PK", b"pk"))
    return p


def truncated_zip(d: Path) -> Path:
    full = plain_workbook(d / "_full.xlsx")
    data = full.read_bytes()
    full.unlink()
    p = d / "truncated.xlsx"
    p.write_bytes(data[: len(data) // 2])
    return p


def empty_file(d: Path) -> Path:
    p = d / "empty.xlsx"
    p.write_bytes(b"")
    return p


def csv_renamed(d: Path) -> Path:
    p = d / "csv_renamed.xlsx"
    p.write_text("信息内容,本年制发件数,本年废止件数,现行有效件数\n规章,1,0,5\n", encoding="utf-8")
    return p


def html_renamed(d: Path) -> Path:
    p = d / "html_renamed.xls"
    p.write_text("<html><body><table><tr><td>规章</td><td>1</td></tr></table></body></html>", encoding="utf-8")
    return p


def _cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (version 3, 512-byte sectors) holding ``streams``.

    Written by hand because olefile cannot write. Every stream is stored in regular
    sectors (padded to 4096 bytes so the mini-stream is never needed).
    """
    ssz = 512
    names = list(streams)
    datas = [streams[n].ljust(max(4096, len(streams[n])), b"\0") for n in names]
    sectors: list[bytes] = []
    fat: list[int] = []
    starts: list[int] = []
    for d in datas:
        n = (len(d) + ssz - 1) // ssz
        first = len(sectors)
        starts.append(first)
        for i in range(n):
            sectors.append(d[i * ssz : (i + 1) * ssz].ljust(ssz, b"\0"))
            fat.append(first + i + 1 if i < n - 1 else -2)
    # directory: root + one entry per stream (4 entries per sector)
    entries = []

    def entry(name: str, typ: int, start: int, size: int, left: int = -1, right: int = -1, child: int = -1) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        e = raw.ljust(64, b"\0")
        e += len(raw).to_bytes(2, "little") + bytes([typ, 1])
        e += left.to_bytes(4, "little", signed=True) + right.to_bytes(4, "little", signed=True)
        e += child.to_bytes(4, "little", signed=True)
        e += b"\0" * 16 + b"\0" * 4 + b"\0" * 16
        e += start.to_bytes(4, "little", signed=True) + size.to_bytes(8, "little")
        return e

    n = len(names)
    entries.append(entry("Root Entry", 5, -2, 0, child=1 if n else -1))
    for i, name in enumerate(names):
        # a right-leaning chain is a valid (if unbalanced) red-black tree for our purposes
        entries.append(entry(name, 2, starts[i], len(streams[name]), right=i + 2 if i + 1 < n else -1))
    while len(entries) % 4:
        entries.append(b"\0" * 64 + (0).to_bytes(2, "little") + b"\0" * 62)
    dir_first = len(sectors)
    n_dir = len(entries) // 4
    for i in range(n_dir):
        sectors.append(b"".join(entries[i * 4 : (i + 1) * 4]))
        fat.append(dir_first + i + 1 if i < n_dir - 1 else -2)
    fat_sid = len(sectors)
    fat.append(-3)  # the FAT sector itself
    assert len(fat) <= ssz // 4
    fat_bytes = b"".join(x.to_bytes(4, "little", signed=True) for x in fat).ljust(ssz, b"\xff")
    sectors.append(fat_bytes)
    hdr = bytearray(512)
    hdr[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    hdr[24:26] = (0x3E).to_bytes(2, "little")
    hdr[26:28] = (3).to_bytes(2, "little")
    hdr[28:30] = b"\xfe\xff"
    hdr[30:32] = (9).to_bytes(2, "little")
    hdr[32:34] = (6).to_bytes(2, "little")
    hdr[44:48] = (1).to_bytes(4, "little")
    hdr[48:52] = dir_first.to_bytes(4, "little")
    hdr[56:60] = (4096).to_bytes(4, "little")
    hdr[60:64] = (-2).to_bytes(4, "little", signed=True)
    hdr[68:72] = (-2).to_bytes(4, "little", signed=True)
    difat = [fat_sid] + [-1] * 108
    hdr[76:512] = b"".join(x.to_bytes(4, "little", signed=True) for x in difat)
    return bytes(hdr) + b"".join(sectors)


def wps_et_renamed(d: Path, suffix: str = ".xlsx") -> Path:
    """An OLE2 file with neither EncryptionInfo nor Workbook streams (like a WPS .et)."""
    p = d / f"wps_et{suffix}"
    p.write_bytes(_cfb({"WpsContent": b"WPS ET document " * 40, "SummaryInformation": b"\0" * 100}))
    return p


def encrypted_workbook(d: Path) -> Path:
    """A password-to-open workbook, encrypted by msoffcrypto-tool (agile encryption)."""
    import msoffcrypto.format.ooxml

    plain = plain_workbook(d / "_plain.xlsx")
    p = d / "encrypted.xlsx"
    with plain.open("rb") as fin, p.open("wb") as fout:
        msoffcrypto.format.ooxml.OOXMLFile(fin).encrypt("secret", fout)
    plain.unlink()
    return p


def encrypted_handmade(d: Path) -> Path:
    """An OLE2 container with an EncryptionInfo stream, built by hand (no msoffcrypto)."""
    p = d / "encrypted_handmade.xlsx"
    p.write_bytes(_cfb({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": b"\x01" * 600}))
    return p


def dense_zip_bomb(d: Path, cells: int = 400_000) -> Path:
    """One sheet of ``cells`` identical cells: tiny on disk, ratio far above 100."""
    buf = io.StringIO()
    buf.write(_SHEET_HEAD + "<sheetData>")
    per_row = 100
    for r in range(1, cells // per_row + 1):
        buf.write(f'<row r="{r}">')
        buf.write('<c t="n"><v>1</v></c>' * per_row)
        buf.write("</row>")
    buf.write("</sheetData></worksheet>")
    return _raw_xlsx(d / "dense_bomb.xlsx", buf.getvalue())


def lying_zip(d: Path) -> Path:
    """A sheet whose zip directory declares a small size but inflates to much more."""
    big = _SHEET_HEAD + "<sheetData>" + '<row r="1"><c r="A1"><v>1</v></c></row>' + " " * 2_000_000 + "</sheetData></worksheet>"
    p = _raw_xlsx(d / "lying_zip.xlsx", big)
    data = bytearray(p.read_bytes())
    small = 2048
    name = b"xl/worksheets/sheet1.xml"
    # patch the uncompressed size in the local header and the central directory entry
    i = 0
    while True:
        i = data.find(name, i)
        if i < 0:
            break
        if data[i - 30 : i - 26] == b"PK\x03\x04":
            data[i - 8 : i - 4] = small.to_bytes(4, "little")
        elif data[i - 46 : i - 42] == b"PK\x01\x02":
            data[i - 22 : i - 18] = small.to_bytes(4, "little")
        i += len(name)
    p.write_bytes(bytes(data))
    return p


def sparse_corner(d: Path) -> Path:
    """Values at A1 and XFD1048576 only: 5 KB that makes python-calamine abort (SIGABRT)."""
    xml = (
        _SHEET_HEAD + '<dimension ref="A1"/><sheetData>'
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
        "</sheetData></worksheet>"
    )
    return _raw_xlsx(d / "sparse_corner.xlsx", xml)


def no_ref_far_row(d: Path) -> Path:
    """Cells without ``r=`` in a row numbered 1048576: the extent must come from the row."""
    xml = (
        _SHEET_HEAD + "<sheetData>"
        '<row r="1"><c><v>1</v></c></row>'
        '<row r="1048576"><c><v>2</v></c></row>'
        "</sheetData></worksheet>"
    )
    return _raw_xlsx(d / "no_ref_far_row.xlsx", xml)


def billion_laughs(d: Path) -> Path:
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    ss = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [{ents}]>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>&lol9;</t></si></sst>"
    )
    sheet = _SHEET_HEAD + '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
    return _raw_xlsx(d / "billion_laughs.xlsx", sheet, shared_strings=ss)


def xxe(d: Path) -> Path:
    ss = (
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>&x;</t></si></sst>"
    )
    sheet = _SHEET_HEAD + '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
    return _raw_xlsx(d / "xxe.xlsx", sheet, shared_strings=ss)


def without_tables(d: Path) -> Path:
    return plain_workbook(d / "without_tables.xlsx", [["会议签到表"], ["姓名", "单位"], ["张三", "某局"]])


def docx_renamed(d: Path) -> Path:
    p = d / "docx_renamed.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return p


def macro_workbook(d: Path) -> Path:
    """An .xlsm with a (dummy) vbaProject.bin part: must be flagged, never run."""
    src = plain_workbook(d / "_m.xlsx")
    p = d / "macro.xlsm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0dummy vba")
    src.unlink()
    return p


ALL = {
    "not_a_zip": not_a_zip,
    "truncated_zip": truncated_zip,
    "empty_file": empty_file,
    "csv_renamed": csv_renamed,
    "html_renamed": html_renamed,
    "wps_et_renamed": wps_et_renamed,
    "encrypted_workbook": encrypted_workbook,
    "encrypted_handmade": encrypted_handmade,
    "dense_zip_bomb": dense_zip_bomb,
    "lying_zip": lying_zip,
    "sparse_corner": sparse_corner,
    "no_ref_far_row": no_ref_far_row,
    "billion_laughs": billion_laughs,
    "xxe": xxe,
    "without_tables": without_tables,
    "docx_renamed": docx_renamed,
    "macro_workbook": macro_workbook,
}


def write_all(d: Path) -> dict[str, Path]:
    """Write the whole corpus into ``d``."""
    d.mkdir(parents=True, exist_ok=True)
    return {name: fn(d) for name, fn in ALL.items()}
