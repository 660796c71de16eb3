"""Text copied out of a PDF viewer (select all, paste into a .txt) as paragraphs and table rows.

Such a copy has no tabs and no cell borders: one line per printed line. A table row is its label
and its numbers separated by single spaces (``<row label> 46 5 0 6 0 2 59``);
a label that wraps in its cell continues on the next line, before the numbers or after them
(``（二）部分公开（区分处理的，只计这一`` ⏎ ``情形，不计其他情形） 4 0 0 1 0 1 6``, or three lines
of label and then a line of numbers); header cells come out stacked (``自然`` ⏎ ``人``) or run
together (``总计商业`` ⏎ ``企业``), vertical group labels a few characters a line, and the header
is repeated where the table crosses a page. pypdf's ``extract_text`` gives the same text.

The rules, none of which guesses a number:

* a line that ends in numbers is a table row when its text, joined with the text lines right
  above it (a label wrapped before the numbers) or the line right below (wrapped after them), is
  an official row label of either format (``xltool.spec``); a line of numbers alone takes the
  label lines above it, or stands alone (section 四's data row has no label);
* text lines between rows are cut into official header and group labels, longest label first;
  lines that cannot be cut entirely into labels are running text;
* running text lines are joined into paragraphs (a paragraph ends at 。！？, a heading, the
  title, or a blank line), and the spaces a PDF puts between Chinese characters and digits
  (``2025 年``) are dropped.

Numbers printed without a space between them (``1020``) stay one number: the row then has fewer
numbers than its table has columns, and the matcher reports it as not placed, never split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from xltool.core.labels import match_score, norm_label
from xltool.read.importer.document import Document, Para, Row, clean
from xltool.spec import FORMATS, Style

_NUMBER = re.compile(r"^[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:万元|元)?$|^[/／\-－—–]{1,2}$")
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]{1,2}[、.．]|[（(][一二三四五六七八九十]{1,2}[）)]|\d{1,2}[、．])")
_END = re.compile(r"[。！？!?]$")
_TITLE = re.compile(r"政府信息公开.{0,8}报告$")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}\d])|(?<=[{_CJK}\d])\s+(?=[{_CJK}])")
_UNITS = ("万元", "元")
_MAX_WRAP = 12  # lines of one wrapped label (a narrow label column)


@lru_cache(maxsize=1)
def _labels() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(row labels of data rows, every label, header/group labels only), both formats, normalised,
    longest first."""
    rows: set[str] = set()
    heads: set[str] = set()
    for fmt in FORMATS.values():
        for t in fmt.tables:
            if t.style == Style.GRID:
                heads.add(t.caption)
            heads.update(x for x in (t.header_first, t.column_root) if x)
            for c in t.columns:
                heads.add(c.label)
                heads.update(c.groups)
            for r in t.rows:
                (heads if t.style == Style.FLAT else rows).add(r.label)
                heads.update(r.groups)
    def norm(xs: set[str]) -> tuple[str, ...]:
        return tuple(sorted({norm_label(x) for x in xs}, key=len, reverse=True))

    return norm(rows), norm(heads | rows), norm(heads - rows)


def _row_score(text: str) -> int:
    """How well ``text`` names an official data-row label (3+: it is one)."""
    rows = _labels()[0]
    return max((match_score(text, r) for r in rows), default=0) if text else 0


def _is_row_label(text: str) -> bool:
    """``text`` is exactly an official data-row label (so a line of it alone is a row with no numbers)."""
    return norm_label(text) in _labels()[0]


@lru_cache(maxsize=1)
def _widest() -> int:
    """The most value cells a labelled row has (blank cells beyond a table's own are dropped by the matcher)."""
    return max(len(t.columns) for f in FORMATS.values() for t in f.tables if t.style != Style.FLAT)


def _row_prefix(text: str) -> bool:
    n = norm_label(text)
    return len(n) >= 2 and any(r.startswith(n) and r != n for r in _labels()[0])


