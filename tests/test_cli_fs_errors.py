"""Every command through every kind of filesystem error: a Chinese message and exit code 2.

Driven in-process through ``xltool.cli.main``, so an uncaught exception (a traceback for the
clerk) fails the test. Kinds: a missing input, a file where a folder belongs (or a path below a
file), a folder the user may not write to, a full disk, and a locked output (Windows gives
PermissionError when a workbook open in Excel is replaced). Permissions are simulated by
monkeypatching (tests may run as root, where chmod does not bite).
"""

from __future__ import annotations

import errno
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from xltool.cli import main
from xltool.errors import TEMP_PREFIX, os_error_message
from xltool.pipeline.synth import synth_values
from xltool.spec import V2021
from xltool.write.template import write_workbook

SEED_TXT = Path(__file__).resolve().parent.parent / "samples" / "seed" / "环翠区科学技术局2020年度报告_原文.txt"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    returns = d / "回收"
    vals = dict(synth_values(V2021, random.Random(3), size=4))
    good = write_workbook(returns / "good.xlsx", V2021, 2025, agency="某区科学技术局", values=vals)
    bad_vals = dict(vals)
    bad_vals["sec3.new_received.natural"] = int(bad_vals["sec3.new_received.natural"]) + 3  # 勾稽 broken
    write_workbook(returns / "bad.xlsx", V2021, 2025, agency="某区民政局", values=bad_vals)
    afile = d / "afile.txt"
    afile.write_text("x", encoding="utf-8")
    return {"dir": d, "returns": returns, "good": good, "afile": afile}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def commands(i: dict[str, Path], out: Path) -> dict[str, list[str]]:
    """Each command with its outputs under ``out`` (a folder, or files in it)."""
    return {
        "template": ["template", "--year", "2025", "--agency", "某区财政局", "--out", str(out), "--force"],
        "check-feedback": ["check", str(i["returns"]), "--year", "2025", "--workers", "1", "--feedback", str(out)],
        "check-json": ["check", str(i["returns"]), "--workers", "1", "--json", str(out / "结果.json")],
        "combine": ["combine", str(i["returns"]), "--workers", "1", "--out", str(out / "汇总.xlsx"), "--force"],
        "combine-json": ["combine", str(i["returns"]), "--workers", "1", "--out", str(i["dir"] / "s.xlsx"),
                         "--force", "--json", str(out / "汇总.json")],
        "import": ["import", str(SEED_TXT), "--out", str(out), "--force"],
        "import-json": ["import", str(SEED_TXT), "--json", str(out / "导入.json")],
        "render": ["render", str(i["good"]), "--html", str(out / "r.html"), "--docx", str(out / "r.docx"),
                   "--overwrite"],
        "demo": ["demo", "--out", str(out), "--force"],
    }


NAMES = list(commands({k: Path() for k in ("returns", "good", "dir")}, Path()))


