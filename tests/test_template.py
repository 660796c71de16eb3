"""The locked templates, read back with openpyxl as a stranger would (no LibreOffice needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook as OpenpyxlWorkbook

from xltool.cli import main
from xltool.core.model import CellValue
from xltool.core.names import RosterEntry
from xltool.pipeline import template_refresh
from xltool.spec import V2019, V2021, Format, Kind, SpecError
from xltool.workbook.fileio import legacy_password_hash
from xltool.workbook.layout import (
    CHECK_OK,
    INFO_FIELDS,
    INFO_SHEET,
    META_SHEET,
    SHEET_ORDER,
    STATUS_OK,
    TABLE_SHEETS,
    TEXT_SHEET,
    layout_for,
    parse_a1,
)
from xltool.workbook.meta import parse_meta
from xltool.write.template import (
    DEFAULT_PASSWORD,
    FONT,
    TemplateError,
    template_filename,
    template_id_for,
    write_templates,
    write_workbook,
)

FORMATS = [(V2019, 2020), (V2021, 2025)]
IDS = ["v2019", "v2021"]


def norm(s: str) -> str:
    return "".join(s.split())


@pytest.fixture(scope="module")
def blanks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("blank")
    out = {}
    for fmt, year in FORMATS:
        out[fmt.id] = write_workbook(d / f"blank{fmt.id}.xlsx", fmt, year)
        out[fmt.id + "a"] = write_workbook(d / f"agency{fmt.id}.xlsx", fmt, year, agency="环翠区科学技术局")
    return out


def visible_texts(wb: OpenpyxlWorkbook) -> dict[str, set[tuple[str, str]]]:
    """Every text cell of the visible sheets, whitespace removed → where it is."""
    found: dict[str, set[tuple[str, str]]] = {}
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and not c.value.startswith("="):
                    found.setdefault(norm(c.value), set()).add((ws.title, c.coordinate))
    return found


def spec_labels(fmt: Format) -> set[str]:
    """Every official text of the format: headings, captions, row/column labels and groups."""
    out = {s.heading for s in fmt.sections}
    for t in fmt.tables:
        out |= {t.caption, t.header_first, t.column_root} - {""}
        for c in t.columns:
            out |= {c.label, *c.groups}
        for r in t.rows:
            out |= {r.label, *r.groups}
    return out


# --- names ------------------------------------------------------------------------------


def test_template_filenames() -> None:
    assert template_filename(2025, "环翠区科学技术局") == "2025年_环翠区科学技术局_政府信息公开年报.xlsx"
    assert template_filename(2025, None) == "2025年_政府信息公开年报模板.xlsx"
    assert template_filename(2020, " 环翠区民政局 ") == "2020年_环翠区民政局_政府信息公开年报.xlsx"
    for bad in (
        "环翠区/科技局",
        "财政局:预算科",
        'a"b',
        "a|b",
        "a?b",
        "a*b",
        "a<b",
        "a\\b",
        "CON",
        "局.",
        "  ",
    ):
        with pytest.raises(TemplateError):
            template_filename(2025, bad)


# --- structure and protection -------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "year"), FORMATS, ids=IDS)
def test_sheets_structure_lock_and_meta_hidden(blanks: dict[str, Path], fmt: Format, year: int) -> None:
    wb = load_workbook(blanks[fmt.id])
    assert tuple(wb.sheetnames) == SHEET_ORDER
    assert wb.security is not None and wb.security.lockStructure is True
    assert wb.security.workbookPassword == legacy_password_hash(DEFAULT_PASSWORD)
    for ws in wb.worksheets:
        assert ws.protection.sheet is True, ws.title
        assert ws.protection.password == legacy_password_hash(DEFAULT_PASSWORD), ws.title
        assert ws.protection.insertRows and ws.protection.deleteRows  # True = forbidden in openpyxl's model
        assert ws.protection.insertColumns and ws.protection.deleteColumns
        assert ws.sheet_state == ("veryHidden" if ws.title == META_SHEET else "visible")


def _input_cells(fmt: Format, agency_locked: bool) -> dict[str, set[str]]:
    """Cells a clerk may type in, with every cell of their merged range."""
    lay = layout_for(fmt)
    out: dict[str, set[str]] = {}

    def add(sheet: str, row: int, col: int, last_col: int | None) -> None:
        for c in range(col, (last_col if last_col is not None else col) + 1):
            out.setdefault(sheet, set()).add(f"{chr(65 + c)}{row + 1}")

    for sh in lay.sheets.values():
        for v in sh.inputs:
            add(sh.name, v.row, v.col, v.last_col)
    for v in lay.info.values:
        key = v.key.split(".", 1)[1]
        if key in ("year", "format") or (key == "agency" and agency_locked):
            continue
        add(INFO_SHEET, v.row, v.col, v.last_col)
    for v in lay.text.values:
        add(TEXT_SHEET, v.row, v.col, v.last_col)
    return out


@pytest.mark.parametrize("variant", ["", "a"])
@pytest.mark.parametrize(("fmt", "year"), FORMATS, ids=IDS)
def test_only_inputs_are_unlocked(blanks: dict[str, Path], fmt: Format, year: int, variant: str) -> None:
    wb = load_workbook(blanks[fmt.id + variant])
    inputs = _input_cells(fmt, agency_locked=variant == "a")
    n_inputs = 0
    for ws in wb.worksheets:
        allowed = inputs.get(ws.title, set())
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column):
            for c in row:
                if c.coordinate in allowed:
                    assert c.protection.locked is False, f"{ws.title}!{c.coordinate} should be an input"
                    n_inputs += 1
                else:
                    assert c.protection.locked is not False, f"{ws.title}!{c.coordinate} should be locked"
    assert n_inputs == sum(len(v) for v in inputs.values())
    lay = layout_for(fmt)
    assert len(fmt.input_keys) == sum(len(sh.inputs) for sh in lay.sheets.values())


@pytest.mark.parametrize(("fmt", "year"), FORMATS, ids=IDS)
def test_every_input_has_a_validation_of_its_kind(blanks: dict[str, Path], fmt: Format, year: int) -> None:
    wb = load_workbook(blanks[fmt.id])
    lay = layout_for(fmt)
    by_cell: dict[tuple[str, str], object] = {}
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                for row in ws[rng.coord] if ":" in rng.coord else [[ws[rng.coord]]]:
                    for c in row:
                        by_cell[(ws.title, c.coordinate)] = dv
    for key in fmt.input_keys:
        sheet, addr = lay.address[key]
        dv = by_cell.get((sheet, addr))
        assert dv is not None, f"no validation on {sheet}!{addr} ({key})"
        cd = fmt.cells[key]
        assert dv.errorStyle in (None, "stop")
        assert dv.showErrorMessage and dv.showInputMessage
        assert cd.row.label in dv.prompt and cd.column.label in dv.prompt
        if cd.kind is Kind.COUNT:
            assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0"), key
        elif cd.kind is Kind.SIGNED:
            assert (
                dv.type == "whole"
                and dv.operator in (None, "between")
                and int(dv.formula1) < 0 < int(dv.formula2)
            )
        else:
            assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0"), key
    for key, (sheet, addr) in lay.info_address.items():
        if key in ("year", "format"):
            assert (sheet, addr) not in by_cell
        else:
            assert by_cell[(sheet, addr)].type == "textLength", key
    for _key, (sheet, addr) in lay.text_address.items():
        assert by_cell[(sheet, addr)].type == "textLength"
    kinds = {fmt.cells[k].kind for k in fmt.input_keys}
    assert kinds == ({Kind.COUNT, Kind.SIGNED, Kind.AMOUNT} if fmt is V2019 else {Kind.COUNT, Kind.AMOUNT})


# --- labels, merges, formulas ------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "year"), FORMATS, ids=IDS)
def test_a_stranger_finds_every_official_label_at_the_layout_address(
    blanks: dict[str, Path], fmt: Format, year: int
) -> None:
    wb = load_workbook(blanks[fmt.id])
    found = visible_texts(wb)
    lay = layout_for(fmt)
    layout_at: dict[str, set[tuple[str, str]]] = {}
    for sh in lay.all_sheets():
        for lab in sh.labels:
            layout_at.setdefault(norm(lab.text), set()).add((sh.name, lab.addr))
    labels = spec_labels(fmt)
    assert len(labels) > 40
    for text in labels:
        t = norm(text)
        assert t in found, f"label {text!r} not found in the workbook"
        assert found[t] == layout_at[t], f"{text!r} at {sorted(found[t])}, layout says {sorted(layout_at[t])}"
    # and the cell holds the label exactly (no typed line breaks or changed punctuation)
    for sh in lay.all_sheets():
        for lab in sh.labels:
            assert wb[sh.name][lab.addr].value == lab.text


@pytest.mark.parametrize(("fmt", "year"), FORMATS, ids=IDS)
def test_merges_and_formulas_are_the_layouts(blanks: dict[str, Path], fmt: Format, year: int) -> None:
    wb = load_workbook(blanks[fmt.id])
    lay = layout_for(fmt)
    for sh in lay.all_sheets():
        ws = wb[sh.name]
        assert {str(m) for m in ws.merged_cells.ranges} == set(sh.merges()), sh.name
        formulas = {
            c.coordinate: c.value[1:]
            for row in ws.iter_rows()
            for c in row
            if isinstance(c.value, str) and c.value.startswith("=")
        }
        expected = {f.addr: f.text for f in sh.formulas.values()}
        expected |= {c.addr: c.text for c in sh.checks}
        if sh.status:
            expected[sh.status.addr] = sh.status.text
        assert formulas == expected, sh.name


@pytest.mark.parametrize(("fmt", "year"), FORMATS, ids=IDS)
def test_blank_template_cached_values(blanks: dict[str, Path], fmt: Format, year: int) -> None:
    wb = load_workbook(blanks[fmt.id], data_only=True)
    lay = layout_for(fmt)
    for key in fmt.formulas:
        sheet, addr = lay.address[key]
        assert wb[sheet][addr].value == 0
    sh = lay.sheets["sec3"]
    assert [wb[sh.name][c.addr].value for c in sh.checks] == [CHECK_OK] * len(sh.checks)
    assert sh.status is not None and wb[sh.name][sh.status.addr].value == STATUS_OK
    for key in fmt.input_keys:
        sheet, addr = lay.address[key]
        assert wb[sheet][addr].value is None


@pytest.mark.parametrize(("fmt", "year"), FORMATS, ids=IDS)
def test_info_sheet_prefill(blanks: dict[str, Path], fmt: Format, year: int) -> None:
    lay = layout_for(fmt)
    blank = load_workbook(blanks[fmt.id])
    named = load_workbook(blanks[fmt.id + "a"])
    sheet, addr = lay.info_address["year"]
    assert blank[sheet][addr].value == year and blank[sheet][addr].protection.locked
    sheet, addr = lay.info_address["format"]
    assert str(blank[sheet][addr].value).startswith(fmt.id) and fmt.document in blank[sheet][addr].value
    sheet, addr = lay.info_address["agency"]
    assert blank[sheet][addr].value is None and blank[sheet][addr].protection.locked is False
    assert named[sheet][addr].value == "环翠区科学技术局" and named[sheet][addr].protection.locked
    assert [blank[INFO_SHEET][a].value for _k, (_s, a) in lay.info_address.items()][4:] == [None, None, None]
    assert len(lay.info_address) == len(INFO_FIELDS)


# --- looks -----------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "year"), FORMATS, ids=IDS)
def test_font_fill_print_setup(blanks: dict[str, Path], fmt: Format, year: int) -> None:
    wb = load_workbook(blanks[fmt.id + "a"])
    lay = layout_for(fmt)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    assert c.font.name == FONT, f"{ws.title}!{c.coordinate}"
        if ws.sheet_state == "visible":
            assert ws.page_setup.paperSize == 9  # A4
            assert (
                ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
            )  # 1 is the default
            assert ws.sheet_properties.pageSetUpPr.fitToPage
            assert "环翠区科学技术局" in ws.oddHeader.left.text
    for sec, sh in lay.sheets.items():
        ws = wb[TABLE_SHEETS[sec][0]]
        assert ws.page_setup.orientation == ("landscape" if sh.landscape else "portrait")
        if sh.header_rows != (0, 0):
            assert ws.print_title_rows == f"${sh.header_rows[0] + 1}:${sh.header_rows[1] + 1}"
        for v in sh.inputs:
            c = ws[v.addr]
            assert c.fill.fgColor.rgb.endswith("FFF2CC") and c.border.left.style == "thin"
        for addr in sh.formulas:
            assert not ws[addr].fill.fgColor.rgb.endswith("FFF2CC")
    assert lay.sheets["sec3"].landscape and lay.sheets["sec4"].landscape


@pytest.mark.parametrize(("fmt", "year"), FORMATS, ids=IDS)
def test_conditional_formats_mark_checks_status_and_inputs(
    blanks: dict[str, Path], fmt: Format, year: int
) -> None:
    wb = load_workbook(blanks[fmt.id])
    lay = layout_for(fmt)
    for sec, sh in lay.sheets.items():
        ws = wb[sh.name]
        covered: dict[str, list[str]] = {}
        for rng in ws.conditional_formatting:
            for cr in rng.sqref.ranges:
                (r0, c0), (r1, c1) = parse_a1(cr.coord.split(":")[0]), parse_a1(cr.coord.split(":")[-1])
                for r in range(r0, r1 + 1):
                    for c in range(c0, c1 + 1):
                        covered.setdefault(f"{chr(65 + c)}{r + 1}", []).extend(
                            f for rule in rng.rules for f in rule.formula
                        )
        for v in sh.inputs:
            rules = " ".join(covered.get(v.addr, []))
            assert "ISTEXT" in rules, f"{sec} {v.addr}"
            assert ("<0" in rules) == (fmt.cells[v.key].kind is not Kind.SIGNED), f"{sec} {v.addr}"
        for c in sh.checks:
            assert any("不平衡" in f for f in covered[c.addr])
        if sh.status:
            assert any(STATUS_OK in f for f in covered[sh.status.addr])


# --- the metadata sheet --------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "year"), FORMATS, ids=IDS)
def test_meta_sheet_describes_the_template(blanks: dict[str, Path], fmt: Format, year: int) -> None:
    wb = load_workbook(blanks[fmt.id + "a"], read_only=True)
    meta = parse_meta(wb[META_SHEET].iter_rows(values_only=True))
    wb.close()
    lay = layout_for(fmt)
    f = meta.fields
    assert f["kind"] == "template" and f["format"] == fmt.id and f["year"] == str(year)
    assert f["agency"] == "环翠区科学技术局"
    assert f["fingerprint"] == lay.fingerprint()
    assert f["template_id"] == template_id_for(fmt, year, "环翠区科学技术局")
    assert f["tool_version"] and f["created"][:4].isdigit()
    inputs = meta.addresses("input")
    formulas = meta.addresses("formula")
    assert set(inputs) == set(fmt.input_keys) and set(formulas) == set(fmt.formulas)
    assert all(lay.address[k] == v for k, v in {**inputs, **formulas}.items())
    assert meta.addresses("info") == lay.info_address
    assert meta.addresses("text") == lay.text_address
    assert len(meta.addresses("check")) == len(lay.sheets["sec3"].checks)
    assert list(meta.addresses("status").values()) == [
        (lay.sheets["sec3"].name, lay.sheets["sec3"].status.addr)
    ]
    details = {k: d for r, k, _s, _c, d in meta.cells if r == "info"}
    assert details["agency"] == "locked" and details["filler"] == "input"


def test_meta_parses_from_python_calamine_too(blanks: dict[str, Path]) -> None:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(blanks["2021"]))
    rows = wb.get_sheet_by_name(META_SHEET).to_python(skip_empty_area=False)
    meta = parse_meta(rows)
    assert meta.fields["year"] == "2025" and meta.fields["agency"] == ""
    assert len(meta.addresses("input")) == len(V2021.input_keys)


def test_template_id_is_deterministic_and_distinct() -> None:
    a = template_id_for(V2021, 2025, "环翠区科学技术局")
    assert a == template_id_for(V2021, 2025, "环翠区 科学技术局")
    assert a != template_id_for(V2021, 2025, "环翠区民政局")
    assert a != template_id_for(V2021, 2024, "环翠区科学技术局")
    assert a.startswith("2025-2021-")


# --- filled workbooks ----------------------------------------------------------------------


def test_filled_values_text_and_overrides(tmp_path: Path) -> None:
    lay = layout_for(V2021)
    values: dict[str, object] = {
        "sec3.new_received.natural": 5,
        "sec3.carried_over.natural": 1,
        "sec3.granted.natural": 4,
        "sec3.carry_forward.natural": 3,
        "sec3.granted.org.commercial": CellValue.of(3),
        "sec3.partial.org.commercial": "/",
        "sec3.partial.org.research": "１２",
        "sec3.denied.state_secret.natural": CellValue(state="marker", raw="无"),
        "sec2.art20_8.admin_fees.amount_wan_yuan": 12.5,
        "sec4.review.upheld": 2,
        "sec3.total_processed.natural": 999,  # a formula key: ignored, the workbook computes it
    }
    p = write_workbook(
        tmp_path / "f.xlsx",
        V2021,
        2025,
        values=values,
        overrides={"sec4.review.total": 7},
        info={"filler": "张三", "phone": "0631-5223481", "fill_date": "2026-01-15"},
        narrative={"sec1": "一、总体情况正文\n第二段", "sec6": "未收取信息处理费。"},
    )
    wb = load_workbook(p, data_only=True)

    def cell(k: str):
        return wb[lay.address[k][0]][lay.address[k][1]]

    assert cell("sec3.new_received.natural").value == 5
    assert cell("sec3.granted.org.commercial").value == 3
    assert (
        cell("sec3.partial.org.commercial").value == "/"
        and cell("sec3.partial.org.commercial").data_type == "s"
    )
    assert cell("sec3.partial.org.research").value == "１２"
    assert cell("sec3.denied.state_secret.natural").value == "无"
    assert cell("sec2.art20_8.admin_fees.amount_wan_yuan").value == 12.5
    assert cell("sec3.total_processed.natural").value == 4  # granted 4, nothing else numeric
    assert cell("sec3.granted.total").value == 7
    assert cell("sec4.review.total").value == 7
    sh = lay.sheets["sec3"]
    checks = {c.relation.column: wb[sh.name][c.addr].value for c in sh.checks}
    assert checks["natural"] == "不平衡"  # 5 + 1 != 4 + 3
    assert checks["org.commercial"] == "不平衡"  # 0 + 0 != 3 + 0
    assert checks["org.research"] == CHECK_OK  # text ignored by SUM; 0 + 0 = 0 + 0
    assert checks["total"] == "不平衡"  # 6 != 7 + 3
    # 3 unbalanced columns + 3 text cells in the 表三 input range
    assert wb[sh.name][sh.status.addr].value == "尚有6处问题，请查看标红单元格"
    raw = load_workbook(p)
    assert (
        raw[lay.address["sec4.review.total"][0]][lay.address["sec4.review.total"][1]].value == 7
    )  # no formula
    assert raw[lay.address["sec4.suit_direct.total"][0]][
        lay.address["sec4.suit_direct.total"][1]
    ].value.startswith("=SUM(")
    s, a = lay.info_address["phone"]
    assert raw[s][a].value == "0631-5223481" and raw[s][a].number_format == "@"
    s, a = lay.text_address["sec1"]
    assert raw[s][a].value == "一、总体情况正文\n第二段"


def test_notes_prefill_notes_and_before_sheets(tmp_path: Path) -> None:
    lay = layout_for(V2021)
    sheet, addr = lay.address["sec3.granted.natural"]
    p = write_workbook(
        tmp_path / "n.xlsx",
        V2021,
        2025,
        agency="环翠区民政局",
        values={"sec3.carried_over.natural": 3},
        notes={(sheet, addr): "此处应为整数", (INFO_SHEET, lay.info_address["phone"][1]): "请填写联系电话"},
        prefill_notes={"sec3.carried_over.natural": "由上年“结转下年度继续办理”自动带入"},
        before_sheets=lambda wb: wb.add_worksheet("校验结果").write(0, 0, "问题清单"),
    )
    wb = load_workbook(p)
    assert wb.sheetnames[0] == "校验结果" and tuple(wb.sheetnames[1:]) == SHEET_ORDER
    c = wb[sheet][addr]
    assert c.comment is not None and "整数" in c.comment.text
    assert c.fill.fgColor.rgb.endswith("F4B084") and c.protection.locked is False  # still an input
    phone = wb[INFO_SHEET][lay.info_address["phone"][1]]
    assert phone.comment is not None and phone.fill.fgColor.rgb.endswith("F4B084")
    s2, a2 = lay.address["sec3.carried_over.natural"]
    pre = wb[s2][a2]
    assert pre.value == 3 and pre.comment is not None and "上年" in pre.comment.text
    assert pre.fill.fgColor.rgb.endswith("FFF2CC")


def test_bad_arguments_raise(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        write_workbook(tmp_path / "a.xlsx", V2021, 2025, values={"sec3.other.natural": 1})  # a V2019 key
    with pytest.raises(KeyError):
        write_workbook(
            tmp_path / "a.xlsx", V2021, 2025, overrides={"sec3.granted.natural": 1}
        )  # not a formula
    with pytest.raises(KeyError):
        write_workbook(tmp_path / "a.xlsx", V2021, 2025, narrative={"sec2": "x"})
    with pytest.raises(TypeError):
        write_workbook(tmp_path / "a.xlsx", V2021, 2025, values={"sec3.granted.natural": True})
    with pytest.raises(SpecError):
        write_workbook(tmp_path / "a.xlsx", V2021, 2020)  # 2021 format cannot be used for 2020
    assert not list(tmp_path.iterdir())


def test_existing_file_is_kept_without_overwrite(tmp_path: Path) -> None:
    p = tmp_path / "t.xlsx"
    p.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        write_workbook(p, V2021, 2025)
    assert p.read_bytes() == b"old"
    write_workbook(p, V2021, 2025, overwrite=True)
    assert p.read_bytes()[:2] == b"PK"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["t.xlsx"]  # no temporary files left


def test_write_templates_checks_all_targets_first(tmp_path: Path) -> None:
    agencies = [RosterEntry("环翠区民政局"), RosterEntry("环翠区财政局"), RosterEntry("环翠区信访局")]
    existing = tmp_path / template_filename(2025, "环翠区财政局")
    existing.write_bytes(b"old")
    with pytest.raises(TemplateError, match="已经存在"):
        write_templates(tmp_path, 2025, agencies=agencies)
    assert sorted(x.name for x in tmp_path.iterdir()) == [existing.name]
    with pytest.raises(TemplateError, match="重复"):
        write_templates(tmp_path, 2025, agencies=[*agencies, RosterEntry("环翠区 民政局")], overwrite=True)
    assert existing.read_bytes() == b"old"
    paths = write_templates(tmp_path, 2025, agencies=agencies, overwrite=True)
    assert [p.name for p in paths] == [template_filename(2025, a.name) for a in agencies]
    assert all(load_workbook(p, read_only=True) for p in paths)


def test_write_templates_blank_and_format_by_year(tmp_path: Path) -> None:
    (p,) = write_templates(tmp_path, 2020)
    assert p.name == "2020年_政府信息公开年报模板.xlsx"
    wb = load_workbook(p, read_only=True)
    assert parse_meta(wb[META_SHEET].iter_rows(values_only=True)).fields["format"] == "2019"
    wb.close()


# --- committed templates --------------------------------------------------------------------


def test_committed_templates_are_fresh() -> None:
    stale = template_refresh.stale()
    assert stale == [], (
        f"templates/ is stale: {stale}; run `make templates` (python -m xltool.pipeline.template_refresh)"
    )


def test_template_refresh_is_byte_reproducible(tmp_path: Path) -> None:
    a = template_refresh.refresh(tmp_path / "a")
    b = template_refresh.refresh(tmp_path / "b")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_semantic_dump_sees_a_change(tmp_path: Path) -> None:
    (a, _b) = template_refresh.refresh(tmp_path)
    before = template_refresh.semantic_dump(a)
    write_workbook(a, V2019, 2020, overwrite=True, created=template_refresh.FIXED_CREATED, password="other")
    assert template_refresh.semantic_dump(a) != before


# --- CLI ------------------------------------------------------------------------------------------


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_roster_and_agency(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster = tmp_path / "名单.csv"
    roster.write_bytes("单位名称,联系人\r\n环翠区民政局,李四\r\n环翠区财政局,\r\n".encode("gbk"))
    out_dir = tmp_path / "out"
    code, out, err = run_cli(
        ["template", "--year", "2025", "--roster", str(roster), "--out", str(out_dir)], capsys
    )
    assert code == 0, err
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(template_filename(2025, n) for n in ("环翠区民政局", "环翠区财政局"))
    assert out.count("已生成：") == 2 and "共生成 2 个单位模板" in out and "2021 格式" in out
    wb = load_workbook(out_dir / template_filename(2025, "环翠区民政局"))
    s, a = layout_for(V2021).info_address["filler"]
    assert wb[s][a].value == "李四"  # roster 联系人 prefilled as 填报人


def test_cli_roster_with_agency_makes_that_agencys_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--roster R --agency X: X's template only, from its roster row (code and contact)."""
    roster = tmp_path / "名单.csv"
    roster.write_bytes(
        "单位名称,统一社会信用代码,联系人\r\n环翠区民政局,11371002MB2851234X,李四\r\n环翠区财政局,,王五\r\n".encode("gbk")
    )
    out_dir = tmp_path / "out"
    argv = ["template", "--year", "2025", "--roster", str(roster), "--out", str(out_dir)]
    code, out, err = run_cli([*argv, "--agency", "环翠区 民政局"], capsys)
    assert code == 0, err
    assert [p.name for p in out_dir.iterdir()] == [template_filename(2025, "环翠区民政局")]
    assert "共生成 1 个单位模板" in out
    wb = load_workbook(out_dir / template_filename(2025, "环翠区民政局"))
    lay = layout_for(V2021)
    cell = {k: wb[s][a].value for k, (s, a) in lay.info_address.items()}
    assert (cell["agency"], cell["credit_code"], cell["filler"]) == ("环翠区民政局", "11371002MB2851234X", "李四")
    # an agency that is not on the roster: a clear message, nothing written
    code, out, err = run_cli([*argv, "--agency", "环翠区民政", "--force"], capsys)
    assert code == 2 and out == ""
    assert "单位“环翠区民政”不在名单文件“名单.csv”中" in err and "环翠区民政局" in err
    assert [p.name for p in out_dir.iterdir()] == [template_filename(2025, "环翠区民政局")]


