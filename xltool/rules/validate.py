"""Validation of one agency report: rules derived from the spec, plus a few heuristics.

Every official relation of the spec (``fmt.sums``, ``fmt.balances``) is an error when it
does not hold; value-domain problems (text, negative, fractional counts) are errors;
"not filled" (blank, ``/``, ``无`` …) is a warning, never a silent 0; heuristics of
official-format.md §6.2 are warnings. Formula cells of our template are recomputed from
the inputs, so a stale or missing cached value never decides a check.

Every code's severity and meaning come from the one registry, ``xltool.core.findings``.

>>> from xltool.core.model import AgencyReport, ReportMeta, CellValue
>>> r = AgencyReport(meta=ReportMeta(format="2021", year=2025))
>>> for col, n in (("upheld", 3), ("corrected", 0), ("other", 0), ("pending", 1), ("total", 2)):
...     r.values[f"sec4.review.{col}"] = CellValue.of(n)
>>> [f.code for f in validate_report(r) if f.severity is Severity.ERROR]
['T4_TOTAL']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from xltool.core.combined import DISTRICT_NAME, district_report
from xltool.core.findings import MONEY_WAN_YUAN_LIMIT, PLAUSIBLE_MAX, make
from xltool.core.model import (
    AgencyReport,
    CellValue,
    FieldValue,
    FileStatus,
    Finding,
    FormulaState,
    PreviousData,
    Severity,
)
from xltool.core.names import normalize_name
from xltool.core.numbers import show, tidy
from xltool.read.reader import ReadResult
from xltool.spec import Format, Kind
from xltool.spec.types import BalanceRelation, CellDef, SumRelation
from xltool.workbook.layout import TABLE_SHEETS, layout_for
from xltool.workbook.summary_layout import SUMMARY_TABLE_SHEETS

ERROR = Severity.ERROR
WARNING = Severity.WARNING

_TOL = 1e-6


def _short(section: str) -> str:
    """Short table name of a section (表二 / 表三 / 表四), as in 表三!J12."""
    return TABLE_SHEETS[section][1]


# --- rule catalogue ----------------------------------------------------------------------


# --- per-format plan (computed once) -----------------------------------------------------


def row_title(cd: CellDef) -> str:
    """The row as a clerk names it: nearest group label · row label (e.g. （三）不予公开·1.属于国家秘密)."""
    path = (*cd.row.groups, cd.row.label)
    return "·".join(path[-2:])


@dataclass(frozen=True)
class _Cell:
    key: str
    kind: Kind
    is_formula: bool
    table: str  # 表二 / 表三 / 表四
    row: str
    column: str
    sheet: str  # our template's sheet and address (fallback location)
    addr: str
    unit: str | None = None


@dataclass(frozen=True)
class _Plan:
    fmt: Format
    cells: dict[str, _Cell]
    our_sheets: frozenset[str]


@cache
def _plan(fmt: Format) -> _Plan:
    lay = layout_for(fmt)
    cells: dict[str, _Cell] = {}
    for key, cd in fmt.cells.items():
        sheet, addr = lay.address[key]
        cells[key] = _Cell(
            key,
            cd.kind,
            key in fmt.formulas,
            _short(cd.table.section),
            row_title(cd),
            cd.column.label,
            sheet,
            addr,
            cd.column.unit,
        )
    return _Plan(fmt, cells, frozenset(sh.name for sh in lay.sheets.values()))


# --- helpers -----------------------------------------------------------------------------


@dataclass
class Evaluation:
    """Findings of the rules plus the numbers they were computed on.

    ``numbers`` holds, per located spec key, the number we use: the value read for inputs;
    for a total whose template formula is intact, the total recomputed from the inputs
    (blank inputs count 0 there, as in the spreadsheet); None when not a number.
    """

    findings: list[Finding] = field(default_factory=list)
    numbers: dict[str, int | float | None] = field(default_factory=dict)


class _Ctx:
    """Builds findings for one report (keeps the plan and locations at hand)."""

    def __init__(self, plan: _Plan, locations: Mapping[str, tuple[str, str]] | None, file: str | None) -> None:
        self.plan = plan
        self.locations = locations or {}
        self.file = file
        self.out: list[Finding] = []

    def where(self, key: str) -> tuple[str, str, str]:
        """(sheet, A1, text for messages like 表三!J12) of a cell key."""
        c = self.plan.cells[key]
        sheet, addr = self.locations.get(key) or (c.sheet, c.addr)
        if sheet in self.plan.our_sheets:
            return sheet, addr, f"{c.table}!{addr}"
        return sheet, addr, f"{sheet}!{addr}（{c.table}）"

    def add(self, code: str, key: str, variant: str | None = None, /, **fields: FieldValue) -> None:
        """A finding at the cell of ``key`` (its text starts with the cell: ``{where} {row}·{column}：``)."""
        c = self.plan.cells[key]
        sheet, addr, loc = self.where(key)
        self.out.append(make(code, variant, where=loc, file=self.file, sheet=sheet, cell=addr, table=c.table,
                             row=c.row, column=c.column, key=key, **fields))


def _has_unit(raw: str) -> bool:
    return "元" in raw or "万" in raw


# --- the rules ---------------------------------------------------------------------------


def implausible(v: CellValue) -> bool:
    """A number no agency reports (beyond ±PLAUSIBLE_MAX), or a text that reads as inf/NaN
    (``1e309`` in the file): an error at the cell, and never part of any sum."""
    if v.state == "number":
        return v.number is not None and not abs(v.number) <= PLAUSIBLE_MAX
    if v.state == "text" and v.raw:
        try:
            x = float(v.raw.strip())
        except ValueError:
            return False
        return not math.isfinite(x) or abs(x) > PLAUSIBLE_MAX
    return False


def _domain(ctx: _Ctx, c: _Cell, v: CellValue, agency_level: bool) -> bool:
    """Value-domain checks of one located cell (official-format.md §6.1 item 5, §6.3).

    False when the value must not enter any arithmetic (it is implausible)."""
    st = v.state
    if st == "number" and v.raw is None and c.kind is Kind.COUNT:  # the common case first, without calls
        n = v.number
        if n is not None and 0 <= n <= PLAUSIBLE_MAX and (type(n) is int or float(n).is_integer()):
            return True  # a plain non-negative whole count
    if agency_level and implausible(v):
        shown = show(v.number) if st == "number" and v.number is not None else f"“{v.raw}”"
        ctx.add("NUMBER_IMPLAUSIBLE", c.key, shown=shown, expected=f"≤{PLAUSIBLE_MAX}", actual=shown)
        return False
    if st == "number":
        n = v.number
        assert n is not None
        if v.raw is None and c.kind is Kind.COUNT and n >= 0 and (type(n) is int or float(n).is_integer()):
            return True  # the common case: a plain non-negative whole count
        if v.raw is not None and v.raw.strip() != "":
            if c.kind is Kind.AMOUNT and _has_unit(v.raw):
                ctx.add("UNIT_CONVERTED", c.key, raw=v.raw, shown=show(n), unit=c.unit, expected=show(n), actual=v.raw)
            else:
                ctx.add("TEXT_NUMBER", c.key, raw=v.raw, shown=show(n), expected=show(n), actual=v.raw)
        if c.kind is not Kind.SIGNED and n < 0:
            ctx.add("NEGATIVE", c.key, "amount" if c.kind is Kind.AMOUNT else None, shown=show(n), expected="≥0",
                    actual=tidy(n))
        if c.kind is not Kind.AMOUNT and not float(n).is_integer():
            ctx.add("NOT_INTEGER", c.key, shown=show(n), expected="整数", actual=tidy(n))
        if agency_level and c.kind is Kind.AMOUNT and n >= MONEY_WAN_YUAN_LIMIT:
            ctx.add("MONEY_MAGNITUDE", c.key, shown=show(n), unit=c.unit, expected=f"<{MONEY_WAN_YUAN_LIMIT}",
                    actual=tidy(n))
        return True
    if st == "text":
        ctx.add("NOT_NUMBER", c.key, raw=v.raw, expected="数字", actual=v.raw)
        return True
    if c.is_formula:  # a total without a formula (a foreign file): reported once derived
        return True
    if st == "marker":
        ctx.add("MISSING_MARKER", c.key, raw=v.raw, expected="数字", actual=v.raw)
    else:
        ctx.add("BLANK", c.key, expected="数字", actual=None)
    return True


_FORMULA_CODES = {FormulaState.MISSING: "TOTAL_OVERWRITTEN", FormulaState.CHANGED: "FORMULA_CHANGED",
                  FormulaState.ERROR: "FORMULA_ERROR"}


def _formulas(
    ctx: _Ctx,
    report: AgencyReport,
    formula_state: Mapping[str, FormulaState],
    nums: dict[str, int | float | None],
    states: dict[str, str],
) -> None:
    """Recompute totals whose formula is intact; report broken, uncached or stale ones."""
    plan = ctx.plan
    # what the spreadsheet itself shows: SUM skips text, so a number typed as text ("１２") is not in it
    # (a total, once computed, replaces its value as read; a key without a plain number is 0)
    sheet: dict[str, float] = {k: float(v.number) for k, v in report.values.items()
                               if v.state == "number" and v.raw is None and v.number}

    for rel in plan.fmt.formula_order:
        key, parts = rel.target, rel.parts
        state = formula_state.get(key)
        if state is None:
            continue  # not one of our formulas (foreign file): the value stays as read
        v = report.values.get(key)
        read = v.number if v is not None and v.state == "number" else None
        if state in (FormulaState.MISSING, FormulaState.CHANGED):
            shown = show(read) if read is not None else f"“{v.raw}”" if v is not None and v.raw else "（空）"
            ctx.add(_FORMULA_CODES[state], key, None if state == FormulaState.MISSING else "total", shown=shown,
                    expected="公式", actual=read if read is not None else (v.raw if v else None))
            sheet[key] = float(read or 0)
            continue  # keep the value as read: the relations below then check it
        calc = sum([nums.get(p) or 0 for p in parts])
        sheet[key] = sum([sheet.get(p, 0.0) for p in parts])
        nums[key] = tidy(calc)
        states[key] = "number"
        if state == FormulaState.ERROR:
            raw = v.raw if v is not None else None
            ctx.add("FORMULA_ERROR", key, None if raw else "no_value", raw=raw, expected=tidy(calc), actual=raw)
        elif state == FormulaState.NO_CACHE or read is None:
            ctx.add("NO_CACHE", key, calc=show(calc), expected=tidy(calc), actual=None)
        elif abs(read - calc) > _TOL and abs(read - sheet[key]) > _TOL:
            ctx.add("STALE_TOTAL", key, shown=show(read), calc=show(calc), expected=tidy(calc), actual=tidy(read))


def _derive_missing_totals(
    ctx: _Ctx,
    report: AgencyReport,
    formula_state: Mapping[str, FormulaState],
    nums: dict[str, int | float | None],
    states: dict[str, str],
) -> None:
    """A blank/marker total (foreign files) is missing, not an error (§6.3, Shanghai 2019).

    When all its parts are numbers its value is derived from them (state "derived"), so the
    relations that use it as a part (e.g. （七）总计 of the 总计 column) can still be checked.
    """
    for rel in ctx.plan.fmt.formula_order:
        key, parts = rel.target, rel.parts
        st = states.get(key)
        if key in formula_state or st not in ("blank", "marker"):
            continue
        v = report.values[key]
        said = "marker" if st == "marker" and v.raw else "blank"
        part_states = [states.get(p) for p in parts]
        filled = sum(1 for ps in part_states if ps in ("number", "derived"))
        unfilled = sum(1 for ps in part_states if ps in ("blank", "marker"))
        # an agency's own table often leaves both a row's 总计 and some of its parts blank; the
        # total is still derived (blank parts as 0, said in the message), so every relation
        # that uses it as a part compares real numbers instead of counting the row as 0
        if filled and filled + unfilled == len(parts):
            calc = tidy(math.fsum(nums[p] or 0 for p in parts if states.get(p) in ("number", "derived")))
            nums[key] = calc
            states[key] = "derived"
            variant = f"{said}_derived_unfilled" if unfilled else f"{said}_derived"
        else:
            calc = None
            variant = said
        ctx.add("TOTAL_MISSING", key, variant, raw=v.raw, calc=show(calc) if calc is not None else None,
                unfilled=unfilled, expected=calc, actual=v.raw if st == "marker" else None)


def _sum_check(
    ctx: _Ctx,
    code: str,
    description: str,
    target: str,
    parts: tuple[str, ...],
    nums: dict[str, int | float | None],
    states: dict[str, str],
) -> None:
    """target = Σ parts. Blank/marker parts count 0 only if the rest matches (§6.3)."""
    ts = states.get(target)
    if ts != "number":
        return  # absent, missing (already a warning) or text (already an error)
    total = 0.0
    missing = 0
    for p in parts:
        ps = states.get(p)
        if ps is None or ps == "text":
            return  # not located / not a number: the relation cannot be evaluated
        if ps in ("number", "derived"):
            total += nums[p] or 0
        else:
            missing += 1
    t = nums[target] or 0
    if abs(total - t) <= _TOL:
        return
    ctx.add(code, target, "unfilled" if missing else None, total=show(tidy(total)), description=description,
            missing=missing, shown=show(t), expected=tidy(total), actual=tidy(t))


def _balance_check(
    ctx: _Ctx,
    code: str,
    description: str,
    left: tuple[str, ...],
    right: tuple[str, ...],
    nums: dict[str, int | float | None],
    states: dict[str, str],
) -> None:
    """Σ left = Σ right (the 勾稽 identity), reported at the last right-hand cell."""
    missing = 0
    sums = []
    for side in (left, right):
        s = 0.0
        for k in side:
            st = states.get(k)
            if st is None or st == "text":
                return
            if st in ("number", "derived"):
                s += nums[k] or 0
            else:
                missing += 1
        sums.append(s)
    if missing == len(left) + len(right) or abs(sums[0] - sums[1]) <= _TOL:
        return
    plan = ctx.plan
    col = plan.cells[left[0]].column

    def side_text(keys: tuple[str, ...]) -> str:
        bits = []
        for k in keys:
            c = plan.cells[k]
            rowname = c.row.split("·")[-1]
            val = show(nums[k]) if states.get(k) in ("number", "derived") else "未填"
            bits.append(f"{rowname}（{ctx.where(k)[1]}）{val}")
        return " + ".join(bits)

    ctx.add(code, right[-1], "unfilled" if missing else None, col=col, left=side_text(left),
            left_sum=show(tidy(sums[0])), right=side_text(right), right_sum=show(tidy(sums[1])), missing=missing,
            description=description, expected=tidy(sums[0]), actual=tidy(sums[1]))


def _at_least_check(ctx: _Ctx, code: str, description: str, big: str, small: str,
                    nums: dict[str, int | float | None], states: dict[str, str]) -> None:
    if states.get(big) != "number" or states.get(small) != "number":
        return
    b, s = nums[big] or 0, nums[small] or 0
    if b + _TOL >= s:
        return
    small_c = ctx.plan.cells[small]
    ctx.add(code, big, big=show(b), small_column=small_c.column, small=show(s), small_where=ctx.where(small)[2],
            description=description, expected=f"≥{show(s)}", actual=tidy(b))


def _previous_checks(
    ctx: _Ctx,
    report: AgencyReport,
    previous: PreviousData,
    nums: dict[str, int | float | None],
    states: dict[str, str],
) -> None:
    """Cross-year heuristics (§6.2 items 7 and 8): warnings only."""
    fmt = ctx.plan.fmt
    year = report.meta.year
    if year is not None and previous.year is not None and previous.year != year - 1:
        return
    last = previous.by_agency.get(normalize_name(report.meta.agency or ""))
    if not last:
        return
    for now_key, prev_key, rule in fmt.carry_over:
        if states.get(now_key) not in ("number", "derived") or last.get(prev_key) is None:
            continue
        now, before = nums[now_key] or 0, last[prev_key]
        if abs(now - before) > _TOL:
            from_label = fmt.cells[prev_key].row.label
            ctx.add(rule.code, now_key, now=show(now), previous_year=previous.year, from_label=from_label,
                    before=show(before), description=rule.description, expected=tidy(before), actual=tidy(now))
    # stock: in_force(Y) ≈ in_force(Y−1) + issued(Y) − repealed(Y)
    for sc in fmt.stock_changes:
        k_in, k_is, k_re = sc.stock, sc.issued, sc.repealed
        if any(states.get(k) != "number" for k in (k_in, k_is, k_re)) or last.get(k_in) is None:
            continue
        expect = last[k_in] + (nums[k_is] or 0) - (nums[k_re] or 0)
        got = nums[k_in] or 0
        if abs(expect - got) > _TOL:
            issued, repealed = fmt.cells[k_is].column.label, fmt.cells[k_re].column.label
            ctx.add(sc.code, k_in, got=show(got), stock_column=fmt.cells[k_in].column.label, last=show(last[k_in]),
                    issued=issued, issued_n=show(nums[k_is]), repealed=repealed, repealed_n=show(nums[k_re]),
                    expect=show(tidy(expect)), expected=tidy(expect), actual=tidy(got))


def evaluate_report(
    report: AgencyReport,
    *,
    locations: Mapping[str, tuple[str, str]] | None = None,
    formula_state: Mapping[str, FormulaState] | None = None,
    previous: PreviousData | None = None,
    agency_level: bool = True,
    file: str | None = None,
) -> Evaluation:
    """Run every rule on one report; see ``Evaluation`` for the numbers returned.

    ``agency_level=False`` (district totals) skips the per-agency magnitude heuristic.
    """
    if report.meta.format is None:
        return Evaluation()
    plan = _plan(report.fmt)
    ctx = _Ctx(plan, locations, file)
    nums: dict[str, int | float | None] = {}
    states: dict[str, str] = {}
    fstate = formula_state or {}
    for key, v in report.values.items():
        c = plan.cells.get(key)
        if c is None:
            continue
        states[key] = v.state
        nums[key] = v.number if v.state == "number" else None
        if c.is_formula and key in fstate:
            continue  # our formula: judged by _formulas
        if not _domain(ctx, c, v, agency_level):
            states[key], nums[key] = "text", None  # implausible: no relation, no sum uses it
    if fstate:
        _formulas(ctx, report, fstate, nums, states)
    _derive_missing_totals(ctx, report, fstate, nums, states)
    for rel in plan.fmt.relations:
        if isinstance(rel, SumRelation):
            _sum_check(ctx, rel.code, rel.description, rel.target, rel.parts, nums, states)
        elif isinstance(rel, BalanceRelation):
            _balance_check(ctx, rel.code, rel.description, rel.left, rel.right, nums, states)
        else:
            _at_least_check(ctx, rel.code, rel.description, rel.big, rel.small, nums, states)
    if previous is not None:
        _previous_checks(ctx, report, previous, nums, states)
    numbers = {k: (nums[k] if states.get(k) in ("number", "derived") else None) for k in nums}
    return Evaluation(ctx.out, numbers)


def validate_report(
    report: AgencyReport,
    *,
    locations: Mapping[str, tuple[str, str]] | None = None,
    formula_state: Mapping[str, FormulaState] | None = None,
    previous: PreviousData | None = None,
    agency_level: bool = True,
    file: str | None = None,
) -> list[Finding]:
    """Findings of the rules for a report not read from a file (e.g. district totals)."""
    return evaluate_report(report, locations=locations, formula_state=formula_state, previous=previous,
                           agency_level=agency_level, file=file).findings


# The reader reports a typed-over or edited formula per cell; for a total with a spec key our
# finding says the same with the row and column labels, so it replaces the reader's.
_READER_FORMULA_CODES = {"FORMULA_REPLACED", "FORMULA_CHANGED"}
_OUR_FORMULA_CODES = {"TOTAL_OVERWRITTEN", "FORMULA_CHANGED", "FORMULA_ERROR", "NO_CACHE", "STALE_TOTAL"}


def merge_findings(reader: Iterable[Finding], ours: Iterable[Finding]) -> list[Finding]:
    """Reader findings first, then ours; one finding per typed-over/edited total (ours, with labels)."""
    ours = list(ours)
    ours_formula = {(f.sheet, f.cell) for f in ours if f.code in _OUR_FORMULA_CODES and f.key}
    out = [f for f in reader if not (f.code in _READER_FORMULA_CODES and f.key and (f.sheet, f.cell) in ours_formula)]
    seen = {(f.code, f.sheet, f.cell) for f in out}
    # an input holding a formula we cannot check is said once, by the reader (not also "not a number")
    formula_cells = {(f.sheet, f.cell) for f in out if f.code == "INPUT_FORMULA_UNSUPPORTED"}
    out.extend(f for f in ours if (f.code, f.sheet, f.cell) not in seen
               and not (f.code == "NOT_NUMBER" and (f.sheet, f.cell) in formula_cells))
    return out


def evaluate(result: ReadResult, *, previous: PreviousData | None = None) -> Evaluation:
    """Validate a reader ``ReadResult``: reader findings + rule findings, and the numbers used."""
    reader_findings = list(result.findings)
    report = result.report
    if report is None or result.status is not FileStatus.OK:
        return Evaluation(reader_findings, {})
    ev = evaluate_report(
        report,
        locations=result.locations,
        formula_state=result.formula_state,
        previous=previous,
        file=result.path or None,
    )
    ev.findings = merge_findings(reader_findings, ev.findings)
    return ev


def validate(result: ReadResult, *, previous: PreviousData | None = None) -> list[Finding]:
    """All findings for one file read by the reader (its own findings first)."""
    return evaluate(result, previous=previous).findings


def count_by_severity(findings: Iterable[Finding]) -> tuple[int, int]:
    """(errors, warnings)."""
    e = w = 0
    for f in findings:
        if f.severity is ERROR or f.severity == "error":
            e += 1
        else:
            w += 1
    return e, w


def validate_totals(fmt: Format, year: int, totals: dict[str, int | float]) -> list[Finding]:
    """The validation rules of ``xltool check``, run on the district totals.

    Findings point at the 汇总 sheets (same positions as the template's tables).
    """
    lay = layout_for(fmt)
    locations = {k: (SUMMARY_TABLE_SHEETS[c.table.section], lay.address[k][1]) for k, c in fmt.cells.items()}
    return validate_report(district_report(fmt, year, totals), locations=locations, agency_level=False,
                           file=DISTRICT_NAME)
