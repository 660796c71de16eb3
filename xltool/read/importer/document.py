"""A published report as a flat stream of paragraphs and table rows.

Published reports reach us as web pages (HTML), Word files (DOCX) or text copied out of
either (the seed file: one table cell per line, each starting with a tab; a wrapped label
continues on the next line without a tab, sometimes after a blank line). Whatever the
source, the matcher downstream only needs: paragraphs in reading order, and table rows as
lists of cell texts in reading order. Cells covered by a row span are simply absent (HTML)
or empty (Word's vertical merge, and the seed), so nothing downstream may rely on column
positions; it relies on labels and on the number of value cells after a label instead.

Security: HTML goes through the stdlib ``html.parser`` (no DTDs, no external entities);
DOCX through a size/ratio check of the zip and python-docx, whose lxml parser does not
resolve entities. Nothing is fetched from the network.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from xltool.errors import XltoolError
from xltool.read.values import parse_text

MAX_FILE_BYTES = 20 * 1024 * 1024  # a published report page or document is far smaller
MAX_DOCX_MEMBER = 50 * 1024 * 1024
MAX_DOCX_TOTAL = 100 * 1024 * 1024
MAX_DOCX_RATIO = 200.0


class DocumentError(XltoolError):
    """The file cannot be read as a report (message in Chinese)."""


@dataclass(frozen=True)
class Para:
    """One paragraph (or line) of running text, whitespace at both ends removed."""

    text: str
    where: str  # for messages: "第 12 行" / "第 3 段"


@dataclass(frozen=True)
class Row:
    """One table row: the texts of its cells in reading order (labels may hold line breaks)."""

    cells: tuple[str, ...]
    where: str  # for messages: "第 152 行" / "第 2 个表格第 5 行"
    table: int = 0  # which table of the document (text: which run of rows)


Block = Para | Row


@dataclass
class Document:
    kind: str  # "text" / "html" / "docx"
    blocks: list[Block] = field(default_factory=list)
    page_title: str | None = None  # HTML <title>, DOCX core title
    copied: bool = False  # text copied out of a PDF (no tabs): rows rebuilt from lines (``copied``)

    @property
    def rows(self) -> list[Row]:
        return [b for b in self.blocks if isinstance(b, Row)]

    @property
    def paras(self) -> list[Para]:
        return [b for b in self.blocks if isinstance(b, Para)]


_WS = " \t\r\n\u3000\xa0\u2002\u2003\u2009\u200b\ufeff"


def clean(text: str) -> str:
    """Text with outer whitespace (incl. full-width and no-break spaces) removed."""
    return text.strip(_WS)


# --- plain text ------------------------------------------------------------------------

_HEADING_START = re.compile(r"^[一二三四五六七八九十]+、")
_MAX_CELL = 60  # the longest official label has 38 characters


def _prose(line: str) -> bool:
    """A tab-led line that is a paragraph, not a cell: long, or a sentence (labels never end in 。)."""
    t = clean(line)
    return len(t) > _MAX_CELL or (len(t) > 20 and t.endswith("。"))


def _is_label(text: str) -> bool:
    """A cell whose text is a label (so a following bare line may continue it)."""
    return parse_text(text).state == "text"


def from_text(text: str) -> Document:
    """Parse the tab dump of a report (see the module doc) into blocks.

    Line rules: a line ``\\t<cell>`` adds one cell to the current row; a blank line ends
    the row unless the next line continues the cell before it; a line with several tabs
    is a whole row (copied from a spreadsheet); any other line is a paragraph, except a
    short bare line right after a label cell (≤ 1 blank line between), which continues it.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\t" not in text:  # no cells: text copied out of a PDF viewer, rows are rebuilt from lines
        from xltool.read.importer.copied import from_copied  # lazy: copied imports this module

        return from_copied(text)
    doc = Document("text")
    row: list[str] | None = None
    row_line = 0
    blanks = 0
    table = 0
    last_was_para = True

    def close() -> None:
        nonlocal row
        if row is not None:
            doc.blocks.append(Row(tuple(row), f"第 {row_line} 行", table))
            row = None

    for n, line in enumerate(text.split("\n"), start=1):
        if "\t" in line:
            if last_was_para and not (line.startswith("\t") and _prose(line)):
                table += 1
            last_was_para = False
            if line.startswith("\t") and line.count("\t") == 1 and _prose(line) and (row is None or blanks):
                close()  # a tab-indented paragraph, not a table cell
                doc.blocks.append(Para(clean(line), f"第 {n} 行"))
                blanks = 0
                last_was_para = True
                continue
            if line.startswith("\t") and line.count("\t") == 1:
                if row is None or blanks:
                    close()
                    row, row_line = [], n
                row.append(line[1:])
            else:
                close()
                doc.blocks.append(Row(tuple(line.split("\t")), f"第 {n} 行", table))
            blanks = 0
            continue
        if not clean(line):
            blanks += 1
            continue
        continues = (
            row is not None
            and blanks <= 1
            and not line[:1].isspace()
            and line[:1] not in _WS
            and len(clean(line)) <= 30
            and not _HEADING_START.match(clean(line))
            and _is_label(row[-1])
        )
        if continues:
            assert row is not None
            row[-1] = row[-1] + "\n" + line
            blanks = 0
            continue
        close()
        doc.blocks.append(Para(clean(line), f"第 {n} 行"))
        blanks = 0
        last_was_para = True
    close()
    return doc


