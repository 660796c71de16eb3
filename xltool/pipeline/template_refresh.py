"""Regenerate the ready blank templates in ``templates/`` (``python -m xltool.pipeline.template_refresh``).

The files are reproducible: fixed creation time, deterministic template id, and
XlsxWriter's fixed zip timestamps, so regenerating with unchanged code gives the same
bytes. A test compares their *semantic* content (``semantic_dump``: cells, formulas,
styles that matter, merges, validations, conditional formats, protection, print setup),
so a library upgrade that only reorders zip bytes does not count as stale.

``python -m xltool.pipeline.template_refresh --check`` exits 1 when the committed files are stale.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from xltool.spec import V2019, V2021, Format
from xltool.write.template import write_workbook

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
FIXED_CREATED = datetime(2026, 1, 1, 0, 0, 0)
# (format, report year): V2019 for its last year, V2021 for the current collection round
EDITIONS: tuple[tuple[Format, int], ...] = ((V2019, 2020), (V2021, 2025))


def edition_filename(fmt: Format, year: int) -> str:
    return f"{year}年_政府信息公开年报模板_{fmt.id}格式.xlsx"


def refresh(out_dir: Path = TEMPLATES_DIR) -> list[Path]:
    """Write every edition into ``out_dir`` (overwriting)."""
    return [
        write_workbook(
            out_dir / edition_filename(fmt, year), fmt, year, overwrite=True, created=FIXED_CREATED
        )
        for fmt, year in EDITIONS
    ]


def semantic_dump(path: Path) -> dict[str, Any]:
    """What a user or reader can observe in a workbook, as plain data (for staleness checks)."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    out: dict[str, Any] = {
        "sheets": wb.sheetnames,
        "lock_structure": bool(wb.security and wb.security.lockStructure),
        "workbook_password": wb.security.workbookPassword if wb.security else None,
    }
    for ws in wb.worksheets:
        cells = []
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                cells.append(
                    (
                        c.coordinate,
                        c.value,
                        c.data_type,
                        c.font.name,
                        c.font.b,
                        c.fill.fgColor.rgb if c.fill and c.fill.fill_type else None,
                        c.protection.locked,
                        c.number_format,
                        c.alignment.wrap_text,
                        c.alignment.horizontal,
                        c.border.left.style,
                        c.comment.text if c.comment else None,
                    )
                )
        p = ws.protection
        out[ws.title] = {
            "state": ws.sheet_state,
            "cells": cells,
            "merges": sorted(str(m) for m in ws.merged_cells.ranges),
            "validations": sorted(
                (
                    str(dv.sqref),
                    dv.type,
                    dv.operator,
                    dv.formula1,
                    dv.formula2,
                    dv.prompt,
                    dv.error,
                    dv.errorStyle,
                )
                for dv in ws.data_validations.dataValidation
            ),
            "conditional": sorted(
                (
                    str(rng.sqref),
                    r.type,
                    tuple(r.formula or ()),
                    r.dxf.fill.fgColor.rgb if r.dxf and r.dxf.fill else None,
                )
                for rng in ws.conditional_formatting
                for r in rng.rules
            ),
            "protection": (
                p.sheet,
                p.password,
                p.formatColumns,
                p.insertRows,
                p.deleteRows,
                p.selectLockedCells,
            ),
            "widths": sorted((k, round(d.width or 0, 2)) for k, d in ws.column_dimensions.items()),
            "heights": sorted((k, round(d.height or 0, 2)) for k, d in ws.row_dimensions.items() if d.height),
            "print": (
                ws.page_setup.orientation,
                ws.page_setup.paperSize,
                ws.page_setup.fitToWidth,
                ws.page_setup.fitToHeight,
                str(ws.print_title_rows),
                ws.freeze_panes,
                ws.oddHeader.left.text,
                ws.oddFooter.center.text,
            ),
        }
    return out


def stale(committed_dir: Path = TEMPLATES_DIR) -> list[str]:
    """Names of editions that are missing or differ from freshly generated ones."""
    out: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for fresh in refresh(Path(tmp)):
            old = committed_dir / fresh.name
            if not old.exists() or semantic_dump(old) != semantic_dump(fresh):
                out.append(fresh.name)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m xltool.pipeline.template_refresh", description="重新生成 templates/ 中的空白模板"
    )
    p.add_argument("--check", action="store_true", help="只检查是否过期，不写文件；过期时退出码为 1")
    p.add_argument("--out", type=Path, default=TEMPLATES_DIR, help="输出文件夹（默认 templates/）")
    args = p.parse_args(argv)
    if args.check:
        names = stale(args.out)
        for n in names:
            print(f"已过期或缺失：{args.out / n}（请运行 make templates）")
        return 1 if names else 0
    for path in refresh(args.out):
        print(f"已生成：{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
