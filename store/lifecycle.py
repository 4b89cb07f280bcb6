"""Queries about a manual's run-to-run state: baseline, active chapters, time order, counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlite_utils import Database

from store.manuals import get_manual_by_id
from store.models import ChapterRow
from store.rows import fetch_all, fetch_one, from_db_time, to_db_time
from store.versions import chapter_row

if TYPE_CHECKING:  # the reports' dataclasses load only where reports are made
    from reports.models import WeekCount


def has_completed_baseline(db: Database, manual_id: int) -> bool:
    """Whether a run that read this manual's contents page has finished (not interrupted,
    not killed). Until then every run is still the baseline: chapters are stored without
    being reported as new, so an interrupted first run invents no "new chapters"."""
    row = fetch_one(
        db,
        "SELECT 1 FROM observations o JOIN runs r ON r.id = o.run_id"
        " WHERE o.manual_id = ? AND o.role = 'contents' AND o.outcome = 'ok'"
        " AND r.finished_at IS NOT NULL AND r.status IN ('ok', 'partial', 'errors') LIMIT 1",
        (manual_id,),
    )
    return row is not None


def active_chapters(db: Database, manual_id: int) -> tuple[ChapterRow, ...]:
    rows = fetch_all(
        db,
        "SELECT * FROM chapters WHERE manual_id = ? AND removed_at IS NULL ORDER BY id",
        (manual_id,),
    )
    return tuple(chapter_row(row) for row in rows)


def manual_name(db: Database, manual_id: int) -> str:
    return get_manual_by_id(db, manual_id).name


def weekly_counts(
    db: Database, end: datetime, *, weeks: int = 13, manual: str | None = None
) -> tuple[WeekCount, ...]:
    """Changes per ISO week and manual over the ``weeks`` weeks before ``end`` (zeros too)."""
    from reports.models import WeekCount  # noqa: PLC0415

    start = end - timedelta(weeks=weeks)
    params: list[object] = [to_db_time(start), to_db_time(end)]
    where = ""
    if manual is not None:
        where = " AND m.name = ?"
        params.append(manual)
    rows = fetch_all(
        db,
        "SELECT m.name AS manual, c.detected_at AS at FROM changes c"
        " JOIN chapters ch ON ch.id = c.chapter_id JOIN manuals m ON m.id = ch.manual_id"
        f" WHERE c.detected_at >= ? AND c.detected_at < ?{where}",
        params,
    )
    names = {row["manual"] for row in rows}
    if manual is not None:
        names.add(manual)
    week_keys = [
        (start + timedelta(weeks=i + 1) - timedelta(seconds=1)).strftime("%G-W%V")
        for i in range(weeks)
    ]
    counts = {(name, key): 0 for name in names for key in week_keys}
    for row in rows:
        key = (row["manual"], from_db_time(row["at"]).strftime("%G-W%V"))
        counts[key] = counts.get(key, 0) + 1
    return tuple(
        WeekCount(week=key, manual=name, changes=counts[(name, key)])
        for name in sorted(names)
        for key in week_keys
        if (name, key) in counts
    )


def recent_version_with(
    db: Database, chapter_id: int, content_hash: str, *, window: int = 5
) -> int | None:
    """The id of one of the chapter's ``window`` most recent versions, other than the latest,
    whose content has ``content_hash``: a change back to it is a flip, not fresh guidance."""
    rows = fetch_all(
        db,
        "SELECT id, content_hash FROM versions WHERE chapter_id = ? ORDER BY valid_from DESC,"
        " id DESC LIMIT ?",
        (chapter_id, window + 1),
    )
    for row in rows[1:]:
        if row["content_hash"] == content_hash:
            return int(row["id"])
    return None
