"""Manuals: the watched publications (a contents page, optionally an Amendments page)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from amendwatch.errors import InputError, NotFoundError
from store.models import Manual
from store.network import ManualNetwork, check_network
from store.rows import (
    fetch_all,
    fetch_one,
    insert,
    opt_from_db_time,
    to_db_time,
    write_transaction,
)


def check_url(url: str) -> str:
    """Return the URL stripped, or raise InputError if it is not an http(s) URL with a host."""
    cleaned = url.strip()
    if _has_credentials(cleaned):  # refused without echoing the URL (it holds a secret)
        raise InputError(
            "credentials in URLs are refused (user:password@ is never stored)",
            hint="remove them; send credentials as headers or cookies from the environment",
        )
    try:
        parts = urlsplit(cleaned)
    except ValueError as exc:
        raise InputError(
            f"not an http(s) URL: {url!r}", hint="give a full https://... URL"
        ) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"not an http(s) URL: {url!r}", hint="give a full https://... URL")
    if any(char.isspace() for char in cleaned) or not _is_valid_host(parts.hostname):
        raise InputError(
            f"not a valid host name in {url!r}", hint="check the URL for typos or spaces"
        )
    return cleaned


def _has_credentials(url: str) -> bool:
    """``user[:password]@`` in the URL's authority (see ``scraper.guard.has_credentials``)."""
    authority = url.split("://", 1)[-1]
    for stop in "/?#":
        authority = authority.split(stop, 1)[0]
    return "@" in authority


_HOST_PORT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+))(?::(?P<port>\d{1,5}))?$")


def _is_valid_allowed_host(entry: str) -> bool:
    """An ``--allow-host`` entry: ``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a
    bare IPv6 literal."""
    match = _HOST_PORT.match(entry)
    if match is None:
        return _is_valid_host(entry)
    if match["port"] is not None and not 0 < int(match["port"]) < 65536:
        return False
    return _is_valid_host(match["v6"] or match["host"])


_HOST_LABELS = re.compile(
    r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$", re.IGNORECASE
)


def _is_valid_host(host: str) -> bool:
    """A DNS name (IDNA allowed), an IPv4 address or an IPv6 literal."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return _HOST_LABELS.match(ascii_host) is not None


def check_rules(
    selector: str | None,
    ignore_selectors: Sequence[str],
    ignore_patterns: Sequence[str],
    allowed_hosts: Sequence[str],
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Validate a manual's extraction rules now, so that a typo fails at `manual add`
    rather than on every snapshot."""
    import soupsieve  # noqa: PLC0415 (compiles its own patterns on import: only when needed)

    for css in (selector, *ignore_selectors):
        if css is None:
            continue
        try:
            soupsieve.compile(css)
        except soupsieve.SelectorSyntaxError as exc:
            raise InputError(f"invalid CSS selector {css!r}", hint="e.g. 'div.sidebar'") from exc
    for pattern in ignore_patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InputError(
                f"invalid pattern {pattern!r}: {exc}", hint="use a Python regular expression"
            ) from exc
    hosts = tuple(host.strip().lower() for host in allowed_hosts if host.strip())
    for host in hosts:
        if not _is_valid_allowed_host(host):
            raise InputError(
                f"not a valid host name: {host!r}", hint="e.g. www.example.org or 127.0.0.1:8080"
            )
    return tuple(ignore_selectors), tuple(ignore_patterns), hosts


def _manual(row: dict[str, Any]) -> Manual:
    return Manual(
        id=row["id"],
        name=row["name"],
        contents_url=row["contents_url"],
        amendments_url=row["amendments_url"],
        content_selector=row["content_selector"],
        created_at=opt_from_db_time(row["created_at"]),
        ignore_selectors=tuple(json.loads(row["ignore_selectors"])),
        ignore_patterns=tuple(json.loads(row["ignore_patterns"])),
        allowed_hosts=tuple(json.loads(row["allowed_hosts"])),
        sitemap_url=row.get("sitemap_url"),
        display_name=row.get("display_name"),
        headers=_pairs(row.get("headers")),
        cookies=_pairs(row.get("cookies")),
        user_agent=row.get("user_agent"),
    )


def _pairs(text: str | None) -> tuple[tuple[str, str], ...]:
    return tuple((str(a), str(b)) for a, b in json.loads(text or "[]"))


SITEMAP_AUTO = "auto"  # robots.txt's Sitemap: lines, else /sitemap.xml on the contents host


