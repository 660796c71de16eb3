"""Build the offline Windows install bundle: ``dist/xltool-<version>-windows-offline.zip``.

Why: the clerks who use xltool work on Windows office PCs that are often offline or behind a network
that blocks package indexes. The zip carries everything ``pip`` needs — xltool's own wheel and a
win_amd64 wheel of every runtime dependency for CPython 3.10–3.13 — plus ``安装.bat``, which makes
a venv under ``%LOCALAPPDATA%\\xltool\\venv`` (no admin rights), installs with
``pip install --no-index --find-links wheels``, and puts a launcher on the desktop. Copy it on a USB
stick, unzip, double-click ``安装.bat``.

How, and the one trap: ``pip download --platform win_amd64 --python-version 3.X --only-binary=:all:``
picks Windows wheels for the right interpreter, but pip still evaluates environment markers against
the interpreter running it (pypa/pip#11664, closed as "not a bug" several times). Built on Linux,
that silently drops Windows-only dependencies — today ``colorama`` (tqdm,
``platform_system == "Windows"``) and ``tzdata`` (pandas 3, ``sys_platform == "win32"``) — and a
``--no-index`` install on the clerk's PC then fails. So every pip call that resolves for Windows runs
through a small shim that replaces pip's marker environment with the target's (Windows, AMD64,
CPython 3.X) before pip starts. The shim checks that the patch took; the bundle is then resolved
again from the wheels folder alone (``--no-index``, no pip configuration, for each Python version),
so a missing wheel fails the build instead of the clerk's install. tests/test_bundle.py repeats that
and also checks the dependency closure from the wheels' own metadata, independently of pip.

Reruns are fast: downloaded wheels are kept in ``build/bundle-cache/wheels`` and pip skips a file
that is already there (the index is still asked which versions exist). pip's own HTTP cache
(``build/bundle-cache/pip``) is not enough on its own: a mirror or proxy that sends no caching
headers makes pip download every file again. Delete ``build/bundle-cache`` to start cold. Reproducible-ish: the same resolution gives the
same zip byte for byte (entries sorted, timestamps from SOURCE_DATE_EPOCH or the HEAD commit, the
xltool wheel built with that SOURCE_DATE_EPOCH); a new upstream release changes what is resolved,
and ``setup/manifest.json`` in the zip records what went in.

Usage: ``python packaging/bundle.py [--out dist] [--cache build/bundle-cache]`` (``make bundle``).
Needs the package index (PyPI or the mirror in your pip configuration) and nothing but pip.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "windows"
PYTHONS: tuple[str, ...] = ("3.10", "3.11", "3.12", "3.13")
PLATFORM = "win_amd64"
DEFAULT_OUT = ROOT / "dist"
DEFAULT_CACHE = ROOT / "build" / "bundle-cache"
# 1980-01-01, the earliest time a zip entry can carry; used when neither SOURCE_DATE_EPOCH nor git says.
ZIP_EPOCH_FLOOR = 315532800

# Files copied from packaging/windows/ into the zip: (template, path in the zip, UTF-8 BOM?).
# The .bat files get no BOM: cmd.exe would read it as part of the first command ("'﻿@echo' is not
# recognized"). They are UTF-8 and switch the console to UTF-8 (chcp 65001) on their second line,
# so everything before that line must be ASCII. UTF-8 rather than GBK because it works whatever the
# PC's system locale is, and because Notepad (Windows 10 1903 and later) saves UTF-8 without BOM by
# default, so a launcher edited by hand stays in the same encoding. chcp 65001 in batch files is
# reliable from Windows 10 on, and Python 3.10+ does not run on Windows 7 anyway.
# 说明.txt gets a BOM so every Notepad version (and WPS) opens it as UTF-8 without guessing.
FILES: tuple[tuple[str, str, bool], ...] = (
    ("安装.bat", "安装.bat", False),
    ("说明.txt", "说明.txt", True),
    ("launcher.bat", "setup/launcher.bat", False),
    ("make_launcher.py", "setup/make_launcher.py", False),
)

# Runs pip with its marker environment replaced by the target's (see the module docstring).
# argv: -c <this> <environment as JSON> <pip arguments...>
PIP_SHIM = """\
import json, sys
env = json.loads(sys.argv[1])
from pip._vendor.packaging import markers
markers.default_environment = lambda: dict(env)
if not markers.Marker('sys_platform == "win32" and python_version == "%s"' % env["python_version"]).evaluate():
    sys.exit("bundle.py: could not point pip's environment markers at Windows (pip internals changed?)")
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


