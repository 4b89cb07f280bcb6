"""Chapters, their versions (with section lineage) and the changes between versions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from amendwatch.errors import InputError, NotFoundError
from differ.models import ChapterDiff
from scraper.models import Chapter, ChapterRef
from store.codec import (
    chapter_from_json,
    dumps,
    links_from_json,
    links_to_json,
    pack_content,
    pack_diff,
    unpack_content,
)
from store.models import ChapterRow, StoredVersion
from store.observations import get_body
from store.rows import (
    fetch_all,
    fetch_one,
    from_db_time,
    insert,
    opt_from_db_time,
    shorten,
    to_db_time,
    write_transaction,
)


def chapter_row(row: dict[str, Any]) -> ChapterRow:
    return ChapterRow(
        id=row["id"],
        manual_id=row["manual_id"],
        url=row["url"],
        title=row["title"],
        number=row["number"],
        first_seen=from_db_time(row["first_seen"]),
        removed_at=opt_from_db_time(row["removed_at"]),
        part=row["part"],
        last_listed=opt_from_db_time(row["last_listed"]),
        missing_count=row["missing_count"],
    )


def get_chapter(db: Database, chapter_id: int) -> ChapterRow:
    row = fetch_one(db, "SELECT * FROM chapters WHERE id = ?", (chapter_id,))
    if row is None:
        raise NotFoundError(f"no chapter with id {chapter_id}")
    return chapter_row(row)


def upsert_chapter(db: Database, manual_id: int, ref: ChapterRef, now: datetime) -> ChapterRow:
    """Insert the listed chapter, or refresh its title/number/part and listing time."""
    return upsert_chapters(db, manual_id, [ref], now)[0]


def upsert_chapters(
    db: Database, manual_id: int, refs: Sequence[ChapterRef], now: datetime
) -> list[ChapterRow]:
    """``upsert_chapter`` for a whole listing, in one transaction and a handful of statements
    (a chapter listed as it was before only has its listing time moved, all in one UPDATE);
    rows in the order of ``refs`` (a URL listed twice is stored once)."""
    stamp = to_db_time(now)
    urls = list(dict.fromkeys(ref.url for ref in refs))
    with write_transaction(db):
        stored = _listed_rows(db, manual_id, urls)
        same: list[int] = []
        for ref in refs:
            row = stored.get(ref.url)
            if row is None:
                stored[ref.url] = {"id": None}  # a URL listed twice is inserted once
                insert(
                    db,
                    "INSERT INTO chapters (manual_id, url, title, number, part, first_seen,"
                    " last_listed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (manual_id, ref.url, ref.title, ref.number, ref.part, stamp, stamp),
                )
            elif row["id"] is None:
                continue
            elif _listed_as_before(row, ref):
                same.append(row["id"])
            else:
                db.execute(
                    "UPDATE chapters SET title = ?, number = ?, part = ?, last_listed = ?,"
                    " removed_at = NULL, missing_count = 0 WHERE id = ?",
                    (ref.title, ref.number, ref.part, stamp, row["id"]),
                )
        for start in range(0, len(same), _CHUNK):
            ids = same[start : start + _CHUNK]
            db.execute(
                f"UPDATE chapters SET last_listed = ? WHERE id IN ({', '.join('?' * len(ids))})",
                (stamp, *ids),
            )
        rows = _listed_rows(db, manual_id, urls)
    return [chapter_row(rows[url]) for url in urls]


_CHUNK = 500  # ids or URLs per statement (SQLite allows 32,766 parameters, older builds 999)


def _listed_rows(db: Database, manual_id: int, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The manual's chapter rows with these URLs, by URL (only those: a one-chapter upsert
    reads one row, however large the manual)."""
    rows: dict[str, dict[str, Any]] = {}
    for start in range(0, len(urls), _CHUNK):
        chunk = urls[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT * FROM chapters WHERE manual_id = ? AND url IN ({marks})"
        rows.update((row["url"], row) for row in fetch_all(db, sql, (manual_id, *chunk)))
    return rows


def _listed_as_before(row: dict[str, Any], ref: ChapterRef) -> bool:
    kept = (row["title"], row["number"], row["part"], row["removed_at"], row["missing_count"])
    return kept == (ref.title, ref.number, ref.part, None, 0)


def note_missing(db: Database, chapter_id: int) -> int:
    """Count one more contents listing without this chapter; returns the count so far."""
    db.execute("UPDATE chapters SET missing_count = missing_count + 1 WHERE id = ?", (chapter_id,))
    return get_chapter(db, chapter_id).missing_count


def mark_removed(db: Database, chapter_id: int, at: datetime) -> None:
    """The chapter is gone from the manual: record when, and close its current version."""
    stamp = to_db_time(at)
    with write_transaction(db):
        get_chapter(db, chapter_id)
        db.execute("UPDATE chapters SET removed_at = ? WHERE id = ?", (stamp, chapter_id))
        db.execute(
            "UPDATE versions SET valid_to = ? WHERE chapter_id = ? AND valid_to IS NULL",
            (stamp, chapter_id),
        )


def content_dictionary(db: Database, row: dict[str, Any]) -> bytes | None:
    """The raw bytes a version's content was compressed with (its capture), None when the
    content is standalone (older rows, versions without a capture)."""
    sha = row.get("content_dict")
    return None if sha is None else get_body(db, str(sha))


def version_content(db: Database, row: dict[str, Any]) -> str:
    """The content JSON (``Chapter.content_json()``) of a ``versions`` row: every reader of
    ``versions.content`` goes through here (or ``version_chapter``)."""
    return unpack_content(row["content"], content_dictionary(db, row))


def version_chapter(db: Database, row: dict[str, Any]) -> Chapter:
    """The Chapter of a ``versions`` row (its sections' text and links come from here; the
    ``sections`` rows hold only numbers, titles and lineage)."""
    return chapter_from_json(
        row["content"],
        str(row["url"]),
        links_from_json(json.loads(str(row["links"]))),
        content_dictionary(db, row),
    )


def load_version(db: Database, row: dict[str, Any]) -> StoredVersion:
    sections = fetch_all(
        db, "SELECT lineage_id FROM sections WHERE version_id = ? ORDER BY ordinal", (row["id"],)
    )
    return StoredVersion(
        id=row["id"],
        chapter_id=row["chapter_id"],
        chapter=version_chapter(db, row),
        content_hash=row["content_hash"],
        valid_from=from_db_time(row["valid_from"]),
        valid_to=opt_from_db_time(row["valid_to"]),
        last_seen=from_db_time(row["last_seen"]),
        observation_id=row["observation_id"],
        lineage=tuple(s["lineage_id"] for s in sections),
        derived_by=row["derived_by"],
    )


def latest_version(db: Database, chapter_id: int) -> StoredVersion | None:
    row = fetch_one(
        db,
        "SELECT * FROM versions WHERE chapter_id = ? ORDER BY valid_from DESC, id DESC LIMIT 1",
        (chapter_id,),
    )
    return None if row is None else load_version(db, row)


def _lineage_for(
    chapter_id: int,
    version_id: int,
    count: int,
    previous: StoredVersion | None,
    pairs: Sequence[tuple[int, int]],
) -> list[str]:
    lineage = [f"{chapter_id}:{version_id}:{ordinal}" for ordinal in range(count)]
    if previous is None:
        return lineage
    for old_index, new_index in pairs:
        if not (0 <= old_index < len(previous.lineage) and 0 <= new_index < count):
            raise InputError(
                f"section pair ({old_index}, {new_index}) is out of range",
                hint="pass the pairs of the diff between `previous` and this chapter",
            )
        lineage[new_index] = previous.lineage[old_index]
    return lineage


def capture_of(db: Database, observation_id: int | None) -> tuple[str, bytes] | None:
    """(hash, raw bytes) of an observation's body: the dictionary of its version's content."""
    if observation_id is None:
        return None
    row = fetch_one(db, "SELECT body_sha256 FROM observations WHERE id = ?", (observation_id,))
    if row is None or row["body_sha256"] is None:
        return None
    return (str(row["body_sha256"]), get_body(db, str(row["body_sha256"]), cached=True))


def insert_version_row(
    db: Database,
    chapter_id: int,
    chapter: Chapter,
    *,
    valid_from: str,
    observation_id: int | None,
    valid_to: str | None = None,
    derived_by: str = "extract",
    fingerprint: str | None = None,
) -> int:
    """Insert the ``versions`` row of ``chapter`` (content compressed with its capture's raw
    bytes as the dictionary), last seen when it became valid; returns its id. Sections and
    neighbouring intervals are the caller's."""
    capture = capture_of(db, observation_id)
    return insert(
        db,
        "INSERT INTO versions (chapter_id, content_hash, title, url, content, links,"
        " valid_from, valid_to, last_seen, observation_id, derived_by, fingerprint,"
        " content_dict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            chapter_id,
            chapter.content_hash,
            chapter.title,
            chapter.url,
            pack_content(chapter, capture[1] if capture else None),
            dumps(links_to_json(chapter.links)),
            valid_from,
            valid_to,
            valid_from,
            observation_id,
            derived_by,
            fingerprint,
            capture[0] if capture else None,
        ),
    )


