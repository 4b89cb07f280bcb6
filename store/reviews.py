"""Reviews of detected changes (schema 0013): a compliance officer's status, impact, owner and
note. Every edit is a new row, so the latest row of a change is its state and the earlier rows
its history (who, when); the table is sealed (store/seals.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlite_utils import Database

from amendwatch.errors import InputError, NotFoundError
from store.rows import fetch_all, fetch_one, from_db_time, insert, to_db_time, write_transaction

STATUSES: Final = ("open", "acknowledged", "action needed", "done")
IMPACTS: Final = ("none", "low", "high")
MAX_OWNER: Final = 200
MAX_NOTE: Final = 10_000


@dataclass(frozen=True)
class Review:
    id: int
    change_id: int
    status: str
    impact: str | None
    owner: str
    note: str
    at: datetime
    who: str


def _review(row: dict[str, Any]) -> Review:
    return Review(
        id=row["id"],
        change_id=row["change_id"],
        status=row["status"],
        impact=row["impact"],
        owner=row["owner"],
        note=row["note"],
        at=from_db_time(row["at"]),
        who=row["who"],
    )


def check_review(status: str, impact: str | None, owner: str, note: str) -> None:
    if status not in STATUSES:
        raise InputError(f"unknown status {status!r}", hint=f"use one of: {', '.join(STATUSES)}")
    if impact is not None and impact not in IMPACTS:
        raise InputError(f"unknown impact {impact!r}", hint=f"use one of: {', '.join(IMPACTS)}")
    if len(owner) > MAX_OWNER or len(note) > MAX_NOTE:
        raise InputError(
            "the owner or the note is too long",
            hint=f"at most {MAX_OWNER} characters for the owner, {MAX_NOTE} for the note",
        )


def record_review(
    db: Database,
    change_id: int,
    *,
    status: str,
    impact: str | None,
    owner: str,
    note: str,
    who: str,
    now: datetime,
) -> Review:
    """Append the change's new review state (the previous ones stay, as its history)."""
    check_review(status, impact, owner, note)
    if fetch_one(db, "SELECT id FROM changes WHERE id = ?", (change_id,)) is None:
        raise NotFoundError(f"no change with id {change_id}")
    with write_transaction(db):
        review_id = insert(
            db,
            "INSERT INTO reviews (change_id, status, impact, owner, note, at, who)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (change_id, status, impact, owner.strip(), note.strip(), to_db_time(now), who),
        )
    row = fetch_one(db, "SELECT * FROM reviews WHERE id = ?", (review_id,))
    assert row is not None
    return _review(row)


def review_history(db: Database, change_id: int) -> tuple[Review, ...]:
    """Every review of a change, oldest first."""
    rows = fetch_all(db, "SELECT * FROM reviews WHERE change_id = ? ORDER BY id", (change_id,))
    return tuple(_review(row) for row in rows)


def latest_reviews(db: Database, change_ids: Sequence[int] | None = None) -> dict[int, Review]:
    """The current review of each change that has one (of ``change_ids``, else of all)."""
    sql = (
        "SELECT r.* FROM reviews r JOIN (SELECT change_id, MAX(id) AS id FROM reviews"
        " GROUP BY change_id) latest ON latest.id = r.id"
    )
    rows = fetch_all(db, sql)
    wanted = None if change_ids is None else set(change_ids)
    return {
        row["change_id"]: _review(row)
        for row in rows
        if wanted is None or row["change_id"] in wanted
    }


def owners(db: Database) -> tuple[str, ...]:
    """The owners named in current reviews, for the filter."""
    return tuple(
        sorted({r.owner for r in latest_reviews(db).values() if r.owner}, key=str.casefold)
    )


def change_detected_at(db: Database, change_id: int) -> datetime:
    """When a change was detected (NotFoundError for an unknown id)."""
    row = fetch_one(db, "SELECT detected_at FROM changes WHERE id = ?", (change_id,))
    if row is None:
        raise NotFoundError(f"no change with id {change_id}")
    return from_db_time(row["detected_at"])


def drafts_waiting(db: Database) -> tuple[tuple[str, int], ...]:
    """Drafted entries not yet approved or rejected: (period, how many), newest period first."""
    rows = fetch_all(
        db,
        "SELECT period, COUNT(*) AS n FROM drafts WHERE status IN ('draft', 'edited')"
        " GROUP BY period ORDER BY period DESC",
    )
    return tuple((r["period"], int(r["n"])) for r in rows)
