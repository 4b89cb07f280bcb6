"""The long-running scheduler (APScheduler 3.x) behind ``amendwatch schedule run``.

Jobs come from the TOML config (chapter snapshots, the weekly report) and are persisted in
the amendwatch database itself (``SQLAlchemyJobStore``, table ``apscheduler_jobs``), so that
after downtime each missed job runs once (coalesced, within the misfire grace time). A job is
a reference to a module-level function with plain arguments (the database and config paths):
nothing secret is pickled into the store, and each run re-reads the config and environment.

Snapshot runs never overlap: ``max_instances=1`` here, and the database lock that
``Amendwatch.snapshot`` takes (shared with the manual ``snapshot`` command). SIGTERM/SIGINT
set :data:`STOP`, which the running snapshot asks between chapters; the scheduler is shut down
once the job has returned and the process exits 0.

Each job opens the database itself; a job that fails is logged and never stops the scheduler
(:func:`job_guard` holds the one per-job ``except Exception`` guard).
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.pool import NullPool

from amendwatch import delivery
from amendwatch.api import Amendwatch, RunReport, utc_now
from amendwatch.config import (
    ManualConfig,
    ScheduleConfig,
    Settings,
    load_schedule_config,
    load_settings,
)
from amendwatch.errors import AmendwatchError, ConfigError, NotFoundError
from amendwatch.pipeline import ChapterOutcome
from scraper.amendments import parse_amendments
from scraper.discover import parse_contents
from scraper.fetch import FetchRequest, decode_body, fetch_pages
from store import lifecycle, observations
from store.models import Manual

log = logging.getLogger("amendwatch.scheduler")

STOP = threading.Event()  # set by SIGTERM/SIGINT; the running snapshot stops between chapters
DB_GATE = threading.Lock()  # opening the database and job-store operations take turns
JOBSTORE_TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job as declared by the config."""

    id: str
    name: str  # includes the schedule, so a changed schedule replaces the stored job
    func: Callable[[str, str], None]
    trigger: BaseTrigger


# the jobs (module-level: the job store keeps references to them) --------------------------
@contextmanager
def job_guard(name: str) -> Iterator[None]:
    """The scheduler's per-job guard: a failing job is logged, the scheduler goes on."""
    try:
        yield
    except AmendwatchError as exc:
        log.error("job %s failed: %s", name, exc)
    except Exception:  # the one per-job guard allowed by our style
        log.exception("job %s crashed", name)


def snapshot_job(db_path: str, config_path: str) -> None:
    """Snapshot every manual; waits for the database lock if a manual run holds it."""
    with job_guard("snapshot"):
        config = load_schedule_config(Path(config_path))
        app = open_app(db_path)
        try:
            report = run_snapshot(app, config)
            if config.feed_dir is not None:
                for path in delivery.write_feeds(app, config.feed_dir, app.clock()):
                    log.debug("run %s: wrote %s", report.run_id, path)
        finally:
            app.close()


def run_snapshot(app: Amendwatch, config: ScheduleConfig, names: Sequence[str] = ()) -> RunReport:
    run: list[int] = []

    def started(run_id: int) -> None:
        run.append(run_id)
        log.info("run %s: started", run_id)

    def progress(outcome: ChapterOutcome) -> None:
        level = logging.WARNING if outcome.outcome in ("failed", "suspect") else logging.DEBUG
        reason = f" ({outcome.reason})" if outcome.reason else ""
        log.log(level, "run %s: %s %s%s", run[0], outcome.outcome, outcome.url, reason)

    report = app.snapshot(
        names,
        kind="scheduled",
        progress=progress,
        stop=STOP.is_set,
        wait=config.lock_wait_seconds,
        started=started,
    )
    for result in report.results:
        log.info(
            "run %s: %s checked %s, changed %s, not checked %s%s",
            report.run_id,
            result.manual,
            result.checked,
            result.changed,
            result.failed,
            " (interrupted)" if result.interrupted else "",
        )
    for error in report.errors:
        log.error("run %s: %s", report.run_id, error)
    return report


def report_job(db_path: str, config_path: str) -> None:
    """The weekly digest of the week just ended, by email and/or into the report folder."""
    with job_guard("report"):
        config = load_schedule_config(Path(config_path))
        settings = load_settings(db_path)
        app = open_app(db_path)
        try:
            delivery.deliver_week(app, config, settings, delivery.previous_week(app.clock()))
        finally:
            app.close()


def pages_job(db_path: str, config_path: str) -> None:
    """The frequent check of contents and Amendments pages: a manual whose chapter list or
    declared amendments changed since its last snapshot is snapshotted at once."""
    with job_guard("pages"):
        config = load_schedule_config(Path(config_path))
        app = open_app(db_path)
        try:
            changed = []
            for manual in app.manuals():
                reason = pages_changed(app, manual)
                if reason:
                    log.info("pages: %s %s: snapshotting it now", manual.name, reason)
                    changed.append(manual.name)
            if changed:
                run_snapshot(app, config, changed)
        finally:
            app.close()


