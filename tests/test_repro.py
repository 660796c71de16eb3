"""Reliability reproducers R01–R15 (/work/shared/reliability/repro/README.txt) as CLI tests.

The tool is driven only through its command line (``python -m xltool …`` in a subprocess),
never through its modules, so these tests do not depend on how the package is organised
inside. The hostile files are made by ``tests/repro_gen.py`` from the committed sample
returns. Every test states the behaviour the defect report asks for; most fail until the
defect is fixed.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
gen = importlib.import_module("repro_gen")

CLI = [sys.executable, "-m", "xltool"]
YEAR = "2025"


# --- running the tool ------------------------------------------------------------------


@dataclass
class Run:
    args: list[str]
    rc: int
    out: str
    err: str

    def tail(self, n: int = 1500) -> str:
        return f"exit {self.rc}\n--- stdout\n{self.out[-n:]}\n--- stderr\n{self.err[-n:]}"


def _cap_memory() -> None:  # pragma: no cover - runs in the child
    """Address-space cap for runs on files that make the parser allocate the whole sheet grid."""
    lim = 8 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))


def xltool(*args: str | Path, cwd: Path | None = None, timeout: float = 120, env: dict[str, str] | None = None,
           prefix: list[str] | None = None, cap_memory: bool = False) -> Run:
    argv = [*(prefix or []), *CLI, *map(str, args)]
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=timeout, env=env,
                           preexec_fn=_cap_memory if cap_memory else None)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"xltool {' '.join(map(str, args))} did not finish within {timeout} s (hung)\n"
                    f"{(e.stdout or b'')[-800:].decode('utf-8', 'replace')}")
    return Run(argv, p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def assert_clean_exit(r: Run, allowed: tuple[int, ...] = (0, 1, 2)) -> None:
    """No signal death (SIGABRT = -6 / 134), no Python traceback, a documented exit code."""
    assert r.rc >= 0, f"killed by signal {-r.rc}\n{r.tail()}"
    assert r.rc != 134, f"aborted (SIGABRT)\n{r.tail()}"
    assert "Traceback" not in r.err, r.tail(4000)
    assert "panicked" not in r.err, r.tail(4000)
    assert r.rc in allowed, r.tail()


def load_json(p: Path, r: Run) -> dict:
    assert p.is_file(), f"no JSON report written at {p}\n{r.tail()}"
    return json.loads(p.read_text(encoding="utf-8"))


def record(report: dict, name: str) -> dict:
    hits = [f for f in report["files"] if Path(f["path"]).name == name]
    assert len(hits) == 1, f"{name} listed {len(hits)} times in the JSON report: {[f['path'] for f in report['files']]}"
    return hits[0]


def assert_unreadable(rec: dict) -> None:
    codes = [i["code"] for i in rec["issues"]]
    assert rec["status"] == "unreadable", (rec["status"], codes)
    assert any(c.startswith("FILE_") for c in codes), codes


def error_at(rec: dict, sheet_prefix: str, cell: str) -> list[dict]:
    return [i for i in rec["issues"] if i["severity"] == "error" and (i.get("sheet") or "").startswith(sheet_prefix)
            and i.get("cell") == cell]


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def all_entries(d: Path) -> list[str]:
    """Every entry under ``d`` (hidden ones included), relative, sorted."""
    if not d.exists():
        return []
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


# --- R01 / R02: a cell the extent guard cannot see aborts the whole process ---------------


@pytest.mark.parametrize("seps", ["\t", "\n\r"], ids=["tab", "lf+cr"])
def test_r01_check_far_cell_after_whitespace_is_unreadable(tmp_path: Path, seps: str) -> None:
    """R01: ``<c\\tr="XFD1048576">`` (or LF / CR) → each file is 无法读取 (FILE_*), JSON written, no SIGABRT.

    At most 3 files, so they are read in the main process (where an abort takes the whole run).
    """
    bad = [gen.make_far_cell_whitespace(tmp_path / "in", sep) for sep in seps]
    j = tmp_path / "r.json"
    r = xltool("check", *bad, "--json", j, cap_memory=True)
    assert_clean_exit(r, (1,))
    rep = load_json(j, r)
    for b in bad:
        assert_unreadable(record(rep, b.name))


def test_r01_combine_far_cell_is_excluded_not_fatal(tmp_path: Path) -> None:
    """R01 in combine (≤3 files, read in-process): the summary is written without the bad file."""
    d = tmp_path / "in"
    bad = gen.make_far_cell_whitespace(d, "\t")
    gen.copy_sample(gen.CLEAN, d)
    gen.copy_sample(gen.CLEAN_2, d)
    out, j = tmp_path / "S.xlsx", tmp_path / "c.json"
    r = xltool("combine", d, "--out", out, "--json", j, cap_memory=True)
    assert_clean_exit(r, (1,))
    assert out.is_file()
    rec = record(load_json(j, r), bad.name)
    assert_unreadable(rec)
    assert rec["combine"]["included"] is False


def test_r01_render_far_cell_refuses_cleanly(tmp_path: Path) -> None:
    """R01 in render: a refusal with a message (exit 1/2), nothing written, no SIGABRT."""
    bad = gen.make_far_cell_whitespace(tmp_path / "in", "\t")
    o = tmp_path / "out"
    r = xltool("render", bad, "--html", o / "a.html", "--docx", o / "a.docx", cap_memory=True)
    assert_clean_exit(r, (1, 2))
    assert all_entries(o) == []


def test_r02_check_sheet_part_not_named_xml_is_guarded(tmp_path: Path) -> None:
    """R02: a worksheet part named *.bin / *.XML gets the same extent/bomb/DTD checks → FILE_*, no SIGABRT."""
    bad = [gen.make_sheet_part_not_xml(tmp_path / "in", ext) for ext in (".bin", ".XML")]
    j = tmp_path / "r.json"
    r = xltool("check", *bad, "--json", j, cap_memory=True)
    assert_clean_exit(r, (1,))
    rep = load_json(j, r)
    for b in bad:
        assert_unreadable(record(rep, b.name))


# --- R03 / R06: zlib.error and bad offsets escape the guard ----------------------------------

BROKEN_ZIPS = {
    "zlib_min": gen.make_zlib_min,
    "deflate_flip": gen.make_corrupt_deflate,
    "bad_cd_offset": gen.make_bad_cd_offset,
}


def test_r03_check_broken_zips_in_process(tmp_path: Path) -> None:
    """R03: corrupt deflate stream (zlib.error) / negative member offset (ValueError) → each 无法读取
    (FILE_*), JSON written, no traceback. Three files: read in the main process."""
    bad = [fn(tmp_path / "in") for fn in BROKEN_ZIPS.values()]
    j = tmp_path / "r.json"
    r = xltool("check", *bad, "--json", j)
    assert_clean_exit(r, (1,))
    rep = load_json(j, r)
    for b in bad:
        assert_unreadable(record(rep, b.name))


def test_r03_check_broken_zips_in_a_pooled_batch(tmp_path: Path) -> None:
    """R03 with more files than the in-process limit (worker pool): each broken zip is 无法读取, the rest read."""
    d = tmp_path / "in"
    bad = [fn(d) for fn in BROKEN_ZIPS.values()]
    good = [gen.copy_sample(a, d) for a in (gen.CLEAN, gen.CLEAN_2, gen.CLEAN_3)]
    j = tmp_path / "r.json"
    r = xltool("check", d, "--json", j, "--workers", "2")
    assert_clean_exit(r, (1,))
    rep = load_json(j, r)
    for b in bad:
        assert_unreadable(record(rep, b.name))
    for g in good:
        assert record(rep, g.name)["status"] == "ok"


def test_r06_combine_with_broken_zip_writes_summary(tmp_path: Path) -> None:
    """R06: 4 good files + zlib_min.xlsx → summary written, the bad file 无法读取 and not included (exit 1)."""
    d = tmp_path / "in"
    for a in (gen.CLEAN, gen.CLEAN_2, gen.FOREIGN, gen.CLEAN_3):
        gen.copy_sample(a, d)
    bad = gen.make_zlib_min(d)
    out, j = tmp_path / "S.xlsx", tmp_path / "c.json"
    r = xltool("combine", d, "--out", out, "--json", j)
    assert_clean_exit(r, (1,))
    assert out.is_file(), r.tail()
    rec = record(load_json(j, r), bad.name)
    assert_unreadable(rec)
    assert rec["combine"]["included"] is False


# --- R04: a >32767-character cell text aborts check --feedback ---------------------------------


def test_r04_feedback_survives_overlong_cell_text(tmp_path: Path) -> None:
    """R04: every file gets its record and (if it has findings) its feedback copy; the over-long
    基本信息!B7 either survives into the copy or is reported as an error at that cell."""
    d = tmp_path / "in"
    filler = gen.make_long_text(d)
    gen.copy_sample(gen.CLEAN, d)
    foreign = gen.copy_sample(gen.FOREIGN, d)
    fb, j = tmp_path / "fb", tmp_path / "r.json"
    r = xltool("check", d, "--feedback", fb, "--json", j)
    assert_clean_exit(r, (0, 1))
    rep = load_json(j, r)
    assert len(rep["files"]) == 3
    assert (fb / f"{foreign.stem}_校验意见.xlsx").is_file(), all_entries(fb)
    rec = record(rep, filler.name)
    assert (fb / f"{filler.stem}_校验意见.xlsx").is_file() or error_at(rec, "基本信息", "B7"), (all_entries(fb), rec)


# --- R05: 1e308 / counts > 1e9 -------------------------------------------------------------------


def test_r05_check_huge_count_is_an_error_at_the_cell(tmp_path: Path) -> None:
    """R05: a count of 1e308, 1e309 (inf) or more than 1e9 in 表四!N5 is an error at 表四!N5 (not 通过)."""
    bad = [gen.make_t4_value(tmp_path / "in", gen.CLEAN, raw, f"N5_{raw}.xlsx") for raw in ("1e308", "1e309", "2e9")]
    j = tmp_path / "r.json"
    r = xltool("check", *bad, "--json", j)
    assert_clean_exit(r, (1,))
    rep = load_json(j, r)
    wrong = {b.name: (rec["status"], [(i["code"], i.get("cell")) for i in rec["issues"]])
             for b in bad for rec in [record(rep, b.name)] if not (rec["status"] == "invalid" and error_at(rec, "表四", "N5"))}
    assert not wrong, f"not an error at 表四!N5: {wrong}"


@pytest.mark.parametrize("include_invalid", [False, True], ids=["default", "include-invalid"])
def test_r05_combine_huge_counts_does_not_crash(tmp_path: Path, include_invalid: bool) -> None:
    """R05: two agencies with 1e308 in 表四!N5 → summary and JSON written, both flagged at 表四!N5."""
    d = tmp_path / "in"
    a = gen.make_t4_value(d, gen.CLEAN, "1e308", "a_1e308.xlsx")
    b = gen.make_t4_value(d, gen.CLEAN_2, "1e308", "b_1e308.xlsx")
    gen.copy_sample(gen.CLEAN_3, d)
    out, j = tmp_path / "S.xlsx", tmp_path / "c.json"
    r = xltool("combine", d, "--out", out, "--json", j, *(["--include-invalid"] if include_invalid else []))
    assert_clean_exit(r, (1,))
    assert out.is_file(), r.tail()
    rep = load_json(j, r)
    for p in (a, b):
        assert error_at(record(rep, p.name), "表四", "N5"), record(rep, p.name)


# --- R07: check DIR --feedback DIR ---------------------------------------------------------------


@pytest.fixture(scope="module")
def feedback_into_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, dict, dict[str, str], Path]:
    base = tmp_path_factory.mktemp("r07")
    d = base / "input"
    gen.copy_sample(gen.WARNED, d, "a.xlsx")  # has a warning: gets a feedback copy a_校验意见.xlsx
    gen.copy_sample(gen.CLEAN_2, d, "a_校验意见.xlsx")  # another agency's real return
    before = {p.name: sha256(p) for p in d.iterdir()}
    j = base / "r.json"
    r = xltool("check", d, "--feedback", d, "--json", j)
    rep = json.loads(j.read_text(encoding="utf-8")) if j.is_file() else {}
    return r, rep, before, d


def test_r07_feedback_into_input_folder_overwrites_no_input(feedback_into_inputs) -> None:
    """R07: ``check DIR --feedback DIR`` never overwrites an input (sha256 unchanged)."""
    r, _, before, d = feedback_into_inputs
    assert_clean_exit(r)
    assert {n: sha256(d / n) for n in before} == before, all_entries(d)


def test_r07_return_named_like_feedback_is_not_dropped(feedback_into_inputs) -> None:
    """R07: a real return called ``*_校验意见.xlsx`` is checked (or the run is refused, exit 2), never silently dropped."""
    r, rep, _, _ = feedback_into_inputs
    assert_clean_exit(r)
    if r.rc == 2:
        return
    assert "a_校验意见.xlsx" in [Path(f["path"]).name for f in rep.get("files", [])], r.tail()


# --- R08: roster names that cannot be file names ---------------------------------------------------

ROSTERS = {
    "long85cjk": [gen.LONG_85_CJK],
    "mixed": ["甲局", gen.LONG_85_CJK, "乙局"],
    "bidi": [gen.BIDI_NAME],
}


@pytest.mark.parametrize("kind", sorted(ROSTERS))
def test_r08_template_refuses_bad_roster_before_writing(tmp_path: Path, kind: str) -> None:
    """R08: an 85-CJK-character name (>255 bytes as a file name) or a U+202E name → exit 2, nothing written."""
    roster = gen.write_roster(tmp_path / f"roster_{kind}.csv", ROSTERS[kind])
    out = tmp_path / "out"
    r = xltool("template", "--year", YEAR, "--roster", roster, "--out", out)
    assert_clean_exit(r, (2,))
    msg = r.out + r.err
    assert msg.strip()
    assert "Errno" not in msg, f"refused by the file system while writing, not by the roster check:\n{r.tail()}"
    assert all_entries(out) == []


# --- R09: control characters in the narrative -------------------------------------------------------


@pytest.mark.parametrize("ref", ["&#1;", "&#xFFFF;"], ids=["c01", "xFFFF"])
def test_r09_render_control_chars_all_or_nothing(tmp_path: Path, ref: str) -> None:
    """R09: render either writes both HTML and DOCX, or refuses before writing anything."""
    src = gen.make_narrative_charref(tmp_path / "in", ref)
    o = tmp_path / "out"
    r = xltool("render", src, "--html", o / "a.html", "--docx", o / "a.docx")
    assert_clean_exit(r)
    if r.rc == 0:
        assert (o / "a.html").stat().st_size > 0 and (o / "a.docx").stat().st_size > 0
        with zipfile.ZipFile(o / "a.docx") as z:
            assert z.testzip() is None
    else:
        assert all_entries(o) == [], r.tail()


# --- R10: a formula in an input cell with a stale cached value -----------------------------------------

N5_HEADER = "表四·行政诉讼·复议后起诉·尚未审结"


def test_r10_formula_in_input_cell_is_not_silently_zero(tmp_path: Path) -> None:
    """R10: 表四!N5 = ``<f>3+4</f><v>0</v>`` is either reported at 表四!N5 or counted as 7 — never 0 and 通过."""
    from openpyxl import load_workbook

    d = tmp_path / "in"
    src = gen.make_formula_input(d)
    j = tmp_path / "r.json"
    r = xltool("check", src, "--json", j)
    assert_clean_exit(r, (0, 1))
    rec = record(load_json(j, r), src.name)
    if any(i.get("cell") == "N5" and (i.get("sheet") or "").startswith("表四") for i in rec["issues"]):
        return
    out = tmp_path / "S.xlsx"
    r2 = xltool("combine", d, "--out", out, "--include-invalid")
    assert_clean_exit(r2, (0, 1))
    ws = load_workbook(out, read_only=True)["分单位明细"]
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    col = rows[0].index(N5_HEADER)
    agency_rows = [row for row in rows if row[0] == rec["agency"]]
    assert agency_rows and agency_rows[0][col] == 7, (
        f"no finding at 表四!N5 (status {rec['status']}, issues {[i['code'] for i in rec['issues']]}) "
        f"and 分单位明细 counts {agency_rows[0][col] if agency_rows else None!r} instead of 7")


@pytest.mark.soffice
def test_r10_premise_libreoffice_shows_7(tmp_path: Path, recalc) -> None:
    """R10 premise: a real spreadsheet engine recalculates the input cell to 7 (so 0 is wrong)."""
    from openpyxl import load_workbook

    src = gen.make_formula_input(tmp_path / "in")
    (copy,) = recalc([src])
    ws = next(w for w in load_workbook(copy, data_only=True).worksheets if w.title.startswith("表四"))
    assert ws["N5"].value == 7


# --- R11: agency text becomes live formulas / hyperlinks in our outputs ----------------------------------


def _sheet_names(z: zipfile.ZipFile) -> dict[str, str]:
    """worksheet part → sheet name."""
    wb = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    target = {m.group(1): m.group(2) for m in re.finditer(r'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    target.update({m.group(2): m.group(1) for m in re.finditer(r'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for m in re.finditer(r"<sheet\b[^>]*>", wb):
        name = re.search(r'name="([^"]*)"', m.group(0))
        rid = re.search(r'r:id="([^"]*)"', m.group(0))
        if name and rid and rid.group(1) in target:
            t = target[rid.group(1)].lstrip("/")
            out[t if t.startswith("xl/") else "xl/" + t] = name.group(1)
    return out


@dataclass
class Live:
    formulas: set[tuple[str, str, str]]  # (sheet or part, cell, formula text)
    problems: list[str]  # external links, DDE, hyperlinks to outside


_F = re.compile(r"<c\b([^>]*?)(?<!/)>((?:(?!</c>).)*?)</c>", re.S)


def live_content(xlsx: Path) -> Live:
    """Everything in ``xl/**`` that a spreadsheet would execute or follow."""
    formulas: set[tuple[str, str, str]] = set()
    problems: list[str] = []
    with zipfile.ZipFile(xlsx) as z:
        names = _sheet_names(z)
        for n in z.namelist():
            low = n.lower()
            if not low.startswith("xl/"):
                continue
            if "externallink" in low or "connections" in low or "querytable" in low:
                problems.append(f"part {n}")
            if not (low.endswith(".xml") or low.endswith(".rels") or low.endswith(".vml")):
                continue
            text = z.read(n).decode("utf-8", "replace")
            for m in _F.finditer(text):
                ref = re.search(r'\br="([A-Z]+[0-9]+)"', m.group(1))
                cell = ref.group(1) if ref else "?"
                f = re.search(r"<f\b[^>]*>(.*?)</f>", m.group(2), re.S)
                if f:
                    formulas.add((names.get(n, n), cell, f.group(1)))
                elif re.search(r"<f\b[^>]*/>", m.group(2)):
                    formulas.add((names.get(n, n), cell, "<f/>"))
            for tag in ("ddeLink", "externalLink", "oleLink", "externalReference"):
                if f"<{tag}" in text:
                    problems.append(f"{n}: <{tag}>")
            if 'TargetMode="External"' in text:
                targets = re.findall(r'Target="([^"]*)"[^>]*TargetMode="External"', text)
                problems.append(f"{n}: external relationship {targets}")
            for h in re.findall(r"<hyperlink\b[^>]*>", text):
                if "r:id=" in h or "location=" not in h:
                    problems.append(f"{n}: {h}")
    return Live(formulas, problems)


