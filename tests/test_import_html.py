"""``xltool import`` of saved web pages and Word files, with the variations seen in the wild.

The page below is written the way published pages are (official-format.md §7): a layout
table around the article, a GB2312 charset, ``&nbsp;``/full-width spaces, spaces in a
caption, half-width brackets, split headers (商业<br>企业), ``1．``/``1、`` numbering,
``，`` for ``、`` in a （六） row, straight quotes, ``/`` for 规章, a blank 总计 (Shanghai
2019 style), ``本年收费金额（万元）`` without ``单位：``, a Hubei-style extra row, filler prose
before a table, a section-五 heading variant, and page chrome after the report.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from xltool.cli import main
from xltool.pipeline.importing import write_result
from xltool.read import read_file
from xltool.read.importer import DocumentError, from_html, import_file, load
from xltool.rules.validate import evaluate
from xltool.spec import V2021

PAGE = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>某某区统计局2023年政府信息公开工作年度报告_政府信息公开年报_某某区人民政府</title>
<style>.x{color:red}</style><script>var a = "<table><tr><td>行政许可</td><td>99</td></tr></table>";</script>
</head><body>
<table width="100%" class="layout"><tr><td class="nav">首页 &gt; 政府信息公开 &gt; 年报</td></tr>
<tr><td>
<div class="article">
<h1>某某区统计局2023年政府信息公开工作年度报告</h1>
<p>&nbsp;&nbsp;本报告依据《中华人民共和国政府信息公开条例》编制。本报告中所列数据的统计期限自2023年1月1日起至2023年12月31日止。如对本报告有任何疑问，请与某某区统计局办公室联系（电话：0631-1234567）。</p>
<p><strong>　　一、总体情况</strong></p>
<p>　　2023年，我局坚持以公开为常态。</p>
<p>　　（一）主动公开。全年主动公开信息35条。</p>
<p><strong>二、主动公开政府信息情况</strong></p>
<p>该部分以表格形式报告。表格如下:</p>
<table border="1" cellspacing="0">
<tbody>
<tr><td colspan="4"><p>第二十条 第（一）项</p></td></tr>
<tr><td><p>信息内容</p></td><td><p>本年制发件数</p></td><td><p>本年废止件数</p></td><td><p>现行有效件数</p></td></tr>
<tr><td>规章</td><td>/</td><td>/</td><td>/</td></tr>
<tr><td>行政规范性文件</td><td>2</td><td>1</td><td>7</td></tr>
<tr><td>其他主动公开文件（含部门文件）</td><td>5</td><td>0</td><td>12</td></tr>
<tr><td colspan="4">第二十条第(五)项</td></tr>
<tr><td>信息内容</td><td colspan="3">本年处理决定数量</td></tr>
<tr><td>行政许可</td><td colspan="3">0</td></tr>
<tr><td colspan="4">第二十条第（六）项</td></tr>
<tr><td>信息内容</td><td colspan="3">本年处理决定数量</td></tr>
<tr><td>行政处罚</td><td colspan="3">12</td></tr>
<tr><td>行政强制</td><td colspan="3">0</td></tr>
<tr><td colspan="4">第二十条第（八）项</td></tr>
<tr><td>信息内容</td><td colspan="3">本年收费金额（万元）</td></tr>
<tr><td>行政事业性收费</td><td colspan="3">1.5</td></tr>
</tbody></table>
<p><strong>三、收到和处理政府信息公开申请情况</strong></p>
<table border="1">
<tr><td colspan="3" rowspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td><td colspan="7">申请人情况</td></tr>
<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>
<tr><td>商业<br>企业</td><td>科研<br>机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>
<tr><td colspan="3">一、本年新收政府信息公开申请数量</td><td>5</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>6</td></tr>
<tr><td colspan="3">二、上年结转政府信息公开申请数量</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>
<tr><td rowspan="22">三、本年度办理结果</td><td colspan="2">（一）予以公开</td><td>3</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td></td></tr>
<tr><td colspan="2">（二）部分公开（区分处理的，只计这一情形，不计其他情形）</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>
<tr><td rowspan="8">（三）不予公开</td><td>1．属于国家秘密</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>2．其他法律行政法规禁止公开</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>3．危及"三安全一稳定"</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>4．保护第三方合法权益</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>5．属于三类内部事务信息</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>6．属于四类过程性信息</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>7．属于行政执法案卷</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>8．属于行政查询事项</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td rowspan="3">（四）无法提供</td><td>1．本机关不掌握相关政府信息</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>
<tr><td>2．没有现成信息需要另行制作</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>3．补正后申请内容仍不明确</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td rowspan="5">（五）不予处理</td><td>1．信访举报投诉类申请</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>2．重复申请</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>3．要求提供公开出版物</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>4．无正当理由大量反复申请</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>5．要求行政机关确认或重新出具已获取信息</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td rowspan="3">（六）其他处理</td><td>1、申请人无正当理由逾期不补正，行政机关不再处理其政府信息公开申请</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>2、申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>3、其他</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td colspan="2">（七）总计</td><td>5</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>6</td></tr>
<tr><td colspan="3">四、结转下年度继续办理</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>
</table>
<p><strong>四、政府信息公开行政复议、行政诉讼情况</strong></p>
<table border="1">
<tr><th colspan="5">行政复议</th><th colspan="10">行政诉讼</th></tr>
<tr><th rowspan="2">结果维持</th><th rowspan="2">结果纠正</th><th rowspan="2">其他结果</th><th rowspan="2">尚未审结</th><th rowspan="2">总计</th><th colspan="5">未经复议直接起诉</th><th colspan="5">复议后起诉</th></tr>
<tr><th>结果维持</th><th>结果纠正</th><th>其他结果</th><th>尚未审结</th><th>总计</th><th>结果维持</th><th>结果纠正</th><th>其他结果</th><th>尚未审结</th><th>总计</th></tr>
<tr><td>1</td><td>0</td><td>0</td><td>0</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
</table>
<p><strong>五、存在的主要问题和改进措施</strong></p>
<p>　　一是公开内容还不够丰富。</p>
<p><b>六、其他需要报告的事项</b></p>
<p>　　本年度未收取信息处理费。</p>
<p style="text-align:right">某某区统计局<br>2024年1月20日</p>
</div>
</td></tr>
<tr><td><div class="tools">【打印本页】【关闭窗口】</div></td></tr></table>
</body></html>
"""



