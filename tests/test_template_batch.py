"""Templates of a roster drawn once per shape and filled per agency equal templates drawn one by
one: every part of every file, byte for byte after decompression."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

from xltool.core.names import RosterEntry
from xltool.read import read_file
from xltool.spec import V2019, V2021
from xltool.write.template import write_templates, write_workbook

CREATED = datetime(2026, 1, 5, 9, 30, 0)
ROSTER = [
    RosterEntry("威海市环翠区科学技术局", "11371002MA3C000001", "张三 0631-5201234"),
    RosterEntry("威海市环翠区民政局", "11371002MA3C000002", "李四"),
    RosterEntry("威海市环翠区统计局", None, None),  # same widths as 民政局, no code or contact
    RosterEntry("环翠楼街道办事处", "11371002MA3C000004", "王五"),
    RosterEntry("R&D 中心（测试）", "11371002MA3C000005", "赵六 & 钱七"),  # XML and header escapes
    RosterEntry("威海市环翠区住房和城乡建设局（威海市环翠区人民防空办公室）" * 2, "11371002MA3C000006", "孙八"),
]


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def test_batch_templates_equal_one_by_one(tmp_path: Path) -> None:
    for fmt, year in ((V2021, 2025), (V2019, 2020)):
        batch = write_templates(tmp_path / f"batch{fmt.id}", year, fmt, ROSTER, created=CREATED)
        assert len(batch) == len(ROSTER)
        for e, path in zip(ROSTER, batch, strict=True):
            one = write_workbook(tmp_path / f"one{fmt.id}" / path.name, fmt, year, agency=e.name,
                                 credit_code=e.credit_code, contact=e.contact, created=CREATED)
            a, b = _parts(path), _parts(one)
            assert a.keys() == b.keys()
            for name in a:
                assert a[name] == b[name], (e.name, name)
            res = read_file(path)
            assert res.report is not None and res.report.meta.agency == e.name
            assert res.report.meta.credit_code == e.credit_code
            assert not [f for f in res.findings if f.code != "BLANK" and f.severity.value == "error"]
