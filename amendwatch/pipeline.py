"""The snapshot pipeline: discover, fetch, extract, judge, store, align and diff.

I/O lives at the edges: the HTTP transport, the database and the clock are injected.
Every fetch becomes an observation row; only a trustworthy, changed chapter becomes a
version; a failed or suspect fetch never removes or changes anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

import httpx
from sqlite_utils import Database

from amendwatch.config import Settings
from amendwatch.errors import ExtractError
from differ.chapter import diff_chapters, diff_moved, is_same_content
from differ.models import ChapterDiff
from scraper.checks import judge_page
from scraper.discover import parse_contents
from scraper.extract import extract_chapter
from scraper.fetch import FetchPolicy, FetchRequest, decode_body, fetch_pages
from scraper.fingerprint import Analyser, Analysis, AnalysisJob, fingerprint
from scraper.guard import policy_for_site
from scraper.models import Chapter, Contents, Page
from store import lifecycle, observations, versions
from store.models import ChapterRow, Manual, StoredVersion
from store.rows import fetch_one, write_transaction

Clock = Callable[[], datetime]

POOL_WORKERS = 2  # extraction processes (parsing is CPU-bound); at most one per core
POOL_MIN_CHAPTERS = 64  # smaller manuals are analysed inline (a pool costs ~0.5 s to start)
# (body sha256, URL, selector) -> fingerprint of a stored capture, kept across runs in-process
_FINGERPRINTS: dict[tuple[str, str, str | None], str] = {}
_FINGERPRINTS_MAX = 50_000  # about 15 MB


@dataclass(frozen=True)
class ChapterOutcome:
    url: str
    title: str
    # new-version | unchanged | not-modified | failed | suspect | removed | missing | moved
    outcome: str
    reason: str = ""
    change_id: int | None = None


@dataclass(frozen=True)
class SnapshotResult:
    manual: str
    run_id: int | None
    contents_ok: bool
    outcomes: tuple[ChapterOutcome, ...]
    interrupted: bool = False

    def count(self, *outcomes: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome in outcomes)

    @property
    def checked(self) -> int:
        return self.count("new-version", "unchanged", "not-modified", "removed", "moved")

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
    policy: FetchPolicy  # the settings' policy bound to this manual's hosts (scraper.guard)


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
) -> SnapshotResult:
    """Snapshot one manual: every listed chapter is fetched and, when changed, diffed.

    Chapters are fetched and processed in batches, so memory does not grow with the manual;
    ``stop`` is asked between chapters and ends the run early (the current chapter completes).
    """
    baseline = not lifecycle.has_completed_baseline(db, manual.id)
    policy = site_policy(settings.fetch, manual)
    ctx = _Context(db, manual, settings, clock, transport, run_id, baseline, policy)
    contents = _fetch_contents(ctx)
    known = lifecycle.active_chapters(db, manual.id)
    if manual.amendments_url:
        _capture_amendments(ctx, manual.amendments_url)
    if contents is None:
        rows = list(known)
    else:
        with write_transaction(db):  # one commit for the whole listing
            rows = [versions.upsert_chapter(db, manual.id, r, clock()) for r in contents.chapters]
    pending: list[_NewChapter] = []
    outcomes, interrupted = _check_chapters(ctx, rows, pending, progress, stop)
    if contents is not None and not interrupted:
        listed = {ref.url for ref in contents.chapters}
        missing = [row for row in known if row.url not in listed]
        outcomes.extend(_check_missing(ctx, missing, pending))
    outcomes.extend(_record_new_chapters(ctx, pending))
    return SnapshotResult(
        manual.name, run_id, contents is not None, tuple(outcomes), interrupted=interrupted
    )


def site_policy(policy: FetchPolicy, manual: Manual) -> FetchPolicy:
    """Fetch only from the manual's own host, the hosts it allows and its Amendments page's
    host; internal addresses only when the manual itself lives on one."""
    hosts = set(policy.allowed_hosts) | set(manual.allowed_hosts)
    if manual.amendments_url:
        hosts.add((urlsplit(manual.amendments_url).hostname or "").lower())
    bound = policy_for_site(policy, manual.contents_url)
    return replace(bound, allowed_hosts=tuple(sorted(h for h in hosts if h)))


def _fetch(ctx: _Context, requests: Sequence[FetchRequest]) -> list[Page]:
    return fetch_pages(requests, ctx.policy, ctx.clock, transport=ctx.transport)


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


@dataclass(frozen=True)
class _Batch:
    """Fetched chapters whose analysis is under way (the next batch is fetched meanwhile)."""

    rows: Sequence[ChapterRow]
    pages: list[Page]
    heads: list[_Head | None]
    jobs: list[AnalysisJob | None]
    analyses: Callable[[], list[Analysis | None]]


def _check_chapters(
    ctx: _Context,
    rows: Sequence[ChapterRow],
    pending: list[_NewChapter],
    progress: Callable[[ChapterOutcome], None] | None,
    stop: Callable[[], bool] | None,
) -> tuple[list[ChapterOutcome], bool]:
    outcomes: list[ChapterOutcome] = []
    size = max(1, ctx.settings.batch_size)
    workers = min(POOL_WORKERS, os.cpu_count() or 1) if len(rows) >= POOL_MIN_CHAPTERS else 0
    analyser = Analyser(workers)
    previous: _Batch | None = None
    try:
        for start in [*range(0, len(rows), size), len(rows)]:
            batch = (
                _start_batch(ctx, rows[start : start + size], analyser) if rows[start:] else None
            )
            if previous is not None and _finish_batch(
                ctx, previous, pending, outcomes, progress, stop
            ):
                return outcomes, True
            previous = batch
    finally:
        analyser.close()
    return outcomes, False


def _start_batch(ctx: _Context, rows: Sequence[ChapterRow], analyser: Analyser) -> _Batch:
    pages = _fetch(ctx, [_request(ctx, row) for row in rows])
    heads = [_latest_head(ctx, row.id) for row in rows]
    jobs = [_job(ctx, page, head) for page, head in zip(pages, heads, strict=True)]
    return _Batch(rows, pages, heads, jobs, analyser.submit(jobs))


def _finish_batch(
    ctx: _Context,
    batch: _Batch,
    pending: list[_NewChapter],
    outcomes: list[ChapterOutcome],
    progress: Callable[[ChapterOutcome], None] | None,
    stop: Callable[[], bool] | None,
) -> bool:
    """Store the batch's outcomes in one transaction; True when ``stop`` interrupted it."""
    analyses = batch.analyses()
    seconds = _second_fetches(ctx, batch, analyses)
    with write_transaction(ctx.db):  # one commit per batch, not per observation
        for row, page, head, job, analysis in zip(
            batch.rows, batch.pages, batch.heads, batch.jobs, analyses, strict=True
        ):
            if stop is not None and stop():
                return True
            _remember_old(job, analysis)
            outcome = _process_chapter(ctx, row, page, head, analysis, pending, seconds)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return False