def add_version(
    db: Database,
    chapter_id: int,
    chapter: Chapter,
    *,
    observation_id: int | None,
    observed_at: datetime,
    previous: StoredVersion | None,
    pairs: Sequence[tuple[int, int]] = (),
    derived_by: str = "extract",
    fingerprint: str | None = None,
) -> StoredVersion:
    """Store a new version valid from ``observed_at``; close ``previous`` at that time.

    Sections paired (old index, new index) with ``previous`` inherit its lineage ids.
    ``fingerprint`` is the cheap fingerprint of the capture the version came from
    (``scraper.fingerprint``): a later page with the same one needs no full extraction.
    """
    stamp = to_db_time(observed_at)
    with write_transaction(db):
        _check_not_before_latest(db, chapter_id, stamp)
        version_id = insert_version_row(
            db,
            chapter_id,
            chapter,
            valid_from=stamp,
            observation_id=observation_id,
            derived_by=derived_by,
            fingerprint=fingerprint,
        )
        db.execute(
            "UPDATE versions SET valid_to = ? WHERE chapter_id = ? AND valid_to IS NULL"
            " AND id != ?",
            (stamp, chapter_id, version_id),
        )
        lineage = _lineage_for(chapter_id, version_id, len(chapter.sections), previous, pairs)
        _insert_sections(db, version_id, chapter, lineage)
    at = from_db_time(stamp)  # what load_version would read back, without decompressing it
    return StoredVersion(
        id=version_id,
        chapter_id=chapter_id,
        chapter=chapter,
        content_hash=chapter.content_hash,
        valid_from=at,
        valid_to=None,
        last_seen=at,
        observation_id=observation_id,
        lineage=tuple(lineage),
        derived_by=derived_by,
    )


