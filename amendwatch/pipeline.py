"""The snapshot pipeline: discover, fetch, extract, judge, store, align and diff.

I/O lives at the edges: the HTTP transport, the database and the clock are injected.
Every fetch becomes an observation row; only a trustworthy, changed chapter becomes a
version; a failed or suspect fetch never removes or changes anything.
"""

from __future__ import annotations

import collections
import contextlib
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import httpx
from sqlite_utils import Database

from amendwatch.analysisstage import (
    Head,
    analysis_job,
    latest_head,
    quick_analysis,
    remember_guard,
    remember_old_fingerprint,
)
from amendwatch.capturework import prepared_page, prior_for
from amendwatch.chapters import (
    NewChapter,
    check_missing,
    record_new_chapters,
    store_new_version,
)
from amendwatch.config import Settings
from amendwatch.confirm import UNCONFIRMED_CHANGE, confirm_large_change, record_unconfirmed
from amendwatch.contentsstage import read_contents
from amendwatch.errors import ExtractError
from amendwatch.runcontext import (
    ChapterOutcome,
    Clock,
    CookieValues,
    RunContext,
    SnapshotResult,
    extract,
    fetch,
    no_cookies,
    record,
    site_policy,
)
from scraper.analysis import Analyser, Analysis
from scraper.checks import Judgement, ends_whole, judge_page
from scraper.fetch import FetchRequest, decode_body
from scraper.fetchproc import FetchProcess, Pending, clock_pickles, processes_for
from scraper.models import Chapter, Page
from scraper.session import FetchSession
from store import lifecycle, observations, versions
from store.models import ChapterRow, Manual
from store.rows import fetch_one, write_transaction

__all__ = ["ChapterOutcome", "SnapshotResult", "site_policy", "snapshot_manual"]

POOL_WORKERS = 2  # extraction processes (parsing is CPU-bound); at most one per core
EARLY_CONFIRMS = 4  # with fetch processes, a batch parsing at most this many known chapters
# fetches them again at once, to confirm a change, rather than after the parse (behind the
# batches fetched ahead); more (a release that changed the rules) would be mostly unchanged
# pages fetched twice
POOL_MIN_CHAPTERS = 64  # smaller manuals are analysed inline (a pool costs ~0.5 s to start)


def snapshot_manual(
    db: Database,
    manual: Manual,
    settings: Settings,
    clock: Clock,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    run_id: int | None = None,
    progress: Callable[[ChapterOutcome], None] | None = None,
    stop: Callable[[], bool] | None = None,
    cookie_values: CookieValues = no_cookies,
) -> SnapshotResult:
    """Snapshot one manual: every listed chapter is fetched and, when changed, diffed.

    Chapters are fetched and processed in batches, so memory does not grow with the manual;
    ``stop`` is asked between chapters and ends the run early (the current chapter completes).
    ``cookie_values`` resolves the manual's cookie sources (see ``site_policy``).
    """
    baseline = not lifecycle.has_completed_baseline(db, manual.id)
    policy = site_policy(settings.fetch, manual, cookie_values)
    with FetchSession(policy, clock, transport, prepare=prepared_page) as session:
        ctx = RunContext(db, manual, settings, clock, run_id, baseline, session)
        return _run(ctx, progress, stop)


def _run(
    ctx: RunContext,
    progress: Callable[[ChapterOutcome], None] | None,
    stop: Callable[[], bool] | None,
) -> SnapshotResult:
    db, manual = ctx.db, ctx.manual
    known = lifecycle.active_chapters(db, manual.id)
    read = read_contents(ctx, known)  # with the listed entries not watched
    contents, skipped = read.contents, read.skipped
    if manual.amendments_url:
        _capture_amendments(ctx, manual.amendments_url)
    if contents is None:
        rows = list(known)
    else:
        rows = versions.upsert_chapters(db, manual.id, contents.chapters, ctx.clock())
    pending: list[NewChapter] = []
    outcomes, interrupted = _check_chapters(ctx, rows, pending, progress, stop)
    if contents is not None and not interrupted:
        listed = {ref.url for ref in contents.chapters}
        missing = [row for row in known if row.url not in listed]
        outcomes.extend(check_missing(ctx, missing, pending))
    outcomes.extend(record_new_chapters(ctx, pending))
    return SnapshotResult(
        manual.name,
        ctx.run_id,
        contents is not None,
        tuple(outcomes),
        interrupted=interrupted,
        skipped=skipped,
        contents_error=read.problem,
    )