def _second_fetches(
    ctx: _Context, batch: _Batch, analyses: list[Analysis | None]
) -> dict[str, Page]:
    """Confirm before report: fetch every apparently changed chapter again, together."""
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
    if not urls:
        return {}
    return {page.url: page for page in _fetch(ctx, [FetchRequest(url) for url in urls])}


def _request(ctx: _Context, row: ChapterRow) -> FetchRequest:
    etag, last_modified = observations.last_validators(ctx.db, row.url)
    return FetchRequest(row.url, etag=etag, last_modified=last_modified)


@dataclass(frozen=True)
class _Head:
    """The latest version's id, hash and capture (its content is loaded only when needed)."""

    id: int
    content_hash: str
    observation_id: int | None


def _latest_head(ctx: _Context, chapter_id: int) -> _Head | None:
    row = fetch_one(
        ctx.db,
        "SELECT id, content_hash, observation_id FROM versions WHERE chapter_id = ?"
        " ORDER BY valid_from DESC, id DESC LIMIT 1",
        (chapter_id,),
    )
    return None if row is None else _Head(row["id"], row["content_hash"], row["observation_id"])


def _job(ctx: _Context, page: Page, latest: _Head | None) -> AnalysisJob | None:
    """What the analyser needs: the page, and the capture the latest version came from."""
    if not page.ok:
        return None
    url, selector = page.final_url or page.url, ctx.manual.content_selector
    job = partial(
        AnalysisJob, ignore=ctx.manual.ignore_selectors, ignore_text=ctx.manual.ignore_patterns
    )
    if latest is None or latest.observation_id is None:
        return job(decode_body(page), url, selector)
    capture = fetch_one(
        ctx.db,
        "SELECT body_sha256, final_url, headers FROM observations WHERE id = ?",
        (latest.observation_id,),
    )
    if capture is None or capture["body_sha256"] is None:
        return job(decode_body(page), url, selector)
    key = (capture["body_sha256"], capture["final_url"], selector)
    known = _FINGERPRINTS.get(key)
    if known is not None:
        return job(decode_body(page), url, selector, old_fingerprint=known)
    old = Page(
        capture["final_url"], capture["final_url"], 200,
        tuple((k, v) for k, v in json.loads(capture["headers"])),
        observations.get_body(ctx.db, capture["body_sha256"]), page.fetched_at,
    )  # fmt: skip
    return job(
        decode_body(page),
        url,
        selector,
        old_html=decode_body(old),
        old_url=old.url,
        old_sha256=capture["body_sha256"],
    )


