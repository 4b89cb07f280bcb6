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
