"""Rendering a ``CheckRun`` for people (console text) and for programs (JSON).

The console shows one line per file, then the findings grouped by file, then the roster
comparison and a summary line. Long runs of the same warning (a template left entirely
blank gives one BLANK per cell) are collapsed unless ``full`` is set; the JSON and the
feedback copies always carry every finding.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from xltool.core.findings import REGISTRY, SEVERITY_ZH
from xltool.core.model import Finding, Severity
from xltool.pipeline.check import STATUS_ZH, CheckedFile, CheckRun
from xltool.workbook.fileio import atomic_path

COLLAPSE_AFTER = 5  # per code and file, when not ``full``


def display_path(path: str | Path) -> str:
    """Relative to the working directory when inside it (shorter lines for clerks)."""
    p = Path(path)
    try:
        return os.path.relpath(p) if not os.path.relpath(p).startswith("..") else str(p)
    except ValueError:  # other drive on Windows
        return str(p)


def _sev(f: Finding) -> Severity:
    return f.severity if isinstance(f.severity, Severity) else Severity(f.severity)


def file_line(f: CheckedFile) -> str:
    who = []
    if f.agency:
        who.append(f.agency)
    if f.year:
        who.append(f"{f.year} 年度")
    head = f"[{STATUS_ZH[f.status]}] {display_path(f.path)}"
    if who:
        head += f"（{'，'.join(who)}）"
    if f.status == "unreadable":
        return head + f"：{f.error or '无法读取'}"
    return head + f"：{f.errors} 个错误，{f.warnings} 个警告"


def finding_lines(f: CheckedFile, full: bool = False) -> list[str]:
    order = sorted(f.findings, key=lambda x: _sev(x) is not Severity.ERROR)  # errors first, stable
    shown: Counter[str] = Counter()
    total = Counter(x.code for x in order)
    out: list[str] = []
    for x in order:
        shown[x.code] += 1
        if not full and total[x.code] > COLLAPSE_AFTER + 1 and shown[x.code] > COLLAPSE_AFTER:
            if shown[x.code] == COLLAPSE_AFTER + 1:
                rest = total[x.code] - COLLAPSE_AFTER
                meaning = REGISTRY[x.code].meaning if x.code in REGISTRY else ""
                out.append(f"  …… 另有 {rest} 处 {x.code}（{meaning}），加 --verbose 显示全部")
            continue
        out.append(f"  {SEVERITY_ZH[_sev(x)]} {x.code}  {x.message}")
    return out


def render(run: CheckRun, *, full: bool = False) -> str:
    lines: list[str] = [file_line(f) for f in run.files]
    with_findings = [f for f in run.files if f.findings]
    if with_findings:
        lines.append("")
        lines.append("问题明细：")
        for f in with_findings:
            lines.append(f"== {display_path(f.path)}" + (f"（{f.agency}）" if f.agency else ""))
            lines.extend(finding_lines(f, full))
    if run.skipped:
        lines.append("")
        lines.append(f"已跳过 {len(run.skipped)} 个文件：是本工具以前生成的校验意见副本（未经修改），不是单位报送的文件，"
                     "不作校验、不计入汇总：")
        lines.extend(f"  {display_path(p)}" for p in run.skipped)
    if run.feedback_failed:
        lines.append("")
        lines.append(f"注意：有 {len(run.feedback_failed)} 个文件的校验意见表没能生成（其余照常生成），请把问题明细告知该单位：")
        lines.extend(f"  {display_path(p)}（{why}）" for p, why in run.feedback_failed)
    if run.not_read:
        lines.append("")
        lines.append(f"注意：有 {len(run.not_read)} 处没有读取：")
        lines.extend(f"  {display_path(p)}：{why}" for p, why in run.not_read)
    if run.roster is not None:
        lines.append("")
        lines.append(f"对照报送名单（{len(run.roster)} 个单位）：")
        if run.roster_missing:
            lines.append(f"  未报送（{len(run.roster_missing)}）：" + "、".join(run.roster_missing))
        if run.roster_unreadable:
            lines.append(f"  已报送但文件无法读取（{len(run.roster_unreadable)}）：" + "、".join(
                f"{name}（{'、'.join(display_path(f.path) for f in files)}）"
                for name, files in run.roster_unreadable.items()))
        if not run.roster_missing and not run.roster_unreadable:
            lines.append("  名单内单位均已报送。")
        if run.not_on_roster:
            lines.append(f"  名单外单位（{len(run.not_on_roster)}）：" + "、".join(
                f"{f.agency}（{display_path(f.path)}）" for f in run.not_on_roster))
        if run.no_agency:
            lines.append(f"  未能识别单位名称（{len(run.no_agency)}）：" + "、".join(
                display_path(f.path) for f in run.no_agency))
    if run.duplicates:
        lines.append("")
        lines.append("同一单位报送了多个文件：")
        for name, files in run.duplicates.items():
            lines.append(f"  {name}：" + "、".join(display_path(f.path) for f in files))
    if run.previous is not None and run.previous_unmatched:
        lines.append("")
        lines.append(f"上年数据中没有以下单位，未做跨年度核对（{len(run.previous_unmatched)}）："
                     + "、".join(f.agency or "" for f in run.previous_unmatched))
    fb = [f for f in run.files if f.feedback_path]
    no_fb = [f for f in run.files if f.status == "unreadable"]
    c = run.counts
    lines.append("")
    summary = (f"共检查 {len(run.files)} 个文件：通过 {c['ok']} 个，有错误 {c['invalid']} 个，"
               f"无法读取 {c['unreadable']} 个。")
    if run.exit_code == 0:
        summary += "全部通过（警告请核对）。"
    lines.append(summary)
    if run.feedback_dir is not None:
        where = display_path(run.feedback_dir)
        if fb:
            lines.append(f"已为 {len(fb)} 个有问题的文件生成校验意见表（*_校验意见.xlsx），在 {where}。"
                         + (f"无法读取的 {len(no_fb)} 个文件没有意见表。" if no_fb else ""))
        else:
            lines.append("没有需要生成校验意见表的文件。"
                         + (f"无法读取的 {len(no_fb)} 个文件没有意见表。" if no_fb else ""))
        if run.expired:
            lines.append(f"以前生成、本次不再需要的 {len(run.expired)} 份校验意见表（对应的文件已通过或已不在输入中）"
                         f"已移到 {display_path(Path(run.expired[0]).parent)}；{where} 中的意见表都是本次生成的。")
    return "\n".join(lines)


def write_json(run: CheckRun, path: str | Path) -> Path:
    """``{"files": [...]}`` (contract in CheckedFile.to_json), UTF-8, written atomically."""
    target = Path(path)
    data: dict[str, Any] = run.to_json()
    with atomic_path(target, overwrite=True) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return target
