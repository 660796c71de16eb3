"""The season workspace: one folder per year's collection (``xltool init``).

::

    工作区/
      名单.<ext>          the roster as given
      模板/               templates we sent
      收件/<sha256>.xlsx  every file received, never modified
      校验意见/           the current feedback copy per agency
      汇总/               summaries we wrote
      state.sqlite        receipts, versions, check results, decisions, audit (WAL)
      日志.txt            the audit log, readable

The database holds what was decided; the files hold what was received. Every change is one
transaction (``BEGIN IMMEDIATE``) made after the file it depends on is safely on disk.
"""

from xltool.pipeline.workspace.db import WorkspaceError
from xltool.pipeline.workspace.feedback import outdated, refresh_feedback, sent
from xltool.pipeline.workspace.ops import (
    Workspace,
    accept,
    assign,
    confirm,
    include,
    init_workspace,
    open_workspace,
    pin,
)
from xltool.pipeline.workspace.receive import ReceiveResult, receive
from xltool.pipeline.workspace.status import agency_states, status_json, write_chase_list
from xltool.pipeline.workspace.summary import combine_workspace

__all__ = [
    "ReceiveResult",
    "Workspace",
    "WorkspaceError",
    "accept",
    "agency_states",
    "assign",
    "combine_workspace",
    "confirm",
    "include",
    "init_workspace",
    "open_workspace",
    "outdated",
    "pin",
    "receive",
    "refresh_feedback",
    "sent",
    "status_json",
    "write_chase_list",
]
