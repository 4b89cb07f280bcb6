"""Alert state (the ``alerts`` table) and what a finished run shows to alert on.

One row per watched condition that can break, keyed ``contents:NAME``, ``chapter:ID``,
``unconfirmed:ID`` or ``abandoned:RUN``. A condition is *open* while broken (announced once:
``notified_at``), *recovered* once it works again and its recovery is still to be announced,
and *closed* when nothing more is to be said; a closed condition that breaks again opens anew.
A condition that recovers before it was ever announced closes silently, and one that breaks
again before its recovery was announced is open again under its first announcement: one
message per broken state, one per recovery.

The run queries read only what the database says about a run (runs, observations, chapters,
changes), so alerting needs nothing handed over by the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from store.rows import (
    fetch_all,
    fetch_one,
    from_db_time,
    number_key,
    opt_from_db_time,
    to_db_time,
    write_transaction,
)

OPEN, RECOVERED, CLOSED = "open", "recovered", "closed"


@dataclass(frozen=True)
class AlertRow:
    key: str
    manual: str | None
    kind: str
    state: str
    since: datetime
    count: int
    detail: str
    notified_at: datetime | None
    resolved_at: datetime | None
    run_id: int | None


@dataclass(frozen=True)
class Observed:
    """One chapter observation of a run: its outcome and reason."""

    chapter_id: int
    run_id: int
    outcome: str
    reason: str
    observed_at: datetime


@dataclass(frozen=True)
class ChapterSeen:
    """A chapter a run observed, with the observations it made of it."""

    chapter_id: int
    manual: str
    title: str
    url: str
    observations: tuple[Observed, ...]


@dataclass(frozen=True)
class ContentsSeen:
    """A manual's contents page as a run read it first ('ok' or 'failed', with why)."""

    manual: str
    ok: bool
    reason: str


@dataclass(frozen=True)
class ChangeSeen:
    """A change a run recorded, with its packed diff (``store.codec.unpack_diff``)."""

    change_id: int
    manual: str
    chapter_title: str
    chapter_number: str | None
    kind: str
    diff: object


@dataclass(frozen=True)
class AbandonedRun:
    run_id: int
    kind: str
    started_at: datetime


def _observed(row: dict[str, Any], run_id: int) -> Observed:
    return Observed(
        row["chapter_id"], run_id, row["outcome"], row["reason"] or "",
        from_db_time(row["observed_at"]),
    )  # fmt: skip


def _alert(row: dict[str, Any]) -> AlertRow:
    return AlertRow(
        key=row["key"],
        manual=row["manual"],
        kind=row["kind"],
        state=row["state"],
        since=from_db_time(row["since"]),
        count=row["count"],
        detail=row["detail"],
        notified_at=opt_from_db_time(row["notified_at"]),
        resolved_at=opt_from_db_time(row["resolved_at"]),
        run_id=row["run_id"],
    )


# the state ------------------------------------------------------------------------------------
def get_alert(db: Database, key: str) -> AlertRow | None:
    row = fetch_one(db, "SELECT * FROM alerts WHERE key = ?", (key,))
    return None if row is None else _alert(row)


def open_alerts(db: Database, kind: str | None = None) -> tuple[AlertRow, ...]:
    """The conditions broken now (open), of ``kind`` when given, by key."""
    sql, params = "SELECT * FROM alerts WHERE state = 'open'", []
    if kind is not None:
        sql, params = sql + " AND kind = ?", [kind]
    return tuple(_alert(r) for r in fetch_all(db, sql + " ORDER BY key", params))


