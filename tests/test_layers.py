"""Architecture rules that a wrong change must trip: one-way layers, and the spec as the only
place an official label is typed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from xltool.spec import FORMATS

PKG = Path(__file__).resolve().parent.parent / "xltool"
LAYERS = ["spec", "core", "workbook", "read", "rules", "write", "pipeline", "web", "cli"]  # low → high; web: xltool serve


def official_labels() -> set[str]:
    """Every label text of both formats: tables, rows, groups, columns, sections, captions."""
    out: set[str] = set()
    for fmt in FORMATS.values():
        for s in fmt.sections:
            out.add(s.heading)
        for t in fmt.tables:
            out.update({t.caption, t.header_first, t.column_root})
            for r in t.rows:
                out.add(r.label)
                out.update(r.groups)
            for c in t.columns:
                out.add(c.label)
                out.update(getattr(c, "groups", ()) or ())
    # the label without its numbering (一、 / （三） / 1.) is the same fact
    out |= {_NUMBERING.sub("", x) for x in out}
    # short generic words (总计, 其他) are not format facts on their own
    return {x for x in out if x and len(x) >= 6}


_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+\.)")


def _string_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            out.append((node.lineno, node.value))
    return out


def test_official_labels_only_in_spec() -> None:
    labels = official_labels()
    assert "本年新收政府信息公开申请数量" in labels and "结转下年度继续办理" in labels
    hits = []
    for path in sorted(PKG.rglob("*.py")):
        if path.relative_to(PKG).parts[0] == "spec":
            continue
        for line, text in _string_literals(path):
            for lab in labels:
                if lab in text:
                    hits.append(f"{path.relative_to(PKG)}:{line}: {lab}")
    assert not hits, "official labels typed outside xltool/spec:\n" + "\n".join(hits)


def test_done_when_grep() -> None:
    """The issue's own check: these labels appear under xltool/ only in the spec (code and docs)."""
    for lab in ("本年新收政府信息公开申请数量", "结转下年度继续办理", "尚未审结"):
        found = [p for p in PKG.rglob("*.py") if lab in p.read_text(encoding="utf-8")
                 and p.relative_to(PKG).parts[0] != "spec"]
        assert not found, f"{lab} found outside the spec: {found}"


def test_imports_point_one_way() -> None:
    """A module imports only from its own layer or lower ones (import-linter checks the same in
    ``make test``; this test keeps the rule when the linter is not installed)."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).parts
        if rel[0] not in rank:
            continue
        mine = rank[rel[0]]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods = [node.module]
            elif isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            for m in mods:
                parts = m.split(".")
                if parts[0] == "xltool" and len(parts) > 1 and parts[1] in rank and rank[parts[1]] > mine:
                    bad.append(f"{'/'.join(rel)}:{node.lineno} imports {m}")
    assert not bad, "wrong-way imports:\n" + "\n".join(bad)


def test_no_relative_imports() -> None:
    """Absolute imports only, so a module's layer is visible in every import line."""
    bad = [str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
           if re.search(r"^\s*from \.+\w* import", p.read_text(encoding="utf-8"), re.M)]
    assert not bad
