"""The guard, proven total (issue 15): every way a far cell can be written, every member
whatever its name, every zip/zlib/XML failure a FILE_* reason; and the protections around it
(worker processes for any batch size, special files, names, outputs that never touch inputs,
exclusive output claims, stale temporary files).
"""

from __future__ import annotations

import importlib
import io
import os
import sys
import zipfile
from pathlib import Path

import pytest

from xltool.core.names import name_problem
from xltool.read import find_workbooks, read_file, read_many
from xltool.read.guard import GuardError, guard, sheet_extent
from xltool.read.pool import IsolatedError, run_isolated
from xltool.workbook.fileio import TMP_PREFIX, atomic_path, input_conflict, remove_stale_temps
from xltool.workbook.meta import NAME_MAX_BYTES, template_filename

sys.path.insert(0, str(Path(__file__).parent))
gen = importlib.import_module("repro_gen")

ROW = '<row r="{r}">{c}</row>'
FAR = {
    "canonical": '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
    "tab": '<row r="1048576"><c\tr="XFD1048576"><v>1</v></c></row>',
    "lf": '<row r="1048576"><c\nr="XFD1048576"><v>1</v></c></row>',
    "cr": '<row r="1048576"><c\rr="XFD1048576"><v>1</v></c></row>',
    "lower": '<row r="1048576"><c r="xfd1048576"><v>1</v></c></row>',
    "r_second": '<row r="1048576"><c s="0" r="XFD1048576"><v>1</v></c></row>',
    "single_quotes": "<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>",
    "spaces_around_eq": '<row r="1048576"><c r = "XFD1048576"><v>1</v></c></row>',
    "row_only": '<row r="1048576"><c><v>1</v></c></row>',
    "four_letters": '<row r="1"><c r="ZZZZ1"><v>1</v></c></row>',
    "prefixed": '<x:row r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row>',
}


def _sheet(rows: str, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    ns = f' xmlns:{prefix}="urn:x"' if prefix else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet{ns}><{p}sheetData>'
            f'<{p}row r="1"><{p}c r="A1"><{p}v>1</{p}v></{p}c></{p}row>{rows}</{p}sheetData></{p}worksheet>').encode()


@pytest.mark.parametrize("kind", sorted(FAR))
def test_sheet_extent_sees_every_far_cell(kind: str) -> None:
    xml = _sheet(FAR[kind], "x" if kind == "prefixed" else "")
    rows, cols, _cells = sheet_extent(xml, 5000, 200)
    assert rows > 5000 or cols > 200, (kind, rows, cols)


def test_sheet_extent_two_r_attributes_are_not_xml() -> None:
    """python-calamine takes the last r; a cell with two is not well-formed XML: refused."""
    with pytest.raises(GuardError) as e:
        sheet_extent(_sheet('<row r="2"><c r="A2" r="XFD1048576"><v>1</v></c></row>'), 5000, 200)
    assert e.value.code == "XML_MALFORMED"


def test_sheet_extent_ignores_text_and_empty_cells() -> None:
    """A reference inside a cell's text or a comment is not a cell; an empty (style-only) far cell
    does not count."""
    rows = ('<row r="2"><c r="A2" t="inlineStr"><is><t> r="XFD1048576" &lt;c r="XFD9"</t></is></c></row>'
            '<!-- <c r="XFD1048576"><v>1</v></c> --><row r="3"><c r="XFD1048575" s="1"/></row>')
    assert sheet_extent(_sheet(rows), 5000, 200)[:2] == (2, 1)


def _good() -> bytes:
    return gen.sample(gen.CLEAN).read_bytes()


def _rewrite(raw: bytes, fn) -> bytes:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i, b in fn(members):
            z.writestr(zipfile.ZipInfo(i.filename if isinstance(i, zipfile.ZipInfo) else i, date_time=(2025, 1, 1, 0, 0, 0)), b)
    return out.getvalue()


def _sheet3(members):
    return gen.sheet_part(members, gen.SHEET_T3)


