"""The guard checks an identical member once per process (issue 10: a template's styles, theme,
relationships, meta sheet and a sheet's data validations are the same in every agency's file).

The cache must never change a verdict: a warm guard and a cold one agree on every fuzz mutant,
and a member forged to the cached one's name, size and CRC32 (CRC is no hash: four bytes make
any content match) is checked afresh and refused."""

from __future__ import annotations

import importlib
import io
import random
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

import xltool.read.guard  # noqa: F401  (the module: xltool.read exports a function of the same name)
from xltool.read.guard import Guarded, GuardError, forget_checked, guard

G = sys.modules["xltool.read.guard"]
sys.path.insert(0, str(Path(__file__).parent))
fz = importlib.import_module("fuzz_gen")


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return fz.originals(tmp_path_factory.mktemp("cache-originals"))


def _outcome(path: Path) -> tuple[object, ...]:
    try:
        g: Guarded = guard(path)
    except GuardError as e:
        return ("refused", e.code, e.message)
    return ("ok", g.kind, g.has_macros, sorted(g.parts.items()), sorted(g.extents.items()))


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"member": 0, "text": 0}
    member, text = G._check_member, G._check_text

    def count_member(*a: object, **k: object) -> object:
        calls["member"] += 1
        return member(*a, **k)

    def count_text(*a: object, **k: object) -> object:
        calls["text"] += 1
        return text(*a, **k)

    monkeypatch.setattr(G, "_check_member", count_member)
    monkeypatch.setattr(G, "_check_text", count_text)
    return calls


def test_a_second_agency_file_checks_only_what_differs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xltool.pipeline.synth import synth_values
    from xltool.spec import V2021
    from xltool.write.template import write_workbook

    rng = random.Random(7)
    a, b = (write_workbook(tmp_path / f"{n}.xlsx", V2021, 2025, agency=f"某某区{n}局", values=synth_values(V2021, rng))
            for n in ("甲", "乙"))
    forget_checked()
    cold_b = _outcome(b)
    forget_checked()
    calls = _counting(monkeypatch)
    guard(a)
    first = dict(calls)
    calls.update(member=0, text=0)
    warm_b = _outcome(b)
    assert warm_b == cold_b  # same parts, same extents
    n_members = len(zipfile.ZipFile(b).infolist())
    assert first["member"] == n_members
    assert 0 < calls["member"] < n_members  # the values' sheets and strings differ, the rest does not
    assert calls["text"] < first["text"]


