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

from collections.abc import Sequence

from amendwatch.runcontext import RunContext, fetch
from amendwatch.sitemapstage import merge_sitemap
from scraper.discover import confirm_stable, keep_known_urls, parse_contents
from scraper.fetch import FetchRequest, decode_body
from scraper.models import Contents, Page, Skipped
from store import observations
from store.models import ChapterRow
from store.unwatched import record_unwatched

REREAD_OUTCOME = "reread"  # the second reading of a contents page (the first is 'ok')


def read_contents(
    ctx: RunContext, known: Sequence[ChapterRow]
) -> tuple[Contents | None, tuple[Skipped, ...]]:
    """(the contents with the sitemap's chapters merged, or None when the page failed or
    lists no chapter; the listed entries not watched)."""
    (page,) = fetch(ctx, [FetchRequest(ctx.manual.contents_url)])
    contents = _parse(ctx, page, known) if page.ok else None
    listed = contents is not None and bool(contents.chapters)
    reason = page.error or ("" if page.ok else f"HTTP {page.status}")
    if contents is not None and not listed:
        reason = "no chapter links found on the contents page"
        if contents.skipped:
            reason += f" ({len(contents.skipped)} links not watched: see `amendwatch runs`)"
    observation_id = _record(ctx, page, "ok" if listed else "failed", reason)
    if contents is None:
        return None, ()
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
        return None, contents.skipped
    return merge_sitemap(ctx, contents), contents.skipped


def _parse(ctx: RunContext, page: Page, known: Sequence[ChapterRow]) -> Contents:
    contents = parse_contents(
        decode_body(page),
        page.final_url or page.url,
        hosts=ctx.manual.allowed_hosts,
        amendments_url=ctx.manual.amendments_url,
    )
    return keep_known_urls(contents, [row.url for row in known])


def _reread(ctx: RunContext, contents: Contents, known: Sequence[ChapterRow]) -> Contents:
    """``contents`` without the new links that a second reading of the page does not list."""
    urls = {row.url for row in known}
    new = sum(1 for ref in contents.chapters if ref.url not in urls)
    if not new or not ctx.settings.confirm_changes:
        return contents
    (page,) = fetch(ctx, [FetchRequest(ctx.manual.contents_url)])
    again = _parse(ctx, page, known) if page.ok else None
    if again is None or not again.chapters:
        why = page.error or (f"HTTP {page.status}" if not page.ok else "no chapter links")
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
