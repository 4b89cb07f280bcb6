"""SIGINT and SIGTERM stop a fetch in flight within seconds (issue 19).

A real ``amendwatch snapshot`` (and ``schedule run``) process fetches a manual whose chapters
are sent a byte a second (with the default 60 s deadline, each would take 20 minutes); once
a chapter request is in flight the process is signalled. It must exit within a few seconds,
print no traceback, and leave no run ``running``: the run row says ``interrupted``.
A manual of 64+ chapters is fetched by a child process (``scraper/fetchproc.py``), which
is killed at once and leaves no process behind.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.faultsite import Fault, chapter_path
from tests.reliability.hostilesite import HostileSite, wait_for

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN = 5.0  # seconds from the signal to the process's exit


@pytest.fixture
def trickling(request: pytest.FixtureRequest) -> Iterator[HostileSite]:
    chapters = int(getattr(request, "param", 8))
    with HostileSite(chapters) as site:
        for n in range(1, chapters + 1):
            site.faults[chapter_path(n)] = Fault("trickle")
        yield site


def amendwatch(db: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "amendwatch", "--db", str(db), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def chapters_asked(site: HostileSite) -> int:
    return sum(count for path, count in site.hits.items() if path.startswith("/chapters/"))


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in found.read_text().split()] if found.exists() else []


def stop_and_time(process: subprocess.Popen[str], signum: int) -> tuple[float, str, str]:
    started = time.monotonic()
    process.send_signal(signum)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return time.monotonic() - started, out, err


def runs(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT status, checked FROM runs ORDER BY id").fetchall()


def added(db: Path, site: HostileSite, *extra: str) -> None:
    command = [sys.executable, "-m", "amendwatch", "--db", str(db), "manual", "add", "m"]
    subprocess.run(
        [*command, f"{site.base_url}/", *extra], cwd=ROOT, check=True, capture_output=True
    )


@pytest.mark.parametrize("trickling", [8, 70], indirect=True, ids=["in-process", "fetch-process"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_snapshot_in_flight(
    trickling: HostileSite, signum: signal.Signals, tmp_path: Path
) -> None:
    db = tmp_path / "aw.db"
    added(db, trickling)
    process = amendwatch(db, "snapshot", "--quiet")
    wait_for(lambda: chapters_asked(trickling) > 0, 30)
    time.sleep(0.5)  # well into reading the body
    helpers = children(process.pid)
    seconds, out, err = stop_and_time(process, signum)
    print(f"{signum.name} ({len(trickling.faults)} chapters): exited {seconds:.2f} s after it")
    assert seconds < STOP_WITHIN
    assert process.returncode == 128 + signum, err
    assert "Traceback" not in err and f"stopped by {signum.name}" in err
    assert "not checked" in out
    assert runs(db) == [("interrupted", 0)]
    for helper in helpers:  # the fetch child (and analysis workers) are gone
        wait_for(lambda helper=helper: not Path(f"/proc/{helper}").exists(), 10)


def test_sigterm_stops_the_scheduler_during_a_fetch(trickling: HostileSite, tmp_path: Path) -> None:
    db, config = tmp_path / "aw.db", tmp_path / "amendwatch.toml"
    config.write_text(
        "[schedule]\ninterval_seconds = 1\n"
        f'[[manual]]\nname = "m"\ncontents_url = "{trickling.base_url}/"\n',
        encoding="utf-8",
    )
    process = amendwatch(db, "schedule", "run", "--config", str(config))
    wait_for(lambda: chapters_asked(trickling) > 0, 30)
    time.sleep(0.5)
    seconds, _, err = stop_and_time(process, signal.SIGTERM)
    print(f"schedule run: SIGTERM during a fetch, exited {seconds:.2f} s after it")
    assert seconds < STOP_WITHIN
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert [status for status, _ in runs(db)] == ["interrupted"]


def test_a_signal_during_the_contents_page_is_still_clean(tmp_path: Path) -> None:
    """SIGTERM while the contents page itself is in flight: it is recorded as failed
    ("interrupted"), the run row is finished, and nothing else is fetched."""
    with HostileSite() as site:
        site.faults["/"] = Fault("trickle")
        db = tmp_path / "aw.db"
        added(db, site, "--no-check")  # the contents page trickles from the start
        process = amendwatch(db, "snapshot", "--quiet")
        wait_for(lambda: site.hits["/"] > 0, 30)
        time.sleep(0.3)
        seconds, _, err = stop_and_time(process, signal.SIGTERM)
        asked = chapters_asked(site)
    assert seconds < STOP_WITHIN and process.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err
    assert asked == 0
    with sqlite3.connect(db) as connection:
        (reason,) = connection.execute("SELECT reason FROM observations WHERE role = 'contents'")
        unfinished = connection.execute("SELECT COUNT(*) FROM runs WHERE finished_at IS NULL")
        assert unfinished.fetchone() == (0,)
    assert reason[0].startswith("interrupted")
