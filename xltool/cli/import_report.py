"""``xltool import``: published reports (text, web page, Word) → filled workbooks and/or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from xltool.cli import UsageError, check_output, examples
from xltool.errors import os_error_message
from xltool.pipeline.importing import dump_json, output_name, write_result
from xltool.pipeline.published import add_narrative_issues
from xltool.read.importer import import_file, to_json
from xltool.read.importer.core import SOURCE_KIND_ZH
from xltool.spec import FORMATS, SpecError, check_not_future, check_year
from xltool.write.template import TemplateError

DESCRIPTION = """导入已公开发布的政府信息公开工作年度报告（网页另存的 .html、Word 文档 .docx、带文字的 PDF，
或从网页/文档复制出的文本 .txt），按表格标签找到表二、表三、表四的数字和“一、五、六”部分的文字，
生成本工具的已填报工作簿（可作为 check / combine 的 --previous 上年数据），或另存为 JSON。

单位名称和年度从报告标题、“请与……联系”一句和统计时限中查找，并说明是怎样找到的；
可用 --agency / --year 指定。找不到对应位置的数字不会猜测，会逐项列出；空白和“/”原样保留。
退出码：0 全部导入；1 有文件无法导入或有数字未能导入；2 参数错误。"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="导入已发布的年报（网页、Word、PDF、文本）", description=DESCRIPTION, add_help=False,
                       epilog=examples(
                           "xltool import 2024年报网页.html 科技局2024年报.docx 复制的年报.txt --out 上年数据",
                           "xltool import 科技局2024年报.html --agency 威海市环翠区科学技术局 --year 2024 --out 上年数据",
                       ))
    p._positionals.title = "位置参数"
    p._optionals.title = "选项"
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p.add_argument("files", nargs="+", metavar="文件", help="已发布的年报：.html / .htm / .docx / .pdf / .txt")
    p.add_argument("--out", "-o", metavar="文件夹",
                   help="工作簿输出文件夹（默认当前文件夹；只给 --json 时不生成工作簿）")
    p.add_argument("--json", metavar="文件", help="把导入结果另存为 JSON（UTF-8）；“-” 表示输出到屏幕")
    p.add_argument("--agency", metavar="单位名称", help="指定单位名称（只能用于一个文件）")
    p.add_argument("--year", type=int, metavar="年度", help="指定报告年度")
    p.add_argument("--format", choices=list(FORMATS), help="指定报告格式（默认按表格标签判断）")
    p.add_argument("--force", action="store_true", help="输出的工作簿已存在时覆盖")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.agency and len(args.files) > 1:
        raise UsageError("--agency 只能用于导入一个文件（各文件的单位不同）。")
    if args.year is not None:
        try:
            check_not_future(args.year)
        except SpecError as e:
            raise UsageError(str(e)) from None
    for f in args.files:
        if Path(f).is_dir():
            raise UsageError(f"“{f}”是一个文件夹：请给出要导入的年报文件（.html / .docx / .pdf / .txt）。")
        if not Path(f).is_file():
            raise UsageError(f"找不到文件：{f}")
    write_books = args.out is not None or args.json is None
    out_dir = Path(args.out or ".")
    if write_books:
        check_output(out_dir, "--out", folder=True, inputs=args.files)
    if args.json not in (None, "-"):
        check_output(args.json, "--json", folder=False, example="导入结果.json", inputs=args.files)
    stream = sys.stderr if args.json == "-" else sys.stdout
    items: list[dict[str, Any]] = []
    targets: dict[Path, str] = {}
    failed = 0
    for f in args.files:
        res = add_narrative_issues(import_file(f, agency=args.agency, year=args.year, format_id=args.format))
        output: str | None = None
        why: str | None = res.error
        if why is None and write_books:
            if res.year.value is None:
                why = "无法确定报告年度，未生成工作簿。请用 --year 指定年度。"
            elif res.agency.value is None:
                why = "无法确定单位名称，未生成工作簿。请用 --agency 指定单位名称。"
            else:
                try:
                    check_year(res.year.value)
                    target = out_dir / output_name(res)
                    if target in targets:
                        why = f"与 {targets[target]} 的单位和年度相同，输出文件同名，未生成工作簿。请分别导入并用 --agency 区分。"
                    else:
                        path = write_result(res, out_dir, overwrite=args.force)
                        targets[target] = Path(f).name
                        output = str(path)
                except FileExistsError:
                    why = f"输出文件 {out_dir / output_name(res)} 已存在，未覆盖。如要覆盖，请加 --force。"
                except (SpecError, TemplateError) as e:
                    why = f"{e} 未生成工作簿。"
        item = to_json(res, output)
        if why and not item["error"]:
            item["error"] = why
        items.append(item)
        bad = _print(item, stream)
        failed += bad
    if args.json == "-":
        json.dump({"imports": items}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.json:
        try:
            p = dump_json(items, args.json)
        except OSError as e:
            print(f"错误：无法写入 JSON 文件 {args.json}。{os_error_message(e)}", file=sys.stderr)
            return 2
        print(f"导入结果已保存到 {p}。", file=stream)
    n = len(items)
    print(f"共 {n} 个文件：{n - failed} 个完整导入，{failed} 个无法导入或有数字未能导入。", file=stream)
    return 1 if failed else 0


def _print(item: dict[str, Any], out: TextIO) -> int:
    """One file's result for the clerk; returns 1 when the file is not completely imported."""
    name = Path(item["file"]).name
    kind = SOURCE_KIND_ZH.get(item["kind"], "")
    errors = [i for i in item["issues"] if i["severity"] == "error"]
    if item["error"] and not item["values"]:
        print(f"[无法导入] {name}：{item['error']}", file=out)
        return 1
    head = "[部分导入]" if errors else "[未生成工作簿]" if item["error"] else "[已导入]"
    dest = f" → {item['output']}" if item["output"] else ""
    print(f"{head} {name}（{kind}）{dest}", file=out)
    print(f"  单位名称：{item['agency'] or '（未找到）'}（{item['agency_how']}）", file=out)
    print(f"  报告年度：{item['year'] or '（未找到）'}（{item['year_how']}）", file=out)
    print(f"  报告格式：{item['format_how']}", file=out)
    n_all = len(item["values"]) + len(item["missing"])
    print(f"  表格数字：{len(item['values'])}/{n_all} 个单元格已导入", file=out)
    secs = "、".join(k for k, s in (("一", "sec1"), ("五", "sec5"), ("六", "sec6")) if s in item["narrative"])
    print(f"  文字部分：{secs or '无'}", file=out)
    if item["error"]:
        print(f"  未生成工作簿：{item['error']}", file=out)
    for i in item["issues"]:
        level = "错误" if i["severity"] == "error" else "提示"
        where = f"（{i['where']}）" if i["where"] and i["where"] not in i["message"] else ""
        print(f"  - [{level}] {i['message']}{where}", file=out)
    return 1 if errors or item["error"] else 0
