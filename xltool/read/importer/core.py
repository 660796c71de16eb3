"""Import a published annual report (text, HTML, DOCX) into our model and our workbook.

Last year's figures often exist only as a web page: importing them gives a filled
template workbook that ``check --previous`` and ``combine --previous`` read like any
returned workbook. The importer never guesses: a number is taken only where a label says
where it goes; blank and "/" stay blank and "/"; a published total that is not the sum of
its parts is kept as published (the workbook then shows it in place of the formula, and
``check`` reports it); whatever could not be placed is listed. How the agency, the year
and the format were found is stated in the result.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from xltool.core.findings import render
from xltool.core.labels import norm_label
from xltool.core.model import BLANK, CellValue
from xltool.core.numbers import show
from xltool.read.importer.document import Document, DocumentError, Para, Row, load
from xltool.read.importer.tables import Detection, Issue, Mapped, TableMatch, detect, map_table, short
from xltool.spec import CURRENT, FORMATS, Format, SpecError, Table
from xltool.spec.crosswalk import crosswalk

SOURCE_KIND_ZH = {"text": "文本", "html": "网页", "docx": "Word 文档", "pdf": "PDF"}


@dataclass
class Found:
    """A fact about the report and how it was found (said to the clerk)."""

    value: Any
    how: str


@dataclass
class ImportResult:
    path: str
    kind: str  # text / html / docx
    title: str | None = None
    agency: Found = field(default_factory=lambda: Found(None, "未找到"))
    year: Found = field(default_factory=lambda: Found(None, "未找到"))
    format: Found = field(default_factory=lambda: Found(None, "未找到"))
    values: dict[str, CellValue] = field(default_factory=dict)  # every located cell (totals too)
    where: dict[str, str] = field(default_factory=dict)  # key → place in the source
    narrative: dict[str, str] = field(default_factory=dict)  # sec1 / sec5 / sec6
    preamble: str = ""
    phone: str | None = None
    extras: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    error: str | None = None  # set when nothing could be imported
    paragraphs: list[str] = field(default_factory=list)  # the text outside tables (section headings for rules)

    @property
    def fmt(self) -> Format | None:
        return FORMATS.get(self.format.value) if self.format.value else None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def missing_keys(self) -> list[str]:
        f = self.fmt
        return [k for k in f.cells if k not in self.values] if f else []


# --- section headings (official-format.md §1, variants §7 item 10) -------------------------

_NUMBERED = re.compile(r"^([一二三四五六七八九十]{1,2})[、.]")
_MAX_HEADING = 45


def _heading_score(text: str, heading: str) -> tuple[bool, float]:
    """(numbered like the official heading, similarity of the text after the numbering)."""
    t = norm_label(text)
    h = norm_label(heading)
    hm, tm = _NUMBERED.match(h), _NUMBERED.match(t)
    h_core = h[hm.end():] if hm else h
    numbered = bool(hm and tm and tm.group(1) == hm.group(1))
    t_core = t[tm.end():] if tm else t
    return numbered, SequenceMatcher(None, h_core, t_core).ratio()


def _is_heading(text: str, heading: str) -> bool:
    if len(norm_label(text)) > _MAX_HEADING:
        return False
    numbered, ratio = _heading_score(text, heading)
    return ratio >= 0.55 if numbered else ratio >= 0.7 and not _NUMBERED.match(norm_label(text))


_CHROME = re.compile(r"打印本页|关闭窗口|扫一扫|版权所有|ICP备|网站标识码|分享到|【打印】|字号[:：]|浏览次数|上一篇|下一篇")


def find_sections(doc: Document, fmt: Format) -> tuple[dict[str, int], list[Issue]]:
    """Block index of each section heading that was found (see ``narratives`` for the rule)."""
    blocks = doc.blocks
    first_row = next((i for i, b in enumerate(blocks) if isinstance(b, Row)), len(blocks))
    last_row = max((i for i, b in enumerate(blocks) if isinstance(b, Row)), default=-1)
    paras = [(i, b) for i, b in enumerate(blocks) if isinstance(b, Para)]
    sec = {s.key: s for s in fmt.sections}
    out: dict[str, int] = {}
    # 一: the first matching paragraph; 二: the last before the first table row (so a
    # sub-head such as 二、主动公开 inside 一 does not end it early)
    one = next((i for i, p in paras if _is_heading(p.text, sec["sec1"].heading)), None)
    if one is not None:
        out["sec1"] = one
    start = (one or -1) + 1
    two = [i for i, p in paras if start <= i < first_row and _is_heading(p.text, sec["sec2"].heading)]
    if two:
        out["sec2"] = two[-1]
    for key in ("sec3", "sec4"):
        hit = next((i for i, p in paras if start <= i <= max(last_row, start) and _is_heading(p.text, sec[key].heading)), None)
        if hit is not None:
            out[key] = hit
    after = max(last_row, start)
    five = next((i for i, p in paras if i > after and _is_heading(p.text, sec["sec5"].heading)), None)
    if five is not None:
        out["sec5"] = five
    six = next((i for i, p in paras if i > (five if five is not None else after) and _is_heading(p.text, sec["sec6"].heading)), None)
    if six is not None:
        out["sec6"] = six
    issues = [
        Issue("SECTION_NOT_FOUND", f"找不到“{s.heading}”这一部分的标题，该部分文字未导入。", "warning")
        for s in fmt.sections if s.narrative and s.key not in out
    ]
    return out, issues


def narratives(doc: Document, heads: dict[str, int], fmt: Format) -> tuple[dict[str, str], str]:
    """Text of 一、五、六 (paragraphs after the heading up to the next heading or table) and the preamble."""
    blocks = doc.blocks
    stops = sorted(heads.values())
    out: dict[str, str] = {}
    for s in fmt.sections:
        if not s.narrative or s.key not in heads:
            continue
        i0 = heads[s.key]
        nxt = next((j for j in stops if j > i0), len(blocks))
        lines: list[str] = []
        for b in blocks[i0 + 1 : nxt]:
            if isinstance(b, Row):
                break
            if _CHROME.search(b.text):
                break
            lines.append(b.text)
        if lines:
            out[s.key] = "\n".join(lines)
    first = min(stops) if stops else len(blocks)
    pre = [b.text for b in blocks[:first] if isinstance(b, Para)]
    return out, "\n".join(pre[1:] if pre else [])


# --- title, agency, year -----------------------------------------------------------------

_TITLE_HINT = re.compile(r"政府信息公开.{0,8}报告")
_YEAR = re.compile(r"(\d{4})年度?")
_PERIOD = re.compile(r"(\d{4})年1月1日")
_CONTACT = re.compile(r"(?:请|可|敬请|欢迎)(?:与|向)([^\s，。；,;：:（()“”]{2,40}?)(?:联系|咨询)")
_PHONE = re.compile(r"(?:联系)?电话[:：]\s*([0-9０-９\-—－－（）()\s]{7,24})")
_ORG_END = re.compile(
    r"(委员会|办公室|办事处|人民政府|政府|中心|管委会|委|局|办|厅|部|院|所|站|队|馆|社|会|处|署|街道|镇|乡|公司|集团|室|科|庭|台|团|区|县|市)$"
)
_ORG_SUFFIX = re.compile(r"^(委员会|办公室|办事处|管委会|局|委|办|厅|部|院|中心|所|站|队|馆|社|会|处|署)")


def _title(doc: Document) -> tuple[str | None, int | None]:
    paras = doc.paras[:8]
    for i, p in enumerate(paras):
        if _TITLE_HINT.search(p.text) and len(norm_label(p.text)) <= 60:
            return p.text, i
    if doc.page_title and _TITLE_HINT.search(doc.page_title):
        return doc.page_title, None
    return None, None


def _title_parts(title: str) -> tuple[str | None, int | None]:
    """(agency, year) as the title writes them: 'X2020年度政府信息公开…' or '2020年X政府信息公开…'."""
    t = norm_label(title)
    m = _YEAR.search(t)
    year = int(m.group(1)) if m else None
    end = t.find("政府信息公开")
    if m:
        before, after = t[: m.start()], t[m.end() : end if end > m.end() else len(t)]
    else:
        before, after = (t[:end] if end > 0 else ""), ""
    agency = (before or after).removeprefix("关于").removesuffix("关于").removesuffix("的") or None
    return agency, year


def _common(a: str, b: str) -> str:
    m = SequenceMatcher(None, a, b).find_longest_match(0, len(a), 0, len(b))
    return a[m.a : m.a + m.size]


def find_agency(doc: Document, title: str | None, title_index: int | None) -> tuple[Found, list[Issue]]:
    """单位名称 from the title and the contact sentence (请与…联系); says which and why."""
    issues: list[Issue] = []
    t_agency = _title_parts(title)[0] if title else None
    if t_agency is None and title_index:
        prev = doc.paras[title_index - 1].text  # title split over two lines: 单位名称 / 2020年度…报告
        if len(norm_label(prev)) <= 30 and _ORG_END.search(norm_label(prev)):
            t_agency = norm_label(prev)
    contact = None
    for p in doc.paras:
        m = _CONTACT.search(norm_label(p.text))
        if m and not m.group(1).startswith(("我", "本", "该")):
            contact = m.group(1)
            break
    if t_agency and _ORG_END.search(t_agency):
        how = f"取自标题“{title}”"
        if contact and len(_common(t_agency, norm_label(contact))) < 4:
            how += f"（联系方式一句写的是“{contact}”）"
        return Found(t_agency, how), issues
    if t_agency and contact:
        k = _common(t_agency, contact)
        if len(k) >= 4 and (t_agency.endswith(k) or k == contact):
            end = contact.index(k) + len(k)
            name = contact[:end]
            if not _ORG_END.search(name):
                m = _ORG_SUFFIX.match(contact[end:])
                if m:
                    name += m.group(1)
            return Found(name, f"取自联系方式“请与{contact}联系”；标题中的“{t_agency}”不完整，与之相符"), issues
        issues.append(Issue("AGENCY_UNSURE", f"标题中的单位名称“{t_agency}”似乎不完整，联系方式中的“{contact}”与之不符；"
                                             "已按标题导入，请核对，必要时用 --agency 指定。", "warning"))
        return Found(t_agency, f"取自标题“{title}”（可能不完整）"), issues
    if t_agency:
        issues.append(Issue("AGENCY_UNSURE", f"标题中的单位名称“{t_agency}”似乎不完整，请核对，必要时用 --agency 指定。", "warning"))
        return Found(t_agency, f"取自标题“{title}”（可能不完整）"), issues
    if contact:
        return Found(contact, f"取自联系方式“请与{contact}联系”（标题中没有单位名称）"), issues
    return Found(None, "未找到（标题和联系方式中都没有单位名称）"), issues


def find_year(doc: Document, title: str | None) -> tuple[Found, list[Issue]]:
    """报告年度 from the title, checked against the statistics period (1月1日 to 12月31日)."""
    issues: list[Issue] = []
    ty = _title_parts(title)[1] if title else None
    py = None
    for p in doc.paras[:12]:
        m = _PERIOD.search(norm_label(p.text))
        if m and ("统计" in p.text or "时限" in p.text or "期限" in p.text or "12月31日" in p.text):
            py = int(m.group(1))
            break
    if ty and py and ty == py:
        return Found(ty, f"取自标题，与统计时限（{py}年1月1日至12月31日）一致"), issues
    if ty and py:
        issues.append(Issue("YEAR_CONFLICT", f"标题中的年度 {ty} 与统计时限中的 {py} 年不一致，已按标题导入为 {ty} 年度，请核对。",
                            "warning"))
        return Found(ty, f"取自标题（统计时限写的是 {py} 年）"), issues
    if ty:
        return Found(ty, "取自标题"), issues
    if py:
        return Found(py, f"取自统计时限（{py}年1月1日起）"), issues
    return Found(None, "未找到（标题和统计时限中都没有年度）"), issues


def _phone(doc: Document) -> str | None:
    for p in doc.paras[:15]:
        m = _PHONE.search(unicodedata.normalize("NFKC", p.text))
        if m:
            phone = re.sub(r"\s+", "", m.group(1)).strip("，,;；")
            while phone.endswith(")") and phone.count("(") < phone.count(")"):
                phone = phone[:-1]  # the closing bracket of "（电话：…）"
            return phone
    return None


# --- the whole report ---------------------------------------------------------------------


def _table_issues(res: ImportResult, m: TableMatch, t: Table) -> None:
    """A found table's own issues, its extra rows and the rows it lacks (``t`` as its layout declares it)."""
    res.issues += m.issues
    for label, vals in m.extras.items():
        res.extras[label] = vals
        res.issues.append(Issue("EXTRA_ROW", f"{short(t.section)}中有官方格式以外的行“{label.split('·', 1)[-1]}”（{vals}），"
                                              "未导入，请核对。", "warning", short(t.section)))
    told = {i.key for i in m.issues if i.code == "ROW_CELLS"}
    missing_rows = [r.label for r in t.rows if f"{t.key}.{r.key}" not in told
                    and not any(t.cell_key(r.key, c.key) in m.values for c in t.columns)]
    if missing_rows and m.values:
        shown = "”“".join(missing_rows[:4]) + ("”等" if len(missing_rows) > 4 else "”")
        where = f"“{t.caption}”" if t.section == "sec2" else ""
        res.issues.append(Issue("ROW_NOT_FOUND", f"{short(t.section)}{where}中找不到“{shown}，这些数字未导入。", "error",
                                short(t.section)))


