"""RFC 3161 time-stamps of the chain head as stored (the ``timestamps`` table): a granted token
(the TSA's DER ``TimeStampResp``) or a failed request with its one-line error. Requesting and
checking tokens is :mod:`amendwatch.timestamping`; this module only reads and writes rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from amendwatch.errors import InputError
from store.chainhead import ChainHead
from store.rows import (
    fetch_all,
    from_db_time,
    insert,
    opt_from_db_time,
    shorten,
    to_db_time,
    write_transaction,
)

GRANTED = "granted"
FAILED = "failed"

_COLUMNS = (
    "id, run_id, head_count, head_seals, head_hash, tsa_url, requested_at, gen_time, token,"
    " status, error"
)


@dataclass(frozen=True)
class StoredStamp:
    """One request for a time-stamp of ``head``: ``token`` and ``gen_time`` (the TSA's time)
    when granted, ``error`` when failed."""

    id: int
    run_id: int | None
    head: ChainHead
    tsa_url: str
    requested_at: datetime
    gen_time: datetime | None
    token: bytes | None
    status: str
    error: str | None


def _stamp(row: dict[str, Any]) -> StoredStamp:
    token = row["token"]
    return StoredStamp(
        id=int(row["id"]),
        run_id=row["run_id"],
        head=ChainHead(int(row["head_count"]), str(row["head_hash"]), row["head_seals"]),
        tsa_url=str(row["tsa_url"]),
        requested_at=from_db_time(row["requested_at"]),
        gen_time=opt_from_db_time(row["gen_time"]),
        token=bytes(token) if token is not None else None,
        status=str(row["status"]),
        error=row["error"],
    )


@dataclass(frozen=True)
class StampRequest:
    """What a request for a time-stamp was: for which run, over which head, to which TSA,
    when."""

    run_id: int | None
    head: ChainHead
    tsa_url: str
    requested_at: datetime


def _record(db: Database, request: StampRequest, outcome: tuple[Any, ...]) -> int:
    head = request.head
    values = (request.run_id, head.count, head.seals, head.hash, request.tsa_url)
    with write_transaction(db):
        return insert(
            db,
            "INSERT INTO timestamps (run_id, head_count, head_seals, head_hash, tsa_url,"
            " requested_at, gen_time, token, status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, to_db_time(request.requested_at), *outcome),
        )


def record_token(db: Database, request: StampRequest, gen_time: datetime, token: bytes) -> int:
    """Store a granted token (checked by the caller) with the TSA's time; returns its id."""
    if not token:
        raise InputError("a granted time-stamp needs its token")
    return _record(db, request, (to_db_time(gen_time), token, GRANTED, None))


def record_failure(db: Database, request: StampRequest, error: str) -> int:
    """Store a request that got no acceptable token, with ``error`` cut to one line."""
    return _record(db, request, (None, None, FAILED, shorten(error) or "unknown failure"))


def list_stamps(
    db: Database, *, status: str | None = None, up_to: ChainHead | None = None
) -> tuple[StoredStamp, ...]:
    """Every stored request in id order; only those with ``status`` when given; when
    ``up_to`` is given, only those over a head at or before it (no more observations, and no
    more seals when both heads count seals)."""
    rows = fetch_all(
        db,
        f"SELECT {_COLUMNS} FROM timestamps WHERE (? IS NULL OR status = ?) ORDER BY id",
        (status, status),
    )
    found = (_stamp(row) for row in rows)
    return tuple(stamp for stamp in found if up_to is None or _at_or_before(stamp.head, up_to))


def _at_or_before(head: ChainHead, limit: ChainHead) -> bool:
    if head.count > limit.count:
        return False
    return head.seals is None or limit.seals is None or head.seals <= limit.seals


def stamps_for_run(db: Database, run_id: int) -> tuple[StoredStamp, ...]:
    """The requests made for run ``run_id`` (usually one), in id order."""
    rows = fetch_all(
        db, f"SELECT {_COLUMNS} FROM timestamps WHERE run_id = ? ORDER BY id", (run_id,)
    )
    return tuple(_stamp(row) for row in rows)
