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

from amendwatch.config import Settings, cookie_values
from amendwatch.errors import AmendwatchError
from amendwatch.outputs import disk_full, is_disk_full
from amendwatch.pipeline import ChapterOutcome, SnapshotResult, snapshot_manual
from store import runs, search
from store.db import durable_at_the_end
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
    """interrupted | errors (a manual raised) | failed (nothing could be checked: a contents
    page or every chapter failed) | partial (some pages were not checked) | ok."""
    if any(result.interrupted for result in results):
        return "interrupted"
    if errors:
        return "errors"
    if all(result.complete for result in results):
        return "ok"
    return "partial" if any(result.checked for result in results) else "failed"


def incomplete(report: RunReport) -> bool:
    """The run completed, but something was not checked (exit code 3)."""
    return any(not result.complete for result in report.results)


def problems(results: Sequence[SnapshotResult], most: int = 3) -> list[str]:
    """One line per manual that was not checked in full, with the reasons (kept with the
    run, shown by `amendwatch runs`): the contents page's, and the first chapters'."""
    lines = []
    for result in results:
        if not result.contents_ok:
            lines.append(f"{result.manual}: contents page failed: {result.contents_error}")
        failed = [o for o in result.outcomes if o.outcome in ("failed", "suspect")]
        if failed:
            shown = "; ".join(f"{o.url} ({o.reason or o.outcome})" for o in failed[:most])
            more = f"; and {len(failed) - most} more" if len(failed) > most else ""
            lines.append(f"{result.manual}: {len(failed)} not checked: {shown}{more}")
    return lines


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
            with durable_at_the_end(db):  # runs.finish_run's commit flushes the run to disk
                results, errors = _each_manual(
                    db, settings, selected, run_id, clock, transport, hooks
                )
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
        failed=sum(r.failed + (not r.contents_ok) for r in results) + len(errors),
        errors=[*errors, *problems(results)],
        status=run_status(results, errors),
    )
    search.refresh_index(db)  # the web app's search follows the new versions
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
                progress=hooks.progress, stop=hooks.stop, cookie_values=cookie_values,
            )  # fmt: skip
        except AmendwatchError as exc:
            errors.append(f"{manual.name}: {exc}")
            continue
        results.append(result)
        if result.interrupted:
            break
    return results, errors