def _fmt_of(det: Detection, m: TableMatch) -> str:
    return next(fid for fid, fm in det.matches.items() if fm.tables.get(m.table.key) is m)


def _mixed_how(mapped: dict[str, Mapped], fmt: Format) -> str:
    """What was read in the other layout, for the format's ``how`` (sub-tables named when not all)."""
    if not mapped:
        return ""
    by: dict[str, list[Mapped]] = {}
    for mp in mapped.values():
        by.setdefault(mp.src_fmt.id, []).append(mp)
    parts = []
    for fid, mps in sorted(by.items()):
        names = []
        for sec in dict.fromkeys(mp.src.table.section for mp in mps):
            tables = [mp.src.table for mp in mps if mp.src.table.section == sec]
            every = {t.key for t in fmt.tables if t.section == sec} <= {t.key for t in tables}
            names.append(short(sec) + ("" if every else "".join(f"“{t.caption}”" for t in tables)))
        parts.append(f"{'、'.join(names)}按其所用的 {fid} 版格式读取")
    return f"（{'；'.join(parts)}，只导入与 {fmt.id} 版含义完全相同的数字）"


def _labels(keys: list[str], fmt: Format, limit: int = 8) -> str:
    """Cells named by row: 'Row' when every column of it is meant, else 'Row（col、col）'."""
    rows: dict[tuple[str, str], list[str]] = {}
    for k in keys:
        cd = fmt.cells.get(k)
        if cd is not None:
            rows.setdefault((cd.table.key, cd.row.label), []).append(cd.column.label)
    parts = []
    for (tkey, label), cols in rows.items():
        every = len(cols) == len(fmt.table(tkey).columns)
        parts.append(f"“{label}”" if every else f"“{label}”（{'、'.join(cols)}）")
    return "、".join(parts[:limit]) + (f" 等 {len(parts)} 行" if len(parts) > limit else "")


