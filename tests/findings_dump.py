"""Dump (code, cell, message) of every finding xltool makes on a fixed corpus, as JSON.

A guard for changes to how messages are built (the finding registry's templates): run it
before and after, and diff the two files; they must be identical.

    .venv/bin/python tests/findings_dump.py /tmp/before.json /tmp/corpus
    .venv/bin/python tests/findings_dump.py /tmp/after.json /tmp/corpus && diff /tmp/before.json /tmp/after.json

The corpus folder (second argument) keeps the generated files: the fuzz originals are written
once (a workbook holds its creation time, so fresh ones would give other mutants); a later run
reuses them. Temp folder names and sha256 names are masked in the messages.

Two parts:
- ``check``: ``check_paths`` on ``samples/returns`` (roster, last year's summary), on the hostile
  files of ``tests/hostile.py`` and on a few hundred fuzz mutants (``tests/fuzz_gen.py``, fixed
  seed); findings in file order.
- ``tests``: the test modules that produce many codes, run in-process with every ``Finding``
  created recorded (in the workers too, through a file per process), per test, sorted.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

TEST_MODULES = [
    "tests/test_validate.py", "tests/test_reader_template.py", "tests/test_reader_foreign.py",
    "tests/test_check_cli.py", "tests/test_combine.py", "tests/test_narrative.py", "tests/test_samples.py",
    "tests/test_rollup.py", "tests/test_blank_totals.py", "tests/test_guard.py", "tests/test_repro.py",
    "tests/test_roster.py", "tests/test_feedback.py", "tests/test_guard_total.py",
]

_TMP = re.compile(r"/tmp/[^\s“”（）()'\"，。：]*")
_SHA = re.compile(r"\b[0-9a-f]{64}\b")


def _norm(text: str | None) -> str | None:
    """Temp folder names and sha256 file names differ between runs: keep the last path part, mask the hash."""
    if text is None:
        return None
    return _SHA.sub("<sha256>", _TMP.sub(lambda m: "<tmp>/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text))


def _rows(findings: Any) -> list[list[Any]]:
    return [[f.code, f.cell, _norm(f.message)] for f in findings]


def check_part(work: Path) -> dict[str, list[list[Any]]]:
    import fuzz_gen as fz
    import hostile

    from xltool.pipeline.check import check_paths

    samples = ROOT / "samples"
    out: dict[str, list[list[Any]]] = {}
    run = check_paths([samples / "returns"], year=2025, roster=samples / "roster.csv",
                      previous=samples / "last-year", workers=1)
    for f in run.files:
        out["samples/" + Path(f.path).name] = _rows(f.findings)
    if not (work / "hostile").exists():
        hostile.write_all(work / "hostile")
    run = check_paths([work / "hostile"], workers=1)
    for f in run.files:
        out["hostile/" + Path(f.path).name] = _rows(f.findings)
    if (work / "originals").exists():
        bases = [work / "originals" / n for n in ("v2019.xlsx", "v2021.xlsx", "foreign.xlsx")]
    else:
        bases = fz.originals(work / "originals")
    mutants = fz.make_mutants(bases, work / "mutants", 400, 7)
    run = check_paths([m.path for m in mutants], workers=1)
    for f in run.files:
        out["fuzz/" + Path(f.path).name] = _rows(f.findings)
    return out


def _record_file() -> Path:
    return Path(os.environ["XLTOOL_FINDINGS_DUMP"]) / f"{os.getpid()}.jsonl"


def _install_recorder() -> None:
    """Record every Finding made (model_construct or __init__), with the running test's id."""
    from xltool.core.model import Finding

    construct = Finding.model_construct.__func__  # type: ignore[attr-defined]
    init = Finding.__init__

    def write(f: Finding) -> None:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]
        with _record_file().open("a", encoding="utf-8") as fh:
            fh.write(json.dumps([test, f.code, f.cell, _norm(f.message)], ensure_ascii=False) + "\n")

    def model_construct(cls: type[Finding], _fields_set: Any = None, **values: Any) -> Finding:
        f = construct(cls, _fields_set, **values)
        write(f)
        return f

    def __init__(self: Finding, **data: Any) -> None:
        init(self, **data)
        write(self)

    Finding.model_construct = classmethod(model_construct)  # type: ignore[method-assign,assignment]
    Finding.__init__ = __init__  # type: ignore[method-assign]


def tests_part(work: Path) -> dict[str, list[list[Any]]]:
    import pytest

    rec = work / "records"
    rec.mkdir()
    os.environ["XLTOOL_FINDINGS_DUMP"] = str(rec)

    class Plugin:
        def pytest_configure(self, config: Any) -> None:
            _install_recorder()

    rc = pytest.main(["-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly", *[str(ROOT / m) for m in TEST_MODULES]],
                     plugins=[Plugin()])
    if rc != 0:
        raise SystemExit(f"pytest failed ({rc})")
    by_test: dict[str, list[list[Any]]] = {}
    for p in sorted(rec.glob("*.jsonl")):
        for line in p.read_text(encoding="utf-8").splitlines():
            test, *row = json.loads(line)
            by_test.setdefault(test, []).append(row)
    return {t: sorted(rows, key=json.dumps) for t, rows in sorted(by_test.items())}


def _iter_codes(dump: dict[str, dict[str, list[list[Any]]]]) -> Iterator[str]:
    for part in dump.values():
        for rows in part.values():
            for code, *_ in rows:
                yield code


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "findings-dump.json")
    corpus = Path(sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="xltool-corpus-"))
    corpus.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xltool-dump-") as d:
        dump = {"check": check_part(corpus), "tests": tests_part(Path(d))}
    target.write_text(json.dumps(dump, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    codes = set(_iter_codes(dump))
    rows = sum(len(r) for part in dump.values() for r in part.values())
    print(f"{rows} findings, {len(codes)} codes -> {target}")


if __name__ == "__main__":
    main()
