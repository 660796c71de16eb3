"""Writing outputs safely: atomically, and with workbook structure protection.

Inputs are never written; every output is first written to a temporary file in the
target folder and then renamed, so a crash leaves either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import socket
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from xltool.errors import TEMP_PREFIX

# Our temporary files and folders, next to the output they become: a recognisable name
# (TEMP_PREFIX, which error messages also know) that says which machine and process made
# them, so a later run can remove those of a dead process.
TMP_PREFIX = TEMP_PREFIX
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_TMP_NAME = re.compile("^" + re.escape(TEMP_PREFIX) + r"([0-9a-f]{8})-(\d+)-[0-9a-f]+")
_FOREIGN_HOST_STALE_S = 24 * 3600  # another machine's temp file (shared folder): by age only


def _tmp_name(suffix: str) -> str:
    return f"{TMP_PREFIX}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}{suffix}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process there
        import ctypes

        k32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        h = k32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not h:
            return False
        try:
            code = ctypes.c_ulong()
            return bool(k32.GetExitCodeProcess(h, ctypes.byref(code))) and code.value == 259  # STILL_ACTIVE
        finally:
            k32.CloseHandle(h)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def _started_after(pid: int, when: float) -> bool:
    """Linux: the process now holding ``pid`` started after ``when`` (so the pid was reused)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat", encoding="ascii") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
        return btime + ticks / os.sysconf("SC_CLK_TCK") > when + 2
    except (OSError, ValueError, IndexError, StopIteration):
        return False


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Remove the temporary files and folders of ours in ``folder`` whose process is gone (killed
    while writing): same machine and a dead (or reused) pid, or another machine's after a day."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for e in entries:
        m = _TMP_NAME.match(e.name)
        if m is None:
            continue
        try:
            mtime = e.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        host, pid = m.group(1), int(m.group(2))
        if host == _HOST:
            stale = not _pid_alive(pid) or _started_after(pid, mtime)
        else:
            stale = now - mtime > _FOREIGN_HOST_STALE_S
        if not stale:
            continue
        try:
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path, ignore_errors=True)
            else:
                os.unlink(e.path)
            removed.append(Path(e.path))
        except OSError:
            pass
    return removed


def _claim(tmp: Path, target: Path) -> None:
    """Put the finished ``tmp`` at ``target`` only if nothing is there, atomically: of two runs
    writing the same new file, exactly one wins; the other gets FileExistsError."""
    try:
        os.link(tmp, target)  # fails with FileExistsError when target exists, whoever made it
        return
    except FileExistsError:
        raise
    except (OSError, NotImplementedError, AttributeError):  # no hard links here (FAT, some shares)
        pass
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the claim; then the content
    os.close(fd)
    os.replace(tmp, target)


