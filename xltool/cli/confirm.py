"""``xltool confirm``: record that the office reviewed the agency's current version."""

from __future__ import annotations

import argparse

from xltool.cli.ws_common import add_dir, add_parser, decide
from xltool.pipeline.workspace import confirm


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "confirm", "确认某单位的当前版本已审核",
                   "记录已审核该单位的当前版本（状态“已确认”）；收到新版本后自动取消。",
                   ["xltool confirm 2025年报 --agency 威海市环翠区信访局"], run)
    add_dir(p)
    p.add_argument("--agency", required=True, metavar="单位名称", help="名单中的单位名称")


def run(args: argparse.Namespace) -> int:
    return decide(args, lambda ws: confirm(ws, args.agency), f"已确认“{args.agency}”的当前版本。")
