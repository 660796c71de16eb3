"""``xltool pin``: choose which of an agency's versions is current."""

from __future__ import annotations

import argparse

from xltool.cli.ws_common import add_dir, add_parser, decide
from xltool.pipeline.workspace import pin


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "pin", "指定某单位以哪个版本为准",
                   "默认以最新收到的版本为准；用本命令指定另一个版本（sha256 可只写前几位，见 xltool status --json）。",
                   ["xltool pin 2025年报 --agency 威海市环翠区财政局 --sha256 3f2a9c1e"], run)
    add_dir(p)
    p.add_argument("--agency", required=True, metavar="单位名称", help="名单中的单位名称")
    p.add_argument("--sha256", required=True, metavar="SHA256", help="要作为当前版本的文件的 sha256（或其开头）")


def run(args: argparse.Namespace) -> int:
    return decide(args, lambda ws: pin(ws, args.agency, args.sha256), f"已指定“{args.agency}”的当前版本。")
