"""The offline Windows bundle (``make bundle``): every wheel a Windows PC needs is inside the zip.

The bundle is built here (pip needs the package index), or taken from ``XLTOOL_BUNDLE=path.zip``.
Without the index the tests skip, unless ``XLTOOL_REQUIRE_BUNDLE=1`` (set in CI), where they fail.

The wheels are proven three ways, for each of CPython 3.10–3.13 on win_amd64, always with
``--no-index`` and no pip configuration (so nothing but the bundle can be used):
1. as 安装.bat resolves them, through packaging/bundle.py's marker shim (pip otherwise evaluates
   environment markers for the machine running it, and Windows-only dependencies go missing);
2. with the plain ``pip install --dry-run --platform …`` command of the issue;
3. independently of pip, by walking the ``Requires-Dist`` of the wheels' own metadata with the Windows
   marker environment — this is what catches the shim silently stopping to work in a later pip.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
REQUIRE = os.environ.get("XLTOOL_REQUIRE_BUNDLE") == "1"
LAUNCHER_NAME = "政务公开年报工具.bat"


def _load_bundle() -> ModuleType:
    """packaging/bundle.py as a module (the folder is not a package: ``packaging`` is PyPI's name)."""
    spec = importlib.util.spec_from_file_location("xltool_packaging_bundle", ROOT / "packaging" / "bundle.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


bundle = _load_bundle()


def _index_unreachable() -> str | None:
    """Why the package index cannot be used, or None. Asks for a win_amd64-only wheel (one the bundle
    needs, into the bundle's download cache), so a local find-links folder of Linux wheels cannot
    make an offline machine look online; short timeouts, so a dead network fails in seconds."""
    try:
        bundle.run_pip(
            ["download", "--no-deps", "--timeout", "15", "--retries", "1", "--progress-bar", "off",
             "--dest", str(bundle.DEFAULT_CACHE / "wheels"), *bundle.target_args("3.12"), "python-calamine"]
        )
    except bundle.BundleError as exc:
        return str(exc).strip().splitlines()[-1]
    return None


@pytest.fixture(scope="module")
def bundle_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle zip: $XLTOOL_BUNDLE, or a fresh build (download cache: build/bundle-cache)."""
    given = os.environ.get("XLTOOL_BUNDLE")
    if given:
        path = Path(given)
        assert path.is_file(), f"XLTOOL_BUNDLE={given} is not a file"
        return path
    reason = _index_unreachable()
    if reason:
        if REQUIRE:
            pytest.fail(f"XLTOOL_REQUIRE_BUNDLE=1 but the package index is unreachable: {reason}")
        pytest.skip(f"package index unreachable, cannot build the bundle (XLTOOL_REQUIRE_BUNDLE=1 fails instead): {reason}")
    return bundle.build(out=tmp_path_factory.mktemp("dist"), log=False).zip_path


@pytest.fixture(scope="module")
def top(bundle_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The unpacked bundle's top folder."""
    dest = tmp_path_factory.mktemp("unzipped")
    with zipfile.ZipFile(bundle_zip) as zf:
        zf.extractall(dest)
    (folder,) = dest.iterdir()
    return folder


@pytest.fixture(scope="module")
def version(top: Path) -> str:
    """xltool's version, from the one xltool wheel in the bundle."""
    (wheel,) = (top / "wheels").glob("xltool-*.whl")
    return str(bundle.wheel_version(wheel))


@pytest.fixture(scope="module")
def resolutions(top: Path, version: str) -> dict[str, Any]:
    """Per Python version, what 安装.bat installs: --no-index, wheels folder only, Windows markers."""
    return {py: bundle.resolve_offline([top / "wheels"], version, py) for py in bundle.PYTHONS}


# --- the zip -------------------------------------------------------------------------------------


def test_zip_layout_and_utf8_names(bundle_zip: Path, version: str) -> None:
    prefix = f"xltool-{version}-windows-offline/"
    with zipfile.ZipFile(bundle_zip) as zf:
        infos = zf.infolist()
    names = {i.filename for i in infos}
    assert all(n.startswith(prefix) for n in names), "everything sits in one top folder"
    for rel in ("安装.bat", "说明.txt", "setup/launcher.bat", "setup/make_launcher.py", "setup/manifest.json",
                f"wheels/xltool-{version}-py3-none-any.whl"):
        assert prefix + rel in names, rel
    assert all(n.endswith(".whl") for n in names if n.startswith(prefix + "wheels/"))
    non_ascii = [i for i in infos if not i.filename.isascii()]
    assert {i.filename for i in non_ascii} >= {prefix + "安装.bat", prefix + "说明.txt"}
    for info in non_ascii:
        assert info.flag_bits & 0x800, f"{info.filename}: zip entry lacks the UTF-8 name flag"


def test_zip_is_deterministic(tmp_path: Path) -> None:
    """Same files in, same bytes out (sorted entries, one timestamp, fixed modes)."""
    stage = tmp_path / "stage" / "top"
    (stage / "wheels").mkdir(parents=True)
    (stage / "安装.bat").write_bytes(b"@echo off\r\n")
    (stage / "wheels" / "a-1-py3-none-any.whl").write_bytes(b"PK")
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    bundle.write_zip(stage, a, 1700000000)
    os.utime(stage / "安装.bat", (0, 0))
    bundle.write_zip(stage, b, 1700000000)
    assert a.read_bytes() == b.read_bytes()


# --- the batch files and the text ----------------------------------------------------------------


def _check_cmd_text(path: Path, bom: bool) -> str:
    """UTF-8 with CRLF line ends only, BOM or not as asked; returns the text."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == bom, f"{path.name}: BOM {'missing' if bom else 'present'}"
    assert raw.count(b"\n") == raw.count(b"\r\n") > 0, f"{path.name}: not CRLF throughout"
    assert b"\r\r" not in raw
    return raw.decode("utf-8-sig")


def _check_batch(text: str, name: str) -> None:
    """cmd reads a batch file in the console code page: ASCII until chcp 65001, and labels that exist."""
    lines = text.split("\r\n")
    assert lines[0] == "@echo off" and lines[1] == "chcp 65001 >nul", name
    labels = {m.lower() for m in re.findall(r"^:(\w+)", text, re.M)}
    for target in re.findall(r"\b(?:goto|call) :(\w+)", text):
        assert target.lower() in labels | {"eof"}, f"{name}: no label :{target}"
    assert "@VERSION@" not in text


def test_install_bat(top: Path, version: str) -> None:
    text = _check_cmd_text(top / "安装.bat", bom=False)
    _check_batch(text, "安装.bat")
    for needle in ("--no-index", r'set "WHEELS=%~dp0wheels"', '--find-links "%WHEELS%"', r"%LOCALAPPDATA%\xltool\venv",
                   "-m venv", f'"xltool=={version}"', "py -%%V", "call :try_python py -3",
                   "call :try_python python", "PIP_CONFIG_FILE=nul", LAUNCHER_NAME, r"setup\make_launcher.py"):
        assert needle in text, needle
    # the interpreter check accepts exactly the versions the wheels are for
    assert "(3, 10) <= sys.version_info[:2] <= (3, 13)" in text
    assert bundle.PYTHONS == ("3.10", "3.11", "3.12", "3.13")


def test_launcher_bat(top: Path) -> None:
    text = _check_cmd_text(top / "setup" / "launcher.bat", bom=False)
    _check_batch(text, "launcher.bat")
    assert re.search(r'^set "XLTOOL_START=xltool --help"\r?$', text, re.M), "one line to change for `serve`"
    assert r'set "PATH=%LOCALAPPDATA%\xltool\venv\Scripts;%PATH%"' in text
    assert "%XLTOOL_START%" in text


def test_readme_txt(top: Path) -> None:
    text = _check_cmd_text(top / "说明.txt", bom=True)
    assert "安装.bat" in text and LAUNCHER_NAME in text and r"%LOCALAPPDATA%\xltool" in text
    from xltool.cli import build_parser

    parser = build_parser()
    commands = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("xltool ") and "--help" not in ln]
    assert commands
    for ln in commands:
        assert callable(parser.parse_args(ln.split()[1:]).func), ln


def test_make_launcher_copies_bytes(top: Path, tmp_path: Path) -> None:
    """Off Windows the desktop is ~/Desktop; the launcher lands there and in %LOCALAPPDATA%\\xltool."""
    env = {**os.environ, "HOME": str(tmp_path / "home"), "LOCALAPPDATA": str(tmp_path / "local")}
    source = top / "setup" / "launcher.bat"
    proc = subprocess.run([sys.executable, str(top / "setup" / "make_launcher.py"), str(source), LAUNCHER_NAME],
                          env=env, capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    for made in (tmp_path / "home" / "Desktop" / LAUNCHER_NAME, tmp_path / "local" / "xltool" / LAUNCHER_NAME):
        assert made.read_bytes() == source.read_bytes()


# --- the wheels: resolved for Windows, offline ---------------------------------------------------


@pytest.mark.parametrize("python", bundle.PYTHONS)
def test_resolves_offline_for_windows(top: Path, resolutions: dict[str, Any], python: str) -> None:
    """As 安装.bat installs: --no-index, wheels folder only, Windows markers (the shim)."""
    res = resolutions[python]
    names = {canonicalize_name(n) for n, _, _ in res.packages}
    assert "xltool" in names
    # Windows-only dependencies a Linux-side resolution would drop: tqdm → colorama, pandas → tzdata
    assert {"colorama", "tzdata"} <= names
    assert all((top / "wheels" / f).is_file() for f in res.files)
    for _, _, f in res.packages:
        tags = parse_wheel_filename(f)[3]
        assert any(t.platform in ("any", "win_amd64") for t in tags), f


@pytest.mark.parametrize("python", bundle.PYTHONS)
def test_plain_pip_dry_run(top: Path, version: str, python: str, tmp_path: Path) -> None:
    """The command of the issue, without the shim: pip accepts a foreign-platform resolution as
    ``install --dry-run --target`` with ``--only-binary=:all:``."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-index",
         "--find-links", str(top / "wheels"), *bundle.target_args(python), "--target", str(tmp_path / "t"),
         f"xltool=={version}"],
        env=bundle.pip_env(isolated=True), capture_output=True, text=True, encoding="utf-8",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Would install" in proc.stdout


def _wheel_index(folder: Path) -> dict[str, list[tuple[Version, frozenset[Tag], Path]]]:
    index: dict[str, list[tuple[Version, frozenset[Tag], Path]]] = {}
    for path in folder.glob("*.whl"):
        name, ver, _, tags = parse_wheel_filename(path.name)
        index.setdefault(name, []).append((ver, tags, path))
    return index


def _metadata(wheel: Path) -> tuple[str | None, list[str]]:
    """(Requires-Python, Requires-Dist) of a wheel, read from its .dist-info/METADATA."""
    with zipfile.ZipFile(wheel) as zf:
        (meta,) = [n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        msg = HeaderParser().parsestr(zf.read(meta).decode("utf-8"))
    return msg.get("Requires-Python"), msg.get_all("Requires-Dist") or []


@pytest.mark.parametrize("python", bundle.PYTHONS)
def test_metadata_closure_for_windows(top: Path, version: str, python: str) -> None:
    """Independently of pip: every requirement that applies on Windows CPython ``python`` (markers
    evaluated for Windows) has a wheel in the folder that fits its version range, this interpreter's
    tags and the wheel's Requires-Python."""
    major, minor = (int(x) for x in python.split("."))
    abi = f"cp{major}{minor}"
    supported = set(cpython_tags((major, minor), [abi], ["win_amd64"]))
    supported |= set(compatible_tags((major, minor), abi, ["win_amd64"]))
    env = bundle.windows_markers(python)
    index = _wheel_index(top / "wheels")

    def best(req: Requirement) -> Path | None:
        fits = []
        for ver, tags, path in index.get(canonicalize_name(req.name), []):
            requires_python = _metadata(path)[0]
            if (req.specifier.contains(ver, prereleases=True) and tags & supported
                    and (not requires_python or SpecifierSet(requires_python).contains(python + ".0"))):
                fits.append((ver, path))
        return max(fits)[1] if fits else None

    missing: list[str] = []
    seen: set[str] = set()
    todo = [(Requirement(f"xltool=={version}"), "the bundle")]
    while todo:
        req, wanted_by = todo.pop()
        wheel = best(req)
        if wheel is None:
            missing.append(f"{req} (needed by {wanted_by})")
            continue
        if wheel.name in seen:
            continue
        seen.add(wheel.name)
        for line in _metadata(wheel)[1]:
            dep = Requirement(line)
            if dep.marker is None or dep.marker.evaluate({**env, "extra": ""}):
                todo.append((dep, wheel.name))
    assert not missing, f"no fitting wheel in the bundle for Windows CPython {python}: {missing}"
    assert any(n.startswith("colorama-") for n in seen) and any(n.startswith("tzdata-") for n in seen)


def test_runtime_dependencies_only(top: Path, resolutions: dict[str, Any]) -> None:
    """Each [project] dependency of pyproject.toml is installed on every version; the test extra is not shipped."""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {canonicalize_name(Requirement(d).name) for d in project["dependencies"]}
    for python, res in resolutions.items():
        assert wanted <= {canonicalize_name(n) for n, _, _ in res.packages}, python
    shipped = set(_wheel_index(top / "wheels"))
    test_only = {canonicalize_name(Requirement(d).name) for d in project["optional-dependencies"]["test"]}
    assert not (test_only - wanted) & shipped


def test_xltool_wheel_has_every_subpackage(top: Path, version: str) -> None:
    """Each folder of xltool/ with Python code is in the wheel (a folder without __init__.py is
    silently left out by setuptools' package discovery and only fails on the clerk's PC)."""
    with zipfile.ZipFile(top / "wheels" / f"xltool-{version}-py3-none-any.whl") as zf:
        names = zf.namelist()
    in_wheel = {str(Path(n).parent) for n in names if n.endswith(".py")}
    in_tree = {
        str(p.parent.relative_to(ROOT))
        for p in (ROOT / "xltool").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert in_tree <= in_wheel, f"left out of the wheel: {sorted(in_tree - in_wheel)}"
    assert f"xltool-{version}.dist-info" in {n.split("/")[0] for n in names}
