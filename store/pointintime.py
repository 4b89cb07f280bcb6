"""Point-in-time queries: a chapter or a whole manual as of an instant, a section over time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from amendwatch.errors import AmbiguousError, IntegrityError, NotFoundError
from store.readmodels import AsOf, ChapterState, SectionEvent
from store.rows import fetch_all, fetch_one, from_db_time, number_key, opt_from_db_time, to_db_time
from store.versions import chapter_row, get_chapter, load_version, version_chapter

GOOD_OUTCOMES = "('new-version', 'unchanged', 'not-modified')"


def _first_good_after(db: Database, chapter_id: int, stamp: str) -> datetime | None:
    row = fetch_one(
        db,
        "SELECT min(observed_at) AS t FROM observations WHERE chapter_id = ? AND role = 'chapter'"
        f" AND outcome IN {GOOD_OUTCOMES} AND observed_at > ?",
        (chapter_id, stamp),
    )
    return opt_from_db_time(row["t"]) if row else None


def version_as_of(db: Database, chapter_id: int, at: datetime) -> AsOf:
    """The version valid at ``at`` and how closely the observations bound it."""
    chapter = get_chapter(db, chapter_id)
    stamp = to_db_time(at)
    first = fetch_one(
        db, "SELECT min(valid_from) AS t FROM versions WHERE chapter_id = ?", (chapter_id,)
    )
    first_at = first["t"] if first else None
    next_seen = _first_good_after(db, chapter_id, stamp)
    if first_at is None or stamp < first_at:
        when = f" (first observed {first_at})" if first_at else ""
        return AsOf(
            chapter_id, at, None, next_observed_at=next_seen, reason=f"not yet observed{when}"
        )
    row = fetch_one(
        db,
        "SELECT * FROM versions WHERE chapter_id = ? AND valid_from <= ?"
        " AND (valid_to IS NULL OR valid_to > ?) ORDER BY valid_from DESC, id DESC LIMIT 1",
        (chapter_id, stamp, stamp),
    )
    if row is None:
        gone = chapter.removed_at
        reason = f"removed at {to_db_time(gone)}" if gone else "no version valid at that time"
        return AsOf(chapter_id, at, None, next_observed_at=next_seen, reason=reason)
    seen = fetch_one(
        db,
        "SELECT max(observed_at) AS t FROM observations WHERE chapter_id = ? AND role = 'chapter'"
        f" AND outcome IN {GOOD_OUTCOMES} AND observed_at >= ? AND observed_at <= ?",
        (chapter_id, row["valid_from"], stamp),
    )
    seen_until = (seen["t"] if seen else None) or row["valid_from"]
    return AsOf(
        chapter_id=chapter_id,
        at=at,
        version=load_version(db, row),
        seen_from=from_db_time(row["valid_from"]),
        seen_until=from_db_time(seen_until),
        next_change_at=opt_from_db_time(row["valid_to"]),
        next_observed_at=next_seen,
        reason="",
    )


def manual_as_of(db: Database, manual_id: int, at: datetime) -> tuple[ChapterState, ...]:
    """Each chapter of the manual that had a version at ``at`` (removed/renamed ones too)."""
    rows = fetch_all(db, "SELECT * FROM chapters WHERE manual_id = ?", (manual_id,))
    states = [ChapterState(chapter_row(r), version_as_of(db, r["id"], at)) for r in rows]
    present = [s for s in states if s.as_of.version is not None]
    present.sort(key=lambda s: (number_key(s.chapter.number), s.chapter.title.casefold()))
    return tuple(present)


def _resolve_lineage(
    by_version: list[tuple[dict[str, Any], list[dict[str, Any]]]], ref: str
) -> str:
    """Find ``ref`` (lineage id, number, title or unique title part), newest version first."""
    wanted = " ".join(ref.split()).casefold()
    if wanted.startswith("section "):
        wanted = wanted.removeprefix("section ").strip()
    tests: tuple[Callable[[dict[str, Any]], bool], ...] = (
        lambda s: s["lineage_id"] == ref,
        lambda s: (s["number"] or "").casefold() == wanted,
        lambda s: s["title"].strip().casefold() == wanted,
    )
    for _version, sections in reversed(by_version):
        for test in tests:
            hits = [s for s in sections if test(s)]
            if hits:
                return str(hits[0]["lineage_id"])
        partial = {s["lineage_id"] for s in sections if wanted in s["title"].casefold()}
        if len(partial) == 1:
            return str(partial.pop())
        if len(partial) > 1:
            raise AmbiguousError(f"section {ref!r} matches {len(partial)} sections")
    raise NotFoundError(f"no section {ref!r} in any version of this chapter")


def _sections_of(db: Database, version: dict[str, Any]) -> list[dict[str, Any]]:
    """A version's sections: lineage, number and title from ``sections``, the text from the
    version's content (``sections.text`` is empty in rows written since schema 6)."""
    rows = fetch_all(
        db,
        "SELECT lineage_id, number, title FROM sections WHERE version_id = ? ORDER BY ordinal",
        (version["id"],),
    )
    texts = [section.text for section in version_chapter(db, version).sections]
    if len(texts) != len(rows):
        raise IntegrityError(
            f"version {version['id']}: {len(rows)} section rows but {len(texts)} sections stored"
        )
    return [{**row, "text": text} for row, text in zip(rows, texts, strict=True)]


def section_timeline(db: Database, chapter_id: int, ref: str) -> tuple[SectionEvent, ...]:
    """A section's state in each version, following its lineage id across renumbering."""
    get_chapter(db, chapter_id)
    versions = fetch_all(
        db, "SELECT * FROM versions WHERE chapter_id = ? ORDER BY valid_from, id", (chapter_id,)
    )
    by_version = [(v, _sections_of(db, v)) for v in versions]
    lineage = _resolve_lineage(by_version, ref)
    events: list[SectionEvent] = []
    previous: tuple[Any, ...] | None = None
    for version, sections in by_version:
        match = next((s for s in sections if s["lineage_id"] == lineage), None)
        if match is None and not events:
            continue
        state = (match["number"], match["title"], match["text"]) if match else None
        events.append(
            SectionEvent(
                version_id=version["id"],
                valid_from=from_db_time(version["valid_from"]),
                valid_to=opt_from_db_time(version["valid_to"]),
                lineage_id=lineage,
                present=match is not None,
                number=match["number"] if match else None,
                title=match["title"] if match else "",
                text=match["text"] if match else "",
                changed=not events or state != previous,
            )
        )
        previous = state
    return tuple(events)
