"""``xltool check`` end to end: a folder of real workbooks, one per kind of mistake.

Files are written with the template writer (as agencies return them), edited with
openpyxl where an agency would edit by hand, or built as plain workbooks (foreign tables).
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xltool.cli import main
from xltool.core.findings import REGISTRY
from xltool.pipeline.check import CheckError, check_paths
from xltool.pipeline.synth import synth_values, totals
from xltool.spec import V2021
from xltool.workbook.layout import layout_for
from xltool.write.template import write_workbook

YEAR = 2025
FMT = V2021
LAY = layout_for(FMT)
JSON_FILE_KEYS = {"path", "agency", "year", "format", "status", "sha256", "issues"}
JSON_ISSUE_KEYS = {"severity", "code", "sheet", "cell", "row", "column", "expected", "actual", "message"}


def base_values(seed: int = 7) -> dict[str, Any]:
    return dict(synth_values(FMT, random.Random(seed), size=6))


def addr(key: str) -> str:
    return LAY.address[key][1]


def zero_key(vals: dict[str, Any], prefix: str = "sec3.") -> str:
    return next(k for k in FMT.input_keys if k.startswith(prefix) and vals.get(k) == 0)


def positive_key(vals: dict[str, Any], prefix: str = "sec3.") -> str:
    return next(k for k in FMT.input_keys if k.startswith(prefix) and (vals.get(k) or 0) > 1)


def full_width(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def write_foreign(path: Path, vals: dict[str, Any], agency: str, blank_totals: tuple[str, ...] = ()) -> dict[str, str]:
    """The official tables pasted into one plain sheet at an offset; returns key → A1 written."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "年报"
    ws["A1"] = f"单位名称：{agency}"
    where: dict[str, str] = {}
    off = 3
    for sec in ("sec2", "sec3", "sec4"):
        sh = LAY.sheets[sec]
        for lab in sh.labels:
            ws.cell(off + lab.row + 1, lab.col + 2, lab.text)
        for v in sh.values:
            c = ws.cell(off + v.row + 1, v.col + 2, None if v.key in blank_totals else vals[v.key])
            where[v.key] = c.coordinate
        off += max(v.row for v in sh.values) + 4
    wb.save(path)
    return where


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One file per kind of mistake; returns the folder and what each file should show."""
    d = tmp_path_factory.mktemp("returns")
    info: dict[str, Any] = {"dir": d}
    vals = base_values()

    def w(name: str, agency: str, values: dict[str, Any], **kw: Any) -> Path:
        return write_workbook(d / name, FMT, YEAR, agency=agency, values=values, **kw)

    w("good.xlsx", "甲局", vals)
    k_bal = "sec3.carry_forward.natural"
    w("balance.xlsx", "乙局", {**vals, k_bal: vals[k_bal] + 1})
    info["balance_cell"] = addr(k_bal)
    k_over = "sec3.granted.total"
    w("typed_over.xlsx", "丙局", vals, overrides={k_over: 999})
    info["over_cell"] = addr(k_over)
    k_blank = zero_key(vals)
    w("blank.xlsx", "丁局", {**vals, k_blank: None})
    info["blank_cell"] = addr(k_blank)
    k_slash = zero_key(vals, "sec4.")
    w("slash.xlsx", "戊局", {**vals, k_slash: "/"})
    info["slash_cell"] = addr(k_slash)
    k_fw = positive_key(vals)
    w("fullwidth.xlsx", "己局", {**vals, k_fw: full_width(vals[k_fw])})
    info["fw_cell"] = addr(k_fw)
    k_neg = "sec4.review.upheld"
    w("negative.xlsx", "庚局", {**vals, k_neg: -3})
    info["neg_cell"] = addr(k_neg)
    # tampered: sheet protection removed by hand (openpyxl load + save, as a clerk's tool would)
    p = w("tampered.xlsx", "辛局", vals)
    wb = openpyxl.load_workbook(p)
    wb[LAY.sheets["sec4"].name].protection.sheet = False
    wb.save(p)
    # foreign tables: consistent except one 表四 total, and one blank 总计
    fvals = dict(vals)
    fvals.update(totals(FMT, fvals))
    fvals["sec4.review.total"] += 2
    info["foreign_cells"] = write_foreign(d / "foreign.xlsx", fvals, "壬局", blank_totals=("sec3.granted.total",))
    (d / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a zip")
    (d / "~$good.xlsx").write_bytes(b"lock file")
    (d / ".hidden.xlsx").write_bytes(b"hidden")
    info["sha"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in d.iterdir()}
    return info


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def issues_of(rec: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(i["code"], i["cell"]) for i in rec["issues"]]


def test_folder_end_to_end(folder: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = folder["dir"]
    js = tmp_path / "out" / "结果.json"
    code, out, _err = run_cli([str(d), "--year", str(YEAR), "--json", str(js)], capsys)
    assert code == 1
    data = json.loads(js.read_text(encoding="utf-8"))
    assert set(data) == {"files"}
    recs = {Path(r["path"]).name: r for r in data["files"]}
    # lock and hidden files are not inputs
    assert set(recs) == {"good.xlsx", "balance.xlsx", "typed_over.xlsx", "blank.xlsx", "slash.xlsx",
                         "fullwidth.xlsx", "negative.xlsx", "tampered.xlsx", "foreign.xlsx", "broken.xlsx"}
    for r in recs.values():
        assert set(r) == JSON_FILE_KEYS
        for i in r["issues"]:
            assert set(i) == JSON_ISSUE_KEYS
            assert i["severity"] in ("error", "warning") and i["code"] in REGISTRY and i["message"]
    status = {n: r["status"] for n, r in recs.items()}
    assert status == {
        "good.xlsx": "ok", "balance.xlsx": "invalid", "typed_over.xlsx": "invalid", "blank.xlsx": "ok",
        "slash.xlsx": "ok", "fullwidth.xlsx": "ok", "negative.xlsx": "invalid", "tampered.xlsx": "invalid",
        "foreign.xlsx": "invalid", "broken.xlsx": "unreadable",
    }
    # good: nothing from the validation rules
    assert not [i for i in recs["good.xlsx"]["issues"] if REGISTRY[i["code"]].source == "校验"]
    assert recs["good.xlsx"]["agency"] == "甲局" and recs["good.xlsx"]["year"] == YEAR
    assert recs["good.xlsx"]["format"] == "2021" and len(recs["good.xlsx"]["sha256"]) == 64
    assert ("T3_BALANCE", folder["balance_cell"]) in issues_of(recs["balance.xlsx"])
    over = issues_of(recs["typed_over.xlsx"])
    assert ("TOTAL_OVERWRITTEN", folder["over_cell"]) in over and ("T3_ROW_TOTAL", folder["over_cell"]) in over
    assert ("BLANK", folder["blank_cell"]) in issues_of(recs["blank.xlsx"])
    slash = next(i for i in recs["slash.xlsx"]["issues"] if i["code"] == "MISSING_MARKER")
    assert slash["cell"] == folder["slash_cell"] and slash["actual"] == "/" and slash["severity"] == "warning"
    fw = next(i for i in recs["fullwidth.xlsx"]["issues"] if i["code"] == "TEXT_NUMBER")
    assert fw["cell"] == folder["fw_cell"]
    assert not [i for i in recs["fullwidth.xlsx"]["issues"] if i["code"] in ("STALE_TOTAL", "T3_BALANCE")]
    neg = next(i for i in recs["negative.xlsx"]["issues"] if i["code"] == "NEGATIVE")
    assert neg["cell"] == folder["neg_cell"] and neg["actual"] == -3 and neg["sheet"] == LAY.sheets["sec4"].name
    assert "SHEET_UNPROTECTED" in {i["code"] for i in recs["tampered.xlsx"]["issues"]}
    # foreign file: findings carry the addresses in that file
    fc = folder["foreign_cells"]
    foreign = recs["foreign.xlsx"]["issues"]
    t4 = next(i for i in foreign if i["code"] == "T4_TOTAL")
    assert (t4["sheet"], t4["cell"]) == ("年报", fc["sec4.review.total"])
    assert t4["message"].startswith(f"年报!{fc['sec4.review.total']}（表四） 行政复议·总计：")
    miss = next(i for i in foreign if i["code"] == "TOTAL_MISSING")
    assert miss["cell"] == fc["sec3.granted.total"] and miss["severity"] == "warning"
    assert "NOT_TEMPLATE" in {i["code"] for i in foreign}
    assert recs["broken.xlsx"]["agency"] is None and recs["broken.xlsx"]["issues"][0]["severity"] == "error"
    # console: one line per file, grouped findings with addresses, summary
    assert "[通过] " in out and "[有错误] " in out and "[无法读取] " in out
    assert f"表三!{folder['balance_cell']} " in out and f"表三!{folder['over_cell']} " in out
    assert "共检查 10 个文件：通过 4 个，有错误 5 个，无法读取 1 个。" in out
    # inputs untouched
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in d.iterdir()} == folder["sha"]


def test_exit_zero_when_all_pass_with_warnings(folder: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = folder["dir"]
    code, out, _ = run_cli([str(d / "good.xlsx"), str(d / "slash.xlsx"), "--year", str(YEAR)], capsys)
    assert code == 0
    assert "共检查 2 个文件：通过 2 个" in out and "全部通过" in out


def test_year_mismatch_is_an_error(folder: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    js = tmp_path / "r.json"
    code, _out, _ = run_cli([str(folder["dir"] / "good.xlsx"), "--year", "2024", "--json", str(js)], capsys)
    assert code == 1
    rec = json.loads(js.read_text(encoding="utf-8"))["files"][0]
    assert rec["status"] == "invalid" and "YEAR_MISMATCH" in {i["code"] for i in rec["issues"]}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["/no/such/folder"], "找不到以下路径"),
        (["EMPTY"], "没有找到 Excel 工作簿"),
        (["GOOD", "--year", "1990"], "不在支持范围内"),
        (["GOOD", "--roster", "/no/roster.csv"], "名单"),
        (["GOOD", "--previous", "/no/previous"], "找不到上年数据"),
        (["GOOD", "--previous", "EMPTY"], "上年数据"),
    ],
)
def test_usage_errors_exit_2(folder: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             args: list[str], needle: str) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("not a workbook", encoding="utf-8")
    sub = {"EMPTY": str(empty), "GOOD": str(folder["dir"] / "good.xlsx")}
    code, _out, err = run_cli([sub.get(a, a) for a in args], capsys)
    assert code == 2
    assert needle in err


def test_bad_year_argument_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["check", ".", "--year", "二〇二五"])
    assert e.value.code == 2
    assert "不是有效的整数" in capsys.readouterr().err


def test_roster_missing_unknown_and_duplicate(folder: dict[str, Any], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    d = folder["dir"]
    roster = tmp_path / "名单.csv"
    roster.write_text("单位名称\n甲局\n乙局\n癸局\n", encoding="utf-8-sig")
    dup = tmp_path / "dup"
    dup.mkdir()
    for name in ("good.xlsx", "balance.xlsx", "slash.xlsx"):
        (dup / name).write_bytes((d / name).read_bytes())
    write_workbook(dup / "good_v2.xlsx", FMT, YEAR, agency="甲局", values=base_values())
    js = tmp_path / "r.json"
    code, out, _ = run_cli([str(dup), "--year", str(YEAR), "--roster", str(roster), "--json", str(js)], capsys)
    assert code == 1  # balance.xlsx has errors
    assert "未报送（1）：癸局" in out
    assert "名单外单位（1）：戊局" in out
    assert "同一单位报送了多个文件" in out and "good_v2.xlsx" in out
    recs = {Path(r["path"]).name: r for r in json.loads(js.read_text(encoding="utf-8"))["files"]}
    assert "NOT_ON_ROSTER" in {i["code"] for i in recs["slash.xlsx"]["issues"]}
    assert "DUPLICATE_AGENCY" in {i["code"] for i in recs["good.xlsx"]["issues"]}
    assert "DUPLICATE_AGENCY" in {i["code"] for i in recs["good_v2.xlsx"]["issues"]}


def test_previous_year_from_agency_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Last year's 结转下年度 must match this year's 上年结转 (warning CARRY_OVER)."""
    last, now = tmp_path / "2024", tmp_path / "2025"
    last.mkdir()
    now.mkdir()
    t3 = FMT.table("sec3")
    cols = [c.key for c in t3.columns if c.key != "total"]
    for i, agency in enumerate(("甲局", "乙局")):
        prev_vals = synth_values(FMT, random.Random(100 + i), size=6)
        write_workbook(last / f"{agency}.xlsx", FMT, YEAR - 1, agency=agency, values=prev_vals)
        carried = {c: prev_vals[t3.cell_key("carry_forward", c)] for c in cols}
        if agency == "乙局":
            carried["natural"] += 4
        write_workbook(now / f"{agency}.xlsx", FMT, YEAR, agency=agency,
                       values=synth_values(FMT, random.Random(200 + i), size=6, carried_over=carried))
    js = tmp_path / "r.json"
    code, _out, _ = run_cli([str(now), "--year", str(YEAR), "--previous", str(last), "--json", str(js)], capsys)
    recs = {Path(r["path"]).name: r for r in json.loads(js.read_text(encoding="utf-8"))["files"]}
    assert "CARRY_OVER" not in {i["code"] for i in recs["甲局.xlsx"]["issues"]}
    co = [i for i in recs["乙局.xlsx"]["issues"] if i["code"] == "CARRY_OVER"]
    # natural column and the (recomputed) 总计 column differ by 4
    assert {i["column"] for i in co} == {"自然人", "总计"}
    assert all(i["severity"] == "warning" for i in co)
    nat = next(i for i in co if i["column"] == "自然人")
    assert nat["cell"] == addr("sec3.carried_over.natural") and nat["actual"] - nat["expected"] == 4
    assert code == 0  # warnings only
    # previous of the wrong year is a usage error
    code, _out, err = run_cli([str(now), "--year", str(YEAR + 1), "--previous", str(last)], capsys)
    assert code == 2 and "2024 年度" in err


