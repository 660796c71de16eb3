"""``xltool receive``: take returned files, folders and .zip archives into a workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from xltool.cli import UsageError
from xltool.cli.ws_common import add_dir, add_parser, opened
from xltool.pipeline.workspace import outdated, receive, refresh_feedback

KIND_ZH = {"version": "新版本", "duplicate": "重复收到", "feedback_copy": "未修改的校验意见副本（不计为报送）"}
STATUS_ZH = {"ok": "通过", "invalid": "有错误", "unreadable": "无法读取"}


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "receive", "把收到的文件（含 .zip 压缩包）收进工作区",
                   "收取各单位报回的文件：可以给文件、文件夹或 .zip 压缩包（Windows 压缩的中文文件名也可以）。"
                   "每个文件按内容只保存一份，自动识别单位并校验；不是报表的文件逐个说明原因。\n"
                   "退出码：0 全部收取并识别；1 有文件无法读取、未识别或未收取；2 参数错误。",
                   ["xltool receive 2025年报 下载/科技局年报.xlsx 下载/街道报表.zip",
                    "xltool receive 2025年报 回收"], run)
    add_dir(p)
    p.add_argument("paths", nargs="+", metavar="路径", help="文件、文件夹或 .zip（可给多个）")
    p.add_argument("--workers", type=int, metavar="N", help="并行读取的进程数（默认按 CPU 核数）")
    p.add_argument("--feedback", action="store_true",
                   help="收取后立即生成校验意见副本（也可以之后用 xltool feedback 生成）")


def run(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise UsageError("找不到以下文件或文件夹：" + "、".join(missing) + "。请检查名称后重试。")
    ws = opened(args.dir)
    try:
        res = receive(ws, args.paths, workers=args.workers)
        written, problems = refresh_feedback(ws, workers=args.workers) if args.feedback else ([], [])
        due = outdated(ws)
    finally:
        ws.close()
    for r in res.received:
        who = r.agency or "未识别（请用 xltool assign 指定单位）"
        print(f"{KIND_ZH[r.kind]}：{r.file} → {who}，{STATUS_ZH.get(r.status, r.status)}")
    for path, reason in res.skipped:
        print(f"未收取：{path}：{reason}")
    for p in written:
        print(f"已更新校验意见：{p}")
    for msg in problems:
        print(f"注意：{msg}")
    if due:
        print(f"{len(due)} 个单位的校验意见待生成（{'、'.join(due[:5])}{'等' if len(due) > 5 else ''}）："
              f"用 xltool feedback {args.dir} 生成。")
    n_new = sum(1 for r in res.received if r.kind == "version")
    print(f"完成：收到 {len(res.received)} 个文件（新版本 {n_new} 个），未收取 {len(res.skipped)} 个。"
          f"用 xltool status {args.dir} 查看各单位情况。")
    return res.exit_code
