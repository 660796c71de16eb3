"""Shared test fixtures: LibreOffice as the real spreadsheet engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xltool.workbook.soffice import convert, find_soffice, make_profile

REQUIRE = os.environ.get("XLTOOL_REQUIRE_SOFFICE") == "1"


def writer_available() -> bool:
    """LibreOffice with Writer (libreoffice-writer-nogui): DOCX import needs it, Calc alone cannot."""
    exe = find_soffice()
    if exe is None:
        return False
    program = Path(os.path.realpath(exe)).parent
    return any(program.glob("libswlo.*")) or any(program.glob("swlo.dll"))


def require_writer() -> None:
    """Skip without LibreOffice Writer, or fail when CI says it must be there."""
    if writer_available():
        return
    if os.environ.get("XLTOOL_REQUIRE_WRITER") == "1":
        pytest.fail("XLTOOL_REQUIRE_WRITER=1 but LibreOffice Writer is not installed")
    pytest.skip("LibreOffice Writer not installed: install libreoffice-writer-nogui to run this test")


@pytest.fixture(scope="session")
def soffice_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LibreOffice profile that recalculates on load; skips (or fails in CI) without soffice."""
    if find_soffice() is None:
        if REQUIRE:
            pytest.fail("XLTOOL_REQUIRE_SOFFICE=1 but LibreOffice (soffice) is not installed")
        pytest.skip("LibreOffice (soffice) not installed: install libreoffice-calc-nogui to run this test")
    return make_profile(tmp_path_factory.mktemp("lo-profile"))


@pytest.fixture(scope="session")
def recalc(soffice_profile: Path, tmp_path_factory: pytest.TempPathFactory):
    """recalc([paths]) → recalculated copies (xlsx), made by LibreOffice."""

    def _recalc(paths: list[Path]) -> list[Path]:
        out = tmp_path_factory.mktemp("lo-out")
        return convert(paths, out, "xlsx", profile=soffice_profile)

    return _recalc