def pages_changed(app: Amendwatch, manual: Manual) -> str | None:
    """Why ``manual`` needs a snapshot now (None: its pages look as last captured)."""
    requests = [FetchRequest(manual.contents_url)]
    if manual.amendments_url:
        requests.append(FetchRequest(manual.amendments_url))
    pages = fetch_pages(requests, app.settings.fetch, app.clock, transport=app.transport)
    if pages[0].ok:
        contents = parse_contents(decode_body(pages[0]), pages[0].final_url or pages[0].url)
        listed = {ref.url for ref in contents.chapters}
        known = {row.url for row in lifecycle.active_chapters(app.db, manual.id)}
        if listed and listed != known:
            return "contents page lists other chapters"
    if len(pages) > 1 and pages[1].ok:
        before = observations.latest_capture(app.db, manual.id, "amendments", app.clock())
        declared = parse_amendments(decode_body(pages[1]), pages[1].final_url or pages[1].url)
        if before is None or declared != parse_amendments(
            decode_body(before), before.final_url or before.url
        ):
            return "Amendments page declares new entries"
    return None


# building the scheduler ---------------------------------------------------------------------
def build_triggers(config: ScheduleConfig) -> dict[str, BaseTrigger]:
    zone = ZoneInfo(config.timezone)
    try:
        snapshot: BaseTrigger = (
            IntervalTrigger(seconds=config.interval_seconds, timezone=zone)
            if config.interval_seconds
            else CronTrigger.from_crontab(config.snapshot, timezone=zone)
        )
        pages = CronTrigger.from_crontab(config.pages, timezone=zone)
        report: BaseTrigger = (
            IntervalTrigger(seconds=config.report_interval_seconds, timezone=zone)
            if config.report_interval_seconds
            else CronTrigger.from_crontab(config.report, timezone=zone)
        )
    except ValueError as exc:
        raise ConfigError(
            f"invalid schedule: {exc}", "use crontab syntax, e.g. '0 2 * * *'"
        ) from exc
    return {"snapshot": snapshot, "report": report, "pages": pages}


def job_specs(config: ScheduleConfig) -> list[JobSpec]:
    triggers = build_triggers(config)
    return [
        JobSpec("snapshot", f"snapshot all manuals, {triggers['snapshot']}", snapshot_job,
                triggers["snapshot"]),
        JobSpec("report", f"weekly report, {triggers['report']}", report_job, triggers["report"]),
        JobSpec("pages", f"contents and Amendments pages, {triggers['pages']}", pages_job,
                triggers["pages"]),
    ]  # fmt: skip


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


def open_app(db_path: str) -> Amendwatch:
    """Open the database for a job (see :class:`GatedJobStore` for why under the gate)."""
    with DB_GATE:
        return Amendwatch.open(load_settings(db_path))


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


# running it ------------------------------------------------------------------------------------
def ensure_manuals(app: Amendwatch, manuals: tuple[ManualConfig, ...]) -> None:
    """Add the config's manuals that the database does not know yet."""
    known = {m.name for m in app.manuals()}
    for manual in manuals:
        if manual.name not in known:
            app.add_manual(
                manual.name,
                manual.contents_url,
                manual.amendments_url,
                manual.content_selector,
                sitemap_url=manual.sitemap_url,
            )


def prepare(settings: Settings, config_path: Path) -> ScheduleConfig:
    config = load_schedule_config(config_path)
    build_triggers(config)  # a bad schedule fails before the database is touched
    app = Amendwatch.open(settings)
    try:
        ensure_manuals(app, config.manuals)
        if not app.manuals():
            raise NotFoundError("the config declares no manuals and the database has none")
    finally:
        app.close()
    return config


def configure_logging(verbosity: int) -> None:
    """-1 quiet (warnings), 0 normal (one line per run), 1 verbose (one per chapter)."""
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("amendwatch").setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbosity > 0 else logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.INFO if verbosity > 0 else logging.WARNING)


def run_forever(settings: Settings, config_path: Path, verbosity: int = 0) -> None:
    """Run the configured jobs until SIGTERM/SIGINT; returns normally (exit status 0)."""
    config = prepare(settings, config_path)
    configure_logging(verbosity)
    STOP.clear()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the current chapter", signum)
        STOP.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    scheduler = build_scheduler(settings.db_path, config)
    started_at = utc_now()
    scheduler.start(paused=True)
    try:
        args = (str(settings.db_path.resolve()), str(config_path.resolve()))
        sync_jobs(scheduler, job_specs(config), args)
        scheduler.add_listener(
            catch_up_listener(started_at), EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED
        )
        scheduler.resume()
        for job in scheduler.get_jobs():
            log.info("job %s (%s): next run %s", job.id, job.trigger, job.next_run_time)
        while not STOP.wait(1.0):
            pass
    finally:
        close_scheduler(scheduler, wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("scheduler stopped")


def describe_jobs(settings: Settings, config_path: Path) -> Iterator[str]:
    """Each job with its schedule and next run: as stored when the scheduler ran here before
    with the same schedule (a run missed while stopped shows as due), else as computed."""
    config = load_schedule_config(config_path)
    zone = ZoneInfo(config.timezone)
    now = utc_now().astimezone(zone)
    stored = stored_next_runs(settings.db_path)
    for spec in job_specs(config):
        name, next_run = stored.get(spec.id, ("", None))
        if name != spec.name or next_run is None:
            next_run = spec.trigger.get_next_fire_time(None, now)
        when = next_run.astimezone(zone).isoformat() if next_run else "never"
        yield f"{spec.id}\t{spec.trigger}\tnext run {when}"
    for manual in config.manuals:
        yield f"manual\t{manual.name}\t{manual.contents_url}"


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
