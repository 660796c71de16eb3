"""总览's table body, built without a template loop (the 2,000-agency page): every text an
agency or the roster supplies is escaped, in the cell and in the attribute, and each row
carries what the page script and the tests read (state class, data-agency, counts)."""

from __future__ import annotations

from xltool.pipeline.workspace.status import INVALID, NOT_SENT, AgencyState
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