def test_previous_year_from_district_summary(tmp_path: Path) -> None:
    """``--previous`` accepts last year's summary written by combine (contract in summary_layout)."""
    from xltool.pipeline.combine import combine
    from xltool.pipeline.previous import load_previous

    last = tmp_path / "2024"
    last.mkdir()
    vals = {}
    for i, agency in enumerate(("甲局", "乙局")):
        vals[agency] = synth_values(FMT, random.Random(300 + i), size=6)
        write_workbook(last / f"{agency}.xlsx", FMT, YEAR - 1, agency=agency, values=vals[agency])
    summary = tmp_path / "2024年汇总.xlsx"
    combine([last], year=YEAR - 1, out=summary)
    prev = load_previous([summary])
    assert prev.year == YEAR - 1 and prev.format == "2021"
    got = prev.get("甲 局")  # names match after normalising
    assert got is not None
    for c in FMT.table("sec3").columns:
        key = f"sec3.carry_forward.{c.key}"
        want = vals["甲局"].get(key, totals(FMT, vals["甲局"]).get(key))
        assert got[key] == want
    # the same numbers as reading last year's agency files directly
    direct = load_previous([last])
    assert direct.get("乙局") == {k: v for k, v in prev.get("乙局").items() if k in direct.get("乙局")}


