"""``xltool include``: count an agency's current version in the summary despite its errors."""

from __future__ import annotations

import argparse

from xltool.cli.ws_common import add_dir, add_parser, decide
from xltool.pipeline.workspace import include


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "include", "有错误仍计入汇总（须写明理由）",
                   "记录决定：该单位当前版本虽有错误，仍计入汇总（汇总表中标出并写明理由）。收到新版本后需重新决定。",
                   ["xltool include 2025年报 --agency 威海市环翠区应急管理局 --reason 单位确认数字无误，表格差错由格式问题造成"], run)
    add_dir(p)
    p.add_argument("--agency", required=True, metavar="单位名称", help="名单中的单位名称")
    p.add_argument("--reason", required=True, metavar="理由", help="为什么仍计入")


def run(args: argparse.Namespace) -> int:
    return decide(args, lambda ws: include(ws, args.agency, args.reason), f"已记录：“{args.agency}”的当前版本仍计入汇总。")
