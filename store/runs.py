"""Runs: what each snapshot/scheduled run checked, changed and failed."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from amendwatch.errors import InputError, NotFoundError
from store.codec import dumps
from store.models import RunRow
from store.rows import fetch_all, fetch_one, from_db_time, insert, opt_from_db_time, to_db_time
from store.seals import seal_pending, seal_staged


def _run(row: dict[str, Any], reverted: int = 0) -> RunRow:
    return RunRow(
        id=row["id"],
        kind=row["kind"],
        started_at=from_db_time(row["started_at"]),
        finished_at=opt_from_db_time(row["finished_at"]),
        status=row["status"],
        checked=row["checked"],
        changed=row["changed"],
        failed=row["failed"],
        errors=tuple(json.loads(row["errors"])),
        reverted=reverted,
    )


def start_run(db: Database, kind: str, now: datetime) -> int:
    """Open a run (status 'running'); returns its id."""
    if not kind:
        raise InputError("a run needs a kind", hint="for example 'snapshot' or 'schedule'")
    return insert(
        db,
        "INSERT INTO runs (kind, started_at, status) VALUES (?, ?, 'running')",
        (kind, to_db_time(now)),
    )


def finish_run(
    db: Database,
    run_id: int,
    *,
    now: datetime,
    checked: int,
    changed: int,
    failed: int,
    errors: Sequence[str] = (),
    status: str = "ok",
) -> RunRow:
    cursor = db.execute(
        "UPDATE runs SET finished_at = ?, status = ?, checked = ?, changed = ?, failed = ?,"
        " errors = ? WHERE id = ?",
        (to_db_time(now), status, checked, changed, failed, dumps(list(errors)), run_id),
    )
    if cursor.rowcount == 0:
        raise NotFoundError(f"no run with id {run_id}")
    seal_pending(db, run_id, now)  # the run's writes, its own row included
    return get_run(db, run_id)


def get_run(db: Database, run_id: int) -> RunRow:
    row = fetch_one(db, "SELECT * FROM runs WHERE id = ?", (run_id,))
    if row is None:
        raise NotFoundError(f"no run with id {run_id}")
    return _run(row)


def list_runs(db: Database, limit: int = 20) -> tuple[RunRow, ...]:
    """The latest ``limit`` runs, newest first."""
    rows = fetch_all(db, "SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", (limit,))
    reverted = reverted_counts(db, [row["id"] for row in rows])
    return tuple(_run(row, reverted.get(row["id"], 0)) for row in rows)


def reverted_counts(db: Database, run_ids: Sequence[int]) -> dict[int, int]:
    """How many of each run's changes are flips (the new version's observation says so)."""
    if not run_ids:
        return {}
    marks = ", ".join("?" for _ in run_ids)
    rows = fetch_all(
        db,
        "SELECT ch.run_id, COUNT(*) AS n FROM changes ch"
        " JOIN versions v ON v.id = ch.new_version_id"
        " JOIN observations o ON o.id = v.observation_id"
        f" WHERE ch.run_id IN ({marks}) AND o.outcome = 'flip' GROUP BY ch.run_id",
        list(run_ids),
    )
    return {row["run_id"]: row["n"] for row in rows}


def abandon_unfinished_runs(db: Database, kinds: Sequence[str]) -> int:
    """Mark runs of these kinds still "running" as "abandoned": call it only while holding
    the snapshot lock, when no such run can be alive (its process was killed)."""
    marks = ", ".join("?" for _ in kinds)
    cursor = db.execute(
        f"UPDATE runs SET status = 'abandoned' WHERE status = 'running' AND kind IN ({marks})",
        list(kinds),
    )
    return cursor.rowcount


@contextlib.contextmanager
def finished_on_error(
    db: Database,
    run_id: int,
    clock: Callable[[], datetime],
    describe: Callable[[BaseException], str],
) -> Iterator[None]:
    """A run whose body raises is not left "running": it is finished "failed" (or
    "interrupted" on Ctrl-C) with ``describe(exc)`` as its error, and the exception goes on.
    Best effort: when even that write fails (a disk full to the last byte), the next run marks
    it "abandoned"."""
    try:
        yield
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        with contextlib.suppress(sqlite3.Error):
            if db.conn.in_transaction:
                db.conn.rollback()
            db.conn.execute(
                "UPDATE runs SET finished_at = ?, status = ?, errors = ?"
                " WHERE id = ? AND status = 'running'",
                (to_db_time(clock()), status, dumps([describe(exc)]), run_id),
            )
            seal_staged(db, run_id)
            db.conn.commit()
        raise
