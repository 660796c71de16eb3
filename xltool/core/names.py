"""Agency names: the one rule for matching them across files, and which names can be file names.

Names become file names of the templates, so a name that Windows (or the OS's 255-byte
limit) cannot store, or that hides its reading order with bidi controls, is refused before
anything is written.

>>> normalize_name(" 环翠区　科学技术局（科协） ")
'环翠区科学技术局(科协)'
>>> norm_code(" 11371002ma3c ")
'11371002MA3C'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

WINDOWS_ILLEGAL = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME_LEN = 100


@dataclass(frozen=True)
class RosterEntry:
    name: str
    credit_code: str | None = None
    contact: str | None = None
    row: int | None = field(default=None, compare=False)  # 1-based row in the roster file
    phone: str | None = field(default=None, compare=False)  # 联系电话, for the chase list


def normalize_name(s: str | None) -> str:
    """NFKC and no whitespace anywhere: the key for matching agency names across files."""
    return "".join(unicodedata.normalize("NFKC", s or "").split())


def norm_code(code: str | None) -> str:
    """A 统一社会信用代码 as compared: NFKC, no whitespace, upper case."""
    return normalize_name(code).upper()


def bad_filename_chars(name: str) -> list[str]:
    """Characters of ``name`` that Windows does not allow in a file name."""
    return sorted(set(WINDOWS_ILLEGAL.findall(name)))


def format_chars(name: str) -> list[str]:
    """Invisible format characters of ``name`` (Unicode category Cf: bidi overrides such as
    U+202E, zero-width spaces, BOM): they can make a file name read differently than it is."""
    return sorted({c for c in name if unicodedata.category(c) == "Cf"})


def name_problem(name: str, max_bytes: int | None = None) -> str | None:
    """Why ``name`` cannot be an agency name in a file name, in Chinese; None if it can.

    ``max_bytes`` limits the name's UTF-8 length (file systems count bytes: 255 per file
    name on Linux/macOS); ``xltool.workbook.meta`` derives it from the real file name pattern.
    """
    n = name.strip()
    if not n:
        return "单位名称为空"
    bad = bad_filename_chars(n)
    if bad:
        shown = "、".join(_show_char(c) for c in bad)
        return f"含有 Windows 文件名不允许的字符：{shown}"
    hidden = format_chars(n)
    if hidden:
        shown = "、".join(f"U+{ord(c):04X}" for c in hidden)
        return f"含有不可见的格式控制字符（{shown}，如从右向左显示的控制符），会让文件名显示得与实际不同，请删除后重新输入"
    if n.upper() in WINDOWS_RESERVED:
        return "是 Windows 保留的设备名，不能用作文件名"
    if n.endswith("."):
        return "以“.”结尾，Windows 文件名不允许"
    if len(n) > MAX_NAME_LEN:
        return f"超过 {MAX_NAME_LEN} 个字符，文件名过长"
    if max_bytes is not None and len(n.encode("utf-8")) > max_bytes:
        return (f"过长：用作文件名时占 {len(n.encode('utf-8'))} 字节，超过上限 {max_bytes} 字节"
                f"（约 {max_bytes // 3} 个汉字），请使用简称或删减后重新输入")
    return None


def _show_char(c: str) -> str:
    if c.isprintable():
        return f"“{c}”"
    return f"控制字符 U+{ord(c):04X}"
