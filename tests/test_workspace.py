"""The season workspace (issue 10), driven through the CLI: init, templates, receive in three
waves (loose files, a GBK-named zip, a folder with feedback copies, a resubmission, a blank
template and a hostile file), status, accept and its lapse, combine; kill -9 and two
concurrent receives."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from xltool.cli import main
from xltool.pipeline.previous import load_previous
from xltool.read import read_file
from xltool.spec import CURRENT
from xltool.write.feedback import _values
from xltool.write.template import write_workbook

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "returns"
ROSTER = ROOT / "samples" / "roster.csv"
YEAR = 2025
P = "威海市环翠区"
HEALTH_FIRST = f"2025年_{P}卫生健康局_政府信息公开年报（第一次报送）.xlsx"
HEALTH_FINAL = f"2025年_{P}卫生健康局_政府信息公开年报.xlsx"
ZIPPED = [HEALTH_FIRST, HEALTH_FINAL, "2025年_竹岛街道办事处_政府信息公开年报.xlsx"]


def run(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


def status(ws: Path, tmp: Path) -> dict:
    out = tmp / "status.json"
    assert run("status", ws, "--json", out, "--xlsx", tmp / "催报名单.xlsx") == 0
    return json.loads(out.read_text(encoding="utf-8"))


def states(data: dict) -> dict[str, str]:
    return {a["name"]: a["state"] for a in data["agencies"]}


def gbk_zip(path: Path, members: list[Path]) -> Path:
    """A zip as Windows' built-in compressor writes it: GBK names, no UTF-8 flag (0x800).

    zipfile writes non-ASCII names as UTF-8 with the flag, so the members are written under
    ASCII placeholders of the same byte length, which are then replaced by the GBK bytes."""
    names = [("年报/" + m.name).encode("gbk") for m in members]
    holders = [(f"@{i:03d}" + "@" * len(n))[: len(n)].encode() for i, n in enumerate(names)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for m, h in zip(members, holders, strict=True):
            zf.writestr(h.decode(), m.read_bytes())
    data = path.read_bytes()
    for n, h in zip(names, holders, strict=True):
        assert data.count(h) == 2  # local header and central directory
        data = data.replace(h, n)
    path.write_bytes(data)
    with zipfile.ZipFile(path) as zf:  # really written without the flag
        assert all(not (i.flag_bits & 0x800) for i in zf.infolist())
    return path


def rewrite(src: Path, target: Path, *, agency: str | None = None, code: str | None = None,
            change: dict[str, object] | None = None) -> Path:
    """A filled workbook (our template) with the values of ``src``, for another agency or with changes."""
    res = read_file(src)
    rep = res.report
    values = _values(rep, rep.fmt)
    values.update(change or {})
    return write_workbook(target, rep.fmt, YEAR, agency=agency or rep.meta.agency,
                          credit_code=code or rep.meta.credit_code, values=values, overwrite=True)


def key_at(sheet_short: str, cell: str) -> str:
    from xltool.workbook.layout import layout_for

    lay = layout_for(CURRENT)
    return next(k for k, (s, a) in lay.address.items() if s.startswith(sheet_short) and a == cell)


def test_season(tmp_path: Path) -> None:
    ws = tmp_path / "2025年报"
    # 1. init, then templates; init refuses a foreign non-empty folder and a second init
    foreign = tmp_path / "别的文件夹"
    foreign.mkdir()
    (foreign / "a.txt").write_text("x", encoding="utf-8")
    assert run("init", foreign, "--year", YEAR, "--roster", ROSTER) == 2
    assert run("init", ws, "--year", YEAR, "--roster", ROSTER, "--district", "威海市环翠区人民政府") == 0
    assert run("init", ws, "--year", YEAR, "--roster", ROSTER) == 2
    for d in ("模板", "收件", "校验意见", "汇总"):
        assert (ws / d).is_dir()
    assert (ws / "名单.csv").is_file() and (ws / "state.sqlite").is_file() and (ws / "日志.txt").is_file()
    assert run("template", "--workspace", ws) == 0
    templates = sorted((ws / "模板").glob("*.xlsx"))
    assert len(templates) == 15
    assert run("template", "--workspace", ws) == 2  # they exist: nothing overwritten without --force
    assert run("template", "--workspace", ws, "--agency", f"{P}司法局", "--force") == 0  # one, from its roster row

    # 2a. loose files
    loose = [p for p in sorted(SAMPLES.glob("*.xlsx")) if p.name not in ZIPPED]
    assert run("receive", ws, *loose) == 1  # the sample of 信访局 is truncated (无法读取)
    # 2b. a GBK-named zip (the first submission of 卫生健康局 before its final one)
    z = gbk_zip(tmp_path / "街道和卫健.zip", [SAMPLES / n for n in ZIPPED])
    assert run("receive", ws, z) == 0
    data = status(ws, tmp_path)
    health = next(a for a in data["agencies"] if a["name"] == f"{P}卫生健康局")
    assert [v["file"] for v in health["versions"]] == [f"街道和卫健.zip/年报/{n}" for n in ZIPPED[:2]]
    assert health["current"]["sha256"] == hashlib.sha256((SAMPLES / HEALTH_FINAL).read_bytes()).hexdigest()
    before = states(data)
    assert before[f"{P}司法局"] == "未报送"
    assert before[f"{P}信访局"] == "无法读取"
    assert before[f"{P}科学技术局"] == "已报送·有错误"
    assert before[f"{P}人民政府办公室"] == "已报送·通过"
    assert not list((ws / "校验意见").glob("*.xlsx")), "receive leaves the copies to `feedback`"
    assert run("feedback", ws) == 0
    feedback = sorted((ws / "校验意见").glob("*.xlsx"))
    due = {a["name"] for a in data["agencies"] if a["current"] and a["current"]["status"] != "unreadable"
           and (a["current"]["errors"] or a["current"]["warnings"])}
    assert due and {p.name.split("_")[1] for p in feedback} == due, "one copy per current version with findings"
    stamps = [p.stat().st_mtime_ns for p in feedback]
    assert run("feedback", ws) == 0  # up to date: nothing is written again
    assert [p.stat().st_mtime_ns for p in feedback] == stamps

    # 2c. a folder: our unedited feedback copies, a resubmission, a blank template, a hostile file
    from tests import hostile

    wave = tmp_path / "第三批"
    wave.mkdir()
    for f in feedback:
        shutil.copy2(f, wave / f.name)
    rewrite(SAMPLES / f"2025年_{P}人民政府办公室_政府信息公开年报.xlsx",
            wave / f"2025年_{P}科学技术局_政府信息公开年报（修改后）.xlsx",
            agency=f"{P}科学技术局", code="11371002TEST00020X")
    shutil.copy2(ws / "模板" / f"2025年_{P}司法局_政府信息公开年报.xlsx", wave / "司法局.xlsx")
    hostile.encrypted_workbook(wave)
    (wave / "说明.pdf").write_bytes(b"%PDF-1.4\n")
    assert run("receive", ws, wave) == 1  # the encrypted file is unreadable and unidentified; the pdf skipped
    data = status(ws, tmp_path)
    now = states(data)
    assert now[f"{P}科学技术局"] == "已报送·通过"
    assert now[f"{P}司法局"] == "未填写"
    sj = next(a for a in data["agencies"] if a["name"] == f"{P}司法局")
    assert sj["current"]["errors"] >= 1  # UNFILLED counts as an error
    for name, st in before.items():  # unedited feedback copies changed nobody's state
        if name not in (f"{P}科学技术局", f"{P}司法局"):
            assert now[name] == st, name
    assert [u["file"] for u in data["unidentified"]] == ["encrypted.xlsx"]
    assert any(s["path"].endswith("说明.pdf") for s in data["skipped"])
    assert set(data) == {"year", "agencies", "unidentified", "skipped"}
    a0 = data["agencies"][0]
    assert set(a0) == {"name", "state", "contact", "current", "versions", "accepted"}
    assert set(a0["contact"]) == {"person", "phone"}
    assert a0["current"]["received_at"][-6] in "+-"  # ISO 8601 with the time zone
    # an unidentified file can be assigned by hand
    assert run("assign", ws, "encrypted.xlsx", "--agency", f"{P}司法局") == 0
    assert states(status(ws, tmp_path))[f"{P}司法局"] == "未填写"  # the blank arrived later: newest wins
    sha_enc = hashlib.sha256((wave / "encrypted.xlsx").read_bytes()).hexdigest()
    assert run("pin", ws, "--agency", f"{P}司法局", "--sha256", sha_enc) == 0
    assert states(status(ws, tmp_path))[f"{P}司法局"] == "无法读取"
    sha_blank = hashlib.sha256((wave / "司法局.xlsx").read_bytes()).hexdigest()
    assert run("pin", ws, "--agency", f"{P}司法局", "--sha256", sha_blank[:12]) == 0
    assert states(status(ws, tmp_path))[f"{P}司法局"] == "未填写"

    # sent / confirm
    assert run("sent", ws, "--agency", f"{P}教育和体育局") == 0
    assert run("confirm", ws, "--agency", f"{P}人民政府办公室") == 0
    now = states(status(ws, tmp_path))
    assert now[f"{P}教育和体育局"] == "已退回修改" and now[f"{P}人民政府办公室"] == "已确认"

    # 4. accept a warning; an error cannot be accepted
    fin = f"{P}财政局"
    assert run("accept", ws, "--agency", fin, "--code", "T3_BALANCE", "--cell", "表三!J30", "--reason", "x") == 2
    w0 = next(a for a in status(ws, tmp_path)["agencies"] if a["name"] == fin)["current"]["warnings"]
    assert run("accept", ws, "--agency", fin, "--code", "MISSING_MARKER", "--cell", "表三!D13",
               "--reason", "单位电话确认此项确实无法统计") == 0
    got = next(a for a in status(ws, tmp_path)["agencies"] if a["name"] == fin)
    assert got["accepted"][0]["state"] == "有效" and got["current"]["warnings"] == w0 - 1
    # the same value in a new version keeps it; a changed value lapses it
    src = SAMPLES / f"2025年_{fin}_政府信息公开年报.xlsx"
    same = rewrite(src, tmp_path / "v2" / "财政局.xlsx", change={key_at("表三", "E6"): 0} if False else None)
    assert run("receive", ws, same) == 0
    got = next(a for a in status(ws, tmp_path)["agencies"] if a["name"] == fin)
    assert got["accepted"][0]["state"] == "有效"
    changed = rewrite(src, tmp_path / "v3" / "财政局.xlsx", change={key_at("表三", "D13"): "-"})
    assert run("receive", ws, changed) == 0
    got = next(a for a in status(ws, tmp_path)["agencies"] if a["name"] == fin)
    assert got["accepted"][0]["state"] == "已失效" and got["current"]["warnings"] == w0

    # include: count 住房和城乡建设局 despite its error
    assert run("include", ws, "--agency", f"{P}住房和城乡建设局", "--reason", "单位书面说明数字无误") == 0

    # 5. combine: the summary's per-agency rows and totals equal the current versions
    assert run("combine", "--workspace", ws) in (0, 1)
    out = ws / "汇总" / "2025年全区汇总.xlsx"
    assert out.is_file()
    data = status(ws, tmp_path)
    counted = {a["name"]: a for a in data["agencies"]
               if a["current"] and (a["current"]["status"] == "ok" or a["name"] == f"{P}住房和城乡建设局")}
    counted = {n: a for n, a in counted.items() if n != f"{P}应急管理局"}  # 2019 format: never added
    prev = load_previous([out])
    assert set(prev.names.values()) == set(counted)
    key = "sec3.new_received.total"
    expect = 0.0
    for a in counted.values():
        rep = read_file(next((ws / "收件").glob(a["current"]["sha256"] + ".*"))).report
        expect += rep.number(key) or 0
    assert sum(v.get(key, 0) for v in prev.by_agency.values()) == expect
    import openpyxl

    notes = [str(c) for r in openpyxl.load_workbook(out, read_only=True)["说明"].iter_rows(values_only=True)
             for c in r if c]
    assert any("警告已核实" in t for t in notes)  # the audit log is shown in the summary
    book = openpyxl.load_workbook(out, read_only=True)
    status_text = [str(c) for r in book["报送情况"].iter_rows(values_only=True) for c in r if c]
    left_out = [t for t in status_text if "未计入汇总" in t and "处错误" in t]
    assert left_out and all("xltool include" in t and "--include-invalid" not in t for t in left_out), left_out
    log = (ws / "日志.txt").read_text(encoding="utf-8")
    assert "生成汇总表" in log and "警告已核实" in log and "未修改的校验意见副本" in log
    con = sqlite3.connect(ws / "state.sqlite")
    with pytest.raises(sqlite3.DatabaseError):
        con.execute("DELETE FROM audit")


def test_unfilled_check_on_folder(tmp_path: Path) -> None:
    """An untouched template is 未填写 (an error) for `check` on folders too."""
    d = tmp_path / "回收"
    d.mkdir()
    assert run("template", "--year", YEAR, "--agency", "测试单位", "--out", d) == 0
    out = tmp_path / "r.json"
    assert run("check", d, "--year", YEAR, "--json", out) == 1
    issues = json.loads(out.read_text(encoding="utf-8"))["files"][0]["issues"]
    assert issues[0]["code"] == "UNFILLED" and issues[0]["severity"] == "error"


def test_zip_hostile_members(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("init", ws, "--year", YEAR, "--roster", ROSTER) == 0
    z = tmp_path / "坏.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../逃逸.xlsx", b"x")
        zf.writestr("bomb.xlsx", b"\0" * (30 * 1024 * 1024))
        inner = tmp_path / "inner.zip"
        with zipfile.ZipFile(inner, "w") as zi:
            zi.writestr("deeper.zip", b"PK")
            zi.write(SAMPLES / f"2025年_{P}民政局_政府信息公开年报.xlsx", "民政局.xlsx")
        zf.write(inner, "inner.zip")
        zf.writestr("附件.rar", b"Rar!")
    assert run("receive", ws, tmp_path / "没有这个文件.xlsx") == 2
    assert run("receive", tmp_path / "不是工作区", z) == 2
    assert run("receive", ws, z) == 1
    data = status(ws, tmp_path)
    reasons = {s["path"]: s["reason"] for s in data["skipped"]}
    assert any("压缩包以外" in r for r in reasons.values())
    assert any("压缩炸弹" in r or "超过上限" in r for r in reasons.values())
    assert any("超过一层" in r for r in reasons.values())
    assert any("RAR" in r for r in reasons.values())
    assert states(data)[f"{P}民政局"] == "已报送·通过"  # one level of nesting is read


def _sub(*argv: str | Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "xltool", *map(str, argv)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _consistent(ws: Path) -> sqlite3.Connection:
    con = sqlite3.connect(ws / "state.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for sha, stored in con.execute("SELECT sha256, stored FROM blobs"):
        assert hashlib.sha256((ws / stored).read_bytes()).hexdigest() == sha  # no half-stored file referenced
    return con


def test_kill_9_leaves_workspace_consistent(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("init", ws, "--year", YEAR, "--roster", ROSTER) == 0
    files = sorted(SAMPLES.glob("*.xlsx"))
    rng = random.Random(7)
    for _ in range(4):
        p = _sub("receive", ws, *files)
        time.sleep(rng.uniform(0.5, 4.0))  # import takes ~1 s: some kills land mid-work
        p.send_signal(signal.SIGKILL)
        p.wait()
        _consistent(ws).close()
    p = _sub("receive", ws, *files)
    assert p.wait(timeout=120) in (0, 1), p.stderr.read().decode() if p.stderr else ""
    con = _consistent(ws)
    shas = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    got = {r[0] for r in con.execute("SELECT sha256 FROM versions")}
    assert shas <= got
    assert con.execute("SELECT count(*) FROM versions v LEFT JOIN checks c ON c.sha256 = v.sha256 "
                       "WHERE c.sha256 IS NULL").fetchone()[0] == 0


def test_two_receives_at_once_lose_nothing(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run("init", ws, "--year", YEAR, "--roster", ROSTER) == 0
    files = sorted(SAMPLES.glob("*.xlsx"))
    a, b = files[::2], files[1::2] + files[:3]  # overlapping on purpose
    pa, pb = _sub("receive", ws, *a), _sub("receive", ws, *b)
    assert pa.wait(timeout=180) in (0, 1) and pb.wait(timeout=180) in (0, 1)
    con = _consistent(ws)
    assert con.execute("SELECT count(*) FROM receipts").fetchone()[0] == len(a) + len(b)
    shas = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert {r[0] for r in con.execute("SELECT sha256 FROM versions")} == shas


def test_stored_copy_damaged_by_a_power_cut_is_replaced(tmp_path: Path) -> None:
    """A batch is made durable once (not per file); a stored name whose data never reached the
    disk (same size, other bytes) is not trusted when the file arrives again."""
    from xltool.pipeline.workspace.store import flush_stored, sha256_file, store_bytes

    inbox = tmp_path / "收件"
    inbox.mkdir()
    data = os.urandom(5000)
    sha, target = store_bytes(inbox, data, ".xlsx", sync_dir=False, durable=False)
    flush_stored(inbox, [target])
    assert sha256_file(target) == sha and target.stat().st_mode & 0o222 == 0  # stored read-only
    os.chmod(target, 0o644)
    target.write_bytes(b"\0" * len(data))  # what a power cut after the rename can leave
    os.chmod(target, 0o444)
    sha2, target2 = store_bytes(inbox, data, ".xlsx")
    assert (sha2, target2) == (sha, target) and target.read_bytes() == data
    assert not list(inbox.glob(".tmp-*"))
