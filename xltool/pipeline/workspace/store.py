"""Received files, stored once by content under 收件/ and never modified.

A file is hashed, copied to a temporary name in 收件/, flushed to disk (fsync) and renamed
to ``<sha256><suffix>``: a name in 收件/ without the temporary prefix is always complete. The
database refers to a stored file only after the rename, so a kill at any moment leaves at
most an orphan temporary file (removed by the next receive), never a half file in use.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

INBOX = "收件"
TMP_PREFIX = ".tmp-"
CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def stored_name(sha: str, suffix: str) -> str:
    return sha + (suffix.lower() if suffix else "")


def fsync_dir(d: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(str(d), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_bytes(inbox: Path, data: bytes, suffix: str, sha: str | None = None, *,
                sync_dir: bool = True, durable: bool = True) -> tuple[str, Path]:
    """Store ``data`` once; returns (sha256, stored path). An existing stored copy is kept
    when its content is right (a power cut can leave a renamed file without its data).

    ``sync_dir=False`` leaves the folder's fsync to the caller, ``durable=False`` the file's
    (``flush_stored`` once for a batch, before the database refers to the files)."""
    sha = sha or sha256_bytes(data)
    target = inbox / stored_name(sha, suffix)
    if target.exists() and target.stat().st_size == len(data) and sha256_file(target) == sha:
        return sha, target
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=str(inbox))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if target.exists():  # a damaged copy (read-only, as every stored file): replaced
            os.chmod(target, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        os.chmod(target, 0o444)  # never modified
    except OSError:
        pass
    if sync_dir:
        fsync_dir(inbox)
    return sha, target


def flush_stored(inbox: Path, paths: list[Path]) -> None:
    """Make a batch stored with ``durable=False`` durable: one ``sync`` of the file system on
    POSIX (a file's fsync costs about as much as reading it), an fsync per file elsewhere."""
    if hasattr(os, "sync"):
        os.sync()
    else:
        for p in paths:
            fd = os.open(str(p), os.O_RDONLY | getattr(os, "O_BINARY", 0))
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_dir(inbox)


def clean_temporaries(inbox: Path, older_than_s: float = 600.0) -> None:
    """Remove temporary files left by a killed receive (only old ones: another may be writing)."""
    import time

    cutoff = time.time() - older_than_s
    for p in inbox.glob(TMP_PREFIX + "*"):
        try:
            if p.stat().st_mtime < cutoff:
                p.unlink()
        except OSError:
            pass
