"""Configuration enters here, and only here: command-line options, environment, TOML.

Nothing else in amendwatch reads ``os.environ``; the CLI calls :func:`load_settings` once
and passes the frozen result down. The scheduler's TOML file is read by
:func:`load_schedule_config`; its schema (msgspec, imported only then) and checks are in
:mod:`amendwatch.configschema` and :mod:`amendwatch.configchecks`. Every key is described in
docs/configuration.md; ``amendwatch.example.toml`` shows them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from amendwatch import __version__
from amendwatch.errors import ConfigError
from amendwatch.outputs import DEFAULT_FILE_MODE, parse_file_mode
from scraper.fetch import FetchPolicy
from scraper.policy import DEFAULT_DEADLINE
from store.network import ManualNetwork

DEFAULT_DB = "amendwatch.db"
ENV_DB = "AMENDWATCH_DB"
ENV_SMTP_PASSWORD = "AMENDWATCH_SMTP_PASSWORD"
ENV_FILE_MODE = "AMENDWATCH_FILE_MODE"
ENV_TIMEZONE = "AMENDWATCH_TIMEZONE"  # the time zone reports show times in (default UTC)
TLS_MODES = ("starttls", "implicit", "none")
MAX_SECONDS = 366 * 86400  # a year: anything longer is a typo
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")  # first set wins
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")
DOCS = "docs/configuration.md"


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about its environment."""

    db_path: Path
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    min_fraction: float = 0.5  # a chapter shrinking below this share of its last version is suspect
    confirm_changes: bool = True  # fetch a changed chapter again before accepting the change
    confirm_delay: float = 1.0  # seconds before a large change is fetched again to confirm it
    removal_confirmations: int = 2  # consecutive runs a chapter must be gone before "removed"
    # chapters fetched and processed together, one transaction each (memory stays flat); 64
    # rather than 16: a quarter of the commits and of the hand-overs between the processes
    batch_size: int = 64
    flip_window: int = 5  # a change back to one of this many recent versions is a "flip"
    smtp_password: str | None = field(default=None, repr=False)
    lock_wait: float = 0.0  # seconds a snapshot waits for another run's lock before failing
    file_mode: int = DEFAULT_FILE_MODE  # reports, feeds, drafts and exports written (0600)
    timezone: str = "UTC"  # reports show times here: $AMENDWATCH_TIMEZONE, or [schedule]'s


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

    @property
    def network(self) -> ManualNetwork:
        """The options ``manual set`` changes (``Amendwatch.set_network``)."""
        return ManualNetwork(self.display_name, self.headers, self.cookies, self.user_agent)


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
    fetch_user_agent: str | None = None  # [fetch] user_agent
    fetch_contact: str | None = None  # [fetch] contact: an operator URL or mailto:
    fetch_proxy: str | None = None  # [fetch] proxy (None: the environment's, if any)
    fetch_no_proxy: tuple[str, ...] | None = None  # [fetch] no_proxy (None: the environment's)


def load_settings(db: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the ``--db`` option, else ``$AMENDWATCH_DB``, else ``./amendwatch.db``;
    the fetch proxy from ``$HTTPS_PROXY``/``$HTTP_PROXY`` and ``$NO_PROXY`` (either case)."""
    environ = os.environ if env is None else env
    path = db or environ.get(ENV_DB) or DEFAULT_DB
    mode = environ.get(ENV_FILE_MODE)
    no_proxy = next((environ[n] for n in NO_PROXY_VARIABLES if environ.get(n, "").strip()), "")
    return Settings(
        db_path=Path(path),
        fetch=FetchPolicy(
            proxy=_environment_proxy(environ),
            no_proxy=tuple(host.strip() for host in no_proxy.split(",") if host.strip()),
        ),
        smtp_password=environ.get(ENV_SMTP_PASSWORD),
        file_mode=DEFAULT_FILE_MODE if not mode else parse_file_mode(mode, f"${ENV_FILE_MODE}"),
        timezone=_timezone(environ.get(ENV_TIMEZONE, "").strip() or "UTC"),
    )


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"${ENV_TIMEZONE}: unknown time zone {name!r}", "use a name such as Europe/London"
        ) from exc
    return name


def _environment_proxy(environ: Mapping[str, str]) -> str | None:
    """The first proxy variable set; ``host:port`` alone means ``http://host:port``. Its value
    is never echoed (it may hold a password)."""
    for name in PROXY_VARIABLES:
        value = environ.get(name, "").strip()
        if not value:
            continue
        url = value if "://" in value else f"http://{value}"
        if not is_proxy_url(url):
            raise ConfigError(
                f"${name} is not an http:// or https:// proxy URL",
                f"fix or unset it, or set [fetch] proxy in the config file (see {DOCS})",
            )
        return url
    return None


def is_proxy_url(url: str) -> bool:
    """An ``http://`` or ``https://`` URL with a host (and a valid port, if any)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when it is not a port number
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and (port is None or port > 0)
        and not any(char.isspace() for char in url)
    )


