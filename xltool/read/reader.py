"""Read one returned workbook: guard, values, and either template verification or table location.

``read_file`` never raises for a bad file: every problem becomes ``status="unreadable"``
with a Chinese ``error``, or a ``Finding``. Our templates are read at the addresses of
``layout_for(fmt)`` after the layout is verified against the file (labels, formulas, unlocked
cells, merges, protection, meta sheet); a sheet whose rows or columns were shifted, a
template of another layout version, and any workbook that is not ours are read by their
labels instead (``locate``).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from xltool.core.findings import READ, REGISTRY, Code, make
from xltool.core.labels import norm_label, xml_invalid_chars, xml_safe
from xltool.core.model import (
    BLANK,
    AgencyReport,
    CellValue,
    FieldValue,
    FileStatus,
    Finding,
    FormulaState,
    ReportMeta,
    Severity,
)
from xltool.read.guard import DEFAULT_LIMITS, Guarded, GuardError, GuardLimits, guard, not_regular
from xltool.read.locate import SheetIndex, TableLoc, find_info, locate_report, locate_table
from xltool.read.values import cell_text, eval_arithmetic, parse_value
from xltool.read.xmlscan import (
    SharedStrings,
    SheetScan,
    WorkbookInfo,
    head_rows,
    scan_sheet,
    unlocked_styles,
    workbook_info,
)
from xltool.spec import CURRENT, FORMATS, TABLE_SHEETS, Format, unnumbered
from xltool.workbook.layout import (
    INFO_SHEET,
    META_SHEET,
    SHEET_ORDER,
    TEXT_SHEET,
    Layout,
    a1,
    layout_for,
    normalize_formula,
    parse_a1,
)
from xltool.workbook.meta import MAX_TEXT, TEMPLATE_KIND, parse_meta

E, W = Severity.ERROR, Severity.WARNING

# the reader's codes (the guard's FILE_* reasons among them), from the one registry
READER_CODES: dict[str, Code] = {c.code: c for c in REGISTRY.values() if c.source == READ}

_GUARD_CODE = {c.removeprefix("FILE_"): c for c in READER_CODES if c.startswith("FILE_")}


@dataclass
class ReadResult:
    """Everything learned from one file; see the reader's developer note for the fields."""

    path: str
    sha256: str
    size: int
    mtime: float
    status: FileStatus = FileStatus.OK  # OK or UNREADABLE (check adds INVALID)
    error: str | None = None
    report: AgencyReport | None = None
    is_template: bool = False
    findings: list[Finding] = field(default_factory=list)
    formula_state: dict[str, FormulaState] = field(default_factory=dict)
    locations: dict[str, tuple[str, str]] = field(default_factory=dict)
    fill_time: str | None = None
    has_macros: bool = False
    meta_fields: dict[str, str] = field(default_factory=dict)  # our meta sheet's key/value rows, as read


def unreadable(path: str, code: str, variant: str | None = None, /, *, sha256: str = "", size: int = 0,
               mtime: float = 0.0, **fields: FieldValue) -> ReadResult:
    """A result for a file that could not be read; ``code`` is a READER_CODES key, its message
    the registry's wording (``variant``) with ``fields`` (the guard's reason: ``reason=``)."""
    f = make(code, variant, file=path, **fields)
    return ReadResult(path, sha256, size, mtime, FileStatus.UNREADABLE, f.message, None, False, [f])


# --- entry point ----------------------------------------------------------------------


def read_file(
    path: str | Path,
    *,
    expect_year: int | None = None,
    expect_agency: str | None = None,
    expect_format: str | None = None,
    limits: GuardLimits = DEFAULT_LIMITS,
) -> ReadResult:
    """Read one workbook; never raises for a bad file (see module doc)."""
    p = str(path)
    why = not_regular(p)
    if why:
        return unreadable(p, "FILE_NOT_REGULAR", reason=why)
    try:
        st = os.stat(p)
        mtime = st.st_mtime
    except OSError as e:
        return unreadable(p, "FILE_IO", "open", why=str(e.strerror or e))
    try:
        g = guard(p, limits)
    except GuardError as e:
        return unreadable(p, _GUARD_CODE.get(e.code, "FILE_NOT_WORKBOOK"), reason=e.message, sha256=e.sha256,
                          size=st.st_size, mtime=mtime)
    except MemoryError:
        return unreadable(p, "FILE_MEMORY", "reader", size=st.st_size, mtime=mtime)
    except Exception as e:  # the guard maps every failure it knows; anything else is still the file's
        return unreadable(p, "FILE_CORRUPT", "unexpected", why=type(e).__name__, size=st.st_size, mtime=mtime)
    try:
        return _Reader(g, mtime, expect_year, expect_agency, expect_format).run()
    except MemoryError:
        return unreadable(p, "FILE_MEMORY", "reader", sha256=g.sha256, size=g.size, mtime=mtime)
    except Exception as e:  # a library error on a file the guard let through: the file's fault
        return unreadable(p, "FILE_PARSE_ERROR", why=f"{type(e).__name__}: {str(e)[:120]}", sha256=g.sha256,
                          size=g.size, mtime=mtime)


