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
from amendwatch.outputs import DEFAULT_FILE_MODE, parse_file_mode
from scraper.fetch import FetchPolicy
from scraper.guard import CREDENTIALS_HINT, has_credentials
from scraper.policy import DEFAULT_DEADLINE

DEFAULT_DB = "amendwatch.db"
ENV_DB = "AMENDWATCH_DB"
ENV_SMTP_PASSWORD = "AMENDWATCH_SMTP_PASSWORD"
ENV_FILE_MODE = "AMENDWATCH_FILE_MODE"
TLS_MODES = ("starttls", "implicit", "none")
MAX_SECONDS = 366 * 86400  # a year: anything longer is a typo


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
    file_mode: int = DEFAULT_FILE_MODE  # reports, feeds, drafts and exports written (0600)


@dataclass(frozen=True)
class ManualConfig:
    """``[[manual]]``: every option ``manual add`` takes."""

    name: str
    contents_url: str
    amendments_url: str | None = None
    content_selector: str | None = None
    sitemap_url: str | None = None  # a sitemap.xml URL or "auto"
    ignore: tuple[str, ...] = ()  # CSS selectors of parts that are not content
    ignore_text: tuple[str, ...] = ()  # regexes: blocks whose text matches are not content
    allow_host: tuple[str, ...] = ()  # other hosts (host or host:port) chapters may live on
    display_name: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # (name, value)
    cookies: tuple[tuple[str, str], ...] = ()  # (name, "env:VAR" | "file:PATH"): no values
    user_agent: str | None = None


@dataclass(frozen=True)
class NotifyConfig:
    """``[notify]``: Apprise URLs alerted after runs (``amendwatch[notify]``)."""

    urls: tuple[str, ...] = ()
    failure_runs: int = 3  # a chapter failing this many runs in a row is a broken watch
    base_url: str | None = None  # where alerts link to (the web app or the report directory)


@dataclass(frozen=True)
class TimestampConfig:
    """``[timestamp]``: an RFC 3161 time-stamping authority for each run's chain head."""

    url: str
    ca_file: Path | None = None  # the TSA's CA (or its own) certificate, PEM, for verify
    timeout: float = 10.0


@dataclass(frozen=True)
class EmailConfig:
    """``[email]``: where the weekly digest is sent. The password comes only from
    ``$AMENDWATCH_SMTP_PASSWORD`` (``Settings.smtp_password``), never from the file."""

    host: str
    to: tuple[str, ...]
    sender: str
    port: int = 25
    # "starttls" (default: required before a login), "implicit" (TLS from the start, port
    # 465) or "none" (cleartext; a password is then sent only to a loopback relay)
    tls: str = "starttls"
    username: str | None = None
    timeout: float = 30.0
    subject: str = "amendwatch weekly report: {week}"
    ca_file: Path | None = None  # a private CA to verify the server with (default: system's)


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
    file_mode: int | None = None  # [output] file_mode (None: the settings' own, 0600)
    notify: NotifyConfig | None = None
    timestamp: TimestampConfig | None = None


