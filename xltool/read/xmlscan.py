"""What python-calamine cannot tell: formula text, error cells, locks, merges, protection.

One pass of compiled regular expressions over each sheet part that the guard already
inflated and checked (no DTD, bounded size). Measured faster than an ElementTree
iterparse of the same part because the per-cell work stays in C: only formula cells (a few
dozen in our template) and error cells reach Python code. Namespace prefixes (``<x:c>``)
are allowed everywhere.

>>> xml = (b'<worksheet><sheetData><row r="6"><c r="D6" s="2"><v>1</v></c>'
...        b'<c r="J6" s="3"><f t="shared" ref="J6:J7" si="0">SUM(D6:I6)</f><v>1</v></c></row>'
...        b'<row r="7"><c r="J7" s="3"><f t="shared" si="0"/><v>0</v></c>'
...        b'<c r="K7" t="e"><f>1/0</f><v>#DIV/0!</v></c></row></sheetData>'
...        b'<sheetProtection sheet="1" objects="1"/><mergeCells><mergeCell ref="A1:C1"/></mergeCells></worksheet>')
>>> s = scan_sheet(xml)
>>> s.formulas["J7"], s.errors, s.protected, s.merges, s.styles["D6"]
('SUM(D7:I7)', {'K7': '#DIV/0!'}, True, ['A1:C1'], 2)
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from html import unescape

from xltool.workbook.layout import col_letter

_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # optional namespace prefix

# every cell's address and style, whatever the attribute order
_CELL_RS = re.compile(rb"<" + _P + rb'c\s(?=[^>]*?\br="\$?([A-Z]{1,3}\$?\d+)")(?:(?=[^>]*?\bs="(\d+)"))?')
# cells holding a formula: attributes, <f> attributes, <f> text, cached <v>
_FCELL = re.compile(
    rb"<" + _P + rb"c\s([^>]*?)>\s*<" + _P + rb"f\b([^>]*?)(?:/>|>([^<]*)</" + _P + rb"f>)"
    rb"\s*(?:<" + _P + rb"v>([^<]*)</" + _P + rb"v>|<" + _P + rb"v\s*/>)?",
    re.S,
)
_ECELL = re.compile(rb"<" + _P + rb'c\s(?=[^>]*?\bt="e")([^>]*?)>.*?<' + _P + rb"v>([^<]*)</", re.S)
_ATTR_R = re.compile(rb'\br="\$?([A-Z]{1,3})\$?(\d+)"')
_ATTR = re.compile(rb'\b([\w:]+)="([^"]*)"')
_MERGE = re.compile(rb"<" + _P + rb'mergeCell\s[^>]*?\bref="([^"]+)"')
_PROT = re.compile(rb"<" + _P + rb"sheetProtection\b([^>]*)>")
_XF_BLOCK = re.compile(rb"<" + _P + rb"cellXfs\b[^>]*>(.*?)</" + _P + rb"cellXfs>", re.S)
_XF = re.compile(rb"<" + _P + rb"xf\b([^>]*?)(?:/>|>(.*?)</" + _P + rb"xf>)", re.S)
_UNLOCK = re.compile(rb"<" + _P + rb'protection\b[^>]*\blocked="(?:0|false)"')

# A1 references inside a formula (not in strings, not function names)
_REF_IN_FORMULA = re.compile(r'"[^"]*"|(?<![A-Za-z0-9_.])(\$?)([A-Z]{1,3})(\$?)(\d+)(?![A-Za-z0-9_(])')

TRUE = {"1", "true"}


def col_index(letters: str) -> int:
    """'A' → 0."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def shift_formula(text: str, d_row: int, d_col: int) -> str:
    """A shared formula's text as seen from a cell ``d_row``/``d_col`` away from its master."""
    if not d_row and not d_col:
        return text

    def sub(m: re.Match[str]) -> str:
        if m.group(2) is None:
            return m.group(0)  # a string literal
        cabs, col, rabs, row = m.groups()
        c = col if cabs else col_letter(col_index(col) + d_col)
        r = row if rabs else str(int(row) + d_row)
        return f"{cabs}{c}{rabs}{r}"

    return _REF_IN_FORMULA.sub(sub, text)


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return dict(_ATTR.findall(raw))


def _rc(addr: str) -> tuple[int, int]:
    i = 0
    while addr[i].isalpha():
        i += 1
    return int(addr[i:]), col_index(addr[:i])