def expect_error(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2, (out, err)
    assert err.startswith("错误：") or "\n错误：" in err, err
    assert "Traceback" not in err and "Errno" not in err and TEMP_PREFIX not in err, err
    for w in words:
        assert w in err, (w, err)


@pytest.mark.parametrize("name", NAMES)
def test_output_below_a_file(inputs: dict[str, Path], capsys: pytest.CaptureFixture[str], name: str) -> None:
    """``combine --out afile.txt/汇总.xlsx`` and the like: the file in the way is named."""
    argv = commands(inputs, inputs["afile"] / "子文件夹")[name]
    code, out, err = run(argv, capsys)
    expect_error(code, out, err, "afile.txt", "是一个文件，不是文件夹")
    assert "已存在" not in err


@pytest.mark.parametrize("name", ["template", "check-feedback", "import", "demo"])
def test_folder_option_given_an_existing_file(
    inputs: dict[str, Path], capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """``check --feedback afile.txt`` (an existing file) used to end in a FileExistsError traceback."""
    argv = commands(inputs, inputs["afile"])[name]
    code, out, err = run(argv, capsys)
    expect_error(code, out, err, "afile.txt", "文件夹")
    assert inputs["afile"].read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("name", ["check-json", "combine", "combine-json", "import-json", "render"])
def test_file_option_given_a_folder(inputs: dict[str, Path], capsys: pytest.CaptureFixture[str], name: str,
                                    tmp_path: Path) -> None:
    argv = commands(inputs, tmp_path)[name]
    for i, a in enumerate(argv):  # the file name → the folder itself
        if a.startswith(str(tmp_path)):
            argv[i] = str(tmp_path)
    code, out, err = run(argv, capsys)
    expect_error(code, out, err, "是一个文件夹", "文件名")


@pytest.mark.parametrize(
    "argv,words",
    [
        (["check", "{tmp}/没有这个文件夹", "--year", "2025"], ["没有这个文件夹"]),
        (["combine", "{tmp}/没有这个文件夹", "--out", "{tmp}/s.xlsx"], ["没有这个文件夹"]),
        (["import", "{tmp}/没有.txt"], ["没有.txt"]),
        (["render", "{tmp}/没有.xlsx"], ["没有.xlsx"]),
        (["render", "{ret}"], ["是一个文件夹", "工作簿文件"]),
        (["import", "{ret}"], ["是一个文件夹", "年报文件"]),
        (["template", "--year", "2025", "--roster", "{ret}", "--out", "{tmp}/o"], ["是一个文件夹"]),
        (["template", "--year", "2025", "--roster", "{tmp}/没有.csv", "--out", "{tmp}/o"], ["没有.csv"]),
        (["template", "--year", "2025", "--previous", "{tmp}/没有上年", "--agency", "x", "--out", "{tmp}/o"],
         ["没有上年"]),
        (["check", "{ret}", "--workers", "1", "--roster", "{tmp}/没有.csv"], ["没有.csv"]),
        (["combine", "{ret}", "--workers", "1", "--out", "{tmp}/s.xlsx", "--previous", "{tmp}/没有上年"], ["没有上年"]),
    ],
)
def test_missing_input(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{ret}", str(inputs["returns"])) for a in argv]
    code, out, err = run(argv, capsys)
    expect_error(code, out, err, *words)


def test_missing_output_folders_are_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "新建" / "模板"
    code, _o, err = run(["template", "--year", "2025", "--out", str(out)], capsys)
    assert code == 0, err
    assert len(list(out.iterdir())) == 1


def _raiser(kind: str, under: Path) -> Callable[..., None]:
    """os.replace failing for our outputs under ``under`` (other replaces work)."""
    real_replace = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name.startswith(TEMP_PREFIX) or under not in Path(dst).parents:
            return real_replace(src, dst)  # structure protection inside our temp file; other folders
        if kind == "locked":  # Windows, the target open in Excel: [WinError 5] Access is denied
            raise PermissionError(errno.EACCES, "Access is denied", os.fspath(src), None, os.fspath(dst))
        raise OSError(errno.ENOSPC, "No space left on device", os.fspath(src))

    return replace


@pytest.mark.parametrize("kind", ["locked", "full"])
@pytest.mark.parametrize("name", NAMES)
def test_locked_file_and_full_disk(
    inputs: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    name: str, kind: str,
) -> None:
    """A full disk while writing; an output that is open in Excel/WPS while it is replaced."""
    out = tmp_path / "输出"
    argv = commands(inputs, out)[name]
    if kind == "locked":
        code, _o, err = run(argv, capsys)  # the outputs exist (the clerk opened one in Excel)
        assert code in (0, 1), err
        if name == "demo":  # --force clears the old demo folder first: deleting an open file fails
            victim = next(p for p in out.rglob("*.xlsx"))

            def rmtree(path: object, *a: object, **k: object) -> None:
                raise PermissionError(errno.EACCES, "Access is denied", str(victim), 32)

            monkeypatch.setattr("shutil.rmtree", rmtree)
        monkeypatch.setattr(os, "replace", _raiser(kind, out))
        code, o, err = run(argv, capsys)
        expect_error(code, o, err, "可能正在被 Excel 或 WPS 打开", "关闭", "重新运行", str(out))
    else:
        monkeypatch.setattr(os, "replace", _raiser(kind, out))
        code, o, err = run(argv, capsys)
        expect_error(code, o, err, "磁盘空间不足", str(out))
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(TEMP_PREFIX)]  # no temp files left


@pytest.mark.parametrize("name", NAMES)
def test_no_permission_to_write_in_the_folder(
    inputs: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    name: str,
) -> None:
    """A folder the clerk may not write to (a shared drive): putting a new file there is refused."""
    out = tmp_path / "只读"
    real_replace = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name.startswith(TEMP_PREFIX) or out not in Path(dst).parents:
            return real_replace(src, dst)
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(src), None, os.fspath(dst))

    monkeypatch.setattr(os, "replace", replace)
    code, o, err = run(commands(inputs, out)[name], capsys)
    expect_error(code, o, err, "没有权限在文件夹", "写入权限", str(out))


def test_temp_files_of_fileio_are_recognised() -> None:
    """The message names the folder, never our temporary file: one prefix for both modules."""
    from xltool.workbook import fileio

    e = PermissionError(errno.EACCES, "Permission denied", f"/共享/回收/{TEMP_PREFIX}abc.xlsx")
    assert fileio.TMP_PREFIX == TEMP_PREFIX
    assert "“/共享/回收”" in os_error_message(e) and TEMP_PREFIX not in os_error_message(e)


def test_messages_for_other_errors() -> None:
    """The mapping itself, for errors that are hard to cause in a test."""
    cases = [
        (OSError(errno.EROFS, "Read-only file system", "/media/u/汇总.xlsx"), "只读"),
        (OSError(errno.ENAMETOOLONG, "File name too long", "a" * 300), "太长"),
        (OSError(errno.EIO, "Input/output error", "E:/回收"), "U 盘"),
        (OSError(errno.EINVAL, "Invalid argument", "汇总?.xlsx"), "不允许的字符"),
        (IsADirectoryError(errno.EISDIR, "Is a directory", "汇总"), "是一个文件夹"),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "回收"), "找不到“回收”"),
        (OSError(errno.EMLINK, "Too many links", "x"), "系统错误代码"),
    ]
    for e, word in cases:
        msg = os_error_message(e)
        assert word in msg, (e, msg)
        assert "Errno" not in msg and str(e.strerror) not in msg, msg