def _capture_amendments(ctx: RunContext, url: str) -> None:
    """Keep the publisher's own Amendments page as evidence, for reconciliation."""
    (page,) = fetch(ctx, [FetchRequest(url)])
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


@dataclass(frozen=True)
class _Batch:
    """Fetched chapters whose analysis is under way (the next batch is fetched meanwhile)."""

    rows: Sequence[ChapterRow]
    pages: list[Page]
    heads: list[Head | None]
    analyses: Callable[[], list[Analysis | None]]
    early: Pending | None = None  # the confirming fetches of the pages being parsed
    early_urls: tuple[str, ...] = ()


def _fetch_elsewhere(ctx: RunContext, chapters: int) -> FetchProcess | None:
    """A fetch process for a large manual fetched over the network with a real clock."""
    session = ctx.session
    if chapters < POOL_MIN_CHAPTERS or not isinstance(session, FetchSession):
        return None
    if not session.own_transport or not clock_pickles(ctx.clock):
        return None
    policy = session.policy
    # one process where the contents page's host asks for a Crawl-delay: two would each keep
    # twice the gap, the same rate, but two requests could start closer than the delay
    spaced = session.known_crawl_delay(ctx.manual.contents_url) > 0
    processes = 1 if spaced else processes_for(policy, os.cpu_count())
    return FetchProcess(policy, ctx.clock, processes, prepare=prepared_page)


def _check_chapters(
    ctx: RunContext,
    rows: Sequence[ChapterRow],
    pending: list[NewChapter],
    progress: Callable[[ChapterOutcome], None] | None,
    stop: Callable[[], bool] | None,
) -> tuple[list[ChapterOutcome], bool]:
    outcomes: list[ChapterOutcome] = []
    large = len(rows) >= POOL_MIN_CHAPTERS
    workers = min(POOL_WORKERS, os.cpu_count() or 1) if large else 0
    with contextlib.ExitStack() as stack:
        fetcher = _fetch_elsewhere(ctx, len(rows))
        if fetcher is not None:
            ctx = replace(ctx, session=stack.enter_context(fetcher))
        analyser = stack.enter_context(contextlib.closing(Analyser(workers)))
        interrupted = _check_batches(ctx, rows, analyser, pending, outcomes, progress, stop)
    return outcomes, interrupted


def _check_batches(
    ctx: RunContext,
    rows: Sequence[ChapterRow],
    analyser: Analyser,
    pending: list[NewChapter],
    outcomes: list[ChapterOutcome],
    progress: Callable[[ChapterOutcome], None] | None,
    stop: Callable[[], bool] | None,
) -> bool:
    """Batches k+1 to k+depth are fetched (and k+1 analysed) while batch k is stored."""
    size = max(1, ctx.settings.batch_size)
    depth = ctx.session.depth
    previous: _Batch | None = None
    ahead = collections.deque(
        _prefetch(ctx, rows[start : start + size]) for start in range(0, depth * size, size)
    )
    for start in [*range(0, len(rows), size), len(rows)]:
        batch = None
        if ahead and (fetching := ahead.popleft()) is not None:
            pending_pages, heads = fetching
            pages = pending_pages.result()
            ahead.append(_prefetch(ctx, rows[start + depth * size : start + (depth + 1) * size]))
            batch = _start_batch(ctx, rows[start : start + size], pages, heads, analyser)
        if previous is not None and _finish_batch(ctx, previous, pending, outcomes, progress, stop):
            return True
        previous = batch
    return False


def _prefetch(
    ctx: RunContext, rows: Sequence[ChapterRow]
) -> tuple[Pending, list[Head | None]] | None:
    """Submit the rows' fetches; with the latest version's head of each, read once here (a
    chapter is fetched once a run, so it cannot change before its batch is stored)."""
    if not rows:
        return None
    heads = [latest_head(ctx, row.id) for row in rows]
    requests = [_request(ctx, row, head) for row, head in zip(rows, heads, strict=True)]
    return ctx.session.submit(requests), heads


