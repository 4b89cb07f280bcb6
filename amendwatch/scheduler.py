"""The long-running scheduler (APScheduler 3.x).

Jobs come from the TOML config: chapter snapshots, the weekly report. Each job opens the
database itself; a job that fails is logged and recorded, and never stops the scheduler
(this module holds the one per-job ``except Exception`` guard).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from amendwatch.api import Amendwatch, utc_now
from amendwatch.config import ManualConfig, ScheduleConfig, Settings, load_schedule_config
from amendwatch.errors import AmendwatchError, ConfigError, NotFoundError
from reports.periods import parse_range

log = logging.getLogger("amendwatch.scheduler")


def build_triggers(config: ScheduleConfig) -> dict[str, BaseTrigger]:
    zone = ZoneInfo(config.timezone)
    try:
        snapshot: BaseTrigger = (
            IntervalTrigger(seconds=config.interval_seconds, timezone=zone)
            if config.interval_seconds
            else CronTrigger.from_crontab(config.snapshot, timezone=zone)
        )
        report = CronTrigger.from_crontab(config.report, timezone=zone)
    except ValueError as exc:
        raise ConfigError(
            f"invalid schedule: {exc}", "use crontab syntax, e.g. '0 2 * * *'"
        ) from exc
    return {"snapshot": snapshot, "report": report}


def ensure_manuals(app: Amendwatch, manuals: tuple[ManualConfig, ...]) -> None:
    """Add the config's manuals that the database does not know yet."""
    known = {m.name for m in app.manuals()}
    for manual in manuals:
        if manual.name not in known:
            app.add_manual(
                manual.name, manual.contents_url, manual.amendments_url, manual.content_selector
            )


def snapshot_job(settings: Settings) -> None:
    app = Amendwatch.open(settings)
    try:
        report = app.snapshot(kind="scheduled")
        log.info(
            "run %s: %s",
            report.run_id,
            ", ".join(
                f"{r.manual} checked {r.checked} changed {r.changed}" for r in report.results
            ),
        )
    finally:
        app.close()


def report_job(settings: Settings, folder: Path | None) -> None:
    if folder is None:
        return
    app = Amendwatch.open(settings)
    try:
        now = utc_now()
        period = parse_range((now - timedelta(days=6)).date().isoformat(), now.date().isoformat())
        folder.mkdir(parents=True, exist_ok=True)
        week = now.strftime("%G-W%V")
        for fmt in ("html", "md", "json"):
            (folder / f"report-{week}.{fmt}").write_text(app.report(period, fmt=fmt), "utf-8")
    finally:
        app.close()


def guarded(name: str, job: Callable[[], None]) -> Callable[[], None]:
    """The scheduler's per-job guard: a failing job is logged, the scheduler goes on."""

    def run() -> None:
        try:
            job()
        except AmendwatchError as exc:
            log.error("job %s failed: %s", name, exc)
        except Exception:  # the one per-job guard allowed by our style
            log.exception("job %s crashed", name)

    return run


def build_scheduler(settings: Settings, config: ScheduleConfig) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=ZoneInfo(config.timezone))
    triggers = build_triggers(config)
    common = {
        "max_instances": 1,
        "coalesce": True,
        "misfire_grace_time": config.misfire_grace_seconds,
    }
    scheduler.add_job(
        guarded("snapshot", lambda: snapshot_job(settings)),
        triggers["snapshot"],
        id="snapshot",
        name="snapshot all manuals",
        **common,
    )
    scheduler.add_job(
        guarded("report", lambda: report_job(settings, config.report_dir)),
        triggers["report"],
        id="report",
        name="weekly report",
        **common,
    )
    return scheduler


def prepare(settings: Settings, config_path: Path) -> tuple[Settings, ScheduleConfig]:
    config = load_schedule_config(config_path)
    app = Amendwatch.open(settings)
    try:
        ensure_manuals(app, config.manuals)
        if not app.manuals():
            raise NotFoundError("the config declares no manuals and the database has none")
    finally:
        app.close()
    return replace(settings), config


def run_forever(settings: Settings, config_path: Path) -> None:
    settings, config = prepare(settings, config_path)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheduler = build_scheduler(settings, config)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the current job", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()


def describe_jobs(settings: Settings, config_path: Path) -> Iterator[str]:
    config = load_schedule_config(config_path)
    now = utc_now().astimezone(ZoneInfo(config.timezone))
    for name, trigger in build_triggers(config).items():
        next_run = trigger.get_next_fire_time(None, now)
        when = next_run.isoformat() if next_run else "never"
        yield f"{name}\t{trigger}\tnext run {when}"
    for manual in config.manuals:
        yield f"manual\t{manual.name}\t{manual.contents_url}"
