"""Every roster agency's state, computed from the database alone (no file is read), the
JSON of ``xltool status --json`` and the chase list (催报名单)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xltool import __version__
from xltool.pipeline.workspace.ops import Workspace, finding_at, split_cell, value_at
from xltool.pipeline.workspace.receive import check_stored, rules_version
from xltool.workbook.fileio import INERT_WORKBOOK, atomic_path

NOT_SENT = "未报送"
OK = "已报送·通过"
INVALID = "已报送·有错误"
UNFILLED = "未填写"
UNREADABLE = "无法读取"
RETURNED = "已退回修改"
CONFIRMED = "已确认"
UNIDENTIFIED = "未识别"
STATES = (NOT_SENT, OK, INVALID, UNFILLED, UNREADABLE, RETURNED, CONFIRMED)
CHASE_STATES = (NOT_SENT, INVALID, UNFILLED, UNREADABLE, RETURNED)
VALID, LAPSED = "有效", "已失效"


@dataclass
class AgencyState:
    id: int
    name: str
    state: str
    person: str | None
    phone: str | None
    current: dict[str, Any] | None
    versions: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    last_sent: str | None = None
    included: str | None = None  # reason, when the current version counts despite errors
    current_file: str | None = None  # the name the current version arrived under
    findings: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "contact": {"person": self.person, "phone": self.phone},
                "current": self.current, "versions": self.versions, "accepted": self.accepted}


def _latest(decisions: list[Any], kind: str) -> Any:
    """The agency's latest decision of ``kind`` (``decisions`` in id order), or None."""
    return next((d for d in reversed(decisions) if d["kind"] == kind), None)


def agency_states(ws: Workspace) -> list[AgencyState]:
    """One state per roster agency. Current versions without a cached check (a new tool or
    rules version) are checked first; everything else comes from the database, read in a few
    whole-table queries (not per agency: 总览 of 2,000 agencies is served from this). A
    report's values (~12 KB of JSON each) are parsed only for an agency with an accepted
    warning, the one place they are needed."""
    conn = ws.conn
    agencies = conn.execute("SELECT id, name, contact, phone FROM agencies ORDER BY id").fetchall()
    versions: dict[int, list[Any]] = {}
    for v in conn.execute("SELECT agency_id, sha256, received_at, file FROM versions "
                          "WHERE agency_id IS NOT NULL ORDER BY seq"):
        versions.setdefault(v["agency_id"], []).append(v)
    decisions: dict[int, list[Any]] = {}
    for d in conn.execute("SELECT * FROM decisions WHERE agency_id IS NOT NULL ORDER BY id"):
        decisions.setdefault(d["agency_id"], []).append(d)
    currents: dict[int, Any] = {}
    for a in agencies:  # as Workspace.current: the latest pin of one of its versions, else the latest version
        vs = versions.get(a["id"], [])
        mine = {v["sha256"]: v for v in vs}
        pinned = next((d for d in reversed(decisions.get(a["id"], []))
                       if d["kind"] == "pin" and d["sha256"] in mine), None)
        currents[a["id"]] = mine[pinned["sha256"]] if pinned is not None else (vs[-1] if vs else None)
    check_stored(ws, [c["sha256"] for c in currents.values() if c is not None])
    version_args = (__version__, rules_version(ws))
    checks = {r["sha256"]: r for r in conn.execute(
        "SELECT sha256, status, findings FROM checks WHERE tool_version = ? AND rules_version = ?", version_args)}
    out: list[AgencyState] = []
    for a in agencies:
        aid = a["id"]
        cur = currents[aid]
        mine_decisions = decisions.get(aid, [])
        versions_out = []
        for v in versions.get(aid, []):
            vc = checks.get(v["sha256"])
            versions_out.append({"sha256": v["sha256"], "received_at": v["received_at"],
                                 "status": vc["status"] if vc is not None else "unreadable", "file": v["file"]})
        st = AgencyState(aid, a["name"], NOT_SENT, a["contact"], a["phone"], None, versions_out)
        sent = _latest(mine_decisions, "sent")
        st.last_sent = sent["at"] if sent is not None else None
        if cur is None:
            out.append(st)
            continue
        chk = checks.get(cur["sha256"])
        findings = json.loads(chk["findings"]) if chk is not None else []
        accepts = [d for d in mine_decisions if d["kind"] == "accept"]
        report = None
        if accepts and chk is not None:
            row = conn.execute("SELECT report FROM checks WHERE sha256 = ? AND tool_version = ? AND rules_version = ?",
                               (cur["sha256"], *version_args)).fetchone()
            report = json.loads(row["report"]) if row is not None and row["report"] else None
        accepted_cells: list[tuple[str, str, str]] = []
        for d in accepts:
            sheet, addr = split_cell(d["cell"])
            hit = next((f for f in findings if finding_at(f, d["code"], sheet, addr)), None)
            now = json.dumps(value_at(report, hit), ensure_ascii=False) if hit is not None else None
            if d["key"] and report is not None:
                now = json.dumps((report.get("values") or {}).get(d["key"]), ensure_ascii=False)
            valid = d["sha256"] == cur["sha256"] or now == d["value"]
            st.accepted.append({"code": d["code"], "cell": d["cell"], "reason": d["reason"],
                                "state": VALID if valid else LAPSED})
            if valid:
                accepted_cells.append((d["code"], sheet, addr))
        live = [f for f in findings
                if not (f["severity"] == "warning" and any(finding_at(f, c, s, x) for c, s, x in accepted_cells))]
        errors = sum(1 for f in live if f["severity"] == "error")
        status = chk["status"] if chk is not None else "unreadable"
        st.findings = live
        st.current_file = cur["file"]
        st.current = {"sha256": cur["sha256"], "received_at": cur["received_at"], "status": status,
                      "errors": errors, "warnings": len(live) - errors}
        inc = _latest(mine_decisions, "include")
        st.included = inc["reason"] if inc is not None and inc["sha256"] == cur["sha256"] else None
        confirm = _latest(mine_decisions, "confirm")
        if confirm is not None and confirm["sha256"] == cur["sha256"]:
            st.state = CONFIRMED
        elif sent is not None and sent["sha256"] == cur["sha256"]:
            st.state = RETURNED
        elif status == "unreadable":
            st.state = UNREADABLE
        elif any(f["code"] == "UNFILLED" for f in findings):
            st.state = UNFILLED
        elif errors:
            st.state = INVALID
        else:
            st.state = OK
        out.append(st)
    return out


