"""The entries a manual's contents page listed that were not watched as chapters, with their
reasons, kept per run (``scraper.discover`` says why; nothing listed is dropped silently)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from scraper.models import Skipped
from store.rows import fetch_all, from_db_time, to_db_time, write_transaction


@dataclass(frozen=True)
class Unwatched:
    """One listed entry not watched, as recorded by a run."""

    run_id: int | None
    manual: str
    observed_at: datetime
    url: str
    title: str
    reason: str


def record_unwatched(
    db: Database,
    skipped: Sequence[Skipped],
    *,
    manual_id: int,
    run_id: int | None,
    observation_id: int | None,
    at: datetime,
) -> None:
    """Keep the entries ``skipped`` from the contents capture ``observation_id``."""
    if not skipped:
        return
    stamp = to_db_time(at)
    with write_transaction(db):
        db.conn.executemany(
            "INSERT INTO unwatched (run_id, manual_id, observation_id, observed_at, url, title,"
            " reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(run_id, manual_id, observation_id, stamp, s.url, s.title, s.reason) for s in skipped],
        )


def unwatched_in_runs(db: Database, run_ids: Sequence[int]) -> dict[int, tuple[Unwatched, ...]]:
    """What each of the runs ``run_ids`` recorded as not watched, in listing order."""
    if not run_ids:
        return {}
    marks = ", ".join("?" for _ in run_ids)
    rows = fetch_all(
        db,
        "SELECT u.run_id, m.name AS manual, u.observed_at, u.url, u.title, u.reason"
        " FROM unwatched u JOIN manuals m ON m.id = u.manual_id"
        f" WHERE u.run_id IN ({marks}) ORDER BY u.id",
        list(run_ids),
    )
    found: dict[int, list[Unwatched]] = {}
    for row in rows:
        found.setdefault(int(row["run_id"]), []).append(
            Unwatched(
                run_id=row["run_id"],
                manual=row["manual"],
                observed_at=from_db_time(row["observed_at"]),
                url=row["url"],
                title=row["title"],
                reason=row["reason"],
            )
        )
    return {run_id: tuple(items) for run_id, items in found.items()}
