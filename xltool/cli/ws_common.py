"""Shared pieces of the workspace commands (init, receive, status, assign, pin, sent,
accept, include, confirm): open the workspace, turn its errors into Chinese usage errors."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from xltool.cli import UsageError
from xltool.cli import examples as cli_examples
from xltool.pipeline.workspace import Workspace, WorkspaceError, open_workspace


def add_parser(sub: argparse._SubParsersAction, name: str, help_: str, description: str, examples: list[str],
               run: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_, add_help=False, description=description,
                       epilog=cli_examples(*examples))  # the help ends with them
    p._optionals.title = "选项"
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p.set_defaults(func=run)
    return p


def add_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", metavar="工作区", help="工作区文件夹（xltool init 创建）")


def opened(path: str) -> Workspace:
    try:
        return open_workspace(path)
    except WorkspaceError as e:
        raise UsageError(str(e)) from None


def decide(args: argparse.Namespace, action: Callable[[Workspace], object], done: str) -> int:
    ws = opened(args.dir)
    try:
        action(ws)
    except WorkspaceError as e:
        raise UsageError(str(e)) from None
    finally:
        ws.close()
    print(done)
    return 0
