"""``xltool template``: locked templates for one or more agencies.

Everything is checked before the first file is written (format and year, roster, names,
existing files), so a bad request leaves the output folder untouched.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from xltool.cli import UsageError, check_output, examples
from xltool.pipeline.previous import PreviousData, PreviousError, load_previous
from xltool.pipeline.workspace import WorkspaceError, open_workspace
from xltool.pipeline.workspace.summary import template_targets
from xltool.read.roster import KINDS_TEXT, RosterEntry, RosterError, normalize_name, read_roster
from xltool.spec import CURRENT, FORMATS, Format, SpecError, check_not_future, years_text
from xltool.workbook.fileio import PASSWORD_MAX, password_problem
from xltool.write.template import (
    DEFAULT_PASSWORD,
    Prefill,
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
        epilog=examples(
            "xltool template --year 2025 --roster 单位名单.xlsx --previous 2024年全区汇总.xlsx --out 模板",
            "xltool template --year 2025 --agency 威海市环翠区科学技术局 --out 模板",
            "xltool template --year 2020 --out 空白模板",
        ),
        add_help=False,
    )
    p._optionals.title = "选项"
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``xltool template`` (kept separate so other options can be added)."""
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p.add_argument(
        "--year",
        type=int,
        metavar="年度",
        help="报告年度，如 2025（必填）；不能晚于今年（年度报告在次年年初报送）",
    )
    p.add_argument("--workspace", metavar="工作区",
                   help="为工作区名单中的单位生成模板，写入工作区的 模板/ 文件夹（年度、名单、上年数据取自工作区）")
    p.add_argument(
        "--format",
        dest="format_id",
        metavar="{" + ",".join(FORMATS) + "}",
        help=f"报告格式：{years_text()}；默认按报告年度选择",
    )
    p.add_argument(
        "--agency",
        action="append",
        default=[],
        metavar="单位名称",
        help="为该单位生成模板，可重复使用多次；与 --roster 同用时只为名单中的这些单位生成"
        "（统一社会信用代码、联系人取自名单）",
    )
    p.add_argument(
        "--roster",
        type=Path,
        metavar="名单文件",
        help=f"单位名单：{KINDS_TEXT}；表格的表头须有“单位名称”，可选“统一社会信用代码”“联系人”",
    )
    p.add_argument(
        "--password",
        default=DEFAULT_PASSWORD,
        metavar="密码",
        help=f"工作表保护密码（默认“{DEFAULT_PASSWORD}”，只用于防止误操作）：1–{PASSWORD_MAX} 个英文字母、数字或英文标点",
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
    if getattr(args, "workspace", None):
        _from_workspace(args)
    if args.year is None:  # required unless --workspace gives it: argparse's own exit (code 2)
        print("xltool template：错误：缺少必需的参数 --year（报告年度，如 --year 2025）", file=sys.stderr)
        raise SystemExit(2)
    try:
        check_not_future(args.year)
        fmt = resolve_format(args.year, args.format_id)
    except SpecError as e:
        raise UsageError(str(e)) from None
    agencies: list[RosterEntry] = []
    roster: list[RosterEntry] | None = None
    if args.roster is not None:
        try:
            roster = read_roster(args.roster)
        except RosterError as e:
            raise UsageError(str(e)) from None
        if not args.agency:
            agencies.extend(roster)
    in_roster = {normalize_name(e.name): e for e in roster or []}
    by_name: dict[str, RosterEntry] = {normalize_name(e.name): e for e in agencies}
    for i, name in enumerate(args.agency, start=1):
        if not name.strip():
            raise UsageError(f"第 {i} 个 --agency 的单位名称是空的。")
        if normalize_name(name) in by_name:
            raise UsageError(f"单位“{name.strip()}”重复：--agency 给了不止一次。")
        if roster is not None:
            entry = in_roster.get(normalize_name(name))
            if entry is None:
                raise UsageError(_not_in_roster(name.strip(), args.roster, roster))
        else:
            entry = RosterEntry(name.strip())
        by_name[normalize_name(name)] = entry
        agencies.append(entry)
    why = password_problem(args.password)
    if why:
        raise UsageError(f"--password 的{why}")
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
    inputs = [*([args.roster] if args.roster else []), *(args.previous or [])]
    check_output(args.out, "--out", folder=True, inputs=inputs)
    req = TemplateRequest(args.year, fmt, agencies, args.password, args.out, args.force, previous)
    try:
        targets = plan_templates(req.out, req.year, req.agencies or None, overwrite=req.force)
    except TemplateError as e:
        raise UsageError(str(e)) from None
    for _entry, target in targets:  # even with --force, a template never replaces the roster or last year's data
        check_output(target, "--out", folder=False, inputs=inputs)
    return req


def _not_in_roster(name: str, roster_path: Path, roster: list[RosterEntry]) -> str:
    """Chinese message for an --agency missing from the roster, with the nearest names."""
    import difflib

    names = {normalize_name(e.name): e.name for e in roster}
    near = difflib.get_close_matches(normalize_name(name), list(names), n=3, cutoff=0.5)
    hint = f"名单中相近的单位：{'、'.join(names[n] for n in near)}。" if near else ""
    return (
        f"单位“{name}”不在名单文件“{roster_path.name}”中（名单共 {len(roster)} 个单位）。{hint}"
        "请按名单中的写法填写单位名称；或不加 --agency，为名单中的全部单位生成模板。"
    )


def _from_workspace(args: argparse.Namespace) -> None:
    """``--workspace DIR``: year, roster, previous data and the output folder from the workspace."""
    try:
        ws = open_workspace(args.workspace)
    except WorkspaceError as e:
        raise UsageError(str(e)) from None
    t = template_targets(ws)
    ws.close()
    if args.year is not None and args.year != t["year"]:
        raise UsageError(f"工作区是 {t['year']} 年度的，与 --year {args.year} 不一致。用 --workspace 时不必给 --year。")
    args.year, args.roster, args.out = t["year"], t["roster"], t["out"]
    if t["previous"] is not None and not args.previous:
        args.previous = [t["previous"]]


def run(args: argparse.Namespace) -> int:
    req = collect(args)
    per_agency = None
    missing: list[str] = []
    if req.previous is not None:
        previous = req.previous

        def per_agency(entry: RosterEntry | None) -> Prefill:
            if entry is None:
                return {}
            kw = carry_over_prefill(req.fmt, previous, entry.name, req.year)
            if not kw["values"]:
                missing.append(entry.name)
            return kw

    try:
        paths = write_templates(
            req.out, req.year, req.fmt, req.agencies or None, req.password, req.force, per_agency=per_agency
        )
    except (TemplateError, SpecError) as e:
        raise UsageError(str(e)) from None
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
    if req.year == date.today().year:
        print(
            f"提示：{req.year} 年度的报告要到 {req.year + 1} 年年初才报送。如果要的是今年年初报送的"
            f"上一年度报告，请改用 --year {req.year - 1} 重新生成（加 --force 覆盖）。"
        )
    print(
        f"完成：共生成 {kind}（{req.year} 年度，{req.fmt.id} 格式，{req.fmt.document}），保存在“{req.out}”。工作表保护：{pw}。"
    )
    return 0