class BundleError(RuntimeError):
    """A step of the build failed; the message says which and carries pip's output."""


@dataclass
class Resolution:
    """What pip installs on Windows for one Python version, resolved from the wheels folder only."""

    python: str
    packages: list[tuple[str, str, str]] = field(default_factory=list)  # (name, version, wheel file)

    @property
    def files(self) -> set[str]:
        """The wheel files this Python version needs."""
        return {f for _, _, f in self.packages}


@dataclass
class Bundle:
    """The result of a build."""

    zip_path: Path
    version: str
    wheels: list[str]
    resolutions: list[Resolution]
    seconds: float


def windows_markers(python: str) -> dict[str, str]:
    """PEP 508 marker environment of 64-bit CPython ``python`` (e.g. "3.12") on Windows 10/11."""
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "nt",
        "platform_machine": "AMD64",
        "platform_release": "10",
        "platform_system": "Windows",
        "platform_version": "10.0.19045",
        "python_full_version": f"{python}.0",
        "platform_python_implementation": "CPython",
        "python_version": python,
        "sys_platform": "win32",
    }


def target_args(python: str) -> list[str]:
    """pip options that select wheels for 64-bit Windows CPython ``python`` (binary only, as pip requires)."""
    return [
        "--only-binary=:all:",
        "--platform",
        PLATFORM,
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--abi",
        "cp" + python.replace(".", ""),
    ]


def pip_env(isolated: bool) -> dict[str, str]:
    """Environment for a pip subprocess; ``isolated`` drops every pip setting of this machine.

    Isolation matters for the offline check: a ``find-links`` or ``extra-index-url`` in pip.conf or
    PIP_* variables would let pip find wheels that are not in the bundle. PIP_CONFIG_FILE=os.devnull
    is pip's documented way to load no configuration file at all (``--isolated`` still reads the
    global one).
    """
    env = dict(os.environ)
    if isolated:
        env = {k: v for k, v in env.items() if not k.upper().startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONUTF8"] = "1"
    return env


def run_pip(
    args: list[str],
    *,
    windows: str | None = None,
    isolated: bool = False,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run pip (through the Windows marker shim when ``windows`` names a Python version)."""
    if windows is None:
        cmd = [sys.executable, "-m", "pip", *args]
    else:
        cmd = [sys.executable, "-c", PIP_SHIM, json.dumps(windows_markers(windows)), *args]
    env = pip_env(isolated)
    env.update(extra_env or {})
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        shown = " ".join(["pip", *args])
        raise BundleError(
            f"pip failed ({proc.returncode}) for Python {windows or 'host'}: {shown}\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def source_epoch() -> int:
    """SOURCE_DATE_EPOCH, else the HEAD commit's time, else 1980-01-01: the time stamped into the zip."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return max(int(os.environ["SOURCE_DATE_EPOCH"]), ZIP_EPOCH_FLOOR)
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], capture_output=True, text=True, check=True
        ).stdout.strip()
        return max(int(out), ZIP_EPOCH_FLOOR)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return ZIP_EPOCH_FLOOR