def test_warm_cold_and_zipfile_guard_agree_on_every_mutant(bases: list[Path], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Three guards, one verdict: zipfile's own reading with nothing cached (the reference),
    the direct inflate with nothing cached, and with every original's member cached."""
    mutants = fz.make_mutants(bases, tmp_path / "m", 300, seed=1010)
    with monkeypatch.context() as mp:
        mp.setattr(G, "_inflate", lambda *a: None)
        reference = {}
        for m in mutants:
            forget_checked()
            reference[m.path] = _outcome(m.path)
    cold = {}
    for m in mutants:
        forget_checked()
        cold[m.path] = _outcome(m.path)
    forget_checked()
    for b in bases:
        guard(b)  # the originals' members are all known now
    warm = {m.path: _outcome(m.path) for m in mutants}
    assert [(m.kind, m.how) for m in mutants if cold[m.path] != reference[m.path]] == []
    assert [(m.kind, m.how) for m in mutants if warm[m.path] != reference[m.path]] == []
    assert {o[0] for o in cold.values()} == {"ok", "refused"}  # the corpus holds both


def test_a_local_header_naming_another_member_is_refused(bases: list[Path], tmp_path: Path) -> None:
    data = bytearray(bases[1].read_bytes())
    with zipfile.ZipFile(bases[1]) as z:
        info = z.getinfo("docProps/core.xml")
    at = info.header_offset + 30 + len("docProps/core.")
    assert bytes(data[at:at + 3]) == b"xml"
    data[at:at + 3] = b"Xml"  # only the local header: the directory still says core.xml
    bad = tmp_path / "local-name.xlsx"
    bad.write_bytes(bytes(data))
    for warm in (False, True):
        forget_checked()
        if warm:
            guard(bases[1])
        with pytest.raises(GuardError) as e:
            guard(bad)
        assert e.value.code == "CORRUPT" and ("core.Xml" in e.value.message or "core.xml" in e.value.message)


def _forge_crc(data: bytes, pos: int, target: int) -> bytes:
    """``data`` with its four bytes at ``pos`` replaced so that its CRC32 is ``target``
    (CRC32 is affine over GF(2): solve for the 32 bits)."""
    base = bytearray(data)
    base[pos:pos + 4] = b"\0\0\0\0"
    c0 = zlib.crc32(base)
    cols = []
    for bit in range(32):
        v = bytearray(base)
        v[pos + bit // 8] |= 1 << (bit % 8)
        cols.append(zlib.crc32(v) ^ c0)
    want = target ^ c0
    rows = [(cols[bit], 1 << bit) for bit in range(32)]  # (effect on the CRC, which bits)
    basis: dict[int, tuple[int, int]] = {}
    for eff, bits in rows:
        for hi in sorted(basis, reverse=True):
            if eff >> hi & 1:
                eff ^= basis[hi][0]
                bits ^= basis[hi][1]
        if eff:
            basis[eff.bit_length() - 1] = (eff, bits)
    sol = 0
    for hi in sorted(basis, reverse=True):
        if want >> hi & 1:
            want ^= basis[hi][0]
            sol ^= basis[hi][1]
    assert want == 0
    base[pos:pos + 4] = sol.to_bytes(4, "little")
    assert zlib.crc32(base) == target
    return bytes(base)


def test_a_member_forged_to_the_cached_crc_is_refused(bases: list[Path], tmp_path: Path) -> None:
    good = bases[1]  # the V2021 template
    with zipfile.ZipFile(good) as z:
        members = [(i, z.read(i)) for i in z.infolist()]
    k, (info, styles) = next((k, m) for k, m in enumerate(members) if m[0].filename == "xl/styles.xml")
    at = styles.index(b"<fonts")
    evil = styles[:at] + b"<!DOCTYPE a>" + styles[at + 12:]  # the same length
    forged = _forge_crc(evil, at + 40, info.CRC)
    assert len(forged) == len(styles) and zlib.crc32(forged) == info.CRC and forged != styles

    def rezip(path: Path, styles_data: bytes) -> Path:  # styles stored: the same sizes, only the bytes differ
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for j, (i, data) in enumerate(members):
                zi = zipfile.ZipInfo(i.filename, date_time=i.date_time)
                zi.compress_type = zipfile.ZIP_STORED if j == k else zipfile.ZIP_DEFLATED
                z.writestr(zi, styles_data if j == k else data)
        path.write_bytes(buf.getvalue())
        return path

    ok, bad = rezip(tmp_path / "stored.xlsx", styles), rezip(tmp_path / "forged.xlsx", forged)
    with zipfile.ZipFile(ok) as a, zipfile.ZipFile(bad) as b:
        fa, fb = a.getinfo("xl/styles.xml"), b.getinfo("xl/styles.xml")
        assert (fa.CRC, fa.file_size, fa.compress_size, fa.header_offset) == (fb.CRC, fb.file_size, fb.compress_size,
                                                                              fb.header_offset)
    forget_checked()
    guard(ok)  # styles.xml is now known: name, flags, sizes, CRC and local header all equal the forged one's
    with pytest.raises(GuardError) as e:
        guard(bad)
    assert e.value.code in ("XML_DTD", "XML_MALFORMED", "XML_ENCODING")


def test_a_bad_tail_after_a_cached_one_is_refused(bases: list[Path], tmp_path: Path) -> None:
    good = bases[1]
    with zipfile.ZipFile(good) as z:
        members = [(i, z.read(i)) for i in z.infolist()]
    k = max(range(len(members)), key=lambda j: len(members[j][1]) - members[j][1].rfind(b"sheetData")
            if b"sheetData" in members[j][1] else -1)
    _info, sheet = members[k]
    assert len(sheet) - sheet.rfind(b"sheetData") >= G._TAIL_CACHE_MIN  # a tail the cache would keep
    forget_checked()
    guard(good)
    for bad_bytes, code in ((b"&#1;", "XML_MALFORMED"), (b"\x0b", "XML_MALFORMED"), (b"\xff", "XML_ENCODING")):
        cut = len(sheet) - 20  # inside the tail, near the end
        evil = sheet[:cut] + bad_bytes + sheet[cut:]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for j, (i, data) in enumerate(members):
                z.writestr(i, evil if j == k else data)
        bad = tmp_path / "tail.xlsx"
        bad.write_bytes(buf.getvalue())
        with pytest.raises(GuardError) as e:
            guard(bad)
        assert e.value.code == code


def test_direct_inflate_reads_what_zipfile_reads(bases: list[Path]) -> None:
    for path in bases:
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            keys = G._member_keys(data, infos, G.DEFAULT_LIMITS)
            for i in infos:
                assert G._inflate(i, keys[i.filename], 1 << 20) == z.read(i)
    # a stream cut short is not read directly (zipfile's reading decides)
    i = infos[0]
    key = keys[i.filename]
    assert G._inflate(i, (*key[:-1], key[-1][:-3]), 1 << 20) is None