@pytest.fixture
def page(tmp_path: Path) -> Path:
    p = tmp_path / "2023年报.html"
    p.write_bytes(PAGE.encode("gb18030"))
    return p


def test_web_page_in_the_wild(page: Path) -> None:
    res = import_file(page)
    assert res.ok and res.kind == "html"
    assert res.agency.value == "某某区统计局" and res.year.value == 2023 and res.format.value == "2021"
    assert set(res.values) == set(V2021.cells)
    v = res.values
    # "/" stays a marker, never 0
    assert [v[f"sec2.art20_1.regulations.{c}"].state for c in ("issued", "repealed", "in_force")] == ["marker"] * 3
    assert v["sec2.art20_1.regulations.issued"].raw == "/"
    assert (v["sec2.art20_1.normative_docs.issued"].number, v["sec2.art20_1.normative_docs.in_force"].number) == (2, 7)
    assert v["sec2.art20_6.penalty.decisions"].number == 12  # colspan=3 value cell
    assert v["sec2.art20_8.admin_fees.amount_wan_yuan"].number == 1.5
    assert v["sec3.new_received.natural"].number == 5 and v["sec3.new_received.org.commercial"].number == 1
    assert v["sec3.granted.total"].state == "blank"  # blank total kept blank
    assert v["sec3.unable.not_held.natural"].number == 1
    assert v["sec3.other.overdue_correction.natural"].number == 0  # "，" instead of "、"
    assert v["sec4.review.upheld"].number == 1 and v["sec4.review.total"].number == 1
    # the <script> table is not data; the Hubei row is reported, not imported
    assert [i.code for i in res.issues] == ["EXTRA_ROW"]
    assert "其他主动公开文件" in res.issues[0].message
    # narrative: heading variants, prose kept, page chrome dropped
    assert res.narrative["sec1"] == "2023年，我局坚持以公开为常态。\n（一）主动公开。全年主动公开信息35条。"
    assert res.narrative["sec5"] == "一是公开内容还不够丰富。"
    assert res.narrative["sec6"].startswith("本年度未收取信息处理费。") and "打印本页" not in res.narrative["sec6"]
    assert res.phone == "0631-1234567"


