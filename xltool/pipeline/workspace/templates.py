"""``template --workspace`` as a function: one template per roster agency into 模板/, with
last year's carried-over row prefilled when the workspace has last year's data. The
workbench (``xltool serve``) calls this; the CLI reaches the same ``write_templates``."""

from __future__ import annotations

from pathlib import Path

from xltool.pipeline.previous import PreviousError, load_previous
from xltool.pipeline.workspace.db import WorkspaceError
from xltool.pipeline.workspace.ops import Workspace
from xltool.pipeline.workspace.summary import template_targets
from xltool.read.roster import RosterEntry
from xltool.spec import SpecError
from xltool.write.template import (
    DEFAULT_PASSWORD,
    Prefill,
    TemplateError,
    carry_over_prefill,
    resolve_format,
    write_templates,
)


def template_files(ws: Workspace) -> list[Path]:
    """The templates already in 模板/ (workbooks only, by name)."""
    folder = Path(template_targets(ws)["out"])
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".xlsx"
                  and not p.name.startswith(("~$", ".")))


def write_workspace_templates(ws: Workspace, *, overwrite: bool = False,
                              password: str = DEFAULT_PASSWORD) -> list[Path]:
    """Write the roster's templates into 模板/; WorkspaceError (Chinese) when they cannot be."""
    t = template_targets(ws)
    year = int(t["year"])
    try:
        fmt = resolve_format(year, None)
    except SpecError as e:
        raise WorkspaceError(str(e)) from None
    agencies = ws.roster()
    if not agencies:
        raise WorkspaceError("名单中没有单位，无法生成模板。")
    per_agency = None
    prev_path = t["previous"]
    if prev_path is not None:
        try:
            previous = load_previous([prev_path])
        except PreviousError as e:
            raise WorkspaceError(str(e)) from None

        def per_agency(entry: RosterEntry | None) -> Prefill:
            return carry_over_prefill(fmt, previous, entry.name, year) if entry is not None else {}

    try:
        paths = write_templates(t["out"], year, fmt, agencies, password, overwrite, per_agency=per_agency)
    except TemplateError as e:
        raise WorkspaceError(str(e)) from None
    ws.record(f"生成模板：{len(paths)} 个单位（{year} 年度，{fmt.id} 格式）")
    return paths
