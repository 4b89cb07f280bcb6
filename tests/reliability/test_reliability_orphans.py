"""Orphaned workers (issue 19, point 7): a SIGKILL of ``amendwatch snapshot`` leaves no process
behind. A manual of 64+ chapters is fetched by a child process and analysed by a pool of
worker processes; each watches its parent and ends within a fraction of a second of its
death, even in the middle of a batch (before, they ran on, re-parented to PID 1)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from amendwatch.pipeline import POOL_MIN_CHAPTERS
from tests.integration.minisite import MiniSite, chapter_html, contents_html
from tests.loopback import QuietHandler

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = POOL_MIN_CHAPTERS + 16
DELAY = 0.1  # seconds per chapter, two at a time: the whole manual takes about 4 s
GONE_WITHIN = 5.0


class SlowSite(MiniSite):
    """The mini site, with every chapter answered ``DELAY`` seconds late."""

    def __init__(self) -> None:
        super().__init__()
        fast = self.server.RequestHandlerClass
        assert issubclass(fast, QuietHandler)

        class Slow(fast):  # type: ignore[valid-type,misc]
            def get(self) -> None:
                if self.path.startswith("/ch/"):
                    time.sleep(DELAY)
                super().get()

        self.server.RequestHandlerClass = Slow
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]


@pytest.fixture
def site() -> Iterator[SlowSite]:
    with SlowSite() as running:
        refs = [(f"1.{n}", f"Chapter {n} procedures", f"/ch/{n}.html") for n in range(CHAPTERS)]
        running.pages["/"] = contents_html(refs)
        for number, title, url in refs:
            sections = [(f"{i}. Part {i}", f"Text of {number} section {i}. " * 8) for i in (1, 2)]
            running.pages[url] = chapter_html(title, sections)
        yield running


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (read from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def spawned(parent: int, pids: set[int]) -> int:
    """How many of ``pids`` are multiprocessing children of ``parent``: spawned pool workers,
    and fetch children (forked: the parent's own command line)."""
    own = Path(f"/proc/{parent}/cmdline").read_bytes()
    count = 0
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        count += b"spawn_main" in command or command == own
    return count


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_a_killed_snapshot_leaves_no_worker_running(site: SlowSite, tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    command = [sys.executable, "-m", "amendwatch", "--db", str(db)]
    adding = [*command, "manual", "add", "big", f"{site.base_url}/"]
    added = subprocess.run(adding, cwd=ROOT, capture_output=True, check=False)
    assert added.returncode == 0
    parent = subprocess.Popen(
        [*command, "snapshot", "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wanted = 4 if (os.cpu_count() or 1) >= 2 else 1  # the fetch children and 2 workers
    children: set[int] = set()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and parent.poll() is None:
            children = descendants(parent.pid)
            if spawned(parent.pid, children) >= wanted:
                break
            time.sleep(0.02)
        assert parent.poll() is None, "the snapshot ended before its workers were seen"
        assert spawned(parent.pid, children) >= wanted, children
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        killed_at = time.monotonic()
        while alive(children) and time.monotonic() - killed_at < GONE_WITHIN:
            time.sleep(0.05)
        assert not alive(children), f"still running {GONE_WITHIN} s after the kill"
    finally:
        parent.kill()
        parent.wait(5)
        for pid in alive(children):
            os.kill(pid, signal.SIGKILL)
    assert site.pages  # the site was being read when the snapshot was killed
