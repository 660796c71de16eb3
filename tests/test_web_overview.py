"""总览's table body, built without a template loop (the 2,000-agency page): every text an
agency or the roster supplies is escaped, in the cell and in the attribute, and each row
carries what the page script and the tests read (state class, data-agency, counts); and the
whole-table agency_states behind it agrees with the workspace per agency."""

from __future__ import annotations

from pathlib import Path

from tests.test_web_browser import CIVIL, CORRECTED, HEALTH, RETURNS, SAMPLES
from tests.test_web_browser_actions import FIRST
from xltool.cli import main as cli
from xltool.pipeline.workspace import accept, agency_states, open_workspace, pin, receive, sent
from xltool.pipeline.workspace.status import INVALID, NOT_SENT, OK, RETURNED, AgencyState
from xltool.web.app import STATE_CLASS, roster_rows


def test_rows_escape_and_carry_the_state() -> None:
    hostile = 'x"><script>alert(1)</script>&'
    states = [
        AgencyState(7, hostile, INVALID, "<b>张</b>", "0631-1234'5", {"sha256": "a" * 64,
                    "received_at": "2026-01-10T09:30:00+08:00", "status": "invalid", "errors": 3, "warnings": 1},
                    [{"sha256": "a" * 64}, {"sha256": "b" * 64}]),
        AgencyState(8, "威海市环翠区民政局", NOT_SENT, None, None, None, []),
    ]
    html = roster_rows(states)
    rows = html.split("\n")
    assert len(rows) == 2
    assert "<script>" not in html and "<b>" not in html and "0631-1234'5" not in html
    assert 'data-agency="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;"' in rows[0]
    assert f'<tr class="{STATE_CLASS[INVALID]}"' in rows[0] and '<a href="/agency/7">' in rows[0]
    assert "<td>2026-01-10 09:30</td>" in rows[0] and '<td class="num">3</td><td class="num">1</td><td class="num">2</td>' in rows[0]
    assert "&lt;b&gt;张&lt;/b&gt;" in rows[0] and "0631-1234&#x27;5" in rows[0]
    assert rows[1].startswith(f'<tr class="{STATE_CLASS[NOT_SENT]}" data-agency="威海市环翠区民政局"><td>2</td>')
    assert f'<td class="state">{NOT_SENT}</td><td></td><td class="num"></td><td class="num"></td><td class="num">0</td>' in rows[1]


def test_bulk_states_agree_with_the_workspace(tmp_path: Path) -> None:
    """agency_states reads whole tables; its current version is Workspace.current's (pins,
    latest), its counts those of the cached check minus accepted warnings, for every agency."""
    ws_dir = tmp_path / "2025年报"
    assert cli(["init", str(ws_dir), "--year", "2025", "--roster", str(SAMPLES / "roster.csv")]) == 0
    ws = open_workspace(ws_dir)
    try:
        receive(ws, [FIRST, CORRECTED, RETURNS / f"2025年_{CIVIL}_政府信息公开年报.xlsx"])
        first_sha = ws.conn.execute("SELECT sha256 FROM versions WHERE file LIKE ?", (f"%{FIRST.name}",)).fetchone()[0]
        pin(ws, HEALTH, first_sha[:10])
        sent(ws, HEALTH)
        accept(ws, CIVIL, "BLANK", "表二!B14", "单位确认本年没有行政处罚")
        states = {s.name: s for s in agency_states(ws)}
        for s in states.values():
            cur = ws.current(s.id)
            assert (s.current or {}).get("sha256") == (cur["sha256"] if cur is not None else None)
            n = ws.conn.execute("SELECT count(*) FROM versions WHERE agency_id = ?", (s.id,)).fetchone()[0]
            assert len(s.versions) == n
        assert states[HEALTH].current["sha256"] == first_sha and states[HEALTH].state == RETURNED
        assert states[CIVIL].state == OK and states[CIVIL].current["warnings"] == 0
        assert [a["state"] for a in states[CIVIL].accepted] == ["有效"]
        assert sum(1 for s in states.values() if s.state == NOT_SENT) == len(states) - 2
    finally:
        ws.close()
