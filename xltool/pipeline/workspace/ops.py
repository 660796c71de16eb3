"""Opening and creating a workspace, and the clerk's decisions (assign, pin, accept, include,
confirm; ``sent`` is in ``feedback``, as it brings the copy up to date first). Each decision is one transaction with its audit row."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xltool import __version__
from xltool.core.findings import REGISTRY
from xltool.core.model import Severity
from xltool.core.names import RosterEntry, norm_code, normalize_name
from xltool.pipeline.workspace.db import (
    DB_NAME,
    LOG_NAME,
    WorkspaceError,
    append_log,
    audit,
    check_schema,
    connect,
    create_schema,
    now_iso,
    os_user,
    tx,
)
from xltool.pipeline.workspace.store import INBOX
from xltool.read.roster import RosterError, read_roster
from xltool.spec import FORMATS
from xltool.workbook.layout import layout_for

TEMPLATES = "模板"
FEEDBACK = "校验意见"
SUMMARIES = "汇总"
PREVIOUS = "上年数据"
ROSTER_STEM = "名单"
FOLDERS = (TEMPLATES, INBOX, FEEDBACK, SUMMARIES)


@dataclass
class Workspace:
    root: Path
    conn: sqlite3.Connection

    # --- facts -----------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    @property
    def year(self) -> int:
        return int(self.meta("year") or 0)

    @property
    def district(self) -> str | None:
        return self.meta("district") or None

    @property
    def roster_path(self) -> Path:
        return self.root / (self.meta("roster") or "")

    @property
    def previous_path(self) -> Path | None:
        p = self.meta("previous")
        return self.root / p if p else None

    def roster(self) -> list[RosterEntry]:
        rows = self.conn.execute("SELECT name, credit_code, contact, row FROM agencies ORDER BY id").fetchall()
        return [RosterEntry(r["name"], r["credit_code"], r["contact"], r["row"]) for r in rows]

    def agency_id(self, name: str) -> int:
        """The roster id of ``name`` (also by credit code); WorkspaceError with the nearest names."""
        row = self.conn.execute("SELECT id FROM agencies WHERE norm = ?", (normalize_name(name),)).fetchone()
        if row is None and norm_code(name):
            row = self.conn.execute("SELECT id FROM agencies WHERE upper(credit_code) = ?", (norm_code(name),)).fetchone()
        if row is None:
            import difflib

            names = [r[0] for r in self.conn.execute("SELECT name FROM agencies")]
            near = difflib.get_close_matches(name, names, n=3, cutoff=0.4)
            hint = f"相近的单位：{'、'.join(near)}。" if near else ""
            raise WorkspaceError(f"单位“{name}”不在本工作区的名单中。{hint}请按名单中的写法填写单位名称。")
        return int(row[0])

    def agency_name(self, agency_id: int) -> str:
        return str(self.conn.execute("SELECT name FROM agencies WHERE id = ?", (agency_id,)).fetchone()[0])

    def current(self, agency_id: int) -> sqlite3.Row | None:
        """The agency's current version: the pinned one, else the latest distinct file received."""
        pinned = self.conn.execute(
            "SELECT v.* FROM decisions d JOIN versions v ON v.sha256 = d.sha256 AND v.agency_id = d.agency_id "
            "WHERE d.kind = 'pin' AND d.agency_id = ? ORDER BY d.id DESC LIMIT 1", (agency_id,)).fetchone()
        if pinned is not None:
            return pinned
        return self.conn.execute(
            "SELECT * FROM versions WHERE agency_id = ? ORDER BY seq DESC LIMIT 1", (agency_id,)).fetchone()

    def stored_path(self, sha: str) -> Path:
        row = self.conn.execute("SELECT stored FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
        if row is None:
            raise WorkspaceError(f"收件中没有 sha256 为 {sha} 的文件。")
        return self.root / row[0]

    def record(self, what: str, sha: str | None = None, **decision: str | int | float | None) -> None:
        """One decision row (if ``decision`` has a kind) and its audit row, in one transaction."""
        at = now_iso()
        with tx(self.conn):
            if decision:
                cols = ["kind", "agency_id", "sha256", "code", "cell", "key", "value", "reason"]
                vals = [decision.get(c) for c in cols]
                vals[2] = vals[2] if vals[2] is not None else sha
                self.conn.execute(
                    f"INSERT INTO decisions ({', '.join(cols)}, at, user) VALUES ({', '.join('?' * len(cols))}, ?, ?)",
                    [*vals, at, _user()])
            line = audit(self.conn, what, sha, at)
        append_log(self.root, [(*line, what, sha)])

    def close(self) -> None:
        self.conn.close()


def _user() -> str:
    return os_user()


def open_workspace(root: str | Path) -> Workspace:
    root = Path(root)
    db = root / DB_NAME
    if not db.is_file():
        raise WorkspaceError(f"“{root}”不是工作区（没有 {DB_NAME}）。请先用 xltool init {root} --year 年度 --roster 名单 创建。")
    conn = connect(db)
    check_schema(conn, root)
    return Workspace(root, conn)


def init_workspace(
    root: str | Path,
    *,
    year: int,
    roster: str | Path,
    previous: str | Path | None = None,
    district: str | None = None,
) -> Workspace:
    """Create the workspace folder; refuses a non-empty folder that is not a workspace."""
    root = Path(root)
    if (root / DB_NAME).exists():
        raise WorkspaceError(f"“{root}”已经是一个工作区，不能重复创建。要继续使用，请直接用 xltool receive / status 等命令。")
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"“{root}”是一个文件，不是文件夹。请换一个文件夹名。")
    if root.exists() and any(root.iterdir()):
        raise WorkspaceError(f"文件夹“{root}”不是空的，也不是工作区。为免混入其他文件，请给一个新的（或空的）文件夹名。")
    if not 2000 <= year <= 2100:
        raise WorkspaceError(f"年度 {year} 不正确，请填写如 2025 这样的四位年度。")
    src = Path(roster)
    try:
        entries = read_roster(src)
    except RosterError as e:
        raise WorkspaceError(str(e)) from None
    prev_src = Path(previous) if previous is not None else None
    if prev_src is not None and not prev_src.exists():
        raise WorkspaceError(f"找不到上年数据“{prev_src}”。")
    root.mkdir(parents=True, exist_ok=True)
    for d in FOLDERS:
        (root / d).mkdir(exist_ok=True)
    roster_name = ROSTER_STEM + src.suffix.lower()
    shutil.copy2(src, root / roster_name)
    prev_rel = None
    if prev_src is not None:
        (root / PREVIOUS).mkdir(exist_ok=True)
        dest = root / PREVIOUS / prev_src.name
        if prev_src.is_dir():
            shutil.copytree(prev_src, dest)
        else:
            shutil.copy2(prev_src, dest)
        prev_rel = f"{PREVIOUS}/{prev_src.name}"
    (root / LOG_NAME).touch()
    write_launchers(root)
    conn = connect(root / DB_NAME)
    create_schema(conn)
    ws = Workspace(root, conn)
    at = now_iso()
    with tx(conn):
        for k, v in (("year", str(year)), ("district", district or ""), ("roster", roster_name),
                     ("previous", prev_rel or ""), ("created", at)):
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, v))
        for ent in entries:
            conn.execute(
                "INSERT OR IGNORE INTO agencies (name, norm, credit_code, contact, phone, row) VALUES (?, ?, ?, ?, ?, ?)",
                (ent.name, normalize_name(ent.name), norm_code(ent.credit_code) or None, ent.contact,
                 ent.phone, ent.row))
        what = f"创建工作区：{year} 年度，名单 {src.name}（{len(entries)} 个单位）"
        line = audit(conn, what, None, at)
    append_log(root, [(*line, what, None)])
    return ws