_MODIFIED = re.compile(rb"<(?:\w+:)?modified\b[^>]*>([^<]+)</")
_META_HEAD_ROWS = 24  # the meta sheet's key/value block is far shorter; its cell map is not read


class _Reader:
    """One file's reading state (kept small: it lives only during ``run``)."""

    def __init__(self, g: Guarded, mtime: float, year: int | None, agency: str | None, fmt: str | None) -> None:
        self.g = g
        self.expect_year = year
        self.expect_agency = agency
        self.expect_format = str(fmt) if fmt is not None else None
        self.res = ReadResult(g.path, g.sha256, g.size, mtime, has_macros=g.has_macros)
        self.grids: dict[str, list[list[Any]]] = {}
        self.wb: Any = None
        self.info: WorkbookInfo | None = None
        self._scans: dict[str, SheetScan] = {}

    # -- helpers
    def add(self, code: str, variant: str | None = None, /, **fields: FieldValue) -> None:
        self.res.findings.append(make(code, variant, file=self.g.path, **fields))

    def grid(self, name: str) -> list[list[Any]]:
        if name not in self.grids:
            self.grids[name] = self.book().get_sheet_by_name(name).to_python(skip_empty_area=False)
        return self.grids[name]

    def book(self) -> Any:
        if self.wb is None:
            from python_calamine import CalamineWorkbook

            self.wb = CalamineWorkbook.from_filelike(io.BytesIO(self.g.data))
        return self.wb

    def sheet_names(self) -> list[str]:
        if self.info is not None:
            return [s.name for s in self.info.sheets]
        return list(self.book().sheet_names)

    # -- main
    def run(self) -> ReadResult:
        g = self.g
        if g.kind == "xlsx":
            self.info = workbook_info(g.parts)
        core = g.parts.get("docProps/core.xml")
        if core:
            m = _MODIFIED.search(core)
            if m:
                self.res.fill_time = m.group(1).decode().strip()
        if g.has_macros:
            self.add("HAS_MACROS")
        meta = self._meta()
        if g.kind == "xls":
            self.add("LEGACY_XLS")
        if meta is not None and g.kind == "xlsx":
            self._read_template(*meta)
        else:
            self._read_foreign(meta)
        return self.res

    # -- meta sheet
    def _meta_rows(self) -> list[list[Any]]:
        """The key/value head of the meta sheet (the cell map below it is not needed)."""
        part = self.info.part_of(META_SHEET) if self.info is not None else None
        if part and part in self.g.parts:
            sst = SharedStrings(self.g.parts.get("xl/sharedStrings.xml"))
            return head_rows(self.g.parts[part], sst, _META_HEAD_ROWS)
        return self.grid(META_SHEET)

    def _meta(self) -> tuple[Format, Any] | None:
        if META_SHEET not in self.sheet_names():
            return None

        try:
            meta = parse_meta(self._meta_rows())
        except Exception:
            meta = None
        fields = meta.fields if meta is not None else {}
        self.res.meta_fields = dict(fields)
        fid = fields.get("format", "")
        year = fields.get("year", "")
        if meta is None or fields.get("kind") != TEMPLATE_KIND or fid not in FORMATS or not year.isdigit():
            self.add("META_INVALID", sheet=META_SHEET)
            return None
        self.res.is_template = True
        return FORMATS[fid], meta

    # -- our template
    def _read_template(self, fmt: Format, meta: Any) -> None:
        plan = _plan(fmt)
        lay = plan.lay
        fields: dict[str, str] = meta.fields
        assert self.info is not None
        report = AgencyReport.model_construct(
            meta=ReportMeta.model_construct(
                agency=fields.get("agency") or None, credit_code=fields.get("credit_code") or None,
                year=int(fields["year"]), format=fmt.id, filler=None, phone=None, fill_date=None,
                template_id=fields.get("template_id") or None, tool_version=fields.get("tool_version") or None,
            ),
            values={}, narrative={}, extras={},
        )
        self.res.report = report
        if fields.get("fingerprint") and fields["fingerprint"] != plan.fingerprint:
            version = fields.get("tool_version")
            self.add("TEMPLATE_OUTDATED", None if version else "unknown_version", version=version)
            self._read_by_labels(fmt, list(lay.sheets), report)
            self._read_info(lay, report, fields, self._sheet_names(lay, quiet=True))
            self._expectations(report)
            return
        if not self.info.structure_locked:
            self.add("STRUCTURE_UNPROTECTED")
        actual = self._sheet_names(lay)
        unlocked = unlocked_styles(self._styles_part())
        shifted: list[str] = []
        for sp in plan.sheets:
            name = actual.get(sp.name)
            if name is None:
                continue
            if not self._verify_sheet(sp, name, unlocked) and sp.section:
                shifted.append(sp.section)
            elif sp.section:
                self._read_values(sp, name, report)
        if shifted:
            self._read_by_labels(fmt, shifted, report, only_sheets={n for s in shifted if (n := actual[lay.sheets[s].name])})
        for sec, sh in lay.sheets.items():
            if actual.get(sh.name) is None:
                for t in fmt.tables_of(sec):
                    self.add("TABLE_NOT_FOUND", "sheet_missing", caption=t.caption, table=sh.short, sheet=sh.name,
                             expected=t.caption)
        self._read_info(lay, report, fields, actual)
        self._read_text(lay, report, actual)
        self._expectations(report)
        self.res.findings.sort(key=_finding_order)

    def _styles_part(self) -> bytes | None:
        parts = self.g.parts
        if "xl/styles.xml" in parts:
            return parts["xl/styles.xml"]
        return next((v for k, v in parts.items() if k.endswith("styles.xml")), None)

    def _sheet_names(self, lay: Layout, quiet: bool = False) -> dict[str, str | None]:
        """Layout sheet name → the sheet in the file (same name, or the renamed one)."""
        names = self.sheet_names()
        present = set(names)
        out: dict[str, str | None] = {}
        unknown = [n for n in names if n not in SHEET_ORDER]
        for sh in lay.all_sheets():
            if sh.name in present:
                out[sh.name] = sh.name
                continue
            heading = sh.labels[0]
            found = None
            for n in unknown:
                if norm_label(cell_text(_at(self.grid(n), heading.row, heading.col))) == norm_label(heading.text):
                    found = n
                    break
            out[sh.name] = found
            if quiet:
                continue
            if found is not None:
                unknown.remove(found)
                self.add("SHEET_RENAMED", name=sh.name, found=found, sheet=found, table=sh.short, expected=sh.name,
                         actual=found)
            else:
                self.add("SHEET_MISSING", name=sh.name, sheet=sh.name, table=sh.short, expected=sh.name)
        return out

    def _verify_sheet(self, sp: _SheetPlan, name: str, unlocked: frozenset[int]) -> bool:
        """Labels, formulas, unlocked cells, merges, protection of one sheet; False if shifted."""
        assert self.info is not None
        grid = self.grid(name)
        part = self.info.part_of(name)
        scan = scan_sheet(self.g.parts[part]) if part and part in self.g.parts else SheetScan()
        self._scans[sp.name] = scan
        where = sp.short
        if not scan.protected:
            self.add("SHEET_UNPROTECTED", sheet=name, table=where)
        # labels
        moved: list[tuple[str, str, str]] = []
        changed: list[tuple[str, str, str]] = []
        index: dict[str, list[tuple[int, int]]] | None = None
        for row, col, addr, text, norm in sp.labels:
            v = _at(grid, row, col)
            got = v if type(v) is str else cell_text(v)
            if got == text or norm_label(got) == norm:
                continue
            if index is None:
                index = {}
                for r, cells in enumerate(grid):
                    for c, x in enumerate(cells):
                        if type(x) is str and x:
                            index.setdefault(norm_label(x), []).append((r, c))
            spots = index.get(norm, [])
            if spots:
                _, r, c = min((abs(sr - row) + abs(sc - col), sr, sc) for sr, sc in spots)  # nearest (ties: first)
                moved.append((text, addr, a1(r, c)))
            else:
                changed.append((text, addr, got))
        if moved:
            lab_text, was, now = min(moved, key=lambda m: parse_a1(m[1]))  # the first in reading order
            self.add("LAYOUT_SHIFTED", "many" if len(moved) > 1 else None, label=lab_text, was=was, now=now,
                     moved=len(moved), sheet=name, table=where, cell=was, expected=was, actual=now)
        for lab_text, addr, got in changed[:5]:
            self.add("LABEL_CHANGED", label=lab_text, found=got or "（空）", sheet=name, table=where, cell=addr,
                     expected=lab_text, actual=got)
        if moved:
            return False
        # formulas: value keys get a formula_state; check and status cells only findings
        fs = self.res.formula_state
        errors, cached = scan.errors, scan.cached
        for addr, text, norm, key in sp.formulas:
            formula = scan.formulas.get(addr)
            if formula is None:
                shown = cell_text(_at(grid, *parse_a1(addr))) or "（空）"
                if key:
                    fs[key] = FormulaState.MISSING
                self.add("FORMULA_REPLACED", shown=shown, sheet=name, table=where, cell=addr, key=key,
                         **self._labels_of(key), expected="=" + text, actual=shown)
                continue
            gn = normalize_formula(formula)
            if gn != norm:
                if key:
                    fs[key] = FormulaState.CHANGED
                self.add("FORMULA_CHANGED", where=where, formula=text, found=formula, sheet=name, table=where, cell=addr,
                         key=key, **self._labels_of(key), expected="=" + text, actual="=" + formula)
            elif key:
                fs[key] = (FormulaState.ERROR if addr in errors
                           else FormulaState.NO_CACHE if cached.get(addr) in (None, "") else FormulaState.OK)
        # unlocked cells (inputs) and merges
        covered = _covered(tuple(scan.merges))
        file_inputs = scan.cells_with_style(unlocked) - covered
        missing_inputs = sp.inputs - file_inputs
        # a field the template filled in and locked (基本信息 年度/格式/单位) is still an input
        missing_inputs = {a for a in missing_inputs if _at(grid, *parse_a1(a)) in ("", None)}
        file_inputs |= sp.inputs - missing_inputs - file_inputs
        for a in sorted(missing_inputs, key=parse_a1)[:5]:
            self.add("INPUT_LOCKED", sheet=name, table=where, cell=a)
        for a in sorted(file_inputs - sp.inputs, key=parse_a1)[:5]:
            self.add("CELL_UNLOCKED", sheet=name, table=where, cell=a)
        got_merges = set(scan.merges)
        if got_merges != sp.merges:
            diff = sorted(sp.merges ^ got_merges)
            self.add("MERGE_CHANGED", merges="、".join(diff[:3]), sheet=name, table=where, cell=diff[0].split(":")[0])
        return True

    def _labels_of(self, key: str | None) -> dict[str, str | None]:
        if not key or self.res.report is None:
            return {"row": None, "column": None}
        c = self.res.report.fmt.cells.get(key)
        return {"row": c.row.label, "column": c.column.label} if c is not None else {"row": None, "column": None}

    def _read_values(self, sp: _SheetPlan, name: str, report: AgencyReport) -> None:
        grid = self.grid(name)
        scan = self._scans.get(sp.name)
        errors = scan.errors if scan is not None else {}
        formulas = scan.formulas if scan is not None else {}
        totals = report.fmt.formulas
        vals = report.values
        locs = self.res.locations
        for key, row, col, addr, unit in sp.values:
            if addr in errors:
                vals[key] = CellValue.model_construct(state="text", number=None, raw=errors[addr])
            elif addr in formulas and key not in totals:
                vals[key] = self._input_formula(name, sp.short, addr, key, formulas[addr], unit)
            else:
                x = _at(grid, row, col)
                vals[key] = BLANK if x == "" else parse_value(x, unit)
            locs[key] = (name, addr)

    def _scan_of(self, sheet: str) -> SheetScan:
        """The structure scan of a sheet of the file by its name (empty for .xls or no part)."""
        key = "\0" + sheet  # not a layout sheet name (those are cached by _verify_sheet)
        if key not in self._scans:
            part = self.info.part_of(sheet) if self.info is not None else None
            self._scans[key] = scan_sheet(self.g.parts[part]) if part and part in self.g.parts else SheetScan()
        return self._scans[key]

    def _input_formula(self, sheet: str, where: str, addr: str, key: str, formula: str, unit: str | None) -> CellValue:
        """An input cell holding a formula: its cached result may be stale (a file saved without
        recalculation shows 0 for ``=3+4``), so it is never used. Plain arithmetic is evaluated
        (a warning says so); anything else is an error and the cell does not count."""
        shown = "=" + formula
        value = eval_arithmetic(formula)
        labels = self._labels_of(key)
        if value is not None:
            cv = parse_value(value, unit)
            self.add("INPUT_FORMULA", shown=shown, result=cell_text(value), sheet=sheet, table=where, cell=addr, key=key,
                     **labels, expected=cell_text(value), actual=shown)
            return cv
        self.add("INPUT_FORMULA_UNSUPPORTED", shown=shown, sheet=sheet, table=where, cell=addr, key=key, **labels,
                 expected="数字", actual=shown)
        return CellValue.model_construct(state="text", number=None, raw=shown)

    def _checked_text(self, text: str, sheet: str, addr: str) -> str:
        """Agency text as kept: over Excel's cell limit it is an error (and cut there); characters
        no XML document can hold are a warning (and removed): every output we write is XML."""
        if len(text) > MAX_TEXT:
            self.add("TEXT_TOO_LONG", length=len(text), limit=MAX_TEXT, sheet=sheet, cell=addr, expected=f"≤{MAX_TEXT}",
                     actual=len(text))
            text = text[:MAX_TEXT]
        bad = xml_invalid_chars(text)
        if bad:
            shown = "、".join(f"U+{ord(c):04X}" for c in bad[:5])
            self.add("TEXT_CONTROL_CHARS", chars=shown, sheet=sheet, cell=addr, actual=shown)
            text = xml_safe(text)
        return text

    def _read_by_labels(self, fmt: Format, sections: Sequence[str], report: AgencyReport,
                        only_sheets: set[str] | None = None) -> None:
        """Locate the tables of ``sections`` by their labels (shifted sheets, other layouts)."""
        names = [n for n in self.sheet_names() if n != META_SHEET and (only_sheets is None or n in only_sheets)]
        indexes = [SheetIndex(n, self.grid(n)) for n in names]
        for sec in sections:
            for t in fmt.tables_of(sec):
                loc = locate_table(indexes, t)
                if loc is None:
                    self.add("TABLE_NOT_FOUND", caption=t.caption, table=_short(sec), expected=t.caption)
                    continue
                self._take(loc, report, indexes)

    def _take(self, loc: TableLoc, report: AgencyReport, indexes: Sequence[SheetIndex]) -> None:
        ix = next(i for i in indexes if i.name == loc.sheet)
        t = loc.table
        formulas = self._scan_of(loc.sheet).formulas
        for key, (r, c) in loc.cells.items():
            cd = report.fmt.cells.get(key)
            unit = cd.column.unit if cd is not None else None
            addr = a1(r, c)
            if addr in formulas and key not in report.fmt.formulas:
                report.values[key] = self._input_formula(loc.sheet, _short(t.section), addr, key, formulas[addr], unit)
            else:
                report.values[key] = parse_value(ix.value(r, c), unit)
            self.res.locations[key] = (loc.sheet, addr)
        want = [t.cell_key(r.key, c.key) for r in t.rows for c in t.columns]
        missing = [k for k in want if k not in loc.cells]
        if missing:
            cells = report.fmt.cells
            rows = sorted({cells[k].row.label for k in missing}, key=lambda s: [r.label for r in t.rows].index(s))
            cols = sorted({cells[k].column.label for k in missing}, key=lambda s: [c.label for c in t.columns].index(s))
            by_rows = len(rows) < len(t.rows)
            variant = ("rows" if by_rows else "columns") + ("_more" if len(rows) > 3 else "")
            self.add("TABLE_NOT_FOUND", variant, caption=t.caption, labels="”“".join((rows if by_rows else cols)[:3]),
                     sheet=loc.sheet, table=_short(t.section), expected=t.caption)
        for label, vals in loc.extras.items():
            report.extras[label] = vals
            self.add("EXTRA_ROWS", label=label.split("·", 1)[-1], values=vals, sheet=loc.sheet, table=_short(t.section),
                     actual=vals)

    def _read_info(self, lay: Layout, report: AgencyReport, fields: dict[str, str],
                   actual: dict[str, str | None] | None = None) -> None:
        name = (actual or {}).get(INFO_SHEET, INFO_SHEET) if actual is not None else (INFO_SHEET if INFO_SHEET in self.sheet_names() else None)
        if name is None:
            return
        grid = self.grid(name)
        vals: dict[str, str] = {}
        for key, (_sheet, addr) in lay.info_address.items():
            r, c = parse_a1(addr)
            x = _at(grid, r, c)
            vals[key] = self._checked_text(x.isoformat() if hasattr(x, "isoformat") else cell_text(x).strip(), name, addr)
        m = report.meta
        meta_year = fields.get("year", "")
        if vals.get("year") and meta_year and vals["year"] != meta_year:
            self.add("META_MISMATCH", found=vals["year"], meta_year=meta_year, sheet=name, cell=lay.info_address["year"][1],
                     expected=meta_year, actual=vals["year"])
        fmt_cell = vals.get("format", "")
        if fmt_cell and not fmt_cell.startswith(fields.get("format", "")):
            self.add("META_MISMATCH", "format", found=fmt_cell, meta_format=fields.get("format"), sheet=name,
                     cell=lay.info_address["format"][1], expected=fields.get("format"), actual=fmt_cell)
        meta_agency = fields.get("agency", "")
        if meta_agency and vals.get("agency") and norm_label(vals["agency"]) != norm_label(meta_agency):
            self.add("META_MISMATCH", "agency", found=vals["agency"], meta_agency=meta_agency, sheet=name,
                     cell=lay.info_address["agency"][1], expected=meta_agency, actual=vals["agency"])
        m.agency = vals.get("agency") or m.agency
        m.credit_code = vals.get("credit_code") or m.credit_code
        m.filler = vals.get("filler") or None
        m.phone = vals.get("phone") or None
        m.fill_date = vals.get("fill_date") or None

    def _read_text(self, lay: Layout, report: AgencyReport, actual: dict[str, str | None]) -> None:
        name = actual.get(TEXT_SHEET)
        if name is None:
            return
        grid = self.grid(name)
        for sec, (_sheet, addr) in lay.text_address.items():
            x = _at(grid, *parse_a1(addr))
            text = self._checked_text(cell_text(x), name, addr).strip()
            if text:
                report.narrative[sec] = text

    # -- not our template
    def _read_foreign(self, meta: tuple[Format, Any] | None) -> None:
        names = [n for n in self.sheet_names() if n != META_SHEET]
        indexes = [SheetIndex(n, self.grid(n)) for n in names]
        want = self.expect_format or (meta[0].id if meta else None)
        located = locate_report(indexes, want)
        agency, year = find_info(indexes)
        if meta is not None:
            fields = meta[1].fields
            agency = agency or fields.get("agency") or None
            year = year or int(fields["year"])
        if not self.res.is_template:
            self.add("NOT_TEMPLATE")
        report = AgencyReport.model_construct(
            meta=ReportMeta.model_construct(
                agency=agency, credit_code=None, year=year, format=located.format.id if located.format else None,
                filler=None, phone=None, fill_date=None, template_id=None, tool_version=None,
            ),
            values={}, narrative={}, extras={},
        )
        self.res.report = report
        if located.format is None or not located.found:
            tables = "、".join(f"{_short(s.key)}“{unnumbered(s.heading)}”" for s in CURRENT.sections if not s.narrative)
            self.add("NO_TABLES", tables=tables)
            return
        if located.conflict:
            parts = "，".join(f"{_short(s)}按 {f} 版" for s, f in located.section_formats.items() if f)
            self.add("FORMAT_CONFLICT", parts=parts, format=located.format.id, expected=located.format.id)
        for t in located.format.tables:
            loc = located.tables.get(t.key)
            if loc is None:
                self.add("TABLE_NOT_FOUND", "format", caption=t.caption, format=located.format.id, table=_short(t.section),
                         expected=t.caption)
                continue
            self._take(loc, report, indexes)
        self._expectations(report)

    def _expectations(self, report: AgencyReport) -> None:
        m = report.meta
        if self.expect_format and m.format and self.expect_format != m.format:
            self.add("FORMAT_MISMATCH", format=m.format, expected=self.expect_format, actual=m.format)
        if self.expect_year and m.year and int(self.expect_year) != m.year:
            self.add("YEAR_MISMATCH", year=m.year, expected=int(self.expect_year), actual=m.year)
        if self.expect_agency and m.agency and norm_label(self.expect_agency) != norm_label(m.agency):
            self.add("AGENCY_MISMATCH", agency=m.agency, expected=self.expect_agency, actual=m.agency)


