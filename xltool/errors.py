"""The one base class of every error xltool raises on purpose.

Each stage subclasses it (SpecError, RosterError, GuardError, CheckError, CombineError, …);
every message is Chinese and says what is wrong and what to do, so a shell (CLI, web) can
show ``str(e)`` to a clerk and never a traceback. Imports nothing, so every layer may use it.
"""

from __future__ import annotations


class XltoolError(ValueError):
    """Raised for bad input or an impossible request; the message is for the clerk."""


# --- filesystem errors, for the clerk ---------------------------------------------------

TEMP_PREFIX = ".~xltool-"  # workbook.fileio names its temporary files so (its TMP_PREFIX); never shown

# Windows error codes that mean "another program has the file open" (ERROR_SHARING_VIOLATION,
# ERROR_LOCK_VIOLATION); Python maps them to PermissionError, as it maps ERROR_ACCESS_DENIED,
# which is what replacing a workbook that is open in Excel gives.
_WIN_LOCKED = (32, 33)


def _shown_path(e: OSError) -> tuple[str, bool]:
    """(the path the clerk knows, whether it is the folder of one of our temporary files)."""
    import os

    raw = e.filename2 if e.filename2 is not None else e.filename  # os.replace(tmp, target): target
    if raw is None or isinstance(raw, int):
        return "", False
    path = os.fsdecode(raw)
    if os.path.basename(path).startswith(TEMP_PREFIX):
        return os.path.dirname(path) or ".", True
    return path, False


def _file_ancestor(path: str) -> str | None:
    """The nearest existing ancestor of ``path`` when it is a file (so ``path`` cannot exist)."""
    import os

    p = os.path.dirname(os.path.abspath(path))
    while p and not os.path.exists(p):
        parent = os.path.dirname(p)
        if parent == p:
            return None
        p = parent
    return p if p and os.path.isfile(p) else None


def os_error_message(e: OSError) -> str:
    """A filesystem error as one Chinese sentence that names the path and says what to do.

    The one mapping from ``errno`` to words: the command line prints it instead of a traceback.

    >>> import errno
    >>> print(os_error_message(OSError(errno.ENOSPC, "No space left on device", "汇总/.~xltool-x.xlsx")))
    磁盘空间不足，无法在“汇总”中写入文件：请清理磁盘空间，或把输出放到空间充足的磁盘上，然后重新运行。
    """
    import errno
    import os

    path, in_folder = _shown_path(e)
    where = f"“{path}”" if path else "文件"
    code = e.errno
    if getattr(e, "winerror", None) in _WIN_LOCKED or (
        isinstance(e, PermissionError) and not in_folder and path and os.path.isfile(path)
    ):
        return (
            f"无法写入文件{where}：它可能正在被 Excel 或 WPS 打开。请在 Excel/WPS 中关闭这个文件，然后重新运行；"
            "如果没有打开，请检查该文件是否设为只读、是否有修改它的权限。"
        )
    if isinstance(e, PermissionError):
        if path and not in_folder and not os.path.lexists(path) and os.path.isdir(os.path.dirname(path) or "."):
            path, in_folder = os.path.dirname(path) or ".", True  # a new file in a folder we may not write to
            where = f"“{path}”"
        if in_folder or (path and os.path.isdir(path)):
            return (
                f"没有权限在文件夹{where}中读写文件：请换一个文件夹（例如“文档”或桌面上的文件夹），"
                "或请管理员开通该文件夹的写入权限，然后重新运行。"
            )
        return f"没有权限访问{where}：请换一个位置，或请管理员开通权限，然后重新运行。"
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        target = f"在{where}中写入文件" if in_folder else f"写入{where}"
        return f"磁盘空间不足，无法{target}：请清理磁盘空间，或把输出放到空间充足的磁盘上，然后重新运行。"
    if code == errno.EROFS:
        return f"{where}所在的磁盘（或 U 盘）是只读的，无法写入：请换一个位置，或去掉 U 盘的写保护，然后重新运行。"
    if code == errno.ENOTDIR or (code in (errno.ENOENT, errno.EEXIST) and path and _file_ancestor(path)):
        blocker = _file_ancestor(path) if path else None
        if blocker:
            return f"“{blocker}”是一个文件，不是文件夹，所以无法使用路径{where}：请检查路径，或换一个文件夹名称。"
        return f"路径{where}中有一部分是文件而不是文件夹：请检查路径。"
    if code == errno.EEXIST:
        if path and os.path.isfile(path):
            return f"{where}是一个已有的文件，而这里需要一个文件夹：请换一个文件夹名称，或先移走这个文件。"
        return f"{where}已经存在：请换一个名称，或加 --force 覆盖。"
    if code == errno.EISDIR:
        return f"{where}是一个文件夹，而这里需要一个文件：请给出文件名（如“汇总.xlsx”）。"
    if code == errno.ENOENT:
        return f"找不到{where}：请检查文件或文件夹的名称和位置是否正确。"
    if code == errno.ENAMETOOLONG:
        return f"路径{where}太长：请换一个层次较浅的文件夹或较短的文件名。"
    if code == errno.EINVAL:
        return f"路径{where}无效：名称中可能有 Windows 不允许的字符（\\ / : * ? \" < > |），请修改。"
    if code == errno.EIO:
        return f"读写{where}时出错（磁盘、网络盘或 U 盘故障，或 U 盘已拔出）：请检查后重新运行。"
    return f"无法读写{where}（系统错误代码 {code}）：请检查路径和权限，然后重新运行。"