@dataclass
class SheetScan:
    """Structure of one sheet part."""

    formulas: dict[str, str] = field(default_factory=dict)  # A1 → formula text (no '='), shared expanded
    cached: dict[str, str | None] = field(default_factory=dict)  # formula A1 → cached <v> text (None: none)
    errors: dict[str, str] = field(default_factory=dict)  # A1 → '#DIV/0!' …
    style_refs: list[tuple[bytes, bytes]] = field(default_factory=list)  # every cell: (A1, cellXfs index or b"")
    merges: list[str] = field(default_factory=list)
    protected: bool = False  # <sheetProtection sheet="1">
    protection: dict[str, str] = field(default_factory=dict)

    @property
    def styles(self) -> dict[str, int]:
        """A1 → cellXfs index, for cells that name a style."""
        return {ref.decode(): int(st) for ref, st in self.style_refs if st}

    def cells_with_style(self, style_ids: AbstractSet[int]) -> set[str]:
        """Addresses of the cells whose style is one of ``style_ids`` (decoded only for those)."""
        want = {str(i).encode() for i in style_ids}
        return {ref.decode() for ref, st in self.style_refs if st in want}


_FAST_MERGE = re.compile(rb'<mergeCell ref="([^"]+)"')
_FAST_RS = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"(?: s="([0-9]+)")?')


def scan_sheet(xml: bytes) -> SheetScan:
    """One sheet part → formulas, cached values of formula cells, errors, styles, merges, protection.

    Fast path for the usual serialisation (no namespace prefix, ``r`` first, then ``s``),
    as Excel, WPS, LibreOffice, XlsxWriter and openpyxl write it: literal-led patterns and
    ``bytes.find`` loops over the formula cells only. Anything else takes the general
    patterns (same results, about three times slower).
    """
    s = SheetScan()
    i, j = xml.find(b"sheetData"), xml.rfind(b"sheetData")
    data = xml[i:j] if 0 <= i < j else b""
    tail = xml[j:] if j >= 0 else xml
    prefixed = i > 0 and xml[i - 1 : i] == b":"
    n_cells = 0 if prefixed else data.count(b"<c ")
    rs = _FAST_RS.findall(data) if not prefixed else []
    if not prefixed and len(rs) == n_cells:
        s.style_refs = rs
        _formulas_fast(data, s)
    else:
        s.style_refs = [(ref.replace(b"$", b""), st) for ref, st in _CELL_RS.findall(data)]
        _formulas_general(data, s)
    if b't="e"' in data:
        for cattrs, v in _ECELL.findall(data):
            m = _ATTR_R.search(cattrs)
            if m is not None:
                s.errors[f"{m.group(1).decode()}{m.group(2).decode()}"] = unescape(v.decode("utf-8"))
    if prefixed:
        s.merges = [m.decode().replace("$", "") for m in _MERGE.findall(tail)]
        pm = _PROT.search(tail)
    else:
        m0 = tail.find(b"<mergeCells")
        m1 = tail.find(b"</mergeCells>", m0) if m0 >= 0 else -1
        s.merges = [m.decode().replace("$", "") for m in _FAST_MERGE.findall(tail, m0, m1)] if m0 >= 0 else []
        p0 = tail.find(b"<sheetProtection")
        pm = _PROT.match(tail, p0) if p0 >= 0 else None
    if pm is not None:
        s.protection = {k.decode(): v.decode() for k, v in _attrs(pm.group(1)).items()}
        s.protected = s.protection.get("sheet", "0").lower() in TRUE
    return s


def _formulas_fast(data: bytes, s: SheetScan) -> None:
    """Formula cells by ``bytes.find``: only the few cells that hold ``<f`` cost Python time."""
    shared: dict[bytes, tuple[str, int, int]] = {}
    followers: list[tuple[str, bytes]] = []
    pos = data.find(b"<f")
    while pos >= 0:
        c0 = data.rfind(b"<c ", 0, pos)
        m = _ATTR_R.search(data, c0, pos)
        f_end = data.find(b">", pos)
        if c0 < 0 or m is None or f_end < 0:
            pos = data.find(b"<f", pos + 2)
            continue
        addr = f"{m.group(1).decode()}{m.group(2).decode()}"
        fattrs = data[pos + 2 : f_end].rstrip(b"/")
        if data[f_end - 1 : f_end] == b"/":
            text, after = "", f_end + 1
        else:
            t_end = data.find(b"</f>", f_end)
            text = unescape(data[f_end + 1 : t_end].decode("utf-8"))
            after = t_end + 4
        v: str | None = None
        if data.startswith(b"<v>", after):
            v_end = data.find(b"</v>", after)
            v = unescape(data[after + 3 : v_end].decode("utf-8"))
        s.formulas[addr] = text
        s.cached[addr] = v
        if b"shared" in fattrs:
            _note_shared(_attrs(fattrs), addr, text, shared, followers)
        pos = data.find(b"<f", after)
    _expand_shared(s, shared, followers)