def _short(section: str) -> str:
    return TABLE_SHEETS[section][1] if section in TABLE_SHEETS else section


def _at(grid: list[list[Any]], r: int, c: int) -> Any:
    if r < len(grid):
        row = grid[r]
        if c < len(row):
            return row[c]
    return ""


@lru_cache(maxsize=64)
def _covered(merges: tuple[str, ...]) -> frozenset[str]:
    """Cells inside merged ranges other than each range's top-left cell."""
    out: set[str] = set()
    for m in merges:
        if ":" not in m:
            continue
        a, b = m.split(":", 1)
        (r0, c0), (r1, c1) = parse_a1(a), parse_a1(b)
        if (r1 - r0 + 1) * (c1 - c0 + 1) > 10_000:
            continue
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    out.add(a1(r, c))
    return frozenset(out)


_SEVERITY_ORDER = {E: 0, W: 1}


def _finding_order(f: Finding) -> int:
    return _SEVERITY_ORDER.get(f.severity, 2)


# --- the layout, prepared once per format -------------------------------------------------


@dataclass
class _SheetPlan:
    """What one layout sheet must look like (labels, formulas, inputs, merges), computed once."""

    name: str
    short: str
    section: str | None  # sec2/sec3/sec4 for table sheets
    labels: list[tuple[int, int, str, str, str]]  # row, col, A1, text, normalised
    formulas: list[tuple[str, str, str, str | None]]  # A1, text, normalised, value key
    inputs: set[str]
    merges: set[str]
    values: list[tuple[str, int, int, str, str | None]]  # key, row, col, A1, unit


