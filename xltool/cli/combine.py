"""``xltool combine``: the district summary workbook from the agencies' returned files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from xltool.cli import UsageError, check_output, examples
from xltool.core.combined import Disposition
from xltool.pipeline.combine import CombineError, CombineResult, combine
from xltool.pipeline.workspace import WorkspaceError, combine_workspace, open_workspace
from xltool.read import find_workbooks
from xltool.read.summary import is_summary_file
from xltool.spec import SpecError, check_not_future
from xltool.workbook.fileio import atomic_path
from xltool.workbook.summary_layout import FINDINGS_SHEET, LEVEL_SCOPE, STATUS_SHEET

SHOW_MAX = 20  # excluded files / missing agencies listed on the terminal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "combine",
        help="汇总各单位报表，生成全区汇总表",
        description=(
            "读取并校验各单位报送的报表（与 xltool check 相同的读取和校验规则），"
            "把通过校验的报表逐项相加，生成全区汇总工作簿：汇总表二/表三/表四、分单位明细、"
            "报送情况、问题清单、图表和说明。有错误的文件默认不计入汇总，并在报送情况中列出原因。"
            "逐级汇总：输入中可以有本工具生成的下级（区县、市）汇总表，按其元数据自动识别，"
            "核对其汇总数与分单位明细一致、生成后未被修改，再按其中的各单位计入；"
            "另生成分区县明细（每个下级汇总表和每个直报单位一行）。"
        ),
        epilog=examples(
            "xltool combine 回收 --out 2025年全区汇总.xlsx --year 2025 --roster 单位名单.xlsx "
            "--previous 2024年全区汇总.xlsx --district 威海市环翠区人民政府",
            "xltool combine --workspace 2025年报",
            "xltool combine 甲区汇总.xlsx 乙区汇总.xlsx 市直单位 --out 2025年全市汇总.xlsx --year 2025 --level city",
            before="退出码：0 已生成汇总表，所有文件均计入且通过校验；1 已生成汇总表，但有文件未计入、"
            "有错误仍计入或名单中有单位未报送；2 参数错误或没有可汇总的文件。",
        ),
        add_help=False,
    )
    p._positionals.title = "位置参数"
    p._optionals.title = "选项"
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p.add_argument("paths", nargs="*", metavar="路径", help="各单位报表文件或所在文件夹（可给多个）")
    p.add_argument("--out", "-o", metavar="汇总表.xlsx", help="输出的汇总工作簿（.xlsx；用 --workspace 时默认写入工作区的 汇总/）")
    p.add_argument("--workspace", metavar="工作区",
                   help="按工作区汇总：每个单位取当前版本，按已记录的决定（include 等）计入，不必给路径")
    p.add_argument("--year", type=int, metavar="年度", help="报告年度；不指定时按多数文件的年度")
    p.add_argument("--roster", metavar="名单文件", help="报送名单（.xlsx、.xls、.csv，或每行一个单位名称的 .txt），用于核对谁已报送、谁未报送")
    p.add_argument(
        "--previous", action="append", metavar="路径",
        help="上年数据：上年汇总表，或上年各单位报表文件/文件夹（可重复给出）；用于结转核对和同比列",
    )
    p.add_argument("--include-invalid", action="store_true", help="有错误的文件也计入汇总（在明细中标出）")
    p.add_argument("--json", metavar="文件", help="另存一份 JSON 结果（每个文件的校验记录和汇总情况）；“-” 表示输出到屏幕")
    p.add_argument("--level", choices=["city", "province", "nation"], default=None,
                   help="汇总表的层级（city 市级、province 省级、nation 全国），只用于标题和元数据；"
                        "输入中本工具生成的下级汇总表按其元数据自动识别，无需指定")
    p.add_argument("--district", metavar="本级政府名称",
                   help="本级政府名称（如“威海市环翠区人民政府”），记入汇总表，生成发布稿（xltool render）时作标题")
    p.add_argument("--force", action="store_true", help="输出文件已存在时覆盖")
    p.add_argument("--workers", type=int, metavar="N", help="并行读取的进程数（默认按 CPU 核数）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.workspace:
        return _run_workspace(args)
    if not args.paths or not args.out:
        raise UsageError("请给出报表所在的路径和 --out 汇总表.xlsx（或用 --workspace 工作区）。")
    if args.year is not None:
        try:
            check_not_future(args.year)
        except SpecError as e:
            raise UsageError(str(e)) from None
    # outputs never touch an input (even with --force): not the files read, not the roster or last year's data
    inputs = [*args.paths, *([args.roster] if args.roster else []), *(args.previous or [])]
    files = find_workbooks(args.paths)
    out = Path(args.out)
    # our own earlier summary among the returns is not an input (combine skips it): --force may replace it
    own = out.is_file() and is_summary_file(out)
    check_output(out, "--out", folder=False, example="汇总.xlsx", inputs=inputs,
                 files=[f for f in files if not (own and f.resolve() == out.resolve())])
    json_path = None if args.json in (None, "-") else check_output(args.json, "--json", folder=False,
                                                                  example="汇总结果.json", inputs=inputs,
                                                                  files=files)
    if json_path is not None and json_path.exists() and not args.force:
        raise UsageError(f"JSON 文件 {json_path} 已存在。如要覆盖，请加 --force；或换一个文件名。")
    try:
        result = combine(
            args.paths,
            year=args.year,
            roster=args.roster,
            previous=args.previous,
            include_invalid=args.include_invalid,
            out=args.out,
            force=args.force,
            workers=args.workers,
            progress=True,
            district=args.district,
            level=args.level,
        )
    except CombineError as e:
        raise UsageError(str(e)) from None
    except FileExistsError:
        raise UsageError(f"输出文件 {args.out} 已存在。如要覆盖，请加 --force。") from None
    data = result.to_json()
    if args.json == "-":
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    elif json_path is not None:
        with atomic_path(json_path, overwrite=True) as tmp:
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    report(result, sys.stdout if args.json != "-" else sys.stderr)
    return result.exit_code


def _run_workspace(args: argparse.Namespace) -> int:
    """``combine --workspace DIR``: the summary of the workspace's current versions."""
    if args.paths:
        raise UsageError("用 --workspace 汇总时不要再给路径：文件取自工作区（先用 xltool receive 收进去）。")
    try:
        ws = open_workspace(args.workspace)
    except WorkspaceError as e:
        raise UsageError(str(e)) from None
    try:
        result = combine_workspace(ws, out=args.out, force=bool(args.force or args.out is None))
    except CombineError as e:
        raise UsageError(str(e)) from None
    finally:
        ws.close()
    report(result, sys.stdout)
    return result.exit_code


