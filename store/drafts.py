"""Drafted amendment entries, their editing and approval, with an event trail."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlite_utils import Database

from amendwatch.errors import InputError, NotFoundError
from reports.models import AmendmentEntry, EntryCategory, Period
from store.codec import dumps
from store.readmodels import DraftEvent, StoredDraft
from store.rows import fetch_all, fetch_one, from_db_time, insert, to_db_time, write_transaction

DECISIONS = frozenset({"approved", "rejected"})
GENERATOR = "amendwatch"


def _draft(row: dict[str, Any]) -> StoredDraft:
    return StoredDraft(
        id=row["id"],
        period=row["period"],
        manual=row["manual"],
        category=cast(EntryCategory, row["category"]),
        chapter_title=row["chapter_title"],
        chapter_url=row["chapter_url"],
        details=row["details"],
        generated_details=row["generated_details"],
        sections_cited=tuple(json.loads(row["sections_cited"])),
        change_ids=tuple(json.loads(row["change_ids"])),
        status=row["status"],
        updated_at=from_db_time(row["updated_at"]),
        updated_by=row["updated_by"],
    )


def _period_key(period: Period | str) -> str:
    return period if isinstance(period, str) else (period.key or period.label)


def _entry_key(manual: str, category: str, chapter_url: str, chapter_title: str) -> tuple[str, ...]:
    return (manual, category, chapter_url or chapter_title.casefold())


def save_drafts(
    db: Database, entries: Sequence[AmendmentEntry], period: Period | str, now: datetime
) -> tuple[StoredDraft, ...]:
    """Store the drafted entries of a period.

    Regenerating replaces only entries nobody touched (status 'draft'): those are updated in
    place (same id) or deleted when no longer drafted; edited/approved/rejected ones stay, and
    only their ``generated_details`` is refreshed.
    """
    key = _period_key(period)
    stamp = to_db_time(now)
    with write_transaction(db):
        existing = {
            _entry_key(r["manual"], r["category"], r["chapter_url"], r["chapter_title"]): r
            for r in fetch_all(db, "SELECT * FROM drafts WHERE period = ?", (key,))
        }
        kept: set[int] = set()
        for entry in entries:
            old = existing.get(
                _entry_key(entry.manual, entry.category, entry.chapter_url, entry.chapter_title)
            )
            if old is None:
                _insert_entry(db, entry, key, stamp)
                continue
            kept.add(old["id"])
            _refresh_entry(db, old, entry, stamp)
        for row in existing.values():
            if row["id"] not in kept and row["status"] == "draft":
                db.execute("DELETE FROM drafts WHERE id = ?", (row["id"],))
    return list_drafts(db, key)


def _insert_entry(db: Database, entry: AmendmentEntry, period: str, stamp: str) -> None:
    insert(
        db,
        "INSERT INTO drafts (period, manual, category, chapter_title, chapter_url, details,"
        " generated_details, sections_cited, change_ids, status, updated_at, updated_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?)",
        (
            period,
            entry.manual,
            entry.category,
            entry.chapter_title,
            entry.chapter_url,
            entry.details,
            entry.details,
            dumps(list(entry.sections_cited)),
            dumps(list(entry.change_ids)),
            stamp,
            GENERATOR,
        ),
    )


def _refresh_entry(db: Database, old: dict[str, Any], entry: AmendmentEntry, stamp: str) -> None:
    if old["status"] != "draft":
        db.execute(
            "UPDATE drafts SET generated_details = ? WHERE id = ?", (entry.details, old["id"])
        )
        return
    db.execute(
        "UPDATE drafts SET chapter_title = ?, details = ?, generated_details = ?,"
        " sections_cited = ?, change_ids = ?, updated_at = ?, updated_by = ? WHERE id = ?",
        (
            entry.chapter_title,
            entry.details,
            entry.details,
            dumps(list(entry.sections_cited)),
            dumps(list(entry.change_ids)),
            stamp,
            GENERATOR,
            old["id"],
        ),
    )


def get_draft(db: Database, draft_id: int) -> StoredDraft:
    row = fetch_one(db, "SELECT * FROM drafts WHERE id = ?", (draft_id,))
    if row is None:
        raise NotFoundError(f"no draft with id {draft_id}")
    return _draft(row)


def list_drafts(
    db: Database, period: Period | str, status: str | None = None
) -> tuple[StoredDraft, ...]:
    sql = "SELECT * FROM drafts WHERE period = ?"
    params: list[Any] = [_period_key(period)]
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    return tuple(_draft(row) for row in fetch_all(db, sql + " ORDER BY id", params))


def _log(
    db: Database, draft_id: int, stamp: str, who: str, action: str, old: str, new: str
) -> None:
    insert(
        db,
        "INSERT INTO draft_events (draft_id, at, who, action, old_text, new_text)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (draft_id, stamp, who, action, old, new),
    )


def edit_draft(db: Database, draft_id: int, text: str, who: str, now: datetime) -> StoredDraft:
    """Replace the entry's details; it becomes 'edited' and regeneration leaves it alone."""
    if not text.strip():
        raise InputError("the new text is empty", hint="give the entry's text, or reject it")
    stamp = to_db_time(now)
    with write_transaction(db):
        old = get_draft(db, draft_id)
        db.execute(
            "UPDATE drafts SET details = ?, status = 'edited', updated_at = ?, updated_by = ?"
            " WHERE id = ?",
            (text, stamp, who, draft_id),
        )
        _log(db, draft_id, stamp, who, "edit", old.details, text)
    return get_draft(db, draft_id)


def set_draft_status(
    db: Database, draft_id: int, status: str, who: str, now: datetime
) -> StoredDraft:
    """Approve or reject an entry (recorded in draft_events)."""
    if status not in DECISIONS:
        raise InputError(f"unknown draft status {status!r}", hint="use 'approved' or 'rejected'")
    stamp = to_db_time(now)
    with write_transaction(db):
        old = get_draft(db, draft_id)
        db.execute(
            "UPDATE drafts SET status = ?, updated_at = ?, updated_by = ? WHERE id = ?",
            (status, stamp, who, draft_id),
        )
        _log(db, draft_id, stamp, who, status, old.status, status)
    return get_draft(db, draft_id)


def draft_events(db: Database, draft_id: int) -> tuple[DraftEvent, ...]:
    get_draft(db, draft_id)
    rows = fetch_all(db, "SELECT * FROM draft_events WHERE draft_id = ? ORDER BY id", (draft_id,))
    return tuple(
        DraftEvent(
            id=r["id"],
            draft_id=r["draft_id"],
            at=from_db_time(r["at"]),
            who=r["who"],
            action=r["action"],
            old_text=r["old_text"],
            new_text=r["new_text"],
        )
        for r in rows
    )
