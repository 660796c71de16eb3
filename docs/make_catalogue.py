"""Rewrite the README's finding catalogue from the registry (``make catalogue``)."""

from __future__ import annotations

import re
from pathlib import Path

from xltool.core.findings import catalogue_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    new, n = re.subn(r"(<!-- catalogue:start[^>]*-->\n)(.*?)(<!-- catalogue:end -->)",
                     lambda m: m.group(1) + catalogue_markdown() + m.group(3), text, flags=re.S)
    if n != 1:
        raise SystemExit("README lost its catalogue markers")
    README.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
