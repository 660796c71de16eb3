"""The hostile corpus: every bad file gets its own Chinese reason, and none stops a batch."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

from xltool.read import GuardLimits, read_file, read_many
from xltool.read.guard import GuardError, guard, ole_entry_names, sheet_extent

sys.path.insert(0, str(Path(__file__).parent))
hostile = importlib.import_module("hostile")

EXPECTED = {
    "not_a_zip": "FILE_NOT_WORKBOOK",
    "truncated_zip": "FILE_TRUNCATED",
    "empty_file": "FILE_EMPTY",
    "csv_renamed": "FILE_CSV",
    "html_renamed": "FILE_HTML",
    "wps_et_renamed": "FILE_OLE_UNKNOWN",
    "encrypted_workbook": "FILE_ENCRYPTED",
    "encrypted_handmade": "FILE_ENCRYPTED",
    "dense_zip_bomb": "FILE_ZIP_BOMB",
    "lying_zip": "FILE_CORRUPT",
    "sparse_corner": "FILE_EXTENT",
    "no_ref_far_row": "FILE_EXTENT",
    "billion_laughs": "FILE_XML_DTD",
    "xxe": "FILE_XML_DTD",
    "docx_renamed": "FILE_NOT_WORKBOOK",
}
KEYWORD = {  # the words a clerk must see in the reason
    "FILE_ENCRYPTED": "密码",
    "FILE_CSV": "CSV",
    "FILE_HTML": "网页",
    "FILE_EMPTY": "空",
    "FILE_TRUNCATED": "不完整",
    "FILE_OLE_UNKNOWN": "另存为",
    "FILE_EXTENT": "Sheet1",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return hostile.write_all(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_hostile_file_is_unreadable_with_its_reason(corpus: dict[str, Path], name: str) -> None:
    r = read_file(corpus[name])
    code = EXPECTED[name]
    assert r.status == "unreadable" and r.report is None
    assert [f.code for f in r.findings] == [code]
    assert r.error and r.findings[0].message == r.error
    if code in KEYWORD:
        assert KEYWORD[code] in r.error
    assert all(ord(ch) < 128 for ch in r.error) is False  # Chinese text


def test_controls_read_fine(corpus: dict[str, Path]) -> None:
    r = read_file(corpus["without_tables"])
    assert r.status == "ok" and [f.code for f in r.findings if f.severity.value == "error"] == ["NO_TABLES"]
    m = read_file(corpus["macro_workbook"])
    assert m.status == "ok" and m.has_macros and "HAS_MACROS" in [f.code for f in m.findings]


def test_wps_et_extension_gets_the_wps_message(tmp_path: Path) -> None:
    p = hostile.wps_et_renamed(tmp_path, suffix=".et")
    with pytest.raises(GuardError) as e:
        guard(p)
    assert e.value.code == "WPS_ET" and "WPS" in e.value.message


def test_ole_directory_names() -> None:
    data = hostile._cfb({"EncryptionInfo": b"x", "EncryptedPackage": b"y", "Workbook": b"z"})
    assert {"EncryptionInfo", "EncryptedPackage", "Workbook", "Root Entry"} <= ole_entry_names(data)
    assert ole_entry_names(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100) == set()


def test_extent_ignores_dimension_and_style_only_cells() -> None:
    head = b'<worksheet><dimension ref="A1:XFD1048576"/><sheetData>'
    xml = head + b'<row r="3"><c r="C3"><v>1</v></c><c r="XFD9000" s="1"/></row></sheetData></worksheet>'
    assert sheet_extent(xml) == (9000, 16384, 2)  # fast path: every reference
    assert sheet_extent(xml, 5000, 200) == (3, 3, 2)  # over the limit: empty style-only cells do not count


def test_extent_in_chunks_equals_extent_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A big sheet's references are taken chunk by chunk (bounded memory); the answer is the same,
    the largest row or column sitting in any chunk, and a hostile cell still takes the slow path."""
    g = importlib.import_module("xltool.read.guard")

    rows = [b'<row r="%d"><c r="A%d"><v>1</v></c><c r="%s%d"><v>2</v></c></row>'
            % (r, r, b"ZZ" if r == 37 else b"C", r) for r in range(1, 200)]
    rows.insert(120, b'<row r="5000"><c r="B5000"><v>3</v></c></row>')
    xml = b"<worksheet><sheetData>" + b"".join(rows) + b"</sheetData></worksheet>"
    whole = sheet_extent(xml)
    assert whole == (5000, 702, 2 * 199 + 1)
    monkeypatch.setattr(g, "_EXTENT_CHUNK", 100)  # dozens of chunks
    assert sheet_extent(xml) == whole
    odd = xml.replace(b'<c r="A150">', b'<c  r="A150">')  # two spaces: not canonical, parsed instead
    assert sheet_extent(odd) == whole