def _start_batch(
    ctx: RunContext,
    rows: Sequence[ChapterRow],
    pages: list[Page],
    heads: list[Head | None],
    analyser: Analyser,
) -> _Batch:
    quick = [
        quick_analysis(ctx.db, ctx.manual, page, None if head is None else head.fingerprint)
        for page, head in zip(pages, heads, strict=True)
    ]
    jobs = [
        None
        if q.analysis is not None
        else analysis_job(
            ctx, page, decode_body(page) if page.ok else "", head, want_guard=q.want_guard
        )
        for page, head, q in zip(pages, heads, quick, strict=True)
    ]
    submitted = analyser.submit(jobs)

    def analyses() -> list[Analysis | None]:
        return [
            q.analysis if q.analysis is not None else analysis
            for q, analysis in zip(quick, submitted(), strict=True)
        ]

    early_urls = tuple(
        page.url
        for page, head, job in zip(pages, heads, jobs, strict=True)
        if job is not None and head is not None and page.ok
    )
    ahead = ctx.session.depth > 1  # fetch processes with batches queued: a later fetch waits
    if not (ahead and ctx.settings.confirm_changes and 0 < len(early_urls) <= EARLY_CONFIRMS):
        return _Batch(rows, pages, heads, analyses)
    early = ctx.session.submit([FetchRequest(url) for url in early_urls])
    return _Batch(rows, pages, heads, analyses, early, early_urls)


def _finish_batch(
    ctx: RunContext,
    batch: _Batch,
    pending: list[NewChapter],
    outcomes: list[ChapterOutcome],
    progress: Callable[[ChapterOutcome], None] | None,
    stop: Callable[[], bool] | None,
) -> bool:
    """Store the batch's outcomes in one transaction; True when ``stop`` interrupted it."""
    analyses = batch.analyses()
    seconds = _second_fetches(ctx, batch, analyses)
    shared = _served_for_many(analyses)
    with write_transaction(ctx.db):  # one commit per batch, not per observation
        for row, page, head, analysis in zip(
            batch.rows, batch.pages, batch.heads, analyses, strict=True
        ):
            if stop is not None and stop():
                return True
            remember_old_fingerprint(ctx, head, analysis)
            if (
                analysis is not None
                and analysis.chapter is not None
                and (analysis.chapter.content_hash in shared)
            ):
                reason = f"the same page was served for {SAME_PAGE} or more chapters in this run"
                record(ctx, row, page, "suspect", reason)
                outcome = ChapterOutcome(row.url, row.title, "suspect", reason)
            else:
                outcome = _process_chapter(ctx, row, page, head, analysis, pending, seconds)
            remember_guard(ctx.db, page, analysis, outcome.outcome)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return False


SAME_PAGE = 3  # one body extracted for this many chapters of a batch is a generic page


def _served_for_many(analyses: Sequence[Analysis | None]) -> frozenset[str]:
    """Content extracted for ``SAME_PAGE`` or more chapters at once: a maintenance, login or
    error page served for every URL, never a version of any of them."""
    counts = Counter(a.chapter.content_hash for a in analyses if a and a.chapter)
    return frozenset(h for h, n in counts.items() if n >= SAME_PAGE)


def _second_fetches(
    ctx: RunContext, batch: _Batch, analyses: list[Analysis | None]
) -> dict[str, Page]:
    """Confirm before report: fetch every apparently changed chapter again, together (or
    take the fetch made as its parse started: ``_start_batch``)."""
    got: dict[str, Page] = {}
    if batch.early is not None:
        got = dict(zip(batch.early_urls, batch.early.result(), strict=True))
    if not ctx.settings.confirm_changes:
        return {}
    urls = [
        page.url
        for page, head, analysis in zip(batch.pages, batch.heads, analyses, strict=True)
        if head is not None
        and analysis is not None
        and analysis.chapter is not None
        and analysis.chapter.content_hash != head.content_hash
    ]
    missing = [url for url in urls if url not in got]
    if missing:
        got.update((page.url, page) for page in fetch(ctx, [FetchRequest(u) for u in missing]))
    return {url: got[url] for url in urls}


def _request(ctx: RunContext, row: ChapterRow, head: Head | None) -> FetchRequest:
    """The chapter's conditional GET, with what the fetch process needs to check and encode
    the page there (``amendwatch.capturework``); ``head``: its latest version's."""
    etag, last_modified = observations.last_validators(ctx.db, row.url)
    if (etag or last_modified) and observations.likely_not_modified(ctx.db, row.url):
        return FetchRequest(row.url, etag=etag, last_modified=last_modified)  # 304, likely
    prior = prior_for(ctx.db, ctx.manual, row.url, None if head is None else head.fingerprint)
    return FetchRequest(row.url, etag=etag, last_modified=last_modified, payload=prior)