def _mixed_issues(mapped: dict[str, Mapped], fmt: Format, absent: list[Table]) -> list[Issue]:
    """One LAYOUT_MIXED warning per section with a table in the other layout: which table uses which
    format, what was carried over exactly, and what was left unfilled or had no place."""
    out: list[Issue] = []
    by_section: dict[tuple[str, str], list[Mapped]] = {}
    for mp in mapped.values():
        by_section.setdefault((mp.src.table.section, mp.src_fmt.id), []).append(mp)
    for (sec, src_id), mps in by_section.items():
        src = mps[0].src_fmt
        captions = "".join(f"“{mp.src.table.caption}”" for mp in mps) if sec == "sec2" else ""
        filled = [k for mp in mps for k in mp.values if k not in mp.zero_split]
        zero = [k for mp in mps for k in mp.zero_split]
        unsplit = [k for mp in mps for k in mp.unsplit]
        cw = crosswalk(src, fmt)
        parts = {d for k in unsplit for d in cw.splits[k]}
        unfilled = [k for mp in mps for k in mp.unfilled if k not in parts]
        unfilled += [t.cell_key(r.key, c.key) for t in absent if t.section == sec for r in t.rows for c in t.columns]
        dropped = [k for mp in mps for k in mp.dropped]
        text = f"，与 {fmt.id} 版含义完全相同的 {len(filled)} 个数已导入" if filled else f"，其中没有与 {fmt.id} 版含义相同的数字"
        if zero:
            text += f"；{len(zero)} 个单元格（{_labels(zero, fmt)}）在 {src_id} 版中的合计为 0，按 0 导入"
        if unsplit:
            text += (f"；{src_id} 版的 {_labels(unsplit, src)}是 {fmt.id} 版几个单元格之和，不为 0，无法拆分，"
                     f"对应的 {len(parts)} 个单元格留空未填：{_labels(sorted(parts, key=list(fmt.cells).index), fmt)}")
        if unfilled:
            text += f"；{fmt.id} 版的 {len(unfilled)} 个单元格在 {src_id} 版中没有对应项，留空未填：{_labels(unfilled, fmt)}"
        if dropped:
            text += f"；{src_id} 版中的 {len(dropped)} 个数在 {fmt.id} 版中没有对应项，未导入：{_labels(dropped, src)}"
        text = render("LAYOUT_MIXED", table=short(sec), captions=captions, source=src_id, document=src.document,
                      target=fmt.id, details=text)
        first = mps[0]
        out.append(Issue("LAYOUT_MIXED", text, "warning", short(sec), first.src.table.key,
                         next(iter(first.src.where.values()), None)))
    return out


