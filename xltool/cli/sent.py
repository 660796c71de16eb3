"""``xltool sent``: record that the feedback copy went out to the agency."""

from __future__ import annotations

import argparse

from xltool.cli.ws_common import add_dir, add_parser, decide
from xltool.pipeline.workspace import sent


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "sent", "记录校验意见已发给某单位",
                   "记录已把 校验意见/ 中该单位的校验意见发出；收到新版本之前，该单位状态为“已退回修改”。",
                   ["xltool sent 2025年报 --agency 威海市环翠区民政局"], run)
    add_dir(p)
    p.add_argument("--agency", required=True, metavar="单位名称", help="名单中的单位名称")


def run(args: argparse.Namespace) -> int:
    return decide(args, lambda ws: sent(ws, args.agency), f"已记录：校验意见已发给“{args.agency}”。")