def open_alert(
    db: Database,
    key: str,
    *,
    manual: str | None,
    kind: str,
    detail: str,
    now: datetime,
    run_id: int | None = None,
    count: int | None = None,
    since: datetime | None = None,
) -> AlertRow:
    """Open the condition ``key`` (broken since ``since``, default ``now``), or refresh it
    while it stays broken: ``count`` runs in a row (default: one more than before), the
    latest ``detail``."""
    with write_transaction(db):
        found = get_alert(db, key)
        if found is None or found.state == CLOSED:
            db.execute(
                "INSERT OR REPLACE INTO alerts (key, manual, kind, state, since, count, detail,"
                " notified_at, resolved_at, run_id) VALUES (?, ?, ?, 'open', ?, ?, ?, NULL,"
                " NULL, ?)",
                (key, manual, kind, to_db_time(since or now), count or 1, detail, run_id),
            )
        else:  # still open, or broken again before its recovery was announced
            db.execute(
                "UPDATE alerts SET state = 'open', count = ?, detail = ?, resolved_at = NULL,"
                " run_id = ? WHERE key = ?",
                (count if count is not None else found.count + 1, detail, run_id, key),
            )
    opened = get_alert(db, key)
    assert opened is not None, "the row was just written"
    return opened


def resolve_alert(
    db: Database, key: str, now: datetime, run_id: int | None = None
) -> AlertRow | None:
    """The open condition ``key`` works again: recovered (to be announced) when its broken
    state was announced, else closed silently. None when it was not open."""
    found = get_alert(db, key)
    if found is None or found.state != OPEN:
        return None
    state = RECOVERED if found.notified_at is not None else CLOSED
    with write_transaction(db):
        db.execute(
            "UPDATE alerts SET state = ?, resolved_at = ?, run_id = ? WHERE key = ?",
            (state, to_db_time(now), run_id, key),
        )
    return get_alert(db, key)


def pending_alerts(db: Database) -> tuple[AlertRow, ...]:
    """What needs announcing: broken states not yet announced, recoveries not yet announced."""
    rows = fetch_all(
        db,
        "SELECT * FROM alerts WHERE (state = 'open' AND notified_at IS NULL)"
        " OR state = 'recovered' ORDER BY manual, kind, key",
    )
    return tuple(_alert(r) for r in rows)


def mark_announced(
    db: Database, keys: Iterable[str], now: datetime, *, one_off: Sequence[str] = ()
) -> None:
    """The current state of each of ``keys`` was announced: an open one is marked notified
    (a ``one_off`` kind, such as an abandoned run, is closed at once: it cannot recover), a
    recovered one is closed."""
    marks = list(one_off) or [""]
    with write_transaction(db):
        for key in keys:
            db.execute(
                "UPDATE alerts SET notified_at = ?, state = CASE WHEN state = 'recovered' OR"
                f" kind IN ({', '.join('?' for _ in marks)}) THEN 'closed' ELSE state END"
                " WHERE key = ? AND state IN ('open', 'recovered')",
                [to_db_time(now), *marks, key],
            )


# what a run shows -----------------------------------------------------------------------------
def run_contents(db: Database, run_id: int) -> tuple[ContentsSeen, ...]:
    """Each manual whose contents page the run read, with its first reading's outcome."""
    rows = fetch_all(
        db,
        "SELECT m.name, o.outcome, o.reason FROM observations o"
        " JOIN manuals m ON m.id = o.manual_id"
        " WHERE o.run_id = ? AND o.role = 'contents' AND o.url = m.contents_url"
        " AND o.outcome IN ('ok', 'failed') ORDER BY o.id",
        (run_id,),
    )
    first: dict[str, ContentsSeen] = {}
    for row in rows:
        first.setdefault(
            row["name"], ContentsSeen(row["name"], row["outcome"] == "ok", row["reason"] or "")
        )
    return tuple(first.values())


def run_chapters(db: Database, run_id: int) -> tuple[ChapterSeen, ...]:
    """Each chapter the run fetched, with its observations, by manual and chapter number."""
    rows = fetch_all(
        db,
        "SELECT o.chapter_id, o.outcome, o.reason, o.observed_at, c.title, c.url, c.number,"
        " m.name"
        " FROM observations o JOIN chapters c ON c.id = o.chapter_id"
        " JOIN manuals m ON m.id = c.manual_id"
        " WHERE o.run_id = ? AND o.role = 'chapter' ORDER BY o.id",
        (run_id,),
    )
    seen: dict[int, tuple[dict[str, Any], list[Observed]]] = {}
    for row in rows:
        _, found = seen.setdefault(row["chapter_id"], (row, []))
        found.append(_observed(row, run_id))
    ordered = sorted(
        seen.values(), key=lambda item: (item[0]["name"], number_key(item[0]["number"]))
    )
    return tuple(
        ChapterSeen(row["chapter_id"], row["name"], row["title"], row["url"], tuple(found))
        for row, found in ordered
    )


