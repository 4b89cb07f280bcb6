"""One snapshot run over several manuals, from its ``runs`` row to its report.

The row is opened "running", each manual is snapshotted in turn (one failing with an
expected error never stops the others) and the row is finished with the counts. An
exception never leaves it "running" (``store.runs.finished_on_error``), and a full disk is
one :class:`amendwatch.errors.DiskFullError`, not a SQLite traceback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlite_utils import Database

from amendwatch.config import Settings
from amendwatch.errors import AmendwatchError
from amendwatch.outputs import disk_full, is_disk_full
from amendwatch.pipeline import ChapterOutcome, SnapshotResult, snapshot_manual
from store import runs
from store.models import Manual

Clock = Callable[[], datetime]
SNAPSHOT_KINDS = ("snapshot", "scheduled")  # runs that hold the snapshot lock


@dataclass(frozen=True)
class FixedClock:
    """A clock that always answers ``moment``; it pickles, so a fetch process can use it."""

    moment: datetime

    def __call__(self) -> datetime:
        return self.moment


def fixed_clock(moment: datetime) -> Clock:
    """A clock that always answers ``moment`` (``snapshot --at``)."""
    return FixedClock(moment)


@dataclass(frozen=True)
class RunReport:
    run_id: int
    results: tuple[SnapshotResult, ...]
    errors: tuple[str, ...]


@dataclass(frozen=True)
class RunHooks:
    """What the caller is told (``progress`` per chapter, ``started`` the run id) and asks
    (``stop``, between chapters)."""

    progress: Callable[[ChapterOutcome], None] | None = None
    stop: Callable[[], bool] | None = None
    started: Callable[[int], None] | None = None


def run_status(results: Sequence[SnapshotResult], errors: Sequence[str]) -> str:
    if any(result.interrupted for result in results):
        return "interrupted"
    return "errors" if errors else "ok"


def _run_error(exc: BaseException) -> str:
    if is_disk_full(exc):
        return "the disk is full"
    return str(exc) or type(exc).__name__


def record_run(
    db: Database,
    settings: Settings,
    selected: Sequence[Manual],
    *,
    kind: str,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None,
    hooks: RunHooks,
) -> RunReport:
    """Snapshot ``selected`` as one run of ``kind`` (the caller holds the writer lock)."""
    runs.abandon_unfinished_runs(db, SNAPSHOT_KINDS)
    run_id = runs.start_run(db, kind, clock())
    if hooks.started is not None:
        hooks.started(run_id)
    with runs.finished_on_error(db, run_id, clock, _run_error):
        try:
            results, errors = _each_manual(db, settings, selected, run_id, clock, transport, hooks)
        except (OSError, sqlite3.OperationalError) as exc:
            if is_disk_full(exc):
                raise disk_full("the snapshot's observations") from exc
            raise
    runs.finish_run(
        db,
        run_id,
        now=clock(),
        checked=sum(r.checked for r in results),
        changed=sum(r.changed for r in results),
        failed=sum(r.failed for r in results) + len(errors),
        errors=errors,
        status=run_status(results, errors),
    )
    return RunReport(run_id, tuple(results), tuple(errors))


def _each_manual(
    db: Database,
    settings: Settings,
    selected: Sequence[Manual],
    run_id: int,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None,
    hooks: RunHooks,
) -> tuple[list[SnapshotResult], list[str]]:
    """Each manual in turn; one that fails with an expected error never stops the rest."""
    results: list[SnapshotResult] = []
    errors: list[str] = []
    for manual in selected:
        try:
            result = snapshot_manual(
                db, manual, settings, clock, transport=transport, run_id=run_id,
                progress=hooks.progress, stop=hooks.stop,
            )  # fmt: skip
        except AmendwatchError as exc:
            errors.append(f"{manual.name}: {exc}")
            continue
        results.append(result)
        if result.interrupted:
            break
    return results, errors
