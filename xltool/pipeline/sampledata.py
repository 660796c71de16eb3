"""The sample data of ``samples/`` and of ``xltool demo``, made deterministically (seeded).

    python samples/generate.py            # rewrites samples/ (roster, returns, last-year summary)

What it makes (report year 2025, format 2021, district 环翠区; all codes are fictitious):

- ``roster.csv`` — 15 bodies of the district with 统一社会信用代码-shaped codes.
- ``returns/`` — what came back from the agencies: good files plus one of each realistic
  mistake (see ``MISTAKES``), one agency that never sent a file, one that sent twice,
  one file that is not our template, one in the old format, one broken file.
- ``last-year/`` — last year's (2024) district summary, made by ``xltool combine`` from
  generated 2024 returns, so ``--previous`` can be shown.
- ``seed/`` — the published 2020 report of 环翠区科学技术局 (../shared/seeds) as a filled
  2019-format workbook.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from xltool.pipeline.combine import combine
from xltool.pipeline.synth import synth_values, totals
from xltool.spec import V2019, V2021, Format
from xltool.workbook.layout import layout_for
from xltool.write.template import template_filename, write_workbook

YEAR = 2025
SEED = 20251231
DISTRICT = "环翠区"

# (name, size): size scales how many applications the body gets
AGENCIES: list[tuple[str, float]] = [
    ("威海市环翠区人民政府办公室", 6.0),
    ("威海市环翠区科学技术局", 0.5),
    ("威海市环翠区教育和体育局", 3.0),
    ("威海市环翠区民政局", 1.5),
    ("威海市环翠区财政局", 1.0),
    ("威海市环翠区人力资源和社会保障局", 2.5),
    ("威海市环翠区住房和城乡建设局", 12.0),
    ("威海市环翠区卫生健康局", 1.5),
    ("威海市环翠区市场监督管理局", 4.0),
    ("威海市环翠区应急管理局", 0.8),
    ("威海市环翠区信访局", 0.6),
    ("威海市环翠区司法局", 0.7),
    ("环翠楼街道办事处", 2.0),
    ("鲸园街道办事处", 1.2),
    ("竹岛街道办事处", 1.8),
]

# agency index → the one mistake its return carries
MISTAKES: dict[int, str] = {
    2: "balance",  # 勾稽 error: 结转下年度 does not fit
    3: "typed_total",  # a total typed over its formula
    4: "blank",  # a blank where a number belongs
    5: "slash",  # "/" in a count
    6: "fullwidth",  # full-width digits typed as text
    7: "negative",  # a negative count
    8: "duplicate",  # sent twice: the second (newer) file replaces the first
    9: "foreign",  # official tables pasted into a plain workbook (not our template)
    10: "old_format",  # the 2019 format used for 2025
    11: "broken",  # a truncated file
    12: "missing",  # never sent a file
}


def credit_code(i: int) -> str:
    """Fictitious, but shaped like a 统一社会信用代码 (18 characters)."""
    return f"11371002TEST{i:04d}0X"


def write_roster(path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["单位名称", "统一社会信用代码", "联系人"])
        for i, (name, _) in enumerate(AGENCIES, 1):
            w.writerow([name, credit_code(i), f"联系人{i:02d}"])


def _info(i: int, day: int = 15) -> dict[str, str]:
    return {"filler": f"填报人{i:02d}", "phone": f"0631-52{i:05d}", "fill_date": f"{YEAR + 1}-01-{day:02d}"}


def _narrative(name: str) -> dict[str, str]:
    return {
        "sec1": f"{YEAR}年，{name}认真贯彻落实《中华人民共和国政府信息公开条例》，稳步推进主动公开、依申请公开、政府信息管理、平台建设和监督保障等工作。",
        "sec5": "存在的主要问题：公开内容的深度和解读质量仍需提升。改进措施：加强业务培训，完善信息发布审核机制。",
        "sec6": "本年度未收取信息处理费。",
    }


def _foreign_workbook(path: Path, fmt: Format, values: dict[str, int | float], name: str) -> None:
    """The official tables pasted into a plain workbook, the way agencies do it by hand.

    Labels come from the spec (with the real-world variants of official-format.md §7:
    line breaks inside labels, half-width brackets, 合计 for 总计), at an offset.
    """
    from openpyxl import Workbook

    lay = layout_for(fmt)
    wb = Workbook()
    ws = wb.active
    ws.title = "年报数据"
    ws["A1"] = f"{name}{YEAR}年政府信息公开工作年度报告"
    ws["A2"] = f"单位名称：{name}"
    off_r, off_c = 3, 1  # pasted 3 rows down, 1 column right
    for sec in ("sec2", "sec3", "sec4"):
        sh = lay.sheet(sec)
        for lab in sh.labels:
            text = lab.text
            if text == "总计":
                text = "合计"
            text = text.replace("（", "(").replace("）", ")") if lab.kind == "caption" else text
            if len(text) > 6 and lab.kind in ("label", "group"):
                text = text[:4] + "\n" + text[4:]
            ws.cell(lab.row + off_r + 1, lab.col + off_c + 1, text)
        with_totals = {**values, **totals(fmt, values)}
        for v in sh.values:
            val = with_totals.get(v.key)
            ws.cell(v.row + off_r + 1, v.col + off_c + 1, val)
        off_r += max(v.row for v in sh.values) + 4
    wb.save(path)


def _continue_stock(fmt: Format, vals: dict[str, int | float], last: dict[str, int] | None) -> None:
    """现行有效件数 = last year's + 本年制发 − 本年废止 (the V2021 stock heuristic holds)."""
    if not fmt.stock_changes:
        return
    for row in ("regulations", "normative_docs"):
        k = f"sec2.art20_1.{row}."
        prev = (last or {}).get(row, int(vals[k + "in_force"]))
        issued = int(vals[k + "issued"])
        repealed = min(int(vals[k + "repealed"]), prev + issued)
        vals[k + "repealed"] = repealed
        vals[k + "in_force"] = prev + issued - repealed