def test_check_paths_api_keeps_results_for_combine(folder: dict[str, Any]) -> None:
    d = folder["dir"]
    run = check_paths([d / "typed_over.xlsx", d / "good.xlsx", d / "fullwidth.xlsx", d / "broken.xlsx"], year=YEAR)
    by = {Path(f.path).name: f for f in run.files}
    assert list(by) == sorted(by)  # files in path order
    over, good, fw, broken = (by[n] for n in ("typed_over.xlsx", "good.xlsx", "fullwidth.xlsx", "broken.xlsx"))
    assert over.result is not None and over.result.report is not None and over.is_template
    assert broken.status == "unreadable" and broken.report is None and broken.error
    # report = totals recomputed from the inputs; result.report = what the file showed
    key = "sec3.granted.total"
    assert over.result.report.number(key) == 999 and over.report.number(key) == 999  # typed over: kept as read
    fw_key = next(k for k, v in fw.result.report.values.items() if v.raw and v.state == "number")
    row_total = f"sec3.{FMT.cells[fw_key].row.key}.total"
    assert fw.report.number(row_total) == good.report.number(row_total)
    assert fw.result.report.number(row_total) == good.report.number(row_total) - fw.result.report.number(fw_key)
    with pytest.raises(CheckError):
        check_paths([d / "nope.xlsx"])


