"""Worker processes that end when the process that started them is gone.

A SIGKILL of ``amendwatch snapshot`` gives its children no chance to be told: the analysis
pool's workers (``scraper.analysis.Analyser``) and the fetch child (``scraper.fetchproc``)
would be re-parented and go on fetching and parsing. Each child calls :func:`exit_with_parent`
first thing: a daemon thread watches ``os.getppid()`` and ends the process as soon as it
changes (the parent died: the child now belongs to init or a subreaper). Polling works the
same on every POSIX system and, unlike ``PR_SET_PDEATHSIG``, does not fire when the thread
that started the child ends while the parent lives on.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from multiprocessing import get_all_start_methods

ORPHANED_EXIT = 70  # EX_SOFTWARE: a child whose parent died
POLL_SECONDS = 0.25


def exit_with_parent(parent_pid: int, interval: float = POLL_SECONDS) -> None:
    """In a child process: end it (``os._exit``) once ``parent_pid`` is no longer its
    parent. Returns at once; the watching is done by a daemon thread."""
    if os.getppid() != parent_pid:  # the parent died before the child got here
        os._exit(ORPHANED_EXIT)
    watcher = threading.Thread(
        target=_watch, args=(parent_pid, interval), name="amendwatch-parent-watch", daemon=True
    )
    watcher.start()


def _watch(parent_pid: int, interval: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(interval)
    os._exit(ORPHANED_EXIT)  # no cleanup: the parent that would collect the work is gone


def start_child(parent_pid: int) -> None:
    """What every worker process does first: end with its parent (``exit_with_parent``) and,
    when forked, leave the parent's stream objects alone: another thread of the parent (a
    progress bar) may have held their locks at the fork, and the child flushes its streams
    when it leaves. Its stdout goes nowhere (a worker prints nothing), its stderr to a new
    object on the same descriptor."""
    exit_with_parent(parent_pid)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    sys.stderr = open(os.dup(2), "w", encoding="utf-8", errors="replace")  # noqa: SIM115


def can_fork() -> bool:
    """Whether worker processes may be forked: the platform can, and this process runs no
    other thread (a fork copies only the calling thread, and a lock another thread held, in
    logging or an output stream, would stay held in the child). A forked worker starts at
    once with the modules already imported; a spawned one first imports them (about 0.5 s).
    The scheduler's job threads and a progress bar's refresh thread mean spawning."""
    return "fork" in get_all_start_methods() and threading.active_count() == 1
