"""The snapshot pipeline: discover, fetch, extract, judge, store, align and diff.

I/O lives at the edges: the HTTP transport, the database and the clock are injected.
Every fetch becomes an observation row; only a trustworthy, changed chapter becomes a
version; a failed or suspect fetch never removes or changes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import httpx
from sqlite_utils import Database

from amendwatch.config import Settings
from amendwatch.errors import ExtractError
from differ.chapter import diff_chapters
from scraper.checks import judge_page
from scraper.discover import parse_contents
from scraper.extract import extract_chapter
from scraper.fetch import FetchRequest, decode_body, fetch_pages
from scraper.models import Chapter, Contents, Page
from store import lifecycle, observations, versions
from store.models import ChapterRow, Manual

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ChapterOutcome:
    url: str
    title: str
    outcome: str  # new-version | unchanged | not-modified | failed | suspect | removed | missing
    reason: str = ""
    change_id: int | None = None


@dataclass(frozen=True)
class SnapshotResult:
    manual: str
    run_id: int | None
    contents_ok: bool
    outcomes: tuple[ChapterOutcome, ...]

    def count(self, *outcomes: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome in outcomes)

    @property
    def checked(self) -> int:
        return self.count("new-version", "unchanged", "not-modified", "removed")

    @property
    def changed(self) -> int:
        return sum(1 for o in self.outcomes if o.change_id is not None)

    @property
    def failed(self) -> int:
        return self.count("failed", "suspect")


@dataclass(frozen=True)
class _Context:
    db: Database
    manual: Manual
    settings: Settings
    clock: Clock
    transport: httpx.AsyncBaseTransport | None
    run_id: int | None
    baseline: bool  # the manual's first successful run: versions, but no "new chapter" changes


def snapshot_manual(
    db: Database,
    manual: Manual,
    settings: Settings,
    clock: Clock,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    run_id: int | None = None,
    progress: Callable[[ChapterOutcome], None] | None = None,
) -> SnapshotResult:
    """Snapshot one manual: every listed chapter is fetched and, when changed, diffed."""
    baseline = not lifecycle.has_successful_contents(db, manual.id)
    ctx = _Context(db, manual, settings, clock, transport, run_id, baseline)
    contents = _fetch_contents(ctx)
    known = lifecycle.active_chapters(db, manual.id)
    if manual.amendments_url:
        _capture_amendments(ctx, manual.amendments_url)
    if contents is None:
        rows = list(known)
    else:
        rows = [versions.upsert_chapter(db, manual.id, ref, clock()) for ref in contents.chapters]
    outcomes = [*_check_chapters(ctx, rows, progress)]
    if contents is not None:
        listed = {ref.url for ref in contents.chapters}
        missing = [row for row in known if row.url not in listed]
        outcomes.extend(_check_missing(ctx, missing))
    return SnapshotResult(manual.name, run_id, contents is not None, tuple(outcomes))


def _fetch(ctx: _Context, requests: Sequence[FetchRequest]) -> list[Page]:
    return fetch_pages(requests, ctx.settings.fetch, ctx.clock, transport=ctx.transport)


def _fetch_contents(ctx: _Context) -> Contents | None:
    (page,) = _fetch(ctx, [FetchRequest(ctx.manual.contents_url)])
    contents: Contents | None = None
    reason = page.error or ""
    if page.ok:
        contents = parse_contents(decode_body(page), page.final_url or page.url)
        if not contents.chapters:
            contents, reason = None, "no chapter links found on the contents page"
    outcome = "ok" if contents is not None else "failed"
    observations.record_observation(
        ctx.db,
        page,
        manual_id=ctx.manual.id,
        chapter_id=None,
        role="contents",
        outcome=outcome,
        reason=reason or ("" if page.ok else f"HTTP {page.status}"),
        run_id=ctx.run_id,
    )
    return contents


def _capture_amendments(ctx: _Context, url: str) -> None:
    """Keep the publisher's own Amendments page as evidence, for reconciliation."""
    (page,) = _fetch(ctx, [FetchRequest(url)])
    observations.record_observation(
        ctx.db,
        page,
        manual_id=ctx.manual.id,
        chapter_id=None,
        role="amendments",
        outcome="ok" if page.ok else "failed",
        reason="" if page.ok else (page.error or f"HTTP {page.status}"),
        run_id=ctx.run_id,
    )


def _check_chapters(
    ctx: _Context, rows: Sequence[ChapterRow], progress: Callable[[ChapterOutcome], None] | None
) -> list[ChapterOutcome]:
    requests = []
    for row in rows:
        etag, last_modified = observations.last_validators(ctx.db, row.url)
        requests.append(FetchRequest(row.url, etag=etag, last_modified=last_modified))
    outcomes = []
    for row, page in zip(rows, _fetch(ctx, requests), strict=True):
        outcome = _process_chapter(ctx, row, page)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return outcomes


