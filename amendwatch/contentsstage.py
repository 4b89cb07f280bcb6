"""The contents stage of a snapshot: the manual's contents page read into its chapters, with
every listed entry that is not watched kept with its reason (``store.unwatched``).

The contents page is fetched and recorded (outcome 'ok', or 'failed' with the reason). When it
lists links that are not yet chapters of the manual (every link, on the first run), it is read
a second time at once (recorded with the outcome 'reread', never 'ok', so that nothing takes it
for the run's contents capture): a new link missing from the second reading changes from
render to render (a token in its path or query) and is not a chapter; it is reported as not
watched. A second reading that fails changes nothing. A chapter stored under a decorated URL by
an earlier release (``?ref=contents``) keeps its stored URL (``keep_known_urls``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from amendwatch import __version__
from amendwatch.contentscheck import NO_CHAPTERS, page_problem
from amendwatch.runcontext import RunContext, fetch
from amendwatch.sitemapstage import merge_sitemap
from scraper import source_digest
from scraper.fetch import FetchRequest, decode_body
from scraper.listing import confirm_stable, keep_known_urls
from scraper.models import Contents, Page, Skipped
from store import observations
from store.codec import dumps
from store.listings import cached_listing, remember_listing
from store.models import ChapterRow
from store.unwatched import record_unwatched

REREAD_OUTCOME = "reread"  # the second reading of a contents page (the first is 'ok')
# the contents parser and what it uses: a kept listing is reused only under the same source
# (and release), as scraper/fingerprint.py's RULES does for fingerprints
_LISTING_SOURCES = ("discover.py", "guard.py", "sections.py", "text.py", "urlcanon.py", "models.py")


@functools.cache
def _parser_source() -> str:
    return source_digest(_LISTING_SOURCES)


@dataclass(frozen=True)
class ContentsRead:
    """The contents with the sitemap's chapters merged (None when the page failed or lists
    no chapter), the listed entries not watched, and why the page failed ("" when it did
    not: an error, an HTTP status, not HTML, no chapter links)."""

    contents: Contents | None
    skipped: tuple[Skipped, ...] = ()
    problem: str = ""


def read_contents(ctx: RunContext, known: Sequence[ChapterRow]) -> ContentsRead:
    (page,) = fetch(ctx, [FetchRequest(ctx.manual.contents_url)])
    reason = page_problem(page)
    contents = None if reason else _parse(ctx, page, known)
    listed = contents is not None and bool(contents.chapters)
    if contents is not None and not listed:
        reason = NO_CHAPTERS
        if contents.skipped:
            reason += f" ({len(contents.skipped)} links not watched: see `amendwatch runs`)"
    observation_id = _record(ctx, page, "ok" if listed else "failed", reason)
    if contents is None:
        return ContentsRead(None, (), reason)
    if listed:
        contents = _reread(ctx, contents, known)
    record_unwatched(
        ctx.db,
        contents.skipped,
        manual_id=ctx.manual.id,
        run_id=ctx.run_id,
        observation_id=observation_id,
        at=page.fetched_at,
    )
    if not listed:
        return ContentsRead(None, contents.skipped, reason)
    return ContentsRead(merge_sitemap(ctx, contents), contents.skipped)


def _parse(ctx: RunContext, page: Page, known: Sequence[ChapterRow]) -> Contents:
    """The page's chapters: parsed, or as parsed before from the same bytes under the same
    rules (store/listings.py)."""
    url, manual = page.final_url or page.url, ctx.manual
    rules = dumps([__version__, _parser_source(), url, manual.allowed_hosts, manual.amendments_url])
    digest = page.body_hash
    contents = cached_listing(ctx.db, manual.id, digest, rules)
    if contents is None:
        from scraper.discover import parse_contents  # noqa: PLC0415 (BeautifulSoup: only here)

        contents = parse_contents(
            decode_body(page), url, hosts=manual.allowed_hosts, amendments_url=manual.amendments_url
        )
        remember_listing(ctx.db, manual.id, digest, rules, contents)
    return keep_known_urls(contents, [row.url for row in known])


def _reread(ctx: RunContext, contents: Contents, known: Sequence[ChapterRow]) -> Contents:
    """``contents`` without the new links that a second reading of the page does not list."""
    urls = {row.url for row in known}
    new = sum(1 for ref in contents.chapters if ref.url not in urls)
    if not new or not ctx.settings.confirm_changes:
        return contents
    (page,) = fetch(ctx, [FetchRequest(ctx.manual.contents_url)])
    problem = page_problem(page)
    again = None if problem else _parse(ctx, page, known)
    if again is None or not again.chapters:
        why = problem or "no chapter links"
        _record(ctx, page, REREAD_OUTCOME, f"second reading failed ({why}): first reading kept")
        return contents
    confirmed = confirm_stable(contents, again, urls)
    changed = len(contents.chapters) - len(confirmed.chapters)
    _record(
        ctx,
        page,
        REREAD_OUTCOME,
        f"second reading: {new - changed} of {new} new links confirmed"
        + (f", {changed} changed between readings (not watched)" if changed else ""),
    )
    return confirmed


def _record(ctx: RunContext, page: Page, outcome: str, reason: str) -> int:
    return observations.record_observation(
        ctx.db,
        page,
        manual_id=ctx.manual.id,
        chapter_id=None,
        role="contents",
        outcome=outcome,
        reason=reason,
        run_id=ctx.run_id,
    )
