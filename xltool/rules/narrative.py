"""Narrative rules: what 文字部分 says, checked against the tables (official-format.md §6.2 item 10).

Pure: the text and the numbers go in, warnings come out. Rule-based and conservative: a
number is compared only where a phrase says unambiguously which table cell it states
(全年共收到政府信息公开申请59件 → 表三 本年新收 · 总计); every match of every sentence is
checked, not only the first; a phrase that could mean two things is skipped, never guessed.

>>> from xltool.spec import V2021
>>> nums = {"sec3.new_received.total": 61, "sec3.carried_over.total": 2}
>>> five = "存在的主要问题：解读质量仍需提升。"
>>> [f.code for f in check_narrative(V2021, 2025, {"sec1": "2025年，全年共收到政府信息公开申请59件。", "sec5": five}, nums)]
['TEXT_RECEIVED']
>>> check_narrative(V2021, 2025, {"sec1": "本年度共收到申请63件（含上年结转2件）。", "sec5": five}, nums)
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from xltool.core.findings import make
from xltool.core.labels import norm_label
from xltool.core.model import CellValue, FieldValue, FileStatus, Finding
from xltool.core.numbers import show, tidy
from xltool.read.reader import ReadResult
from xltool.spec import TABLE_SHEETS, Format, Kind
from xltool.workbook.layout import layout_for

Numbers = Mapping[str, "int | float | None"]

_QUOTE_MAX = 90
_TOL = 1e-6

# --- text helpers --------------------------------------------------------------------------

_WIDE = str.maketrans("０１２３４５６７８９％．，", "0123456789%.,")
_SENTENCE = re.compile(r"[^。；;！!？?\n]+[。；;！!？?]?")
_FULL_SENTENCE = re.compile(r"[^。！!？?\n]+[。！!？?]?")
_CLAUSE = re.compile(r"[，,：:；;。]")
_NUM = r"(\d+(?:,\d{3})*)"
_UNIT = r"(?:件|起|宗|个|份)"


def _plain(text: str) -> str:
    """Digits and % half-width, thousands separators and spaces next to digits removed."""
    t = text.translate(_WIDE)
    t = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", t)
    return re.sub(r"(?<=\d)\s+|\s+(?=\d)", "", t)


def sentences(text: str, *, full: bool = False) -> Iterator[str]:
    """The sentences of a text (split at 。；！？ and line ends; ``full``: not at ；), stripped, non-empty."""
    for m in (_FULL_SENTENCE if full else _SENTENCE).finditer(text or ""):
        s = m.group(0).strip().strip("\u3000")
        if s:
            yield s


def _quote(sentence: str) -> str:
    s = sentence.strip()
    return s if len(s) <= _QUOTE_MAX else s[: _QUOTE_MAX - 1] + "…"


def _clauses(sentence: str) -> list[str]:
    return [c for c in _CLAUSE.split(_plain(sentence)) if c]


# --- findings --------------------------------------------------------------------------------


@dataclass
class _Ctx:
    fmt: Format
    numbers: Numbers
    locations: Mapping[str, tuple[str, str]]
    file: str | None
    out: list[Finding]

    def num(self, key: str) -> int | float | None:
        return self.numbers.get(key) if key in self.fmt.cells else None

    def cell_text(self, key: str) -> str:
        """表三“一、本年新收…·总计”（表三!J6）: the cell as a clerk finds it."""
        cd = self.fmt.cells[key]
        sheet, addr = self.where(key)
        short = TABLE_SHEETS[cd.table.section][1]
        label = cd.row.label if cd.column.label in cd.row.label else f"{cd.row.label}·{cd.column.label}"
        ours = sheet == layout_for(self.fmt).address[key][0]
        at = f"{short}!{addr}" if ours else f"{sheet}!{addr}"
        return f"{short}“{label}”（{at}）"

    def where(self, key: str) -> tuple[str, str]:
        return self.locations.get(key) or layout_for(self.fmt).address[key]

    def add_cell(self, code: str, key: str, section: str, sentence: str, stated: int | float,
                 table: int | float, variant: str | None = None, **fields: FieldValue) -> None:
        """The text of ``section`` states ``stated`` where the table's cell ``key`` holds ``table``."""
        cd = self.fmt.cells[key]
        sheet, addr = self.where(key)
        self.out.append(make(
            code, variant, head=_section_name(self.fmt, section), sentence=_quote(sentence), stated=show(stated),
            cell_text=self.cell_text(key), table_value=show(table), file=self.file, sheet=sheet, cell=addr,
            table=TABLE_SHEETS[cd.table.section][1], row=cd.row.label, column=cd.column.label, key=key,
            expected=tidy(table), actual=tidy(stated), **fields))

    def add_text(self, code: str, section: str | None, variant: str | None = None, /, **fields: FieldValue) -> None:
        """A finding at the text cell of ``section`` (none for the title or a document's headings)."""
        sheet = addr = None
        if section is not None:
            sheet, addr = layout_for(self.fmt).text_address.get(section, (None, None))
        self.out.append(make(code, variant, file=self.file, sheet=sheet, cell=addr, **fields))