def test_blank_template_collapses_warnings_and_feedback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A template returned empty: UNFILLED (an error, issue 10) and one BLANK per input;
    the console collapses the BLANKs, -v shows all."""
    d = tmp_path / "in"
    d.mkdir()
    write_workbook(d / "空表.xlsx", FMT, YEAR, agency="甲局")
    fb = tmp_path / "意见"
    code, out, _ = run_cli([str(d), "--year", str(YEAR), "--feedback", str(fb)], capsys)
    n_inputs = len(FMT.input_keys)
    assert code == 1  # blanks are warnings, but a report with nothing filled in is 未填写 (an error)
    assert f"1 个错误，{n_inputs} 个警告" in out and "UNFILLED" in out
    assert f"另有 {n_inputs - 5} 处 BLANK" in out and out.count(" BLANK  ") == 5
    assert (fb / "空表_校验意见.xlsx").is_file() and "已为 1 个有问题的文件生成校验意见表" in out
    code, out, _ = run_cli([str(d), "--year", str(YEAR), "-v"], capsys)
    assert out.count(" BLANK  ") == n_inputs and "另有" not in out
    # re-running on a folder that holds the copies does not check the copies
    code, out, _ = run_cli([str(d), str(fb), "--year", str(YEAR), "--feedback", str(fb)], capsys)
    assert "共检查 1 个文件" in out and "已跳过 1 个" in out


def test_progress_callback_and_no_cache(folder: dict[str, Any]) -> None:
    d = folder["dir"]
    seen: list[tuple[int, int]] = []
    run = check_paths([d / "tampered.xlsx", d / "good.xlsx"], progress=lambda i, n: seen.append((i, n)))
    assert seen == [(1, 2), (2, 2)]
    tampered = next(f for f in run.files if f.path.endswith("tampered.xlsx"))
    # openpyxl saved it: formulas kept, cached results gone → recomputed, with a warning per total
    codes = [i.code for i in tampered.findings]
    assert codes.count("NO_CACHE") == len(FMT.formulas)
    good = next(f for f in run.files if f.path.endswith("good.xlsx"))
    assert tampered.report is not None and good.report is not None
    assert all(tampered.report.number(k) == good.report.number(k) for k in FMT.formulas)
