"""Mutation fuzzing of returned workbooks: the mutants, the run and the verdict (issue 15).

Used by ``tests/test_fuzz.py`` (a few hundred mutants, seconds) and ``bench/bench_fuzz.py``
(thousands, figures). Three good files are mutated: a filled V2019 and a filled V2021 template
(written by ``write.template.write_workbook`` with ``pipeline.synth`` numbers) and the
foreign table of ``samples/returns``. Each mutant gets one mutation of one kind:

- ``flip``: 1–8 random bytes of the file flipped (zip headers, directory or deflate data);
- ``truncate``: the file cut short;
- ``rename`` / ``remove``: a zip member renamed (any name, relationships kept or not) or dropped
  (``[Content_Types].xml`` among them);
- ``whitespace``: cell and row attributes written another legal way (tab/LF/CR before ``r``,
  spaces around ``=``, single quotes): the same workbook to every XML parser;
- ``far_cell``: a cell far away (XFD1048576, ZZZZ1 …) hidden every way the guard must see;
- ``encoding``: the XML declaration's encoding changed, or whitespace put before it;
- ``control``: a raw control character (0x0B …) put into an XML part;
- ``count``: a huge ``uniqueCount`` in the shared strings.

The verdict of a batch (``judge``): every file listed once; no ``通过`` (ok) whose numbers,
year, format or agency differ from its original unless a finding names that cell (or, for
the header fields, any finding exists); inputs unchanged. Tracebacks and worker aborts are
counted by the caller from stderr and FILE_CRASHED.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "returns"
FOREIGN_SAMPLE = "市场监督管理局"  # the sample return that is not our template

KINDS = ("flip", "truncate", "rename", "remove", "whitespace", "far_cell", "encoding", "control", "count")


# --- the three originals ---------------------------------------------------------------------


def originals(d: Path, seed: int = 15) -> list[Path]:
    """A filled V2019 and V2021 template and the foreign sample table, written into ``d``."""
    from xltool.pipeline.synth import synth_values
    from xltool.spec import V2019, V2021
    from xltool.write.template import write_workbook

    d.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    out = [
        write_workbook(d / "v2019.xlsx", V2019, 2020, agency="某某区甲局", values=synth_values(V2019, rng)),
        write_workbook(d / "v2021.xlsx", V2021, 2025, agency="某某区乙局", values=synth_values(V2021, rng)),
    ]
    foreign = next(p for p in sorted(SAMPLES.glob("*.xlsx")) if FOREIGN_SAMPLE in p.name)
    dst = d / "foreign.xlsx"
    dst.write_bytes(foreign.read_bytes())
    out.append(dst)
    return out


# --- zip members -------------------------------------------------------------------------------

Members = list[tuple[zipfile.ZipInfo, bytes]]


def _members(raw: bytes) -> Members:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return [(i, z.read(i.filename)) for i in z.infolist()]


def _zip(members: Members) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return buf.getvalue()


def _sheets(members: Members) -> list[int]:
    return [k for k, (i, b) in enumerate(members) if b"<sheetData" in b or b":sheetData" in b]


def _xml_parts(members: Members) -> list[int]:
    return [k for k, (i, b) in enumerate(members) if i.filename.endswith((".xml", ".rels")) and b.startswith(b"<")]


# --- mutations ---------------------------------------------------------------------------------


def _flip(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    b = bytearray(raw)
    n = rng.randint(1, 8)
    where = []
    for _ in range(n):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
        where.append(i)
    return bytes(b), f"flip {n} byte(s) at {sorted(where)[:3]}"


def _truncate(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    n = rng.randrange(0, len(raw))
    return raw[:n], f"truncate to {n} of {len(raw)} bytes"


def _rename(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    ms = _members(raw)
    k = rng.randrange(len(ms))
    info, _data = ms[k]
    old = info.filename
    stem = old.rsplit(".", 1)[0]
    new = rng.choice([stem + ".bin", stem + ".XML", stem + ".xml.bak", old.upper(), "xl/other/" + old.rsplit("/", 1)[-1],
                      stem + "2.xml"])
    follow = rng.random() < 0.5  # relationships and content types follow the new name
    out: Members = []
    for i, b in ms:
        if i.filename == old:
            i = zipfile.ZipInfo(new, date_time=i.date_time)
        elif follow and (i.filename.endswith(".rels") or i.filename == "[Content_Types].xml"):
            base_old, base_new = old.rsplit("/", 1)[-1].encode(), new.rsplit("/", 1)[-1].encode()
            b = b.replace(base_old, base_new)
        out.append((i, b))
    return _zip(out), f"rename {old} -> {new}{' (rels follow)' if follow else ''}"


def _remove(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    ms = _members(raw)
    k = rng.randrange(len(ms))
    if rng.random() < 0.3:
        k = next((j for j, (i, _b) in enumerate(ms) if i.filename == "[Content_Types].xml"), k)
    name = ms[k][0].filename
    return _zip(ms[:k] + ms[k + 1 :]), f"remove {name}"


_WS_RULES: list[tuple[bytes, list[bytes]]] = [
    (b'<c r="', [b'<c\tr="', b'<c\nr="', b'<c\rr="', b'<c  r="', b"<c r = \"", b'<c r\t=\t"']),
    (b'<row r="', [b'<row\tr="', b'<row\nr="', b'<row r =  "']),
    (b' s="', [b'\ts="', b'\n s="', b' s = "']),
    (b' t="', [b'\tt="', b' t ="']),
]


def _whitespace(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    ms = _members(raw)
    sheets = _sheets(ms)
    k = rng.choice(sheets)
    info, data = ms[k]
    old, news = rng.choice(_WS_RULES)
    new = rng.choice(news)
    if rng.random() < 0.25 and old == b'<c r="':  # single quotes for the reference
        data = re.sub(rb'<c r="([A-Z]+[0-9]+)"', rb"<c r='\1'", data)
        how = "single-quoted r"
    else:
        data = data.replace(old, new)
        how = f"{old!r} -> {new!r}"
    ms[k] = (info, data)
    return _zip(ms), f"whitespace in {info.filename}: {how}"


_FAR_CELLS = [
    b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
    b'<row r="1048576"><c\tr="XFD1048576"><v>1</v></c></row>',
    b'<row r="1048576"><c\nr="XFD1048576"><v>1</v></c></row>',
    b'<row r="1048576"><c r="xfd1048576"><v>1</v></c></row>',
    b'<row r="1048576"><c s="0" r="XFD1048576"><v>1</v></c></row>',
    b"<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>",
    b'<row r="1048576"><c r = "XFD1048576"><v>1</v></c></row>',
    b'<row r="1048576"><c><v>1</v></c></row>',
    b'<row r="1"><c r="ZZZZ1"><v>1</v></c></row>',
    b'<row r="1048576"><c r="A1" r="XFD1048576"><v>1</v></c></row>',
    b'<row r="99999999"><c r="A99999999"><v>1</v></c></row>',
]


def _far_cell(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    ms = _members(raw)
    end = b"</sheetData>"
    k = rng.choice([j for j in _sheets(ms) if end in ms[j][1]])
    info, data = ms[k]
    cell = rng.choice(_FAR_CELLS)
    ms[k] = (info, data.replace(end, cell + end, 1))
    return _zip(ms), f"far cell in {info.filename}: {cell[:60]!r}"


def _encoding(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    ms = _members(raw)
    k = rng.choice(_xml_parts(ms))
    info, data = ms[k]
    enc = rng.choice([b"ISO-8859-1", b"GBK", b"UTF-16", b"windows-1252", b"US-ASCII", b"Big5"])
    if data.startswith(b"<?xml"):
        if rng.random() < 0.2:
            data = b"\n " + data  # the declaration no longer first
            how = "whitespace before the declaration"
        else:
            data = re.sub(rb'encoding="[^"]*"', b'encoding="' + enc + b'"', data, count=1)
            if b"encoding=" not in data[:100]:
                data = data.replace(b"<?xml ", b'<?xml encoding="' + enc + b'" ', 1)
            how = f"declared {enc.decode()}"
    else:
        data = b'<?xml version="1.0" encoding="' + enc + b'"?>' + data
        how = f"declaration {enc.decode()} added"
    ms[k] = (info, data)
    return _zip(ms), f"encoding of {info.filename}: {how}"


def _control(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    ms = _members(raw)
    k = rng.choice(_xml_parts(ms))
    info, data = ms[k]
    gaps = [m.end() for m in re.finditer(rb">[^<]", data)] or [len(data) // 2]
    at = rng.choice(gaps)
    ch = bytes([rng.choice([0x01, 0x08, 0x0B, 0x0C, 0x1F, 0x00])])
    ms[k] = (info, data[:at] + ch + data[at:])
    return _zip(ms), f"control 0x{ch[0]:02X} in {info.filename}"


def _count(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    ms = _members(raw)
    k = next((j for j, (i, b) in enumerate(ms) if b"uniqueCount" in b), None)
    if k is None:
        return _far_cell(rng, raw)
    info, data = ms[k]
    n = rng.choice([b"4000000000", b"99999999999", b"300000"])
    ms[k] = (info, re.sub(rb'uniqueCount="\d+"', b'uniqueCount="' + n + b'"', data, count=1))
    return _zip(ms), f"uniqueCount {n.decode()}"


_MUTATE = {"flip": _flip, "truncate": _truncate, "rename": _rename, "remove": _remove, "whitespace": _whitespace,
           "far_cell": _far_cell, "encoding": _encoding, "control": _control, "count": _count}


@dataclass
class Mutant:
    path: Path
    origin: Path
    kind: str
    how: str
    sha256: str


def make_mutants(bases: list[Path], d: Path, n: int, seed: int) -> list[Mutant]:
    """``n`` mutants of ``bases`` (round robin, one mutation each, kinds in turn) in ``d``."""
    rng = random.Random(seed)
    d.mkdir(parents=True, exist_ok=True)
    raws = {b: b.read_bytes() for b in bases}
    out: list[Mutant] = []
    for i in range(n):
        base = bases[i % len(bases)]
        kind = KINDS[(i // len(bases)) % len(KINDS)] if rng.random() < 0.7 else rng.choice(KINDS)
        try:
            data, how = _MUTATE[kind](rng, raws[base])
        except (zipfile.BadZipFile, ValueError, IndexError, struct.error):
            data, how = _flip(rng, raws[base])
            kind = "flip"
        p = d / f"m{i:05d}_{kind}_{base.stem}.xlsx"
        p.write_bytes(data)
        out.append(Mutant(p, base, kind, how, hashlib.sha256(data).hexdigest()))
    return out


# --- the run and the verdict ---------------------------------------------------------------------


@dataclass
class Facts:
    """What the verdict needs of one checked file (picklable, small)."""

    path: str
    status: str
    codes: list[str]
    keys: set[str]  # spec keys that a finding names
    values: dict[str, tuple[str, Any]] | None  # key → (state, number or raw), from the effective report
    meta: tuple[Any, Any, Any] | None  # agency, year, format


def check_facts(files: list[Path], workers: int = 2) -> list[Facts]:
    """``check_paths`` over ``files`` (the pool, as ``xltool check``), reduced to Facts."""
    from xltool.pipeline.check import check_paths

    run = check_paths(files, workers=workers)
    out = []
    for f in run.files:
        rep = f.report
        out.append(Facts(
            path=str(Path(f.path).resolve()),
            status=f.status.value if hasattr(f.status, "value") else str(f.status),
            codes=[x.code for x in f.findings],
            keys={x.key for x in f.findings if x.key},
            values=None if rep is None else {k: (v.state, v.number if v.state == "number" else v.raw)
                                             for k, v in rep.values.items()},
            meta=None if rep is None else (rep.meta.agency, rep.meta.year, rep.meta.format),
        ))
    for p in run.skipped:
        out.append(Facts(str(Path(p).resolve()), "skipped", [], set(), None, None))
    return out


# mutants that Excel would not open, or that would make a reader allocate a whole sheet grid:
# never 通过 (the guard refuses them, with a FILE_* reason)
NEVER_OK = ("truncate", "far_cell", "encoding", "control", "count")


@dataclass
class Verdict:
    n: int = 0
    wrongly_ok: list[str] = field(default_factory=list)  # a NEVER_OK kind (or no content types) that passed
    listed_wrong: list[str] = field(default_factory=list)  # not listed exactly once
    mismatched_ok: list[str] = field(default_factory=list)  # 通过 with other values, no finding naming them
    inputs_changed: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)  # FILE_CRASHED: a worker died (a guard gap)
    by_status: dict[str, int] = field(default_factory=dict)
    by_kind_ok: dict[str, int] = field(default_factory=dict)


def judge(mutants: list[Mutant], facts: list[Facts], originals: dict[str, Facts]) -> Verdict:
    v = Verdict(n=len(mutants))
    by_path: dict[str, list[Facts]] = {}
    for f in facts:
        by_path.setdefault(f.path, []).append(f)
    for m in mutants:
        key = str(m.path.resolve())
        got = by_path.get(key, [])
        if hashlib.sha256(m.path.read_bytes()).hexdigest() != m.sha256:
            v.inputs_changed.append(m.path.name)
        if len(got) != 1:
            v.listed_wrong.append(f"{m.path.name}: listed {len(got)} times")
            continue
        f = got[0]
        v.by_status[f.status] = v.by_status.get(f.status, 0) + 1
        if "FILE_CRASHED" in f.codes:
            v.crashed.append(f"{m.path.name} ({m.how})")
        if f.status != "ok":
            continue
        v.by_kind_ok[m.kind] = v.by_kind_ok.get(m.kind, 0) + 1
        if m.kind in NEVER_OK or m.how == "remove [Content_Types].xml":
            v.wrongly_ok.append(f"{m.path.name} ({m.how})")
        base = originals[str(m.origin.resolve())]
        assert base.values is not None
        differ = {k for k in set(base.values) | set(f.values or {}) if (f.values or {}).get(k) != base.values.get(k)}
        unexplained = differ - f.keys
        if unexplained or (f.meta != base.meta and not f.codes):
            shown = sorted(unexplained)[:3]
            v.mismatched_ok.append(f"{m.path.name} ({m.how}): {shown} {f.meta if f.meta != base.meta else ''}")
    return v
