"""Reading returned workbooks safely and fast.

>>> from xltool.read import read_file, read_many, find_workbooks, READER_CODES
"""

from __future__ import annotations

from xltool.read.guard import DEFAULT_LIMITS, GuardError, GuardLimits, guard
from xltool.read.pool import find_workbooks, read_many, read_many_then
from xltool.read.reader import READER_CODES, ReadResult, read_file

__all__ = [
    "DEFAULT_LIMITS",
    "READER_CODES",
    "GuardError",
    "GuardLimits",
    "ReadResult",
    "find_workbooks",
    "guard",
    "read_file",
    "read_many",
    "read_many_then",
]