_RUN_TOGETHER = "从 PDF 复制的文字中，相邻的数字之间没有空格时会连在一起（如“1020”），无法确定如何拆分，不作猜测"


def _copied_issues(doc: Document, res: ImportResult) -> list[Issue]:
    """Text copied out of a PDF: a row with too few numbers gets the likely reason, and every line
    of numbers that went nowhere is listed (COPIED_TEXT_UNPLACED)."""
    out: list[Issue] = []
    for i in res.issues:
        m = _COUNTS.search(i.message) if i.code == "ROW_CELLS" else None
        if m and int(m.group(1)) < int(m.group(2)):
            i = Issue(i.code, i.message.rstrip("。") + f"（{_RUN_TOGETHER}）。", i.severity, i.table, i.key, i.where)
        out.append(i)
    blocks = doc.blocks
    for k, b in enumerate(blocks):
        if isinstance(b, Para) and 0 < k < len(blocks) - 1:
            before, after = blocks[k - 1], blocks[k + 1]
            if isinstance(before, Row) and isinstance(after, Row) and before.table == after.table:
                out.append(Issue("COPIED_TEXT_UNPLACED", render("COPIED_TEXT_UNPLACED", "stray_text", where=b.where,
                                                                 text=b.text), "warning", None, None, b.where))
    used = set(res.where.values()) | {i.where for i in res.issues if i.where}
    extras = "|".join(res.extras)
    for r in doc.rows:
        nums = [c for c in r.cells if _NUMERIC.match(c)]
        label = "".join(c for c in r.cells if not _NUMERIC.match(c))
        if not nums or r.where in used or (label and label in extras):
            continue
        what = f"“{label}”一行" if label else "一行数字"
        out.append(Issue("COPIED_TEXT_UNPLACED", render("COPIED_TEXT_UNPLACED", where=r.where, what=what,
                                                         numbers=" ".join(nums)), "warning", None, None, r.where))
    return out