LAUNCHER_BAT = "打开工作台.bat"
LAUNCHER_SH = "打开工作台.sh"
LAUNCHER_COMMAND = "打开工作台.command"  # macOS Finder runs .command files with a double click


def write_launchers(root: Path) -> list[Path]:
    """Double-click launchers that start the workbench on this folder, so a clerk never types a
    command: Windows (the offline bundle installs into %LOCALAPPDATA%\\xltool\\venv), Linux, macOS."""
    bat = "\r\n".join([
        "@echo off",
        "chcp 65001 >nul",
        'set "PATH=%LOCALAPPDATA%\\xltool\\venv\\Scripts;%PATH%"',
        'cd /d "%~dp0"',
        "where xltool >nul 2>nul || (echo 没有找到 xltool：请先运行离线安装包里的“安装.bat”。 & pause & exit /b 1)",
        'xltool serve "%~dp0."',
        "if errorlevel 1 pause",
        "",
    ])
    sh = "\n".join([
        "#!/bin/sh",
        "# 双击或在终端运行：在浏览器中打开本工作区的工作台",
        'cd "$(dirname "$0")" || exit 1',
        'exec xltool serve "$(pwd)"',
        "",
    ])
    out = []
    for name, text in ((LAUNCHER_BAT, bat), (LAUNCHER_SH, sh), (LAUNCHER_COMMAND, sh)):
        path = root / name
        path.write_bytes(text.encode("utf-8"))
        if name != LAUNCHER_BAT:
            path.chmod(0o755)
        out.append(path)
    return out


