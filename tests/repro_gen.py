"""Generators for the reliability reproducers R01–R11 (/work/shared/reliability/repro).

Every hostile file is made from a good, filled return committed in ``samples/returns``
(written by ``samples/generate.py`` with the project's own templates) by rewriting its zip
members in Python. Nothing here imports ``xltool``: the tests drive the tool only through
its command line, so they survive any reorganisation of the package.

Each ``make_*`` function writes one file into a directory and returns its path.
"""

from __future__ import annotations

import re
import shutil
import struct
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "returns"

# agencies of samples/returns by what they contain (see samples/generate.py)
CLEAN = "人民政府办公室"  # template, passes with no finding at all
CLEAN_2 = "竹岛街道办事处"  # template, passes with no finding at all
CLEAN_3 = "鲸园街道办事处"
CLEAN_4 = "环翠楼街道办事处"
OLD_FORMAT = "应急管理局"  # 2019 format in a 2025 batch: excluded by combine
WARNED = "财政局"  # template, passes with one warning (a “/”) -> gets a feedback copy
FOREIGN = "市场监督管理局"  # not our template (NOT_TEMPLATE warning)

SHEET_BASIC = "基本信息"
SHEET_T3 = "表三"
SHEET_T4 = "表四"
SHEET_TEXT = "文字部分"


def sample(agency: str) -> Path:
    """The committed sample return whose file name contains ``agency`` (exactly one)."""
    hits = [p for p in sorted(SAMPLES.glob("*.xlsx")) if agency in p.name and "第一次" not in p.name]
    assert len(hits) == 1, (agency, hits)
    return hits[0]


