"""``xltool template``: locked templates for one or more agencies.

Everything is checked before the first file is written (format and year, roster, names,
existing files), so a bad request leaves the output folder untouched.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from xltool.cli import UsageError
from xltool.pipeline.previous import PreviousData, PreviousError, load_previous
from xltool.read.roster import RosterEntry, RosterError, normalize_name, read_roster
from xltool.spec import CURRENT, FORMATS, Format, SpecError
from xltool.write.template import (
    DEFAULT_PASSWORD,
    TemplateError,
    carry_over_prefill,
    plan_templates,
    resolve_format,
    write_templates,
)


def _carry_text() -> str:
    """Which rows ``--previous`` prefills, in the current format's own labels."""
    fmt = CURRENT
    this, prev, _rule = fmt.carry_over[0]
    return f"“{fmt.cells[this].row.label}”（取上年“{fmt.cells[prev].row.label}”）"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "template",
        help="生成加锁的 Excel 填报模板",
        description="按官方年度报告格式生成加锁的 Excel 填报模板：每个单位一个文件，或不指定单位时生成一个通用模板。",
        add_help=False,
    )
    p._optionals.title = "选项"
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``xltool template`` (kept separate so other options can be added)."""
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p.add_argument("--year", type=int, required=True, metavar="年度", help="报告年度，如 2025（必填）")
    p.add_argument(
        "--format",
        dest="format_id",
        metavar="{" + ",".join(FORMATS) + "}",
        help="报告格式：2019（国办公开办函〔2019〕60号）或 2021（国办公开办函〔2021〕30号）；"
        "默认按年度选择（2020 年度及以前用 2019 格式，2021 年度起用 2021 格式）",
    )
    p.add_argument(
        "--agency",
        action="append",
        default=[],
        metavar="单位名称",
        help="为该单位生成模板，可重复使用多次",
    )
    p.add_argument(
        "--roster",
        type=Path,
        metavar="名单文件",
        help="单位名单（.csv 或 .xlsx），表头须有“单位名称”，可选“统一社会信用代码”“联系人”",
    )
    p.add_argument(
        "--password",
        default=DEFAULT_PASSWORD,
        metavar="密码",
        help=f"工作表保护密码（默认“{DEFAULT_PASSWORD}”，只用于防止误操作）",
    )
    p.add_argument(
        "--out", type=Path, default=Path("."), metavar="文件夹", help="输出文件夹（默认当前文件夹）"
    )
    p.add_argument("--force", action="store_true", help="覆盖已经存在的同名文件")
    p.add_argument(
        "--previous",
        type=Path,
        action="append",
        default=[],
        metavar="上年数据",
        help=f"上年汇总表（xltool combine 生成）或上年各单位报表（文件或文件夹）：据此预填各单位的{_carry_text()}，可修改",
    )


@dataclass
class TemplateRequest:
    """A checked request: what ``run`` writes (later options add fields here)."""

    year: int
    fmt: Format
    agencies: list[RosterEntry]
    password: str
    out: Path
    force: bool
    previous: PreviousData | None = None


def collect(args: argparse.Namespace) -> TemplateRequest:
    """Check every input and every target; raises UsageError (Chinese) before any write."""
    try:
        fmt = resolve_format(args.year, args.format_id)
    except SpecError as e:
        raise UsageError(str(e)) from None
    agencies: list[RosterEntry] = []
    if args.roster is not None:
        try:
            agencies.extend(read_roster(args.roster))
        except RosterError as e:
            raise UsageError(str(e)) from None
    by_name = {normalize_name(e.name): e for e in agencies}
    for i, name in enumerate(args.agency, start=1):
        if not name.strip():
            raise UsageError(f"第 {i} 个 --agency 的单位名称是空的。")
        if normalize_name(name) in by_name:
            raise UsageError(f"单位“{name.strip()}”重复：它已经出现在 --agency 或名单文件中。")
        e = RosterEntry(name.strip())
        by_name[normalize_name(name)] = e
        agencies.append(e)
    previous = None
    if args.previous:
        try:
            previous = load_previous(args.previous)
        except PreviousError as e:
            raise UsageError(str(e)) from None
        if previous.year is not None and previous.year != args.year - 1:
            raise UsageError(
                f"上年数据是 {previous.year} 年度的，而模板是 {args.year} 年度：请提供 {args.year - 1} 年度的汇总表或报表。"
            )
    req = TemplateRequest(args.year, fmt, agencies, args.password, args.out, args.force, previous)
    try:
        plan_templates(req.out, req.year, req.agencies or None, overwrite=req.force)
    except TemplateError as e:
        raise UsageError(str(e)) from None
    return req


def run(args: argparse.Namespace) -> int:
    req = collect(args)
    per_agency = None
    missing: list[str] = []
    if req.previous is not None:

        def per_agency(entry: RosterEntry | None) -> dict:
            if entry is None:
                return {}
            kw = carry_over_prefill(req.fmt, req.previous, entry.name, req.year)  # type: ignore[arg-type]
            if not kw["values"]:
                missing.append(entry.name)
            return kw

    try:
        paths = write_templates(
            req.out, req.year, req.fmt, req.agencies or None, req.password, req.force, per_agency=per_agency
        )
    except (TemplateError, SpecError) as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"无法写入文件：{e}") from None
    for p in paths:
        print(f"已生成：{p}")
    kind = f"{len(paths)} 个单位模板" if req.agencies else "1 个通用模板"
    if not req.password:
        pw = "无密码"
    else:
        pw = ("默认密码" if req.password == DEFAULT_PASSWORD else "指定密码") + f"“{req.password}”"
    if req.previous is not None:
        if not req.agencies:
            print("提示：通用模板不预填上年结转数据（--previous 只对指定单位生效）。")
        else:
            n = len(req.agencies) - len(missing)
            print(f"已按上年数据预填 {n} 个单位的“上年结转”行。")
            for name in missing:
                print(f"  注意：上年数据中没有“{name}”，其“上年结转”行留空并已加批注，请该单位据实填写。")
    print(
        f"完成：共生成 {kind}（{req.year} 年度，{req.fmt.id} 格式，{req.fmt.document}），保存在“{req.out}”。工作表保护：{pw}。"
    )
    return 0