def git_describe() -> str:
    """HEAD as ``git describe --always --dirty`` (recorded in the manifest), or "unknown"."""
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def copy_source(dest: Path) -> None:
    """Copy the project's files (tracked and untracked, not ignored) to ``dest`` for a clean build.

    Building in the work tree would let setuptools reuse ``build/lib``, which keeps modules that have
    since been moved or deleted, and would write build output into the tree. git's file list is the
    work tree as it is now, less what .gitignore excludes (.venv, caches, build/, dist/).
    """
    try:
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        names = [n for n in listed.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
    if not names:  # not a git checkout (e.g. an unpacked source archive)
        ignore = shutil.ignore_patterns(".git", ".venv", "build", "dist", "__pycache__", "*.pyc", "*.egg-info")
        shutil.copytree(ROOT, dest, ignore=ignore, dirs_exist_ok=True)
        return
    for name in names:
        src = ROOT / name
        if src.is_file():  # listed but deleted in the work tree: skip
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def build_wheel(wheels: Path, cache: Path, epoch: int) -> Path:
    """Build xltool's own wheel into ``wheels`` with ``pip wheel --no-deps`` (no extra build tool)."""
    with tempfile.TemporaryDirectory(prefix="xltool-src-") as tmp:
        src = Path(tmp) / "src"
        copy_source(src)
        run_pip(
            ["wheel", "--no-deps", "--progress-bar", "off", "--cache-dir", str(cache), "--wheel-dir", str(wheels), str(src)],
            extra_env={"SOURCE_DATE_EPOCH": str(epoch)},
        )
    built = sorted(wheels.glob("xltool-*.whl"))
    if len(built) != 1:
        raise BundleError(f"expected one xltool wheel in {wheels}, found {[p.name for p in built]}")
    return built[0]


def wheel_version(wheel: Path) -> str:
    """The version part of a wheel's file name (xltool-0.1.0-py3-none-any.whl → 0.1.0)."""
    return wheel.name.split("-")[1]


def download(wheel: Path, dest: Path, cache: Path, python: str) -> None:
    """Download the Windows wheels of ``wheel``'s runtime dependencies for ``python`` into ``dest``.

    The requirement is the built wheel itself, so pip takes its ``Requires-Dist`` (the
    ``[project] dependencies`` of pyproject.toml, without the test extra) and there is no chance of
    picking an unrelated "xltool" from the index. pip skips files already in ``dest`` (the cache).
    """
    run_pip(
        ["download", "--progress-bar", "off", "--cache-dir", str(cache), "--dest", str(dest),
         *target_args(python), str(wheel)],
        windows=python,
    )


def resolve_offline(folders: list[Path], version: str, python: str) -> Resolution:
    """Resolve ``xltool==version`` for Windows ``python`` from ``folders`` alone, as 安装.bat will.

    ``install --dry-run --target`` is the form pip accepts for a foreign platform; ``--no-index`` with
    no pip configuration means nothing outside the folders can be used. The JSON report says what
    would be installed.
    """
    links = [arg for folder in folders for arg in ("--find-links", str(folder))]
    with tempfile.TemporaryDirectory(prefix="xltool-resolve-") as tmp:
        report = Path(tmp) / "report.json"
        run_pip(
            ["install", "--dry-run", "--ignore-installed", "--no-index", *links, *target_args(python),
             "--target", str(Path(tmp) / "target"), "--report", str(report), "--quiet", f"xltool=={version}"],
            windows=python,
            isolated=True,
        )
        data = json.loads(report.read_text(encoding="utf-8"))
    res = Resolution(python)
    for item in data["install"]:
        url = item["download_info"]["url"]
        name = urllib.parse.unquote(Path(urllib.parse.urlparse(url).path).name)
        res.packages.append((item["metadata"]["name"], item["metadata"]["version"], name))
    res.packages.sort(key=lambda p: p[0].lower())
    return res


def drop_own_wheels(folder: Path) -> None:
    """Remove xltool wheels from the download cache: pip download copies the requirement there, and a
    stale one of the same version would be taken for the new build ("File was already downloaded")."""
    for stale in folder.glob("xltool-*.whl"):
        stale.unlink()


def render(template: str, version: str) -> str:
    """A file of packaging/windows/ with @VERSION@ filled in."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    if text.startswith("\ufeff"):
        raise BundleError(f"{template} starts with a BOM; save it as UTF-8 without BOM")
    text = text.replace("@VERSION@", version)
    if template.endswith(".bat"):
        head, sep, _ = text.partition("chcp 65001")
        if not sep or not head.isascii():
            raise BundleError(f"{template}: only ASCII may come before 'chcp 65001' (cmd reads it as GBK)")
    return text


def to_bytes(text: str, bom: bool) -> bytes:
    """UTF-8 with CRLF line endings (what cmd.exe and Notepad expect), with or without BOM."""
    text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return ("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8")


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_zip(stage: Path, zip_path: Path, epoch: int) -> None:
    """Zip ``stage`` (one top folder) deterministically: sorted names, one timestamp, fixed modes.

    Python's zipfile sets the UTF-8 flag (general purpose bit 11) on every non-ASCII name, which
    Windows Explorer's "Extract all", 7-Zip, Bandizip and WinRAR read as UTF-8. Wheels are stored,
    not deflated again: they are zip files already.
    """
    stamp = time.gmtime(epoch)[:6]
    files = sorted(p for p in stage.rglob("*") if p.is_file())
    tmp = zip_path.with_suffix(".zip.part")
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(tmp, "w") as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(stage.parent).as_posix(), date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_STORED if path.suffix == ".whl" else zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(zip_path)


def build(
    out: Path = DEFAULT_OUT,
    cache: Path = DEFAULT_CACHE,
    pythons: tuple[str, ...] = PYTHONS,
    log: bool = True,
) -> Bundle:
    """Build the bundle into ``out``; return where it is and what it holds."""
    t0 = time.monotonic()

    def say(msg: str) -> None:
        if log:
            print(f"[{time.monotonic() - t0:6.1f}s] {msg}", flush=True)

    epoch = source_epoch()
    cache = cache.resolve()
    (cache / "pip").mkdir(parents=True, exist_ok=True)
    downloads = cache / "wheels"
    downloads.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xltool-bundle-") as tmp:
        wheels = Path(tmp) / "wheels"
        wheels.mkdir()
        say("building the xltool wheel (pip wheel --no-deps)")
        wheel = build_wheel(wheels, cache / "pip", epoch)
        version = wheel_version(wheel)
        drop_own_wheels(downloads)
        for py in pythons:
            say(f"downloading win_amd64 wheels for CPython {py} (into {downloads})")
            download(wheel, downloads, cache / "pip", py)
        drop_own_wheels(downloads)
        for py in pythons:  # pick this build's files out of the cache, which may hold older releases
            for name in resolve_offline([wheels, downloads], version, py).files:
                if not (wheels / name).exists():
                    shutil.copy2(downloads / name, wheels / name)
        resolutions = []
        for py in pythons:
            say(f"checking: offline resolution for Windows CPython {py} (--no-index, no pip config)")
            resolutions.append(resolve_offline([wheels], version, py))
        present = {p.name for p in wheels.iterdir()}
        used = set().union(*(r.files for r in resolutions))
        if present != used:
            raise BundleError(
                f"wheels folder and offline resolution disagree: unused {sorted(present - used)}, "
                f"missing {sorted(used - present)}"
            )

        top = f"xltool-{version}-windows-offline"
        stage = Path(tmp) / "stage" / top
        (stage / "setup").mkdir(parents=True)
        shutil.move(str(wheels), stage / "wheels")
        for template, dest, bom in FILES:
            (stage / dest).write_bytes(to_bytes(render(template, version), bom))
        manifest = {
            "xltool": version,
            "source": git_describe(),
            "platform": PLATFORM,
            "pythons": {r.python: [f for _, _, f in r.packages] for r in resolutions},
            "sha256": {name: sha256(stage / "wheels" / name) for name in sorted(present)},
        }
        (stage / "setup" / "manifest.json").write_bytes(
            to_bytes(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", bom=False)
        )
        zip_path = out.resolve() / f"{top}.zip"
        say(f"writing {zip_path}")
        write_zip(stage, zip_path, epoch)
    return Bundle(zip_path, version, sorted(present), resolutions, time.monotonic() - t0)


def summary(bundle: Bundle) -> str:
    """Human-readable account of a build: size, time, and which wheels are per Python version."""
    n = len(bundle.resolutions)
    per_version = sorted(
        f for f in bundle.wheels if sum(f in r.files for r in bundle.resolutions) < n
    )
    lines = [
        f"{bundle.zip_path}  ({bundle.zip_path.stat().st_size / 1e6:.1f} MB, {len(bundle.wheels)} wheels, "
        f"{bundle.seconds:.0f} s)",
        "Pythons: " + ", ".join(r.python for r in bundle.resolutions),
        f"shared by all versions: {len(bundle.wheels) - len(per_version)}; per version:",
        *(f"  {f}" for f in per_version),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line (``make bundle``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the zip (default: dist)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="pip cache kept between builds")
    ap.add_argument("--python", action="append", dest="pythons", metavar="3.X",
                    help=f"target Python version (repeatable; default: {' '.join(PYTHONS)})")
    args = ap.parse_args(argv)
    try:
        bundle = build(args.out, args.cache, tuple(args.pythons or PYTHONS))
    except BundleError as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 1
    print(summary(bundle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