_COUNTS = re.compile(r"有 (\d+) 个数值单元格.*?(?:应为|表头有) (\d+) ")
_NUMERIC = re.compile(r"^[-+−]?[\d.,]+(?:万元|元)?$|^[/／\-－—–]{1,2}$")


def import_document(
    doc: Document,
    path: str = "",
    *,
    agency: str | None = None,
    year: int | None = None,
    format_id: str | None = None,
) -> ImportResult:
    """Everything found in one parsed report; overrides win and are said to be overrides."""
    res = ImportResult(path, doc.kind)
    title, ti = _title(doc)
    res.title = title
    res.paragraphs = [p.text for p in doc.paras]
    if agency:
        res.agency = Found(agency.strip(), "按 --agency 指定")
    else:
        res.agency, iss = find_agency(doc, title, ti)
        res.issues += iss
    if year is not None:
        res.year = Found(year, "按 --year 指定")
    else:
        res.year, iss = find_year(doc, title)
        res.issues += iss
    det: Detection = detect(doc.rows, format_id, res.year.value)
    if det.match is None:
        tables = "、".join(f"{short(s.key)}“{s.heading}”" for s in CURRENT.sections if not s.narrative)
        res.error = f"没有找到年报表格（{tables}）。"
        res.format = Found(None, det.how)
        return res
    fmt = det.match.fmt
    mapped = {m.table.key: map_table(m, det.matches[_fmt_of(det, m)].fmt, fmt) for m in det.odd()}
    res.format = Found(fmt.id, det.how + _mixed_how(mapped, fmt))
    if det.conflict and not mapped:
        res.issues.append(Issue("FORMAT_CONFLICT", f"各表格使用的格式不一致：{det.how}，请核对。", "warning"))
    # sections read wholly in the other layout: a table that layout does not have is not "missing"
    mixed_sections = {mp.src.table.section for mp in mapped.values()} - {
        t.section for t in fmt.tables if t.key not in mapped and (m := det.match.tables.get(t.key)) and m.values}
    absent: list[Table] = []
    for t in fmt.tables:
        mp = mapped.get(t.key)
        if mp is not None:
            res.values.update(mp.values)
            res.where.update(mp.where)
            _table_issues(res, mp.src, mp.src.table)
            continue
        m = det.match.tables.get(t.key)
        if m is None or not m.values:
            if t.section in mixed_sections and all(x.key != t.key for mp in mapped.values()
                                                   for x in mp.src_fmt.tables):
                absent.append(t)  # a table the other layout does not have: said in LAYOUT_MIXED
                continue
            if m is not None:
                res.issues += m.issues
            what = f"“{t.caption}”" if t.section == "sec2" else ""
            res.issues.append(Issue("TABLE_NOT_FOUND", f"找不到{short(t.section)}{what}，该表数字未导入。", "error", short(t.section)))
            continue
        res.values.update(m.values)
        res.where.update(m.where)
        _table_issues(res, m, t)
    for mp in mapped.values():
        if mp.dst is None:  # a table only the other format has (V2019 第二十条第（九）项)
            _table_issues(res, mp.src, mp.src.table)
    res.issues += _mixed_issues(mapped, fmt, absent)
    if doc.copied:
        res.issues = _copied_issues(doc, res)
    heads, iss = find_sections(doc, fmt)
    res.issues += iss
    res.narrative, res.preamble = narratives(doc, heads, fmt)
    res.phone = _phone(doc)
    y = res.year.value
    if y is not None and fmt.years[1] is not None and y > fmt.years[1]:
        res.issues.append(Issue("OLD_FORMAT", f"{y} 年度的报告使用的是 {fmt.id} 版格式（{fmt.document}），已按其原样导入。", "warning"))
    return res


