"""A published PDF report (with a text layer) as paragraphs and table rows, by word positions.

pypdf gives each text run with its position and font size. Runs on one baseline make a
line; a gap wider than about half a character separates two cells. Then, per page, top to
bottom:

* a line whose last cells are numbers is a table row (value cells right-aligned or
  centred under their column); a row with fewer numbers than its table's fullest rows
  gets its numbers placed by their right edge, the missing ones blank;
* a text-only line within about one line height of a table row, left of its numbers, is
  a wrapped part of that row's label (labels wrap in narrow cells: 5.要求行政机关确认或重新出具
  ⏎ 已获取信息), and joins it;
* other text-only lines next to table rows form the header: runs stacked in one column
  (商业 ⏎ 企业) are joined; the header repeated at the top of the next page is dropped;
* everything else is running text, wrapped lines joined into paragraphs.

A PDF without a text layer (a scan) cannot be read: no OCR is attempted. pypdf is pure
Python (Windows wheels are the same wheel); it parses the file, nothing is executed.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass, field

from xltool.core.labels import norm_label
from xltool.read.importer.document import Document, DocumentError, Para, Row, clean
from xltool.read.values import parse_text
from xltool.spec import CAPTION_PREFIX, INFO_CONTENT

MAX_PAGES = 200  # an annual report has a handful
_HEADING = re.compile(r"^[一二三四五六七八九十]{1,2}、")
_SENTENCE_END = re.compile(r"[。；：:]$")
_PROSE_GAP = re.compile(r"[，。；、：,;]")

SCANNED = ("PDF 文件中没有可提取的文字，可能是扫描件或图片：本工具不做文字识别（OCR），无法导入。"
           "请使用发布单位网站上的网页或 Word 版本，或用能识别文字的软件转换后再导入。")


@dataclass
class _Run:
    x: float
    y: float
    size: float
    text: str

    @property
    def width(self) -> float:
        return sum(self.size * (0.5 if ord(ch) < 0x2E80 else 1.0) for ch in self.text)

    @property
    def end(self) -> float:
        return self.x + self.width


@dataclass
class _Cell:
    runs: list[_Run]

    @property
    def x(self) -> float:
        return min(r.x for r in self.runs)

    @property
    def end(self) -> float:
        return max(r.end for r in self.runs)

    @property
    def text(self) -> str:
        return "".join(r.text for r in sorted(self.runs, key=lambda r: r.x))


@dataclass
class _Line:
    page: int
    y: float
    size: float
    cells: list[_Cell]
    extra: list[tuple[float, _Cell]] = field(default_factory=list)  # wrapped label parts: (y, cell)
    placed: int | None = None  # value cells after placement by column (``_place``)

    @property
    def x(self) -> float:
        return self.cells[0].x

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.cells]

    def n_values(self) -> int:
        if self.placed is not None:
            return self.placed
        n = 0
        for c in reversed(self.cells):
            if parse_text(c.text).state not in ("number", "marker"):
                break
            n += 1
        return n

    @property
    def is_values(self) -> bool:
        n = self.n_values()
        label = "".join(c.text for c in self.cells[: len(self.cells) - n])
        if "。" in label or ("，" in label and len(label) > 30):
            return False  # a line of running text that happens to end with a number
        return n >= 1 and (n < len(self.cells) or n >= 2)

    @property
    def first_value_x(self) -> float:
        n = self.n_values()
        return self.cells[len(self.cells) - n].x if n else 1e9


def _runs(page: object) -> list[_Run]:
    out: list[_Run] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if not text or not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
        for part in re.split(r"(\s{2,})", text.replace("\n", " ")):
            if part.strip():
                out.append(_Run(x, y, (size or 10) * (scale or 1), part.strip()))
            x += sum((size or 10) * (scale or 1) * (0.5 if ord(ch) < 0x2E80 else 1.0) for ch in part)

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    return out


def _lines(runs: list[_Run], page: int) -> list[_Line]:
    runs = sorted(runs, key=lambda r: (-r.y, r.x))
    groups: list[list[_Run]] = []
    for r in runs:
        if groups and abs(groups[-1][0].y - r.y) <= 0.35 * max(r.size, groups[-1][0].size):
            groups[-1].append(r)
        else:
            groups.append([r])
    out: list[_Line] = []
    for g in groups:
        g.sort(key=lambda r: r.x)
        cells: list[_Cell] = []
        for r in g:
            if cells and r.x - cells[-1].end < 0.6 * r.size:
                cells[-1].runs.append(r)
            else:
                cells.append(_Cell([r]))
        size = max(r.size for r in g)
        line = _Line(page, max(r.y for r in g), size, cells)
        gaps = [b.x - a.end for a, b in itertools.pairwise(cells)]
        if (len(cells) > 1 and not line.is_values and max(gaps) <= 2.5 * size
                and _PROSE_GAP.search("".join(c.text for c in cells[:-1]))):
            # justified running text: a wide gap after punctuation is not a cell border
            line.cells = [_Cell([r for c in cells for r in c.runs])]
        out.append(line)
    return out


def _stacked(a: _Cell, b: _Cell, size: float) -> bool:
    """b (below) continues a: they overlap horizontally and have about the same width."""
    wa, wb = a.end - a.x, b.end - b.x
    overlap = min(a.end, b.end) - max(a.x, b.x)
    return overlap > 0.4 * min(wa, wb) and max(wa, wb) <= 2.2 * max(min(wa, wb), size)


def _header_rows(lines: list[_Line]) -> list[list[str]]:
    """Header lines of one table: stacked runs joined (商业 ⏎ 企业), cells grouped into rows by
    the height of their first line (a centred single-line label joins its neighbours' row)."""
    cols: list[list] = []  # [first y, x, last cell, texts, last y, size, page]
    for ln in lines:
        for c in ln.cells:
            hit = next((col for col in reversed(cols) if col[6] == ln.page
                        and 0 < col[4] - ln.y <= 1.5 * ln.size and _stacked(col[2], c, ln.size)), None)
            if hit is None:
                cols.append([ln.y, c.x, c, [c.text], ln.y, ln.size, ln.page])
            else:
                hit[2], hit[4] = c, ln.y
                hit[3].append(c.text)
    cols.sort(key=lambda col: (col[6], -col[0], col[1]))
    rows: list[list[list]] = []
    for col in cols:
        if rows and rows[-1][0][6] == col[6] and rows[-1][0][0] - col[0] <= 1.0 * col[5]:
            rows[-1].append(col)
        else:
            rows.append([col])
    return [["".join(col[3]) for col in sorted(r, key=lambda col: col[1])] for r in rows]


def _place(values: list[_Line]) -> None:
    """Rows with fewer numbers than the fullest rows of their table: numbers by right edge."""
    full = max((ln.n_values() for ln in values), default=0)
    ref = [ln for ln in values if ln.n_values() == full]
    if full < 2 or not ref:
        return
    edges = [sum(ln.cells[len(ln.cells) - full + i].end for ln in ref) / len(ref) for i in range(full)]
    pitch = min((b - a for a, b in itertools.pairwise(edges)), default=50.0)
    for ln in values:
        n = ln.n_values()
        if n == full or n == 0:
            continue
        vals = ln.cells[len(ln.cells) - n:]
        slots: list[_Cell | None] = [None] * full
        ok = True
        for c in vals:
            i = min(range(full), key=lambda k: abs(edges[k] - c.end))
            if abs(edges[i] - c.end) > pitch / 2 or slots[i] is not None:
                ok = False
                break
            slots[i] = c
        if ok:
            blank = _Cell([_Run(0, ln.y, ln.size, "")])
            ln.cells = ln.cells[: len(ln.cells) - n] + [s or blank for s in slots]
            ln.placed = full


def _with_parts(ln: _Line) -> list[str]:
    """A table row's cells with its wrapped label parts: parts in a label's column join it (top
    to bottom); parts in a column of their own (a group label beside the rows) stay cells."""
    n = ln.n_values()
    labels = ln.cells[: len(ln.cells) - n]
    parts = [(ln.y, c) for c in labels] + ln.extra
    columns: list[list[tuple[float, _Cell]]] = []
    for y, c in sorted(parts, key=lambda p: (p[1].x)):
        col = next((k for k in columns if abs(k[0][1].x - c.x) <= 1.0 * c.runs[0].size
                    or (k[0][1].x <= c.x < k[0][1].end and c.x - k[0][1].x <= 1.5 * c.runs[0].size)), None)
        if col is None:
            columns.append([(y, c)])
        else:
            col.append((y, c))
    texts = ["".join(c.text for _y, c in sorted(col, key=lambda p: (-p[0], p[1].x))) for col in columns]
    return [*texts, *(c.text for c in ln.cells[len(ln.cells) - n:])]


def from_pdf(data: bytes) -> Document:
    """Parse a PDF's text layer into blocks (see the module doc); DocumentError when it has none."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # pragma: no cover - a dependency
        raise DocumentError("缺少读取 PDF 的组件 pypdf，请重新安装本工具。") from None
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("PDF 文件设置了打开密码，无法导入。")
        pages = list(reader.pages)
        if len(pages) > MAX_PAGES:
            raise DocumentError(f"PDF 有 {len(pages)} 页，不像一份年度报告，已拒绝读取。")
        lines: list[_Line] = []
        for i, page in enumerate(pages, start=1):
            lines += _lines(_runs(page), i)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as e:
        raise DocumentError(f"PDF 文件已损坏，无法读取（{type(e).__name__}）。") from None
    if sum(len(c.text) for ln in lines for c in ln.cells) < 20:
        raise DocumentError(SCANNED)
    return _blocks(lines)


def _blocks(lines: list[_Line]) -> Document:
    doc = Document("pdf")
    is_val = [ln.is_values for ln in lines]
    # wrapped label parts (and group labels beside them) join the nearest table row on the page
    absorbed: set[int] = set()
    for i, ln in enumerate(lines):
        if is_val[i] or any(_HEADING.match(c.text) for c in ln.cells):
            continue
        best, dist = None, 1e9
        for j in (i - 3, i - 2, i - 1, i + 1, i + 2, i + 3):
            if 0 <= j < len(lines) and is_val[j] and lines[j].page == ln.page:
                d = abs(lines[j].y - ln.y)
                if d <= 1.3 * ln.size and ln.cells[-1].end <= lines[j].first_value_x and d < dist:
                    best, dist = j, d
        if best is not None:
            lines[best].extra += [(ln.y, c) for c in ln.cells]
            absorbed.add(i)
    # short rows: numbers placed by column, per run of table rows (a page break continues it)
    segment: list[_Line] = []
    earlier: set[str] = set()  # texts of the lines on earlier pages
    page_texts: set[str] = set()
    page = 0
    for i, ln in enumerate(lines):
        if ln.page != page:
            earlier |= page_texts
            page_texts, page = set(), ln.page
        text = "".join(ln.texts)
        page_texts.add(text)
        if is_val[i]:
            segment.append(ln)
        elif i in absorbed:
            continue
        elif segment and ln.page != segment[-1].page and text in earlier:
            continue  # the header repeated on the next page
        else:
            _place(segment)
            segment = []
    _place(segment)
    # the table header repeated at the top of a page
    seen_header: set[str] = set()
    header: list[_Line] = []
    para: list[_Line] = []
    tables: list[list[_Line]] = []
    current: list[_Line] = []
    # the size of running text: the size most characters of single-cell lines have
    weight: dict[int, int] = {}
    for i, ln in enumerate(lines):
        if not is_val[i] and len(ln.cells) == 1:
            weight[round(ln.size)] = weight.get(round(ln.size), 0) + len(ln.cells[0].text)
    body = float(max(weight, key=lambda k: weight[k])) if weight else 10.0
    # the left margin of running text, per font size: a line indented from it starts a paragraph
    margin: dict[int, float] = {}
    for i, ln in enumerate(lines):
        if not is_val[i] and len(ln.cells) == 1:
            margin[round(ln.size)] = min(margin.get(round(ln.size), ln.x), ln.x)

    def flush_para() -> None:
        if para:
            text = ""
            for ln in para:
                t = "".join(ln.texts)
                text += ("" if not text or re.search(r"[\u2E80-\uFFFF]$", text) else " ") + t
            doc.blocks.append(Para(clean(text), f"第 {para[0].page} 页"))
            para.clear()

    def flush_header() -> None:
        if header:
            key = "|".join("".join(ln.texts) for ln in header)
            if key in seen_header and current:
                header.clear()
                return
            seen_header.add(key)
            for cells in _header_rows(header):
                doc.blocks.append(Row(tuple(cells), f"第 {header[0].page} 页", len(tables) + 1))
            header.clear()

    def close_table() -> None:
        if current:
            tables.append(list(current))
            current.clear()

    def blank_row(i: int, ln: _Line, text: str) -> int:
        """Value cells of a row whose cells are all blank (0 if ``ln`` is not one): a short label
        in the label column of the table row right above or below it."""
        if (len(ln.cells) != 1 or len(text) > 20 or _HEADING.match(text) or _SENTENCE_END.search(text)
                or norm_label(text).startswith(CAPTION_PREFIX) or INFO_CONTENT in text):
            return 0
        for j in (i - 1, i + 1):
            while 0 <= j < len(lines) and j in absorbed:
                j += -1 if j < i else 1
            if 0 <= j < len(lines) and is_val[j]:
                nb = lines[j]
                if nb.page == ln.page and abs(nb.y - ln.y) <= 2.2 * ln.size and abs(nb.x - ln.x) <= ln.size:
                    return nb.n_values()
        return 0

    for i, ln in enumerate(lines):
        if i in absorbed:
            continue
        near_table = any(0 <= j < len(lines) and is_val[j] for j in range(i - 6, i + 7))
        text = "".join(ln.texts)
        prose = (not is_val[i] and len(ln.cells) == 1
                 and (len(text) > 24 or _HEADING.match(text) or _SENTENCE_END.search(text) or not near_table))
        if is_val[i]:
            flush_para()
            flush_header()
            cells = [c.text for c in ln.cells]
            if ln.extra:
                cells = _with_parts(ln)
            current.append(ln)
            doc.blocks.append(Row(tuple(cells), f"第 {ln.page} 页", len(tables) + 1))
        elif n_blank := blank_row(i, ln, text):
            flush_para()
            flush_header()
            n = n_blank
            current.append(ln)
            doc.blocks.append(Row((text, *([""] * n)), f"第 {ln.page} 页", len(tables) + 1))
        elif prose:
            flush_header()
            close_table()
            prev = para[-1] if para else None
            joins = prev is not None and abs(prev.size - ln.size) < 0.5 and prev.page == ln.page \
                and prev.y - ln.y <= 2.2 * ln.size and not _HEADING.match(text) \
                and not _HEADING.match("".join(prev.texts)) \
                and (ln.x <= margin.get(round(ln.size), ln.x) + 0.8 * ln.size or ln.size > 1.2 * body)
            if prev is not None and not joins:
                flush_para()
            para.append(ln)
        else:
            flush_para()
            header.append(ln)
    flush_para()
    flush_header()
    close_table()
    return doc
