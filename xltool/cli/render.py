"""``xltool render``: the publishable report (HTML and/or Word) from a workbook."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from xltool.cli import UsageError, check_output, examples
from xltool.pipeline.render import RenderError, prepare
from xltool.workbook.fileio import atomic_path
from xltool.write.render.html import write_html

DESCRIPTION = """由一个单位的已填报工作簿或全区汇总表（xltool combine 生成）生成可公开发布的年度报告：
标题、一至六部分，三张表格按官方格式排版（合并表头、原样标签、数字右对齐）。
网页（.html）可直接上网或在浏览器中打印为 A4；Word（.docx）为真正的 Word 表格，正文仿宋、表格宋体。

工作簿未通过校验时不生成（先用 xltool check 查看问题）；加 --force 可生成草稿，
问题单元格标红（网页）或加底色和批注（Word），并在页首注明。
汇总表的文字部分（一、五、六）为待填写的占位文字；本级政府名称用 --agency 给出。
退出码：0 已生成；1 未通过校验（未生成，或加 --force 生成了草稿）；2 参数或文件错误。"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="生成可发布的年报（网页、Word）", description=DESCRIPTION, add_help=False,
                       epilog=examples(
                           "xltool render 回收/2025年_威海市环翠区科学技术局_政府信息公开年报.xlsx --html 发布/科技局.html",
                           "xltool render 2025年全区汇总.xlsx --agency 威海市环翠区人民政府 --docx 发布/区政府.docx",
                       ))
    p._positionals.title = "位置参数"
    p._optionals.title = "选项"
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p.add_argument("file", metavar="工作簿", help="已填报的单位工作簿或全区汇总表（.xlsx）")
    p.add_argument("--html", metavar="输出.html", help="网页输出文件（--html、--docx 都不给时，在工作簿旁生成同名 .html 和 .docx）")
    p.add_argument("--docx", metavar="输出.docx", help="Word 输出文件")
    p.add_argument("--title", metavar="标题", help="报告标题（默认“单位名称+年度+年政府信息公开工作年度报告”）")
    p.add_argument("--agency", metavar="名称", help="单位或本级政府名称（汇总表请给出，否则标题用占位文字；单位工作簿默认取“基本信息”）")
    p.add_argument("--force", action="store_true", help="未通过校验也生成（草稿，问题单元格标出）")
    p.add_argument("--overwrite", action="store_true", help="输出文件已存在时覆盖")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from xltool.write.render.docx import write_docx  # lazy: python-docx (+ lxml) costs every start ~35 ms

    src = Path(args.file)
    if src.is_dir():
        raise UsageError(f"“{src}”是一个文件夹：请给出要生成发布稿的工作簿文件（.xlsx）。")
    if not src.is_file():
        raise UsageError(f"找不到文件：{src}")
    html_out = Path(args.html) if args.html else None
    docx_out = Path(args.docx) if args.docx else None
    if html_out is None and docx_out is None:
        html_out, docx_out = src.with_suffix(".html"), src.with_suffix(".docx")
    for out, ext in ((html_out, ".html"), (docx_out, ".docx")):
        if out is None:
            continue
        check_output(out, f"--{ext[1:]}", folder=False, example=f"报告{ext}", inputs=[src])
        if out.suffix.lower() not in (ext, ".htm" if ext == ".html" else ext):
            raise UsageError(f"输出文件 {out} 的扩展名应为 {ext}。")
        if out.resolve() == src.resolve():
            raise UsageError("输出文件不能与输入的工作簿相同。")
        if out.exists() and not args.overwrite:
            raise UsageError(f"输出文件 {out} 已存在。如要覆盖，请加 --overwrite。")
    try:
        prep = prepare(src, force=args.force, title=args.title, agency=args.agency)
    except RenderError as e:
        msg = str(e)
        if "未通过校验" in msg:
            print(msg)
            return 1
        raise UsageError(msg) from None
    s = prep.source
    if s.kind == "summary" and not s.name and not args.title:
        print("提示：未给出本级政府名称，标题中用“〔本级政府名称〕”占位；请用 --agency 指定（如 --agency 威海市环翠区人民政府）。")
    # all or nothing: both are written to temporary files first and put in place only when
    # both are complete (a failure in the second never leaves the first behind)
    written: list[Path] = []
    with contextlib.ExitStack() as stack:
        for out, write in ((html_out, write_html), (docx_out, write_docx)):
            if out is not None:
                tmp = stack.enter_context(atomic_path(out, overwrite=args.overwrite))
                write(prep.doc, tmp, overwrite=True)
                written.append(out)
    what = "全区汇总表" if s.kind == "summary" else "单位工作簿"
    print(f"已由{what} {src.name}（{s.year} 年度，{s.fmt.id} 版格式）生成：{prep.doc.title}")
    for p in written:
        print(f"  {p}")
    if s.warnings:
        print(f"提示：有 {len(s.warnings)} 处警告（不影响生成），发布前可用 xltool check 查看。")
    placeholders = [sec.heading for sec in prep.doc.sections if sec.placeholder]
    if placeholders:
        print(f"提示：“{'”“'.join(placeholders)}”没有文字，已放入待填写的占位文字，发布前请在 Word 中补写。")
    if prep.forced:
        print(f"注意：工作簿未通过校验（{len(s.errors)} 处错误），已按 --force 生成草稿，问题单元格已标出，不能直接发布。")
        return 1
    return 0