def load_schedule_config(path: Path) -> ScheduleConfig:
    """Read and validate the scheduler's TOML file; ``ConfigError`` says what is wrong, with
    the file and line."""
    import tomllib  # noqa: PLC0415 (only with a config file)

    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"config file not found: {path}",
            f"create it; amendwatch.example.toml shows every key, {DOCS} explains them",
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", "fix the line it names") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return parse_schedule_config(raw, str(path), text)


def parse_schedule_config(
    raw: Mapping[str, Any], source: str = "config", text: str | None = None
) -> ScheduleConfig:
    """Every key known, every value checked for its type and range: anything wrong is a
    one-line ConfigError, with ``source:line`` when the document's ``text`` is given."""
    from amendwatch import configchecks  # noqa: PLC0415 - msgspec loads only with a config

    return configchecks.build(raw, source, text)


def fetch_settings(settings: Settings, config: ScheduleConfig) -> Settings:
    """``settings`` with the ``[fetch]`` options (deadline, User-Agent, proxy) and the output
    file mode of the config file; the proxy the file does not set comes from the environment."""
    policy = replace(
        settings.fetch,
        deadline=config.fetch_deadline_seconds,
        user_agent=user_agent(config, settings.fetch.user_agent),
        proxy=config.fetch_proxy or settings.fetch.proxy,
        no_proxy=settings.fetch.no_proxy
        if config.fetch_no_proxy is None
        else config.fetch_no_proxy,
    )
    mode = settings.file_mode if config.file_mode is None else config.file_mode
    return replace(settings, fetch=policy, file_mode=mode, timezone=config.timezone)


def user_agent(config: ScheduleConfig, default: str) -> str:
    """``[fetch] user_agent`` (with `` (+contact)`` when ``contact`` is given too), else
    ``amendwatch/<version> (+contact)``, else ``default``."""
    contact = config.fetch_contact
    if config.fetch_user_agent:
        return f"{config.fetch_user_agent} (+{contact})" if contact else config.fetch_user_agent
    return f"amendwatch/{__version__} (+{contact})" if contact else default


def cookie_values(
    cookies: tuple[tuple[str, str], ...], env: Mapping[str, str] | None = None
) -> tuple[tuple[str, str], ...]:
    """Each ``(name, "env:VAR" | "file:PATH")`` as ``(name, value)``, the value without its
    trailing line break. A variable not set, a file that cannot be read, or an empty value is
    a ConfigError naming the cookie and where it looked (never the value; nothing is logged)."""
    environ = os.environ if env is None else env
    return tuple((name, _cookie_value(name, source, environ)) for name, source in cookies)


def _cookie_value(name: str, source: str, environ: Mapping[str, str]) -> str:
    kind, _, where = source.partition(":")
    if kind == "env":
        value = environ.get(where)
        if value is None:
            raise ConfigError(
                f"cookie {name}: the environment variable {where} is not set",
                "set it in the service's environment (e.g. its EnvironmentFile)",
            )
    elif kind == "file":
        try:
            value = Path(where).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise ConfigError(
                f"cookie {name}: cannot read the file {where}: {reason}",
                "check the path and that the user running amendwatch can read it",
            ) from exc
    else:
        raise ConfigError(
            f"cookie {name} must come from env:VAR or file:PATH", "see `amendwatch manual set`"
        )
    value = value.rstrip("\r\n")
    if not value or any(char in value for char in "\r\n\0"):
        raise ConfigError(
            f"cookie {name}: the value in {source} is empty or not one line",
            "put the cookie's value alone on one line",
        )
    return value