def test_web_page_to_workbook(page: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import", str(page), "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert code == 0 and "200/200" in out and "其他主动公开文件" in out
    book = tmp_path / "o" / "2023年_某某区统计局_政府信息公开年报.xlsx"
    rr = read_file(book)
    ev = evaluate(rr)
    codes = [(f.code, f.key) for f in ev.findings if f.severity == "error"]
    # the published blank total is kept: the workbook shows a blank instead of the formula
    assert ("TOTAL_OVERWRITTEN", "sec3.granted.total") in codes
    assert rr.report.value("sec2.art20_1.regulations.issued").raw == "/"
    assert ev.numbers["sec3.new_received.total"] == 6  # an intact formula: recomputed from the inputs
    import openpyxl

    from xltool.workbook.layout import layout_for

    sheet, addr = layout_for(V2021).address["sec3.granted.total"]
    cell = openpyxl.load_workbook(book)[sheet][addr]
    assert cell.value is None and "空白" in cell.comment.text


def test_hostile_html_is_plain_text(tmp_path: Path) -> None:
    """html.parser knows no DTDs: an external entity is neither fetched nor expanded."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    text = (f'<!DOCTYPE html [<!ENTITY x SYSTEM "file://{secret}">]><html><body><p>&x;</p>'
            '<table><tr><td>行政许可</td><td>1</td></tr></table></body></html>')
    doc = from_html(text)
    assert all("TOPSECRET" not in p.text for p in doc.paras)
    # deep nesting is flattened beyond a bound instead of exhausting the stack
    deep = "<div>" * 5000 + "<table><tr><td>x</td></tr></table>" + "</div>" * 5000
    assert [p.text for p in from_html(deep).paras] == ["x"]
    nested = "<div>" * 300 + "<table><tr><td>x</td></tr></table>" + "</div>" * 300
    assert [r.cells for r in from_html(nested).rows] == [("x",)]


def test_docx_zip_bomb_and_other_formats(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b" " * (60 * 1024 * 1024) + b"</w:document>")
    bomb.write_bytes(buf.getvalue())
    with pytest.raises(DocumentError, match="压缩炸弹"):
        load(bomb)
    xls = tmp_path / "old.doc"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(DocumentError, match=r"\.docx"):
        load(xls)


def test_word_document_from_the_field(tmp_path: Path) -> None:
    """A Word file as agencies write it (python-docx here): merged cells, paragraphs, 1、 numbering."""
    import docx

    d = docx.Document()
    d.add_paragraph("某某镇人民政府2022年政府信息公开工作年度报告")
    d.add_paragraph("一、总体情况")
    d.add_paragraph("2022年，我镇认真落实条例。")
    # rebuild the tables of the web page in Word, merged as Word merges them
    src = from_html(PAGE)
    tables: dict[int, list[tuple[str, ...]]] = {}
    for r in src.rows:
        tables.setdefault(r.table, []).append(r.cells)
    for rows in tables.values():
        width = max(len(c) for c in rows)
        t = d.add_table(rows=len(rows), cols=width)
        for i, cells in enumerate(rows):
            for j, text in enumerate(cells):
                t.cell(i, j).text = text
    d.add_paragraph("五、存在的主要问题及改进情况")
    d.add_paragraph("无。")
    p = tmp_path / "镇.docx"
    d.save(str(p))
    res = import_file(p)
    assert res.kind == "docx" and res.agency.value == "某某镇人民政府" and res.year.value == 2022
    assert res.values["sec3.new_received.natural"].number == 5
    assert res.values["sec2.art20_8.admin_fees.amount_wan_yuan"].number == 1.5
    assert res.narrative == {"sec1": "2022年，我镇认真落实条例。", "sec5": "无。"}
    book = write_result(res, tmp_path / "o")
    assert read_file(book).report.meta.agency == "某某镇人民政府"