def _section_name(fmt: Format, key: str) -> str:
    if key == "title":
        return "标题"
    if key == "preamble":
        return "开头部分"
    return next((s.heading for s in fmt.sections if s.key == key), key)


# --- cell keys, derived from the spec (never typed as labels) ---------------------------------


def _key(fmt: Format, section: str, row: str, col: str) -> str | None:
    for t in fmt.tables:
        if t.section == section:
            k = f"{t.key}.{row}.{col}"
            if k in fmt.cells:
                return k
    return None


def _sum(ctx: _Ctx, keys: Sequence[str | None]) -> int | float | None:
    vals = [ctx.num(k) for k in keys if k]
    if len(vals) != len(keys) or any(v is None for v in vals):
        return None
    return tidy(sum(v for v in vals if v is not None))


def _eq(a: int | float, b: int | float) -> bool:
    return abs(float(a) - float(b)) < _TOL


# --- 表三 and 表四 counts ------------------------------------------------------------------------

_NOT_APPLICATION = re.compile(r"复议|诉讼|起诉|投诉|举报|信访|建议|提案|热线|咨询|留言|来信")
_RECEIVED = re.compile(r"(?:收到|新收|受理|接收|接到)([^\d]{0,24}?)申请([^\d]{0,8}?)" + _NUM + _UNIT)
_CARRY_IN = re.compile(r"上一?年度?结转([^\d下]{0,14}?)" + _NUM + _UNIT)
_CARRY_OUT = re.compile(r"结转(?:至|到)?下一?年度?(?:继续)?(?:办理)?([^\d]{0,8}?)" + _NUM + _UNIT)
_CARRY_OUT_BEFORE = re.compile(_NUM + _UNIT + r"(?:申请)?(?:需|将)?(?:结转|转入)(?:至|到)?下一?年")
_PROCESSED = re.compile(r"(?:办结|答复|办理完毕|处理完毕)([^\d]{0,10}?)" + _NUM + _UNIT)
_REVIEW = re.compile(r"行政复议(?:申请|案件)?([^\d]{0,8}?)" + _NUM + _UNIT)
_SUIT = re.compile(r"行政诉讼(?:案件)?([^\d]{0,8}?)" + _NUM + _UNIT)
_NO_REVIEW = re.compile(r"(?:未|没有)(?:发生|收到|出现)(?:因?政府信息公开(?:工作)?(?:而|引起|引发)?的?)?(?:被申请)?行政复议")
_NO_SUIT = re.compile(r"(?:未|没有)(?:发生|收到|出现)(?:因?政府信息公开(?:工作)?(?:而|引起|引发)?的?)?(?:被提起)?行政诉讼")
_FILLER = re.compile(r"^(?:的|各类|政府信息公开|信息公开|公开|申请|共|共计|合计|总计|累计|总数|数量|数|为|达|达到|计|共有|了|:|\s)*$")
_AND_CARRY = re.compile(r"(?:及|和|加|与|、)上一?年度?结转(?:的)?")


_SUBSET = re.compile(r"其中|按时|逾期|超期|延期|延长|当场|当日|当天|平均")
_RECEIVED_BEFORE = re.compile(r"(?:收到|新收|受理|接收|接到)[^\d]{0,6}(?:及|和|加|与|、)$")


def _filler(gap: str) -> bool:
    """The words between a phrase and its number say nothing else (共/合计/政府信息公开 …)."""
    return bool(_FILLER.match(gap))