CASES = {
    "no_content_types": (lambda ms: [(i, b) for i, b in ms if i.filename != "[Content_Types].xml"], "FILE_NO_CONTENT_TYPES"),
    "encoding_gbk": (lambda ms: [(i, b.replace(b'encoding="UTF-8"', b'encoding="GBK"') if i.filename == _sheet3(ms) else b)
                                 for i, b in ms], "FILE_XML_ENCODING"),
    "raw_vt": (lambda ms: [(i, b.replace(b"</sheetData>", b"<row r=\"99\"><c r=\"A99\" t=\"inlineStr\"><is><t>a\x0bb</t></is></c></row></sheetData>")
                            if i.filename == _sheet3(ms) else b) for i, b in ms], "FILE_XML_MALFORMED"),
    "char_ref_1": (lambda ms: [(i, b.replace(b"</sheetData>", b"<row r=\"99\"><c r=\"A99\" t=\"inlineStr\"><is><t>a&#1;b</t></is></c></row></sheetData>")
                                if i.filename == _sheet3(ms) else b) for i, b in ms], "FILE_XML_MALFORMED"),
    "not_utf8": (lambda ms: [(i, b.replace(b"</sheetData>", b"<row r=\"99\"><c r=\"A99\" t=\"inlineStr\"><is><t>\xb1\xed</t></is></c></row></sheetData>")
                              if i.filename == _sheet3(ms) else b) for i, b in ms], "FILE_XML_ENCODING"),
    "huge_unique_count": (lambda ms: [(i, b.replace(b'uniqueCount="', b'uniqueCount="4000000000') if i.filename == "xl/sharedStrings.xml" else b)
                                      for i, b in ms], "FILE_CORRUPT"),
    "dtd_in_bin_part": (lambda ms: [*ms, (zipfile.ZipInfo("xl/extra.bin"), b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>')],
                        "FILE_XML_DTD"),
    "duplicate_names": (lambda ms: [*ms, (zipfile.ZipInfo("XL/workbook.xml"), b"<x/>")], "FILE_CORRUPT"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_what_excel_refuses_is_unreadable(tmp_path: Path, case: str) -> None:
    fn, code = CASES[case]
    p = tmp_path / f"{case}.xlsx"
    p.write_bytes(_rewrite(_good(), fn))
    r = read_file(p)
    assert r.status == "unreadable" and r.findings[0].code == code, (r.status, [f.code for f in r.findings])


def test_broken_zips_are_file_codes(tmp_path: Path) -> None:
    for make in (gen.make_zlib_min, gen.make_corrupt_deflate, gen.make_bad_cd_offset):
        p = make(tmp_path)
        r = read_file(p)
        assert r.status == "unreadable" and r.findings[0].code.startswith("FILE_"), (p.name, r.findings)


def test_worksheet_under_any_name_is_guarded(tmp_path: Path) -> None:
    for ext in (".bin", ".XML"):
        with pytest.raises(GuardError) as e:
            guard(gen.make_sheet_part_not_xml(tmp_path, ext))
        assert e.value.code == "EXTENT"


def test_a_good_file_still_passes(tmp_path: Path) -> None:
    g = guard(gen.sample(gen.CLEAN))
    assert g.parts and max(r for r, _c, _n in g.extents.values()) < 5000


# --- special files, folders ----------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_special_files_are_listed_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.xlsx")
    (tmp_path / "broken.xlsx").symlink_to(tmp_path / "nowhere.xlsx")
    (tmp_path / "dir_link").symlink_to(tmp_path, target_is_directory=True)
    skipped: list[tuple[str, str]] = []
    found = find_workbooks([tmp_path], skipped=skipped)
    assert {p.name for p in found} == {"fifo.xlsx", "broken.xlsx"}
    assert [Path(p).name for p, _why in skipped] == ["dir_link"]
    for p in found:
        r = read_file(p)  # would block forever on the FIFO if it were opened
        assert r.status == "unreadable" and r.findings[0].code == "FILE_NOT_REGULAR", r.findings


# --- workers for any batch size -------------------------------------------------------------------


def test_one_file_is_read_in_a_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The verdict never depends on batch size: one file goes through the pool as well."""
    import xltool.read.pool as pool

    started: list[int] = []
    real = pool._Worker.__init__

    def spy(self, *a, **k):  # type: ignore[no-untyped-def]
        real(self, *a, **k)
        started.append(self.proc.pid)

    monkeypatch.setattr(pool._Worker, "__init__", spy)
    (r,) = list(read_many([gen.sample(gen.CLEAN)]))
    assert r.status == "ok" and len(started) == 1


def _abort() -> None:
    os.abort()


def test_run_isolated_survives_an_abort() -> None:
    assert run_isolated(sorted, [3, 1, 2]) == [1, 2, 3]
    with pytest.raises(IsolatedError) as e:
        run_isolated(_abort)
    assert "SIGABRT" in str(e.value)


# --- names ------------------------------------------------------------------------------------


def test_names_by_bytes_and_without_format_characters() -> None:
    fits = "局" * (NAME_MAX_BYTES // 3)
    assert name_problem(fits) is None
    assert len(template_filename(2025, fits).encode()) <= 255 - len("_校验意见_99".encode())
    assert "字节" in (name_problem("局" * 85, max_bytes=NAME_MAX_BYTES) or "")
    assert "格式控制字符" in (name_problem("财政局\u202egpj.exe") or "")
    assert name_problem("财政局\u200b") is not None


# --- outputs and inputs ---------------------------------------------------------------------------


def test_input_conflict(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    a = d / "a.xlsx"
    a.write_bytes(b"x")
    os.link(a, tmp_path / "same.xlsx")
    assert input_conflict(a, [d], files=[a])  # one of the files read
    assert input_conflict(a / "r.json", [a])  # below an input file
    assert input_conflict(d, [d])  # the input folder itself
    assert input_conflict(d, [d], folder_ok=True) is None  # allowed for the feedback folder
    assert input_conflict(tmp_path / "same.xlsx", [d], files=[a])  # a hard link to an input
    assert input_conflict(d / "r.json", [d], files=[a]) is None  # a new file next to the inputs
    assert input_conflict(tmp_path / "out.xlsx", [d], files=[a]) is None


def test_atomic_path_claims_exclusively(tmp_path: Path) -> None:
    target = tmp_path / "S.xlsx"
    with pytest.raises(FileExistsError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"mine")
            target.write_bytes(b"theirs")  # another run finished first
    assert target.read_bytes() == b"theirs"
    assert sorted(os.listdir(tmp_path)) == ["S.xlsx"]


def test_stale_temporary_files_are_removed(tmp_path: Path) -> None:
    from xltool.workbook import fileio

    dead = 2**22 + 12345  # above pid_max's default: no such process
    stale = tmp_path / f"{TMP_PREFIX}{fileio._HOST}-{dead}-0123abcd.xlsx"
    stale.write_bytes(b"x")
    (tmp_path / f"{TMP_PREFIX}{fileio._HOST}-{dead}-4567abcd.d").mkdir()
    live = tmp_path / f"{TMP_PREFIX}{fileio._HOST}-{os.getpid()}-89abcdef.xlsx"
    live.write_bytes(b"x")
    other = tmp_path / f"{TMP_PREFIX}ffffffff-{dead}-0123abcd.xlsx"  # another machine's, fresh
    other.write_bytes(b"x")
    foreign = tmp_path / ".~tmp-unrelated.xlsx"
    foreign.write_bytes(b"x")
    removed = remove_stale_temps(tmp_path)
    assert len(removed) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, foreign.name])


# --- numbers and text no spreadsheet could have ---------------------------------------------------


def test_implausible_numbers_are_errors_and_never_summed(tmp_path: Path) -> None:
    from xltool.pipeline.combine import combine

    d = tmp_path / "in"
    gen.make_t4_value(d, gen.CLEAN, "1e308", "a.xlsx")
    gen.make_t4_value(d, gen.CLEAN_2, "1e309", "b.xlsx")
    gen.copy_sample(gen.CLEAN_3, d)
    res = combine([d], include_invalid=True)
    key = next(k for k in res.totals if k.startswith("sec4.") and res.table[k].isna().sum() == 2)
    assert res.totals[key] < 1e9
    codes = {o.sub.path.name: [f.code for f in o.sub.findings] for o in res.outcomes}
    assert "NUMBER_IMPLAUSIBLE" in codes["a.xlsx"] and "NUMBER_IMPLAUSIBLE" in codes["b.xlsx"]


def test_formula_in_an_input_cell(tmp_path: Path) -> None:
    ok = read_file(gen.make_formula_input(tmp_path / "a", "(3+4)*2", "0"))
    f = [x for x in ok.findings if x.cell == "N5"]
    assert [x.code for x in f] == ["INPUT_FORMULA"]
    assert ok.report is not None and ok.report.values[f[0].key].number == 14
    from xltool.rules.validate import evaluate

    bad = read_file(gen.make_formula_input(tmp_path / "b", "A1+1", "5"))
    codes = [x.code for x in evaluate(bad).findings if x.cell == "N5"]
    assert codes == ["INPUT_FORMULA_UNSUPPORTED"]  # an error, said once (not also NOT_NUMBER)


def test_control_characters_are_reported_and_dropped(tmp_path: Path) -> None:
    from xltool.cli import main

    src = gen.make_narrative_charref(tmp_path / "in", "_x0001_")
    r = read_file(src)
    assert "TEXT_CONTROL_CHARS" in [x.code for x in r.findings]
    assert r.report is not None and all("\x01" not in t for t in r.report.narrative.values())
    out = tmp_path / "out"
    assert main(["render", str(src), "--html", str(out / "a.html"), "--docx", str(out / "a.docx")]) == 0
    assert (out / "a.html").stat().st_size and (out / "a.docx").stat().st_size