def _functions(formulas: set[tuple[str, str, str]]) -> set[str]:
    return {m for _, _, f in formulas for m in re.findall(r"([A-Z][A-Z0-9.]*)\(", f)}


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gen.make_injection(tmp_path_factory.mktemp("r11") / "in")


def test_r11_feedback_copy_has_no_live_agency_text(tmp_path: Path, injected: Path) -> None:
    """R11: no formula, DDE or external hyperlink in the feedback copy other than the ones our own
    clean feedback copy of the same (uninjected) return contains."""
    clean_in = tmp_path / "clean"
    clean = gen.copy_sample(gen.WARNED, clean_in, injected.name)
    r0 = xltool("check", clean, "--feedback", tmp_path / "fb0")
    assert_clean_exit(r0, (0, 1))
    base = live_content(tmp_path / "fb0" / f"{clean.stem}_校验意见.xlsx")
    assert base.problems == []

    r = xltool("check", injected, "--feedback", tmp_path / "fb")
    assert_clean_exit(r, (1,))
    got = live_content(tmp_path / "fb" / f"{injected.stem}_校验意见.xlsx")
    extra = sorted(got.formulas - base.formulas)
    assert not extra and not got.problems, f"formulas we did not write: {extra}\nlinks: {got.problems}"


@pytest.fixture(scope="module")
def clean_summary_live(tmp_path_factory: pytest.TempPathFactory) -> Live:
    """What our own summary of two clean returns legitimately contains."""
    base = tmp_path_factory.mktemp("r11-clean")
    d0 = base / "in"
    gen.copy_sample(gen.WARNED, d0)
    gen.copy_sample(gen.CLEAN, d0)
    r0 = xltool("combine", d0, "--out", base / "S0.xlsx")
    assert_clean_exit(r0, (0, 1))
    return live_content(base / "S0.xlsx")


