"""Command line: a thin shell over the Python API. All user-facing text is Chinese.

Each sub-command lives in ``xltool/commands/<name>.py`` and exposes ``register(sub)``,
which adds its parser and sets ``func(args) -> int`` (the exit code).
Exit codes: 0 success, 1 done but problems were found, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from xltool import __version__
from xltool.errors import XltoolError

# sub-command name → module in xltool.cli ("import" is a Python keyword)
COMMANDS = {
    "template": "template",
    "check": "check",
    "combine": "combine",
    "import": "import_report",
    "render": "render",
    "demo": "demo",
}


class ChineseFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


class ChineseParser(argparse.ArgumentParser):
    """argparse with Chinese help headings and error text; exit code 2 on usage errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # argparse.ArgumentParser's own arguments
        kwargs.setdefault("formatter_class", ChineseFormatter)
        super().__init__(*args, **kwargs)
        self._optionals.title = "选项"
        self._positionals.title = "位置参数"

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        tr = (
            message.replace("the following arguments are required", "缺少必需的参数")
            .replace("unrecognized arguments", "无法识别的参数")
            .replace("invalid choice", "无效的选项")
            .replace("expected one argument", "需要一个参数值")
            .replace("invalid int value", "不是有效的整数")
            .replace("choose from", "可选")
            .replace("argument ", "参数 ")
        )
        self.exit(2, f"{self.prog}：错误：{tr}\n")


class UsageError(XltoolError):
    """Bad input from the user: printed as a Chinese message, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    p = ChineseParser(
        prog="xltool",
        description="政府信息公开工作年度报告工具：生成模板、校验回收的报表、汇总全区数据。",
        add_help=False,
    )
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p.add_argument("--version", action="version", version=f"xltool {__version__}", help="显示版本号")
    sub = p.add_subparsers(title="命令", dest="command", metavar="命令", parser_class=ChineseParser)
    for module in COMMANDS.values():
        try:
            mod = importlib.import_module(f"xltool.cli.{module}")
        except ModuleNotFoundError as e:  # a command not built yet
            if e.name == f"xltool.cli.{module}":
                continue
            raise
        mod.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except UsageError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
