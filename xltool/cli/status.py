"""``xltool status``: every roster agency's state, the chase list, JSON for other systems."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xltool.cli import UsageError
from xltool.cli.ws_common import add_dir, add_parser, opened
from xltool.pipeline.workspace import agency_states, status_json, write_chase_list


def register(sub: argparse._SubParsersAction) -> None:
    p = add_parser(sub, "status", "查看各单位报送情况，生成催报名单",
                   "列出名单中每个单位的状态：未报送 / 已报送·通过 / 已报送·有错误 / 未填写 / 无法读取 / "
                   "已退回修改 / 已确认，以及各版本、联系人；另列未识别的文件和未收取的文件。",
                   ["xltool status 2025年报", "xltool status 2025年报 --xlsx 催报名单.xlsx --json 状态.json"], run)
    add_dir(p)
    p.add_argument("--json", type=Path, metavar="文件", help="另存 JSON（格式见 README）")
    p.add_argument("--xlsx", type=Path, metavar="文件", help="生成催报名单 .xlsx（未报送、有错误等需要催办的单位）")


def run(args: argparse.Namespace) -> int:
    ws = opened(args.dir)
    try:
        states = agency_states(ws)
        data = status_json(ws, states)
        try:
            if args.json is not None:
                args.json.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
            if args.xlsx is not None:
                write_chase_list(ws, args.xlsx, states)
        except PermissionError as e:
            raise UsageError(f"文件“{e.filename}”被占用（可能正在 Excel 中打开），无法写入。请关闭该文件后重试。") from None
    finally:
        ws.close()
    counts: dict[str, int] = {}
    for s in states:
        counts[s.state] = counts.get(s.state, 0) + 1
        cur = s.current
        extra = f"，{cur['errors']} 个错误、{cur['warnings']} 个警告，{len(s.versions)} 个版本" if cur else ""
        who = "、".join(x for x in (s.person, s.phone) if x)
        sent = f"，校验意见 {s.last_sent} 发出" if s.last_sent else ""
        print(f"{s.state}\t{s.name}{extra}{sent}" + (f"（联系人：{who}）" if who else ""))
    for u in data["unidentified"]:
        print(f"未识别\t{u['file']}（sha256 {u['sha256'][:12]}…）：请用 xltool assign {args.dir} 文件名 --agency 单位名称 指定")
    for s in data["skipped"]:
        print(f"未收取\t{s['path']}：{s['reason']}")
    print("合计：" + "，".join(f"{k} {v} 个" for k, v in counts.items()) + f"；未识别文件 {len(data['unidentified'])} 个。")
    if args.xlsx is not None:
        print(f"已生成催报名单：{args.xlsx}")
    return 0
