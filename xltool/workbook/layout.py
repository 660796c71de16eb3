"""Where every label, input, formula and check of our template sits, derived from the spec.

The template writer draws exactly this; the reader reads exactly this (after verifying the
labels are still in place); validation names cells by these addresses. Nothing here is
typed per format: each table style has one drawing rule.

>>> from xltool.spec import V2021
>>> lay = layout_for(V2021)
>>> lay.address["sec3.new_received.natural"]
('表三 依申请公开', 'D6')
>>> lay.sheet("sec3").formulas["J6"].text
'SUM(D6:I6)'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache

from xltool.core.numbers import engine_add, engine_equal, engine_number, tidy
from xltool.spec import TABLE_SHEETS, BalanceRelation, Format, Style, SumRelation

# --- sheet names (ours, not official) ---------------------------------------------------

INSTRUCTIONS_SHEET = "填报说明"
INFO_SHEET = "基本信息"
TEXT_SHEET = "文字部分"
META_SHEET = "_xltool_meta"
SHEET_ORDER = (
    INSTRUCTIONS_SHEET,
    INFO_SHEET,
    TABLE_SHEETS["sec2"][0],
    TABLE_SHEETS["sec3"][0],
    TABLE_SHEETS["sec4"][0],
    TEXT_SHEET,
    META_SHEET,
)

CHECK_OK = "通过"
CHECK_BAD = "不平衡"
STATUS_OK = "校验通过"
STATUS_LABEL = "校验状态"
CHECK_ROW_LABEL = "勾稽关系校验（第一项加第二项之和，等于第三项加第四项之和）"

# 基本信息 fields: (key, label, input message)
INFO_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("agency", "单位名称", "填写本单位全称，与公章一致"),
    ("credit_code", "统一社会信用代码", "18位统一社会信用代码（可不填）"),
    ("year", "报告年度", "报告所属年度"),
    ("format", "报告格式", "适用的年度报告格式"),
    ("filler", "填报人", "填写填报人姓名"),
    ("phone", "联系电话", "填写联系电话"),
    ("fill_date", "填报日期", "填写填报日期，如 2026-01-15"),
)

# --- A1 helpers -------------------------------------------------------------------------


def col_letter(col: int) -> str:
    """0-based column index → letters."""
    s = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


def a1(row: int, col: int) -> str:
    """0-based (row, col) → 'B3'."""
    return f"{col_letter(col)}{row + 1}"


def a1_range(r0: int, c0: int, r1: int, c1: int) -> str:
    return f"{a1(r0, c0)}:{a1(r1, c1)}"


def parse_a1(ref: str) -> tuple[int, int]:
    """'B3' → (2, 1). Accepts '$B$3'."""
    ref = ref.replace("$", "").upper()
    i = 0
    col = 0
    while i < len(ref) and ref[i].isalpha():
        col = col * 26 + ord(ref[i]) - 64
        i += 1
    if not i or i == len(ref):
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(ref[i:]) - 1, col - 1


# --- layout records ---------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    row: int
    col: int
    text: str
    last_row: int | None = None  # merged range end, if merged
    last_col: int | None = None
    kind: str = "label"  # label | caption | heading | note | group | header

    @property
    def addr(self) -> str:
        return a1(self.row, self.col)

    @property
    def merged(self) -> str | None:
        if self.last_row is None:
            return None
        return a1_range(self.row, self.col, self.last_row, self.last_col or self.col)


@dataclass(frozen=True)
class ValueCell:
    key: str
    row: int
    col: int
    last_col: int | None = None  # merged to the right (single-value sec2 tables)

    @property
    def addr(self) -> str:
        return a1(self.row, self.col)


@dataclass(frozen=True)
class FormulaCell:
    addr: str
    text: str  # without the leading '='
    relation: SumRelation


@dataclass(frozen=True)
class CheckCell:
    addr: str
    text: str
    relation: BalanceRelation


@dataclass(frozen=True)
class StatusCell:
    addr: str
    text: str
    merged: str
    check_addrs: tuple[str, ...]
    input_range: str


@dataclass
class SheetLayout:
    name: str
    short: str  # "表三", used in messages like 表三!D12
    width: int  # number of columns used
    labels: list[Label] = field(default_factory=list)
    values: list[ValueCell] = field(default_factory=list)
    formulas: dict[str, FormulaCell] = field(default_factory=dict)
    checks: list[CheckCell] = field(default_factory=list)
    status: StatusCell | None = None
    header_rows: tuple[int, int] = (0, 0)  # rows to repeat when printing
    landscape: bool = False

    @property
    def inputs(self) -> list[ValueCell]:
        return [v for v in self.values if v.addr not in self.formulas]

    def merges(self) -> list[str]:
        out = [lab.merged for lab in self.labels if lab.merged]
        for v in self.values:
            if v.last_col is not None:
                out.append(a1_range(v.row, v.col, v.row, v.last_col))
        if self.status:
            out.append(self.status.merged)
        return out


@dataclass
class Layout:
    fmt: Format
    sheets: dict[str, SheetLayout]  # by section key: sec2, sec3, sec4
    info: SheetLayout
    text: SheetLayout
    address: dict[str, tuple[str, str]]  # cell key → (sheet name, A1)
    info_address: dict[str, tuple[str, str]]  # 基本信息 field → (sheet, A1)
    text_address: dict[str, tuple[str, str]]  # narrative section key → (sheet, A1)

    def sheet(self, section: str) -> SheetLayout:
        return self.sheets[section]

    def all_sheets(self) -> list[SheetLayout]:
        return [self.info, *self.sheets.values(), self.text]

    def sheet_of_key(self, key: str) -> SheetLayout:
        return self.sheets[self.fmt.cells[key].table.section]

    def fingerprint_items(self) -> list[str]:
        """Canonical description of the locked layout (see ``fingerprint``)."""
        items: list[str] = []
        for sh in self.all_sheets():
            for lab in sh.labels:
                items.append(f"L|{sh.name}|{lab.addr}|{lab.text}")
            for f in sh.formulas.values():
                items.append(f"F|{sh.name}|{f.addr}|{normalize_formula(f.text)}")
            for c in sh.checks:
                items.append(f"F|{sh.name}|{c.addr}|{normalize_formula(c.text)}")
            if sh.status:
                items.append(f"F|{sh.name}|{sh.status.addr}|{normalize_formula(sh.status.text)}")
            for v in sh.inputs:
                items.append(f"I|{sh.name}|{v.addr}")
            for m in sh.merges():
                items.append(f"M|{sh.name}|{m}")
        return sorted(items)

    def fingerprint(self) -> str:
        return fingerprint_of(self.fingerprint_items())


def fingerprint_of(items: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(items)).encode("utf-8")).hexdigest()


def normalize_formula(text: str) -> str:
    """Make formula text comparable across writers (xlsxwriter, Excel, WPS, LibreOffice)."""
    t = text.strip()
    if t.startswith("="):
        t = t[1:]
    t = t.replace("$", "").replace("'", "").replace(" ", "")
    return t.upper()


# --- drawing rules per style ------------------------------------------------------------

_GRID_VALUE_COLS = 3  # section 二 tables are four columns wide: label + 3 value columns


def _span(n_cols: int, i: int) -> tuple[int, int]:
    """Value column i of n in a 3-wide grid: the last column takes the remaining width."""
    first = 1 + i
    last = first if i < n_cols - 1 else _GRID_VALUE_COLS
    return first, last


def _grid_sheet(fmt: Format) -> SheetLayout:
    name, short = TABLE_SHEETS["sec2"]
    sh = SheetLayout(name, short, width=1 + _GRID_VALUE_COLS)
    sh.labels.append(Label(0, 0, fmt.section("sec2").heading, 0, _GRID_VALUE_COLS, "heading"))
    r = 2
    for t in fmt.tables_of("sec2"):
        sh.labels.append(Label(r, 0, t.caption, r, _GRID_VALUE_COLS, "caption"))
        r += 1
        sh.labels.append(Label(r, 0, t.header_first, kind="header"))
        n = len(t.columns)
        for i, c in enumerate(t.columns):
            first, last = _span(n, i)
            if first == last:
                sh.labels.append(Label(r, first, c.label, kind="header"))
            else:
                sh.labels.append(Label(r, first, c.label, r, last, "header"))
        r += 1
        for row in t.rows:
            sh.labels.append(Label(r, 0, row.label))
            for i, c in enumerate(t.columns):
                first, last = _span(n, i)
                sh.values.append(ValueCell(t.cell_key(row.key, c.key), r, first, None if first == last else last))
            r += 1
        r += 1
    sh.header_rows = (0, 0)
    return sh


def _group_runs(items: list[tuple[str, ...]], level: int) -> list[tuple[str, int, int]]:
    """Consecutive runs of equal group label at ``level``: (label, first index, last index)."""
    runs: list[tuple[str, int, int]] = []
    for i, groups in enumerate(items):
        g = groups[level] if len(groups) > level else None
        if g is None:
            continue
        if runs and runs[-1][0] == g and runs[-1][2] == i - 1:
            runs[-1] = (g, runs[-1][1], i)
        else:
            runs.append((g, i, i))
    return runs


def _matrix_sheet(fmt: Format) -> SheetLayout:
    t = fmt.table("sec3")
    name, short = TABLE_SHEETS["sec3"]
    n_label = 3
    ncols = len(t.columns)
    width = n_label + ncols
    sh = SheetLayout(name, short, width=width, landscape=True)
    last_col = width - 1
    sh.labels.append(Label(0, 0, t.caption, 0, last_col, "heading"))
    # row 1: status; rows 2..4: header
    sh.labels.append(Label(1, 0, STATUS_LABEL, 1, n_label - 1, "label"))
    h0 = 2
    sh.labels.append(Label(h0, 0, t.header_first, h0 + 2, n_label - 1, "note"))
    sh.labels.append(Label(h0, n_label, t.column_root, h0, last_col, "header"))
    col_groups = [c.groups for c in t.columns]
    for g, i0, i1 in _group_runs(col_groups, 0):
        sh.labels.append(Label(h0 + 1, n_label + i0, g, h0 + 1, n_label + i1, "header"))
    for i, c in enumerate(t.columns):
        if c.groups:
            sh.labels.append(Label(h0 + 2, n_label + i, c.label, kind="header"))
        else:
            sh.labels.append(Label(h0 + 1, n_label + i, c.label, h0 + 2, n_label + i, "header"))
    sh.header_rows = (h0, h0 + 2)
    r0 = h0 + 3
    row_groups = [r.groups for r in t.rows]
    for level in (0, 1):
        for g, i0, i1 in _group_runs(row_groups, level):
            sh.labels.append(Label(r0 + i0, level, g, r0 + i1, level, "group"))
    for i, row in enumerate(t.rows):
        depth = len(row.groups)
        if depth < n_label - 1:
            sh.labels.append(Label(r0 + i, depth, row.label, r0 + i, n_label - 1))
        else:
            sh.labels.append(Label(r0 + i, depth, row.label))
        for j, c in enumerate(t.columns):
            sh.values.append(ValueCell(t.cell_key(row.key, c.key), r0 + i, n_label + j))
    last_data = r0 + len(t.rows) - 1
    # check row
    rc = last_data + 2
    sh.labels.append(Label(rc, 0, CHECK_ROW_LABEL, rc, n_label - 1))
    return sh


def _flat_sheet(fmt: Format) -> SheetLayout:
    t = fmt.table("sec4")
    name, short = TABLE_SHEETS["sec4"]
    ncols = len(t.columns)
    width = ncols * len(t.rows)
    sh = SheetLayout(name, short, width=width, landscape=True)
    sh.labels.append(Label(0, 0, t.caption, 0, width - 1, "heading"))
    h0 = 1
    depth = max(len(r.groups) for r in t.rows) + 2  # header rows: groups, row label, columns
    paths = [(*r.groups, r.label) for r in t.rows]
    # one entry per value column, carrying its row's label path
    col_paths: list[tuple[str, ...]] = [p for p in paths for _ in t.columns]
    for level in range(depth - 1):
        for g, i0, i1 in _group_runs(col_paths, level):
            sh.labels.append(Label(h0 + level, i0, g, h0 + level, i1, "header"))
    for ri, row in enumerate(t.rows):
        level = len(paths[ri])
        for j, c in enumerate(t.columns):
            col = ri * ncols + j
            if level < depth - 1:
                sh.labels.append(Label(h0 + level, col, c.label, h0 + depth - 1, col, "header"))
            else:
                sh.labels.append(Label(h0 + level, col, c.label, kind="header"))
            sh.values.append(ValueCell(t.cell_key(row.key, c.key), h0 + depth, col))
    sh.header_rows = (h0, h0 + depth - 1)
    return sh


_DRAW = {Style.GRID: _grid_sheet, Style.MATRIX: _matrix_sheet, Style.FLAT: _flat_sheet}


def _sum_text(addrs: list[tuple[int, int]]) -> str:
    """SUM over addresses, collapsing one contiguous run in a row or column to a range."""
    rows = {r for r, _ in addrs}
    cols = {c for _, c in addrs}
    if len(rows) == 1 and max(cols) - min(cols) + 1 == len(addrs):
        r = rows.pop()
        return f"SUM({a1(r, min(cols))}:{a1(r, max(cols))})"
    if len(cols) == 1 and max(rows) - min(rows) + 1 == len(addrs):
        c = cols.pop()
        return f"SUM({a1(min(rows), c)}:{a1(max(rows), c)})"
    return "SUM(" + ",".join(a1(r, c) for r, c in addrs) + ")"


def _add_formulas(fmt: Format, sheets: dict[str, SheetLayout]) -> None:
    pos: dict[str, tuple[str, int, int]] = {}
    for sec, sh in sheets.items():
        for v in sh.values:
            pos[v.key] = (sec, v.row, v.col)
    for key, rel in fmt.formulas.items():
        sec, r, c = pos[key]
        text = _sum_text([pos[p][1:] for p in rel.parts])
        sheets[sec].formulas[a1(r, c)] = FormulaCell(a1(r, c), text, rel)
    # balance checks and the status cell live on the sheet of their table
    for bal in fmt.balances:
        sec, _, c = pos[bal.left[0]]
        sh = sheets[sec]
        check_row = max(v.row for v in sh.values) + 2
        lhs = "+".join(a1(*pos[k][1:]) for k in bal.left)
        rhs = "+".join(a1(*pos[k][1:]) for k in bal.right)
        text = f'IF({lhs}={rhs},"{CHECK_OK}","{CHECK_BAD}")'
        sh.checks.append(CheckCell(a1(check_row, c), text, bal))
    for sh in sheets.values():
        if not sh.checks:
            continue
        inputs = [(v.row, v.col) for v in sh.inputs]
        r0, r1 = min(r for r, _ in inputs), max(r for r, _ in inputs)
        c0, c1 = min(c for _, c in inputs), max(c for _, c in inputs)
        rng = a1_range(r0, c0, r1, c1)
        ck = [c.addr for c in sh.checks]
        ck_rng = f"{ck[0]}:{ck[-1]}"
        n = f'(COUNTIF({ck_rng},"{CHECK_BAD}")+SUMPRODUCT(--ISTEXT({rng}))+COUNTIF({rng},"<0"))'
        text = f'IF({n}=0,"{STATUS_OK}","尚有"&{n}&"处问题，请查看标红单元格")'
        status_row = 1
        first_val_col = min(c for _, c in inputs)
        sh.status = StatusCell(
            a1(status_row, first_val_col),
            text,
            a1_range(status_row, first_val_col, status_row, sh.width - 1),
            tuple(ck),
            rng,
        )


def _info_sheet(agency_fixed: bool = False) -> tuple[SheetLayout, dict[str, tuple[str, str]]]:
    sh = SheetLayout(INFO_SHEET, INFO_SHEET, width=4)
    sh.labels.append(Label(0, 0, "基本信息", 0, 3, "heading"))
    addr: dict[str, tuple[str, str]] = {}
    for i, (key, label, _msg) in enumerate(INFO_FIELDS):
        r = 2 + i
        sh.labels.append(Label(r, 0, label))
        sh.values.append(ValueCell(f"info.{key}", r, 1, 3))
        addr[key] = (INFO_SHEET, a1(r, 1))
    return sh, addr


def _text_sheet(fmt: Format) -> tuple[SheetLayout, dict[str, tuple[str, str]]]:
    width = 10
    sh = SheetLayout(TEXT_SHEET, TEXT_SHEET, width=width)
    sh.labels.append(Label(0, 0, "文字部分", 0, width - 1, "heading"))
    addr: dict[str, tuple[str, str]] = {}
    r = 2
    for s in fmt.sections:
        if not s.narrative:
            continue
        sh.labels.append(Label(r, 0, s.heading, r, width - 1, "caption"))
        sh.values.append(ValueCell(f"text.{s.key}", r + 1, 0, width - 1))
        addr[s.key] = (TEXT_SHEET, a1(r + 1, 0))
        r += 3
    return sh, addr


@cache
def layout_for(fmt: Format) -> Layout:
    """The template layout of a format (cached: it is pure)."""
    sheets = {sec: _DRAW[fmt.tables_of(sec)[0].style](fmt) for sec in ("sec2", "sec3", "sec4")}
    _add_formulas(fmt, sheets)
    info, info_addr = _info_sheet()
    text, text_addr = _text_sheet(fmt)
    address = {v.key: (sh.name, v.addr) for sh in sheets.values() for v in sh.values}
    return Layout(fmt, sheets, info, text, address, info_addr, text_addr)


def compute_cached(
    lay: Layout, numbers: dict[str, object], overrides: dict[str, object] | None = None
) -> dict[tuple[str, str], object]:
    """Values every formula of the template shows for the given inputs.

    Mirrors the spreadsheet's own arithmetic (measured in LibreOffice): blank and text count
    as 0 in SUM; ``+`` converts text such as "12%", "(5)", "2020-1-1" or " 12" with a
    non-breaking space (``core.numbers.engine_number``), other text gives #VALUE!; ``=``
    compares approximately (0.1+0.2 equals 0.3); text and negatives count as problems in the
    status cell. Used to write correct cached values,
    so a viewer that does not recalculate shows the right numbers and texts.
    ``overrides`` are constants standing where a formula should be (a typed-over total):
    other formulas and checks then see the constant, as a spreadsheet would.
    """

    def as_num(x: object) -> float:
        return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else 0.0

    overrides = overrides or {}
    vals: dict[str, float] = {k: as_num(numbers.get(k)) for k in lay.fmt.input_keys}
    vals.update({k: as_num(v) for k, v in overrides.items()})
    for rel in lay.fmt.formula_order:  # 表三 corner depends on formulas
        if rel.target not in overrides:
            vals[rel.target] = sum(vals[p] for p in rel.parts)
    out: dict[tuple[str, str], object] = {}
    for key in lay.fmt.formulas:
        if key in overrides:
            continue
        sheet, addr = lay.address[key]
        out[(sheet, addr)] = tidy(vals[key])

    def operand(k: str) -> float | None:
        """A cell as ``+`` sees it: text the engine converts is a number, other text #VALUE! (None)."""
        raw = overrides[k] if k in overrides else (numbers.get(k) if k not in lay.fmt.formulas else None)
        if isinstance(raw, str) and raw != "":  # an empty string is written as a blank cell
            return engine_number(raw)
        return vals[k]

    def plus(xs: list[float]) -> float:
        total = xs[0]
        for x in xs[1:]:
            total = engine_add(total, x)
        return total

    for sh in lay.sheets.values():
        bad = 0
        for c in sh.checks:
            left = [x for k in c.relation.left if (x := operand(k)) is not None]
            right = [x for k in c.relation.right if (x := operand(k)) is not None]
            if len(left) < len(c.relation.left) or len(right) < len(c.relation.right):
                out[(sh.name, c.addr)] = VALUE_ERROR  # not "不平衡", so the status does not count it
                continue
            ok = engine_equal(plus(left), plus(right))
            out[(sh.name, c.addr)] = CHECK_OK if ok else CHECK_BAD
            bad += not ok
        if sh.status:
            first, last = sh.status.input_range.split(":")
            (r0, c0), (r1, c1) = parse_a1(first), parse_a1(last)
            for v in sh.values:
                if not (r0 <= v.row <= r1 and c0 <= v.col <= c1):
                    continue
                if v.key in overrides:
                    raw = overrides[v.key]
                else:
                    raw = numbers.get(v.key) if v.addr not in sh.formulas else vals[v.key]
                if (isinstance(raw, str) and raw != "") or (isinstance(raw, (int, float)) and raw < 0):
                    bad += 1
            out[(sh.name, sh.status.addr)] = STATUS_OK if bad == 0 else f"尚有{bad}处问题，请查看标红单元格"
    return out


VALUE_ERROR = "#VALUE!"