def unidentified(ws: Workspace) -> list[dict[str, Any]]:
    return [{"sha256": r["sha256"], "file": r["file"]}
            for r in ws.conn.execute("SELECT sha256, file FROM versions WHERE agency_id IS NULL ORDER BY seq")]


def skipped(ws: Workspace) -> list[dict[str, Any]]:
    return [{"path": r["path"], "reason": r["reason"]}
            for r in ws.conn.execute("SELECT path, reason FROM skipped ORDER BY id")]


def status_json(ws: Workspace, states: list[AgencyState] | None = None) -> dict[str, Any]:
    states = agency_states(ws) if states is None else states
    return {"year": ws.year, "agencies": [s.to_json() for s in states],
            "unidentified": unidentified(ws), "skipped": skipped(ws)}


def write_chase_list(ws: Workspace, target: str | Path, states: list[AgencyState] | None = None) -> Path:
    """催报名单: every agency still owing a (correct) report, with its contact; XlsxWriter,
    agency-supplied text always through ``write_string`` (never read as a formula)."""
    import xlsxwriter

    states = agency_states(ws) if states is None else states
    rows = [s for s in states if s.state in CHASE_STATES]
    target = Path(target)
    with atomic_path(target, overwrite=True) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), INERT_WORKBOOK)
        try:
            ws_ = wb.add_worksheet("催报名单")
            font = {"font_name": "宋体", "font_size": 11}
            title = wb.add_format({**font, "bold": True, "font_size": 14})
            head = wb.add_format({**font, "bold": True, "bg_color": "#D9D9D9", "border": 1})
            cell = wb.add_format({**font, "border": 1, "text_wrap": True, "valign": "top"})
            ws_.write_string(0, 0, f"{ws.year} 年度政府信息公开工作年度报告 催报名单（{len(rows)} 个单位）", title)
            headers = ("序号", "单位名称", "状态", "联系人", "联系电话", "最近收到", "问题", "校验意见发出")
            for j, h in enumerate(headers):
                ws_.write_string(2, j, h, head)
            for i, s in enumerate(rows, 1):
                cur = s.current or {}
                problems = f"{cur.get('errors', 0)} 个错误、{cur.get('warnings', 0)} 个警告" if cur else ""
                ws_.write_number(2 + i, 0, i, cell)
                for j, text in enumerate((s.name, s.state, s.person or "", s.phone or "",
                                          cur.get("received_at", ""), problems, s.last_sent or ""), 1):
                    ws_.write_string(2 + i, j, str(text), cell)
            for j, w in enumerate((6, 36, 14, 12, 16, 26, 22, 26)):
                ws_.set_column(j, j, w)
            ws_.freeze_panes(3, 0)
            ws_.set_landscape()
            ws_.set_paper(9)
            ws_.fit_to_pages(1, 0)
        finally:
            wb.close()
    return target
