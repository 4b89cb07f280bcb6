"""Limits on what is read (issue 19), each through the real fetch path: real HTTP over
loopback, the real pipeline and, for the bombs, the real command line in a child process
whose peak memory is measured.

- decompression bombs (``gzip, gzip``, ``zstd``, ``gzip``, ``deflate``, 1 GiB each) are
  refused under the size limit, in well under 300 MB, never as a ``MemoryError``;
- unknown codings and too many codings are refused before the body is read; legitimate
  codings (``gzip``, ``gzip, zstd``) still give the page;
- a 206, a ``Content-Range`` and a compressed stream cut short are truncations;
- a 304 to a request that was not conditional is a failed observation, not checked;
- a page sent a byte a second ends at the fetch deadline ("deadline exceeded").

In every case: no traceback, no run left ``running``, no version from the broken page.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from amendwatch.api import Amendwatch
from amendwatch.config import Settings, fetch_settings, parse_schedule_config
from amendwatch.errors import ConfigError
from scraper.fetch import FetchPolicy, FetchRequest, fetch_page, fetch_pages
from tests.reliability.faultsite import CHAPTERS, Fault, chapter_path
from tests.reliability.hostilesite import (
    GIB,
    HostileSite,
    deflate_bomb,
    gzip_bomb,
    gzip_gzip_bomb,
    zstd_bomb,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
ROOT = Path(__file__).resolve().parents[2]
FAULTY = chapter_path(3)
POLICY = FetchPolicy(retries=1, backoff=0.001, max_retry_after=0.01, read_timeout=5.0)
PEAK_LIMIT_MB = 300
BOMBS = {
    "bomb-gzip-gzip": gzip_gzip_bomb,
    "bomb-zstd": zstd_bomb,
    "bomb-gzip": gzip_bomb,
    "bomb-deflate": deflate_bomb,
}


@pytest.fixture(scope="module")
def running_site() -> Iterator[HostileSite]:
    with HostileSite() as running:
        yield running


@pytest.fixture
def site(running_site: HostileSite) -> Iterator[HostileSite]:
    running_site.faults.clear()
    yield running_site
    running_site.faults.clear()


def run_cli(
    db: Path, *args: str, as_limit_mb: int | None = None
) -> subprocess.CompletedProcess[str]:
    limit = ["--as-limit", str(as_limit_mb)] if as_limit_mb else []
    command = [sys.executable, "-m", "tests.reliability.memprobe", *limit, "--db", str(db), *args]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def peak_mb(stderr: str) -> float:
    found = re.findall(r"PEAK_RSS_KB=(\d+)", stderr)
    assert found, stderr
    return int(found[-1]) / 1024


def query(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def chapter_observations(db: Path, path: str) -> list[tuple[object, ...]]:
    return query(
        db,
        "SELECT outcome, reason, status FROM observations WHERE role = 'chapter' AND url LIKE ?"
        " ORDER BY id",
        f"%{path}",
    )


def versions_of(db: Path, path: str) -> int:
    sql = (
        "SELECT COUNT(*) FROM versions v JOIN chapters c ON c.id = v.chapter_id WHERE c.url LIKE ?"
    )
    return int(str(query(db, sql, f"%{path}")[0][0]))


def assert_runs_finished(db: Path) -> None:
    assert query(db, "SELECT COUNT(*) FROM runs WHERE status = 'running'") == [(0,)]


# -- decompression bombs -------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BOMBS))
def test_a_decompression_bomb_is_refused_in_little_memory(
    kind: str, site: HostileSite, tmp_path: Path
) -> None:
    """`amendwatch snapshot` in a child process: the bomb chapter is a failed observation
    "over the size limit", the others are stored, and the child's peak RSS stays far under
    300 MB (the whole expansion would be 1 GiB, and more than 3 GB before issue 19)."""
    db = tmp_path / "aw.db"
    assert run_cli(db, "manual", "add", "hostile", f"{site.base_url}/").returncode == 0
    site.faults[FAULTY] = Fault(kind)
    started = time.monotonic()
    done = run_cli(db, "snapshot", "--quiet")
    seconds = time.monotonic() - started
    peak = peak_mb(done.stderr)
    print(
        f"{kind}: {len(BOMBS[kind](GIB))} bytes -> 1 GiB; peak RSS {peak:.0f} MB, {seconds:.1f} s"
    )
    assert done.returncode == 3, done.stderr  # completed, the bomb chapter not checked
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert peak < PEAK_LIMIT_MB
    ((outcome, reason, status),) = chapter_observations(db, FAULTY)
    assert (outcome, status) == ("failed", 200)
    assert "over the size limit" in str(reason) and "once decoded" in str(reason)
    assert versions_of(db, FAULTY) == 0
    assert versions_of(db, chapter_path(1)) == 1
    assert_runs_finished(db)


def test_a_bomb_under_a_memory_limit_is_no_memory_error(site: HostileSite, tmp_path: Path) -> None:
    """Under a 1 GiB address-space limit (the bomb alone would need more), the run ends
    normally: the bomb is refused long before memory runs short."""
    db = tmp_path / "aw.db"
    assert run_cli(db, "manual", "add", "hostile", f"{site.base_url}/").returncode == 0
    site.faults[FAULTY] = Fault("bomb-gzip-gzip")
    done = run_cli(db, "snapshot", "--quiet", as_limit_mb=1024)
    assert done.returncode == 3, done.stderr  # completed, the bomb chapter not checked
    assert "MemoryError" not in done.stderr and "Traceback" not in done.stderr
    assert "checked 7" in done.stdout and "not checked 1" in done.stdout
    assert_runs_finished(db)


# -- codings, truncations, 304s (in-process, over loopback) ---------------------------------


def snapshot_with(site: HostileSite, tmp_path: Path, kind: str, *, baseline: bool) -> Amendwatch:
    """A snapshot with ``kind`` on the faulty chapter (after a clean one if ``baseline``)."""
    app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db", fetch=POLICY), clock=lambda: T1)
    app.add_manual("hostile", f"{site.base_url}/")
    if baseline:
        assert app.snapshot(at=T0).results[0].checked == CHAPTERS
    site.faults[FAULTY] = Fault(kind)
    app.snapshot(at=T1)
    return app


REFUSED = {
    "coding-br": "unknown content coding 'br'",
    "coding-unknown": "unknown content coding 'x-secret-squeeze'",
    "three-codings": "3 content codings (gzip, gzip, gzip), at most 2",
    "partial-206": "truncated: HTTP 206 Partial Content",
    "content-range": "truncated: the answer has Content-Range",
    "gzip-cut": "truncated: the gzip stream stops before its end",
    "unsolicited-304": "unsolicited 304 Not Modified",
    "zstd-wide-window": "undecodable body: zstd",
}


@pytest.mark.parametrize("baseline", [False, True], ids=["first-run", "after-baseline"])
@pytest.mark.parametrize("kind", list(REFUSED))
def test_refused_answers_are_failed_and_not_checked(
    kind: str, baseline: bool, site: HostileSite, tmp_path: Path
) -> None:
    snapshot_with(site, tmp_path, kind, baseline=baseline).close()
    db = tmp_path / "aw.db"
    outcome, reason, _ = chapter_observations(db, FAULTY)[-1]
    assert outcome == "failed" and REFUSED[kind] in str(reason)
    last_run = "SELECT status, checked, failed FROM runs ORDER BY id DESC LIMIT 1"
    assert query(db, last_run) == [("partial", CHAPTERS - 1, 1)]  # listed as not checked
    assert versions_of(db, FAULTY) == (1 if baseline else 0)
    assert query(db, "SELECT COUNT(*) FROM changes") == [(0,)]
    assert_runs_finished(db)


def test_a_conditional_304_with_a_content_length_is_not_truncated(site: HostileSite) -> None:
    site.faults[FAULTY] = Fault("304-with-length")
    unsolicited, solicited = fetch_pages(
        [FetchRequest(site.url(FAULTY)), FetchRequest(site.url(FAULTY), etag='"v1"')],
        POLICY,
        lambda: T1,
    )
    assert unsolicited.status == 304 and "unsolicited" in (unsolicited.error or "")
    assert (solicited.status, solicited.error) == (304, None)


@pytest.mark.parametrize("kind", ["gzip", "gzip-zstd"])
def test_legitimate_codings_give_the_same_page(
    kind: str, site: HostileSite, tmp_path: Path
) -> None:
    app = snapshot_with(site, tmp_path, kind, baseline=True)
    app.close()
    outcome, reason, _ = chapter_observations(tmp_path / "aw.db", FAULTY)[-1]
    assert outcome in ("unchanged", "not-modified"), reason
    assert versions_of(tmp_path / "aw.db", FAULTY) == 1


# -- the deadline --------------------------------------------------------------------------


def test_a_page_sent_a_byte_a_second_ends_at_the_deadline(
    site: HostileSite, tmp_path: Path
) -> None:
    """1.2 KB at 1 byte/s with a correct Content-Length: no read ever times out (a byte comes
    every second), so only the 2 s deadline stops it; it is not retried."""
    page = site.page_for(FAULTY) or ""
    assert 1000 < len(page.encode()) < 2000
    policy = FetchPolicy(deadline=2.0, read_timeout=5.0, retries=2, backoff=0.001)
    app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db", fetch=policy), clock=lambda: T1)
    app.add_manual("hostile", f"{site.base_url}/")
    site.faults[FAULTY] = Fault("trickle")
    asked = site.hits[FAULTY]
    started = time.monotonic()
    (result,) = app.snapshot(at=T1).results
    seconds = time.monotonic() - started
    app.close()
    print(f"trickle: snapshot of {CHAPTERS} chapters ended after {seconds:.2f} s (deadline 2 s)")
    outcome, reason, _ = chapter_observations(tmp_path / "aw.db", FAULTY)[-1]
    assert outcome == "failed" and "deadline exceeded" in str(reason)
    assert result.checked == CHAPTERS - 1
    assert seconds < 2.0 + 2.5  # the deadline, plus the rest of a small run
    assert site.hits[FAULTY] == asked + 1  # a deadline is not retried
    assert versions_of(tmp_path / "aw.db", FAULTY) == 0


def test_the_synchronous_fetch_keeps_the_deadline_too(site: HostileSite) -> None:
    site.faults[FAULTY] = Fault("trickle")
    started = time.monotonic()
    with httpx.Client() as client:
        page = fetch_page(
            client, FetchRequest(site.url(FAULTY)), FetchPolicy(deadline=1.5), lambda: T1
        )
    assert page.error is not None and "deadline exceeded" in page.error
    assert time.monotonic() - started < 1.5 + 1.0


def test_the_deadline_is_a_setting_and_a_toml_value(tmp_path: Path) -> None:
    assert FetchPolicy().deadline == 60.0
    config = parse_schedule_config({"fetch": {"deadline_seconds": 12.5}})
    assert config.fetch_deadline_seconds == 12.5
    settings = fetch_settings(Settings(db_path=tmp_path / "x.db"), config)
    assert settings.fetch.deadline == 12.5 and settings.fetch.read_timeout == 15.0
    assert parse_schedule_config({}).fetch_deadline_seconds == 60.0
    for bad in (0, -1, "60", True, float("nan"), 1e9):
        with pytest.raises(ConfigError, match="deadline_seconds"):
            parse_schedule_config({"fetch": {"deadline_seconds": bad}})
