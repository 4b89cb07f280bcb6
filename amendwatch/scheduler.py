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

The jobs stay in this module (the job store names them ``amendwatch.scheduler:snapshot_job``
and so on); the APScheduler wiring (job store, building, syncing and closing a scheduler) is in
:mod:`amendwatch.jobstore` and re-exported here.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from amendwatch import delivery
from amendwatch.afterrun import after_run
from amendwatch.api import Amendwatch, RunReport, utc_now
from amendwatch.cli.tools import SafeFormatter
from amendwatch.config import (
    ManualConfig,
    ScheduleConfig,
    Settings,
    cookie_values,
    fetch_settings,
    load_schedule_config,
    load_settings,
)
from amendwatch.errors import AmendwatchError, ConfigError, NotFoundError
from amendwatch.jobstore import (
    DB_GATE,
    JOBSTORE_TABLE,
    GatedJobStore,
    JobSpec,
    build_scheduler,
    catch_up_listener,
    close_scheduler,
    has_jobstore,
    jobstore,
    stored_next_runs,
    sync_jobs,
)
from amendwatch.pipeline import ChapterOutcome
from amendwatch.runcontext import site_policy
from amendwatch.snapshotrun import problems, run_status
from scraper.amendments import parse_amendments
from scraper.discover import parse_contents
from scraper.fetch import FetchRequest, decode_body, fetch_pages
from scraper.listing import keep_known_urls
from scraper.session import interrupt_fetches, resume_fetches
from store import lifecycle, observations
from store.models import Manual

__all__ = [  # the APScheduler wiring of amendwatch.jobstore is re-exported
    "DB_GATE",
    "JOBSTORE_TABLE",
    "STOP",
    "GatedJobStore",
    "JobSpec",
    "build_scheduler",
    "build_triggers",
    "catch_up_listener",
    "close_scheduler",
    "configure_logging",
    "describe_jobs",
    "ensure_manuals",
    "has_jobstore",
    "job_guard",
    "job_specs",
    "jobstore",
    "open_app",
    "pages_changed",
    "pages_job",
    "prepare",
    "report_job",
    "run_forever",
    "run_snapshot",
    "snapshot_job",
    "stored_next_runs",
    "sync_jobs",
]

log = logging.getLogger("amendwatch.scheduler")

STOP = threading.Event()  # set by SIGTERM/SIGINT; the running snapshot stops between chapters


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
    """Snapshot every manual; waits for the database lock if a manual run holds it. Then the
    run's time-stamp and alerts (``amendwatch.afterrun``: failures are logged, never raised)."""
    with job_guard("snapshot"):
        config = load_schedule_config(Path(config_path))
        app = open_app(db_path, config)
        try:
            report = run_snapshot(app, config)
            after_run(app, config, report.run_id)
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
    for problem in problems(report.results):
        log.warning("run %s: %s", report.run_id, problem)
    status = run_status(report.results, report.errors)
    log.log(
        logging.INFO if status == "ok" else logging.WARNING, "run %s: %s", report.run_id, status
    )
    return report


def report_job(db_path: str, config_path: str) -> None:
    """The weekly digest of the week just ended, by email and/or into the report folder."""
    with job_guard("report"):
        config = load_schedule_config(Path(config_path))
        app = open_app(db_path, config)
        settings = app.settings
        try:
            delivery.deliver_week(app, config, settings, delivery.previous_week(app.clock()))
        finally:
            app.close()


def pages_job(db_path: str, config_path: str) -> None:
    """The frequent check of contents and Amendments pages: a manual whose chapter list or
    declared amendments changed since its last snapshot is snapshotted at once."""
    with job_guard("pages"):
        config = load_schedule_config(Path(config_path))
        app = open_app(db_path, config)
        try:
            changed = []
            for manual in app.manuals():
                reason = pages_changed(app, manual)
                if reason:
                    log.info("pages: %s %s: snapshotting it now", manual.name, reason)
                    changed.append(manual.name)
            if changed:
                report = run_snapshot(app, config, changed)
                after_run(app, config, report.run_id)
        finally:
            app.close()


def pages_changed(app: Amendwatch, manual: Manual) -> str | None:
    """Why ``manual`` needs a snapshot now (None: its pages look as last captured)."""
    requests = [FetchRequest(manual.contents_url)]
    if manual.amendments_url:
        requests.append(FetchRequest(manual.amendments_url))
    policy = site_policy(app.settings.fetch, manual, cookie_values)
    pages = fetch_pages(requests, policy, app.clock, transport=app.transport)
    if pages[0].ok:
        known = {row.url for row in lifecycle.active_chapters(app.db, manual.id)}
        contents = parse_contents(
            decode_body(pages[0]),
            pages[0].final_url or pages[0].url,
            hosts=manual.allowed_hosts,
            amendments_url=manual.amendments_url,
        )
        listed = {ref.url for ref in keep_known_urls(contents, known).chapters}
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


def open_app(db_path: str, config: ScheduleConfig | None = None) -> Amendwatch:
    """Open the database for a job (see :class:`GatedJobStore` for why under the gate),
    with the fetch limits of ``config``."""
    settings = load_settings(db_path)
    with DB_GATE:
        return Amendwatch.open(fetch_settings(settings, config) if config else settings)


# running it ------------------------------------------------------------------------------------
def ensure_manuals(app: Amendwatch, manuals: tuple[ManualConfig, ...]) -> None:
    """Add the config's manuals that the database does not know yet, with every option of
    their ``[[manual]]``; for one it knows, apply a changed display name, headers, cookie
    sources or User-Agent (the file is their source; URLs and rules stay as stored)."""
    known = {m.name: m for m in app.manuals()}
    for manual in manuals:
        stored = known.get(manual.name)
        wanted = manual.network
        if stored is None:
            app.add_manual(
                manual.name,
                manual.contents_url,
                manual.amendments_url,
                manual.content_selector,
                ignore_selectors=manual.ignore,
                ignore_patterns=manual.ignore_text,
                allowed_hosts=manual.allow_host,
                sitemap_url=manual.sitemap_url,
                network=wanted,
            )
        elif (stored.display_name, stored.headers, stored.cookies, stored.user_agent) != (
            wanted.display_name,
            wanted.headers,
            wanted.cookies,
            wanted.user_agent,
        ):
            app.set_network(manual.name, wanted)
            log.debug("manual %s: network options updated from the config", manual.name)


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
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
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
        interrupt_fetches()  # a fetch in flight ends now, not at its deadline

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
        resume_fetches()  # sessions opened after this one fetch again
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
