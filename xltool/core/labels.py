"""Label normalisation and matching, tolerant of how agencies really write the tables.

Official labels are compared after the variations of official-format.md §7 are removed:
whitespace and line breaks anywhere, full/half width (NFKC), list numbering ``1.``/``1、``/
``1．``, straight/curly/no quotes, annotations appended in brackets, 合计 for 总计.
The import feature reuses these helpers for HTML and text reports, so nothing here knows
about workbooks.

>>> norm_label(" 本年新\\n制作数量 ")
'本年新制作数量'
>>> norm_label("3.危及“三安全一稳定”") == norm_label("3、危及\\"三安全一稳定\\"") == norm_label("3．危及三安全一稳定")
True
>>> norm_label("1.申请人无正当理由逾期不补正，行政机关不再处理") == norm_label("1、申请人无正当理由逾期不补正、行政机关不再处理")
True
>>> label_key("（二）部分公开（区分处理的，只计这一情形，不计其他情形）")
'部分公开'
>>> label_key("规章（设区的市、自治州人民政府应提供相关数据）")
'规章'
>>> match_score("第二十条 第（一）项", "第二十条第（一）项")
4
>>> match_score("合计", "（七）总计")
2
>>> match_score("法人或其他组织", "其他")
0
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from xltool.spec import CAPTION_PREFIX, INFO_CONTENT, LABEL_ALIASES, SECTIONS

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』〝〞")
# after NFKC: "1、" / "1．" / "1 ." all become "1."
_NUM_SEP = re.compile(r"(?<![\d.])(\d{1,2})[、.](?=\D)")
_ENUM = re.compile(r"^(?:[一二三四五六七八九十]{1,3}[、.]|\((?:[一二三四五六七八九十]{1,3}|\d{1,2})\)|\d{1,2}\.)")
_TRAILING_PAREN = re.compile(r"^(.+?)\([^()]*\)$")

# Column/row label aliases seen in the wild (official-format.md §7 item 13), declared in the spec.
ALIASES: dict[str, str] = LABEL_ALIASES


@lru_cache(maxsize=8192)
def norm_label(text: str) -> str:
    """Canonical form of a label: NFKC, no whitespace, no quotes, ``1.`` numbering."""
    t = unicodedata.normalize("NFKC", str(text))
    t = _SPACE.sub("", t).translate(_QUOTES)
    t = _NUM_SEP.sub(r"\1.", t)
    # OCR'd and retyped labels use "，" where the official text has "、" (§7 item 5)
    t = t.replace(",", "、")
    return t.rstrip(":")


@lru_cache(maxsize=8192)
def label_key(text: str) -> str:
    """The label's core: normalised, without leading numbering and trailing bracketed notes."""
    t = norm_label(text)
    core = _ENUM.sub("", t, count=1) or t
    while True:
        m = _TRAILING_PAREN.match(core)
        if m is None:
            break
        core = m.group(1)
    return core


def match_score(cell: str, label: str) -> int:
    """How well a cell's text names an official label: 4 exact … 1 loose, 0 no match.

    4: equal after normalisation; 3: equal cores (numbering and bracketed notes ignored);
    2: equal through an alias (合计 → 总计); 1: the cell ends with the full official label
    (``三、本年度办理结果（七）总计``) or starts with the core of a label of four or more
    characters followed by more text (an annotation without brackets).
    """
    cn, ln = norm_label(cell), norm_label(label)
    if not cn:
        return 0
    if cn == ln:
        return 4
    ck, lk = label_key(cell), label_key(label)
    if ck == lk:
        return 3
    if ALIASES.get(ck) == lk:
        return 2
    if len(ln) >= 4 and cn.endswith(ln):
        return 1
    if len(lk) >= 4 and ck.startswith(lk):
        return 1
    return 0


# headings that end a table: the numbering of the sections after 二 (三、 / 四、 …)
_LATER_HEADINGS = tuple(s.heading.split("、", 1)[0] + "、" for s in SECTIONS[2:] if "、" in s.heading)


def starts_table(text: str) -> bool:
    """A cell that starts another table: a section-二 caption (第二十条…), an 信息内容 header,
    or a later section heading. The one rule for the reader's and the importer's table ends."""
    k = norm_label(text)
    return k.startswith(CAPTION_PREFIX) or label_key(text) == INFO_CONTENT or k.startswith(_LATER_HEADINGS)


# --- agency text in our outputs ----------------------------------------------------------

# characters XML 1.0 cannot hold at all (python-docx refuses them, XlsxWriter escapes only some):
# C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_invalid_chars(text: str) -> list[str]:
    """The characters of ``text`` no XML document can hold (an Excel cell can: ``_x0001_``).

    >>> xml_invalid_chars("a\\x01b\\uffffc")
    ['\\x01', '\\uffff']
    """
    return sorted(set(_XML_INVALID.findall(text)))


def xml_safe(text: str) -> str:
    """``text`` without the characters no XML document can hold (for every output we write).

    >>> xml_safe("总体\\x01情况\\x0b")
    '总体情况'
    """
    return _XML_INVALID.sub("", text) if _XML_INVALID.search(text) else text