def _check_not_before_latest(db: Database, chapter_id: int, stamp: str) -> None:
    row = fetch_one(
        db, "SELECT max(valid_from) AS latest FROM versions WHERE chapter_id = ?", (chapter_id,)
    )
    if row is not None and row["latest"] is not None and stamp < row["latest"]:
        raise InputError(
            f"cannot add a version at {stamp}: the chapter already has one from {row['latest']}",
            hint="observations may not go back in time for a chapter",
        )


def _insert_sections(db: Database, version_id: int, chapter: Chapter, lineage: list[str]) -> None:
    """The sections' numbers, titles and lineage; their text and links stay in the version's
    content only (``text = ''``, ``links = '[]'``; rows of older releases still hold them)."""
    db.conn.executemany(
        "INSERT INTO sections (version_id, ordinal, number, title, level, path, text, links,"
        " lineage_id) VALUES (?, ?, ?, ?, ?, ?, '', '[]', ?)",
        [
            (
                version_id,
                ordinal,
                section.number,
                section.title,
                section.level,
                dumps(list(section.path)),
                lineage[ordinal],
            )
            for ordinal, section in enumerate(chapter.sections)
        ],
    )


def set_fingerprint(db: Database, version_id: int, fingerprint: str) -> None:
    """Remember the fingerprint of a version's capture (computed once, for older versions)."""
    db.execute("UPDATE versions SET fingerprint = ? WHERE id = ?", (fingerprint, version_id))


def mark_seen(db: Database, version_id: int, observed_at: datetime) -> None:
    """The version was observed again (unchanged): move its ``last_seen`` forward."""
    stamp = to_db_time(observed_at)
    cursor = db.execute(
        "UPDATE versions SET last_seen = max(last_seen, ?) WHERE id = ?", (stamp, version_id)
    )
    if cursor.rowcount == 0:
        raise NotFoundError(f"no version with id {version_id}")


def change_summary(diff: ChapterDiff) -> str:
    """One line: the kind of change and the sections it touched."""
    head = {"new": "new chapter", "removed": "chapter removed"}.get(diff.kind, diff.kind)
    if diff.kind == "renamed" and diff.old_title and diff.new_title:
        head = f"renamed from {diff.old_title!r} to {diff.new_title!r}"
    if diff.revised_throughout:
        head += ", revised throughout"
    parts = [
        f"{'/'.join(sorted(change.kinds))} {change.section.label}"
        for change in diff.sections
        if not change.cosmetic
    ]
    return shorten(f"{head}: {'; '.join(parts)}" if parts else head, 200)


def record_change(
    db: Database,
    diff: ChapterDiff,
    *,
    chapter_id: int,
    detected_at: datetime,
    run_id: int | None,
    summary: str | None = None,
) -> int:
    """Store the ChapterDiff with full fidelity, compressed (``store.codec.pack_diff``);
    returns the change id."""
    return insert(
        db,
        "INSERT INTO changes (chapter_id, run_id, detected_at, kind, old_version_id,"
        " new_version_id, old_title, new_title, revised_throughout, diff, summary)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            chapter_id,
            run_id,
            to_db_time(detected_at),
            diff.kind,
            diff.old_version,
            diff.new_version,
            diff.old_title,
            diff.new_title,
            1 if diff.revised_throughout else 0,
            pack_diff(diff),
            change_summary(diff) if summary is None else summary,
        ),
    )
