"""Small helpers shared by the store modules: times, queries, transactions, sort keys."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from amendwatch.errors import InputError, LockError, NotFoundError

Params = Sequence[Any] | dict[str, Any]


def to_db_time(value: datetime) -> str:
    """A UTC ISO string with microseconds, so stored times sort as text."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(
            f"time {value.isoformat()} has no timezone",
            hint="pass a timezone-aware (UTC) datetime",
        )
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def opt_db_time(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def from_db_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def opt_from_db_time(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)


# Reads go to the connection directly: sqlite-utils 4's ``query`` wraps every statement in a
# SAVEPOINT/RELEASE pair (to undo row-less writes), two extra statements per read.


def fetch_all(db: Database, sql: str, params: Params = ()) -> list[dict[str, Any]]:
    cursor = db.conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch_one(db: Database, sql: str, params: Params = ()) -> dict[str, Any] | None:
    cursor = db.conn.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([column[0] for column in cursor.description], row, strict=True))


def require_one(db: Database, sql: str, params: Params, what: str) -> dict[str, Any]:
    row = fetch_one(db, sql, params)
    if row is None:
        raise NotFoundError(f"no {what}")
    return row


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn SQLite's constraint and lock errors into amendwatch errors."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise InputError(
            f"cannot store the row: {exc}",
            hint="the manual, chapter, run or version it refers to must exist",
        ) from exc
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise LockError(f"the database is locked: {exc}") from exc
        raise


def insert(db: Database, sql: str, params: Params) -> int:
    with translated_errors():
        cursor = db.execute(sql, params)
    rowid = cursor.lastrowid
    assert rowid is not None, "an INSERT sets lastrowid"
    return rowid


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """BEGIN IMMEDIATE (take the write lock before reading), or a savepoint when nested."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    with translated_errors():
        db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        from store.seals import seal_staged  # noqa: PLC0415 (seals imports this module)

        seal_staged(db)  # the transaction's writes to sealed tables, sealed with it
    except BaseException:
        db.rollback()
        raise
    db.conn.execute("COMMIT")


_NUMBER_PART = re.compile(r"(\d+)")


def number_key(number: str | None) -> tuple[Any, ...]:
    """Natural sort key for chapter numbers: "3.4" < "3.10" < "Appendix 1"; None last."""
    if not number:
        return (1,)
    parts = tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p.casefold())
        for p in _NUMBER_PART.split(number)
        if p
    )
    return (0, parts)


def shorten(text: str, limit: int = 300) -> str:
    """One line of at most ``limit`` characters, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"