@pytest.mark.parametrize("include_invalid", [False, True], ids=["default", "include-invalid"])
def test_r11_summary_has_no_live_agency_text(tmp_path: Path, injected: Path, clean_summary_live: Live,
                                             include_invalid: bool) -> None:
    """R11: the summary's formulas are only our own (same sheets, same functions, no agency text)."""
    opt = ["--include-invalid"] if include_invalid else []
    base = clean_summary_live
    assert base.problems == []

    d = tmp_path / "in"
    d.mkdir()
    shutil.copyfile(injected, d / injected.name)
    gen.copy_sample(gen.CLEAN, d)
    r = xltool("combine", d, "--out", tmp_path / "S.xlsx", *opt)
    assert_clean_exit(r, (0, 1))
    got = live_content(tmp_path / "S.xlsx")
    base_sheets = {s for s, _, _ in base.formulas}
    odd = sorted(f for f in got.formulas if f[0] not in base_sheets or any(m in f[2] for m in gen.PAYLOAD_MARKERS))
    new_functions = _functions(got.formulas) - _functions(base.formulas)
    assert not odd and not new_functions and not got.problems, (odd, new_functions, got.problems)


# --- R12: two combines onto the same --out at once ----------------------------------------------------------


def _finish(p: subprocess.Popen, argv: list[str]) -> Run:
    o, e = p.communicate(timeout=120)
    return Run(argv, p.returncode, o.decode("utf-8", "replace"), e.decode("utf-8", "replace"))


