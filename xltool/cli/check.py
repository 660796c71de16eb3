"""``xltool check``: read and validate returned workbooks, optionally write feedback copies."""

from __future__ import annotations

import argparse
import sys

from xltool.cli import UsageError, check_output, examples
from xltool.errors import os_error_message
from xltool.pipeline.check import CheckError, check_paths
from xltool.pipeline.report_text import render, write_json
from xltool.read import find_workbooks
from xltool.spec import SpecError, check_not_future

DESCRIPTION = """校验各单位报回的年度报告工作簿：读取数字，核对勾稽关系、合计、数值范围和填写规范。
每个文件一行结果（通过 / 有错误 / 无法读取），随后按文件列出问题（如 表三!J12 …）。
退出码：0 全部通过（可有警告）；1 有文件存在错误或无法读取；2 参数或输入错误。"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="校验回收的报表",
        description=DESCRIPTION,
        epilog=examples(
            "xltool check 回收 --year 2025",
            "xltool check 回收 --year 2025 --roster 单位名单.xlsx --previous 2024年全区汇总.xlsx --feedback 校验意见",
            "xltool check 回收 --year 2025 --json 校验结果.json",
        ),
        add_help=False,
    )
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p.add_argument("paths", nargs="+", metavar="路径", help="要校验的文件或文件夹（文件夹含子文件夹）")
    p.add_argument("--year", type=int, metavar="年度", help="本次校验的报告年度；年度不符的文件会报错")
    p.add_argument("--roster", metavar="名单文件", help="报送单位名单（.xlsx、.xls、.csv，或每行一个单位名称的 .txt），列出未报送和名单外单位")
    p.add_argument("--previous", metavar="上年数据", action="append",
                   help="上年汇总表或上年各单位报表（文件或文件夹），用于跨年度核对（上年结转等）；可重复")
    p.add_argument("--feedback", metavar="文件夹", help="为有问题的文件生成带批注的校验意见表（原文件不会被修改）")
    p.add_argument("--json", metavar="文件", help="把结果另存为 JSON 文件（UTF-8）")
    p.add_argument("--workers", type=int, metavar="进程数", help="读取文件的并行进程数（默认按 CPU 数）")
    p.add_argument("-v", "--verbose", action="store_true", help="显示全部问题（默认同类问题较多时只显示前几条）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.year is not None:
        try:
            check_not_future(args.year)
        except SpecError as e:
            raise UsageError(str(e)) from None
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers 必须是正整数。")
    # outputs never touch an input: not the files read, not the roster or last year's data
    inputs = [*args.paths, *([args.roster] if args.roster else []), *(args.previous or [])]
    files = find_workbooks(args.paths) if args.feedback or args.json else []
    if args.feedback:
        check_output(args.feedback, "--feedback", folder=True, inputs=inputs, files=files, folder_ok=True)
    if args.json:
        check_output(args.json, "--json", folder=False, example="校验结果.json", inputs=inputs, files=files)
    try:
        result = check_paths(
            args.paths,
            year=args.year,
            roster=args.roster,
            previous=args.previous,
            feedback_dir=args.feedback,
            workers=args.workers,
            progress=True,
            keep_results=False,
        )
    except CheckError as e:
        raise UsageError(str(e)) from None
    print(render(result, full=args.verbose))
    if args.json:
        try:
            path = write_json(result, args.json)
        except OSError as e:
            print(f"错误：无法写入 JSON 文件 {args.json}。{os_error_message(e)}", file=sys.stderr)
            return 2
        print(f"结果已保存到 {path}。")
    return result.exit_code
