"""LibreOffice (headless) as a formula engine: recalculate workbooks and read them back.

Facts this relies on (../shared/docs/excel-engineering-notes.md): LibreOffice recalculates
on load only with a profile whose ``OOXMLRecalcMode`` is 0; one call with 1,000 files once
wrote only 246 outputs without error, so we convert in batches of at most 100 and check
that every output exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from xltool.errors import XltoolError

BATCH = 100

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class SofficeError(XltoolError):
    pass


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def make_profile(root: Path) -> Path:
    """A LibreOffice user profile that always recalculates on load."""
    user = root / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(_XCU, encoding="utf-8")
    return root


def convert(
    files: Iterable[Path],
    out_dir: Path,
    to: str = "xlsx",
    profile: Path | None = None,
    timeout: float = 600,
) -> list[Path]:
    """Convert (and so recalculate) files with LibreOffice; returns outputs in input order."""
    exe = find_soffice()
    if exe is None:
        raise SofficeError("soffice not found")
    files = [Path(f) for f in files]
    out_dir.mkdir(parents=True, exist_ok=True)
    own_profile = profile is None
    prof = profile or make_profile(Path(tempfile.mkdtemp(prefix="xltool-lo-")))
    try:
        outputs: list[Path] = []
        ext = to.split(":")[0]
        for i in range(0, len(files), BATCH):
            batch = files[i : i + BATCH]
            cmd = [
                exe,
                f"-env:UserInstallation={prof.resolve().as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                to,
                "--outdir",
                str(out_dir),
                *map(str, batch),
            ]
            env = {**os.environ, "HOME": str(prof)}
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
            for f in batch:
                out = out_dir / (f.stem + "." + ext)
                if not out.exists():
                    raise SofficeError(
                        f"LibreOffice wrote no output for {f.name} (rc={proc.returncode}): "
                        f"{proc.stderr.strip()[:500]}"
                    )
                outputs.append(out)
        return outputs
    finally:
        if own_profile:
            shutil.rmtree(prof, ignore_errors=True)