@pytest.mark.parametrize("how", ["interleaved", "simultaneous"])
def test_r12_concurrent_combine_same_out_one_wins(tmp_path: Path, how: str) -> None:
    """R12: two ``combine --out S.xlsx`` (no --force) at the same time: exactly one succeeds (exit 0),
    the other exits non-zero with a message — never both 已生成.

    ``interleaved`` makes the race certain: the first run is stopped (SIGSTOP) as soon as it has
    a file next to the output (it is writing), the second runs to its end, then the first resumes.
    ``simultaneous`` just starts both at once (the race is then likely, not certain).
    """
    d = tmp_path / "in"
    for a in (gen.CLEAN, gen.CLEAN_2, gen.CLEAN_3, gen.CLEAN_4):
        gen.copy_sample(a, d)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "S.xlsx"
    argv = [*CLI, "combine", str(d), "--out", str(out), "--workers", "1"]
    pipe = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    if how == "simultaneous":
        ps = [subprocess.Popen(argv, **pipe) for _ in range(2)]
        res = [_finish(p, argv) for p in ps]
    else:
        first = subprocess.Popen(argv, **pipe)
        stopped = False
        try:
            while first.poll() is None:
                if os.listdir(out_dir):
                    first.send_signal(signal.SIGSTOP)
                    stopped = True
                    break
                time.sleep(0.001)
            second = _finish(subprocess.Popen(argv, **pipe), argv)
        finally:
            if stopped:
                first.send_signal(signal.SIGCONT)
        res = [_finish(first, argv), second]
    for x in res:
        assert_clean_exit(x)
    rcs = sorted(x.rc for x in res)
    assert rcs[0] == 0 and rcs[1] != 0, f"exit codes {rcs}\n" + "\n".join(x.tail(400) for x in res)
    loser = max(res, key=lambda x: x.rc)
    assert (loser.out + loser.err).strip()
    assert out.is_file()
    assert sorted(os.listdir(out_dir)) == ["S.xlsx"]