def _note_shared(fa: dict[bytes, bytes], addr: str, text: str,
                 shared: dict[bytes, tuple[str, int, int]], followers: list[tuple[str, bytes]]) -> None:
    """Remember a shared formula's master (its text and origin) or a follower to expand later."""
    if fa.get(b"t") != b"shared":
        return
    si = fa.get(b"si", b"")
    if text:
        shared[si] = (text, *_rc(addr))
    else:
        followers.append((addr, si))


def _formulas_general(data: bytes, s: SheetScan) -> None:
    shared: dict[bytes, tuple[str, int, int]] = {}
    followers: list[tuple[str, bytes]] = []
    for cattrs, fattrs, ftext, v in _FCELL.findall(data):
        m = _ATTR_R.search(cattrs)
        if m is None:
            continue
        addr = f"{m.group(1).decode()}{m.group(2).decode()}"
        fa = _attrs(fattrs) if fattrs.strip() else {}
        text = unescape(ftext.decode("utf-8")) if ftext else ""
        _note_shared(fa, addr, text, shared, followers)
        s.formulas[addr] = text
        s.cached[addr] = unescape(v.decode("utf-8")) if v else None
    _expand_shared(s, shared, followers)


def _expand_shared(s: SheetScan, shared: dict[bytes, tuple[str, int, int]], followers: list[tuple[str, bytes]]) -> None:
    for addr, si in followers:
        master = shared.get(si)
        if master is not None:
            text, r0, c0 = master
            r, c = _rc(addr)
            s.formulas[addr] = shift_formula(text, r - r0, c - c0)


_UNLOCKED: dict[bytes, frozenset[int]] = {}  # by the styles part (the same in every file of a template)


def unlocked_styles(styles_xml: bytes | None) -> frozenset[int]:
    """Indexes of ``cellXfs`` entries whose protection says ``locked="0"``."""
    if not styles_xml:
        return frozenset()
    known = _UNLOCKED.get(styles_xml)
    if known is None:
        if len(_UNLOCKED) >= 16:
            _UNLOCKED.clear()
        known = _UNLOCKED[styles_xml] = frozenset(_unlocked(styles_xml))
    return known


def _unlocked(styles_xml: bytes) -> set[int]:
    out: set[int] = set()
    block = _XF_BLOCK.search(styles_xml)
    if block is None:
        return out
    for i, (_attrs_raw, inner) in enumerate(_XF.findall(block.group(1))):
        if inner and _UNLOCK.search(inner):
            out.add(i)
    return out


@dataclass(frozen=True)
class SheetEntry:
    name: str
    state: str  # visible | hidden | veryHidden
    part: str | None  # zip member name of the sheet part


@dataclass
class WorkbookInfo:
    sheets: list[SheetEntry]
    structure_locked: bool

    def part_of(self, name: str) -> str | None:
        for sh in self.sheets:
            if sh.name == name:
                return sh.part
        return None


_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def workbook_info(parts: dict[str, bytes]) -> WorkbookInfo:
    """Sheet names, visibility and parts (from workbook.xml and its rels), structure lock."""
    wb = ET.fromstring(parts["xl/workbook.xml"])
    rels_xml = parts.get("xl/_rels/workbook.xml.rels")
    targets: dict[str, str] = {}
    if rels_xml:
        for rel in ET.fromstring(rels_xml):
            rid, tgt = rel.get("Id"), rel.get("Target")
            if rid and tgt:
                if tgt.startswith("/"):
                    tgt = tgt[1:]
                elif not tgt.startswith("xl/"):
                    tgt = "xl/" + tgt
                targets[rid] = tgt
    sheets: list[SheetEntry] = []
    locked = False
    for el in wb.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "sheet":
            rid = el.get(f"{{{_R_NS}}}id") or next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            sheets.append(SheetEntry(el.get("name", ""), el.get("state", "visible"), targets.get(rid or "")))
        elif tag == "workbookProtection":
            locked = el.get("lockStructure", "0").lower() in TRUE
    return WorkbookInfo(sheets, locked)


