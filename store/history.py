"""Queries over the stored history: chapters by reference, changes and failures in a period.

Point-in-time queries live in store/pointintime.py and are re-exported here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from amendwatch.errors import AmbiguousError, NotFoundError
from reports.models import DetectedChange, FailedCheck, Reversion, UnconfirmedChange
from store.codec import unpack_diff
from store.models import ChapterRow, StoredVersion
from store.pointintime import manual_as_of, section_timeline, version_as_of
from store.readmodels import HistoryEntry
from store.rows import (
    fetch_all,
    fetch_one,
    from_db_time,
    number_key,
    opt_from_db_time,
    shorten,
    to_db_time,
)
from store.versions import chapter_row, load_version

__all__ = [
    "changes_in",
    "chapter_history",
    "failures_in",
    "find_chapter",
    "get_version",
    "manual_as_of",
    "section_timeline",
    "version_as_of",
]

MAX_CANDIDATES = 5
SCOPE_TITLES = ("scope of this chapter", "scope", "introduction")


def find_chapter(db: Database, ref: str, manual: str | None = None) -> ChapterRow:
    """A chapter by exact URL, else by a unique case-insensitive part of a (past) title."""
    manual_sql, manual_params = _manual_filter(manual, "c.manual_id")
    row = fetch_one(
        db, f"SELECT c.* FROM chapters c WHERE c.url = ?{manual_sql}", [ref, *manual_params]
    )
    if row is not None:
        return chapter_row(row)
    needle = " ".join(ref.split()).casefold()
    if not needle:
        raise NotFoundError("no chapter reference given")
    rows = _titled(db, needle, manual_sql, manual_params) if needle.isascii() else []
    if not rows:
        rows = _titled(db, None, manual_sql, manual_params)
    exact = {r["id"]: r for r in rows if r["known_title"].casefold() == needle}
    found = exact or {r["id"]: r for r in rows if needle in r["known_title"].casefold()}
    if not found:
        raise NotFoundError(f"no chapter matches {ref!r}")
    if len(found) > 1:
        names = sorted(f"{r['title']} <{r['url']}>" for r in found.values())
        more = f" and {len(names) - MAX_CANDIDATES} more" if len(names) > MAX_CANDIDATES else ""
        same = len({r["known_title"].casefold() for r in found.values()}) == 1
        raise AmbiguousError(
            f"{ref!r} is ambiguous: it matches {len(names)} chapters: "
            + "; ".join(names[:MAX_CANDIDATES])
            + more,
            "they have the same title: give the chapter's URL" if same else None,
        )
    return chapter_row(next(iter(found.values())))


def _titled(
    db: Database, needle: str | None, manual_sql: str, manual_params: list[Any]
) -> list[dict[str, Any]]:
    """Chapters with each title they have had; with an ASCII ``needle``, only titles that
    contain it (SQLite's LIKE folds ASCII case) — a prefilter read from covering indexes,
    fast on large stores; callers re-check with casefold and fall back to all titles."""
    like, like_params = "", []
    if needle is not None:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like, like_params = " AND {col} LIKE ? ESCAPE '\\'", [f"%{escaped}%"]
    return fetch_all(
        db,
        "SELECT c.*, c.title AS known_title FROM chapters c WHERE 1 = 1"
        + manual_sql
        + like.format(col="c.title")
        + " UNION SELECT c.*, t.title AS known_title FROM chapters c JOIN"
        " (SELECT DISTINCT chapter_id, title FROM versions WHERE 1 = 1"
        + like.format(col="title")
        + ") t ON t.chapter_id = c.id WHERE 1 = 1"
        + manual_sql,
        [*manual_params, *like_params, *like_params, *manual_params],
    )


def _manual_filter(manual: str | None, column: str) -> tuple[str, list[Any]]:
    if manual is None:
        return "", []
    return f" AND {column} = (SELECT id FROM manuals WHERE name = ?)", [manual]


def get_version(db: Database, version_id: int) -> StoredVersion:
    row = fetch_one(db, "SELECT * FROM versions WHERE id = ?", (version_id,))
    if row is None:
        raise NotFoundError(f"no version with id {version_id}")
    return load_version(db, row)


def scope_summary(db: Database, version_id: int) -> str:
    """The text of a version's "Scope of this Chapter"/"Introduction" section, else its first."""
    sections = get_version(db, version_id).chapter.sections
    for wanted in SCOPE_TITLES:
        for section in sections:
            if section.title.strip().casefold() == wanted and section.text.strip():
                return shorten(section.text)
    for section in sections:
        if section.text.strip():
            return shorten(section.text)
    return ""


def changes_in(
    db: Database, start: datetime, end: datetime, manual: str | None = None
) -> tuple[DetectedChange, ...]:
    """Changes detected in [start, end), ordered by manual, chapter number, detection time."""
    manual_sql, manual_params = _manual_filter(manual, "c.manual_id")
    rows = fetch_all(
        db,
        "SELECT ch.id, ch.detected_at, ch.diff, ch.kind, ch.new_version_id,"
        " COALESCE(ch.new_title, nv.title, ov.title, c.title) AS title, c.url, c.number,"
        " m.name AS manual, ov.content_hash AS old_hash,"
        " nv.content_hash AS new_hash FROM changes ch JOIN chapters c ON c.id = ch.chapter_id"
        " JOIN manuals m ON m.id = c.manual_id"
        " LEFT JOIN versions ov ON ov.id = ch.old_version_id"
        " LEFT JOIN versions nv ON nv.id = ch.new_version_id"
        " WHERE ch.detected_at >= ? AND ch.detected_at < ?" + manual_sql,
        [to_db_time(start), to_db_time(end), *manual_params],
    )
    rows.sort(key=lambda r: (r["manual"], number_key(r["number"]), r["detected_at"], r["id"]))
    return tuple(_detected(db, r) for r in rows)


def _detected(db: Database, row: dict[str, Any]) -> DetectedChange:
    summary = ""
    if row["kind"] == "new" and row["new_version_id"] is not None:
        summary = scope_summary(db, row["new_version_id"])
    diff = unpack_diff(row["diff"])
    return DetectedChange(
        change_id=row["id"],
        manual=row["manual"],
        chapter_title=row["title"],
        chapter_url=row["url"],
        detected_at=from_db_time(row["detected_at"]),
        diff=diff,
        old_content_hash=row["old_hash"],
        new_content_hash=row["new_hash"],
        chapter_number=row["number"],
        summary=summary,
        reverted_to=reversion(db, dict(diff.extra).get("flip_of")),
    )


def reversion(db: Database, flip_of: str | None) -> Reversion | None:
    """The earlier version a flip returns to (``ChapterDiff.extra`` "flip_of"), with the
    time its content was first seen."""
    if not flip_of or not flip_of.isdigit():
        return None
    row = fetch_one(db, "SELECT id, valid_from FROM versions WHERE id = ?", (int(flip_of),))
    return None if row is None else Reversion(row["id"], from_db_time(row["valid_from"]))


def failures_in(
    db: Database, start: datetime, end: datetime, manual: str | None = None
) -> tuple[FailedCheck, ...]:
    """Fetches in [start, end) that failed or were suspect (shown as "not checked")."""
    manual_sql, manual_params = _manual_filter(manual, "o.manual_id")
    rows = fetch_all(
        db,
        "SELECT o.url, o.observed_at, o.status, o.reason, o.outcome, m.name AS manual"
        " FROM observations o LEFT JOIN manuals m ON m.id = o.manual_id"
        " WHERE o.outcome IN ('failed', 'suspect') AND o.observed_at >= ?"
        " AND o.observed_at < ?" + manual_sql + " ORDER BY m.name, o.observed_at, o.id",
        [to_db_time(start), to_db_time(end), *manual_params],
    )
    return tuple(
        FailedCheck(
            manual=r["manual"] or "",
            url=r["url"],
            observed_at=from_db_time(r["observed_at"]),
            status=r["status"],
            reason=r["reason"] or r["outcome"],
        )
        for r in rows
    )


UNCONFIRMED_PREFIX = "unconfirmed "  # "unconfirmed large change ...", "unconfirmed change: ..."


def unconfirmed_in(
    db: Database, start: datetime, end: datetime, manual: str | None = None
) -> tuple[UnconfirmedChange, ...]:
    """Changes a second fetch did not confirm in [start, end) (large ones, and ordinary ones
    whose two fetches disagreed), each with the captures of its run."""
    manual_sql, manual_params = _manual_filter(manual, "o.manual_id")
    rows = fetch_all(
        db,
        "SELECT o.url, o.observed_at, o.reason, o.body_sha256, o.run_id, c.title,"
        " m.name AS manual FROM observations o LEFT JOIN manuals m ON m.id = o.manual_id"
        " LEFT JOIN chapters c ON c.id = o.chapter_id"
        " WHERE o.outcome = 'suspect' AND o.reason LIKE ? AND o.observed_at >= ?"
        " AND o.observed_at < ?" + manual_sql + " ORDER BY m.name, o.observed_at, o.id",
        [UNCONFIRMED_PREFIX + "%", to_db_time(start), to_db_time(end), *manual_params],
    )
    grouped: dict[tuple[str, object], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["url"], row["run_id"] or row["observed_at"]), []).append(row)
    return tuple(
        UnconfirmedChange(
            manual=group[0]["manual"] or "",
            url=group[0]["url"],
            chapter_title=group[0]["title"] or "",
            observed_at=from_db_time(group[0]["observed_at"]),
            reason=group[0]["reason"],
            captures=tuple(r["body_sha256"] for r in group if r["body_sha256"]),
        )
        for group in grouped.values()
    )


def chapter_history(db: Database, chapter_id: int) -> tuple[HistoryEntry, ...]:
    """Every version of a chapter, oldest first, with the summary of the change that made it."""
    rows = fetch_all(
        db,
        "SELECT v.id, v.valid_from, v.valid_to, v.last_seen, v.content_hash, v.title,"
        " (SELECT ch.id FROM changes ch WHERE ch.new_version_id = v.id ORDER BY ch.id DESC"
        "  LIMIT 1) AS change_id,"
        " (SELECT ch.summary FROM changes ch WHERE ch.new_version_id = v.id ORDER BY ch.id DESC"
        "  LIMIT 1) AS summary"
        " FROM versions v WHERE v.chapter_id = ? ORDER BY v.valid_from, v.id",
        (chapter_id,),
    )
    return tuple(
        HistoryEntry(
            version_id=r["id"],
            valid_from=from_db_time(r["valid_from"]),
            valid_to=opt_from_db_time(r["valid_to"]),
            last_seen=from_db_time(r["last_seen"]),
            content_hash=r["content_hash"],
            title=r["title"],
            summary=r["summary"] or "",
            change_id=r["change_id"],
        )
        for r in rows
    )
