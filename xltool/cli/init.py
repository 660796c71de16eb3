"""``xltool init``: create a season workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from xltool.cli import UsageError
from xltool.cli.ws_common import add_parser
from xltool.pipeline.workspace import WorkspaceError, init_workspace


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "init", "创建一年收集工作用的工作区",
                   "创建工作区文件夹：名单副本，模板/、收件/、校验意见/、汇总/ 四个文件夹，状态数据库和操作日志。"
                   "整个文件夹可以拷到另一台电脑继续使用。",
                   ["xltool init 2025年报 --year 2025 --roster 单位名单.xlsx --district 威海市环翠区人民政府"],
                   run)
    p.add_argument("dir", metavar="工作区", help="新的（或空的）文件夹")
    p.add_argument("--year", type=int, required=True, metavar="年度", help="报告年度，如 2025（必填）")
    p.add_argument("--roster", type=Path, required=True, metavar="名单文件", help="单位名单（.xlsx 或 .csv，必填）")
    p.add_argument("--previous", type=Path, metavar="上年数据", help="上年全区汇总表或上年各单位报表（可选）")
    p.add_argument("--district", metavar="本级政府名称", help="本级政府名称，用于汇总表和发布稿标题（可选）")


def run(args: argparse.Namespace) -> int:
    try:
        ws = init_workspace(args.dir, year=args.year, roster=args.roster, previous=args.previous,
                            district=args.district)
    except WorkspaceError as e:
        raise UsageError(str(e)) from None
    n = len(ws.roster())
    ws.close()
    print(f"已创建工作区“{args.dir}”：{args.year} 年度，名单 {n} 个单位。")
    print(f"下一步：xltool template --workspace {args.dir}（生成模板），收到文件后 xltool receive {args.dir} 文件或文件夹。")
    return 0
