"""The finding registry's message templates (xltool/core/findings.py): every wording renders
with the fields it names, every code and variant named in ``xltool/`` exists, and the findings
of a real check are exactly their templates rendered again from the fields they carry."""

from __future__ import annotations

import ast
import importlib
import json
import random
import string
import sys
from pathlib import Path

import pytest

from xltool.core.findings import LOCATION_FIELDS, REGISTRY, make, rerender
from xltool.core.model import AgencyReport, CellValue, Finding, PreviousData, ReportMeta
from xltool.core.names import normalize_name
from xltool.pipeline.check import check_paths
from xltool.pipeline.synth import synth_values, totals
from xltool.rules.narrative import check_narrative
from xltool.rules.validate import evaluate_report
from xltool.rules.yoy import check_yoy
from xltool.spec import V2021, Kind

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"

WORDINGS = [(c.code, variant) for c in REGISTRY.values() for variant in c.templates()]


@pytest.mark.parametrize(("code", "variant"), WORDINGS, ids=[f"{c}-{v}" for c, v in WORDINGS])
def test_every_wording_renders_with_its_fields(code: str, variant: str | None) -> None:
    c = REGISTRY[code]
    template = c.template(variant)
    parsed = list(string.Formatter().parse(template))
    names = [name for _, name, _, _ in parsed if name is not None]
    assert all(n.isidentifier() for n in names), f"{code}/{variant}: positional or odd field in {template!r}"
    assert set(names) == c.fields(variant)
    f = make(code, variant, **dict.fromkeys(c.fields(variant), 7))
    assert "{" not in f.message and "}" not in f.message
    assert f.severity is c.severity and f.code == code
    for name in c.fields(variant):  # each field is needed
        with pytest.raises(KeyError):
            make(code, variant, **{k: 7 for k in c.fields(variant) if k != name})


def test_only_guard_codes_say_the_guards_reason() -> None:
    """A code without its own wording renders ``{reason}``: only the guard's FILE_* codes may."""
    bare = [c.code for c in REGISTRY.values() if c.message == "{reason}"]
    assert bare and all(code.startswith("FILE_") for code in bare), bare


# (function name, receiver) -> (position of the code, position of the variant)
_CALLS: dict[tuple[str, str | None], tuple[int, int | None]] = {
    ("make", None): (0, 1),
    ("render", None): (0, 1),
    ("unreadable", None): (1, 2),
    ("_finding", None): (0, 2),
    ("fail", None): (1, None),
    ("add", "self"): (0, 1),  # the reader
    ("add", "ctx"): (0, 2),  # validation
    ("add_text", "ctx"): (0, 2),
    ("add_cell", "ctx"): (0, 6),
}


