"""``xltool demo``: show the tool end to end on built-in sample agencies.

First version: writes a sample roster and one locked template per sample agency for the
current report year (last calendar year, since reports are due by 31 January).
Later steps (sample returns, check, combine) are added as further ``step_*`` functions.
"""

from __future__ import annotations

import argparse
import csv
from datetime import date
from pathlib import Path

from ..cli import UsageError
from ..fileio import atomic_path
from ..roster import CODE_HEADER, CONTACT_HEADER, NAME_HEADER, RosterEntry, read_roster
from ..spec import Format, format_for_year
from ..template import TemplateError, plan_templates, write_templates

DEMO_AGENCIES: tuple[str, ...] = (
    "威海市环翠区人民政府办公室",
    "环翠区发展和改革局",
    "环翠区教育和体育局",
    "环翠区科学技术局",
    "环翠区民政局",
    "环翠区财政局",
    "环翠区卫生健康局",
    "环翠区信访局",
    "环翠区鲸园街道办事处",
)
ROSTER_NAME = "单位名单.csv"
TEMPLATE_DIR = "模板"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "demo",
        help="用内置的示例单位演示完整流程",
        description="用内置的示例单位演示：生成单位名单和各单位的加锁填报模板。",
        add_help=False,
    )
    p.add_argument("-h", "--help", action="help", help="显示帮助信息并退出")
    p._optionals.title = "选项"
    p.add_argument(
        "--out",
        type=Path,
        default=Path("demo-output"),
        metavar="文件夹",
        help="输出文件夹（默认 demo-output）",
    )
    p.add_argument("--force", action="store_true", help="覆盖输出文件夹中已有的演示文件")
    p.set_defaults(func=run)
    return p


def demo_year(today: date | None = None) -> int:
    """The report year being collected now: last calendar year."""
    return (today or date.today()).year - 1


def step_roster(out: Path, force: bool) -> Path:
    """Write the sample roster (UTF-8 with BOM, as Excel's "CSV UTF-8" saves it)."""
    target = out / ROSTER_NAME
    with atomic_path(target, overwrite=force) as tmp:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([NAME_HEADER, CODE_HEADER, CONTACT_HEADER])
            for name in DEMO_AGENCIES:
                w.writerow([name, "", ""])
    return target


def step_templates(out: Path, year: int, fmt: Format, agencies: list[RosterEntry], force: bool) -> list[Path]:
    return write_templates(out / TEMPLATE_DIR, year, fmt, agencies, overwrite=force)


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    year = demo_year()
    fmt = format_for_year(year)
    agencies = [RosterEntry(n) for n in DEMO_AGENCIES]
    try:  # check every target before writing anything
        if out.exists() and not out.is_dir():
            raise TemplateError(f"输出位置“{out}”是一个文件，不是文件夹。")
        if not args.force and (out / ROSTER_NAME).exists():
            raise TemplateError(
                f"文件“{out / ROSTER_NAME}”已经存在，没有生成任何文件（如要覆盖，请加 --force）。"
            )
        plan_templates(out / TEMPLATE_DIR, year, agencies, overwrite=args.force)
        roster = step_roster(out, args.force)
        entries = read_roster(roster)
        templates = step_templates(out, year, fmt, entries, args.force)
    except (TemplateError, ValueError) as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"无法写入文件：{e}") from None
    print(f"演示：{year} 年度，{fmt.id} 格式（{fmt.document}）")
    print(f"  单位名单：{roster}（{len(entries)} 个单位）")
    print(f"  填报模板：{len(templates)} 个，在“{out / TEMPLATE_DIR}”")
    print("下一步：把模板发给各单位填写；收回后用 xltool check 校验、xltool combine 汇总。")
    return 0
