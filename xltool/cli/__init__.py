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
from pathlib import Path
from typing import Any, NoReturn

from xltool import __version__
from xltool.errors import XltoolError, os_error_message
from xltool.workbook.fileio import input_conflict

# sub-command name → module in xltool.cli ("import" is a Python keyword)
COMMANDS = {
    "template": "template",
    "check": "check",
    "combine": "combine",
    "import": "import_report",
    "render": "render",
    "compare": "compare",
    "demo": "demo",
    "init": "init",
    "receive": "receive",
    "status": "status",
    "assign": "assign",
    "pin": "pin",
    "feedback": "feedback",
    "sent": "sent",
    "accept": "accept",
    "include": "include",
    "confirm": "confirm",
    "serve": "serve",
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


def examples(*lines: str, before: str = "") -> str:
    """The end of a command's ``--help`` (its epilog): ``before``, then a 示例 block of two or
    three command lines (tests/test_cli_help.py parses each of them with this parser)."""
    block = "示例：\n" + "\n".join(f"  {line}" for line in lines)
    return f"{before}\n\n{block}" if before else block


class UsageError(XltoolError):
    """Bad input from the user: printed as a Chinese message, exit code 2."""


def check_output(
    path: str | Path,
    option: str,
    *,
    folder: bool,
    example: str = "",
    inputs: Iterable[str | Path] = (),
    files: Iterable[str | Path] = (),
    folder_ok: bool = False,
) -> Path:
    """Refuse (UsageError) an output path that cannot be created: a file where a folder belongs,
    a folder where a file belongs, or a path below a file; and one that would touch an input
    (``inputs`` as given, ``files`` found in them; see ``fileio.input_conflict``: inputs are
    never written). Returns the path."""
    p = Path(path)
    inputs = list(inputs)
    why = input_conflict(p, inputs, files=files, folder_ok=folder_ok) if inputs else None
    if why:
        raise UsageError(f"{option} 的路径无法使用：{why}。输出不能覆盖或写进输入（原文件从不修改），"
                         f"请换一个{'文件夹' if folder else '文件名'}。")
    blocker = next((a for a in p.parents if a.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise UsageError(
            f"{option} 的路径“{p}”无法使用：“{blocker}”是一个文件，不是文件夹。请检查路径，或换一个文件夹名称。"
        )
    if folder and p.exists() and not p.is_dir():
        raise UsageError(
            f"{option} 应是一个文件夹，而“{p}”是一个已有的文件：请换一个文件夹名称（不存在时会自动创建）。"
        )
    if not folder and p.is_dir():
        hint = f"（如“{p / example}”）" if example else ""
        raise UsageError(f"{option} 应是一个文件名，而“{p}”是一个文件夹：请在后面加上文件名{hint}。")
    return p


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
    except OSError as e:  # missing folder, no permission, full disk, a file open in Excel…: words, not a traceback
        print(f"错误：{os_error_message(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
