"""A per-file report, as frictionless-py has one: valid or not, counts, and a flat table.

Every stage that judges one file (check, the workspace, import) exposes its outcome through
this interface, so a shell shows the same things the same way.

>>> from xltool.core.model import Finding, Severity
>>> class R(FileReport):
...     def __init__(self) -> None:
...         self.path = "a.xlsx"
...         self.findings = [Finding(code="BLANK", severity=Severity.WARNING, message="空", sheet="表三", cell="D7")]
>>> r = R()
>>> r.valid, r.stats
(True, {'errors': 0, 'warnings': 1, 'findings': 1})
>>> r.flatten(["code", "sheet", "cell"])
[['BLANK', '表三', 'D7']]
"""

from __future__ import annotations

from collections.abc import Sequence

from xltool.core.model import Finding, Severity

FLAT_COLUMNS = ("code", "severity", "sheet", "cell", "row", "column", "expected", "actual", "message")


class FileReport:
    """Mixin: a report about one file; subclasses hold ``path`` and ``findings``."""

    path: str
    findings: list[Finding]

    @property
    def valid(self) -> bool:
        """No error finding (warnings do not make a file invalid)."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def stats(self) -> dict[str, int]:
        errors = sum(1 for f in self.findings if f.severity is Severity.ERROR)
        return {"errors": errors, "warnings": len(self.findings) - errors, "findings": len(self.findings)}

    def flatten(self, spec: Sequence[str] = FLAT_COLUMNS) -> list[list[object]]:
        """One row per finding with the named fields (severity as its value), for tables and CSV."""
        rows: list[list[object]] = []
        for f in self.findings:
            row: list[object] = []
            for name in spec:
                v = getattr(f, name)
                row.append(v.value if isinstance(v, Severity) else v)
            rows.append(row)
        return rows
