"""Is a contents page usable? The one test shared by ``snapshot`` (a contents page that fails
makes the run incomplete, loudly) and ``manual add`` (which tries the page once and refuses
one that fails, unless ``--no-check``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from amendwatch.config import Settings, cookie_values
from amendwatch.errors import InputError
from amendwatch.runcontext import CookieValues, no_cookies, site_policy
from scraper.fetch import FetchRequest, decode_body
from scraper.models import Page
from scraper.session import FetchSession
from store import manuals
from store.models import Manual

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
NO_CHAPTERS = "no chapter links found on the contents page"
ADD_HINT = (
    "check the URL in a browser (it must be the page listing the chapters), "
    "or add it anyway with --no-check"
)


def not_html(page: Page) -> str:
    """Why ``page`` is not an HTML page ("" when it is, or says nothing of its type)."""
    kind = (page.header("content-type") or "").split(";")[0].strip().lower()
    if kind and kind not in HTML_TYPES:
        return f"not HTML ({kind})"
    if page.body.lstrip()[:5] == b"%PDF-":
        return "not HTML (a PDF)"
    return ""


def page_problem(page: Page) -> str:
    """Why a fetched contents page cannot be read ("" when it can): the fetch error, the
    HTTP status, or a body that is not HTML."""
    if page.error:
        return page.error
    if not 200 <= page.status < 300:
        return f"HTTP {page.status}"
    return not_html(page)


def probe_contents(
    settings: Settings,
    manual: Manual,
    transport: httpx.AsyncBaseTransport | None = None,
    cookie_values: CookieValues = no_cookies,
) -> int:
    """Fetch ``manual``'s contents page once, with the configured fetch policy bound to the
    manual's hosts (its headers, User-Agent and ``cookie_values``' cookies, see
    ``site_policy``), and return how many chapters it lists; raise :class:`InputError` (with
    a hint) when it fails, answers non-2xx, is not HTML or lists no chapter links."""
    from scraper.discover import parse_contents  # noqa: PLC0415 (BeautifulSoup: when needed)

    policy = site_policy(settings.fetch, manual, cookie_values)
    with FetchSession(policy, lambda: datetime.now(UTC), transport) as session:
        (page,) = session.fetch([FetchRequest(manual.contents_url)])
    problem = page_problem(page)
    found = 0
    if not problem:
        contents = parse_contents(
            decode_body(page),
            page.final_url or page.url,
            hosts=manual.allowed_hosts,
            amendments_url=manual.amendments_url,
        )
        found = len(contents.chapters)
        problem = "" if found else NO_CHAPTERS
    if problem:
        raise InputError(f"the contents page {manual.contents_url} failed: {problem}", ADD_HINT)
    return found


def check_new_manual(settings: Settings, manual: Manual, sitemap_url: str | None) -> None:
    """``manual add``'s checks of what was typed, before anything is opened or fetched: its
    URLs, rules and sitemap (the store checks them again when it adds the manual)."""
    manuals.check_url(manual.contents_url)
    if manual.amendments_url:
        manuals.check_url(manual.amendments_url)
    manuals.check_rules(
        manual.content_selector,
        manual.ignore_selectors,
        manual.ignore_patterns,
        manual.allowed_hosts,
    )
    manuals.check_sitemap(sitemap_url, manual.contents_url)


def probe_new_manual(settings: Settings, manual: Manual, watched: Sequence[Manual] = ()) -> int:
    """A name already in use is refused before the contents page is tried (``probe_contents``)."""
    if any(other.name == manual.name.strip() for other in watched):
        raise InputError(
            f"a manual named {manual.name.strip()!r} already exists",
            hint="choose another name or see `amendwatch manual list`",
        )
    return probe_contents(settings, manual, cookie_values=cookie_values)