# --- decisions ------------------------------------------------------------------------------


def rules_version(ws: Workspace) -> str:
    """What the cached findings depend on besides the file and the tool: the rules and inputs."""
    return _rules_version(ws.year, ws.meta("previous") or "")


@functools.lru_cache(maxsize=8)
def _rules_version(year: int, previous: str) -> str:
    h = hashlib.sha256()
    for c in REGISTRY.values():
        h.update(f"{c.code}|{c.severity.value}\n".encode())
    for fmt in FORMATS.values():
        h.update(layout_for(fmt).fingerprint().encode())
    h.update(f"year={year}|previous={previous}".encode())
    return h.hexdigest()[:16]


def cached_check(ws: Workspace, sha: str) -> sqlite3.Row | None:
    return ws.conn.execute("SELECT * FROM checks WHERE sha256 = ? AND tool_version = ? AND rules_version = ?",
                           (sha, __version__, rules_version(ws))).fetchone()


def current_or_fail(ws: Workspace, aid: int) -> sqlite3.Row:
    cur = ws.current(aid)
    if cur is None:
        raise WorkspaceError(f"单位“{ws.agency_name(aid)}”还没有报送任何文件。")
    return cur


def assign(ws: Workspace, file: str, agency: str) -> str:
    """Assign a received file (sha256, its prefix, or the name it arrived under) to an agency."""
    aid = ws.agency_id(agency)
    rows = ws.conn.execute(
        "SELECT sha256, file FROM versions WHERE sha256 LIKE ? OR file = ? OR file LIKE ?",
        (file.lower() + "%" if len(file) >= 8 else "\x00", file, "%/" + file)).fetchall()
    shas = {r[0] for r in rows}
    if not shas:
        raise WorkspaceError(f"收件中没有找到“{file}”。请用 xltool status 查看未识别文件的名称或 sha256。")
    if len(shas) > 1:
        raise WorkspaceError(f"“{file}”对应多个收件，请改用 sha256 指定：" + "、".join(sorted(shas)))
    sha = shas.pop()
    name = ws.agency_name(aid)
    at = now_iso()
    with tx(ws.conn):
        ws.conn.execute("UPDATE versions SET agency_id = ?, identified_by = '人工指定' WHERE sha256 = ?", (aid, sha))
        ws.conn.execute("INSERT INTO decisions (kind, agency_id, sha256, at, user) VALUES ('assign', ?, ?, ?, ?)",
                        (aid, sha, at, _user()))
        what = f"指定单位：{file} → {name}"
        line = audit(ws.conn, what, sha, at)
    append_log(ws.root, [(*line, what, sha)])
    return sha