@dataclass
class _Line:
    n: int  # line number (1-based)
    text: str  # the line, outer whitespace removed
    label: str  # its text part (tokens before the trailing numbers), spaces removed
    values: list[str]  # its trailing number tokens
    blank_before: bool


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    blank = False
    for n, raw in enumerate(text.split("\n"), start=1):
        line = clean(raw)
        if not line:
            blank = True
            continue
        tokens = line.split()
        if len(tokens) >= 2 and tokens[-1] in _UNITS and _NUMBER.match(tokens[-2]):
            tokens[-2:] = [tokens[-2] + tokens[-1]]  # "51.98 万元": the unit belongs to its number
        k = len(tokens)
        while k > 0 and _NUMBER.match(tokens[k - 1]):
            k -= 1
        if k == len(tokens) and k > 1 and _label_suffix(tokens[0]) and not _label_prefix(tokens[0] + tokens[1]):
            out.append(_Line(n, tokens[0], tokens[0], [], blank))  # a group label's last piece
            tokens, k, blank = tokens[1:], k - 1, False
            line = " ".join(tokens)
        label = "".join(tokens[:k])
        if tokens[k:] and len(label) > 2 and _row_score(label) < 3 and not _row_prefix(label):
            # a group label's fragment printed on the row's line: （三1.属于国家 0 0 …
            for d in range(1, len(label) - 1):
                head, rest = label[:d], label[d:]
                if _label_prefix(head) and (_row_score(rest) >= 3 or _row_prefix(rest)):
                    out.append(_Line(n, head, head, [], blank))
                    label, blank = rest, False
                    break
        out.append(_Line(n, line, label, tokens[k:], blank))
        blank = False
    return out


def _label_prefix(text: str) -> bool:
    """``text`` is the start of an official header or group label (not a whole one)."""
    n = norm_label(text)
    return bool(n) and any(lab.startswith(n) and lab != n for lab in _labels()[1])


def _label_suffix(text: str) -> bool:
    """``text`` (a few characters) is the end of an official header or group label, not a whole one."""
    n = norm_label(text)
    return 0 < len(n) <= 12 and any(lab.endswith(n) and lab != n for lab in _labels()[2])


def _tails(lines: list[_Line]) -> list[bool]:
    """Per line: covered by official labels, or part of a run of uncovered lines that together end
    a label or start a header/group label (a group label wrapped across a page: ``（三`` … ``）不``
    ⏎ ``予公`` ⏎ ``开``)."""
    ok = list(_segments([x.label for x in lines])[1])
    i = 0
    while i < len(ok):
        if ok[i]:
            i += 1
            continue
        j = i
        while j < len(ok) and not ok[j]:
            j += 1
        piece = norm_label("".join(x.label for x in lines[i:j]))
        if _label_suffix(piece) or (len(piece) <= 12 and any(lab.startswith(piece) for lab in _labels()[2])):
            ok[i:j] = [True] * (j - i)
        i = j
    return ok


def _between(lines: list[_Line]) -> bool:
    return all(_tails(lines))


def _header_cells(lines: list[_Line]) -> list[str]:
    """Header lines with cells wrapped within one printed line (``信息内容 上一年项目数 本年增/减``
    ⏎ ``量``): a cell that is the start of a label takes, left to right, the next line's first
    unused piece that continues it. Returns the lines' texts after that."""
    toks = [ln.text.split() for ln in lines]
    for i in range(len(toks) - 1):
        if not all(norm_label(x) in _labels()[1] or _label_prefix(x) for x in toks[i]):
            continue  # not a header line (running text is never rearranged)
        for t in range(len(toks[i])):
            tok = toks[i][t]
            if not _label_prefix(tok) or norm_label(tok) in _labels()[1]:
                continue
            nxt = toks[i + 1]
            if nxt:
                joined = norm_label(tok + nxt[0])
                if any(lab.startswith(joined) for lab in _labels()[1]):
                    toks[i][t] = tok + nxt.pop(0)
    return [" ".join(t) for t in toks]