def recent_runs_of(
    db: Database, chapter_id: int, up_to_run: int, limit: int
) -> tuple[tuple[Observed, ...], ...]:
    """The chapter's observations in each of the last ``limit`` runs that fetched it, up to
    and including ``up_to_run``, newest run first."""
    rows = fetch_all(
        db,
        "SELECT chapter_id, run_id, outcome, reason, observed_at FROM observations"
        " WHERE chapter_id = ?"
        " AND role = 'chapter' AND run_id IN (SELECT DISTINCT run_id FROM observations"
        " WHERE chapter_id = ? AND role = 'chapter' AND run_id IS NOT NULL AND run_id <= ?"
        " ORDER BY run_id DESC LIMIT ?) ORDER BY run_id DESC, id",
        (chapter_id, chapter_id, up_to_run, limit),
    )
    runs: dict[int, list[Observed]] = {}
    for row in rows:
        runs.setdefault(row["run_id"], []).append(_observed(row, row["run_id"]))
    return tuple(tuple(found) for found in runs.values())


def run_changes(db: Database, run_id: int) -> tuple[ChangeSeen, ...]:
    """The changes the run recorded, by manual and chapter number."""
    rows = fetch_all(
        db,
        "SELECT ch.id, ch.kind, ch.diff, c.number, m.name,"
        " COALESCE(ch.new_title, nv.title, ov.title, c.title) AS title"
        " FROM changes ch JOIN chapters c ON c.id = ch.chapter_id"
        " JOIN manuals m ON m.id = c.manual_id"
        " LEFT JOIN versions ov ON ov.id = ch.old_version_id"
        " LEFT JOIN versions nv ON nv.id = ch.new_version_id WHERE ch.run_id = ?",
        (run_id,),
    )
    rows.sort(key=lambda r: (r["name"], number_key(r["number"]), r["id"]))
    return tuple(
        ChangeSeen(r["id"], r["name"], r["title"], r["number"], r["kind"], r["diff"]) for r in rows
    )


def abandoned_runs(db: Database, before_run: int, since: datetime) -> tuple[AbandonedRun, ...]:
    """Runs marked abandoned (a killed process left them running), older than ``before_run``,
    started at ``since`` or later, not yet alerted on."""
    rows = fetch_all(
        db,
        "SELECT id, kind, started_at FROM runs WHERE status = 'abandoned' AND id < ?"
        " AND started_at >= ? AND NOT EXISTS (SELECT 1 FROM alerts a"
        " WHERE a.key = 'abandoned:' || runs.id) ORDER BY id",
        (before_run, to_db_time(since)),
    )
    return tuple(AbandonedRun(r["id"], r["kind"], from_db_time(r["started_at"])) for r in rows)


def manual_headings(db: Database) -> dict[str, str]:
    """Each manual's name with the heading readers see (its display name, else its name)."""
    rows = fetch_all(db, "SELECT name, COALESCE(display_name, name) AS heading FROM manuals")
    return {row["name"]: row["heading"] for row in rows}


# a run applied to the state ---------------------------------------------------------------------
PROBLEMS = frozenset({"failed", "suspect"})
IGNORED = frozenset({"superseded"})  # a first capture replaced by a confirmed second one


@dataclass(frozen=True)
class RunAlerts:
    opened: tuple[str, ...] = ()  # keys broken in the run (newly or still)
    recovered: tuple[str, ...] = ()  # keys the run saw working again