def _counts(ctx: _Ctx, section: str, sentence: str) -> None:
    fmt = ctx.fmt
    t3 = next((t for t in fmt.tables if t.section == "sec3"), None)
    t4 = next((t for t in fmt.tables if t.section == "sec4"), None)
    if t3 is None or t4 is None:
        return
    total3 = next(c.key for c in t3.columns if c.key == "total")
    k_new = _key(fmt, "sec3", "new_received", total3)
    k_in = _key(fmt, "sec3", "carried_over", total3)
    k_done = _key(fmt, "sec3", "total_processed", total3)
    k_out = _key(fmt, "sec3", "carry_forward", total3)
    k_rev = _key(fmt, "sec4", "review", "total")
    k_suits = [_key(fmt, "sec4", "suit_direct", "total"), _key(fmt, "sec4", "suit_after_review", "total")]
    for clause in _clauses(sentence):
        application = "申请" in clause and not _NOT_APPLICATION.search(clause)
        # a clause of a sentence about 建议/提案/投诉 … speaks of those unless it says 申请
        other_topic = bool(_NOT_APPLICATION.search(_plain(sentence))) and "申请" not in clause
        if application:
            for m in _RECEIVED.finditer(clause):
                gap = _AND_CARRY.sub("", m.group(1))
                if not (_filler(gap) and _filler(m.group(2))) or k_new is None:
                    continue
                n = int(m.group(3).replace(",", ""))
                with_carry = gap != m.group(1) or re.search(r"(?:含|包括|其中)上一?年度?结转", sentence)
                table = _sum(ctx, [k_new, k_in]) if with_carry else ctx.num(k_new)
                if table is not None and not _eq(n, table):
                    ctx.add_cell("TEXT_RECEIVED", k_new, section, sentence, n, table, "with_carry" if with_carry else None)
        if not _NOT_APPLICATION.search(clause) and not other_topic:
            for rx, key, code in (
                (_CARRY_IN, k_in, "TEXT_CARRIED_OVER"),
                (_PROCESSED, k_done, "TEXT_PROCESSED"),
                (_CARRY_OUT, k_out, "TEXT_CARRY_FORWARD"),
            ):
                for m in rx.finditer(clause):
                    if key is None or not _filler(m.group(1)):
                        continue
                    subset = _SUBSET.search(clause[: m.start()])
                    if subset and not (code == "TEXT_CARRIED_OVER" and subset.group(0) == "其中"):
                        continue
                    if code == "TEXT_CARRIED_OVER" and _RECEIVED_BEFORE.search(clause[: m.start()]):
                        continue  # 新收和上年结转申请共61件: a sum, judged as 收到
                    n = int(m.group(2).replace(",", ""))
                    table = ctx.num(key)
                    if table is not None and not _eq(n, table):
                        ctx.add_cell(code, key, section, sentence, n, table)
            for m in _CARRY_OUT_BEFORE.finditer(clause):
                n = int(m.group(1).replace(",", ""))
                table = ctx.num(k_out) if k_out else None
                if k_out and table is not None and not _eq(n, table):
                    ctx.add_cell("TEXT_CARRY_FORWARD", k_out, section, sentence, n, table)
        # 表四: a clause naming only one of the two (行政复议、行政诉讼共3件 is skipped)
        both = "复议" in clause and "诉讼" in clause
        if not both and k_rev:
            stated = [int(m.group(2).replace(",", "")) for m in _REVIEW.finditer(clause) if _filler(m.group(1))]
            if _NO_REVIEW.search(clause) and not re.search(r"纠错|纠正|败诉|撤销", clause):
                stated.append(0)
            table = ctx.num(k_rev)
            for n in stated:
                if table is not None and not _eq(n, table):
                    ctx.add_cell("TEXT_REVIEW", k_rev, section, sentence, n, table)
        if not both and all(k_suits) and "复议后" not in clause and "直接起诉" not in clause:
            stated = [int(m.group(2).replace(",", "")) for m in _SUIT.finditer(clause) if _filler(m.group(1))]
            if _NO_SUIT.search(clause) and not re.search(r"败诉|撤销", clause):
                stated.append(0)
            table = _sum(ctx, k_suits)
            for n in stated:
                if table is not None and not _eq(n, table):
                    assert k_suits[0] is not None
                    parts = "与".join(fmt.cells[k].row.label for k in k_suits if k)
                    ctx.add_cell("TEXT_SUIT", k_suits[0], section, sentence, n, table, parts=parts)


# --- 表二 counts (主动公开) -------------------------------------------------------------------------

