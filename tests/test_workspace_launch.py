"""`xltool init` leaves double-click launchers of the workbench, and the roster's phone column
reaches the status (issue 10 item 4, issue 11)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

from xltool.cli import main


def _init(tmp_path: Path) -> Path:
    roster = tmp_path / "名单.csv"
    roster.write_text("单位名称,联系人,联系电话\n甲局,张三,0631-5201234\n乙局,李四,\n", encoding="utf-8")
    ws = tmp_path / "工作区"
    assert main(["init", str(ws), "--year", "2025", "--roster", str(roster)]) == 0
    return ws


def test_init_writes_launchers_that_start_serve(tmp_path: Path) -> None:
    ws = _init(tmp_path)
    bat = (ws / "打开工作台.bat").read_bytes()
    assert b"\r\n" in bat and b"\n" not in bat.replace(b"\r\n", b"")  # CRLF only, as cmd.exe wants
    text = bat.decode("utf-8")
    assert text.splitlines()[1] == "chcp 65001 >nul" and 'xltool serve "%~dp0."' in text
    sh = ws / "打开工作台.sh"
    assert sh.stat().st_mode & stat.S_IXUSR
    # run the real launcher with a stand-in xltool that records its arguments
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "xltool").write_text('#!/bin/sh\necho "$@" > "$XLTOOL_ARGS"\n', encoding="utf-8")
    (fake / "xltool").chmod(0o755)
    rec = tmp_path / "args.txt"
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "XLTOOL_ARGS": str(rec)}
    subprocess.run(["sh", str(sh)], check=True, env=env, cwd=tmp_path, timeout=30)
    assert rec.read_text(encoding="utf-8").split() == ["serve", str(ws.resolve())]


def test_roster_phone_reaches_status(tmp_path: Path) -> None:
    ws = _init(tmp_path)
    out = tmp_path / "s.json"
    assert main(["status", str(ws), "--json", str(out)]) in (0, 1)
    data = json.loads(out.read_text(encoding="utf-8"))
    contacts = {a["name"]: a["contact"] for a in data["agencies"]}
    assert contacts["甲局"] == {"person": "张三", "phone": "0631-5201234"}
    assert contacts["乙局"] == {"person": "李四", "phone": None}


def test_status_and_chase_lists_are_inert(tmp_path: Path) -> None:
    """Agency-supplied text (here the roster's contact) is never a live formula or link."""
    import re
    import zipfile

    roster = tmp_path / "名单.csv"
    roster.write_text('单位名称,联系人,联系电话\n甲局,=1+1,=HYPERLINK("http://example.com")\n乙局,http://example.com/x,\n',
                      encoding="utf-8")
    ws = tmp_path / "工作区"
    assert main(["init", str(ws), "--year", "2025", "--roster", str(roster)]) == 0
    out = tmp_path / "status.xlsx"
    assert main(["status", str(ws), "--xlsx", str(out)]) in (0, 1)
    books = [out, *[p for p in ws.rglob("*.xlsx") if "催报" in p.name]]
    assert books
    for book in books:
        with zipfile.ZipFile(book) as z:
            for name in z.namelist():
                if not name.endswith(".xml") and not name.endswith(".rels"):
                    continue
                xml = z.read(name).decode("utf-8")
                assert not re.search(r"<f[ >]", xml), (book.name, name)
                assert "<hyperlink" not in xml and "relationships/hyperlink" not in xml, (book.name, name)
                assert "externalLink" not in xml and "ddeLink" not in xml
        with zipfile.ZipFile(book) as z:
            strings = z.read("xl/sharedStrings.xml").decode("utf-8") if "xl/sharedStrings.xml" in z.namelist() else ""
        assert "=1+1" in strings or book != out  # the text is kept, as text
