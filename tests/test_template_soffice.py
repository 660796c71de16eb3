"""Our formulas, computed by a real spreadsheet engine (LibreOffice), against hand arithmetic.

Files: for both formats, a template filled by ``write_workbook`` with consistent and with
inconsistent numbers (text, "/", negatives, typed-over totals), the same numbers typed into
a blank template with openpyxl (so the file has no cached values at all), and the blank
template. All are recalculated in ONE LibreOffice call. The expectation is computed here
from the spec's relations and the status rule as stated in the brief, not by
``layout.compute_cached``; the cached values we wrote must equal LibreOffice's results.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from xltool.spec import V2019, V2021, Format, Kind
from xltool.workbook.layout import layout_for
from xltool.write.template import write_workbook

pytestmark = pytest.mark.soffice

OK, BAD, VALUE = "通过", "不平衡", "#VALUE!"


def _number(x: object) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


class Expect:
    """Hand arithmetic over the spec: what every computed cell must show."""

    def __init__(self, fmt: Format, values: dict[str, object], overrides: dict[str, object]) -> None:
        self.fmt, self.values, self.overrides = fmt, values, overrides

    def raw(self, key: str) -> object:
        if key in self.overrides:
            return self.overrides[key]
        if key in self.fmt.formulas:
            return self.sum_value(key)
        return self.values.get(key)

    def sum_value(self, key: str) -> float:
        """SUM semantics: blank and text count as 0."""
        if key in self.overrides:
            return _number(self.overrides[key]) or 0.0
        if key in self.fmt.formulas:
            return sum(self.sum_value(p) for p in self.fmt.formulas[key].parts)
        return _number(self.values.get(key)) or 0.0

    def plus_value(self, key: str) -> float | None:
        """'+' semantics: numeric ASCII text is converted, any other text is #VALUE! (None)."""
        v = self.raw(key)
        if isinstance(v, str):
            t = v.strip(" ")
            return float(t) if re.fullmatch(r"[+-]?\d+(\.\d+)?", t) else None
        return _number(v) or 0.0

    def check(self, bal) -> str:
        left = [self.plus_value(k) for k in bal.left]
        right = [self.plus_value(k) for k in bal.right]
        if None in left or None in right:
            return VALUE
        return OK if sum(left) == sum(right) else BAD  # type: ignore[arg-type]

    def status(self) -> str:
        """Unbalanced columns + text cells + negative numbers in the six applicant columns of 表三."""
        n = sum(self.check(b) == BAD for b in self.fmt.balances)
        t = self.fmt.table("sec3")
        for r in t.rows:
            for c in t.columns:
                if c.key == "total":
                    continue
                v = self.raw(t.cell_key(r.key, c.key))
                n += isinstance(v, str) or (_number(v) is not None and _number(v) < 0)  # type: ignore[operator]
        return "校验通过" if n == 0 else f"尚有{n}处问题，请查看标红单元格"