def _strings(node: ast.expr | None) -> list[str | None]:
    """The literal values an argument can take (a constant, or either side of ``a if c else b``)."""
    if node is None:
        return [None]
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str)):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _calls() -> list[tuple[str, int, str, list[str | None]]]:
    """(file, line, code, possible variants) of every finding made in xltool/ with a literal code."""
    out = []
    for path in sorted((ROOT / "xltool").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            key = ((f.id, None) if isinstance(f, ast.Name)
                   else (f.attr, f.value.id) if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                   else None)
            if key not in _CALLS:
                continue
            code_at, variant_at = _CALLS[key]
            if len(node.args) <= code_at:
                continue
            codes = [c for c in _strings(node.args[code_at]) if c is not None]
            variants = _strings(node.args[variant_at] if variant_at is not None and len(node.args) > variant_at else None)
            for code in codes:
                out.append((str(path.relative_to(ROOT)), node.lineno, code, variants))
    return out


def test_every_code_and_variant_used_exists() -> None:
    calls = _calls()
    assert len(calls) > 80, "the call scan found too little: the calls changed shape?"
    bad = [(p, n, code, vs) for p, n, code, vs in calls
           if code not in REGISTRY or any(v is not None and v not in REGISTRY[code].variants for v in vs)]
    assert not bad, bad
    named = {code for *_, code, _ in calls}
    assert {"NOT_TEMPLATE", "FILE_CRASHED", "UNFILLED", "COMBINE_UNFILLED", "TEXT_YEAR", "TEXT_RECEIVED"} <= named


@pytest.fixture(scope="module")
def sample_findings(tmp_path_factory: pytest.TempPathFactory) -> list[Finding]:
    sys.path.insert(0, str(Path(__file__).parent))
    hostile = importlib.import_module("hostile")
    d = tmp_path_factory.mktemp("hostile")
    for make_file in (hostile.not_a_zip, hostile.truncated_zip, hostile.empty_file, hostile.csv_renamed,
                      hostile.html_renamed, hostile.encrypted_workbook, hostile.without_tables):
        make_file(d)
    out: list[Finding] = []
    for run in (check_paths([SAMPLES / "returns"], year=2025, roster=SAMPLES / "roster.csv",
                            previous=SAMPLES / "last-year", workers=1),
                check_paths([d], workers=1)):
        for f in run.files:
            out.extend(f.findings)
    return out


def test_sample_findings_are_their_templates_rendered_again(sample_findings: list[Finding]) -> None:
    codes = {f.code for f in sample_findings}
    assert len(codes) >= 15, sorted(codes)
    for f in sample_findings:
        assert rerender(f) == f.message, (f.code, f.message)


def test_rule_findings_are_their_templates_rendered_again() -> None:
    """A synthetic report with one mistake of each kind, last year's data and a narrative that
    contradicts its tables: the rules' findings (their variants among them) render again."""
    fmt = V2021
    vals = synth_values(fmt, random.Random(5))
    values = {k: CellValue.of(v) for k, v in {**vals, **totals(fmt, vals)}.items()}
    counts = [k for k in fmt.input_keys if fmt.cells[k].kind is Kind.COUNT]
    amounts = [k for k in fmt.input_keys if fmt.cells[k].kind is Kind.AMOUNT]
    for k, v in zip(counts, [CellValue(state="number", number=-3), CellValue(state="number", number=2.5),
                             CellValue(state="text", raw="三件"), CellValue(state="marker", raw="/"),
                             CellValue(state="blank"), CellValue(state="number", number=5, raw="５"),
                             CellValue(state="number", number=1e12)], strict=False):
        values[k] = v
    values[amounts[0]] = CellValue(state="number", number=200_000, raw="2000000000元")  # converted, and too big
    for k in list(fmt.formulas)[:3]:
        values[k] = CellValue(state="marker", raw="/") if k.endswith("total") else CellValue(state="blank")
    report = AgencyReport(meta=ReportMeta(format=fmt.id, year=2025, agency="某某局"), values=values,
                          narrative={"sec1": "本年新收政府信息公开申请99999件，办结99998件，结转下年度99997件。",
                                     "sec5": "无"})
    last = {k: (v.number or 0) * 9 + 40 for k, v in values.items() if v.number is not None}
    previous = PreviousData(year=2024, format=fmt.id, by_agency={normalize_name("某某局"): last})
    ev = evaluate_report(report, previous=previous)
    found = [*ev.findings, *check_yoy(fmt, 2025, "某某局", ev.numbers, previous),
             *check_narrative(fmt, 2025, report.narrative, ev.numbers, title="2019年政府信息公开工作年度报告")]
    codes = {f.code for f in found}
    assert {"NEGATIVE", "NOT_INTEGER", "NOT_NUMBER", "MISSING_MARKER", "BLANK", "TEXT_NUMBER", "UNIT_CONVERTED",
            "MONEY_MAGNITUDE", "NUMBER_IMPLAUSIBLE", "TOTAL_MISSING", "CARRY_OVER", "TEXT_YEAR"} <= codes, sorted(codes)
    assert any(c.startswith("YOY_") for c in codes) and any(c.startswith("TEXT_") and c != "TEXT_YEAR" for c in codes)
    for f in found:
        assert rerender(f) == f.message, (f.code, f.message)


def test_render_fields_stay_out_of_the_json(sample_findings: list[Finding]) -> None:
    keys = ["code", "severity", "message", *LOCATION_FIELDS]
    for f in sample_findings:
        assert sorted(f.model_dump()) == sorted(keys)
        assert sorted(json.loads(f.model_dump_json())) == sorted(keys)
