"""``xltool compare``: published reports against the submitted workbooks, agency by agency."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xltool.cli import UsageError, examples
from xltool.pipeline.check import CheckError
from xltool.pipeline.compare import CompareError, compare, difference_text, dump_json
from xltool.write.compare_book import write_compare_workbook

DESCRIPTION = """核对各单位在网站上公开发布的年报与报送的工作簿是否一致。

已发布的年报可以是网页另存的 .html、Word 文档 .docx、带文字的 PDF 或文本 .txt；
按报告中写的单位名称和年度对应到报送的单位（不看文件名）。对每个单位：
逐个单元格核对已发布的数字与报送工作簿的数字，核对已发布年报的文字部分与表格，
并列出没有找到已发布年报的单位（给出 --roster 时按名单）。
退出码：0 全部一致；1 有不一致、文字问题、未发布或未对应的年报；2 参数错误。"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="核对已发布的年报与报送的工作簿", description=DESCRIPTION, add_help=False,
                       epilog=examples(
                           "xltool compare 回收 已发布 --year 2025 --roster 单位名单.xlsx",
                           "xltool compare 回收 科技局2025年报.html --out 核对结果.xlsx",
                       ))
    p._positionals.title = "位置参数"
    p._optionals.title = "选项"
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p.add_argument("submitted", metavar="报送文件夹", help="各单位报送的工作簿所在的文件夹（或一个工作簿）")
    p.add_argument("published", nargs="+", metavar="已发布的年报", help="已发布的年报：.html / .docx / .pdf / .txt")
    p.add_argument("--year", type=int, metavar="年度", help="报告年度（默认取报送工作簿中最多的年度）")
    p.add_argument("--roster", metavar="名单文件", help="报送单位名单：列出名单上没有发布年报的单位")
    p.add_argument("--out", "-o", metavar="文件.xlsx", help="把核查结果另存为工作簿（年报发布核查）")
    p.add_argument("--json", metavar="文件", help="把核查结果另存为 JSON（UTF-8）")
    p.add_argument("--workers", type=int, metavar="进程数", help="读取工作簿的并行进程数")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.out and not args.out.lower().endswith(".xlsx"):
        raise UsageError(f"输出文件 {args.out} 的扩展名应为 .xlsx。")
    try:
        result = compare([args.submitted], args.published, year=args.year, roster=args.roster, workers=args.workers)
    except (CheckError, CompareError) as e:
        raise UsageError(str(e)) from None
    out = sys.stdout
    problems = 0
    for a in result.agencies:
        if a.published is None:
            print(f"[未发布] {a.agency}：没有找到已发布的年报", file=out)
            problems += 1
            continue
        head = "[一致]" if a.matched else "[无法核对]" if a.submitted is None else f"[不一致 {len(a.differences)} 处]"
        print(f"{head} {a.agency}：{Path(a.published).name}" + (f" ↔ {Path(a.submitted).name}" if a.submitted else ""),
              file=out)
        if a.note:
            print(f"  {a.note}", file=out)
        for d in a.differences:
            print(f"  - {difference_text(d)}", file=out)
        for f in a.narrative:
            print(f"  - [文字] {f.message}", file=out)
        problems += (not a.matched) + len(a.narrative)
    for u in result.unmatched_published:
        print(f"[未对应] {Path(u.file).name}：{u.reason}", file=out)
        problems += 1
    n_pub = sum(a.published is not None for a in result.agencies)
    n_ok = sum(a.matched for a in result.agencies)
    print(f"共 {len(result.agencies)} 个单位：已发布 {n_pub} 个，其中与报送一致 {n_ok} 个；"
          f"未对应的已发布年报 {len(result.unmatched_published)} 个。", file=out)
    data = result.to_json()
    for target, write, what in ((args.out, lambda t: write_compare_workbook(t, data), "核查结果"),
                                (args.json, lambda t: dump_json(result, t), "JSON ")):
        if not target:
            continue
        try:
            p = write(target)
        except OSError as e:
            print(f"错误：无法写入 {target}：{e.strerror or e}。请检查文件夹是否存在、是否有写入权限，"
                  "以及文件是否正在 Excel/WPS 中打开。", file=sys.stderr)
            return 2
        print(f"{what}已保存到 {p}。", file=out)
    return 1 if problems else 0
