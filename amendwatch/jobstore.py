"""The scheduler's APScheduler wiring (used by :mod:`amendwatch.scheduler`): the job store
in the amendwatch database (table ``apscheduler_jobs``, each operation under :data:`DB_GATE`),
building and closing a scheduler, making the stored jobs match the config, and the log of
catch-up and missed runs.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.pool import NullPool

from amendwatch.config import ScheduleConfig

log = logging.getLogger("amendwatch.scheduler")  # one logger for the whole scheduler

DB_GATE = threading.Lock()  # opening the database and job-store operations take turns
JOBSTORE_TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job as declared by the config."""

    id: str
    name: str  # includes the schedule, so a changed schedule replaces the stored job
    func: Callable[[str, str], None]
    trigger: BaseTrigger


class GatedJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's SQLAlchemy job store, each operation under :data:`DB_GATE`.

    ``store.db.open_db`` reads the database header with a plain ``open()``; closing that file
    drops every POSIX lock this process's SQLite connections hold on the database, after which
    another process may delete the WAL under them ("disk I/O error", lost writes). So no
    connection of this process may be open while a job opens the database: job-store
    operations and job openings take turns, and no pooled connection stays open (NullPool).
    """

    def lookup_job(self, job_id: str) -> Any:
        with DB_GATE:
            return super().lookup_job(job_id)

    def get_due_jobs(self, now: datetime) -> Any:
        with DB_GATE:
            return super().get_due_jobs(now)

    def get_next_run_time(self) -> Any:
        with DB_GATE:
            return super().get_next_run_time()

    def get_all_jobs(self) -> Any:
        with DB_GATE:
            return super().get_all_jobs()

    def add_job(self, job: Any) -> None:
        with DB_GATE:
            super().add_job(job)

    def update_job(self, job: Any) -> None:
        with DB_GATE:
            super().update_job(job)

    def remove_job(self, job_id: str) -> None:
        with DB_GATE:
            super().remove_job(job_id)

    def remove_all_jobs(self) -> None:
        with DB_GATE:
            super().remove_all_jobs()


def jobstore(db_path: Path) -> SQLAlchemyJobStore:
    """The job store in the amendwatch database; waits on SQLite locks like our connections."""
    return GatedJobStore(
        url=f"sqlite:///{db_path.resolve()}",
        tablename=JOBSTORE_TABLE,
        engine_options={"poolclass": NullPool, "connect_args": {"timeout": 30}},
    )


def build_scheduler(db_path: Path, config: ScheduleConfig) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": jobstore(db_path)},
        executors={"default": ThreadPoolExecutor(max_workers=1)},  # jobs one at a time
        job_defaults={
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": config.misfire_grace_seconds,
        },
        timezone=ZoneInfo(config.timezone),
    )


def sync_jobs(scheduler: BackgroundScheduler, specs: list[JobSpec], args: tuple[str, str]) -> None:
    """Make the stored jobs match the config. An unchanged job keeps its stored next run
    time (so a run missed while stopped is caught up); a changed one is replaced."""
    wanted = {spec.id for spec in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            log.info("removing job %s (no longer in the config)", job.id)
            scheduler.remove_job(job.id)
    for spec in specs:
        existing = scheduler.get_job(spec.id)
        if existing is not None and existing.name == spec.name and tuple(existing.args) == args:
            continue
        scheduler.add_job(
            spec.func, spec.trigger, args=args, id=spec.id, name=spec.name, replace_existing=True
        )


def close_scheduler(scheduler: BackgroundScheduler, *, wait: bool) -> None:
    """Shut down without APScheduler 3's final pass over due jobs: on shutdown its loop wakes
    once more and advances a due job's next run time without running it (a lost catch-up).
    Paused and without its job store, that pass finds nothing; the stored times stay."""
    scheduler.pause()
    scheduler.remove_jobstore("default", shutdown=True)
    scheduler.shutdown(wait=wait)


def catch_up_listener(started_at: datetime) -> Callable[[JobEvent], None]:
    """Log catch-up runs (a run time before this process started) and missed runs."""

    def listen(event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning(
                "job %s: run of %s missed beyond the misfire grace time: skipped",
                event.job_id,
                event.scheduled_run_time,
            )
            return
        times: list[datetime] = list(getattr(event, "scheduled_run_times", []))
        if times and min(times) < started_at:
            log.info(
                "job %s: catch-up run for %s, missed while stopped (coalesced)",
                event.job_id,
                ", ".join(t.isoformat() for t in times),
            )

    return listen


def stored_next_runs(db_path: Path) -> dict[str, tuple[str, datetime | None]]:
    """The jobs the job store holds: id -> (name, next run time); empty when the scheduler
    never ran on this database."""
    if not has_jobstore(db_path):
        return {}
    scheduler: Any = BackgroundScheduler(jobstores={"default": jobstore(db_path)})
    scheduler.start(paused=True)
    try:
        return {job.id: (job.name, job.next_run_time) for job in scheduler.get_jobs()}
    finally:
        close_scheduler(scheduler, wait=False)


def has_jobstore(db_path: Path) -> bool:
    """Whether the database exists and holds the job-store table (read-only look)."""
    if not db_path.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (JOBSTORE_TABLE,)
            ).fetchone()
    except sqlite3.Error:
        return False
    return found is not None