def pin(ws: Workspace, agency: str, sha: str) -> None:
    aid = ws.agency_id(agency)
    row = ws.conn.execute("SELECT sha256 FROM versions WHERE agency_id = ? AND sha256 LIKE ?",
                          (aid, sha.lower() + "%")).fetchall()
    if len(row) != 1:
        raise WorkspaceError(f"单位“{ws.agency_name(aid)}”的报送版本中没有（唯一的）sha256 为 {sha} 的文件。")
    full = row[0][0]
    ws.record(f"指定当前版本：{ws.agency_name(aid)}", full, kind="pin", agency_id=aid)


def confirm(ws: Workspace, agency: str) -> None:
    aid = ws.agency_id(agency)
    cur = current_or_fail(ws, aid)
    ws.record(f"已确认当前版本：{ws.agency_name(aid)}", cur["sha256"], kind="confirm", agency_id=aid)


def include(ws: Workspace, agency: str, reason: str) -> None:
    aid = ws.agency_id(agency)
    if not reason.strip():
        raise WorkspaceError("请用 --reason 写明为什么有错误仍计入汇总。")
    cur = current_or_fail(ws, aid)
    ws.record(f"有错误仍计入汇总：{ws.agency_name(aid)}，理由：{reason}", cur["sha256"],
              kind="include", agency_id=aid, reason=reason.strip())


def split_cell(cell: str) -> tuple[str, str]:
    """'表三!J7' → ('表三', 'J7')."""
    sheet, sep, addr = cell.replace("！", "!").rpartition("!")
    if not sep or not addr:
        raise WorkspaceError(f"单元格“{cell}”的写法不对，应写成“表三!J7”这样（表名!单元格）。")
    return sheet.strip().strip("'"), addr.strip().upper().replace("$", "")


def finding_at(f: dict[str, Any], code: str, sheet: str, addr: str) -> bool:
    if f.get("code") != code or (f.get("cell") or "").upper() != addr:
        return False
    names = [f.get("table") or "", f.get("sheet") or ""]
    return any(n == sheet or n.startswith(sheet) for n in names if n)


def value_at(report: dict[str, Any] | None, f: dict[str, Any]) -> Any:
    key = f.get("key")
    if key and report is not None:
        return (report.get("values") or {}).get(key)
    return f.get("actual")


def accept(ws: Workspace, agency: str, code: str, cell: str, reason: str) -> None:
    """Mark one warning of the current version as verified (已核实); refuses errors."""
    aid = ws.agency_id(agency)
    code = code.strip().upper()
    reg = REGISTRY.get(code)
    if reg is None:
        raise WorkspaceError(f"没有问题代码 {code}。请按校验结果中的代码填写。")
    if reg.severity is Severity.ERROR:
        raise WorkspaceError(
            f"{code} 是错误，不能标记为已核实：错误应由单位改正。确需带着错误计入汇总，请用 "
            f"xltool include {ws.root} --agency {agency} --reason 理由 记录这一决定。")
    if not reason.strip():
        raise WorkspaceError("请用 --reason 写明核实的情况。")
    sheet, addr = split_cell(cell)
    cur = current_or_fail(ws, aid)
    chk = cached_check(ws, cur["sha256"])
    findings = json.loads(chk["findings"]) if chk is not None else []
    hit = next((f for f in findings if finding_at(f, code, sheet, addr)), None)
    if hit is None:
        raise WorkspaceError(f"单位“{ws.agency_name(aid)}”的当前版本在 {sheet}!{addr} 没有 {code} 警告。请用 xltool status 查看。")
    report = json.loads(chk["report"]) if chk is not None and chk["report"] else None
    ws.record(f"警告已核实：{ws.agency_name(aid)} {code} {sheet}!{addr}，理由：{reason}", cur["sha256"],
              kind="accept", agency_id=aid, code=code, cell=f"{sheet}!{addr}", key=hit.get("key"),
              value=json.dumps(value_at(report, hit), ensure_ascii=False), reason=reason.strip())