# --- a few cells by value, without a spreadsheet library ---------------------------------

_SI = re.compile(rb"<(?:\w+:)?si>(.*?)</(?:\w+:)?si>", re.S)
_T = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</(?:\w+:)?t>")
_RPH = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_VALCELL = re.compile(
    rb"<(?:\w+:)?c\s([^>]*?)(?:/>|>(?:<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>))?"
    rb"(?:<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>|<(?:\w+:)?is>(.*?)</(?:\w+:)?is>)?)",
    re.S,
)


# decoded shared strings by their raw bytes, across files: a template's labels and meta keys
# are the same strings in every agency's file (bounded: a clear when full)
_TEXTS: dict[bytes, str] = {}
_TEXTS_MAX = 20_000


class SharedStrings:
    """The shared-string table, split at once (in C) but decoded only on demand."""

    def __init__(self, xml: bytes | None) -> None:
        if not xml:
            self._raw: list[bytes] = []
        elif b"<si>" in xml:  # the usual, unprefixed form: split in C
            self._raw = xml.split(b"<si>")[1:]
        else:
            self._raw = _SI.findall(xml)

    def __getitem__(self, i: int) -> str:
        raw = self._raw[i] if 0 <= i < len(self._raw) else b""
        s = _TEXTS.get(raw)
        if s is None:
            s = _rich_text(raw)
            if len(_TEXTS) >= _TEXTS_MAX:
                _TEXTS.clear()
            _TEXTS[raw] = s
        return s


def _rich_text(raw: bytes) -> str:
    if b"<rPh" in raw:
        raw = _RPH.sub(b"", raw)
    return unescape(b"".join(_T.findall(raw)).decode("utf-8"))


# a head's cells by the bytes of the head: (row, column, shared-string index or None, value)
_HEADS: dict[bytes, list[tuple[int, int, int | None, object]]] = {}
_HEADS_MAX = 64


def head_rows(xml: bytes, sst: SharedStrings, n_rows: int) -> list[list[object]]:
    """Values of the first ``n_rows`` rows of a sheet part (strings and floats), as a grid.

    For small fixed blocks such as the key/value head of our meta sheet: reading them
    this way costs a fraction of a full-sheet parse, and a head seen before (the same bytes:
    our meta sheet in every agency's file) is not parsed again; only its shared strings,
    which differ from file to file, are looked up.
    """
    end = xml.find(f'<row r="{n_rows + 1}"'.encode())
    chunk = xml if end < 0 else xml[:end]
    cells = _HEADS.get(chunk)
    if cells is None:
        cells = _head_cells(chunk, n_rows)
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.clear()
        _HEADS[chunk] = cells
    grid: list[list[object]] = []
    for r, c, si, val in cells:
        while len(grid) <= r:
            grid.append([])
        row = grid[r]
        while len(row) <= c:
            row.append("")
        row[c] = sst[si] if si is not None else val
    return grid


def _head_cells(chunk: bytes, n_rows: int) -> list[tuple[int, int, int | None, object]]:
    out: list[tuple[int, int, int | None, object]] = []
    for attrs_raw, v, inline in _VALCELL.findall(chunk):
        m = _ATTR_R.search(attrs_raw)
        if m is None:
            continue
        r = int(m.group(2)) - 1
        if r >= n_rows:
            continue
        c = col_index(m.group(1).decode())
        t = _attrs(attrs_raw).get(b"t", b"n")
        val: object
        if inline:
            val = _rich_text(inline)
        elif not v:
            continue
        elif t == b"s":
            out.append((r, c, int(v), None))  # not a number: ValueError, as before (the head is not kept)
            continue
        elif t in (b"str", b"e"):
            val = unescape(v.decode("utf-8"))
        elif t == b"b":
            val = v == b"1"
        else:
            try:
                val = float(v)
            except ValueError:
                val = v.decode("utf-8", "replace")
        out.append((r, c, None, val))
    return out