# (regex on a clause, row key, V2021 column, V2019 column): only phrases that name the column
_PROACTIVE: tuple[tuple[re.Pattern[str], str, str | None, str | None], ...] = (
    (re.compile(r"(?:制发|印发|制定|出台)(?:行政)?规范性文件" + r"([^\d]{0,4}?)" + _NUM + "件"), "normative_docs", "issued", None),
    (re.compile(r"废止(?:行政)?规范性文件" + r"([^\d]{0,4}?)" + _NUM + "件"), "normative_docs", "repealed", None),
    (re.compile(r"现行有效(?:的)?(?:行政)?规范性文件" + r"([^\d]{0,4}?)" + _NUM + "件"), "normative_docs", "in_force", None),
    (re.compile(r"新制作(?:行政)?规范性文件" + r"([^\d]{0,4}?)" + _NUM + "件"), "normative_docs", None, "new_made"),
    (re.compile(r"新公开(?:行政)?规范性文件" + r"([^\d]{0,4}?)" + _NUM + "件"), "normative_docs", None, "new_published"),
    (re.compile(r"(?:制发|制定|出台)规章" + r"([^\d]{0,4}?)" + _NUM + "件"), "regulations", "issued", None),
    (re.compile(r"废止规章" + r"([^\d]{0,4}?)" + _NUM + "件"), "regulations", "repealed", None),
    (re.compile(r"现行有效(?:的)?规章" + r"([^\d]{0,4}?)" + _NUM + "件"), "regulations", "in_force", None),
    (re.compile(r"(?:作出|办理|办结)行政许可(?:决定)?" + r"([^\d]{0,4}?)" + _NUM + "件"), "licensing", "decisions", "decisions"),
    (re.compile(r"行政许可(?:处理)?决定" + r"([^\d]{0,4}?)" + _NUM + "件"), "licensing", "decisions", "decisions"),
    (re.compile(r"(?:作出|办理|办结)行政处罚(?:决定)?" + r"([^\d]{0,4}?)" + _NUM + "件"), "penalty", "decisions", "decisions"),
    (re.compile(r"行政处罚(?:处理)?决定" + r"([^\d]{0,4}?)" + _NUM + "件"), "penalty", "decisions", "decisions"),
    (re.compile(r"(?:作出|办理|采取|实施)行政强制(?:措施|决定)?" + r"([^\d]{0,4}?)" + _NUM + "件"), "coercion", "decisions", "decisions"),
    (re.compile(r"行政强制(?:处理)?决定" + r"([^\d]{0,4}?)" + _NUM + "件"), "coercion", "decisions", "decisions"),
)


def _proactive(ctx: _Ctx, section: str, sentence: str) -> None:
    fmt = ctx.fmt
    seen: set[tuple[str, int]] = set()
    for clause in _clauses(sentence):
        for rx, row, col21, col19 in _PROACTIVE:
            col = col21 if fmt.id == "2021" else col19
            if col is None:
                continue
            key = _key(fmt, "sec2", row, col)
            if key is None:
                continue
            for m in rx.finditer(clause):
                if not _filler(m.group(1)):
                    continue
                n = int(m.group(2).replace(",", ""))
                table = ctx.num(key)
                if (key, n) in seen or table is None or _eq(n, table):
                    continue
                seen.add((key, n))
                ctx.add_cell("TEXT_PROACTIVE", key, section, sentence, n, table)


# --- percentages -----------------------------------------------------------------------------------

_SHARE = re.compile(_NUM + r"件[^，,。；%\d]{0,3}[，,]?(?:占|占比|约占)[^\d，,。；]{0,8}?(\d+(?:\.\d+)?)%")
_PERCENT_SHARE = re.compile(r"(?:占|占比|约占)[^\d，,。；]{0,8}?(\d+(?:\.\d+)?)%")


def _percentages(ctx: _Ctx, section: str, sentence: str, bases: Sequence[int | float]) -> None:
    s = _plain(sentence)
    head = _section_name(ctx.fmt, section)
    shares = [float(x) for x in _PERCENT_SHARE.findall(s)]
    if len(shares) >= 2 and sum(shares) > 100.5:
        ctx.add_text("TEXT_PERCENT", section, "over_100", head=head, sentence=_quote(sentence),
                     total=show(tidy(sum(shares))), expected=100, actual=tidy(sum(shares)))
        return
    good = [b for b in bases if b]
    if not good:
        return
    for m in _SHARE.finditer(s):
        n, pct = int(m.group(1).replace(",", "")), float(m.group(2))
        tol = 1.0 if "." not in m.group(2) else 0.1
        if n > max(good) or any(abs(n / b * 100 - pct) <= tol for b in good):
            continue
        shown = "或".join(f"{show(tidy(round(n / b * 100, 1)))}%" for b in dict.fromkeys(good))
        ctx.add_text("TEXT_PERCENT", section, head=head, sentence=_quote(sentence), count=n, pct=show(tidy(pct)),
                     shares=shown, expected=shown, actual=tidy(pct))


