"""The database-level lock that keeps two snapshot runs apart.

An exclusive ``fcntl.flock`` on ``<db>.lock``, held for a whole snapshot run by the manual
``snapshot`` command and the scheduler alike. The kernel drops it when the holder exits, even
on SIGKILL, so a crashed run never leaves a stale lock behind. The holder writes its pid, what
it is doing and since when into the file, so that a refusal can say who holds the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from amendwatch.errors import LockError


@dataclass(frozen=True)
class Holder:
    """Who holds the lock: written into the lock file while it is held."""

    pid: int
    command: str  # "scheduled run", "manual snapshot", ...
    since: str  # ISO time

    def describe(self) -> str:
        since = self.since[11:19] if len(self.since) >= 19 else self.since
        return f"pid {self.pid}, {self.command}, since {since}"


def lock_path(db_path: Path) -> Path:
    """``amendwatch.db`` -> ``amendwatch.db.lock`` (next to the database)."""
    return db_path.with_name(db_path.name + ".lock")


def read_holder(path: Path) -> Holder | None:
    """The holder recorded in a lock file (None when unreadable or empty)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8") or "null")
        return Holder(pid=int(raw["pid"]), command=str(raw["command"]), since=str(raw["since"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _refusal(db_path: Path, holder: Holder | None) -> LockError:
    who = holder.describe() if holder else "another process"
    return LockError(
        f"another amendwatch snapshot ({who}) holds the lock on {db_path.name}; wait or stop it",
        "retry when it has finished, or wait for it with `snapshot --wait SECONDS`",
    )


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def hold(
    db_path: Path,
    command: str,
    now: datetime,
    *,
    wait: float = 0.0,
    stop: Callable[[], bool] | None = None,
    poll: float = 0.2,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Holder]:
    """Hold the snapshot lock of ``db_path`` for the ``with`` block.

    When another process holds it: wait up to ``wait`` seconds (polling; ``stop`` ends the
    wait early), then raise ``LockError`` naming the holder.
    """
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LockError(f"cannot open the lock file {path}: {exc.strerror}") from exc
    try:
        deadline = monotonic() + wait
        while not _try_lock(fd):
            if monotonic() >= deadline or (stop is not None and stop()):
                raise _refusal(db_path, read_holder(path))
            sleep(poll)
        holder = Holder(pid=os.getpid(), command=command, since=now.isoformat())
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
        try:
            yield holder
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