def _segments(texts: list[str]) -> tuple[list[str], list[bool]]:
    """Official labels that the lines ``texts`` (joined) consist of, and per line whether every
    character of it belongs to a label (longest label first at each place)."""
    lexicon = _labels()[1]
    parts = [norm_label(t) for t in texts]
    s = "".join(parts)
    covered = [False] * len(s)
    segs: list[str] = []
    p = 0
    while p < len(s):
        hit = next((lab for lab in lexicon if s.startswith(lab, p)), None)
        if hit is None:
            p += 1
            continue
        segs.append(hit)
        covered[p : p + len(hit)] = [True] * len(hit)
        p += len(hit)
    ok: list[bool] = []
    start = 0
    for part in parts:
        ok.append(bool(part) and all(covered[start : start + len(part)]))
        start += len(part)
    return segs, ok


_HEADER_SKIP = 40  # lines of a repeated header between the halves of a wrapped label


def _after(lines: list[_Line], k: int, label: str) -> tuple[int, int] | None:
    """(e, f): lines[e:f] complete ``label`` (wrapped after its numbers), lines[k:e] being a whole
    header between them (empty when the tail follows at once); None when nothing completes it."""
    end = k
    while end < len(lines) and end - k < _HEADER_SKIP and not lines[end].values:
        end += 1
    for e in range(k, end):
        # what lies between: header lines, and the rest of a group label wrapped across the page
        if e > k and not _between(lines[k:e]):
            continue
        tail = ""
        for f in range(e, min(end, e + _MAX_WRAP)):
            tail += lines[f].label
            if not _row_prefix(label + tail) and _row_score(label + tail) < 3:
                break
            if _row_score(label + tail) >= 3:
                return e, f + 1
    return None


