"""``receive``: files, folders and .zip archives into the workspace.

Every input is either stored and checked, or listed in ``skipped`` with its reason. A file
is stored once by sha256 (``store.py``), checked once per (sha256, tool version, rules
version) with the same judging as ``xltool check`` (``check.judge_result``), identified to a
roster agency (template metadata, then the report's own 单位名称, then the file name), and
recorded in a transaction (RECORD_BATCH files each): a new version, a duplicate receipt, or one of our own unedited
feedback copies (never a submission).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from xltool import __version__
from xltool.core.model import AgencyReport, CellValue, Finding, PreviousData, ReportMeta, number_cell
from xltool.core.names import norm_code, normalize_name
from xltool.pipeline.check import judge_result
from xltool.pipeline.combine import child_submission
from xltool.pipeline.previous import load_previous
from xltool.pipeline.workspace.db import append_log, audit, now_iso, os_user, tx
from xltool.pipeline.workspace.ops import Workspace, cached_check, rules_version
from xltool.pipeline.workspace.store import INBOX, clean_temporaries, flush_stored, sha256_file, store_bytes
from xltool.read import ReadResult, read_many_then
from xltool.read.guard import DEFAULT_LIMITS, GuardLimits
from xltool.read.summary import is_summary_file
from xltool.spec import format_for_year
from xltool.write.feedback import SOURCE_SHA256

WORKBOOK_LIKE = (".xlsx", ".xlsm", ".xls", ".et", ".xlsb", ".ods")  # stored and checked (the guard explains)
ARCHIVES = (".zip",)
UTF8_FLAG = 0x800
ENCRYPTED_FLAG = 0x1
RECORD_BATCH = 100  # receipts recorded per transaction (a kill loses at most the batch: re-run)
CHECK_BATCH = 100  # check results committed per transaction (a cache: a lost batch is re-checked)
STORE_CAP_FACTOR = 4  # files larger than this × the guard's cap are not even stored

_NOT_WORKBOOK: dict[str, str] = {
    ".rar": "RAR 压缩包无法解压，请解压后报送其中的 .xlsx 文件，或改用 .zip 压缩",
    ".7z": "7z 压缩包无法解压，请解压后报送其中的 .xlsx 文件，或改用 .zip 压缩",
    ".pdf": "PDF 文件不是 Excel 报表：年报数据请用下发的 Excel 模板填报",
    ".doc": "Word 文档不是 Excel 报表：年报数据请用下发的 Excel 模板填报",
    ".docx": "Word 文档不是 Excel 报表：年报数据请用下发的 Excel 模板填报",
    ".wps": "WPS 文字文档不是 Excel 报表：年报数据请用下发的 Excel 模板填报",
    ".csv": "CSV 文件不是 Excel 报表：请用下发的 Excel 模板填报",
}


@dataclass
class Item:
    """One input that will be stored: the name it arrived under and its bytes."""

    file: str  # "a.xlsx" or "包.zip/b.xlsx"
    source: str  # the path given (the archive for a member)
    data: bytes
    suffix: str
    sha256: str = ""
    stored: Path | None = None


@dataclass
class Received:
    file: str
    sha256: str
    kind: str  # version | duplicate | feedback_copy
    agency: str | None
    status: str
    identified_by: str | None = None


@dataclass
class ReceiveResult:
    received: list[Received] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    @property
    def exit_code(self) -> int:
        bad = any(r.kind == "version" and (r.agency is None or r.status == "unreadable") for r in self.received)
        return 1 if bad or self.skipped else 0


# --- expanding inputs ---------------------------------------------------------------------


def member_name(info: zipfile.ZipInfo) -> str:
    """A zip member's name: without the UTF-8 flag, Windows wrote it in the local code page (GBK)."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return info.filename