def consistent_values(fmt: Format, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    vals: dict[str, object] = {}
    for key in fmt.input_keys:
        kind = fmt.cells[key].kind
        if kind is Kind.COUNT:
            vals[key] = rng.randint(0, 40)
        elif kind is Kind.SIGNED:
            vals[key] = rng.randint(-20, 20)
        else:
            vals[key] = round(rng.uniform(0, 900), 2)
    ex = Expect(fmt, vals, {})
    for bal in fmt.balances:  # make 第一项+第二项 = 第三项+第四项 in every applicant column
        if any(k in fmt.formulas for k in bal.left):
            continue  # the 总计 column follows from the others
        right = sum(ex.sum_value(k) for k in bal.right)
        first, second = bal.left
        vals[first] = rng.randint(0, int(right))
        vals[second] = int(right) - vals[first]  # type: ignore[operator]
    return vals


def inconsistent(fmt: Format, seed: int) -> tuple[dict[str, object], dict[str, object]]:
    vals = consistent_values(fmt, seed)
    vals["sec3.carried_over.org.research"] += 1  # type: ignore[operator]
    vals["sec3.denied.state_secret.natural"] = "/"
    vals["sec3.unable.not_held.org.other"] = -2
    vals["sec3.new_received.org.legal_service"] = "12"  # numeric text: '+' converts it, SUM ignores it
    vals["sec3.carry_forward.org.public_welfare"] = "无"  # '+' gives #VALUE!
    vals[next(k for k in fmt.input_keys if k.startswith("sec2."))] = "／"
    vals["sec4.review.upheld"] = -1
    overrides: dict[str, object] = {"sec4.suit_direct.total": 99, "sec3.total_processed.org.commercial": 5}
    return vals, overrides


def inject_with_openpyxl(
    blank: Path, target: Path, fmt: Format, vals: dict[str, object], overrides: dict[str, object]
) -> Path:
    """Type numbers into a blank template as another program would: no cached values anywhere."""
    lay = layout_for(fmt)
    wb = load_workbook(blank)
    for key, v in {**vals, **overrides}.items():
        sheet, addr = lay.address[key]
        wb[sheet][addr].value = v
    wb.save(target)
    return target


CASES = [(V2019, 2020), (V2021, 2025)]


@pytest.fixture(scope="module")
def recalculated(
    tmp_path_factory: pytest.TempPathFactory, recalc
) -> list[tuple[str, Format, Expect, Path, Path]]:
    """(name, format, expectation, our file, LibreOffice's recalculated copy) for every case."""
    d = tmp_path_factory.mktemp("filled")
    cases: list[tuple[str, Format, Expect, Path]] = []
    for fmt, year in CASES:
        blank = write_workbook(d / f"blank_{fmt.id}.xlsx", fmt, year)
        cases.append((f"blank_{fmt.id}", fmt, Expect(fmt, {}, {}), blank))
        good = consistent_values(fmt, seed=int(fmt.id))
        p = write_workbook(d / f"good_{fmt.id}.xlsx", fmt, year, agency="环翠区科学技术局", values=good)
        cases.append((f"good_{fmt.id}", fmt, Expect(fmt, good, {}), p))
        bad, over = inconsistent(fmt, seed=int(fmt.id) + 1)
        p = write_workbook(d / f"bad_{fmt.id}.xlsx", fmt, year, values=bad, overrides=over)
        cases.append((f"bad_{fmt.id}", fmt, Expect(fmt, bad, over), p))
        p = inject_with_openpyxl(blank, d / f"injected_good_{fmt.id}.xlsx", fmt, good, {})
        cases.append((f"injected_good_{fmt.id}", fmt, Expect(fmt, good, {}), p))
        p = inject_with_openpyxl(blank, d / f"injected_bad_{fmt.id}.xlsx", fmt, bad, over)
        cases.append((f"injected_bad_{fmt.id}", fmt, Expect(fmt, bad, over), p))
    outs = recalc([c[3] for c in cases])  # one LibreOffice call for all files
    return [(*c, o) for c, o in zip(cases, outs, strict=True)]


def computed_cells(fmt: Format, ex: Expect) -> dict[tuple[str, str], object]:
    """Every formula, check and status cell → the value it must show."""
    lay = layout_for(fmt)
    out: dict[tuple[str, str], object] = {}
    for key in fmt.formulas:
        if key not in ex.overrides:
            out[lay.address[key]] = ex.sum_value(key)
    sh = lay.sheets["sec3"]
    by_col = {b.column: b for b in fmt.balances}
    for c in sh.checks:
        out[(sh.name, c.addr)] = ex.check(by_col[c.relation.column])
    assert sh.status is not None
    out[(sh.name, sh.status.addr)] = ex.status()
    return out


def test_libreoffice_results_match_hand_arithmetic(recalculated) -> None:
    n_checked = 0
    for name, fmt, ex, _ours, lo in recalculated:
        wb = load_workbook(lo, data_only=True)
        for (sheet, addr), want in computed_cells(fmt, ex).items():
            got = wb[sheet][addr].value
            if isinstance(want, float):
                assert got == pytest.approx(want), f"{name} {sheet}!{addr}"
            else:
                assert got == want, f"{name} {sheet}!{addr}"
            n_checked += 1
    assert n_checked > 10 * 40


def test_cases_cover_what_they_claim(recalculated) -> None:
    """Guard the fixture itself: consistent cases pass, inconsistent ones show each kind of problem."""
    seen = {name: computed_cells(fmt, ex) for name, fmt, ex, _o, _l in recalculated}
    for name, cells in seen.items():
        texts = [v for v in cells.values() if isinstance(v, str)]
        if name.startswith(("good", "injected_good", "blank")):
            assert "校验通过" in texts and BAD not in texts and VALUE not in texts, name
        else:
            assert BAD in texts and VALUE in texts and any(t.startswith("尚有") for t in texts), name


def test_every_sum_relation_holds_in_libreoffice_for_consistent_input(recalculated) -> None:
    """Both relations of the 表三 corner (row total and column total) and all others hold."""
    for name, fmt, _ex, _ours, lo in recalculated:
        if not name.startswith(("good", "injected_good")):
            continue
        lay = layout_for(fmt)
        wb = load_workbook(lo, data_only=True)

        def val(k: str, wb=wb, lay=lay) -> float:
            return wb[lay.address[k][0]][lay.address[k][1]].value or 0

        for rel in fmt.sums:
            assert val(rel.target) == pytest.approx(sum(val(p) for p in rel.parts)), (
                f"{name} {rel.code} {rel.target}"
            )
        for bal in fmt.balances:
            assert sum(val(k) for k in bal.left) == sum(val(k) for k in bal.right), f"{name} {bal.column}"


def test_our_cached_values_equal_libreoffice(recalculated) -> None:
    """What a non-recalculating viewer shows (our cache) is what a real engine computes."""
    n = 0
    for name, fmt, ex, ours, lo in recalculated:
        if name.startswith("injected"):
            continue  # openpyxl wrote no cached values
        mine = load_workbook(ours, data_only=True)
        theirs = load_workbook(lo, data_only=True)
        for sheet, addr in computed_cells(fmt, ex):
            a, b = mine[sheet][addr].value, theirs[sheet][addr].value
            assert a == pytest.approx(b) if isinstance(b, (int, float)) else a == b, (
                f"{name} {sheet}!{addr}: {a!r} vs {b!r}"
            )
            n += 1
    assert n > 6 * 40


def test_inputs_survive_the_engine(recalculated) -> None:
    """Typed text stays text and numbers stay numbers after a real engine saves the file."""
    for name, fmt, ex, _ours, lo in recalculated:
        lay = layout_for(fmt)
        wb = load_workbook(lo, data_only=True)
        for key, v in ex.values.items():
            got = wb[lay.address[key][0]][lay.address[key][1]].value
            assert got == (pytest.approx(v) if isinstance(v, float) else v), f"{name} {key}"