def apply_run(
    db: Database,
    run_id: int,
    now: datetime,
    *,
    failure_runs: int,
    large_unconfirmed: str,
    abandoned_since: datetime,
) -> RunAlerts:
    """Open, refresh or resolve the conditions run ``run_id`` shows: each manual's contents
    page, each chapter failing ``failure_runs`` runs in a row, each large change a second fetch
    did not confirm (a reason starting ``large_unconfirmed``), each run found abandoned."""
    state = _Applied(db, run_id, now)
    for page in run_contents(db, run_id):
        if page.ok:
            state.works(f"contents:{page.manual}")
        else:
            detail = page.reason or "it could not be read"
            state.broken(f"contents:{page.manual}", page.manual, "contents", detail)
    for chapter in run_chapters(db, run_id):
        status = chapter_status(chapter.observations, large_unconfirmed)
        failing, unconfirmed = f"chapter:{chapter.chapter_id}", f"unconfirmed:{chapter.chapter_id}"
        if status == "failed":
            streak = failing_streak(db, chapter.chapter_id, run_id, failure_runs, large_unconfirmed)
            found = get_alert(db, failing)
            still = found is not None and found.state == OPEN  # counted on from its count
            if len(streak) >= failure_runs or still:
                first = streak[-1][0].observed_at
                counted = () if still else streak
                state.broken(failing, chapter.manual, "chapter", _detail(chapter), counted, first)
            continue
        state.works(failing)
        if status == "unconfirmed":
            state.broken(unconfirmed, chapter.manual, "unconfirmed", _detail(chapter))
        elif status == "ok":
            state.works(unconfirmed)
    for run in abandoned_runs(db, run_id, abandoned_since):
        started = run.started_at.strftime("%Y-%m-%d %H:%M UTC")
        detail = f"Run {run.run_id} ({run.kind}, started {started})"
        state.broken(f"abandoned:{run.run_id}", None, "abandoned", detail)
    return RunAlerts(tuple(state.opened), tuple(state.healed))


@dataclass
class _Applied:
    """The conditions one run opens, refreshes and resolves."""

    db: Database
    run_id: int
    now: datetime
    opened: list[str] = field(default_factory=list)
    healed: list[str] = field(default_factory=list)

    def broken(
        self,
        key: str,
        manual: str | None,
        kind: str,
        detail: str,
        streak: Sequence[object] = (),
        since: datetime | None = None,
    ) -> None:
        open_alert(
            self.db, key, manual=manual, kind=kind, detail=detail, now=self.now,
            run_id=self.run_id, count=len(streak) or None, since=since,
        )  # fmt: skip
        self.opened.append(key)

    def works(self, key: str) -> None:
        if resolve_alert(self.db, key, self.now, self.run_id) is not None:
            self.healed.append(key)


def chapter_status(observed: Sequence[Observed], large_unconfirmed: str) -> str:
    """ok (checked) | unconfirmed (a large change a second fetch did not confirm) |
    unsettled (an ordinary change two fetches disagreed on) | failed (not checked)."""
    kept = [o for o in observed if o.outcome not in IGNORED]
    if any(o.outcome not in PROBLEMS for o in kept):
        return "ok"
    if any(o.reason.startswith(large_unconfirmed) for o in kept):
        return "unconfirmed"
    if any(o.reason.startswith("unconfirmed ") for o in kept):
        return "unsettled"
    return "failed"


def failing_streak(
    db: Database, chapter_id: int, run_id: int, limit: int, large_unconfirmed: str
) -> tuple[tuple[Observed, ...], ...]:
    """The chapter's latest runs (up to ``limit``, newest first) in which it failed, up to the
    first run in which it did not."""
    streak = []
    for observed in recent_runs_of(db, chapter_id, run_id, limit):
        if chapter_status(observed, large_unconfirmed) != "failed":
            break
        streak.append(observed)
    return tuple(streak)


def _detail(chapter: ChapterSeen) -> str:
    problems = [o for o in chapter.observations if o.outcome in PROBLEMS]
    reason = problems[0].reason if problems else ""
    return f"{chapter.title} ({chapter.url}): {reason or 'not checked'}"
