"""Roster files as clerks make them: CSV in UTF-8 (with/without BOM) or GBK, XLSX, XLS, TXT."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from xltool.read.roster import RosterEntry, RosterError, normalize_name, read_roster

ROWS = [
    ["单位名称", "统一社会信用代码", "联系人"],
    ["环翠区科学技术局", "11371002MB2851234X", "张三"],
    ["环翠区民政局", "", "李四"],
    ["威海市环翠区鲸园街道办事处", "", ""],
]
EXPECTED = [
    RosterEntry("环翠区科学技术局", "11371002MB2851234X", "张三"),
    RosterEntry("环翠区民政局", None, "李四"),
    RosterEntry("威海市环翠区鲸园街道办事处", None, None),
]


def _csv(path: Path, rows: list[list[str]], encoding: str, sep: str = ",") -> Path:
    path.write_bytes(("\r\n".join(sep.join(r) for r in rows) + "\r\n").encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    p = _csv(tmp_path / "名单.csv", ROWS, encoding)
    entries = read_roster(p)
    assert entries == EXPECTED
    assert [e.row for e in entries] == [2, 3, 4]


def test_gbk_bytes_really_are_not_utf8(tmp_path: Path) -> None:
    """Guard for the test above: the GBK file must not decode as UTF-8 by accident."""
    p = _csv(tmp_path / "名单.csv", ROWS, "gbk")
    with pytest.raises(UnicodeDecodeError):
        p.read_bytes().decode("utf-8")


def test_tab_separated_csv(tmp_path: Path) -> None:
    p = _csv(tmp_path / "名单.csv", ROWS, "utf-8-sig", sep="\t")
    assert read_roster(p) == EXPECTED


def test_xlsx_first_sheet_with_title_row_and_extra_columns(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["2025年度政府信息公开年报报送单位名单"])
    ws.append(["序号", "单位 名称", "联系人", "统一社会信用代码", "备注"])  # header with a stray space
    ws.append([1, " 环翠区科学技术局 ", "张三", "11371002mb2851234x", "x"])
    ws.append([None, None, None, None, None])  # blank row is skipped
    ws.append([2, "环翠区民政局", "李四", None, None])
    ws.append([3, "威海市环翠区鲸园街道办事处", None, None, None])
    other = wb.create_sheet("其他")
    other.append(["单位名称"])
    other.append(["不应读取的单位"])
    p = tmp_path / "名单.xlsx"
    wb.save(p)
    entries = read_roster(p)
    assert entries == EXPECTED  # name stripped, credit code upper-cased
    assert [e.row for e in entries] == [3, 5, 6]


def test_normalize_name() -> None:
    assert normalize_name("环翠区 科学技术局") == normalize_name("环翠区科学技术局")
    assert normalize_name("环翠区（科协）\t") == "环翠区(科协)"
    assert normalize_name("ＡＢＣ１２") == "ABC12"
    assert normalize_name("环翠区民政局") != normalize_name("环翠区财政局")


def _err(tmp_path: Path, content: bytes | None, name: str = "名单.csv") -> str:
    p = tmp_path / name
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(RosterError) as ei:
        read_roster(p)
    return str(ei.value)


def test_errors_missing_empty_and_no_header(tmp_path: Path) -> None:
    assert "找不到名单文件" in _err(tmp_path, None, "不存在.csv")
    assert "空的" in _err(tmp_path, b"")
    assert "空的" in _err(tmp_path, b"\r\n,,\r\n")
    msg = _err(tmp_path, "名称,联系人\r\n环翠区民政局,李四\r\n".encode())
    assert "没有“单位名称”列" in msg
    assert "没有任何单位" in _err(tmp_path, "单位名称,联系人\r\n".encode())


def test_error_unsupported_and_corrupt_files(tmp_path: Path) -> None:
    assert "类型不支持" in _err(tmp_path, b"x", "名单.doc")
    assert "无法打开" in _err(tmp_path, b"x", "名单.xls")
    assert "无法打开" in _err(tmp_path, b"PK\x03\x04 not really a zip", "名单.xlsx")
    assert "编码无法识别" in _err(tmp_path, b"\xff\xfe\x00\xd8\x81\x81\xff", "名单.csv")


def test_error_duplicates_name_the_rows(tmp_path: Path) -> None:
    rows = [["单位名称"], ["环翠区民政局"], ["环翠区财政局"], ["环翠区 民政局"], ["环翠区民政局"]]
    msg = _err(tmp_path, "\r\n".join(",".join(r) for r in rows).encode("gbk"))
    assert "环翠区民政局" in msg and "重复" in msg
    assert "第 2 行、第 4 行、第 5 行" in msg
    assert "环翠区财政局" not in msg


def test_error_illegal_file_name_characters_are_listed(tmp_path: Path) -> None:
    rows = [["单位名称"], ["环翠区/科技局"], ["环翠区民政局"], ["财政局:预算科"], ["CON"], ["局."]]
    msg = _err(tmp_path, "\r\n".join(",".join(r) for r in rows).encode("utf-8-sig"))
    assert "第 2 行“环翠区/科技局”" in msg and "“/”" in msg
    assert "第 4 行“财政局:预算科”" in msg and "“:”" in msg
    assert "第 5 行“CON”" in msg and "保留" in msg
    assert "第 6 行“局.”" in msg
    assert "环翠区民政局" not in msg


def test_error_row_without_name(tmp_path: Path) -> None:
    msg = _err(tmp_path, "单位名称,联系人\r\n环翠区民政局,李四\r\n,王五\r\n".encode())
    assert "第 3 行" in msg and "单位名称" in msg


def test_xls_roster_made_by_libreoffice(tmp_path: Path, soffice_profile: Path) -> None:
    """An old-format .xls (BIFF8, as Excel 2003 and WPS save it), converted from an .xlsx."""
    from xltool.workbook.soffice import convert

    wb = Workbook()
    ws = wb.active
    ws.append(["2025年度报送单位名单"])
    for r in ROWS:
        ws.append(r)
    src = tmp_path / "名单.xlsx"
    wb.save(src)
    (xls,) = convert([src], tmp_path / "xls", "xls", profile=soffice_profile)
    assert xls.suffix == ".xls" and xls.read_bytes()[:4] == bytes.fromhex("D0CF11E0")
    entries = read_roster(xls)
    assert entries == EXPECTED
    assert [e.row for e in entries] == [3, 4, 5]
    # an .xlsx that was renamed .xls is read too
    renamed = tmp_path / "改名.xls"
    renamed.write_bytes(src.read_bytes())
    assert read_roster(renamed) == EXPECTED


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_txt_roster_one_name_a_line(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "名单.txt"
    p.write_bytes("环翠区科学技术局\r\n\r\n  环翠区民政局 \r\n威海市环翠区鲸园街道办事处\r\n".encode(encoding))
    entries = read_roster(p)
    assert [e.name for e in entries] == [e.name for e in EXPECTED]
    assert [e.row for e in entries] == [1, 3, 4]  # line numbers, for messages
    assert all(e.credit_code is None and e.contact is None for e in entries)


def test_txt_roster_with_header_or_pasted_table_and_errors(tmp_path: Path) -> None:
    p = tmp_path / "名单.txt"
    p.write_text("单位名称\n环翠区民政局\n环翠区财政局\n", encoding="utf-8")
    assert [e.name for e in read_roster(p)] == ["环翠区民政局", "环翠区财政局"]
    p.write_text("\t".join(ROWS[0]) + "\n" + "\n".join("\t".join(r) for r in ROWS[1:]) + "\n", encoding="utf-8")
    assert read_roster(p) == EXPECTED  # columns pasted from Excel into Notepad
    assert "空的" in _err(tmp_path, b"\r\n  \r\n", "名单.txt")
    msg = _err(tmp_path, "环翠区民政局\n环翠区/科技局\n环翠区民政局\n".encode("gbk"), "名单.txt")
    assert "第 2 行“环翠区/科技局”" in msg and "第 1 行、第 3 行" in msg
    assert "编码无法识别" in _err(tmp_path, b"\xff\xfe\x00\xd8\x81\x81\xff", "名单.txt")
