"""``xltool assign``: assign an unidentified received file to a roster agency."""

from __future__ import annotations

import argparse

from xltool.cli.ws_common import add_dir, add_parser, decide
from xltool.pipeline.workspace import assign


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "assign", "把未识别的收件指定给某个单位",
                   "把无法自动识别单位的文件指定给名单中的单位（文件可用收到时的文件名或 sha256 指定）。",
                   ["xltool assign 2025年报 年报数据.xlsx --agency 威海市环翠区司法局"], run)
    add_dir(p)
    p.add_argument("file", metavar="文件", help="收到时的文件名（压缩包中的写成 包.zip/文件.xlsx）或 sha256")
    p.add_argument("--agency", required=True, metavar="单位名称", help="名单中的单位名称")


def run(args: argparse.Namespace) -> int:
    return decide(args, lambda ws: assign(ws, args.file, args.agency), f"已把“{args.file}”指定给“{args.agency}”。")