def test_batch_survives_a_parser_abort(corpus: dict[str, Path], tmp_path: Path) -> None:
    """With the extent check switched off, python-calamine really aborts (SIGABRT) on the sparse corner.

    The worker dies, the file is reported, the worker is replaced and the files after it are read.
    """
    good = hostile.plain_workbook(tmp_path / "good.xlsx")
    files = [good, corpus["sparse_corner"], good, corpus["empty_file"], good]
    loose = GuardLimits(max_rows=2_000_000, max_cols=20_000)
    res = list(read_many(files, workers=2, limits=loose, memory_mb=512))
    assert [r.path for r in res] == [str(f) for f in files]
    assert [r.status for r in res] == ["ok", "unreadable", "ok", "unreadable", "ok"]
    crash = res[1].findings[0]
    assert crash.code in ("FILE_CRASHED", "FILE_MEMORY"), crash
    assert "异常终止" in crash.message or "内存" in crash.message
    assert res[3].findings[0].code == "FILE_EMPTY"


def test_whole_corpus_through_read_many(corpus: dict[str, Path]) -> None:
    files = [corpus[n] for n in sorted(corpus)]
    seen: list[tuple[int, int]] = []
    res = list(read_many(files, workers=2, progress=lambda d, t: seen.append((d, t))))
    assert [r.path for r in res] == [str(f) for f in files]
    for name, r in zip(sorted(corpus), res, strict=True):
        if name in EXPECTED:
            assert r.findings[0].code == EXPECTED[name], name
        else:
            assert r.status == "ok", name
    assert seen[-1] == (len(files), len(files)) and len(seen) == len(files)


def test_timeout_and_memory_limit_cost_one_file(corpus: dict[str, Path], tmp_path: Path) -> None:
    good = hostile.plain_workbook(tmp_path / "good.xlsx")
    big = hostile.dense_zip_bomb(tmp_path, cells=1_000_000)  # ~20 MB of XML, 1 M cells
    loose = GuardLimits(max_ratio=10_000, max_cells=10_000_000, max_rows=100_000, max_member_bytes=100 << 20, max_total_bytes=200 << 20)
    # the bomb takes ~9 s to read here; 2 s is >50x what a normal file needs even on a loaded
    # machine, so the timeout hits only the bomb (0.05 s also timed out a normal file under load)
    res = list(read_many([good, big, good], workers=1, timeout=2.0, limits=loose, isolate=True))
    assert [r.status for r in res] == ["ok", "unreadable", "ok"]
    assert res[1].findings[0].code == "FILE_TIMEOUT" and "超时" in res[1].error
    res = list(read_many([big, good], workers=1, memory_mb=64, limits=loose, isolate=True))
    assert res[0].status == "unreadable" and res[0].findings[0].code in ("FILE_MEMORY", "FILE_CRASHED", "FILE_PARSE_ERROR")
    assert res[1].status == "ok"


@pytest.mark.soffice
def test_legacy_xls_made_by_libreoffice(tmp_path: Path, soffice_profile: Path) -> None:
    from test_reader_foreign import _values, draw

    from xltool.spec import V2021
    from xltool.workbook.soffice import convert

    src = tmp_path / "report.xlsx"
    vals = _values(V2021)
    draw(src, V2021, vals)
    (xls,) = convert([src], tmp_path / "out", "xls", profile=soffice_profile)
    assert xls.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    r = read_file(xls)
    assert r.status == "ok", r.error
    codes = [f.code for f in r.findings]
    assert "LEGACY_XLS" in codes and "NOT_TEMPLATE" in codes
    assert r.report is not None and r.report.meta.format == "2021"
    for k, v in vals.items():
        assert r.report.values[k].number == v, k
    renamed = xls.with_name("renamed.xlsx")  # a legacy file with the wrong extension still reads
    renamed.write_bytes(xls.read_bytes())
    assert read_file(renamed).status == "ok"
