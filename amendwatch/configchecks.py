"""From the typed tables of ``amendwatch.toml`` to :class:`amendwatch.config.ScheduleConfig`,
with the checks msgspec cannot express: time zones and crontabs, URLs, a manual's rules (the
store's own checks, as ``manual add`` runs them), header and cookie names, cookie sources
(never a literal value), files that must exist. Each failure is a ConfigError at the line of
the key it is about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from amendwatch.config import (
    TLS_MODES,
    EmailConfig,
    ManualConfig,
    NotifyConfig,
    ScheduleConfig,
    TimestampConfig,
    is_proxy_url,
)
from amendwatch.configschema import (
    EmailTable,
    FetchTable,
    Locator,
    ManualTable,
    NotifyTable,
    Root,
    ScheduleTable,
    TimestampTable,
    describe,
    locator,
    read,
)
from amendwatch.errors import ConfigError
from amendwatch.outputs import parse_file_mode
from store.manuals import check_rules, check_sitemap, check_url
from store.network import ManualNetwork, check_cookie, check_header, check_network

_MAILTO = re.compile(r"mailto:[^@\s]+@[^@\s]+")
_HOST = re.compile(r"[^\s,/]+")


def build(raw: Mapping[str, Any], source: str, text: str | None) -> ScheduleConfig:
    """The configuration of the parsed TOML document ``raw`` (``text``: its source, for lines)."""
    where = locator(source, text)
    root = read(raw, where)
    schedule = _schedule(root.schedule, where)
    mode = root.output.file_mode
    return ScheduleConfig(
        **schedule,
        manuals=_manuals(root, where),
        email=None if root.email is None else _email(root.email, where),
        file_mode=None if mode is None else _file_mode(mode, where),
        notify=None if root.notify is None else _notify(root.notify, where),
        timestamp=None if root.timestamp is None else _timestamp(root.timestamp, where),
        **_fetch(root.fetch, where),
    )


def _schedule(table: ScheduleTable, where: Locator) -> dict[str, Any]:
    try:
        zone = ZoneInfo(table.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise where.error(
            ("schedule", "timezone"),
            f"unknown time zone {table.timezone!r}",
            "use e.g. Europe/London",
        ) from exc
    from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415 - only with a config

    for key in ("snapshot", "pages", "report"):
        try:
            CronTrigger.from_crontab(getattr(table, key), timezone=zone)
        except ValueError as exc:
            raise where.error(
                ("schedule", key),
                f"[schedule] {key} is not a valid schedule: {exc}",
                "use crontab syntax, e.g. '0 2 * * *'",
            ) from exc
    for key in ("interval_seconds", "report_interval_seconds"):
        value = getattr(table, key)
        if value is not None and value < 1:
            raise where.error(
                ("schedule", key),
                f"[schedule] {key} must be at least 1 second, not {value!r}",
                f"e.g. {key} = 60",
            )
    return {
        "timezone": table.timezone,
        "snapshot": table.snapshot,
        "pages": table.pages,
        "report": table.report,
        "report_dir": Path(table.report_dir) if table.report_dir else None,
        "feed_dir": Path(table.feed_dir) if table.feed_dir else None,
        "misfire_grace_seconds": max(1, round(table.misfire_grace_seconds)),
        "lock_wait_seconds": table.lock_wait_seconds,
        "interval_seconds": table.interval_seconds,
        "report_interval_seconds": table.report_interval_seconds,
    }


def _fetch(table: FetchTable, where: Locator) -> dict[str, Any]:
    agent = table.user_agent
    if agent is not None and (not agent.strip() or any(c in agent for c in "\r\n\0")):
        raise where.error(("fetch", "user_agent"), "[fetch] user_agent must be one line of text")
    contact = table.contact
    if contact is not None and not _MAILTO.fullmatch(contact):
        with where.checking(("fetch", "contact")):
            contact = check_url(contact)
    if table.proxy is not None and not is_proxy_url(table.proxy):
        raise where.error(
            ("fetch", "proxy"),
            "[fetch] proxy must be an http:// or https:// URL",
            'e.g. proxy = "http://proxy.internal:3128"',
        )
    for index, host in enumerate(table.no_proxy or ()):
        if not _HOST.fullmatch(host):
            raise where.error(
                ("fetch", "no_proxy", index),
                f"[fetch] no_proxy entry {host!r} is not a host name",
                'e.g. no_proxy = ["localhost", ".internal.example"]',
            )
    return {
        "fetch_deadline_seconds": table.deadline_seconds,
        "fetch_user_agent": agent.strip() if agent else None,
        "fetch_contact": contact,
        "fetch_proxy": table.proxy,
        "fetch_no_proxy": None if table.no_proxy is None else tuple(table.no_proxy),
    }


def _file_mode(value: int | str, where: Locator) -> int:
    try:
        return parse_file_mode(value, "[output]")
    except ConfigError as exc:
        raise where.error(("output", "file_mode"), str(exc.args[0]), exc.hint) from exc


def _email(table: EmailTable, where: Locator) -> EmailConfig:
    recipients = (table.to,) if isinstance(table.to, str) else tuple(table.to)
    if not table.host or not table.sender or not any(recipients):
        raise where.error(("email",), "[email] needs host, from and to")
    tls = _tls_mode(table, where)
    return EmailConfig(
        host=table.host,
        port=table.port or (465 if tls == "implicit" else 25),
        tls=tls,
        username=table.username or None,
        sender=table.sender,
        to=recipients,
        timeout=table.timeout,
        subject=table.subject,
        ca_file=Path(table.ca_file) if table.ca_file else None,
    )


def _tls_mode(table: EmailTable, where: Locator) -> str:
    """``tls = "starttls" | "implicit" | "none"``; or the older ``starttls`` / ``ssl``
    booleans (``ssl = true``: implicit; ``starttls = false``: none)."""
    legacy = "implicit" if table.ssl else ("none" if table.starttls is False else None)
    if table.ssl and table.starttls:
        raise where.error(
            ("email", "ssl"), "[email] has both ssl = true and starttls = true", "keep one"
        )
    if table.tls is None:
        return legacy or "starttls"
    if table.tls not in TLS_MODES:
        raise where.error(
            ("email", "tls"),
            f"[email] tls must be one of {', '.join(TLS_MODES)}, not {table.tls!r}",
            'tls = "starttls" (port 587 or 25) or tls = "implicit" (port 465)',
        )
    if legacy is not None and legacy != table.tls:
        raise where.error(
            ("email", "tls"),
            f"[email] tls = {table.tls!r} contradicts starttls/ssl",
            "keep tls only",
        )
    return table.tls


def _notify(table: NotifyTable, where: Locator) -> NotifyConfig:
    base_url = table.base_url
    if base_url is not None:
        with where.checking(("notify", "base_url")):
            base_url = check_url(base_url)
    urls = tuple(url.strip() for url in table.urls)
    for index, url in enumerate(urls):
        if not url:
            raise where.error(("notify", "urls", index), "[notify] urls must not hold blanks")
    return NotifyConfig(urls=urls, failure_runs=table.failure_runs, base_url=base_url)


def _timestamp(table: TimestampTable, where: Locator) -> TimestampConfig:
    if not table.url:
        raise where.error(
            ("timestamp",), "[timestamp] needs url", 'e.g. url = "https://tsa.example/"'
        )
    with where.checking(("timestamp", "url")):
        url = check_url(table.url)
    ca_file = Path(table.ca_file) if table.ca_file else None
    if ca_file is not None and not ca_file.is_file():
        raise where.error(
            ("timestamp", "ca_file"),
            f"[timestamp] ca_file {ca_file} does not exist",
            "give the PEM certificate of the time-stamping authority (or its CA)",
        )
    return TimestampConfig(url=url, ca_file=ca_file, timeout=table.timeout)


def _manuals(root: Root, where: Locator) -> tuple[ManualConfig, ...]:
    manuals: list[ManualConfig] = []
    for index, table in enumerate(root.manual):
        manual = _manual(table, ("manual", index), where)
        if any(known.name == manual.name for known in manuals):
            raise where.error(
                ("manual", index, "name"),
                f"[[manual]] #{index + 1}: the name {manual.name!r} is used twice",
                "give each manual its own name",
            )
        manuals.append(manual)
    return tuple(manuals)


def _manual(table: ManualTable, at: tuple[str, int], where: Locator) -> ManualConfig:
    if not table.name.strip() or not table.contents_url:
        raise where.error(at, f"{describe(at)} needs name and contents_url")
    with where.checking((*at, "contents_url")):
        contents = check_url(table.contents_url)
    amendments = table.amendments_url
    if amendments is not None:
        with where.checking((*at, "amendments_url")):
            amendments = check_url(amendments)
    with where.checking((*at, "sitemap_url")):
        sitemap = check_sitemap(table.sitemap_url, contents)
    selector = table.content_selector.strip() if table.content_selector else None
    for index, css in enumerate(table.ignore):
        with where.checking((*at, "ignore", index)):
            check_rules(None, [css], (), ())
    for index, pattern in enumerate(table.ignore_text):
        with where.checking((*at, "ignore_text", index)):
            check_rules(None, (), [pattern], ())
    for index, host in enumerate(table.allow_host):
        with where.checking((*at, "allow_host", index)):
            check_rules(None, (), (), [host])
    with where.checking((*at, "content_selector")):
        ignore, ignore_text, allow_host = check_rules(
            selector, table.ignore, table.ignore_text, table.allow_host
        )
    network = _network(table, at, where)
    return ManualConfig(
        name=table.name.strip(),
        contents_url=contents,
        amendments_url=amendments,
        content_selector=selector,
        sitemap_url=sitemap,
        ignore=ignore,
        ignore_text=ignore_text,
        allow_host=allow_host,
        display_name=network.display_name,
        headers=network.headers,
        cookies=network.cookies,
        user_agent=network.user_agent,
    )


def _network(table: ManualTable, at: tuple[str, int], where: Locator) -> ManualNetwork:
    headers = []
    for name, value in table.headers.items():
        with where.checking((*at, "headers", name)):
            headers.append(check_header(name, value))
    cookies = []
    for name, source in table.cookies.items():
        with where.checking((*at, "cookies", name)):
            cookies.append(check_cookie(name, source.strip()))
    for key in ("display_name", "user_agent"):
        with where.checking((*at, key)):
            check_network(ManualNetwork(**{key: getattr(table, key)}))
    return check_network(
        ManualNetwork(table.display_name, tuple(headers), tuple(cookies), table.user_agent)
    )


def tables_of(config: ScheduleConfig) -> dict[str, Any]:
    """``config`` as the TOML tables that give it, every key present (None: not set).
    ``config check`` prints it; read back, it gives ``config`` again."""
    email, notify, stamp = config.email, config.notify, config.timestamp
    no_proxy = config.fetch_no_proxy
    return {
        "schedule": {
            **{key: getattr(config, key) for key in ("timezone", "snapshot", "pages", "report")},
            "report_dir": _text(config.report_dir),
            "feed_dir": _text(config.feed_dir),
            "misfire_grace_seconds": config.misfire_grace_seconds,
            "lock_wait_seconds": config.lock_wait_seconds,
            "interval_seconds": config.interval_seconds,
            "report_interval_seconds": config.report_interval_seconds,
        },
        "fetch": {
            "deadline_seconds": config.fetch_deadline_seconds,
            "user_agent": config.fetch_user_agent,
            "contact": config.fetch_contact,
            "proxy": config.fetch_proxy,
            "no_proxy": None if no_proxy is None else list(no_proxy),
        },
        "output": {"file_mode": None if config.file_mode is None else f"{config.file_mode:04o}"},
        "email": None if email is None else _email_table(email),
        "notify": None if notify is None else _notify_table(notify),
        "timestamp": None
        if stamp is None
        else {"url": stamp.url, "ca_file": _text(stamp.ca_file), "timeout": stamp.timeout},
        "manual": [_manual_table(manual) for manual in config.manuals],
    }


def _notify_table(notify: NotifyConfig) -> dict[str, Any]:
    return {
        "urls": list(notify.urls),
        "failure_runs": notify.failure_runs,
        "base_url": notify.base_url,
    }


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _email_table(email: EmailConfig) -> dict[str, Any]:
    return {
        "host": email.host,
        "from": email.sender,
        "to": list(email.to),
        "port": email.port,
        "tls": email.tls,
        "username": email.username,
        "timeout": email.timeout,
        "subject": email.subject,
        "ca_file": _text(email.ca_file),
    }


def _manual_table(manual: ManualConfig) -> dict[str, Any]:
    return {
        "name": manual.name,
        "contents_url": manual.contents_url,
        "amendments_url": manual.amendments_url,
        "content_selector": manual.content_selector,
        "sitemap_url": manual.sitemap_url,
        "ignore": list(manual.ignore),
        "ignore_text": list(manual.ignore_text),
        "allow_host": list(manual.allow_host),
        "display_name": manual.display_name,
        "headers": dict(manual.headers),
        "cookies": dict(manual.cookies),
        "user_agent": manual.user_agent,
    }