# --- 五 empty, 六 fees -------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"^〔[^〔〕]*〕$")  # the rendered report's 〔请在此填写…〕, never filled in
_EMPTY = re.compile(r"^(?:无|暂无|没有|/|-|—|－|无。|暂无。|\s)*$")
_NO_FEE = re.compile(r"(?:未|没有|不|无)(?:收取|收费|产生)|(?:收费|费用)[^，。；]{0,4}(?:为)?(?:0|零|无)")


def _sec5(ctx: _Ctx, narrative: Mapping[str, str]) -> None:
    five = next((s for s in ctx.fmt.sections if s.key == "sec5"), None)
    if five is None:
        return
    text = (narrative.get("sec5") or "").strip()
    if _EMPTY.match(text) or _PLACEHOLDER.match(text):
        ctx.add_text("TEXT_SEC5_EMPTY", "sec5", "only" if text else None, head=five.heading, text=text,
                     expected=None, actual=text or None)


def _fee_key(fmt: Format) -> str | None:
    """The 表二 fee amount (行政事业性收费 · 金额), when the format has one."""
    for key, cd in fmt.cells.items():
        if cd.table.section == "sec2" and cd.row.key == "admin_fees" and cd.column.kind is Kind.AMOUNT:
            return key
    return None


def _sec6_fees(ctx: _Ctx, narrative: Mapping[str, str]) -> None:
    key = _fee_key(ctx.fmt)
    amount = ctx.num(key) if key else None
    if key is None or amount is None or amount <= 0:
        return
    for sentence in sentences(narrative.get("sec6") or ""):
        s = _plain(sentence)
        # 信息处理费 (国办函〔2020〕109号) is not the 表二 fee: a sentence about it alone is no claim
        if "信息处理费" in s or not _NO_FEE.search(s) or not re.search(r"费", s):
            continue
        ctx.add_cell("TEXT_FEES", key, "sec6", sentence, 0, amount)


# --- years -----------------------------------------------------------------------------------------

_YEAR = re.compile(r"(?<!\d)(20\d{2}|19\d{2})\s*年")
_PERIOD = re.compile(r"(?<!\d)(\d{4})年1月1日(?:起)?(?:至|到|—|-|－)(\d{4})年12月31日")
_LEAD_YEAR = re.compile(r"^(?:在|于)?(\d{4})年度?(?:[,，]|全年|内|我|本|共|全|上半年|下半年)")


def _years(ctx: _Ctx, year: int, title: str | None, texts: Mapping[str, str]) -> None:
    if title:
        found = {int(y) for y in _YEAR.findall(_plain(title))}
        if found and year not in found:
            ctx.add_text("TEXT_YEAR", None, "title", title=_quote(title), years="、".join(str(y) for y in sorted(found)),
                         year=year, expected=year, actual=min(found))
    for section, text in texts.items():
        head = _section_name(ctx.fmt, section)
        for sentence in sentences(text):
            s = _plain(sentence)
            bad: set[int] = set()
            for m in _PERIOD.finditer(s):
                bad |= {int(y) for y in m.groups() if int(y) != year}
            for clause in [c.strip() for c in re.split(r"[。；;]", s)]:
                lead = _LEAD_YEAR.match(clause)
                # the report year, or the next one (plans in 五), may lead a sentence
                if lead and int(lead.group(1)) not in (year, year + 1):
                    bad.add(int(lead.group(1)))
            if bad:
                sec = section if section in ("sec1", "sec5", "sec6") else None
                ctx.add_text("TEXT_YEAR", sec, None if sec else "heading", head=head, sentence=_quote(sentence),
                             years="、".join(str(y) for y in sorted(bad)), year=year, expected=year, actual=min(bad))


# --- section headings (imported documents) ----------------------------------------------------------

_TOP = re.compile(r"^\s*([一二三四五六七八九十]{1,2})\s*[、.．]\s*(.{2,40})$")
_NUMERALS = "一二三四五六七八九十"


