"""``xltool accept``: mark one warning as verified (已核实)."""

from __future__ import annotations

import argparse

from xltool.cli.ws_common import add_dir, add_parser, decide
from xltool.pipeline.workspace import accept


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "accept", "把某条警告标记为已核实",
                   "把当前版本的一条警告标记为已核实：只要该单元格的数值不变，以后重新校验也不再计入警告；"
                   "新版本改了这个数值时自动失效。错误不能这样处理（请用 xltool include）。",
                   ["xltool accept 2025年报 --agency 威海市环翠区科学技术局 --code CARRY_OVER --cell 表三!J7 --reason 上年数据更正"],
                   run)
    add_dir(p)
    p.add_argument("--agency", required=True, metavar="单位名称", help="名单中的单位名称")
    p.add_argument("--code", required=True, metavar="代码", help="问题代码，如 CARRY_OVER")
    p.add_argument("--cell", required=True, metavar="表!单元格", help="位置，如 表三!J7")
    p.add_argument("--reason", required=True, metavar="理由", help="核实情况")


def run(args: argparse.Namespace) -> int:
    return decide(args, lambda ws: accept(ws, args.agency, args.code, args.cell, args.reason),
                  f"已标记为已核实：{args.agency} {args.code} {args.cell}。")