def report(result: CombineResult, out: TextIO) -> None:
    """The terminal summary, in Chinese."""
    w = out.write
    n_inv = sum(1 for o in result.rows if o.disposition is Disposition.INVALID)
    w(f"已生成汇总表：{result.output}\n")
    w(f"  {result.year_note}报表格式：{result.fmt.id}。\n")
    w(f"  共 {len(result.outcomes)} 个文件，{len(result.rows)} 个单位计入汇总"
      + (f"（其中 {n_inv} 个有错误，按 --include-invalid 计入）" if n_inv else "") + "。\n")
    if result.excluded:
        w(f"  未计入汇总的文件 {len(result.excluded)} 个：\n")
        for o in result.excluded[:SHOW_MAX]:
            who = f"（{o.agency}）" if o.sub.report is not None else ""
            w(f"    - {o.sub.path.name}{who}：{o.disposition.value}。{o.reason}\n")
        if len(result.excluded) > SHOW_MAX:
            w(f"    ……其余 {len(result.excluded) - SHOW_MAX} 个见汇总表“{STATUS_SHEET}”工作表。\n")
    for o in result.children:
        child = o.sub.child
        if child is not None:
            w(f"  下级汇总表：{o.sub.path.name}（{child.name}），计入 {sum(1 for r in result.rows if r.via[:1] == (child.sha256,))} 个单位"
              + (f"；{o.sub.n_errors} 处问题，见“{FINDINGS_SHEET}”" if o.sub.n_errors else "") + "。\n")
    if result.missing:
        shown = "、".join(result.missing[:SHOW_MAX])
        more = f" 等 {len(result.missing)} 个" if len(result.missing) > SHOW_MAX else ""
        w(f"  名单中未报送的单位：{shown}{more}。\n")
    errs = sum(1 for f in result.district_findings if f.severity.value == "error")
    warns = len(result.district_findings) - errs
    scope = LEVEL_SCOPE.get(result.level, "全区")
    if errs or warns:
        w(f"  {scope}合计重新校验：{errs} 处错误、{warns} 处警告，见“{FINDINGS_SHEET}”工作表（文件列为“全区合计”）。\n")
    else:
        w(f"  {scope}合计重新校验：通过。\n")
    for n in result.notes:
        w(f"  注意：{n}\n")