# --- HTML -------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section", "article",
     "header", "footer", "blockquote", "pre", "hr", "dd", "dt", "dl", "center", "caption", "form"}
)
_SKIP_TAGS = frozenset({"script", "style", "head", "noscript", "template", "svg", "object", "iframe", "select"})
_VOID_TAGS = frozenset({"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source", "embed"})
_MAX_DEPTH = 400


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)
    parent: _Node | None = None


class _TreeBuilder(HTMLParser):
    """A forgiving element tree: unclosed <p>/<td>/<tr> are closed where HTML would close them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.cur = self.root
        self.skip = 0
        self.title: list[str] = []
        self.in_title = False
        self.depth = 0

    def _close_to(self, tags: set[str], stop: set[str]) -> None:
        """Pop to (and including) the nearest open element in ``tags``, not crossing ``stop``."""
        node: _Node | None = self.cur
        while node is not None and node.tag != "#root":
            if node.tag in tags:
                self.cur = node.parent or self.root
                self.depth = max(0, self.depth - 1)
                return
            if node.tag in stop:
                return
            node = node.parent

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
            return
        if tag in _SKIP_TAGS:
            if tag != "head":
                self.skip += 1
            return
        if self.skip:
            return
        if tag in ("td", "th"):
            self._close_to({"td", "th"}, {"tr", "table"})
        elif tag == "tr":
            self._close_to({"tr"}, {"table"})
        elif tag == "p":
            self._close_to({"p"}, {"td", "th", "table", "div"})
        if tag in _VOID_TAGS:
            self.cur.children.append(_Node(tag, {}, parent=self.cur))
            return
        if self.depth >= _MAX_DEPTH:
            return
        node = _Node(tag, {k: (v or "") for k, v in attrs}, parent=self.cur)
        self.cur.children.append(node)
        self.cur = node
        self.depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.skip and tag in _VOID_TAGS:
            self.cur.children.append(_Node(tag, {}, parent=self.cur))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
            return
        if tag in _SKIP_TAGS:
            if tag != "head" and self.skip:
                self.skip -= 1
            return
        if self.skip or tag in _VOID_TAGS:
            return
        stop = {"table"} if tag in ("td", "th", "tr", "tbody", "thead", "tfoot") else set()
        self._close_to({tag}, stop)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
            return
        if not self.skip:
            self.cur.children.append(data)


def _has_table(node: _Node) -> bool:
    stack: list[_Node | str] = list(node.children)
    while stack:
        n = stack.pop()
        if isinstance(n, _Node):
            if n.tag == "table":
                return True
            stack.extend(n.children)
    return False


def _inline_text(node: _Node) -> str:
    """A cell's text: block boundaries and <br> become line breaks."""
    out: list[str] = []

    def walk(n: _Node | str) -> None:
        if isinstance(n, str):
            out.append(n)
            return
        if n.tag in _BLOCK_TAGS:
            out.append("\n")
        for ch in n.children:
            walk(ch)
        if n.tag in _BLOCK_TAGS and n.tag != "br":
            out.append("\n")

    for ch in node.children:
        walk(ch)
    lines = [clean(x) for x in "".join(out).split("\n")]
    return "\n".join(x for x in lines if x)