@dataclass
class _Plan:
    lay: Layout
    fingerprint: str
    sheets: list[_SheetPlan]


@cache
def _plan(fmt: Format) -> _Plan:
    lay = layout_for(fmt)
    by_sheet = {sh.name: sec for sec, sh in lay.sheets.items()}
    sheets: list[_SheetPlan] = []
    for sh in lay.all_sheets():
        formulas: list[tuple[str, str, str | None]] = [(f.addr, f.text, f.relation.target) for f in sh.formulas.values()]
        formulas += [(c.addr, c.text, None) for c in sh.checks]
        if sh.status:
            formulas.append((sh.status.addr, sh.status.text, None))
        sec = by_sheet.get(sh.name)
        sheets.append(_SheetPlan(
            name=sh.name,
            short=sh.short,
            section=sec,
            labels=[(lab.row, lab.col, lab.addr, lab.text, norm_label(lab.text))
                    for lab in sh.labels],
            formulas=[(addr, text, normalize_formula(text), key) for addr, text, key in formulas],
            inputs={v.addr for v in sh.inputs},
            merges=set(sh.merges()),
            values=[(v.key, v.row, v.col, v.addr, fmt.cells[v.key].column.unit) for v in sh.values] if sec else [],
        ))
    return _Plan(lay, lay.fingerprint(), sheets)


def read_grids(source: bytes | str, names: Sequence[str]) -> dict[str, Sequence[Sequence[object]]]:
    """The value grids of the named sheets (those the workbook has) of a workbook that passed
    the guard, given as its bytes or its path (python-calamine).

    Meant to run in a worker (``pool.run_isolated``): a parser abort then costs the worker."""
    from python_calamine import CalamineWorkbook

    wb = (CalamineWorkbook.from_filelike(io.BytesIO(source)) if isinstance(source, bytes)
          else CalamineWorkbook.from_path(source))
    try:
        have = set(wb.sheet_names)
        return {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in names if n in have}
    finally:
        wb.close()
