"""The publisher's Amendments page, for :class:`amendwatch.api.Amendwatch`: fetched and parsed
(``amendments``), and compared with what was detected (``reconciliations``, for the digest)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from amendwatch.config import cookie_values
from amendwatch.errors import FetchError, InputError
from amendwatch.runcontext import site_policy
from reports.models import DetectedChange, Period, Reconciliation
from reports.reconcile import DEFAULT_WINDOW, reconcile
from scraper.fetch import FetchRequest, decode_body, fetch_pages
from scraper.models import Page, PublishedEntry
from store import history, lifecycle, manuals, observations
from store.models import Manual

if TYPE_CHECKING:
    from amendwatch.api import Amendwatch


def months_between(period: Period) -> set[str]:
    """The "YYYY-MM" months that a period touches."""
    months = set()
    cursor = period.start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while cursor < period.end:
        months.add(cursor.strftime("%Y-%m"))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def reconciliations(
    app: Amendwatch, period: Period, changes: Sequence[DetectedChange], manual: str | None = None
) -> tuple[Reconciliation, ...]:
    """The publisher's declared entries for the period's months (the last capture before
    the period ended) compared with what was detected up to 8 weeks either side."""
    from scraper.amendments import parse_amendments  # noqa: PLC0415 (the HTML parser: here only)

    selected = [manuals.get_manual(app.db, manual)] if manual else app.manuals()
    months = months_between(period)
    window = DEFAULT_WINDOW
    around = history.changes_in(app.db, period.start - window, period.end + window, manual)
    detected = list({c.change_id: c for c in (*around, *changes)}.values())
    found = []
    for item in selected:
        page = observations.latest_capture(app.db, item.id, "amendments", period.end)
        if page is None:
            continue
        declared = [
            entry
            for entry in parse_amendments(decode_body(page), page.final_url or page.url)
            if entry.month in months
        ]
        titles = [c.title for c in lifecycle.active_chapters(app.db, item.id)]
        rec = reconcile(item.name, declared, detected, period=period, chapters=titles)
        found.append(rec)
    return tuple(found)


def published_entries(
    app: Amendwatch, name_or_url: str, follow_archives: bool = False
) -> tuple[tuple[PublishedEntry, ...], tuple[str, ...]]:
    """The entries of a manual's (or a URL's) Amendments page, with those of the year
    archives it links when ``follow_archives``; and the archive URLs that failed."""
    from scraper import amendments  # noqa: PLC0415 (the HTML parser: here only)

    url, manual = name_or_url, None
    if "://" not in name_or_url:
        manual = manuals.get_manual(app.db, name_or_url)
        if not manual.amendments_url:
            raise InputError(
                f"manual {manual.name!r} has no Amendments page",
                "add it with `manual add ... --amendments-url URL`",
            )
        url = manual.amendments_url
    (page,) = _fetch(app, [url], manual)
    if not page.ok:
        raise FetchError(f"could not fetch {url}: {page.error or f'HTTP {page.status}'}")
    html, base = decode_body(page), page.final_url or page.url
    if not follow_archives:
        return amendments.parse_amendments(html, base), ()
    archives = _fetch(app, list(amendments.archive_links(html, base)), manual)
    bodies = {p.url: decode_body(p) for p in archives if p.ok}
    failed = tuple(p.url for p in archives if not p.ok)
    return amendments.parse_with_archives(html, base, bodies.get), failed


def _fetch(app: Amendwatch, urls: list[str], manual: Manual | None = None) -> Sequence[Page]:
    """Fetch with the manual's own policy (hosts, headers, cookies, User-Agent) if given."""
    requests = [FetchRequest(u) for u in urls]
    policy = app.settings.fetch
    if manual is not None:
        policy = site_policy(policy, manual, cookie_values)
    return fetch_pages(requests, policy, app.clock, transport=app.transport)