def _rows_of(table: _Node) -> list[list[_Node]]:
    """The <tr>s of a leaf table (inside thead/tbody/tfoot too), in document order."""
    rows: list[list[_Node]] = []
    stack: list[_Node] = [table]
    while stack:
        n = stack.pop()
        if n.tag == "tr":
            rows.append([c for c in n.children if isinstance(c, _Node) and c.tag in ("td", "th")])
            continue
        stack.extend(reversed([c for c in n.children if isinstance(c, _Node)]))
    return rows


def from_html(text: str) -> Document:
    """Parse a saved web page: leaf tables become rows, everything else paragraphs."""
    b = _TreeBuilder()
    b.feed(text)
    b.close()
    doc = Document("html", page_title=clean(" ".join(b.title)) or None)
    para: list[str] = []
    counters = {"para": 0, "table": 0}

    def flush() -> None:
        for line in "".join(para).split("\n"):
            t = clean(line)
            if t:
                counters["para"] += 1
                doc.blocks.append(Para(t, f"第 {counters['para']} 段"))
        para.clear()

    def walk(n: _Node | str) -> None:
        if isinstance(n, str):
            para.append(n)
            return
        if n.tag == "table" and not _has_table(n):
            flush()
            counters["table"] += 1
            ti = counters["table"]
            for ri, cells in enumerate(_rows_of(n), start=1):
                texts = tuple(_inline_text(c) for c in cells)
                if any(texts) or cells:
                    doc.blocks.append(Row(texts, f"第 {ti} 个表格第 {ri} 行", ti))
            return
        block = n.tag in _BLOCK_TAGS or n.tag in ("table", "tr", "td", "th")
        if block:
            para.append("\n")
        for ch in n.children:
            walk(ch)
        if block:
            para.append("\n")

    walk(b.root)
    flush()
    return doc


# --- DOCX -------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _check_docx(data: bytes) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DocumentError("文件不完整或已损坏，无法作为 Word 文档读取。请重新保存后再导入。") from None
    infos = zf.infolist()
    names = {i.filename for i in infos}
    if "xl/workbook.xml" in names:
        raise DocumentError("文件是 Excel 工作簿，不需要导入：可直接用 xltool check / combine 读取，或作为 --previous 上年数据。")
    if "word/document.xml" not in names:
        raise DocumentError("文件是压缩包，但不是 Word 文档（.docx）。")
    if len(infos) > 2000:
        raise DocumentError("Word 文档内部部件数量异常，已拒绝读取。")
    total = 0
    for i in infos:
        total += i.file_size
        if i.file_size > MAX_DOCX_MEMBER or (i.file_size > 1 << 20 and i.file_size > MAX_DOCX_RATIO * max(i.compress_size, 1)):
            raise DocumentError(f"Word 文档内部部件 {i.filename} 大小或压缩比异常（疑似压缩炸弹），已拒绝读取。")
    if total > MAX_DOCX_TOTAL:
        raise DocumentError("Word 文档解压后过大，已拒绝读取。")
    with zf.open("word/document.xml") as fh:
        head = fh.read(MAX_DOCX_MEMBER + 1)
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise DocumentError("Word 文档含有 DTD/实体声明（Word 从不写入），疑似恶意构造的文件，已拒绝读取。")


def _para_text(p: object) -> str:
    """A Word paragraph's text; ``w:br`` is a line break, ``w:tab`` a tab."""
    parts = []
    for t in p.iter(f"{_W}t", f"{_W}tab", f"{_W}br"):  # type: ignore[attr-defined]
        parts.append((t.text or "") if t.tag == f"{_W}t" else "\n" if t.tag == f"{_W}br" else "\t")
    return "".join(parts)


