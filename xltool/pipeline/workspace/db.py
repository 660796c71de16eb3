"""The workspace database: stdlib sqlite3, WAL, a schema version, one transaction per change.

Tables: ``meta`` (key/value: schema version, year, district, roster file), ``agencies`` (the
roster), ``blobs`` (files stored under 收件/), ``checks`` (results cached by sha256, tool
version and rules version), ``versions`` (a distinct file of an agency, in arrival order),
``receipts`` (every arrival, duplicates included), ``skipped`` (inputs that are not
workbooks, with the reason), ``decisions`` and ``audit`` (append-only).
"""

from __future__ import annotations

import getpass
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from xltool.errors import XltoolError

SCHEMA_VERSION = 1
DB_NAME = "state.sqlite"
LOG_NAME = "日志.txt"
BUSY_TIMEOUT_MS = 60_000


class WorkspaceError(XltoolError):
    """A workspace request that cannot be carried out; the message (Chinese) says why."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS agencies (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, norm TEXT NOT NULL UNIQUE,
    credit_code TEXT, contact TEXT, phone TEXT, row INTEGER);
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, stored TEXT NOT NULL, stored_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checks (
    sha256 TEXT NOT NULL, tool_version TEXT NOT NULL, rules_version TEXT NOT NULL,
    status TEXT NOT NULL, agency TEXT, credit_code TEXT, year INTEGER, format TEXT,
    is_template INTEGER NOT NULL, source_sha256 TEXT, fill_time TEXT, mtime REAL, error TEXT,
    errors INTEGER NOT NULL, warnings INTEGER NOT NULL,
    findings TEXT NOT NULL, report TEXT,
    PRIMARY KEY (sha256, tool_version, rules_version));
CREATE TABLE IF NOT EXISTS versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL UNIQUE, agency_id INTEGER,
    file TEXT NOT NULL, received_at TEXT NOT NULL, identified_by TEXT);
CREATE TABLE IF NOT EXISTS receipts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL, file TEXT NOT NULL,
    source TEXT NOT NULL, kind TEXT NOT NULL, received_at TEXT NOT NULL, user TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS skipped (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, agency_id INTEGER,
    sha256 TEXT, code TEXT, cell TEXT, key TEXT, value TEXT, reason TEXT,
    at TEXT NOT NULL, user TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    agency_id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, path TEXT NOT NULL, written_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL,
    what TEXT NOT NULL, sha256 TEXT);
CREATE INDEX IF NOT EXISTS versions_agency ON versions (agency_id, seq);
CREATE INDEX IF NOT EXISTS decisions_agency ON decisions (agency_id, kind, id);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
"""


def now_iso() -> str:
    """Local time, ISO 8601 with the time zone (e.g. 2025-01-10T09:30:00+08:00)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some services): still record something
        return "unknown"


def connect(path: Path) -> sqlite3.Connection:
    """Open the database in autocommit mode (transactions are explicit, see ``tx``)."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    # WAL + NORMAL: a killed process loses nothing committed; only a power cut may lose the
    # last transactions, never consistency (the files they refer to are fsynced first)
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


@contextmanager
def tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One change: ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def create_schema(conn: sqlite3.Connection) -> None:
    with tx(conn):
        for stmt in SCHEMA.split(";\n"):
            if stmt.strip():
                conn.execute(stmt)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def check_schema(conn: sqlite3.Connection, where: Path) -> None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError:
        row = None
    if row is None:
        raise WorkspaceError(f"“{where}”不是本工具的工作区（状态数据库无法识别）。请用 xltool init 创建工作区。")
    if int(row[0]) > SCHEMA_VERSION:
        raise WorkspaceError(
            f"工作区“{where}”由更新版本的 xltool 创建（数据库版本 {row[0]}），请升级本工具后再使用。"
        )


def audit(conn: sqlite3.Connection, what: str, sha256: str | None = None, at: str | None = None) -> tuple[str, str]:
    """Append one audit row (call inside a transaction); returns (time, user) for the log line."""
    at = at or now_iso()
    user = os_user()
    conn.execute("INSERT INTO audit (at, user, what, sha256) VALUES (?, ?, ?, ?)", (at, user, what, sha256))
    return at, user


def append_log(root: Path, lines: list[tuple[str, str, str, str | None]]) -> None:
    """Mirror committed audit rows to 日志.txt (time, user, what, sha256)."""
    if not lines:
        return
    text = "".join(f"{at}\t{user}\t{what}" + (f"\tsha256={sha}" if sha else "") + "\n" for at, user, what, sha in lines)
    try:
        with open(root / LOG_NAME, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError:
        pass  # the database is the record; the text log is a convenience copy