def _unsafe_path(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return name.startswith(("/", "\\")) or ".." in p.parts or (len(name) > 1 and name[1] == ":")


def _skip_reason(name: str) -> str | None:
    base = PurePosixPath(name.replace("\\", "/")).name
    if base.startswith("~$"):
        return "Office 打开文件时留下的临时文件，不是报表，已跳过"
    if base.startswith("."):
        return "隐藏文件，已跳过"
    suffix = PurePosixPath(base).suffix.lower()
    if suffix in WORKBOOK_LIKE or suffix in ARCHIVES:
        return None
    return _NOT_WORKBOOK.get(suffix, f"不是 Excel 工作簿（扩展名“{suffix or '无'}”），已跳过；请用下发的 Excel 模板填报")


def _expand_zip(data_or_path: Any, shown: str, out: list[Item], skipped: list[tuple[str, str]],
                limits: GuardLimits, depth: int) -> None:
    try:
        zf = zipfile.ZipFile(data_or_path)
    except (zipfile.BadZipFile, OSError, ValueError):
        skipped.append((shown, "压缩包已损坏或不是 .zip 格式，无法解压。请重新压缩后报送"))
        return
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > limits.max_members * 10:
            skipped.append((shown, f"压缩包中文件数量异常（{len(infos)} 个），疑似恶意构造，已拒绝"))
            return
        total = 0
        for info in infos:
            name = member_name(info)
            where = f"{shown}/{name}"
            if _unsafe_path(name):
                skipped.append((where, "压缩包中的路径指向压缩包以外（含“..”或绝对路径），疑似恶意构造，已拒绝"))
                continue
            why = _skip_reason(name)
            if why:
                skipped.append((where, why))
                continue
            if info.flag_bits & ENCRYPTED_FLAG:
                skipped.append((where, "压缩包设置了密码，无法解压。请不加密码重新压缩，或直接报送 Excel 文件"))
                continue
            cap = limits.max_file_bytes * STORE_CAP_FACTOR
            if info.file_size > cap:
                skipped.append((where, f"解压后大小 {info.file_size} 字节，超过上限 {cap} 字节，已拒绝"))
                continue
            if (info.file_size >= limits.ratio_min_bytes and info.compress_size
                    and info.file_size / info.compress_size > limits.max_ratio):
                skipped.append((where, "压缩比异常（疑似压缩炸弹），已拒绝解压"))
                continue
            total += info.file_size
            if total > limits.max_total_bytes * STORE_CAP_FACTOR:
                skipped.append((where, "压缩包解压后总大小超过上限（疑似压缩炸弹），其余文件未解压"))
                break
            try:
                with zf.open(info) as fh:
                    data = fh.read(cap + 1)  # never trust the header's size
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as e:
                skipped.append((where, f"压缩包中的该文件损坏或使用了不支持的压缩方式，无法解压（{type(e).__name__}）"))
                continue
            if len(data) > cap:
                skipped.append((where, "解压后大小超过上限（压缩包头信息与内容不符，疑似压缩炸弹），已拒绝"))
                continue
            suffix = PurePosixPath(name).suffix.lower()
            if suffix in ARCHIVES:
                if depth >= 1:
                    skipped.append((where, "压缩包里又套了压缩包（超过一层），请解压后直接报送其中的 Excel 文件"))
                else:
                    import io

                    _expand_zip(io.BytesIO(data), where, out, skipped, limits, depth + 1)
                continue
            out.append(Item(where, shown.split("/")[0] if depth else shown, data, suffix))


def expand(paths: Sequence[str | Path], limits: GuardLimits = DEFAULT_LIMITS) -> tuple[list[Item], list[tuple[str, str]]]:
    """Inputs → items to store, and (path, reason) for everything not taken."""
    items: list[Item] = []
    skipped: list[tuple[str, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for fn in sorted(filenames):
                    _one_file(Path(dirpath) / fn, str(Path(dirpath) / fn), items, skipped, limits)
        elif p.is_file():
            _one_file(p, p.name, items, skipped, limits)
        else:
            skipped.append((str(p), "找不到该文件或文件夹"))
    return items, skipped


def _one_file(p: Path, shown: str, items: list[Item], skipped: list[tuple[str, str]], limits: GuardLimits) -> None:
    why = _skip_reason(p.name)
    if why:
        skipped.append((str(p), why))
        return
    suffix = p.suffix.lower()
    try:
        size = p.stat().st_size
        if size > limits.max_file_bytes * STORE_CAP_FACTOR:
            skipped.append((str(p), f"文件大小 {size} 字节，超过上限，已拒绝"))
            return
        if suffix in ARCHIVES:
            _expand_zip(str(p), p.name, items, skipped, limits, 0)
            return
        data = p.read_bytes()
    except OSError as e:
        skipped.append((str(p), f"文件无法打开（{e.strerror or type(e).__name__}）。如果文件正在 Excel 中打开，请关闭后重试"))
        return
    items.append(Item(p.name, str(p), data, suffix))


# --- checking (cached) ------------------------------------------------------------------------


def report_json(report: AgencyReport | None) -> str | None:
    if report is None:
        return None
    return json.dumps({"meta": report.meta.model_dump(mode="json"),
                       "values": {k: [v.state, v.number, v.raw] for k, v in report.values.items()}},
                      ensure_ascii=False)


def report_from_json(text: str | None) -> AgencyReport | None:
    if not text:
        return None
    d = json.loads(text)
    # the keys interned (JSON gives each report its own 200 key strings: 16 KB an agency at 20,000),
    # the numbers shared
    values = {sys.intern(k): number_cell(n) if s == "number" and r is None and n is not None
              else CellValue.model_construct(state=s, number=n, raw=r) for k, (s, n, r) in d["values"].items()}
    return AgencyReport.model_construct(meta=ReportMeta(**d["meta"]), values=values, narrative={}, extras={})


def findings_from_json(text: str) -> list[Finding]:
    return [Finding.model_validate(f) for f in json.loads(text)]


_previous_cache: dict[str, PreviousData] = {}


def previous_data(ws: Workspace) -> PreviousData | None:
    p = ws.previous_path
    if p is None:
        return None
    key = str(p)
    if key not in _previous_cache:
        _previous_cache[key] = load_previous([p])
    return _previous_cache[key]


def judge_stored(prev: PreviousData | None, res: ReadResult) -> tuple[Any, ...] | None:
    """A read file judged, as the ``checks`` row after (sha256, tool and rules version); None
    for a lower level's summary (judged apart). Runs in the worker that read the file."""
    # never one of our templates, a lower level's summary is looked for only among the others
    if not res.is_template and is_summary_file(res.path):
        return None
    judged, findings, report = judge_result(res, prev)
    status = judged.value
    meta = report.meta if report is not None else None
    # a feedback copy records the sha256 of the file it was made from (our meta sheet)
    src = (res.meta_fields.get(SOURCE_SHA256) or None) if res.is_template and status != "unreadable" else None
    errors = sum(1 for f in findings if f.severity.value == "error")
    return (status, meta.agency if meta else None, meta.credit_code if meta else None,
            meta.year if meta else None, meta.format if meta else None, int(bool(res.is_template)), src,
            res.fill_time, res.mtime, res.error, errors, len(findings) - errors,
            json.dumps([f.model_dump(mode="json") for f in findings], ensure_ascii=False), report_json(report))


def check_stored(ws: Workspace, shas: Iterable[str], workers: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
    """Check every stored file not yet in the cache (CHECK_BATCH results a transaction);
    ``progress(done, total)`` as files are checked."""
    cached = {r[0] for r in ws.conn.execute("SELECT sha256 FROM checks WHERE tool_version = ? AND rules_version = ?",
                                            (__version__, rules_version(ws)))}
    todo = [s for s in dict.fromkeys(shas) if s not in cached]
    if not todo:
        return
    paths = [str(ws.stored_path(s)) for s in todo]
    prev = previous_data(ws)
    rv = rules_version(ws)
    year = ws.year
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        if batch:
            with tx(ws.conn):
                ws.conn.executemany(f"INSERT OR REPLACE INTO checks VALUES ({', '.join('?' * 17)})", batch)
            batch.clear()

    summaries: list[str] = []
    for sha, judged in zip(todo, read_many_then(paths, partial(judge_stored, prev), workers=workers, expect_year=year,
                                                progress=progress, expect_format=format_for_year(year).id),
                           strict=True):
        if judged is None:
            summaries.append(sha)
            continue
        batch.append((sha, __version__, rv, *judged))
        if len(batch) >= CHECK_BATCH:
            flush()
    for sha in summaries:  # a lower level's summary (逐级汇总, a city's workspace): judged as one
        sub = child_submission(ws.stored_path(sha))
        m = sub.meta
        errors = sub.n_errors
        batch.append((sha, __version__, rv, sub.status.value, m.agency, None, m.year, m.format, 0, None, None, None,
                      sub.error, errors, len(sub.findings) - errors,
                      json.dumps([f.model_dump(mode="json") for f in sub.findings], ensure_ascii=False),
                      report_json(sub.report)))
    flush()


# --- identifying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyIndex:
    """The roster's agencies by normalised name and by credit code, read once per receive
    (once per file made receiving 2,000 files into 2,000 agencies quadratic)."""

    by_norm: dict[str, int]
    by_code: dict[str, int]


def agency_index(ws: Workspace) -> AgencyIndex:
    rows = ws.conn.execute("SELECT id, norm, credit_code FROM agencies").fetchall()
    return AgencyIndex({r["norm"]: r["id"] for r in rows}, {r["credit_code"]: r["id"] for r in rows if r["credit_code"]})


def identify(index: AgencyIndex, chk: sqlite3.Row | None, file: str) -> tuple[int | None, str | None]:
    """(agency id, how) by template metadata, then the report's 单位名称, then the file name."""
    by_norm, by_code = index.by_norm, index.by_code
    code = norm_code(chk["credit_code"]) if chk is not None else ""
    name = normalize_name(chk["agency"]) if chk is not None else ""
    how = "模板信息" if chk is not None and chk["is_template"] else "表格中的单位名称"
    if code and code in by_code:
        return by_code[code], how + "（统一社会信用代码）"
    if name and name in by_norm:
        return by_norm[name], how
    stem = normalize_name(PurePosixPath(file).stem)
    hits = [(len(n), i) for n, i in by_norm.items() if n and n in stem]
    if hits:
        return max(hits)[1], "文件名"
    return None, None


def _inputs_equal(a: AgencyReport | None, b: AgencyReport | None) -> bool:
    if a is None or b is None or a.meta.format != b.meta.format or a.meta.format is None:
        return False
    for k in a.fmt.input_keys:
        va, vb = a.value(k), b.value(k)
        if (va.state, va.number, va.raw if va.state != "number" else None) != (
                vb.state, vb.number, vb.raw if vb.state != "number" else None):
            return False
    return True


def _record(ws: Workspace, item: Item, log: list[tuple[str, str, str, str | None]], index: AgencyIndex) -> Received:
    """One file's receipt (and version), inside the caller's transaction."""
    chk = cached_check(ws, item.sha256)
    at = now_iso()
    user = os_user()
    assert item.stored is not None
    ws.conn.execute("INSERT OR IGNORE INTO blobs VALUES (?, ?, ?, ?)",
                    (item.sha256, len(item.data), f"{INBOX}/{item.stored.name}", at))
    status = chk["status"] if chk is not None else "unreadable"
    src = chk["source_sha256"] if chk is not None else None
    known = ws.conn.execute("SELECT agency_id FROM versions WHERE sha256 = ?", (item.sha256,)).fetchone()
    kind, aid, how = "version", None, None
    if known is not None:
        kind, aid = "duplicate", known[0]
    elif src and chk is not None:
        srow = ws.conn.execute("SELECT agency_id FROM versions WHERE sha256 = ?", (src,)).fetchone()
        schk = cached_check(ws, src)
        if srow is not None and schk is not None and _inputs_equal(
                report_from_json(chk["report"]), report_from_json(schk["report"])):
            kind, aid = "feedback_copy", srow[0]
    if kind == "version":
        aid, how = identify(index, chk, item.file)
        ws.conn.execute("INSERT INTO versions (sha256, agency_id, file, received_at, identified_by) VALUES (?, ?, ?, ?, ?)",
                        (item.sha256, aid, item.file, at, how))
    ws.conn.execute("INSERT INTO receipts (sha256, file, source, kind, received_at, user) VALUES (?, ?, ?, ?, ?, ?)",
                    (item.sha256, item.file, item.source, kind, at, user))
    agency = ws.agency_name(aid) if aid is not None else None
    what = {
        "version": f"收到新版本：{item.file} → {agency or '未识别'}" + (f"（按{how}识别）" if how else ""),
        "duplicate": f"重复收到（与已收文件相同）：{item.file}",
        "feedback_copy": f"收到未修改的校验意见副本（不作为报送）：{item.file}",
    }[kind]
    line = audit(ws.conn, what, item.sha256, at)
    log.append((*line, what, item.sha256))
    return Received(item.file, item.sha256, kind, agency, status, how)


def receive(ws: Workspace, paths: Sequence[str | Path], *, workers: int | None = None,
            limits: GuardLimits = DEFAULT_LIMITS,
            progress: Callable[[int, int, str], None] | None = None) -> ReceiveResult:
    """Receive files, folders and zips; see the module doc. Never raises for a bad file.
    ``progress(done, total, stage)`` (stage: store / check / record) for a UI. Feedback copies
    are not written here (``feedback.refresh_feedback``: ~90 ms a copy would be most of a
    receive); ``outdated`` in the result names the agencies whose copy is due."""
    inbox = ws.root / INBOX
    clean_temporaries(inbox)
    items, skipped = expand(paths, limits)
    out = ReceiveResult(skipped=skipped)
    for it in items:  # 1. safely on disk first, then known to the database
        it.sha256, it.stored = store_bytes(inbox, it.data, it.suffix, sync_dir=False, durable=False)
    if items:
        flush_stored(inbox, [it.stored for it in items if it.stored is not None])
        at = now_iso()
        with tx(ws.conn):
            ws.conn.executemany("INSERT OR IGNORE INTO blobs VALUES (?, ?, ?, ?)",
                                [(it.sha256, len(it.data), f"{INBOX}/{it.stored.name}", at)
                                 for it in items if it.stored is not None])
    n = len(items)
    checked: Callable[[int, int], None] | None = None
    if progress is not None:
        tell = progress
        progress(0, n, "check")

        def checked(i: int, t: int) -> None:
            tell(i, t, "check")
    check_stored(ws, [it.sha256 for it in items], workers, checked)  # 2. checked once (cached)
    log: list[tuple[str, str, str, str | None]] = []
    index = agency_index(ws)
    for start in range(0, n, RECORD_BATCH):  # 3. recorded in transactions of RECORD_BATCH files
        with tx(ws.conn):
            batch_log: list[tuple[str, str, str, str | None]] = []
            for it in items[start:start + RECORD_BATCH]:
                out.received.append(_record(ws, it, batch_log, index))
                it.data = b""
        log += batch_log  # only what was committed reaches the readable log
        if progress is not None:
            progress(min(start + RECORD_BATCH, n), n, "record")
    if skipped:
        at = now_iso()
        with tx(ws.conn):
            for path, reason in skipped:
                ws.conn.execute("INSERT INTO skipped (path, reason, at) VALUES (?, ?, ?)", (path, reason, at))
                what = f"未收取：{path}：{reason}"
                log.append((*audit(ws.conn, what, None, at), what, None))
    append_log(ws.root, log)
    return out


def file_sha(path: Path) -> str:
    return sha256_file(path)
