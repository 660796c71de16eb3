"""Import use case: a published report becomes a filled template workbook (and JSON)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from xltool.read.importer.core import ImportResult, split_totals
from xltool.spec import check_year
from xltool.workbook.fileio import atomic_path, readable
from xltool.workbook.layout import layout_for
from xltool.workbook.meta import MAX_TEXT, template_filename
from xltool.write.template import write_workbook


def output_name(res: ImportResult) -> str:
    return template_filename(res.year.value, res.agency.value)


def write_result(res: ImportResult, out_dir: str | Path, *, overwrite: bool = False,
                 created: datetime | None = None) -> Path:
    """The imported report as a filled template workbook (``write_workbook``), atomically."""
    fmt = res.fmt
    if fmt is None or res.year.value is None:
        raise ValueError("nothing to write")
    check_year(res.year.value)
    inputs, overrides, key_notes = split_totals(res)
    lay = layout_for(fmt)
    notes = {lay.address[k]: text for k, text in key_notes.items()}
    narrative = {k: t[:MAX_TEXT] for k, t in res.narrative.items() if k in lay.text_address}
    src = Path(res.path).name
    prefill = {
        "info.agency": f"导入自 {src}：单位名称{res.agency.how}。",
        "info.year": f"导入自 {src}：年度{res.year.how}。",
        "info.format": f"导入自 {src}：{res.format.how}。",
    }
    for sec, text in res.narrative.items():
        if len(text) > MAX_TEXT and sec in lay.text_address:
            notes[lay.text_address[sec]] = f"原文超过 {MAX_TEXT} 字，已截断。"
    info = {"phone": res.phone} if res.phone else None
    target = Path(out_dir) / output_name(res)
    return write_workbook(
        target, fmt, res.year.value, agency=res.agency.value, values=inputs, overrides=overrides,
        narrative=narrative, notes=notes, prefill_notes=prefill, info=info, overwrite=overwrite,
        created=created, meta_extra={"source": "import", "source_file": src},
    )


def dump_json(items: list[dict[str, Any]], path: str | Path) -> Path:
    p = Path(path)
    with atomic_path(p, overwrite=True) as tmp:
        tmp.write_text(json.dumps({"imports": items}, ensure_ascii=False, indent=2), encoding="utf-8")
        readable(tmp)
    return p
