"""The persisted job store: unchanged jobs keep their stored next run (so a run missed while
stopped is caught up), changed schedules replace them; `schedule list` shows what is stored."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from amendwatch import scheduler as sched
from amendwatch.config import Settings, parse_schedule_config
from store.db import open_db

PAST = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def paused(db: Path) -> Any:
    config = parse_schedule_config({"schedule": {"timezone": "UTC"}})
    scheduler: BackgroundScheduler = sched.build_scheduler(db, config)
    scheduler.start(paused=True)
    return scheduler


def specs(snapshot: str = "0 2 * * *") -> list[sched.JobSpec]:
    return sched.job_specs(parse_schedule_config({"schedule": {"snapshot": snapshot}}))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "aw.db"
    open_db(path).close()
    return path


def test_unchanged_job_keeps_its_missed_run_and_a_changed_one_is_replaced(db: Path) -> None:
    args = (str(db), "amendwatch.toml")
    first = paused(db)
    sched.sync_jobs(first, specs(), args)
    first.modify_job("snapshot", next_run_time=PAST)
    sched.close_scheduler(first, wait=False)

    second = paused(db)
    sched.sync_jobs(second, specs(), args)
    assert second.get_job("snapshot").next_run_time == PAST  # still due: caught up on resume
    assert {job.id for job in second.get_jobs()} == {"snapshot", "report", "pages"}
    sched.close_scheduler(second, wait=False)

    third = paused(db)
    sched.sync_jobs(third, specs("30 3 * * *"), args)
    job = third.get_job("snapshot")
    assert job.next_run_time > datetime.now(UTC) and "hour='3'" in job.name
    sched.close_scheduler(third, wait=False)


def test_schedule_list_shows_the_stored_due_run(db: Path, tmp_path: Path) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text('[schedule]\nsnapshot = "0 2 * * *"\ntimezone = "UTC"\n')
    scheduler = paused(db)
    sched.sync_jobs(scheduler, specs(), (str(db), str(config)))
    scheduler.modify_job("snapshot", next_run_time=PAST)
    sched.close_scheduler(scheduler, wait=False)
    lines = list(sched.describe_jobs(Settings(db_path=db), config))
    assert lines[0].startswith("snapshot\tcron") and lines[0].endswith("2026-11-01T02:00:00+00:00")
    assert lines[1].startswith("report\tcron")
    # listing does not consume the due run (APScheduler's shutdown pass would advance it)
    assert list(sched.describe_jobs(Settings(db_path=db), config)) == lines


def test_schedule_list_does_not_touch_a_database_without_jobs(tmp_path: Path) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text("[schedule]\n")
    assert sched.stored_next_runs(tmp_path / "missing.db") == {}
    lines = list(sched.describe_jobs(Settings(db_path=tmp_path / "missing.db"), config))
    assert "T02:00:00" in lines[0]
    assert not (tmp_path / "missing.db").exists()


def test_catch_up_runs_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    started = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    listen = sched.catch_up_listener(started)
    with caplog.at_level(logging.INFO, logger="amendwatch.scheduler"):
        listen(JobSubmissionEvent(EVENT_JOB_SUBMITTED, "snapshot", "default", [started]))
        assert "catch-up" not in caplog.text
        listen(
            JobSubmissionEvent(
                EVENT_JOB_SUBMITTED, "snapshot", "default", [started - timedelta(hours=7)]
            )
        )
    assert "job snapshot: catch-up run for 2026-11-23T02:00:00+00:00" in caplog.text


def test_schedule_config_delivery_keys(tmp_path: Path) -> None:
    config = parse_schedule_config(
        {
            "schedule": {
                "feed_dir": str(tmp_path / "feeds"),
                "lock_wait_seconds": 5,
                "report_interval_seconds": 2,
            }
        }
    )
    assert config.feed_dir == tmp_path / "feeds"
    assert config.lock_wait_seconds == 5.0 and config.report_interval_seconds == 2.0
    assert config.email is None
    triggers = sched.build_triggers(config)
    assert str(triggers["report"]) == "interval[0:00:02]"
