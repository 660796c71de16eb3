"""Narrative checks on an imported (published) report: its title, preamble, headings and 一/五/六
against its own tables. Used by ``xltool import`` and ``xltool compare``."""

from __future__ import annotations

from xltool.core.model import Finding
from xltool.read.importer.core import ImportResult
from xltool.read.importer.tables import Issue
from xltool.rules.narrative import check_headings, check_narrative, report_numbers


def narrative_findings(res: ImportResult) -> list[Finding]:
    """Every narrative rule on an imported report; [] when it has no tables."""
    fmt = res.fmt
    if fmt is None or not res.ok:
        return []
    out = check_narrative(fmt, res.year.value, res.narrative, report_numbers(fmt, res.values),
                          title=res.title, preamble=res.preamble, file=res.path)
    told = {i.message for i in res.issues if i.code == "SECTION_NOT_FOUND"}
    for f in check_headings(fmt, res.paragraphs, file=res.path):
        # the importer already says which narrative section it could not find
        if f.code == "TEXT_SECTION_MISSING" and any(str(f.expected) in m for m in told):
            continue
        out.append(f)
    # 五 not found is not 五 empty (the importer says it was not found)
    five = next((s.heading for s in fmt.sections if s.key == "sec5"), "")
    if "sec5" not in res.narrative and any(five in m for m in told):
        out = [f for f in out if f.code != "TEXT_SEC5_EMPTY"]
    return out


def as_issue(f: Finding) -> Issue:
    """A finding in the importer's terms (shown and written like its own issues)."""
    return Issue(f.code, f.message, "warning" if f.severity.value == "warning" else "error", f.table, f.key)


def add_narrative_issues(res: ImportResult) -> ImportResult:
    """``res`` with the narrative findings appended to its issues (warnings)."""
    res.issues += [as_issue(f) for f in narrative_findings(res)]
    return res