def from_docx(data: bytes) -> Document:
    """Paragraphs and tables of a Word document in body order; one cell per ``w:tc``.

    A horizontally merged cell is one ``w:tc`` (one cell); a vertically merged continuation
    is an empty cell, exactly like the seed's text dump.
    """
    _check_docx(data)
    import docx  # python-docx

    d = docx.Document(io.BytesIO(data))
    doc = Document("docx", page_title=clean(d.core_properties.title or "") or None)
    n_para = 0
    n_table = 0

    def add_table(tbl: object) -> None:
        nonlocal n_table
        n_table += 1
        ti = n_table
        for ri, tr in enumerate(tbl.iterchildren(f"{_W}tr"), start=1):  # type: ignore[attr-defined]
            cells = []
            for tc in tr.iterchildren(f"{_W}tc"):
                if any(True for _ in tc.iter(f"{_W}tbl")):
                    for inner in tc.iter(f"{_W}tbl"):
                        add_table(inner)
                    continue
                lines = [clean(_para_text(p)) for p in tc.iterchildren(f"{_W}p")]
                cells.append("\n".join(x for x in lines if x))
            doc.blocks.append(Row(tuple(cells), f"第 {ti} 个表格第 {ri} 行", ti))

    for el in d.element.body.iterchildren():
        if el.tag == f"{_W}p":
            for line in _para_text(el).split("\n"):
                t = clean(line)
                if t:
                    n_para += 1
                    doc.blocks.append(Para(t, f"第 {n_para} 段"))
        elif el.tag == f"{_W}tbl":
            add_table(el)
    return doc


# --- files ------------------------------------------------------------------------------

_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)


def decode(data: bytes, *, html: bool = False) -> str:
    """Bytes → text: BOM, then an HTML charset declaration, then UTF-8, then GB18030."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    if html:
        m = _CHARSET.search(data[:4096])
        if m:
            enc = m.group(1).decode("ascii").lower()
            if enc in ("gb2312", "gbk"):
                enc = "gb18030"
            try:
                return data.decode(enc)
            except (LookupError, UnicodeDecodeError):
                pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def sniff(data: bytes, name: str = "") -> str:
    """'docx' / 'pdf' / 'html' / 'text' from the content (the extension only breaks ties)."""
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DocumentError("文件是旧版 Word（.doc）或 Excel（.xls）等二进制格式，无法直接导入。请另存为 .docx 或网页（.html）后再导入。")
    if data[:1024].lstrip().startswith(b"%PDF"):
        return "pdf"
    head = data[:8192].lower()
    if b"<table" in head or b"<html" in head or b"<!doctype html" in head or b"<body" in head:
        return "html"
    if name.lower().endswith((".html", ".htm", ".shtml", ".xhtml")) and b"<table" in data.lower():
        return "html"
    return "text"


def load(path: str | Path) -> Document:
    """Read a published report (text, HTML, DOCX or PDF) from disk."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DocumentError(f"文件过大（{size / 1024 / 1024:.1f} MB），不像一份年度报告，已拒绝读取。")
        data = p.read_bytes()
    except OSError as e:
        raise DocumentError(f"无法打开文件：{e.strerror or e}。") from None
    if not data.strip():
        raise DocumentError("文件是空的。")
    kind = sniff(data, p.name)
    if kind == "pdf":
        from xltool.read.importer.pdf import from_pdf  # lazy: pdf imports this module (and pypdf)

        return from_pdf(data)
    if kind == "docx":
        try:
            return from_docx(data)
        except DocumentError:
            raise
        except Exception as e:  # python-docx/lxml on a damaged file
            raise DocumentError(f"Word 文档已损坏，无法读取（{type(e).__name__}）。请用 Word/WPS 打开后另存为 .docx 再导入。") from None
    text = decode(data, html=kind == "html")
    text = unicodedata.normalize("NFC", text)
    return from_html(text) if kind == "html" else from_text(text)
