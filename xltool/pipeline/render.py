"""Publishable reports out: one agency's workbook or the district summary → HTML and DOCX.

>>> from xltool.pipeline.render import prepare, RenderError
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xltool.core.labels import xml_safe
from xltool.pipeline.render_source import RenderError, RenderInput, load
from xltool.workbook.layout import layout_for
from xltool.write.render.model import RenderDoc, RSection, TCell, TTable, build_document, build_table

MAX_NOTICE = 12  # failing findings listed at the top of a forced rendering


def default_title(name: str | None, year: int, kind: str) -> str:
    """'威海市环翠区科学技术局2025年政府信息公开工作年度报告' (the published reports' own wording)."""
    who = name or ("〔本级政府名称〕" if kind == "summary" else "〔单位名称〕")
    return f"{who}{year}年政府信息公开工作年度报告"


@dataclass
class Prepared:
    source: RenderInput
    doc: RenderDoc
    forced: bool  # rendered although validation failed


def prepare(path: str | Path, *, force: bool = False, title: str | None = None, agency: str | None = None) -> Prepared:
    """Read, validate and lay out the report; refuses (RenderError) on errors unless ``force``."""
    src = load(path, name=agency)
    errors = src.errors
    if errors and not force:
        shown = "\n".join(f"  - {f.message}" for f in errors[:MAX_NOTICE])
        more = f"\n  ……共 {len(errors)} 处错误" if len(errors) > MAX_NOTICE else ""
        raise RenderError(
            f"{Path(path).name} 未通过校验（{len(errors)} 处错误），不生成公开版本：\n{shown}{more}\n"
            "请先修改工作簿；确需先看草稿，可加 --force（问题单元格会标红并在页首注明）。"
        )
    notice: list[str] = []
    if errors:
        notice.append(f"注意：本报告未通过校验（{len(errors)} 处错误），标红的单元格有问题，发布前必须核对修改。")
        notice += [f.message for f in errors[:MAX_NOTICE]]
        if len(errors) > MAX_NOTICE:
            notice.append(f"……共 {len(errors)} 处错误，请用 xltool check 查看全部。")
    fmt = src.fmt
    # every text goes into XML (the page, the Word file): characters no XML can hold are dropped
    # here, once, so both outputs carry the same text (the reader already reported them)
    cells = {k: (xml_safe(t), num) for k, (t, num) in src.cells.items()}
    flags = {k: xml_safe(v) for k, v in src.flags().items()} if errors else None
    doc = build_document(
        fmt, layout_for(fmt), xml_safe(title or default_title(src.name, src.year, src.kind)),
        lambda key: cells.get(key, ("", False)), {k: xml_safe(v) for k, v in src.narrative.items()},
        flags=flags, notice=[xml_safe(n) for n in notice], kind=src.kind, year=src.year,
        coverage=[xml_safe(c) for c in src.coverage],
    )
    return Prepared(src, doc, bool(errors))


__all__ = [
    "Prepared",
    "RSection",
    "RenderDoc",
    "RenderError",
    "RenderInput",
    "TCell",
    "TTable",
    "build_document",
    "build_table",
    "default_title",
    "load",
    "prepare",
]
