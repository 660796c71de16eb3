"""The report as one self-contained HTML page: looks right on screen, prints to A4.

No scripts, no external files: the page can be put on a website as is, or printed from a
browser. Tables use rowspan/colspan from the layout; header rows of long tables are a
<thead>, which browsers repeat on every printed page.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from xltool.workbook.fileio import atomic_path, readable
from xltool.write.render.model import RenderDoc, TCell, TTable

CSS = """
@page { size: A4; margin: 25mm 20mm 22mm 20mm; }
html { background: #f2f2f2; }
body { margin: 0; color: #000; font-family: "FangSong", "仿宋", "仿宋_GB2312", "STFangsong", "Noto Serif CJK SC",
       "Source Han Serif SC", "WenQuanYi Zen Hei", serif; font-size: 16pt; line-height: 1.75; }
article.report { background: #fff; width: 170mm; margin: 12mm auto; padding: 20mm; box-shadow: 0 0 4px #bbb; }
h1 { font-family: "方正小标宋简体", "华文中宋", "STZhongsong", "SimSun", "宋体", "Noto Serif CJK SC", serif;
     font-size: 22pt; font-weight: bold; text-align: center; line-height: 1.5; margin: 0 0 1em; }
h2 { font-family: "黑体", "SimHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; font-size: 16pt;
     font-weight: normal; margin: 0.8em 0 0.3em; text-indent: 2em; break-after: avoid; page-break-after: avoid; }
p { margin: 0; text-indent: 2em; text-align: justify; }
p.placeholder { color: #7f7f7f; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin: 0.4em 0 0.8em;
        font-family: "SimSun", "宋体", "Noto Serif CJK SC", "WenQuanYi Zen Hei", serif; font-size: 10.5pt;
        line-height: 1.35; }
table.t-flat { font-size: 9pt; }
th, td { border: 1px solid #000; padding: 2pt 3pt; vertical-align: middle; text-align: center;
         word-break: break-all; overflow-wrap: anywhere; font-weight: normal; }
td.label { text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { text-align: center; }
tr { break-inside: avoid; page-break-inside: avoid; }
thead { display: table-header-group; }
td.bad { background: #ffc7ce; color: #9c0006; font-weight: bold; }
div.notice { border: 2px solid #c00000; color: #9c0006; background: #fff2f2; padding: 0.5em 1em; margin: 0 0 1em;
             font-size: 12pt; line-height: 1.5; }
div.coverage { font-size: 12pt; color: #333; border-left: 3px solid #999; padding: 0 0 0 0.8em; margin: 0 0 1em; }
div.coverage p { text-indent: 0; margin: 0.2em 0; }
div.notice ul { margin: 0.3em 0 0; padding-left: 1.5em; }
@media print {
  html, body { background: #fff; }
  article.report { width: auto; margin: 0; padding: 0; box-shadow: none; }
  td.bad { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  div.notice { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _cell(c: TCell, tag: str) -> str:
    attrs = []
    if c.rowspan > 1:
        attrs.append(f'rowspan="{c.rowspan}"')
    if c.colspan > 1:
        attrs.append(f'colspan="{c.colspan}"')
    cls = [c.kind]
    if c.kind == "value":
        cls.append("num" if c.numeric else "text")
    if c.flag:
        cls.append("bad")
        attrs.append(f'title="{escape(c.flag)}"')
    if c.key:
        attrs.append(f'data-key="{escape(c.key)}"')
    attrs.insert(0, f'class="{" ".join(cls)}"')
    text = escape(c.text).replace("\n", "<br>")
    return f"<{tag} {' '.join(attrs)}>{text}</{tag}>"


def table_html(t: TTable) -> str:
    total = sum(t.weights) or 1.0
    cols = "".join(f'<col style="width:{w / total * 100:.2f}%">' for w in t.weights)
    out = [f'<table class="t-{t.style.value}">', f"<colgroup>{cols}</colgroup>"]
    head, body = t.rows[: t.header_rows], t.rows[t.header_rows :]
    if head:
        out.append("<thead>")
        out += ["<tr>" + "".join(_cell(c, "th") for c in row) + "</tr>" for row in head]
        out.append("</thead>")
    out.append("<tbody>")
    for row in body:
        out.append("<tr>" + "".join(_cell(c, "td" if c.kind in ("value", "label", "group") else "th") for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def to_html(doc: RenderDoc) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="xltool">',
        f"<title>{escape(doc.title)}</title>",
        f"<style>{CSS}</style></head><body>",
        '<article class="report">',
    ]
    if doc.notice:
        items = "".join(f"<li>{escape(n)}</li>" for n in doc.notice[1:])
        parts.append(f'<div class="notice"><strong>{escape(doc.notice[0])}</strong>'
                     + (f"<ul>{items}</ul>" if items else "") + "</div>")
    parts.append(f"<h1>{escape(doc.title)}</h1>")
    if doc.coverage:
        parts.append('<div class="coverage">' + "".join(f"<p>{escape(c)}</p>" for c in doc.coverage) + "</div>")
    for s in doc.sections:
        parts.append(f'<section id="{s.key}">')
        parts.append(f"<h2>{escape(s.heading)}</h2>")
        cls = ' class="placeholder"' if s.placeholder else ""
        parts += [f"<p{cls}>{escape(p)}</p>" for p in s.paragraphs]
        if s.table is not None:
            parts.append(table_html(s.table))
        parts.append("</section>")
    parts.append("</article></body></html>")
    return "\n".join(parts) + "\n"


def write_html(doc: RenderDoc, path: str | Path, *, overwrite: bool = False) -> Path:
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.write_text(to_html(doc), encoding="utf-8")
        readable(tmp)
    return target