def _process_chapter(
    ctx: RunContext,
    row: ChapterRow,
    page: Page,
    head: Head | None,
    analysis: Analysis | None,
    pending: list[NewChapter],
    seconds: dict[str, Page],
) -> ChapterOutcome:
    if page.status == 304 and page.error is None and head is not None:
        record(ctx, row, page, "not-modified")
        versions.mark_seen(ctx.db, head.id, page.fetched_at)
        return ChapterOutcome(row.url, row.title, "not-modified")
    if analysis is not None and analysis.error is not None:
        record(ctx, row, page, "suspect", analysis.error)
        return ChapterOutcome(row.url, row.title, "suspect", analysis.error)
    if page.ok and head is not None and analysis is not None and analysis.same:
        # the same fingerprint as the latest version's capture: the same, judged, content
        record(ctx, row, page, "unchanged")
        versions.mark_seen(ctx.db, head.id, page.fetched_at)
        return ChapterOutcome(row.url, row.title, "unchanged")
    chapter = analysis.chapter if analysis is not None else None
    latest = versions.latest_version(ctx.db, row.id) if head is not None else None
    previous = latest.chapter if latest is not None else None
    judgement = judge_page(page, chapter, previous, min_fraction=ctx.settings.min_fraction)
    if judgement.outcome in ("ok", "large") and _cut_short(ctx, page, head):
        judgement = Judgement("suspect", "truncated: the page ends inside the document")
    captured = analysis.fingerprint if analysis is not None else None
    if judgement.outcome == "large" and chapter is not None and latest is not None:
        if latest.content_hash == chapter.content_hash:  # cannot be, but never store a copy
            return _unchanged(ctx, row, page, latest.id, chapter.title)
        why = judgement.reason
        return confirm_large_change(ctx, row, page, chapter, latest, why, pending, captured)
    if judgement.outcome != "ok" or chapter is None:
        reason = judgement.reason or page.error or f"HTTP {page.status}"
        record(ctx, row, page, judgement.outcome, reason)
        return ChapterOutcome(row.url, row.title, judgement.outcome, reason)
    if latest is not None and latest.content_hash == chapter.content_hash:
        _refresh_fingerprint(ctx, head, captured)
        return _unchanged(ctx, row, page, latest.id, chapter.title)
    if latest is not None and ctx.settings.confirm_changes:
        again = seconds.get(page.url) or fetch(ctx, [FetchRequest(page.url)])[0]
        if not _confirmed(ctx, page, chapter, analysis, again):
            reason = f"{UNCONFIRMED_CHANGE}: the content changed between two fetches"
            return record_unconfirmed(ctx, row, (page, again), UNCONFIRMED_CHANGE, reason)
    return store_new_version(ctx, row, page, chapter, latest, pending, fingerprint=captured)


def _refresh_fingerprint(ctx: RunContext, head: Head | None, captured: str | None) -> None:
    """The same content under another fingerprint (a release changed the rules that compute
    it, or the page changed in a way the extraction ignores): the version takes the new one,
    so that the next run's fingerprint comparison and quick check answer again, instead of
    every later run extracting the page in full."""
    if head is not None and captured is not None and head.fingerprint != captured:
        versions.set_fingerprint(ctx.db, head.id, captured)


def _cut_short(ctx: RunContext, page: Page, head: Head | None) -> bool:
    """The body stops inside the document where the chapter's last capture ended whole."""
    if not page.body or ends_whole(page.body) or head is None or head.observation_id is None:
        return False
    capture = fetch_one(
        ctx.db, "SELECT body_sha256 FROM observations WHERE id = ?", (head.observation_id,)
    )
    if capture is None or capture["body_sha256"] is None:
        return False
    return ends_whole(observations.get_body(ctx.db, capture["body_sha256"], cached=True))


def _unchanged(
    ctx: RunContext, row: ChapterRow, page: Page, version_id: int, title: str
) -> ChapterOutcome:
    record(ctx, row, page, "unchanged")
    versions.mark_seen(ctx.db, version_id, page.fetched_at)
    return ChapterOutcome(row.url, title, "unchanged")


def _confirmed(
    ctx: RunContext, page: Page, chapter: Chapter, analysis: Analysis | None, again: Page
) -> bool:
    """Confirm before report: a second fetch must give the same extracted content
    (the same fingerprint says so without a second full extraction)."""
    from scraper.fingerprint import fingerprint  # noqa: PLC0415 (lxml: only for a change)

    if not again.ok:
        return False
    html, url = decode_body(again), again.final_url or again.url
    known = analysis.fingerprint if analysis is not None else None
    if known is not None and known == fingerprint(html, url, selector=ctx.manual.content_selector):
        return True
    try:
        return extract(ctx, again).content_hash == chapter.content_hash
    except ExtractError:
        return False