def import_file(path: str | Path, *, agency: str | None = None, year: int | None = None,
                format_id: str | None = None) -> ImportResult:
    """Read and import one published report; never raises for a bad file (see ``error``)."""
    try:
        doc = load(path)
    except DocumentError as e:
        return ImportResult(str(path), "unknown", error=str(e))
    return import_document(doc, str(path), agency=agency, year=year, format_id=format_id)


# --- into our workbook -------------------------------------------------------------------


def split_totals(res: ImportResult) -> tuple[dict[str, CellValue], dict[str, object], dict[str, str]]:
    """(input values, formula overrides, notes per key) for ``write_workbook``.

    A total stays a formula when the report states exactly the sum of its parts (as the
    spreadsheet computes it: blank and text count 0); otherwise the published content is
    kept in its place (number, "/" or blank) and a note says why.
    """
    fmt = res.fmt
    assert fmt is not None
    inputs = {k: v for k, v in res.values.items() if k not in fmt.formulas}
    overrides: dict[str, object] = {}
    notes: dict[str, str] = {}
    eff: dict[str, float] = {k: float(v.number) if v.state == "number" and v.number is not None else 0.0
                             for k, v in inputs.items()}
    pending = dict(fmt.formulas)
    while pending:
        for key, rel in list(pending.items()):
            if any(p in pending for p in rel.parts):
                continue
            del pending[key]
            calc = sum(eff.get(p, 0.0) for p in rel.parts)
            v = res.values.get(key, BLANK)
            if v.state == "number" and v.number is not None and abs(float(v.number) - calc) < 1e-9:
                eff[key] = calc
                continue
            cd = fmt.cells[key]
            parts_known = all(p in res.values for p in rel.parts)
            if v.state == "number" and v.number is not None:
                overrides[key] = v.number
                eff[key] = float(v.number)
                notes[key] = (f"原报告中“{cd.row.label}·{cd.column.label}”为 {v.raw or v.number}，与各分项之和 {show(calc)} 不符；"
                              "按原报告保留，未改为公式。")
            elif key not in res.values and not parts_known:
                overrides[key] = None  # neither the total nor all its parts were published
                eff[key] = 0.0
            else:
                overrides[key] = None if v.state == "blank" else (v.raw or "")
                eff[key] = 0.0
                shown = "空白" if v.state == "blank" else f"“{v.raw}”"
                notes[key] = f"原报告中“{cd.row.label}·{cd.column.label}”为{shown}，按原报告保留（各分项之和为 {show(calc)}）。"
    return inputs, overrides, notes


def to_json(res: ImportResult, output: str | None = None) -> dict[str, Any]:
    fmt = res.fmt
    cells = fmt.cells if fmt else {}
    return {
        "file": res.path,
        "kind": res.kind,
        "ok": res.ok,
        "error": res.error,
        "title": res.title,
        "agency": res.agency.value, "agency_how": res.agency.how,
        "year": res.year.value, "year_how": res.year.how,
        "format": res.format.value, "format_how": res.format.how,
        "values": {
            k: {"state": v.state, "number": v.number, "raw": v.raw, "where": res.where.get(k),
                "label": f"{short(cells[k].table.section)}·{cells[k].short_label}" if k in cells else None}
            for k, v in res.values.items()
        },
        "missing": res.missing_keys(),
        "narrative": res.narrative,
        "preamble": res.preamble,
        "extras": res.extras,
        "issues": [{"code": i.code, "severity": i.severity, "message": i.message, "table": i.table, "where": i.where}
                   for i in res.issues],
        "output": output,
    }


__all__ = [
    "Found",
    "ImportResult",
    "SpecError",
    "import_document",
    "import_file",
    "split_totals",
    "to_json",
]