def from_copied(text: str) -> Document:
    """Parse text copied out of a PDF (see the module doc) into blocks."""
    doc = Document("text", copied=True)
    lines = _lines(text)
    para: list[_Line] = []
    pending: list[_Line] = []  # text lines not yet placed (header, group labels, prose)
    table = 0
    in_table = False
    headers: dict[int, list[list[str]]] = {}  # header rows of each table so far

    def flush_para() -> None:
        if para:
            joined = "".join(ln.text for ln in para)
            doc.blocks.append(Para(_GAP.sub("", joined), f"第 {para[0].n} 行"))
            para.clear()

    def add_prose(ln: _Line) -> None:
        nonlocal in_table
        in_table = False
        if para:
            prev = "".join(x.text for x in para)
            joins = (not ln.blank_before and not _END.search(prev) and not _HEADING.match(ln.text)
                     and not (_HEADING.match(para[0].text) and len(prev) <= 30)
                     and not _TITLE.search(_GAP.sub("", prev)))
            if not joins:
                flush_para()
        para.append(ln)

    def flush_pending(blank: bool = True) -> None:
        """Pending text lines: runs that are official labels become one header row, the rest prose;
        a row label alone is a row of blank cells (``blank``), or a row of unknown cells."""
        nonlocal table, in_table
        if not pending:
            return
        texts = _header_cells(pending)
        for x, t in zip(pending, texts, strict=True):
            x.text = t
            x.label = "".join(t.split())
        pending[:] = [x for x in pending if x.text]
        segs_ok = _segments([ln.label or ln.text for ln in pending])[1]
        tails = _tails(pending) if in_table else [False] * len(pending)
        i = 0
        while i < len(pending):
            if not segs_ok[i] and tails[i]:
                i += 1  # the rest of a group label (no numbers): nothing to place
                continue
            if not segs_ok[i]:
                ln = pending[i]
                if in_table and len(ln.label) <= 30 and not _HEADING.match(ln.text) and not _END.search(ln.text):
                    flush_para()  # a stray line inside a table (reported when rows follow it)
                    doc.blocks.append(Para(ln.text, f"第 {ln.n} 行"))
                else:
                    add_prose(ln)
                i += 1
                continue
            if _is_row_label(pending[i].label):  # a row whose cells are all blank: no number at all
                flush_para()
                if not in_table:
                    table += 1
                    in_table = True
                cells = [""] * _widest() if blank else []
                doc.blocks.append(Row((pending[i].label, *cells), f"第 {pending[i].n} 行", table))
                i += 1
                continue
            j = i
            while j < len(pending) and segs_ok[j] and not _is_row_label(pending[j].label):
                j += 1
            run = pending[i:j]
            segs = _segments([ln.label or ln.text for ln in run])[0]
            flush_para()
            if not in_table:
                table += 1
                in_table = True
            # the header repeated where the table crosses a page (a group label may follow it)
            again = next((h for h in headers.get(table, []) if len(h) >= 2 and segs[: len(h)] == h), None)
            if again is not None:
                segs = segs[len(again):]
            else:
                headers.setdefault(table, []).append(segs)
            if segs:
                doc.blocks.append(Row(tuple(segs), f"第 {run[0].n} 行", table))
            i = j
        pending.clear()

    k = 0
    while k < len(lines):
        ln = lines[k]
        k += 1
        if not ln.values:
            pending.append(ln)
            continue
        label, first = ln.label, ln
        # several row labels above a line of numbers alone: copied column by column, which numbers
        # belong to which label is unknown (the rows are reported as not placed)
        if not label and sum(_is_row_label(x.label) for x in pending) >= 2:
            flush_pending(blank=False)
            flush_para()
            doc.blocks.append(Row(tuple(ln.values), f"第 {ln.n} 行", table))
            continue
        # a label wrapped before its numbers: the text lines right above complete it
        best = (_row_score(label), 0)
        for m in range(1, min(_MAX_WRAP, len(pending)) + 1):
            s = _row_score("".join(x.label for x in pending[-m:]) + label)
            # equal scores: a label that is the end of a longer one (…规范性文件) takes the line
            # above when that line is a fragment, not a label or header of its own
            fragment = not any(_segments([x.label])[1][0] for x in pending[-m:])
            if s >= 3 and (s > best[0] or (s == best[0] == 4 and fragment)):
                best = (s, m)
        done = None
        if best[0] < 3:
            # ... or wrapped after them (perhaps wrapped before as well): the next text lines
            # complete it, the header repeated at a page break possibly between the two halves
            for m in range(0, min(_MAX_WRAP, len(pending)) + 1):
                cand = "".join(x.label for x in pending[len(pending) - m:]) + label
                if _row_prefix(cand):
                    done = _after(lines, k, cand)
                    if done is not None:
                        best = (0, m)
                        break
        if best[1]:
            first = pending[-best[1]]
            label = "".join(x.label for x in pending[-best[1]:]) + label
            del pending[-best[1]:]
        if done is not None:
            e, f = done
            pending.extend(lines[k:e])
            label += "".join(x.label for x in lines[e:f])
            k = f
        # right after a table row or a header (no running text in between)
        near = _segments([x.text for x in pending])[1][-1] if pending else in_table
        is_row = _row_score(label) >= 3 or (not label and (len(ln.values) >= 2 or near))
        if not is_row and label and near:
            is_row = len(label) <= 40 and not _END.search(label)  # an extra row of a table (kept, reported)
        if not is_row:
            flush_pending()
            add_prose(ln)
            continue
        flush_pending()
        flush_para()
        if not in_table:
            table += 1
            in_table = True
        cells = ((label,) if label else ()) + tuple(ln.values)
        doc.blocks.append(Row(cells, f"第 {first.n} 行" if first is ln else f"第 {first.n}–{ln.n} 行", table))
    flush_pending()
    flush_para()
    return doc
