"""Our workbooks' identity: file names, template ids, and the very-hidden metadata sheet.

The reader trusts a file as ours only through this sheet (kind, format, fingerprint and the
cell map), so writing and parsing it live together, below both the reader and the writers.

>>> template_filename(2025, "环翠区科学技术局")
'2025年_环翠区科学技术局_政府信息公开年报.xlsx'
>>> template_filename(2025, None)
'2025年_政府信息公开年报模板.xlsx'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from xltool import __version__
from xltool.core.names import name_problem, normalize_name
from xltool.errors import XltoolError
from xltool.spec import Format
from xltool.workbook.layout import Layout, layout_for

TEMPLATE_KIND = "template"  # value of the "kind" row of META_SHEET in our templates
META_VERSION = "1"
MAX_TEXT = 32767  # Excel's cell limit

# meta sheet: first block key | value, then a "role" header row and one row per mapped cell
META_MAP_HEADER = ("role", "key", "sheet", "cell", "detail")
ROLE_INPUT, ROLE_FORMULA, ROLE_CHECK, ROLE_STATUS, ROLE_INFO, ROLE_TEXT = (
    "input",
    "formula",
    "check",
    "status",
    "info",
    "text",
)


class TemplateError(XltoolError):
    """A template request that cannot be carried out; the message (Chinese) says why."""


def _agency_filename(year: int, name: str) -> str:
    return f"{year}年_{name}_政府信息公开年报.xlsx"


MAX_FILENAME_BYTES = 255  # one file name on Linux/macOS file systems (NTFS: 255 UTF-16 units, less strict)
# room kept for the names derived from a template's: the feedback copy "<stem>_校验意见_2.xlsx"
# and the rendered reports next to it
_DERIVED_NAME_RESERVE = len("_校验意见_99".encode())
# the longest agency name (UTF-8 bytes) whose template file name, and the names derived from it, fit
NAME_MAX_BYTES = MAX_FILENAME_BYTES - len(_agency_filename(9999, "").encode()) - _DERIVED_NAME_RESERVE


def agency_name_problem(name: str) -> str | None:
    """``name_problem`` with the byte limit of our template file names (Chinese; None if usable)."""
    return name_problem(name, max_bytes=NAME_MAX_BYTES)


def template_filename(year: int, agency: str | None) -> str:
    """Windows-safe file name of a template (raises TemplateError for unusable names)."""
    if agency is None:
        return f"{year}年_政府信息公开年报模板.xlsx"
    name = agency.strip()
    why = agency_name_problem(name)
    if why:
        raise TemplateError(f"单位名称“{agency}”{why}，无法用作文件名，请修改名称。")
    return _agency_filename(year, name)


def template_id_for(fmt: Format, year: int, agency: str | None) -> str:
    """Deterministic id of a template: same format, year, agency and layout → same id."""
    lay = layout_for(fmt)
    src = f"{fmt.id}|{year}|{normalize_name(agency or '')}|{lay.fingerprint()}"
    return f"{year}-{fmt.id}-{hashlib.sha256(src.encode('utf-8')).hexdigest()[:12]}"


def format_label(fmt: Format) -> str:
    """What the locked 报告格式 field shows; starts with the format id (e.g. '2021')."""
    return f"{fmt.id}版（{fmt.document}）"


@dataclass
class TemplateMeta:
    """Parsed META_SHEET: scalar fields plus the cell map (see docs/dev-notes/template.md)."""

    fields: dict[str, str] = field(default_factory=dict)
    cells: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # role, key, sheet, A1, detail

    def addresses(self, role: str) -> dict[str, tuple[str, str]]:
        return {k: (s, c) for r, k, s, c, _ in self.cells if r == role}


def parse_meta(rows: Iterable[Sequence[object]]) -> TemplateMeta:
    """Parse META_SHEET rows (from openpyxl ``values_only`` or python-calamine ``to_python``)."""
    meta = TemplateMeta()
    in_map = False
    for row in rows:
        cells = [
            "" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
            for v in row
        ]
        if not cells or not cells[0].strip():
            continue
        if cells[0] == META_MAP_HEADER[0]:
            in_map = True
            continue
        if in_map:
            cells += [""] * (5 - len(cells))
            meta.cells.append((cells[0], cells[1], cells[2], cells[3], cells[4]))
        elif cells[0] != "key":
            meta.fields[cells[0]] = cells[1] if len(cells) > 1 else ""
    return meta


def meta_fields(
    fmt: Format,
    year: int,
    agency: str | None,
    credit_code: str | None,
    contact: str | None,
    template_id: str,
    created: datetime,
) -> list[tuple[str, str]]:
    return [
        ("kind", TEMPLATE_KIND),
        ("tool", "xltool"),
        ("tool_version", __version__),
        ("meta_version", META_VERSION),
        ("format", fmt.id),
        ("format_document", fmt.document),
        ("year", str(year)),
        ("agency", agency or ""),
        ("credit_code", credit_code or ""),
        ("contact", contact or ""),
        ("template_id", template_id),
        ("created", created.isoformat(timespec="seconds")),
        ("fingerprint", layout_for(fmt).fingerprint()),
    ]


def meta_map(lay: Layout, locked_info: set[str]) -> list[tuple[str, str, str, str, str]]:
    fmt = lay.fmt
    rows: list[tuple[str, str, str, str, str]] = []
    for key in fmt.cells:
        sheet, addr = lay.address[key]
        if key in fmt.formulas:
            rows.append((ROLE_FORMULA, key, sheet, addr, lay.sheet_of_key(key).formulas[addr].text))
        else:
            rows.append((ROLE_INPUT, key, sheet, addr, fmt.cells[key].kind.value))
    for sec, sh in lay.sheets.items():
        for c in sh.checks:
            rows.append((ROLE_CHECK, f"check.{sec}.{c.relation.column}", sh.name, c.addr, c.text))
        if sh.status:
            rows.append((ROLE_STATUS, f"status.{sec}", sh.name, sh.status.addr, sh.status.text))
    for key, (sheet, addr) in lay.info_address.items():
        rows.append((ROLE_INFO, key, sheet, addr, "locked" if key in locked_info else "input"))
    for key, (sheet, addr) in lay.text_address.items():
        rows.append((ROLE_TEXT, key, sheet, addr, ""))
    return rows