def make_returns(out: Path, fmt: Format, year: int, carried: dict[str, dict[str, int]] | None,
                 rng: random.Random, mistakes: dict[int, str],
                 stock: dict[str, dict[str, int]] | None = None) -> dict[str, dict[str, int | float]]:
    """Write one return per agency; returns the values written per agency name."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, dict[str, int | float]] = {}
    for i, (name, size) in enumerate(AGENCIES, 1):
        mistake = mistakes.get(i)
        if mistake == "missing":
            continue
        co = (carried or {}).get(name)
        nums: dict[str, int | float] = dict(synth_values(fmt, rng, size=size, carried_over=co))
        _continue_stock(fmt, nums, (stock or {}).get(name))
        written[name] = dict(nums)
        vals: dict[str, object] = dict(nums)  # what is written, mistakes (text among them) included
        target = out / template_filename(year, name)
        # saved "when filled" (fixed times): the files are byte-stable and a later return is newer
        kw: dict = dict(agency=name, credit_code=credit_code(i), info=_info(i), narrative=_narrative(name),
                        overwrite=True, created=datetime(year + 1, 1, 15, 9, i))
        if mistake == "balance":
            vals["sec3.carry_forward.natural"] = int(nums["sec3.carry_forward.natural"]) + 3
        elif mistake == "typed_total":
            kw["overrides"] = {"sec3.total_processed.total": 20}
        elif mistake == "blank":
            vals.pop("sec2.art20_6.penalty.decisions")
        elif mistake == "slash":
            vals["sec3.denied.third_party.natural"] = "/"
        elif mistake == "fullwidth":
            n = int(nums["sec2.art20_1.normative_docs.issued"]) + 12
            vals["sec2.art20_1.normative_docs.in_force"] = int(nums["sec2.art20_1.normative_docs.in_force"]) + 12
            vals["sec2.art20_1.normative_docs.issued"] = str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        elif mistake == "negative":
            vals["sec4.review.corrected"] = -1
        elif mistake == "old_format":
            old = synth_values(V2019, rng, size=size)
            write_workbook(target, V2019, year, values=old, **kw)
            continue
        elif mistake == "foreign":
            target = out / f"{name}{year}年报数据（自制表格）.xlsx"
            _foreign_workbook(target, fmt, nums, name)
            continue
        elif mistake == "broken":
            write_workbook(target, fmt, year, values=vals, **kw)
            data = target.read_bytes()
            target.write_bytes(data[: len(data) // 3])
            continue
        write_workbook(target, fmt, year, values=vals, **kw)
        if mistake == "duplicate":
            # the first version, sent earlier, with an error; the later file replaces it
            first = out / f"{target.stem}（第一次报送）.xlsx"
            wrong = dict(vals)
            wrong["sec3.new_received.natural"] = int(nums["sec3.new_received.natural"]) + 5
            write_workbook(first, fmt, year, values=wrong,
                           **{**kw, "info": _info(i, day=10), "created": datetime(year + 1, 1, 10, 9, i)})
            os.utime(first, (1767225600, 1767225600))  # 2026-01-01
    return written


def main(out: Path) -> None:
    """Write the samples (roster.csv, returns/, last-year/) under ``out``."""
    rng = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)
    write_roster(out / "roster.csv")
    # last year: clean returns for every agency, combined into last year's summary
    with tempfile.TemporaryDirectory() as td:
        prev_dir = Path(td) / "2024"
        prev_vals = make_returns(prev_dir, V2021, YEAR - 1, None, rng, {})
        last = out / "last-year"
        shutil.rmtree(last, ignore_errors=True)
        last.mkdir()
        combine([prev_dir], out=last / f"{YEAR - 1}年_{DISTRICT}_政府信息公开年报汇总.xlsx", year=YEAR - 1,
                roster=out / "roster.csv", force=True)
    carried = {
        name: {k.split(".", 2)[2]: int(v) for k, v in vals.items() if k.startswith("sec3.carry_forward.")}
        for name, vals in prev_vals.items()
    }
    stock = {
        name: {row: int(vals[f"sec2.art20_1.{row}.in_force"]) for row in ("regulations", "normative_docs")}
        for name, vals in prev_vals.items()
    }
    returns = out / "returns"
    shutil.rmtree(returns, ignore_errors=True)
    make_returns(returns, V2021, YEAR, carried, rng, MISTAKES, stock)
