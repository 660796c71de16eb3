"""Writing outputs safely: atomically, and with workbook structure protection.

Inputs are never written; every output is first written to a temporary file in the
target folder and then renamed, so a crash leaves either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~tmp-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; give the output the mode a normal file write would (umask applies)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def add_structure_protection(xlsx: Path, password_hash: str | None = None) -> None:
    """Insert ``<workbookProtection lockStructure="1"/>`` into ``xl/workbook.xml``.

    XlsxWriter cannot write structure protection (its maintainer declined), so we add the
    element after saving. It goes right after ``<workbookPr/>`` as the schema orders it.
    """
    xlsx = Path(xlsx)
    tmp = xlsx.with_name(xlsx.name + ".prot")
    with zipfile.ZipFile(xlsx) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                attrs = 'lockStructure="1"'
                if password_hash:
                    attrs = f'workbookPassword="{password_hash}" ' + attrs
                elem = f"<workbookProtection {attrs}/>"
                m = re.search(r"<workbookPr\b[^>]*/>|<workbookPr\b[^>]*>.*?</workbookPr>", text, re.S)
                if m is None:
                    raise ValueError("xl/workbook.xml has no <workbookPr>")
                text = text[: m.end()] + elem + text[m.end() :]
                data = text.encode("utf-8")
            zout.writestr(item, data)
    os.replace(tmp, xlsx)


def legacy_password_hash(password: str) -> str:
    """Excel's 16-bit legacy password hash (as used by sheet and workbook protection)."""
    h = 0
    for ch in reversed(password):
        h = ((h >> 14) & 0x01) | ((h << 1) & 0x7FFF)
        h ^= ord(ch)
    h = ((h >> 14) & 0x01) | ((h << 1) & 0x7FFF)
    h ^= len(password)
    h ^= 0xCE4B
    return f"{h:04X}"


def readable(path: Path) -> None:
    """Give a written file the usual permissions (the temp file of ``atomic_path`` is 0600;
    a published page must be readable by the web server)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)
