"""A manual's chapters coming and going: new versions, new chapters, moves and removals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from amendwatch.runcontext import ChapterOutcome, RunContext, fetch, record
from differ.models import ChapterDiff
from scraper.fetch import FetchRequest
from scraper.models import Chapter, Page
from store import lifecycle, versions
from store.models import ChapterRow, StoredVersion


@dataclass(frozen=True)
class NewChapter:
    """A chapter first seen in this run; its change is recorded once moves are known."""

    row: ChapterRow
    version: StoredVersion
    diff: ChapterDiff
    detected_at: datetime


def diff_chapters(
    old: Chapter | None, new: Chapter | None, *, old_version: int | None, new_version: int | None
) -> ChapterDiff:
    """``differ.chapter.diff_chapters``, imported on the first change: a run that changes
    nothing never loads the differ (bench/snap.py times the diffs by wrapping this name)."""
    from differ.chapter import diff_chapters as diff  # noqa: PLC0415

    return diff(old, new, old_version=old_version, new_version=new_version)


def store_new_version(
    ctx: RunContext,
    row: ChapterRow,
    page: Page,
    chapter: Chapter,
    latest: StoredVersion | None,
    pending: list[NewChapter],
    *,
    fingerprint: str | None = None,
) -> ChapterOutcome:
    """Store ``chapter`` as the row's new version (with its capture's ``fingerprint``), diff
    it with ``latest`` and record the change; a new chapter's change waits in ``pending``."""
    flip_of = lifecycle.recent_version_with(
        ctx.db, row.id, chapter.content_hash, window=ctx.settings.flip_window
    )
    outcome = "flip" if flip_of is not None and latest is not None else "new-version"
    observation_id = record(ctx, row, page, outcome)
    if latest is None and ctx.baseline:  # a first version in the baseline run: nothing to diff
        versions.add_version(
            ctx.db, row.id, chapter, observation_id=observation_id,
            observed_at=page.fetched_at, previous=None, fingerprint=fingerprint,
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
        fingerprint=fingerprint,
    )
    diff = replace(diff, new_version=stored.id)
    if outcome == "flip":
        diff = replace(diff, extra=(*diff.extra, ("flip_of", str(flip_of))))
    if latest is None:
        pending.append(NewChapter(row, stored, diff, page.fetched_at))
        return ChapterOutcome(row.url, chapter.title, "new-version")
    change_id = versions.record_change(
        ctx.db, diff, chapter_id=row.id, detected_at=page.fetched_at, run_id=ctx.run_id
    )
    if diff.kind == "stamp" and outcome != "flip":
        outcome = "stamp"  # a version (the stamp is its metadata), but no change to report
    return ChapterOutcome(row.url, chapter.title, outcome, change_id=change_id)


def record_new_chapters(ctx: RunContext, pending: Sequence[NewChapter]) -> list[ChapterOutcome]:
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


def find_move(
    ctx: RunContext, row: ChapterRow, pending: list[NewChapter]
) -> tuple[NewChapter, StoredVersion] | None:
    """A chapter gone from its URL whose content now stands under a new URL has moved."""
    latest = versions.latest_version(ctx.db, row.id)
    if latest is None:
        return None
    from differ.chapter import is_same_content  # noqa: PLC0415

    for item in pending:
        if is_same_content(latest.chapter, item.version.chapter):
            return item, latest
    return None


def record_move(
    ctx: RunContext,
    row: ChapterRow,
    item: NewChapter,
    old: StoredVersion,
    pending: list[NewChapter],
) -> ChapterOutcome:
    pending.remove(item)
    versions.mark_removed(ctx.db, row.id, item.detected_at)
    from differ.chapter import diff_moved  # noqa: PLC0415

    diff = diff_moved(
        old.chapter, item.version.chapter, old_version=old.id, new_version=item.version.id
    )
    change_id = versions.record_change(
        ctx.db, diff, chapter_id=item.row.id, detected_at=item.detected_at, run_id=ctx.run_id
    )
    return ChapterOutcome(item.row.url, item.version.chapter.title, "moved", change_id=change_id)


def check_missing(
    ctx: RunContext, rows: Sequence[ChapterRow], pending: list[NewChapter]
) -> list[ChapterOutcome]:
    """A chapter gone from the contents page is removed only when its URL answers 404/410
    on ``removal_confirmations`` consecutive runs, or at once when its content now stands
    under a new URL (a move)."""
    outcomes = []
    pages = fetch(ctx, [FetchRequest(row.url) for row in rows])
    for row, page in zip(rows, pages, strict=True):
        redirected = page.ok and page.final_url not in ("", row.url)
        gone = page.status in (404, 410)
        record(ctx, row, page, "gone" if gone else "unlisted", "no longer on the contents page")
        move = find_move(ctx, row, pending) if gone or redirected else None
        if move is not None:
            outcomes.append(record_move(ctx, row, *move, pending))
            continue
        if not gone:
            outcomes.append(ChapterOutcome(row.url, row.title, "missing", "still answers"))
            continue
        count = versions.note_missing(ctx.db, row.id)
        if count < ctx.settings.removal_confirmations:
            outcomes.append(ChapterOutcome(row.url, row.title, "missing", f"gone {count}x"))
            continue
        outcomes.append(remove_chapter(ctx, row, page.fetched_at))
    return outcomes


def remove_chapter(ctx: RunContext, row: ChapterRow, at: datetime) -> ChapterOutcome:
    latest = versions.latest_version(ctx.db, row.id)
    versions.mark_removed(ctx.db, row.id, at)
    if latest is None:
        return ChapterOutcome(row.url, row.title, "removed")
    diff = diff_chapters(latest.chapter, None, old_version=latest.id, new_version=None)
    change_id = versions.record_change(
        ctx.db, diff, chapter_id=row.id, detected_at=at, run_id=ctx.run_id
    )
    return ChapterOutcome(row.url, row.title, "removed", change_id=change_id)
