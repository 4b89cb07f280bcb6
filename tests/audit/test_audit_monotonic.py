"""Time is monotonic (issue 15, part 5): no run dated in the future, none before a manual's
last observation; backfilled captures (`import warc`) are the one exception, marked imported."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.errors import InputError
from store.timeorder import FUTURE_TOLERANCE, check_not_future
from tests.audit.conftest import AT1, AT1B, AT2, AT4, run
from tests.audit.test_audit_warc import _archive_and_monitor


def observation_count(db: Path) -> int:
    with sqlite3.connect(db) as con:
        count: int = con.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    con.close()
    return count


def test_snapshot_at_a_year_ahead_is_refused(db_copy: Path) -> None:
    before = observation_count(db_copy)
    ahead = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    result = run(db_copy, "snapshot", "--at", ahead)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "is in the future" in result.output
    assert observation_count(db_copy) == before


def test_the_tolerance_allows_a_little_clock_skew() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    check_not_future(now + FUTURE_TOLERANCE - timedelta(seconds=1), now)
    with pytest.raises(InputError, match="in the future"):
        check_not_future(now + FUTURE_TOLERANCE + timedelta(seconds=1), now)


def test_snapshot_at_before_the_last_observation_is_refused(db_copy: Path) -> None:
    before = observation_count(db_copy)
    result = run(db_copy, "snapshot", "--at", AT2)  # the last observation is at AT4
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "before the last observation of northmoor" in result.output
    assert observation_count(db_copy) == before


def test_a_clock_behind_the_last_observation_is_refused(db_copy: Path) -> None:
    behind = datetime.fromisoformat(AT4) - timedelta(hours=1)
    app = Amendwatch.open(Settings(db_path=db_copy), clock=lambda: behind)
    try:
        with pytest.raises(InputError, match=r"the clock .* is before the last observation"):
            app.snapshot(["northmoor"])
    finally:
        app.close()


def test_backfilled_captures_are_the_only_observations_out_of_time_order(
    tmp_path: Path,
) -> None:
    archive, live = _archive_and_monitor(tmp_path, ((1, AT1),), ((3, AT4),))
    assert run(live, "import", "warc", str(archive)).exit_code == 0
    with sqlite3.connect(live) as con:
        rows = con.execute("SELECT observed_at, imported FROM observations ORDER BY id").fetchall()
    con.close()
    monitored = [at for at, imported in rows if not imported]
    assert monitored == sorted(monitored)
    backfilled = [at for at, imported in rows if imported]
    assert backfilled and max(backfilled) < min(monitored)  # earlier, and marked as such
    refused = run(live, "snapshot", "--at", AT1B)  # a backfill opens no door for snapshots
    assert refused.exit_code == 1 and "before the last observation" in refused.output
