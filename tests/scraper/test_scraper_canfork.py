"""Worker processes are forked only from a process that runs no other thread (a fork copies
the calling thread alone; a lock another thread held would stay held in the child)."""

from __future__ import annotations

import subprocess
import sys
from multiprocessing import get_all_start_methods

import pytest

PROBE = """
import threading
from scraper.orphans import can_fork
alone = can_fork()
stop = threading.Event()
worker = threading.Thread(target=stop.wait)
worker.start()
with_thread = can_fork()
stop.set()
worker.join()
print(alone, with_thread, can_fork())
"""


@pytest.mark.skipif("fork" not in get_all_start_methods(), reason="no fork on this platform")
def test_fork_only_while_no_other_thread_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=30
    )
    assert done.stdout.split() == ["True", "False", "True"], done.stderr


FREEZE_PROBE = """
import gc
from datetime import UTC, datetime
from scraper.fetch import FetchPolicy
from scraper.fetchproc import FetchProcess
from scraper.orphans import can_fork
before = gc.get_freeze_count()
with FetchProcess(FetchPolicy(retries=0), lambda: datetime.now(UTC), processes=2) as process:
    during = gc.get_freeze_count()
    forked = can_fork()
print(before, during > 1000, gc.get_freeze_count(), forked)
"""


@pytest.mark.skipif("fork" not in get_all_start_methods(), reason="no fork on this platform")
def test_objects_are_frozen_while_forked_fetch_processes_run_and_thawed_after() -> None:
    """``gc.freeze`` before the fork (children share the parent's pages), ``unfreeze`` at the
    end of the block, so a long-lived process never keeps garbage frozen."""
    done = subprocess.run(
        [sys.executable, "-c", FREEZE_PROBE], capture_output=True, text=True, check=True,
        timeout=30,
    )  # fmt: skip
    assert done.stdout.split() == ["0", "True", "0", "True"], done.stderr
