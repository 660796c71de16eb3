"""``xltool serve``: the workbench in the browser over a workspace (xltool.web)."""

from __future__ import annotations

import argparse

from xltool.cli import UsageError
from xltool.cli.ws_common import add_dir, add_parser, opened


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "serve", "在浏览器中打开工作台（总览、收件、单位、汇总、日志）",
                   "在本机启动工作台并打开浏览器：只在本机（127.0.0.1）可以访问，每次启动生成新的访问口令，"
                   "地址显示在窗口中。按 Ctrl+C 停止。",
                   ["xltool serve 2025年报", "xltool serve 2025年报 --port 8765 --no-browser"], run)
    add_dir(p)
    p.add_argument("--port", type=int, default=0, metavar="端口", help="端口号（默认自动选一个空闲端口）")
    p.add_argument("--no-browser", action="store_true", help="不自动打开浏览器")


def run(args: argparse.Namespace) -> int:
    opened(args.dir).close()  # a clear message when it is not a workspace
    if not 0 <= args.port <= 65535:
        raise UsageError("--port 应是 1–65535 之间的整数（不写则自动选择）。")
    from xltool.web.server import serve

    try:
        serve(args.dir, port=args.port, open_browser=not args.no_browser)
    except OSError as e:
        raise UsageError(f"无法在端口 {args.port} 上启动工作台（{e.strerror or e}）。请换一个端口，或不写 --port。") from None
    return 0