def _record(ctx: _Context, row: ChapterRow, page: Page, outcome: str, reason: str = "") -> int:
    return observations.record_observation(
        ctx.db,
        page,
        manual_id=ctx.manual.id,
        chapter_id=row.id,
        role="chapter",
        outcome=outcome,
        reason=reason,
        run_id=ctx.run_id,
    )


def _extract(ctx: _Context, page: Page) -> Chapter:
    return extract_chapter(
        decode_body(page), page.final_url or page.url, selector=ctx.manual.content_selector
    )


def _process_chapter(ctx: _Context, row: ChapterRow, page: Page) -> ChapterOutcome:
    latest = versions.latest_version(ctx.db, row.id)
    if page.status == 304 and latest is not None:
        _record(ctx, row, page, "not-modified")
        versions.mark_seen(ctx.db, latest.id, page.fetched_at)
        return ChapterOutcome(row.url, row.title, "not-modified")
    try:
        chapter = _extract(ctx, page) if page.ok else None
    except ExtractError as exc:
        _record(ctx, row, page, "suspect", str(exc))
        return ChapterOutcome(row.url, row.title, "suspect", str(exc))
    previous = latest.chapter if latest is not None else None
    judgement = judge_page(page, chapter, previous, min_fraction=ctx.settings.min_fraction)
    if judgement.outcome != "ok" or chapter is None:
        reason = judgement.reason or page.error or f"HTTP {page.status}"
        _record(ctx, row, page, judgement.outcome, reason)
        return ChapterOutcome(row.url, row.title, judgement.outcome, reason)
    if latest is not None and latest.content_hash == chapter.content_hash:
        _record(ctx, row, page, "unchanged")
        versions.mark_seen(ctx.db, latest.id, page.fetched_at)
        return ChapterOutcome(row.url, chapter.title, "unchanged")
    if latest is not None and ctx.settings.confirm_changes and not _confirmed(ctx, page, chapter):
        reason = "content changed between two fetches; change not accepted yet"
        _record(ctx, row, page, "suspect", reason)
        return ChapterOutcome(row.url, row.title, "suspect", reason)
    return _store_new_version(ctx, row, page, chapter)


def _confirmed(ctx: _Context, page: Page, chapter: Chapter) -> bool:
    """Confirm before report: a second fetch must give the same extracted content."""
    (again,) = _fetch(ctx, [FetchRequest(page.url)])
    if not again.ok:
        return False
    try:
        return _extract(ctx, again).content_hash == chapter.content_hash
    except ExtractError:
        return False


def _store_new_version(
    ctx: _Context, row: ChapterRow, page: Page, chapter: Chapter
) -> ChapterOutcome:
    latest = versions.latest_version(ctx.db, row.id)
    observation_id = _record(ctx, row, page, "new-version")
    previous = latest.chapter if latest is not None else None
    old_version = latest.id if latest is not None else None
    diff = diff_chapters(previous, chapter, old_version=old_version, new_version=None)
    stored = versions.add_version(
        ctx.db,
        row.id,
        chapter,
        observation_id=observation_id,
        observed_at=page.fetched_at,
        previous=latest,
        pairs=diff.pairs,
    )
    diff = replace(diff, new_version=stored.id)
    change_id = None
    if not (latest is None and ctx.baseline):
        change_id = versions.record_change(
            ctx.db, diff, chapter_id=row.id, detected_at=page.fetched_at, run_id=ctx.run_id
        )
    return ChapterOutcome(row.url, chapter.title, "new-version", change_id=change_id)


def _check_missing(ctx: _Context, rows: Sequence[ChapterRow]) -> list[ChapterOutcome]:
    """A chapter gone from the contents page is removed only when its URL answers 404/410
    on ``removal_confirmations`` consecutive runs."""
    outcomes = []
    pages = _fetch(ctx, [FetchRequest(row.url) for row in rows])
    for row, page in zip(rows, pages, strict=True):
        if page.status not in (404, 410):
            _record(ctx, row, page, "unlisted", "no longer on the contents page")
            outcomes.append(ChapterOutcome(row.url, row.title, "missing", "still answers"))
            continue
        _record(ctx, row, page, "gone", f"HTTP {page.status}")
        count = versions.note_missing(ctx.db, row.id)
        if count < ctx.settings.removal_confirmations:
            outcomes.append(ChapterOutcome(row.url, row.title, "missing", f"gone {count}x"))
            continue
        outcomes.append(_remove_chapter(ctx, row, page.fetched_at))
    return outcomes


def _remove_chapter(ctx: _Context, row: ChapterRow, at: datetime) -> ChapterOutcome:
    latest = versions.latest_version(ctx.db, row.id)
    versions.mark_removed(ctx.db, row.id, at)
    if latest is None:
        return ChapterOutcome(row.url, row.title, "removed")
    diff = diff_chapters(latest.chapter, None, old_version=latest.id, new_version=None)
    change_id = versions.record_change(
        ctx.db, diff, chapter_id=row.id, detected_at=at, run_id=ctx.run_id
    )
    return ChapterOutcome(row.url, row.title, "removed", change_id=change_id)
