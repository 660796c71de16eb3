"""Every command's ``--help`` ends with a 示例 block, and every example is a valid command line."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from xltool.cli import build_parser

# the commands of the README walk-through show two or three examples; every command at least one
WALKTHROUGH = ("template", "check", "combine", "import", "render", "demo")


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _examples(help_text: str) -> list[str]:
    lines = help_text.rstrip().splitlines()
    start = max(i for i, line in enumerate(lines) if line.strip() == "示例：")
    return [line.strip() for line in lines[start + 1 :]]


def test_every_command_is_covered() -> None:
    assert set(WALKTHROUGH) <= set(_commands())


@pytest.mark.parametrize("name", sorted(_commands()))
def test_help_ends_with_examples_that_parse(name: str) -> None:
    help_text = _commands()[name].format_help()
    assert "示例：" in help_text, f"xltool {name} --help has no 示例"
    examples = _examples(help_text)
    assert all(examples), "the 示例 block is the end of the help"
    assert (2 if name in WALKTHROUGH else 1) <= len(examples) <= 3, examples
    for line in examples:
        argv = line.split()
        assert argv[:2] == ["xltool", name], line
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                args = build_parser().parse_args(argv[1:])
            except SystemExit as e:  # argparse's way of refusing a command line
                pytest.fail(f"{line!r} does not parse ({e.code}): {err.getvalue()}")
        assert args.command == name and callable(args.func), line