def _remember_old(job: AnalysisJob | None, analysis: Analysis | None) -> None:
    if job is None or analysis is None or job.old_sha256 is None:
        return
    if analysis.old_fingerprint is not None:
        _FINGERPRINTS[(job.old_sha256, job.old_url, job.selector)] = analysis.old_fingerprint


def _remember(page: Page, analysis: Analysis | None, selector: str | None) -> None:
    """Keep the page's fingerprint under its body's hash: the next run compares with it."""
    if analysis is None or analysis.fingerprint is None:
        return
    if len(_FINGERPRINTS) >= _FINGERPRINTS_MAX:
        _FINGERPRINTS.pop(next(iter(_FINGERPRINTS)))
    key = (page.body_hash, page.final_url or page.url, selector)
    _FINGERPRINTS[key] = analysis.fingerprint


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
        decode_body(page),
        page.final_url or page.url,
        selector=ctx.manual.content_selector,
        ignore=ctx.manual.ignore_selectors,
        ignore_text=ctx.manual.ignore_patterns,
    )


def _process_chapter(
    ctx: _Context,
    row: ChapterRow,
    page: Page,
    head: _Head | None,
    analysis: Analysis | None,
    pending: list[_NewChapter],
    seconds: dict[str, Page],
) -> ChapterOutcome:
    if page.status == 304 and head is not None:
        _record(ctx, row, page, "not-modified")
        versions.mark_seen(ctx.db, head.id, page.fetched_at)
        return ChapterOutcome(row.url, row.title, "not-modified")
    if analysis is not None and analysis.error is not None:
        _record(ctx, row, page, "suspect", analysis.error)
        return ChapterOutcome(row.url, row.title, "suspect", analysis.error)
    if page.ok and head is not None and analysis is not None and analysis.same:
        # the same fingerprint as the latest version's capture: the same, judged, content
        _record(ctx, row, page, "unchanged")
        versions.mark_seen(ctx.db, head.id, page.fetched_at)
        return ChapterOutcome(row.url, row.title, "unchanged")
    chapter = analysis.chapter if analysis is not None else None
    latest = versions.latest_version(ctx.db, row.id) if head is not None else None
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
    if (
        latest is not None
        and ctx.settings.confirm_changes
        and not _confirmed(ctx, page, chapter, analysis, seconds.get(page.url))
    ):
        reason = "content changed between two fetches; change not accepted yet"
        _record(ctx, row, page, "suspect", reason)
        return ChapterOutcome(row.url, row.title, "suspect", reason)
    _remember(page, analysis, ctx.manual.content_selector)  # the new version's capture
    return _store_new_version(ctx, row, page, chapter, latest, pending)


def _confirmed(
    ctx: _Context, page: Page, chapter: Chapter, analysis: Analysis | None, again: Page | None
) -> bool:
    """Confirm before report: a second fetch must give the same extracted content
    (the same fingerprint says so without a second full extraction)."""
    if again is None:
        (again,) = _fetch(ctx, [FetchRequest(page.url)])
    if not again.ok:
        return False
    html, url = decode_body(again), again.final_url or again.url
    known = analysis.fingerprint if analysis is not None else None
    if known is not None and known == fingerprint(html, url, selector=_selector(ctx)):
        return True
    try:
        return _extract(ctx, again).content_hash == chapter.content_hash
    except ExtractError:
        return False