def check_headings(fmt: Format, paragraphs: Sequence[str], *, file: str | None = None) -> list[Finding]:
    """Section headings of a document: each of the six present, numbered as the format numbers it.

    A top-level line (一、… to 十、…) is matched to the official heading it resembles most
    (after the numbering); one resembling none (a sub-head inside 一) is ignored.
    """
    ctx = _Ctx(fmt, {}, {}, file, [])
    heads = [(s, norm_label(s.heading)) for s in fmt.sections]
    cores = {s.key: re.sub(r"^[一二三四五六七八九十]{1,2}[、.]", "", h) for s, h in heads}
    found: dict[str, str] = {}
    for p in paragraphs:
        m = _TOP.match(p.strip().strip("\u3000"))
        if not m:
            continue
        core = re.sub(r"[。.]$", "", norm_label(m.group(2)))
        best = max(fmt.sections, key=lambda s: SequenceMatcher(None, cores[s.key], core).ratio())
        ratio = SequenceMatcher(None, cores[best.key], core).ratio()
        if ratio < 0.6 or best.key in found:
            continue
        found[best.key] = m.group(1)
        want = best.heading[: best.heading.index("、")]
        if m.group(1) != want:
            ctx.add_text("TEXT_SECTION_NUMBER", best.key if best.narrative else None, line=p.strip(),
                         number=m.group(1), heading=best.heading, expected=want, actual=m.group(1))
    if found:  # a text with no recognisable heading at all is not a report with headings
        for s in fmt.sections:
            if s.key not in found:
                ctx.add_text("TEXT_SECTION_MISSING", s.key if s.narrative else None, heading=s.heading,
                             expected=s.heading, actual=None)
    return ctx.out


# --- entry points ----------------------------------------------------------------------------------


def check_narrative(
    fmt: Format,
    year: int | None,
    narrative: Mapping[str, str],
    numbers: Numbers,
    *,
    title: str | None = None,
    preamble: str = "",
    locations: Mapping[str, tuple[str, str]] | None = None,
    file: str | None = None,
) -> list[Finding]:
    """Every narrative rule on one report's 一/五/六 text (and title/preamble when known).

    ``numbers`` are the table numbers by spec key (None or absent when not a number); a
    rule whose cell has no number says nothing. An empty narrative (a self-made workbook
    without 文字部分) gets no findings.
    """
    ctx = _Ctx(fmt, numbers, locations or {}, file, [])
    if not any((t or "").strip() for t in narrative.values()) and not title and not preamble:
        return []
    k_new = _key(fmt, "sec3", "new_received", "total")
    k_in = _key(fmt, "sec3", "carried_over", "total")
    k_done = _key(fmt, "sec3", "total_processed", "total")
    bases = [b for b in (ctx.num(k_new) if k_new else None, _sum(ctx, [k_new, k_in]),
                         ctx.num(k_done) if k_done else None) if b is not None]
    for section in ("sec1",):
        for sentence in sentences(narrative.get(section) or ""):
            _counts(ctx, section, sentence)
            _proactive(ctx, section, sentence)
        for sentence in sentences(narrative.get(section) or "", full=True):
            _percentages(ctx, section, sentence, bases)
    if any((narrative.get(k) or "").strip() for k in ("sec1", "sec6")):
        _sec5(ctx, narrative)
    _sec6_fees(ctx, narrative)
    if year is not None:
        texts = {"preamble": preamble, **{k: v for k, v in narrative.items() if v}}
        _years(ctx, year, title, texts)
    return ctx.out


def report_numbers(fmt: Format, values: Mapping[str, CellValue]) -> dict[str, int | float | None]:
    """Numbers by key from cell values (``CellValue``); a missing total is the sum of its parts
    when every part is a number (as the published table implies), else absent."""
    out: dict[str, int | float | None] = {}
    for k, v in values.items():
        if v.state == "number":
            out[k] = v.number
    pending = [k for k in fmt.formulas if out.get(k) is None]
    for _ in range(3):
        for k in list(pending):
            parts = fmt.formulas[k].parts
            if all(out.get(p) is not None for p in parts):
                out[k] = tidy(sum(float(out[p] or 0) for p in parts))
                pending.remove(k)
    return out


def check_result(result: ReadResult, numbers: Numbers | None = None) -> list[Finding]:
    """The narrative rules on a reader ``ReadResult`` (its report's 文字部分); [] when unreadable."""
    report = result.report
    if result.status is not FileStatus.OK or report is None or report.meta.format is None or not report.narrative:
        return []
    fmt = report.fmt
    nums = dict(numbers) if numbers else report_numbers(fmt, report.values)
    return check_narrative(fmt, report.meta.year, report.narrative, nums,
                           locations=result.locations, file=result.path or None)