def test_cli_blank_template_2019_format_and_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run_cli(
        ["template", "--year", "2023", "--format", "2019", "--password", "abc", "--out", str(tmp_path)],
        capsys,
    )
    assert code == 0
    (p,) = tmp_path.iterdir()
    wb = load_workbook(p)
    assert wb["表二 主动公开"].protection.password == legacy_password_hash("abc")
    assert "2019 格式" in out and "1 个通用模板" in out


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--format", "2022"], "未知的报告格式"),
        (["--format", "2021", "--year", "2020"], "不能使用 2021 格式"),
        (["--year", "2018"], "不在支持范围内"),
        (["--agency", "环翠区/科技局"], "Windows 文件名不允许的字符"),
        (["--agency", "环翠区民政局", "--agency", "环翠区 民政局"], "重复"),
        (["--agency", " "], "是空的"),
        (["--roster", "{tmp}/none.csv"], "找不到名单文件"),
        (["--roster", "{tmp}/empty.csv"], "空的"),
        (["--roster", "{tmp}/nohdr.csv"], "没有“单位名称”列"),
        (["--roster", "{tmp}/dup.csv"], "第 2 行、第 3 行"),
        (["--roster", "{tmp}/dup.csv", "--agency", "x"], "重复"),
        (["--roster", "{tmp}/bad.csv"], "“*”"),
        (["--password", "政务公开"], "第 1 个字符“政”不是英文字母、数字或英文标点"),
        (["--password", "ｚｗｇｋ"], "第 1 个字符“ｚ”"),
        (["--password", "abc\tdef"], "第 4 个字符“U+0009”"),
        (["--password", "a" * 16], "共 16 个字符，超过 15 个"),
    ],
)
def test_cli_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expect: str
) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "nohdr.csv").write_bytes("名称\r\n环翠区民政局\r\n".encode())
    (tmp_path / "dup.csv").write_bytes("单位名称\r\n环翠区民政局\r\n环翠区民政局\r\n".encode())
    (tmp_path / "bad.csv").write_bytes("单位名称\r\n环翠区民政局\r\n环翠区*科技局\r\n".encode("gbk"))
    out_dir = tmp_path / "out"
    argv = ["template", "--out", str(out_dir)]
    if "--year" not in args:
        argv += ["--year", "2025"]
    argv += [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert expect in err and err.startswith("错误：")
    assert out == ""
    assert not out_dir.exists()


def test_cli_password_printable_ascii_up_to_15(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pw = "Zw g!k~2025#$%&"  # 15 characters, spaces and punctuation included
    code, _out, err = run_cli(["template", "--year", "2025", "--password", pw, "--out", str(tmp_path)], capsys)
    assert code == 0, err
    (p,) = tmp_path.iterdir()
    assert load_workbook(p)["表三 依申请公开"].protection.password == legacy_password_hash(pw)
    with pytest.raises(ValueError, match="不能使用"):  # the API refuses too (TemplateError)
        write_workbook(tmp_path / "x.xlsx", V2021, 2025, password="密码")
    assert not (tmp_path / "x.xlsx").exists()


def test_cli_year_after_this_year_is_refused_this_year_is_noted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Report year Y is collected in early Y+1: a later year is a typo; this year gets a note."""
    import datetime as dt

    this = dt.date.today().year
    out_dir = tmp_path / "out"
    for cmd in (["template", "--out", str(out_dir)], ["check", str(tmp_path)], ["combine", str(tmp_path), "--out",
                str(out_dir / "汇总.xlsx")], ["import", str(tmp_path / "x.txt"), "--out", str(out_dir)]):
        code, out, err = run_cli([*cmd, "--year", str(this + 1)], capsys)
        assert code == 2 and out == "", cmd
        assert f"报告年度 {this + 1} 晚于今年（{this} 年）" in err and f"今年报送的是 {this - 1} 年度的报告" in err
        assert "2019 格式（国办公开办函〔2019〕60号）用于 2019–2020 年度" in err and "2021 年度起" in err
        assert not out_dir.exists()
    code, out, err = run_cli(["template", "--out", str(out_dir), "--year", str(this)], capsys)
    assert code == 0, err
    assert f"提示：{this} 年度的报告要到 {this + 1} 年年初才报送" in out and f"--year {this - 1}" in out
    code, out, err = run_cli(["template", "--out", str(out_dir), "--year", str(this - 1), "--force"], capsys)
    assert code == 0 and "提示" not in out
    code, out, err = run_cli(["template", "--out", str(out_dir), "--year", "2018"], capsys)
    assert code == 2 and "不在支持范围内" in err and "2019–2020 年度" in err


def test_cli_help_states_the_years_of_each_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["template", "--help"])
    out = "".join(capsys.readouterr().out.split())  # argparse wraps the help text
    assert "2019格式（国办公开办函〔2019〕60号）用于2019–2020年度" in out
    assert "2021格式（国办公开办函〔2021〕30号）用于2021年度起" in out
    assert "不能晚于今年" in out


def test_cli_existing_output_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kept = tmp_path / template_filename(2025, "环翠区财政局")
    kept.write_bytes(b"old")
    argv = [
        "template",
        "--year",
        "2025",
        "--agency",
        "环翠区民政局",
        "--agency",
        "环翠区财政局",
        "--out",
        str(tmp_path),
    ]
    code, _out, err = run_cli(argv, capsys)
    assert code == 2 and "已经存在" in err and kept.name in err and "--force" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [kept.name]  # the other one was not written either
    assert kept.read_bytes() == b"old"
    code, out, _err = run_cli([*argv, "--force"], capsys)
    assert code == 0 and out.count("已生成：") == 2
    assert kept.read_bytes()[:2] == b"PK"


def test_cli_help_is_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["template", "--help"])
    assert ei.value.code == 0
    out = capsys.readouterr().out
    for word in ("报告年度", "报告格式", "单位名单", "输出文件夹", "覆盖"):
        assert word in out


def test_cli_missing_year_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["template"])
    assert ei.value.code == 2
    assert "缺少必需的参数" in capsys.readouterr().err


def test_cli_entry_point_exit_code(tmp_path: Path) -> None:
    """The installed console script, as a clerk runs it."""
    exe = Path(sys.executable).parent / ("xltool.exe" if os.name == "nt" else "xltool")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "xltool"]

    def run(*a: str) -> subprocess.CompletedProcess[str]:
        argv = [*cmd, "template", *a, "--out", str(tmp_path)]
        return subprocess.run(argv, capture_output=True, text=True, encoding="utf-8")

    proc = run("--year", "2020", "--format", "2021")
    assert proc.returncode == 2 and "2021 格式" in proc.stderr and proc.stdout == ""
    assert not list(tmp_path.iterdir())
    proc = run("--year", "2025")
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == [template_filename(2025, None)]
