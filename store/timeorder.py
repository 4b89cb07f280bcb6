"""Time only moves forward in the record: a run may not be dated in the future, nor before
the last observation of a manual it checks. Backfills (``import warc``) are the one way to
add earlier captures; they are recorded with ``imported = 1``, so they stay distinguishable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from amendwatch.errors import InputError
from store.manuals import get_manual_by_id
from store.rows import fetch_one, from_db_time

FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of two machines may differ a little


def check_not_future(at: datetime, now: datetime | None = None) -> None:
    """``snapshot --at`` may not be later than the wall clock (plus a small tolerance)."""
    current = now or datetime.now(UTC)
    if at > current + FUTURE_TOLERANCE:
        raise InputError(
            f"--at {at.isoformat()} is in the future (the clock says {current.isoformat()})",
            "observations are recorded at the time they were made; give a past --at",
        )


def last_observed(db: Database, manual_id: int) -> datetime | None:
    """When the manual was last observed (backfills included), or None."""
    row = fetch_one(
        db,
        "SELECT observed_at FROM observations WHERE manual_id = ?"
        " ORDER BY observed_at DESC LIMIT 1",
        (manual_id,),
    )
    return None if row is None else from_db_time(row["observed_at"])


def check_not_before(db: Database, manual_id: int, at: datetime, *, given: bool) -> None:
    """Refuse a run dated before the manual's last observation (``given``: by ``--at``)."""
    latest = last_observed(db, manual_id)
    if latest is None or at >= latest:
        return
    name = get_manual_by_id(db, manual_id).name
    what = f"--at {at.isoformat()}" if given else f"the clock ({at.isoformat()})"
    raise InputError(
        f"{what} is before the last observation of {name} ({latest.isoformat()})",
        "observations may not go back in time; use a later --at"
        if given
        else "observations may not go back in time; check the system clock",
    )


def check_run_time(db: Database, manual_ids: Sequence[int], at: datetime, given: bool) -> None:
    """A run at ``at`` (``given``: by ``--at``, so checked against the wall clock too)."""
    if given:
        check_not_future(at)
    for manual_id in manual_ids:
        check_not_before(db, manual_id, at, given=given)