@contextlib.contextmanager
def atomic_path(target: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; move it onto ``target`` on success.

    Without ``overwrite`` the output is claimed exclusively at the end (``_claim``), so a file
    that appeared meanwhile, another run's, is never replaced. The temporary file carries our
    name (``TMP_PREFIX``, machine, pid): one left by a killed run is removed by the next.
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target.parent)
    tmp_path = _new_temp(target.parent, target.suffix)
    # give the output the mode a normal file write would (umask applies)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        if overwrite:
            os.replace(tmp_path, target)
        else:
            _claim(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _new_temp(folder: Path, suffix: str) -> Path:
    while True:
        p = folder / _tmp_name(suffix)
        try:
            os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return p
        except FileExistsError:
            continue


@contextlib.contextmanager
def scratch_dir(near: Path) -> Iterator[Path]:
    """A private temporary folder next to ``near`` (a writer's spill files: XlsxWriter's
    ``tmpdir``), removed on every exit; one left by a killed run is removed by the next."""
    folder = Path(near)
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        d = folder / _tmp_name(".d")
        try:
            d.mkdir()
            break
        except FileExistsError:
            continue
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


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


PASSWORD_MAX = 15  # Excel's legacy protection dialog takes at most 15 characters


def password_problem(password: str) -> str | None:
    """Why a protection password cannot be used (Chinese), or None. An empty password means
    protection without a password.

    The password is stored only as the legacy 16-bit hash below. How Excel and WPS turn
    non-ASCII characters into bytes for it (code page or UTF-16) and whether they cut long
    passwords at 15 characters is unverified, so only what every program hashes the same way
    is accepted: printable ASCII, at most 15 characters.

    >>> password_problem("zwgk") is None, password_problem("") is None
    (True, True)
    >>> print(password_problem("政务公开"))
    密码“政务公开”不能使用：第 1 个字符“政”不是英文字母、数字或英文标点。密码只能由 1–15 个英文字母、数字或英文标点组成（不能用汉字、全角字符或换行）：Excel 和 WPS 对其他密码的核对方式不能保证一致，可能导致撤销不了工作表保护。
    """
    why = None
    bad = next(((i, ch) for i, ch in enumerate(password) if not " " <= ch <= "~"), None)
    if bad is not None:
        ch = bad[1] if bad[1].isprintable() else f"U+{ord(bad[1]):04X}"
        why = f"第 {bad[0] + 1} 个字符“{ch}”不是英文字母、数字或英文标点"
    elif len(password) > PASSWORD_MAX:
        why = f"共 {len(password)} 个字符，超过 {PASSWORD_MAX} 个"
    if why is None:
        return None
    return (
        f"密码“{password}”不能使用：{why}。密码只能由 1–{PASSWORD_MAX} 个英文字母、数字或英文标点组成"
        "（不能用汉字、全角字符或换行）：Excel 和 WPS 对其他密码的核对方式不能保证一致，可能导致撤销不了工作表保护。"
    )


def legacy_password_hash(password: str) -> str:
    """Excel's 16-bit legacy password hash (as used by sheet and workbook protection);
    meaningful for the passwords ``password_problem`` accepts."""
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


# --- outputs never touch inputs -------------------------------------------------------------


def _key(p: str | Path) -> str:
    return os.path.normcase(str(Path(p).resolve()))


def input_conflict(
    out: str | Path,
    inputs: Iterable[str | Path],
    *,
    files: Iterable[str | Path] = (),
    folder_ok: bool = False,
) -> str | None:
    """Why writing ``out`` would touch an input, in Chinese (None when it would not).

    ``inputs`` are the paths as given (files or folders), ``files`` the files actually read
    (found in those folders). An output may not be an input file, nor lie below an input file,
    nor be the same file under another name (a hard link). It may equal an input *folder* only
    with ``folder_ok`` (the feedback folder: the copies live there and no other file in it is
    ever written over); an output file inside an input folder is fine as long as it is not one
    of the files read.
    """
    o = Path(out)
    ok = _key(o)
    o_parents = {_key(p) for p in Path(ok).parents}
    for p in inputs:
        pk = _key(p)
        is_dir = Path(pk).is_dir()
        if ok == pk and not (is_dir and folder_ok):
            return f"“{out}”就是输入的{'文件夹' if is_dir else '文件'}“{p}”"
        if pk in o_parents and not is_dir and os.path.lexists(pk):
            return f"“{out}”位于输入文件“{p}”之下"
    read = list(files)
    if ok in {_key(f) for f in read}:
        return f"“{out}”是本次要读取的输入文件之一"
    if o.is_file():  # the same file under another name (a hard link) is still the input
        try:
            st = o.stat()
            for f in [*read, *(p for p in inputs if Path(p).is_file())]:
                fs = os.stat(f)
                if (fs.st_dev, fs.st_ino) == (st.st_dev, st.st_ino) and st.st_ino:
                    return f"“{out}”与输入文件“{f}”是同一个文件"
        except OSError:
            pass
    return None


# XlsxWriter options for every workbook we write: text that came from an agency stays text,
# never a live formula ("=cmd|…"), hyperlink ("http://…") or a number guessed from a string
INERT_WORKBOOK: dict[str, bool] = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
