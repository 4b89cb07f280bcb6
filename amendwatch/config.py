"""Configuration enters here, and only here: command-line options, environment, TOML.

Nothing else in amendwatch reads ``os.environ``; the CLI calls :func:`load_settings` once
and passes the frozen result down.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from amendwatch.errors import ConfigError
from scraper.fetch import FetchPolicy
from scraper.guard import CREDENTIALS_HINT, has_credentials
from scraper.policy import DEFAULT_DEADLINE

DEFAULT_DB = "amendwatch.db"
ENV_DB = "AMENDWATCH_DB"
ENV_SMTP_PASSWORD = "AMENDWATCH_SMTP_PASSWORD"


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about its environment."""

    db_path: Path
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    min_fraction: float = 0.5  # a chapter shrinking below this share of its last version is suspect
    confirm_changes: bool = True  # fetch a changed chapter again before accepting the change
    confirm_delay: float = 1.0  # seconds before a large change is fetched again to confirm it
    removal_confirmations: int = 2  # consecutive runs a chapter must be gone before "removed"
    batch_size: int = 16  # chapters fetched and processed together (memory stays flat)
    flip_window: int = 5  # a change back to one of this many recent versions is a "flip"
    smtp_password: str | None = field(default=None, repr=False)
    lock_wait: float = 0.0  # seconds a snapshot waits for another run's lock before failing


@dataclass(frozen=True)
class ManualConfig:
    name: str
    contents_url: str
    amendments_url: str | None = None
    content_selector: str | None = None
    sitemap_url: str | None = None  # a sitemap.xml URL or "auto"


@dataclass(frozen=True)
class EmailConfig:
    """``[email]``: where the weekly digest is sent. The password comes only from
    ``$AMENDWATCH_SMTP_PASSWORD`` (``Settings.smtp_password``), never from the file."""

    host: str
    to: tuple[str, ...]
    sender: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    timeout: float = 30.0
    subject: str = "amendwatch weekly report: {week}"


@dataclass(frozen=True)
class ScheduleConfig:
    """The scheduler's TOML file (``amendwatch.toml``)."""

    timezone: str = "Europe/London"
    snapshot: str = "0 2 * * *"  # crontab: daily at 02:00
    pages: str = "0 * * * *"  # contents and Amendments pages: hourly
    report: str = "0 7 * * mon"  # weekly report: Monday 07:00
    report_dir: Path | None = None
    misfire_grace_seconds: int = 3600
    manuals: tuple[ManualConfig, ...] = ()
    interval_seconds: float | None = None  # testing: run snapshots every N seconds instead
    report_interval_seconds: float | None = None  # testing: the report every N seconds instead
    feed_dir: Path | None = None  # Atom feeds (one per manual) rewritten after each snapshot
    lock_wait_seconds: float = 3600.0  # a scheduled snapshot waits this long for the lock
    email: EmailConfig | None = None
    fetch_deadline_seconds: float = DEFAULT_DEADLINE  # [fetch] deadline_seconds


def load_settings(db: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the ``--db`` option, else ``$AMENDWATCH_DB``, else ``./amendwatch.db``."""
    environ = os.environ if env is None else env
    path = db or environ.get(ENV_DB) or DEFAULT_DB
    return Settings(db_path=Path(path), smtp_password=environ.get(ENV_SMTP_PASSWORD))


def load_schedule_config(path: Path) -> ScheduleConfig:
    """Read and validate the scheduler's TOML file; ``ConfigError`` says what is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"config file not found: {path}", "create it (see docs/schedule.md)"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", "fix the line it names") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return parse_schedule_config(raw, str(path))


def parse_schedule_config(raw: Mapping[str, Any], source: str = "config") -> ScheduleConfig:
    schedule = _table(raw, "schedule", source)
    manuals = raw.get("manual", [])
    if not isinstance(manuals, list):
        raise ConfigError(f"{source}: [[manual]] must be an array of tables")
    timezone = str(schedule.get("timezone", ScheduleConfig.timezone))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{source}: unknown time zone {timezone!r}", "use e.g. Europe/London"
        ) from exc
    interval = schedule.get("interval_seconds")
    report_interval = schedule.get("report_interval_seconds")
    report_dir = schedule.get("report_dir")
    feed_dir = schedule.get("feed_dir")
    return ScheduleConfig(
        timezone=timezone,
        snapshot=str(schedule.get("snapshot", ScheduleConfig.snapshot)),
        pages=str(schedule.get("pages", ScheduleConfig.pages)),
        report=str(schedule.get("report", ScheduleConfig.report)),
        report_dir=Path(report_dir) if report_dir else None,
        misfire_grace_seconds=int(schedule.get("misfire_grace_seconds", 3600)),
        manuals=tuple(_manual(m, source) for m in manuals),
        interval_seconds=float(interval) if interval is not None else None,
        report_interval_seconds=float(report_interval) if report_interval is not None else None,
        feed_dir=Path(feed_dir) if feed_dir else None,
        lock_wait_seconds=float(schedule.get("lock_wait_seconds", 3600)),
        email=_email(raw, source),
        fetch_deadline_seconds=_deadline(raw, source),
    )


def _email(raw: Mapping[str, Any], source: str) -> EmailConfig | None:
    table = raw.get("email")
    if table is None:
        return None
    table = _table(raw, "email", source)
    if "password" in table:
        raise ConfigError(
            f"{source}: [email] must not hold the password",
            f"remove it and set ${ENV_SMTP_PASSWORD} in the environment",
        )
    to = table.get("to", [])
    recipients = (to,) if isinstance(to, str) else tuple(str(item) for item in to)
    if not table.get("host") or not recipients or not table.get("from"):
        raise ConfigError(f"{source}: [email] needs host, from and to")
    username = table.get("username")
    return EmailConfig(
        host=str(table["host"]),
        port=int(table.get("port", 25)),
        starttls=bool(table.get("starttls", False)),
        username=str(username) if username else None,
        sender=str(table["from"]),
        to=recipients,
        timeout=float(table.get("timeout", 30)),
        subject=str(table.get("subject", EmailConfig.subject)),
    )


def _table(raw: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: [{key}] must be a table")
    return value


def _deadline(raw: Mapping[str, Any], source: str) -> float:
    """``[fetch] deadline_seconds``: seconds one whole fetch may take (default 60)."""
    value = _table(raw, "fetch", source).get("deadline_seconds", DEFAULT_DEADLINE)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86400:
        raise ConfigError(
            f"{source}: [fetch] deadline_seconds must be a number of seconds above 0",
            "e.g. deadline_seconds = 60",
        )
    return float(value)


def fetch_settings(settings: Settings, config: ScheduleConfig) -> Settings:
    """``settings`` with the fetch limits of the scheduler's config file."""
    policy = replace(settings.fetch, deadline=config.fetch_deadline_seconds)
    return replace(settings, fetch=policy)


def _manual(raw: object, source: str) -> ManualConfig:
    if not isinstance(raw, Mapping) or "name" not in raw or "contents_url" not in raw:
        raise ConfigError(f"{source}: each [[manual]] needs name and contents_url")
    for key in ("contents_url", "amendments_url", "sitemap_url"):
        if has_credentials(str(raw.get(key) or "")):
            raise ConfigError(
                f"{source}: [[manual]] {str(raw['name'])!r}: credentials in {key} are refused",
                CREDENTIALS_HINT,
            )
    return ManualConfig(
        name=str(raw["name"]),
        contents_url=str(raw["contents_url"]),
        amendments_url=raw.get("amendments_url"),
        content_selector=raw.get("content_selector"),
        sitemap_url=raw.get("sitemap_url"),
    )