def copy_sample(agency: str, d: Path, name: str | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    src = sample(agency)
    dst = d / (name or src.name)
    shutil.copyfile(src, dst)
    return dst


# --- zip member rewriting ----------------------------------------------------------------


def read_members(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(i, z.read(i.filename)) for i in z.infolist()]


def write_members(path: Path, members: list[tuple[zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            z.writestr(zi, data)
    return path


def sheet_part(members: list[tuple[zipfile.ZipInfo, bytes]], sheet_prefix: str) -> str:
    """Zip member name of the worksheet whose name starts with ``sheet_prefix``."""
    data = {i.filename: b for i, b in members}
    wb = data["xl/workbook.xml"].decode("utf-8")
    rels = data["xl/_rels/workbook.xml.rels"].decode("utf-8")
    for m in re.finditer(r"<sheet\b[^>]*>", wb):
        tag = m.group(0)
        name = re.search(r'name="([^"]*)"', tag)
        rid = re.search(r'r:id="([^"]*)"', tag)
        if name and rid and name.group(1).startswith(sheet_prefix):
            for rel in re.finditer(r"<Relationship\b[^>]*>", rels):
                if f'Id="{rid.group(1)}"' in rel.group(0):
                    target = re.search(r'Target="([^"]*)"', rel.group(0))
                    assert target
                    t = target.group(1).lstrip("/")
                    return t if t.startswith("xl/") else "xl/" + t
    raise KeyError(sheet_prefix)


def edit_sheet(path: Path, sheet_prefix: str, fn, out: Path | None = None) -> Path:
    """Rewrite one worksheet's XML with ``fn(str) -> str`` (in place, or into ``out``)."""
    members = read_members(path)
    part = sheet_part(members, sheet_prefix)
    new = []
    for info, data in members:
        if info.filename == part:
            data = fn(data.decode("utf-8")).encode("utf-8")
        new.append((info, data))
    return write_members(out or path, new)


_CELL = r'<c r="{ref}"(?P<attrs>(?:\s+(?!r=)[^\s=>/]+="[^"]*")*)\s*(?:/>|>.*?</c>)'


def _style(attrs: str) -> str:
    m = re.search(r'\ss="\d+"', attrs)
    return m.group(0) if m else ""


def set_cell(xml: str, ref: str, inner: str, *, t: str | None = None) -> str:
    """Replace cell ``ref`` (keeping its style) by ``<c r=ref s=.. t=..>inner</c>``."""
    pat = re.compile(_CELL.format(ref=ref), re.S)
    hits = pat.findall(xml)
    assert len(hits) == 1, f"cell {ref}: {len(hits)} matches"

    def rep(m: re.Match[str]) -> str:
        tt = f' t="{t}"' if t else ""
        return f'<c r="{ref}"{_style(m.group("attrs"))}{tt}>{inner}</c>'

    return pat.sub(rep, xml, count=1)


def set_number(xml: str, ref: str, raw: str) -> str:
    return set_cell(xml, ref, f"<v>{raw}</v>")


def set_text(xml: str, ref: str, text: str, *, raw: bool = False) -> str:
    """An inline string; ``raw`` puts ``text`` into the XML as is (for character references)."""
    body = text if raw else escape(text)
    return set_cell(xml, ref, f'<is><t xml:space="preserve">{body}</t></is>', t="inlineStr")


def set_blank(xml: str, ref: str) -> str:
    pat = re.compile(_CELL.format(ref=ref), re.S)
    assert len(pat.findall(xml)) == 1
    return pat.sub(lambda m: f'<c r="{ref}"{_style(m.group("attrs"))}/>', xml, count=1)


# --- R01 / R02: cells the extent guard cannot see -> python-calamine SIGABRT ------------


def make_far_cell_whitespace(d: Path, sep: str = "\t", name: str | None = None) -> Path:
    """R01: ``<c\\tr="XFD1048576">`` (tab/LF/CR instead of a space) in 表三 of a good return."""
    label = {"\t": "tab", "\n": "lf", "\r": "cr"}[sep]
    p = copy_sample(CLEAN, d, name or f"R01_{label}_ref.xlsx")

    def fn(xml: str) -> str:
        row = f'<row r="1048576"><c{sep}r="XFD1048576"><v>1</v></c></row>'
        assert xml.count("</sheetData>") == 1
        return xml.replace("</sheetData>", row + "</sheetData>")

    return edit_sheet(p, SHEET_T3, fn)


def make_sheet_part_not_xml(d: Path, ext: str = ".bin") -> Path:
    """R02: 表三's part renamed to ``sheetN.bin`` / ``sheetN.XML`` (rels and content types follow).

    The sheet also carries a far cell (written normally), so any reader that skips the part
    in its checks lets python-calamine allocate the whole 1048576×16384 grid.
    """
    p = copy_sample(CLEAN, d, f"R02_sheet{ext.replace('.', '_')}.xlsx")
    members = read_members(p)
    part = sheet_part(members, SHEET_T3)
    old_base = part.rsplit("/", 1)[1]
    new_base = old_base[: -len(".xml")] + ext
    out = []
    for info, data in members:
        if info.filename == part:
            xml = data.decode("utf-8")
            if "XFD1048576" not in xml:
                xml = xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
            info = zipfile.ZipInfo(part[: -len(old_base)] + new_base, date_time=info.date_time)
            data = xml.encode("utf-8")
        elif info.filename in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
            data = data.replace(old_base.encode(), new_base.encode())
        out.append((info, data))
    return write_members(p, out)


# --- R03 / R06: broken deflate streams and zip offsets -----------------------------------


def _local_data_span(raw: bytes, member: str) -> tuple[int, int]:
    """(start, length) of ``member``'s compressed bytes, from its local header."""
    with zipfile.ZipFile(__import__("io").BytesIO(raw)) as z:
        info = z.getinfo(member)
    off = info.header_offset
    assert raw[off : off + 4] == b"PK\x03\x04"
    n_len, x_len = struct.unpack("<HH", raw[off + 26 : off + 30])
    start = off + 30 + n_len + x_len
    return start, info.compress_size


def make_zlib_min(d: Path, name: str = "R03_zlib_min.xlsx") -> Path:
    """R03/R06: a 200-byte zip whose only member (xl/workbook.xml) has an invalid deflate block type."""
    p = d / name
    d.mkdir(parents=True, exist_ok=True)
    xml = b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("xl/workbook.xml", date_time=(2025, 1, 1, 0, 0, 0)), xml, zipfile.ZIP_DEFLATED)
    raw = bytearray(p.read_bytes())
    start, _ = _local_data_span(bytes(raw), "xl/workbook.xml")
    raw[start] |= 0x06  # BTYPE = 11 (reserved): zlib.error "invalid block type"
    p.write_bytes(bytes(raw))
    return p


def make_corrupt_deflate(d: Path, member_sheet: str = SHEET_T3) -> Path:
    """R03: a good return with one byte flipped inside a worksheet's deflate stream.

    The flipped byte is the first one (searching from the middle of the stream) that makes
    zlib itself fail (e.g. “invalid distance too far back”), not just the CRC check.
    """
    p = copy_sample(CLEAN, d, "R03_deflate_flip.xlsx")
    raw = bytearray(p.read_bytes())
    part = sheet_part(read_members(p), member_sheet)
    start, size = _local_data_span(bytes(raw), part)
    comp = bytes(raw[start : start + size])
    for i in range(size // 2, size):
        for bit in (0x20, 0x40, 0x80, 0x10, 0x08):
            mutated = bytearray(comp)
            mutated[i] ^= bit
            try:
                zlib.decompressobj(-15).decompress(bytes(mutated))
            except zlib.error:
                raw[start + i] ^= bit
                p.write_bytes(bytes(raw))
                return p
    raise AssertionError("no zlib-breaking flip found")


def make_bad_cd_offset(d: Path) -> Path:
    """R03: the end-of-central-directory offset moved by +32768, so member offsets go negative
    in Python's zipfile (``ValueError: negative seek value``)."""
    p = copy_sample(FOREIGN, d, "R03_bad_cd_offset.xlsx")
    raw = bytearray(p.read_bytes())
    eocd = raw.rfind(b"PK\x05\x06")
    assert eocd > 0
    (cd_off,) = struct.unpack("<I", raw[eocd + 16 : eocd + 20])
    raw[eocd + 16 : eocd + 20] = struct.pack("<I", cd_off + 32768)
    p.write_bytes(bytes(raw))
    return p


# --- R04: a cell text longer than Excel's 32767 characters -------------------------------


def make_long_text(d: Path, n: int = 32768) -> Path:
    """R04: 基本信息!B7 (填报人) holds ``n`` characters; 表四!N5 blank (so the file has a finding)."""
    p = copy_sample(CLEAN_2, d, f"R04_filler_{n}.xlsx")
    edit_sheet(p, SHEET_BASIC, lambda x: set_text(x, "B7", "A" * n))
    return edit_sheet(p, SHEET_T4, lambda x: set_blank(x, "N5"))


# --- R05 / R10: numbers no spreadsheet can add, formulas in input cells -------------------


def make_t4_value(d: Path, agency: str, raw: str, name: str) -> Path:
    """表四!N5 (行政诉讼·复议后起诉·尚未审结) set to the literal ``<v>raw</v>``."""
    p = copy_sample(agency, d, name)
    return edit_sheet(p, SHEET_T4, lambda x: set_number(x, "N5", raw))


def make_formula_input(d: Path, formula: str = "3+4", cached: str = "0") -> Path:
    """R10: the input cell 表四!N5 holds ``<f>3+4</f><v>0</v>`` (Excel shows 7 after recalculation)."""
    p = copy_sample(CLEAN, d, "R10_fcache_N5.xlsx")
    return edit_sheet(p, SHEET_T4, lambda x: set_cell(x, "N5", f"<f>{escape(formula)}</f><v>{cached}</v>"))


# --- R09: control characters in the narrative ----------------------------------------------


def make_narrative_charref(d: Path, ref: str = "&#1;") -> Path:
    """R09: 文字部分!A4 (一、总体情况) is ``abc<ref>def`` with a raw XML character reference."""
    tag = "c01" if ref == "&#1;" else re.sub(r"\W", "", ref)
    p = copy_sample(CLEAN, d, f"R09_narr_{tag}.xlsx")
    return edit_sheet(p, SHEET_TEXT, lambda x: set_text(x, "A4", f"abc{ref}def", raw=True))


# --- R11: agency text that a spreadsheet would run ----------------------------------------

INJECT_T4 = {
    "A5": '=HYPERLINK("http://evil.example/x","click")',
    "B5": "=cmd|' /C calc'!A0",
    "C5": "@SUM(1)",
    "D5": "+1+cmd|' /C calc'!A0",
    "F5": "-2+3+cmd|' /C calc'!A0",
    "G5": "{=1+1}",
    "H5": "http://evil.example/x",
    "I5": "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&amp;",
}
INJECT_BASIC = {"B7": "http://evil.example/x", "B8": '=HYPERLINK("http://evil.example/x","click")'}
INJECT_TEXT = {"A4": "=cmd|' /C calc'!A0"}
PAYLOAD_MARKERS = ("cmd|", "evil.example", "HYPERLINK", "1+1", "SUM(1)", "calc")


def make_injection(d: Path) -> Path:
    """R11: formula / DDE / URL text typed into number cells, 基本信息 and 文字部分 of a good return."""
    p = copy_sample(WARNED, d, "R11_inject.xlsx")

    def put(cells: dict[str, str]):
        def fn(xml: str) -> str:
            for ref, text in cells.items():
                xml = set_text(xml, ref, text)
            return xml

        return fn

    edit_sheet(p, SHEET_T4, put(INJECT_T4))
    edit_sheet(p, SHEET_BASIC, put(INJECT_BASIC))
    return edit_sheet(p, SHEET_TEXT, put(INJECT_TEXT))


# --- R08: rosters ---------------------------------------------------------------------------


def write_roster(path: Path, names: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("单位名称\n" + "".join(f'"{n}"\n' for n in names), encoding="utf-8")
    return path


LONG_85_CJK = "局" * 85
BIDI_NAME = "财政局\u202egpj.exe"
