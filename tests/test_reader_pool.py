"""find_workbooks over big folders, and read_many: order, expectations, small batches."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from xltool.pipeline.synth import synth_values
from xltool.read import ReadResult, find_workbooks, read_file, read_many, read_many_then
from xltool.spec import V2021
from xltool.write.template import write_workbook


def test_find_workbooks_in_a_folder_of_thousands(tmp_path: Path) -> None:
    root = tmp_path / "收件箱"
    for i in range(3000):
        d = root / f"单位{i % 30:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"说明{i}.txt").write_text("x", encoding="utf-8")
    books = [root / "单位01" / "a.xlsx", root / "单位02" / "B.XLSM", root / "c.xls", root / "单位29" / "深" / "d.xlsx"]
    for b in books:
        b.parent.mkdir(parents=True, exist_ok=True)
        b.write_bytes(b"PK")
    (root / "单位01" / "~$a.xlsx").write_bytes(b"lock")  # Office lock file
    (root / ".hidden").mkdir()
    (root / ".hidden" / "e.xlsx").write_bytes(b"PK")
    (root / "单位03" / ".f.xlsx").write_bytes(b"PK")
    (root / "单位04" / "g.et").write_bytes(b"PK")
    found = find_workbooks([root, books[0], root / "单位01" / "~$a.xlsx"])
    assert found == sorted([*books, root / "单位01" / "~$a.xlsx"], key=str)  # an explicitly named file is kept
    assert find_workbooks([root / "不存在"]) == []


def _write(tmp: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        vals = synth_values(V2021, random.Random(i))
        out.append(write_workbook(tmp / f"f{i:02d}.xlsx", V2021, 2025, agency=f"单位{i:02d}", values=vals))
    return out


def test_read_many_keeps_order_and_matches_read_file(tmp_path: Path) -> None:
    files = _write(tmp_path, 9)
    files.insert(4, tmp_path / "missing.xlsx")
    res = list(read_many(files, workers=2, chunk=2, expect_year=2025))
    assert [r.path for r in res] == [str(f) for f in files]
    assert res[4].status == "unreadable" and res[4].findings[0].code == "FILE_IO"
    for f, r in zip(files, res, strict=True):
        if r.status == "ok":
            one = read_file(f, expect_year=2025)
            assert r.report == one.report and r.formula_state == one.formula_state and r.sha256 == one.sha256
            assert r.report is not None and r.report.meta.agency == f"单位{int(f.stem[1:]):02d}"
    res = list(read_many(files[:3], expect_year=2024))  # small batch: in-process, same expectations
    assert all("YEAR_MISMATCH" in [x.code for x in r.findings] for r in res)


def test_read_many_empty_and_bad_keyword(tmp_path: Path) -> None:
    assert list(read_many([])) == []
    try:
        list(read_many([tmp_path / "x.xlsx"], expect_yaer=2025))
    except TypeError as e:
        assert "expect_yaer" in str(e)
    else:  # pragma: no cover
        raise AssertionError("a misspelt expectation must not be ignored")


def test_stopping_early_ends_the_workers(tmp_path: Path) -> None:
    files = _write(tmp_path, 6)
    gen = read_many(files, workers=2)
    first = next(gen)
    assert first.status == "ok"
    gen.close()  # the generator's cleanup stops its worker processes
    import multiprocessing

    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


def test_spawned_workers_read_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows and macOS start workers with spawn, not fork: the batch must give the same results."""
    rng = random.Random(5)
    files = [write_workbook(tmp_path / f"{i}.xlsx", V2021, 2025, agency=f"单位{i}", values=synth_values(V2021, rng))
             for i in range(4)]
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    files.append(tmp_path / "bad.xlsx")
    forked = list(read_many(files, workers=2, isolate=True))
    monkeypatch.setenv("XLTOOL_START_METHOD", "spawn")
    spawned = list(read_many(files, workers=2, isolate=True))
    assert [r.status for r in spawned] == ["ok"] * 4 + ["unreadable"]
    assert [r.report.values if r.report else None for r in spawned] == [
        r.report.values if r.report else None for r in forked]


_PARENT = os.getpid()


def _where(res: ReadResult) -> tuple[int, str, str]:
    """A ``then`` that says which process ran it."""
    return os.getpid(), res.path, res.status


def _fails_in_workers(res: ReadResult) -> tuple[int, str, str]:
    if os.getpid() != _PARENT:
        raise RuntimeError("a bug in a worker")
    return _where(res)


def _dies_on_f03(res: ReadResult) -> tuple[int, str, str, list[str]]:
    if os.getpid() != _PARENT and res.path.endswith("f03.xlsx"):
        os._exit(3)  # the worker dies while on this file
    return (*_where(res), [f.code for f in res.findings])


def test_then_runs_in_the_worker_in_input_order(tmp_path: Path) -> None:
    files = _write(tmp_path, 6)
    out = list(read_many_then(files, _where, workers=2, expect_year=2025))
    assert [p for _pid, p, _st in out] == [str(f) for f in files]
    assert all(st == "ok" for _pid, _p, st in out)
    assert _PARENT not in {pid for pid, _p, _st in out}


def test_a_then_that_fails_in_a_worker_runs_in_the_parent(tmp_path: Path) -> None:
    files = _write(tmp_path, 4)
    out = list(read_many_then(files, _fails_in_workers, workers=2))
    assert [(pid, p) for pid, p, _st in out] == [(_PARENT, str(f)) for f in files]


def test_a_file_whose_worker_dies_is_judged_in_the_parent(tmp_path: Path) -> None:
    files = _write(tmp_path, 6)
    out = list(read_many_then(files, _dies_on_f03, workers=2))
    assert [p for _pid, p, _st, _c in out] == [str(f) for f in files]
    dead = out[3]
    assert dead[0] == _PARENT and dead[2] == "unreadable" and dead[3] == ["FILE_CRASHED"]
    assert all(o[2] == "ok" and o[0] != _PARENT for k, o in enumerate(out) if k != 3)  # the rest re-read
