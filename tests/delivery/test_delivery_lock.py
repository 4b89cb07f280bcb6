"""The snapshot lock: one run at a time, a clear refusal naming the holder, waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amendwatch.api import Amendwatch
from amendwatch.errors import LockError
from store.lock import hold, lock_path, read_holder

NOW = datetime(2026, 11, 23, 2, 0, 1, tzinfo=UTC)


def test_second_holder_is_refused_with_who_holds_it(tmp_path: Path) -> None:
    db = tmp_path / "amendwatch.db"
    with hold(db, "scheduled run", NOW):
        holder = read_holder(lock_path(db))
        assert holder is not None and holder.pid == os.getpid()
        with pytest.raises(LockError) as caught, hold(db, "manual snapshot", NOW):
            pass
    message = str(caught.value)
    assert message.startswith(
        f"another amendwatch snapshot (pid {os.getpid()}, scheduled run, since 02:00:01) "
        "holds the lock on amendwatch.db; wait or stop it"
    )
    assert message.endswith(
        "(retry when it has finished, or wait for it with `snapshot --wait SECONDS`)"
    )
    with hold(db, "manual snapshot", NOW):  # released: free again
        pass


def test_waiter_gets_the_lock_once_released(tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    released = threading.Event()

    def holder() -> None:
        with hold(db, "scheduled run", NOW):
            ready.set()
            time.sleep(0.5)
        released.set()

    ready = threading.Event()
    thread = threading.Thread(target=holder)
    thread.start()
    ready.wait(5)
    started = time.monotonic()
    with hold(db, "manual snapshot", NOW, wait=10, poll=0.05):
        assert released.is_set()
    assert time.monotonic() - started < 5
    thread.join()


def test_stop_ends_the_wait(tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    with (
        hold(db, "scheduled run", NOW),
        pytest.raises(LockError),
        hold(db, "other", NOW, wait=60, stop=lambda: True),
    ):
        pass


def test_lock_dies_with_a_killed_process(tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    script = (
        "import sys, time; from datetime import datetime, UTC; from pathlib import Path\n"
        "from store.lock import hold\n"
        f"with hold(Path({str(db)!r}), 'scheduled run', datetime.now(UTC)):\n"
        "    print('held', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(LockError, match=f"pid {proc.pid}, scheduled run"), hold(db, "x", NOW):
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with hold(db, "manual snapshot", NOW):
            pass
    finally:
        proc.kill()
        proc.wait()


def test_snapshot_is_refused_while_another_run_holds_the_lock(app: Amendwatch) -> None:
    before = len(app.runs())
    with (
        hold(app.settings.db_path, "scheduled run", NOW),
        pytest.raises(LockError, match="scheduled run"),
    ):
        app.snapshot(wait=0)
    assert len(app.runs()) == before  # a refused snapshot leaves no run row
