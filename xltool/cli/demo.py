"""``xltool demo``: the whole yearly job in one command, on realistic sample data.

Steps, each the same API the real commands use: make the sample data (roster, last
year's summary, this year's returns with one of each realistic mistake), generate this
year's templates with 上年结转 prefilled, check the returns and write feedback copies,
combine the district summary and render it as a publishable report (HTML, DOCX).
Everything goes into one fresh output folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from xltool.cli import UsageError, check_output, examples
from xltool.pipeline import sampledata
from xltool.pipeline.check import check_paths
from xltool.pipeline.combine import combine
from xltool.pipeline.previous import load_previous
from xltool.pipeline.render import prepare
from xltool.read.roster import read_roster
from xltool.spec import format_for_year
from xltool.workbook.fileio import atomic_path
from xltool.write.render.html import write_html
from xltool.write.template import carry_over_prefill, write_templates

DATA_DIR = "0_示例数据"
TEMPLATE_DIR = "1_下发模板"
FEEDBACK_DIR = "2_校验意见"
CHECK_JSON = "2_校验结果.json"
SUMMARY_DIR = "3_全区汇总"
PUBLISH_DIR = "4_发布稿"
MARKER = ".xltool-demo"  # only a folder carrying this marker is ever cleared by --force


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "demo",
        help="用示例数据演示完整流程（生成模板 → 校验 → 汇总）",
        description="用示例数据演示一年的完整流程：生成示例名单和回收报表，生成带上年结转预填的模板，"
        "校验回收的报表并生成退回修改用的校验意见，汇总生成全区汇总表。",
        epilog=examples("xltool demo", "xltool demo --out 演示 --force"),
        add_help=False,
    )
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p.add_argument("--out", type=Path, default=Path("demo-output"), metavar="文件夹", help="输出文件夹（默认 demo-output）")
    p.add_argument("--force", action="store_true", help="输出文件夹已存在时先清空（只清空以前演示生成的文件夹）")
    p.set_defaults(func=run)
    return p


def _prepare(out: Path, force: bool) -> None:
    check_output(out, "--out", folder=True)
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"输出位置“{out}”是一个文件，不是文件夹。")
        if any(out.iterdir()):
            if not force:
                raise UsageError(f"输出文件夹“{out}”已存在且不为空。请换一个文件夹，或加 --force 覆盖以前的演示结果。")
            if not (out / MARKER).exists():
                raise UsageError(f"文件夹“{out}”不是以前演示生成的，为避免误删，不会清空它。请换一个文件夹。")
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("xltool demo output\n", encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    _prepare(out, args.force)
    t0 = time.perf_counter()
    year = sampledata.YEAR
    fmt = format_for_year(year)
    data = out / DATA_DIR
    sampledata.main(data)
    roster_path = data / "roster.csv"
    roster = read_roster(roster_path)
    last_year = data / "last-year"
    previous = load_previous([last_year])

    templates = write_templates(
        out / TEMPLATE_DIR, year, fmt, roster,
        per_agency=lambda e: carry_over_prefill(fmt, previous, e.name, year) if e else {},
    )
    returns = data / "returns"
    run_ = check_paths([returns], year=year, roster=roster, previous=previous, feedback_dir=out / FEEDBACK_DIR)
    with atomic_path(out / CHECK_JSON, overwrite=True) as tmp:
        tmp.write_text(json.dumps({"files": [f.to_json() for f in run_.files]}, ensure_ascii=False, indent=2),
                       encoding="utf-8")
    summary_path = out / SUMMARY_DIR / f"{year}年_{sampledata.DISTRICT}_政府信息公开年报汇总.xlsx"
    district = f"威海市{sampledata.DISTRICT}人民政府"
    result = combine([returns], year=year, roster=roster, previous=previous, out=summary_path, force=True,
                     district=district)
    # the publishable district report, from the summary just written
    from xltool.write.render.docx import write_docx  # lazy: python-docx (+ lxml) costs every start ~35 ms

    prepared = prepare(summary_path)  # the title comes from the district recorded in the summary
    stem = f"{year}年_{sampledata.DISTRICT}_政府信息公开工作年度报告"
    html = write_html(prepared.doc, out / PUBLISH_DIR / f"{stem}.html")
    docx = write_docx(prepared.doc, out / PUBLISH_DIR / f"{stem}.docx")
    elapsed = time.perf_counter() - t0

    n_ok = sum(f.status == "ok" for f in run_.files)
    n_bad = sum(f.status == "invalid" for f in run_.files)
    n_unr = sum(f.status == "unreadable" for f in run_.files)
    feedback = sorted((out / FEEDBACK_DIR).glob("*.xlsx")) if (out / FEEDBACK_DIR).exists() else []
    included = len(result.rows)
    print(f"演示完成（{year} 年度，{fmt.id} 格式，{fmt.document}），用时 {elapsed:.1f} 秒。")
    print(f"1. 下发模板：为名单中的 {len(templates)} 个单位生成了加锁模板，“上年结转”已按上年汇总预填 → {out / TEMPLATE_DIR}")
    print(f"2. 回收校验：示例回收报表 {len(run_.files)} 个（{returns}）：通过 {n_ok} 个，有错误 {n_bad} 个，无法读取 {n_unr} 个；")
    if run_.roster_missing:
        print(f"   未报送：{'、'.join(run_.roster_missing)}")
    print(f"   为有问题的 {len(feedback)} 个文件生成了退回修改用的校验意见 → {out / FEEDBACK_DIR}")
    print(f"   逐条结果（JSON）→ {out / CHECK_JSON}")
    print(f"3. 全区汇总：{included} 个单位计入合计，其余已在“报送情况”和“说明”中写明原因 → {summary_path}")
    print(f"4. 发布稿：按官方格式生成全区年度报告（文字部分待补写）→ {html}、{docx.name}")
    print("下一步：用 Excel/WPS 打开以上文件查看；实际使用时的命令见 README。")
    return 0