def load_settings(db: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the ``--db`` option, else ``$AMENDWATCH_DB``, else ``./amendwatch.db``."""
    environ = os.environ if env is None else env
    path = db or environ.get(ENV_DB) or DEFAULT_DB
    mode = environ.get(ENV_FILE_MODE)
    return Settings(
        db_path=Path(path),
        smtp_password=environ.get(ENV_SMTP_PASSWORD),
        file_mode=DEFAULT_FILE_MODE if not mode else parse_file_mode(mode, f"${ENV_FILE_MODE}"),
    )


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
    """Every value checked for its type and range: a wrong one is a one-line ConfigError."""
    schedule = _table(raw, "schedule", source)
    where = f"{source}: [schedule]"
    manuals = raw.get("manual", [])
    if not isinstance(manuals, list):
        raise ConfigError(f"{source}: [[manual]] must be an array of tables")
    timezone = _text(schedule, "timezone", where, ScheduleConfig.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{source}: unknown time zone {timezone!r}", "use e.g. Europe/London"
        ) from exc
    report_dir = _text(schedule, "report_dir", where, "")
    feed_dir = _text(schedule, "feed_dir", where, "")
    return ScheduleConfig(
        timezone=timezone,
        snapshot=_text(schedule, "snapshot", where, ScheduleConfig.snapshot),
        pages=_text(schedule, "pages", where, ScheduleConfig.pages),
        report=_text(schedule, "report", where, ScheduleConfig.report),
        report_dir=Path(report_dir) if report_dir else None,
        misfire_grace_seconds=max(
            1, round(_seconds(schedule, "misfire_grace_seconds", where, 3600))
        ),
        manuals=tuple(_manual(m, source) for m in manuals),
        interval_seconds=_interval(schedule, "interval_seconds", where),
        report_interval_seconds=_interval(schedule, "report_interval_seconds", where),
        feed_dir=Path(feed_dir) if feed_dir else None,
        lock_wait_seconds=_seconds(schedule, "lock_wait_seconds", where, 3600, zero=True),
        email=_email(raw, source),
        fetch_deadline_seconds=_deadline(raw, source),
        file_mode=_file_mode(raw, source),
    )


def _seconds(
    table: Mapping[str, Any], key: str, where: str, default: float, *, zero: bool = False
) -> float:
    """A number of seconds above 0 (or at least 0 with ``zero``), at most a year."""
    value = table.get(key, default)
    low_ok = isinstance(value, int | float) and (value >= 0 if zero else value > 0)
    if isinstance(value, bool) or not low_ok or not value <= MAX_SECONDS:
        least = "0 or more" if zero else "above 0"
        raise ConfigError(
            f"{where} {key} must be a number of seconds {least}, not {value!r}",
            f"e.g. {key} = {int(default)}",
        )
    return float(value)


def _interval(table: Mapping[str, Any], key: str, where: str) -> float | None:
    """A testing interval: at least 1 second (0 or less would spin the scheduler)."""
    if key not in table:
        return None
    value = _seconds(table, key, where, 60)
    if value < 1:
        raise ConfigError(f"{where} {key} must be at least 1 second, not {value!r}")
    return value


def _text(table: Mapping[str, Any], key: str, where: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(
            f"{where} {key} must be a string, not {value!r}", f'quote it: {key} = "..."'
        )
    return value


def _flag(table: Mapping[str, Any], key: str, where: str) -> bool | None:
    """A TOML boolean (true/false, unquoted); a string such as "false" is refused."""
    value = table.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(
        f"{where} {key} must be true or false (a TOML boolean), not {value!r}",
        f"write {key} = false or {key} = true, without quotes",
    )


def _file_mode(raw: Mapping[str, Any], source: str) -> int | None:
    """``[output] file_mode``: the mode of reports, feeds and exports (default 0600)."""
    value = _table(raw, "output", source).get("file_mode")
    return None if value is None else parse_file_mode(value, f"{source}: [output]")


def _email(raw: Mapping[str, Any], source: str) -> EmailConfig | None:
    if raw.get("email") is None:
        return None
    table = _table(raw, "email", source)
    where = f"{source}: [email]"
    if "password" in table:
        raise ConfigError(
            f"{source}: [email] must not hold the password",
            f"remove it and set ${ENV_SMTP_PASSWORD} in the environment",
        )
    to = table.get("to", [])
    recipients = (to,) if isinstance(to, str) else tuple(str(item) for item in to)
    if not table.get("host") or not recipients or not table.get("from"):
        raise ConfigError(f"{source}: [email] needs host, from and to")
    tls = _tls_mode(table, where)
    port = table.get("port", 465 if tls == "implicit" else 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"{where} port must be a port number, not {port!r}", "e.g. port = 587")
    ca_file = _text(table, "ca_file", where, "")
    return EmailConfig(
        host=_text(table, "host", where, ""),
        port=port,
        tls=tls,
        username=_text(table, "username", where, "") or None,
        sender=_text(table, "from", where, ""),
        to=recipients,
        timeout=_seconds(table, "timeout", where, 30),
        subject=_text(table, "subject", where, EmailConfig.subject),
        ca_file=Path(ca_file) if ca_file else None,
    )


def _tls_mode(table: Mapping[str, Any], where: str) -> str:
    """``tls = "starttls" | "implicit" | "none"``; or the older ``starttls`` / ``ssl``
    booleans (``ssl = true``: implicit; ``starttls = false``: none)."""
    tls = table.get("tls")
    starttls, implicit = _flag(table, "starttls", where), _flag(table, "ssl", where)
    legacy = "implicit" if implicit else ("none" if starttls is False else None)
    if implicit and starttls:
        raise ConfigError(f"{where} has both ssl = true and starttls = true", "keep one")
    if tls is None:
        return legacy or "starttls"
    if tls not in TLS_MODES:
        raise ConfigError(
            f"{where} tls must be one of {', '.join(TLS_MODES)}, not {tls!r}",
            'tls = "starttls" (port 587 or 25) or tls = "implicit" (port 465)',
        )
    if legacy is not None and legacy != tls:
        raise ConfigError(f"{where} tls = {tls!r} contradicts starttls/ssl", "keep tls only")
    return str(tls)


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
    """``settings`` with the fetch limits and the output file mode of the config file."""
    policy = replace(settings.fetch, deadline=config.fetch_deadline_seconds)
    mode = settings.file_mode if config.file_mode is None else config.file_mode
    return replace(settings, fetch=policy, file_mode=mode)


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
