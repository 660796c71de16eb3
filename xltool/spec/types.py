"""Building blocks of a declared report format.

A format is pure data: tables with rows and columns (each with its official label and
stable key), plus declarative sum/balance rules. Everything else (template layout,
reading, validation, consolidation) is derived from these objects, so no official label
or relation is typed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Literal

FormatId = Literal["2019", "2021"]  # the official formats (国办公开办函〔2019〕60号 / 〔2021〕30号)


class Kind(str, Enum):
    """Value domain of one cell (official-format.md §6.1 item 5)."""

    COUNT = "count"  # integer >= 0
    SIGNED = "signed"  # integer, may be negative (V2019 本年增/减)
    AMOUNT = "amount"  # decimal >= 0, money


class Style(str, Enum):
    """How a table is drawn; the layout module knows one drawing per style."""

    GRID = "grid"  # section 二 sub-table: caption, 信息内容 header, label column + values
    MATRIX = "matrix"  # section 三: row tree x column tree
    FLAT = "flat"  # section 四: the row groups laid out side by side in one data row


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = Kind.COUNT
    unit: str | None = None  # e.g. "万元" for amounts
    groups: tuple[str, ...] = ()  # header labels above this column, outermost first


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    groups: tuple[str, ...] = ()  # group labels left of this row, outermost first


@dataclass(frozen=True)
class ColumnTotal:
    """In every row, ``target`` column = sum of ``parts`` columns."""

    code: str
    target: str
    parts: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class RowTotal:
    """In every column, ``target`` row = sum of ``parts`` rows."""

    code: str
    target: str
    parts: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Balance:
    """In every column, sum of ``left`` rows = sum of ``right`` rows (the 勾稽 identity)."""

    code: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class AtLeast:
    """Heuristic: in every row, column ``big`` >= column ``small`` (a warning, not an error)."""

    code: str
    big: str
    small: str
    description: str


@dataclass(frozen=True)
class CarryOver:
    """Cross-year: in every column, this year's ``row`` = last year's ``from_row``."""

    code: str
    row: str
    from_row: str
    description: str


@dataclass(frozen=True)
class StockChange:
    """Cross-year heuristic: in every row, ``stock`` ≈ last year's ``stock`` + ``issued`` − ``repealed``
    (revisions and clean-ups break it, so it is a warning)."""

    code: str
    stock: str
    issued: str
    repealed: str
    description: str


TableRule = ColumnTotal | RowTotal | Balance | AtLeast | CarryOver | StockChange


@dataclass(frozen=True)
class Table:
    key: str  # e.g. "sec2.art20_1", "sec3", "sec4"
    section: str  # section key: "sec2" / "sec3" / "sec4"
    style: Style
    caption: str  # sub-table caption (sec2) or the section heading
    rows: tuple[Row, ...]
    columns: tuple[Column, ...]
    header_first: str = ""  # top-left header text (信息内容 / the 勾稽 note)
    column_root: str = ""  # label spanning all value columns (申请人情况)
    rules: tuple[TableRule, ...] = ()

    def row(self, key: str) -> Row:
        return next(r for r in self.rows if r.key == key)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def cell_key(self, row: str, col: str) -> str:
        return f"{self.key}.{row}.{col}"


@dataclass(frozen=True)
class CellDef:
    """One value cell of a format, addressed by its stable key."""

    key: str
    table: Table
    row: Row
    column: Column

    @property
    def kind(self) -> Kind:
        return self.column.kind

    @property
    def short_label(self) -> str:
        """Row label · column label, as a clerk would name the cell."""
        return f"{self.row.label}·{self.column.label}"


@dataclass(frozen=True)
class SumRelation:
    """Cell-level rule: value(target) = Σ value(parts)."""

    code: str
    target: str
    parts: tuple[str, ...]
    description: str
    formula: bool = True  # the template computes ``target`` with a formula


@dataclass(frozen=True)
class BalanceRelation:
    """Cell-level rule: Σ left = Σ right."""

    code: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    description: str
    column: str  # column key the identity is stated for


@dataclass(frozen=True)
class AtLeastRelation:
    code: str
    big: str
    small: str
    description: str


@dataclass(frozen=True)
class StockChangeRelation:
    code: str
    stock: str
    issued: str
    repealed: str
    description: str


Relation = SumRelation | BalanceRelation | AtLeastRelation


@dataclass(frozen=True)
class Section:
    key: str  # sec1 .. sec6
    heading: str
    narrative: bool


@dataclass(frozen=True)
class Format:
    """One official format (V2019 or V2021)."""

    id: FormatId
    name: str
    document: str
    years: tuple[int, int | None]  # first and last report year it is meant for
    sections: tuple[Section, ...]
    tables: tuple[Table, ...]
    detect_labels: tuple[str, ...] = ()  # labels that only this format has (§4)
    meta: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def tables_of(self, section: str) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.section == section)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    @cached_property
    def cells(self) -> dict[str, CellDef]:
        """All value cells in reading order (table, row, column)."""
        out: dict[str, CellDef] = {}
        for t in self.tables:
            for r in t.rows:
                for c in t.columns:
                    k = t.cell_key(r.key, c.key)
                    out[k] = CellDef(k, t, r, c)
        return out

    @cached_property
    def relations(self) -> tuple[Relation, ...]:
        """Every same-year relation instance, in declaration order: the one expansion of the
        table rules into cell-level rules that template, validation and summary all use."""
        out: list[Relation] = []
        for t in self.tables:
            for rule in t.rules:
                out.extend(_expand(t, rule))
        return tuple(out)

    @cached_property
    def sums(self) -> tuple[SumRelation, ...]:
        return tuple(r for r in self.relations if isinstance(r, SumRelation))

    @cached_property
    def balances(self) -> tuple[BalanceRelation, ...]:
        return tuple(r for r in self.relations if isinstance(r, BalanceRelation))

    @cached_property
    def at_least(self) -> tuple[AtLeastRelation, ...]:
        return tuple(r for r in self.relations if isinstance(r, AtLeastRelation))

    @cached_property
    def carry_over(self) -> tuple[tuple[str, str, CarryOver], ...]:
        """(this year's key, last year's key, rule) for every cross-year carried cell."""
        out: list[tuple[str, str, CarryOver]] = []
        for t in self.tables:
            for rule in t.rules:
                if isinstance(rule, CarryOver):
                    for c in t.columns:
                        out.append((t.cell_key(rule.row, c.key), t.cell_key(rule.from_row, c.key), rule))
        return tuple(out)

    @cached_property
    def stock_changes(self) -> tuple[StockChangeRelation, ...]:
        out: list[StockChangeRelation] = []
        for t in self.tables:
            for rule in t.rules:
                if isinstance(rule, StockChange):
                    for r in t.rows:
                        out.append(StockChangeRelation(
                            rule.code, t.cell_key(r.key, rule.stock), t.cell_key(r.key, rule.issued),
                            t.cell_key(r.key, rule.repealed), rule.description))
        return tuple(out)

    @cached_property
    def formula_order(self) -> tuple[SumRelation, ...]:
        """The template's formulas in dependency order (a formula after the formulas it sums)."""
        order: list[SumRelation] = []
        done: set[str] = set()
        pending = dict(self.formulas)
        while pending:
            progressed = False
            for key, rel in list(pending.items()):
                if all(p in done or p not in self.formulas for p in rel.parts):
                    order.append(rel)
                    done.add(key)
                    del pending[key]
                    progressed = True
            if not progressed:  # pragma: no cover - a spec bug
                raise ValueError(f"circular formulas: {sorted(pending)}")
        return tuple(order)

    @cached_property
    def formulas(self) -> dict[str, SumRelation]:
        """Cells the template computes, each with the one relation its formula uses.

        A cell that is the target of two relations (the 总计 corner of 表三) takes the
        first declared; validation still checks both.
        """
        out: dict[str, SumRelation] = {}
        for rel in self.sums:
            if rel.formula and rel.target not in out:
                out[rel.target] = rel
        return out

    @cached_property
    def input_keys(self) -> tuple[str, ...]:
        """Value cells the agency types in (every cell that is not a formula)."""
        return tuple(k for k in self.cells if k not in self.formulas)


def _expand(t: Table, rule: TableRule) -> list[Relation]:
    """One table rule as cell-level relations (cross-year rules have their own expansions)."""
    if isinstance(rule, ColumnTotal):
        return [SumRelation(rule.code, t.cell_key(r.key, rule.target),
                            tuple(t.cell_key(r.key, p) for p in rule.parts), rule.description) for r in t.rows]
    if isinstance(rule, RowTotal):
        return [SumRelation(rule.code, t.cell_key(rule.target, c.key),
                            tuple(t.cell_key(p, c.key) for p in rule.parts), rule.description) for c in t.columns]
    if isinstance(rule, Balance):
        return [BalanceRelation(rule.code, tuple(t.cell_key(r, c.key) for r in rule.left),
                                tuple(t.cell_key(r, c.key) for r in rule.right), rule.description, c.key)
                for c in t.columns]
    if isinstance(rule, AtLeast):
        return [AtLeastRelation(rule.code, t.cell_key(r.key, rule.big), t.cell_key(r.key, rule.small),
                                rule.description) for r in t.rows]
    return []