def _selector(ctx: _Context) -> str | None:
    return ctx.manual.content_selector


@dataclass(frozen=True)
class _NewChapter:
    """A chapter first seen in this run; its change is recorded once moves are known."""

    row: ChapterRow
    version: StoredVersion
    diff: ChapterDiff
    detected_at: datetime


def _store_new_version(
    ctx: _Context,
    row: ChapterRow,
    page: Page,
    chapter: Chapter,
    latest: StoredVersion | None,
    pending: list[_NewChapter],
) -> ChapterOutcome:
    flip_of = lifecycle.recent_version_with(
        ctx.db, row.id, chapter.content_hash, window=ctx.settings.flip_window
    )
    outcome = "flip" if flip_of is not None and latest is not None else "new-version"
    observation_id = _record(ctx, row, page, outcome)
    if latest is None and ctx.baseline:  # a first version in the baseline run: nothing to diff
        versions.add_version(
            ctx.db, row.id, chapter, observation_id=observation_id,
            observed_at=page.fetched_at, previous=None,
        )  # fmt: skip
        return ChapterOutcome(row.url, chapter.title, "new-version")
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
    if outcome == "flip":
        diff = replace(diff, extra=(*diff.extra, ("flip_of", str(flip_of))))
    if latest is None:
        pending.append(_NewChapter(row, stored, diff, page.fetched_at))
        return ChapterOutcome(row.url, chapter.title, "new-version")
    change_id = versions.record_change(
        ctx.db, diff, chapter_id=row.id, detected_at=page.fetched_at, run_id=ctx.run_id
    )
    return ChapterOutcome(row.url, chapter.title, outcome, change_id=change_id)


def _record_new_chapters(ctx: _Context, pending: Sequence[_NewChapter]) -> list[ChapterOutcome]:
    outcomes = []
    for item in pending:
        change_id = versions.record_change(
            ctx.db,
            item.diff,
            chapter_id=item.row.id,
            detected_at=item.detected_at,
            run_id=ctx.run_id,
        )
        outcomes.append(
            ChapterOutcome(item.row.url, item.version.chapter.title, "new", change_id=change_id)
        )
    return outcomes


def _find_move(
    ctx: _Context, row: ChapterRow, pending: list[_NewChapter]
) -> tuple[_NewChapter, StoredVersion] | None:
    """A chapter gone from its URL whose content now stands under a new URL has moved."""
    latest = versions.latest_version(ctx.db, row.id)
    if latest is None:
        return None
    for item in pending:
        if is_same_content(latest.chapter, item.version.chapter):
            return item, latest
    return None


def _record_move(
    ctx: _Context,
    row: ChapterRow,
    item: _NewChapter,
    old: StoredVersion,
    pending: list[_NewChapter],
) -> ChapterOutcome:
    pending.remove(item)
    versions.mark_removed(ctx.db, row.id, item.detected_at)
    diff = diff_moved(
        old.chapter, item.version.chapter, old_version=old.id, new_version=item.version.id
    )
    change_id = versions.record_change(
        ctx.db, diff, chapter_id=item.row.id, detected_at=item.detected_at, run_id=ctx.run_id
    )
    return ChapterOutcome(item.row.url, item.version.chapter.title, "moved", change_id=change_id)


def _check_missing(
    ctx: _Context, rows: Sequence[ChapterRow], pending: list[_NewChapter]
) -> list[ChapterOutcome]:
    """A chapter gone from the contents page is removed only when its URL answers 404/410
    on ``removal_confirmations`` consecutive runs, or at once when its content now stands
    under a new URL (a move)."""
    outcomes = []
    pages = _fetch(ctx, [FetchRequest(row.url) for row in rows])
    for row, page in zip(rows, pages, strict=True):
        redirected = page.ok and page.final_url not in ("", row.url)
        gone = page.status in (404, 410)
        _record(ctx, row, page, "gone" if gone else "unlisted", "no longer on the contents page")
        move = _find_move(ctx, row, pending) if gone or redirected else None
        if move is not None:
            outcomes.append(_record_move(ctx, row, *move, pending))
            continue
        if not gone:
            outcomes.append(ChapterOutcome(row.url, row.title, "missing", "still answers"))
            continue
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
