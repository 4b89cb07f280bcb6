"""Every file amendwatch writes for people (reports, drafts, feeds, exports, the delivered
weekly folders) goes through here: written whole or not at all, and with one file mode.

A file is written to a temporary file in the same directory, flushed and fsync'ed, given its
mode and renamed over the target (``os.replace``), so a full disk, a crash or a kill leaves
either the old file or the new one, never a partial or empty one. Disk-full errors (ENOSPC,
EDQUOT, and SQLite's "database or disk is full") become :class:`DiskFullError`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from amendwatch.errors import ConfigError, DiskFullError, OutputError

DEFAULT_FILE_MODE = 0o600  # like the database: reports quote what the team watches
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the database's page limit) is full."""
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return True
    return isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc)


def disk_full(what: str) -> DiskFullError:
    return DiskFullError(f"the disk is full: could not write {what}")


def parse_file_mode(value: object, source: str) -> int:
    """A file mode from the configuration: "0644", "644", "0o644" or a TOML octal 0o644."""
    mode: int | None = None
    if isinstance(value, str):
        digits = value.strip().lower().removeprefix("0o")
        if digits and all(ch in "01234567" for ch in digits):
            mode = int(digits, 8)
    elif isinstance(value, int) and not isinstance(value, bool):
        mode = value
    if mode is None or not 0 <= mode <= 0o777:
        raise ConfigError(
            f"{source}: file_mode must be an octal permission string, not {value!r}",
            'e.g. file_mode = "0644" (or "0600", the default)',
        )
    return mode


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: int = DEFAULT_FILE_MODE) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` through; it replaces ``path`` only when the ``with``
    block ends without an exception (and then with ``mode``)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"directory {folder} does not exist", "create it or choose another path")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise _translated(exc, target) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise _translated(exc, target) from exc
        raise
    _sync_folder(folder)


def write_output(path: str | Path, data: str | bytes, mode: int = DEFAULT_FILE_MODE) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically with ``mode``."""
    with atomic_file(path, mode) as out:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def _translated(exc: OSError, target: Path) -> DiskFullError | OutputError:
    if is_disk_full(exc):
        return disk_full(str(target))
    return OutputError(f"cannot write {target}: {exc.strerror or exc}")


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
