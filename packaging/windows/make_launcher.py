"""Put the xltool launcher on the user's desktop; run by 安装.bat with the freshly made venv's Python.

Why Python and not a ``copy`` in the batch file: the real desktop is often not ``%USERPROFILE%\\Desktop``
(OneDrive backup or a domain policy redirects it, and its name may be ``桌面``), and asking Windows
for it from cmd means PowerShell plus a round trip of a possibly Chinese path through the console
code page. Here Windows is asked directly (SHGetFolderPathW, which follows redirection) and paths stay
Unicode end to end. It copies the launcher byte for byte, so its UTF-8/CRLF encoding is kept.

Usage: python make_launcher.py SOURCE.bat NAME.bat
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
from pathlib import Path

CSIDL_DESKTOPDIRECTORY = 0x10
MAX_PATH = 260


def desktop_dir() -> Path:
    """The current user's desktop folder as Windows knows it (falls back to ~/Desktop)."""
    if sys.platform == "win32":
        buf = ctypes.create_unicode_buffer(MAX_PATH)
        if ctypes.windll.shell32.SHGetFolderPathW(None, CSIDL_DESKTOPDIRECTORY, None, 0, buf) == 0 and buf.value:
            return Path(buf.value)
    return Path.home() / "Desktop"


def app_dir() -> Path:
    """%LOCALAPPDATA%\\xltool, where the venv lives; a spare copy of the launcher is kept there."""
    base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    return Path(base) / "xltool"


def install(source: Path, name: str) -> list[Path]:
    """Copy ``source`` to the desktop and to the app folder as ``name``; return where it went."""
    written = []
    for folder in (desktop_dir(), app_dir()):
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        shutil.copyfile(source, target)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    """Command line: ``make_launcher.py SOURCE NAME``; prints the places written (Chinese, for the clerk)."""
    if len(argv) != 2:
        print("用法：python make_launcher.py 启动文件.bat 桌面上的文件名.bat", file=sys.stderr)
        return 2
    try:
        written = install(Path(argv[0]), argv[1])
    except OSError as exc:
        print(f"创建启动文件失败：{exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"已创建：{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