def check_sitemap(value: str | None, contents_url: str) -> str | None:
    """A manual's sitemap option: None, "auto", or an http(s) URL on the contents page's
    host (chapters are only taken from the manual's own site)."""
    if value is None or not value.strip() or value.strip().lower() == "none":
        return None
    if value.strip().lower() == SITEMAP_AUTO:
        return SITEMAP_AUTO
    url = check_url(value)
    if urlsplit(url).netloc.lower() != urlsplit(contents_url).netloc.lower():
        raise InputError(
            f"the sitemap {url} is not on the contents page's host",
            hint="give a sitemap on the manual's own site, or --sitemap auto",
        )
    return url


def add_manual(
    db: Database,
    name: str,
    contents_url: str,
    *,
    amendments_url: str | None = None,
    content_selector: str | None = None,
    ignore_selectors: Sequence[str] = (),
    ignore_patterns: Sequence[str] = (),
    allowed_hosts: Sequence[str] = (),
    sitemap_url: str | None = None,
    network: ManualNetwork | None = None,
    now: datetime,
) -> Manual:
    """Register a manual; InputError for a bad URL, selector or pattern, an empty or an
    already used name."""
    cleaned_name = name.strip()
    if not cleaned_name:
        raise InputError("a manual needs a name", hint="give a short name such as 'tri-x'")
    contents = check_url(contents_url)
    amendments = check_url(amendments_url) if amendments_url else None
    selector = content_selector.strip() if content_selector else None
    rules = check_rules(selector, ignore_selectors, ignore_patterns, allowed_hosts)
    sitemap = check_sitemap(sitemap_url, contents)
    extra = check_network(network or ManualNetwork())
    with write_transaction(db):
        if fetch_one(db, "SELECT id FROM manuals WHERE name = ?", (cleaned_name,)):
            raise InputError(
                f"a manual named {cleaned_name!r} already exists",
                hint="choose another name or see `amendwatch manual list`",
            )
        manual_id = insert(
            db,
            "INSERT INTO manuals (name, contents_url, amendments_url, content_selector,"
            " created_at, ignore_selectors, ignore_patterns, allowed_hosts, sitemap_url,"
            " display_name, headers, cookies, user_agent)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                cleaned_name,
                contents,
                amendments,
                selector or None,
                to_db_time(now),
                *(json.dumps(list(rule)) for rule in rules),
                sitemap,
                *_network_row(extra),
            ),
        )
    return get_manual_by_id(db, manual_id)


def set_sitemap(db: Database, name: str, sitemap_url: str | None) -> Manual:
    """Set (a URL or "auto") or clear (None, "" or "none") an existing manual's sitemap."""
    manual = get_manual(db, name)
    sitemap = check_sitemap(sitemap_url, manual.contents_url)
    with write_transaction(db):
        db.execute("UPDATE manuals SET sitemap_url = ? WHERE id = ?", (sitemap, manual.id))
    return get_manual_by_id(db, manual.id)


def set_network(db: Database, name: str, network: ManualNetwork) -> Manual:
    """Replace an existing manual's display name, headers, cookie sources and User-Agent."""
    manual = get_manual(db, name)
    extra = check_network(network)
    with write_transaction(db):
        db.execute(
            "UPDATE manuals SET display_name = ?, headers = ?, cookies = ?, user_agent = ?"
            " WHERE id = ?",
            (*_network_row(extra), manual.id),
        )
    return get_manual_by_id(db, manual.id)


def _network_row(extra: ManualNetwork) -> tuple[str | None, str, str, str | None]:
    return (
        extra.display_name,
        json.dumps([list(pair) for pair in extra.headers]),
        json.dumps([list(pair) for pair in extra.cookies]),
        extra.user_agent,
    )


def list_manuals(db: Database) -> tuple[Manual, ...]:
    return tuple(_manual(row) for row in fetch_all(db, "SELECT * FROM manuals ORDER BY name"))


def get_manual(db: Database, name: str) -> Manual:
    row = fetch_one(db, "SELECT * FROM manuals WHERE name = ?", (name.strip(),))
    if row is None:
        raise NotFoundError(f"no manual named {name!r}")
    return _manual(row)


def get_manual_by_id(db: Database, manual_id: int) -> Manual:
    row = fetch_one(db, "SELECT * FROM manuals WHERE id = ?", (manual_id,))
    if row is None:
        raise NotFoundError(f"no manual with id {manual_id}")
    return _manual(row)
