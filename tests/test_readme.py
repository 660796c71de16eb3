"""The README is part of the product: its catalogue and commands must match the code."""

from __future__ import annotations

import re
from pathlib import Path

from xltool.cli import build_parser
from xltool.core.findings import REGISTRY, catalogue_markdown

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_catalogue_in_readme_is_current() -> None:
    m = re.search(r"<!-- catalogue:start[^>]*-->\n(.*?)<!-- catalogue:end -->", README, re.S)
    assert m, "README lost its catalogue markers"
    assert m.group(1).strip() == catalogue_markdown().strip(), (
        "README catalogue is stale: run `make catalogue` (docs/make_catalogue.py)"
    )
    for code in REGISTRY:
        assert f"`{code}`" in README


def test_readme_commands_parse() -> None:
    """Every `xltool …` command line shown in the README is accepted by the CLI parser."""
    parser = build_parser()
    blocks = re.findall(r"```[a-z]*\n(.*?)```", README, re.S)
    lines = [ln.strip() for b in blocks for ln in b.splitlines() if ln.strip().startswith("xltool ")]
    assert len(lines) >= 3
    for ln in lines:
        argv = ln.split()[1:]
        if "|" in ln or "…" in ln or "--help" in argv:
            continue
        args = parser.parse_args(argv)
        assert callable(args.func), ln
