"""``xltool feedback``: write the due feedback copies into the workspace's 校验意见/."""

from __future__ import annotations

import argparse

from xltool.cli import UsageError
from xltool.cli.ws_common import add_dir, add_parser, opened
from xltool.pipeline.workspace import WorkspaceError, refresh_feedback


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "feedback", "生成各单位的校验意见副本",
                   "为当前版本有问题的单位在 校验意见/ 中生成（或更新）校验意见副本：标出问题单元格、"
                   "首页列出全部问题，可直接发回单位修改。已是最新的不重复生成。\n"
                   "退出码：0 全部生成；1 有文件无法写入（如正在 Excel 中打开）；2 参数错误。",
                   ["xltool feedback 2025年报",
                    "xltool feedback 2025年报 --agency 威海市环翠区民政局"], run)
    add_dir(p)
    p.add_argument("--agency", metavar="单位名称", help="只生成这个单位的（名单中的名称）")
    p.add_argument("--workers", type=int, metavar="N", help="并行生成的进程数（默认按 CPU 核数）")


def run(args: argparse.Namespace) -> int:
    ws = opened(args.dir)
    try:
        ids = [ws.agency_id(args.agency)] if args.agency else None
        written, problems = refresh_feedback(ws, ids, workers=args.workers)
    except WorkspaceError as e:
        raise UsageError(str(e)) from None
    finally:
        ws.close()
    for p in written:
        print(f"已生成校验意见：{p}")
    for msg in problems:
        print(f"注意：{msg}")
    if not written and not problems:
        print("校验意见都已是最新的，没有需要生成的。")
    else:
        print(f"完成：生成 {len(written)} 份校验意见，{len(problems)} 份未能写入。"
              f"发出后用 xltool sent {args.dir} --agency 单位名称 记录。")
    return 1 if problems else 0
