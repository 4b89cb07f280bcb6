"""The audit log (schema 0013): every action taken through the web application or the
``amendwatch user`` commands — who, when, what, on what target, from which address. Rows are
only ever appended, and the table is sealed (store/seals.py), so ``verify`` catches an edited,
deleted or inserted entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlite_utils import Database

from store.rows import fetch_all, from_db_time, insert, to_db_time, write_transaction

MAX_DETAIL: Final = 2000


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    who: str
    action: str  # "login", "login failed", "review", "draft approve", "user add" ...
    target: str  # "change 12", "draft 3", "user alice", ""
    detail: str
    address: str


def log_action(
    db: Database,
    *,
    who: str,
    action: str,
    target: str = "",
    detail: str = "",
    address: str = "",
    now: datetime,
) -> int:
    """Append one entry (sealed with the transaction it is written in)."""
    with write_transaction(db):
        return insert(
            db,
            "INSERT INTO audit_log (at, who, action, target, detail, address)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (to_db_time(now), who[:200], action, target[:500], detail[:MAX_DETAIL], address),
        )


def list_actions(
    db: Database, *, limit: int = 100, before_id: int | None = None, who: str | None = None
) -> tuple[AuditEntry, ...]:
    """The latest entries, newest first (``before_id`` pages back)."""
    sql = "SELECT * FROM audit_log WHERE 1 = 1"
    params: list[object] = []
    if before_id is not None:
        sql += " AND id < ?"
        params.append(before_id)
    if who:
        sql += " AND who = ?"
        params.append(who)
    rows = fetch_all(db, sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return tuple(
        AuditEntry(
            id=r["id"],
            at=from_db_time(r["at"]),
            who=r["who"],
            action=r["action"],
            target=r["target"],
            detail=r["detail"],
            address=r["address"],
        )
        for r in rows
    )
