"""Large changes are confirmed in the run that sees them, never parked.

A fetch judged "large" (the text shrank below ``min_fraction`` of the last version, or most of
its section headings went) is fetched again after ``confirm_delay`` seconds. It becomes a
version when the page is structurally sound (``scraper.checks.structural_problem``: the
chapter's title, a body and headings, no error or maintenance wording) and either

* both fetches extract to the same content, or
* the two captures differ but share the new structure (the same section headings): a page
  being rewritten, or one with volatile text inside the chapter, not an outage; the second
  capture is stored.

Otherwise both captures are recorded as ``suspect`` observations whose reason starts with
``UNCONFIRMED``: ``changes``, the digest and the alerts show them as an unconfirmed large
change, with both captures as evidence, and the next run tries again.
"""

from __future__ import annotations

import time

from amendwatch.chapters import NewChapter, store_new_version
from amendwatch.errors import ExtractError
from amendwatch.runcontext import ChapterOutcome, RunContext, extract, fetch, record
from scraper.checks import kept_headings, structural_problem
from scraper.fetch import FetchRequest
from scraper.models import Chapter, Page
from store.models import ChapterRow, StoredVersion

__all__ = ["UNCONFIRMED", "UNCONFIRMED_CHANGE", "confirm_large_change", "record_unconfirmed"]

UNCONFIRMED = "unconfirmed large change"
UNCONFIRMED_CHANGE = "unconfirmed change"  # an ordinary change two fetches disagreed on
SAME_STRUCTURE = 0.9  # two captures share a structure when this share of headings is common


def _second_capture(ctx: RunContext, page: Page) -> tuple[Page, Chapter | None, str]:
    """Fetch ``page`` again after the delay; (page, its chapter or None, why not)."""
    if ctx.settings.confirm_delay > 0:
        time.sleep(ctx.settings.confirm_delay)
    (again,) = fetch(ctx, [FetchRequest(page.url)])
    if not again.ok:
        return again, None, f"the second fetch failed ({again.error or f'HTTP {again.status}'})"
    try:
        return again, extract(ctx, again), ""
    except ExtractError as exc:
        return again, None, f"the second fetch has no chapter ({exc})"


def _share_structure(a: Chapter, b: Chapter) -> bool:
    return min(kept_headings(a, b), kept_headings(b, a)) >= SAME_STRUCTURE


def confirm_large_change(
    ctx: RunContext,
    row: ChapterRow,
    page: Page,
    chapter: Chapter,
    latest: StoredVersion,
    why: str,
    pending: list[NewChapter],
    captured: str | None = None,
) -> ChapterOutcome:
    """Store the large change when a second fetch confirms it; else record it unconfirmed.
    ``captured``: the fingerprint of ``page``'s capture, when known."""
    titles = (row.title,) if row.title else ()
    problem = structural_problem(chapter, latest.chapter, titles)
    if problem is not None:
        reason = f"{UNCONFIRMED} ({why}): {problem}"
        record(ctx, row, page, "suspect", reason)
        return ChapterOutcome(row.url, row.title, "suspect", reason)
    again, second, failure = _second_capture(ctx, page)
    if second is not None and second.content_hash == chapter.content_hash:
        return store_new_version(ctx, row, page, chapter, latest, pending, fingerprint=captured)
    if second is not None:
        later = structural_problem(second, latest.chapter, titles)
        if later is None and _share_structure(chapter, second):
            record(ctx, row, page, "superseded", "large change: the second fetch is stored")
            return store_new_version(ctx, row, again, second, latest, pending)
        failure = later or "the two fetches differ in structure"
    reason = f"{UNCONFIRMED} ({why}): {failure}"
    return record_unconfirmed(ctx, row, (page, again), UNCONFIRMED, reason)


def record_unconfirmed(
    ctx: RunContext, row: ChapterRow, captures: tuple[Page, Page], label: str, reason: str
) -> ChapterOutcome:
    """Both captures of a change the second fetch did not confirm, as ``suspect`` evidence:
    the first with ``reason`` (which starts with ``label``), the second marked as such
    (``store.history.unconfirmed_in`` reads them back)."""
    first, again = captures
    record(ctx, row, first, "suspect", reason)
    record(ctx, row, again, "suspect", f"{label}: second capture")
    return ChapterOutcome(row.url, row.title, "suspect", reason)