# --- R13: SIGKILL leftovers, orphaned workers ----------------------------------------------------------------


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                st = Path(f"/proc/{e}/stat").read_text()
            except OSError:
                continue
            parents[int(e)] = int(st.rsplit(")", 1)[1].split()[1])
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for c, pp in parents.items():
            if pp == p and c not in out:
                out.add(c)
                todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        st = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return st.rsplit(")", 1)[1].split()[0] != "Z"


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")


@pytest.fixture(scope="module")
def killed_combine(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """combine once, combine --force again and SIGKILL it while it writes, then combine --force normally."""
    base = tmp_path_factory.mktemp("r13")
    d = base / "in"
    for a in (gen.CLEAN, gen.CLEAN_2, gen.CLEAN_3, gen.FOREIGN, gen.WARNED):
        gen.copy_sample(a, d)
    out_dir, tmpdir = base / "out", base / "tmpdir"
    out_dir.mkdir()
    tmpdir.mkdir()
    env = dict(os.environ, TMPDIR=str(tmpdir), TEMP=str(tmpdir), TMP=str(tmpdir))
    out = out_dir / "S.xlsx"
    first = xltool("combine", d, "--out", out, env=env)
    assert_clean_exit(first, (0, 1))
    old = sha256(out)
    before_out, before_tmp = set(os.listdir(out_dir)), set(all_entries(tmpdir))
    argv = [*CLI, "combine", str(d), "--out", str(out), "--force"]

    def kill_while_writing() -> tuple[int, str | None]:
        """SIGKILL once a new entry exists next to the output and (within 0.05 s) in $TMPDIR.

        Without an entry in $TMPDIR the kill still needs the writer's entry next to the output
        to be there (it is writing): a kill after it has gone lands after the new summary has
        replaced the old one, while the process exits, and proves nothing about a kill mid-write.
        """
        p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen_out: float | None = None
        how = None
        while p.poll() is None:
            new_out = set(os.listdir(out_dir)) - before_out
            new_tmp = set(all_entries(tmpdir)) - before_tmp
            if new_out and seen_out is None:
                seen_out = time.monotonic()
            if new_out and new_tmp:
                how = f"while it had {sorted(new_out)} next to the output and {sorted(new_tmp)} in $TMPDIR"
            elif new_out and seen_out is not None and time.monotonic() - seen_out > 0.05:
                how = f"while it had {sorted(new_out)} next to the output"
            if how:
                p.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        return p.wait(), how

    rc, how = kill_while_writing()
    for _ in range(3):  # the write ended before the kill (a fast machine): no temp file to catch, try again
        if rc == -signal.SIGKILL:
            break
        rc, how = kill_while_writing()
    # the signal may land just after the new summary was put in place (the listing that decided
    # to kill is a few ms old): then the output is the complete new summary, also never damaged
    state = {"killed": rc == -signal.SIGKILL, "how": how, "old_intact": sha256(out) == old or _complete_xlsx(out),
             "after_kill": all_entries(out_dir), "tmp_after_kill": all_entries(tmpdir)}
    nxt = xltool("combine", d, "--out", out, "--force", env=env)
    state.update(next=nxt, after_next=all_entries(out_dir), tmp_after_next=all_entries(tmpdir))
    return state


def _complete_xlsx(p: Path) -> bool:
    try:
        with zipfile.ZipFile(p) as z:
            return z.testzip() is None and "xl/workbook.xml" in z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def test_r13_sigkill_keeps_old_summary(killed_combine: dict) -> None:
    """R13 (already true): SIGKILL during the write never damages the previous summary (it is the old
    one, or the complete new one when the kill came just after the replace)."""
    if not killed_combine["killed"]:
        pytest.skip("combine never had a file next to its output to catch it writing (nothing can be left over)")
    assert killed_combine["old_intact"]


def test_r13_sigkill_leaves_no_tmp_next_to_output(killed_combine: dict) -> None:
    """R13: after a SIGKILLed combine, the next run leaves no ``.~tmp-*`` (or other stray) file next to the output."""
    st = killed_combine
    if not st["killed"]:
        pytest.skip("combine never had a file next to its output to catch it writing")
    assert_clean_exit(st["next"], (0, 1))
    assert st["after_next"] == ["S.xlsx"], f"killed {st['how']}; left after kill {st['after_kill']}"


def test_r13_sigkill_leaves_no_writer_temp_files(killed_combine: dict) -> None:
    """R13: no XlsxWriter temp files from the killed run remain in $TMPDIR after the next run."""
    st = killed_combine
    if not st["killed"]:
        pytest.skip("combine never had a file next to its output to catch it writing")
    assert st["tmp_after_next"] == [], f"killed {st['how']}; $TMPDIR holds {st['tmp_after_next']}"


@needs_proc
def test_r13_killing_the_parent_ends_its_workers(tmp_path: Path) -> None:
    """R13: SIGKILL of a combine (the parent only) → its reader worker processes exit within a few seconds."""
    d = tmp_path / "in"
    for i in range(4):
        for src in sorted(gen.SAMPLES.glob("*.xlsx")):
            (d / str(i)).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, d / str(i) / src.name)
    p = subprocess.Popen([*CLI, "combine", str(d), "--workers", "2", "--out", str(tmp_path / "S.xlsx")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kids: set[int] = set()
    try:
        t0 = time.monotonic()
        while p.poll() is None and time.monotonic() - t0 < 30:
            kids = _descendants(p.pid)
            if len(kids) >= 2:
                break
            time.sleep(0.002)
        if p.poll() is not None or not kids:
            pytest.skip("the run finished before any worker could be seen")
        time.sleep(0.05)
        kids |= _descendants(p.pid)
        p.send_signal(signal.SIGKILL)
        p.wait()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.05)
        left = sorted(k for k in kids if _alive(k))
        assert not left, f"workers {left} still running 3 s after their parent was killed"
    finally:
        for k in kids:
            if _alive(k):
                try:
                    os.kill(k, signal.SIGKILL)
                except OSError:
                    pass
        if p.poll() is None:
            p.kill()


# --- R14: special files and unreadable folders skipped without a word -----------------------------------------


def test_r14_special_files_named_xlsx_are_listed_unreadable(tmp_path: Path) -> None:
    """R14: a FIFO and links to /dev/zero and /dev/urandom named *.xlsx are each listed 无法读取 (FILE_*),
    and the run neither hangs nor skips them silently."""
    d = tmp_path / "in"
    gen.copy_sample(gen.CLEAN, d)
    os.mkfifo(d / "fifo.xlsx")
    (d / "zero.xlsx").symlink_to("/dev/zero")
    (d / "urandom.xlsx").symlink_to("/dev/urandom")
    j = tmp_path / "r.json"
    r = xltool("check", d, "--json", j, timeout=60)
    assert_clean_exit(r, (1,))
    rep = load_json(j, r)
    for n in ("fifo.xlsx", "zero.xlsx", "urandom.xlsx"):
        assert_unreadable(record(rep, n))


def _without_dac_override() -> list[str] | None:
    """A prefix that makes root obey file permissions (None: cannot, so the test is skipped)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    probe = subprocess.run([setpriv, "--bounding-set=-dac_override,-dac_read_search", "true"], capture_output=True)
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"] if probe.returncode == 0 else None


def test_r14_unreadable_subfolder_is_reported(tmp_path: Path) -> None:
    """R14: a subfolder that cannot be listed is named in the output as skipped (not silently ignored)."""
    prefix = _without_dac_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    d = tmp_path / "in"
    gen.copy_sample(gen.CLEAN, d)
    locked = d / "locked_folder"
    gen.copy_sample(gen.CLEAN_2, locked)
    locked.chmod(0)
    try:
        j = tmp_path / "r.json"
        r = xltool("check", d, "--json", j, prefix=prefix)
        assert_clean_exit(r)
        load_json(j, r)
        assert "locked_folder" in r.out + r.err, r.tail()
    finally:
        locked.chmod(stat.S_IRWXU)


# --- R15: --json / --out / --feedback onto an input -----------------------------------------------------------


def _inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    d = tmp_path / "in"
    a = gen.copy_sample(gen.WARNED, d, "a.xlsx")
    b = gen.copy_sample(gen.CLEAN_2, d, "b.xlsx")
    return d, a, b


def _refused_unchanged(r: Run, files: list[Path], before: list[str]) -> None:
    assert_clean_exit(r, (2,))
    assert (r.out + r.err).strip()
    assert [sha256(f) for f in files] == before, "an input file was changed"


@pytest.mark.parametrize("how", ["check-file", "check-dir", "check-inside", "combine-force"])
def test_r15_json_onto_an_input_is_refused(tmp_path: Path, how: str) -> None:
    """R15: ``--json`` naming (or lying inside) one of the inputs → exit 2, the input unchanged
    (even with combine --force)."""
    d, a, b = _inputs(tmp_path)
    before = [sha256(a), sha256(b)]
    if how == "check-file":
        r = xltool("check", a, b, "--json", a)
    elif how == "check-dir":
        r = xltool("check", d, "--json", a)
    elif how == "check-inside":
        r = xltool("check", d, "--json", a / "r.json")
    else:
        r = xltool("combine", d, "--out", tmp_path / "S.xlsx", "--json", a, "--force")
    _refused_unchanged(r, [a, b], before)


@pytest.mark.parametrize("where", ["equal", "inside"])
def test_r15_out_onto_an_input_is_refused(tmp_path: Path, where: str) -> None:
    """R15: ``combine --out`` that is (or lies inside) an input → exit 2 even with --force, input unchanged."""
    d, a, b = _inputs(tmp_path)
    before = [sha256(a), sha256(b)]
    target = b if where == "equal" else b / "S.xlsx"
    _refused_unchanged(xltool("combine", d, "--out", target, "--force"), [a, b], before)


@pytest.mark.parametrize("where", ["equal", "inside"])
def test_r15_feedback_onto_an_input_file_is_refused(tmp_path: Path, where: str) -> None:
    """R15: ``--feedback`` that is (or lies inside) an input file → exit 2, no traceback, input unchanged."""
    d, a, b = _inputs(tmp_path)
    before = [sha256(a), sha256(b)]
    target = a if where == "equal" else a / "意见"
    _refused_unchanged(xltool("check", d, "--feedback", target), [a, b], before)
