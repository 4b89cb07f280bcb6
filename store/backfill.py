"""Backfill from archived captures: read WARC files (warcio) into pages with their original
capture dates, and match each capture to a manual's contents page or a known chapter.

Only 2xx ``response`` records and ``revisit`` records whose payload was read earlier in the
same import become captures; anything else is skipped with a reason. The processing of the
captures (extract, version, diff) is done by ``amendwatch.audit.import_warc``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_datetime

from amendwatch.errors import InputError
from scraper.models import Chapter, Page
from store.models import Manual, StoredVersion
from store.rows import fetch_one, to_db_time, write_transaction
from store.versions import _insert_sections, _lineage_for, insert_version_row

ORIG_PREFIX = "x-archive-orig-"


@dataclass(frozen=True)
class Capture:
    page: Page
    source: str  # "FILE#offset" of the record it came from


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


@dataclass(frozen=True)
class Target:
    """Where a capture belongs: a role, its manual, and its chapter when already known."""

    role: str  # contents | amendments | chapter
    manual_id: int
    chapter_id: int | None


def _headers(record: Any) -> tuple[tuple[str, str], ...]:
    pairs = []
    for key, value in record.http_headers.headers:
        name = str(key)
        if name.lower().startswith(ORIG_PREFIX):
            name = name[len(ORIG_PREFIX) :]
        pairs.append((name, str(value)))
    return tuple(pairs)


def _capture_time(record: Any) -> datetime:
    value = record.rec_headers.get_header("WARC-Date")
    moment: datetime = iso_date_to_datetime(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _page(record: Any, body: bytes) -> Page:
    url = str(record.rec_headers.get_header("WARC-Target-URI"))
    return Page(
        url=url,
        final_url=url,
        status=int(record.http_headers.get_statuscode()),
        headers=_headers(record),
        body=body,
        fetched_at=_capture_time(record),
    )


def _read_one(path: Path, bodies: dict[str, bytes]) -> tuple[list[Capture], list[Skipped]]:
    captures: list[Capture] = []
    skipped: list[Skipped] = []
    with path.open("rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            if record.rec_type not in ("response", "revisit") or record.http_headers is None:
                continue
            digest = record.rec_headers.get_header("WARC-Payload-Digest") or ""
            body = record.content_stream().read() if record.rec_type == "response" else b""
            source = f"{path.name}#{iterator.get_record_offset()}"  # after reading: it skips
            if record.rec_type == "response":
                bodies.setdefault(digest, body)
            elif digest in bodies:
                body = bodies[digest]
            else:
                skipped.append(Skipped(source, "revisit of a payload not in these files"))
                continue
            page = _page(record, body)
            if not 200 <= page.status < 300 and record.rec_type == "response":
                skipped.append(Skipped(source, f"HTTP {page.status}"))
                continue
            captures.append(Capture(page, source))
    return captures, skipped


def read_warcs(paths: Sequence[Path]) -> tuple[list[Capture], list[Skipped]]:
    """The captures of the WARC files, oldest first (stable for equal times)."""
    bodies: dict[str, bytes] = {}
    captures: list[Capture] = []
    skipped: list[Skipped] = []
    for path in paths:
        try:
            found, missed = _read_one(path, bodies)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}", "check the path") from exc
        except ArchiveLoadFailed as exc:
            raise InputError(
                f"{path} is not a readable WARC file ({exc})", "give WARC or WARC.gz files"
            ) from exc
        captures.extend(found)
        skipped.extend(missed)
    captures.sort(key=lambda c: c.page.fetched_at)
    return captures, skipped


def match_capture(db: Database, url: str, manuals: Iterable[Manual]) -> Target | None:
    """The contents/amendments page or the known chapter that ``url`` is, among ``manuals``."""
    chosen = list(manuals)
    for manual in chosen:
        if url == manual.contents_url:
            return Target("contents", manual.id, None)
        if url == manual.amendments_url:
            return Target("amendments", manual.id, None)
    ids = [manual.id for manual in chosen]
    if not ids:
        return None
    marks = ", ".join("?" for _ in ids)
    row = fetch_one(
        db,
        f"SELECT id, manual_id FROM chapters WHERE url = ? AND manual_id IN ({marks})"
        " ORDER BY id LIMIT 1",
        [url, *ids],
    )
    return None if row is None else Target("chapter", row["manual_id"], row["id"])


def already_stored(db: Database, page: Page) -> bool:
    """Whether this exact capture (URL, time, body) is already an observation (re-import)."""
    digest = page.body_hash
    row = fetch_one(
        db,
        "SELECT 1 FROM observations WHERE url = ? AND observed_at = ? AND body_sha256 = ?",
        (page.url, to_db_time(page.fetched_at), digest),
    )
    return row is not None


def chapter_span(db: Database, chapter_id: int) -> tuple[datetime, datetime] | None:
    """(first, last) times of the chapter's observations, or None when it has none."""
    row = fetch_one(
        db,
        "SELECT min(observed_at) AS first, max(observed_at) AS last FROM observations"
        " WHERE chapter_id = ? AND role = 'chapter'",
        (chapter_id,),
    )
    if row is None or row["first"] is None:
        return None
    return (
        datetime.fromisoformat(row["first"]).astimezone(UTC),
        datetime.fromisoformat(row["last"]).astimezone(UTC),
    )


# history before the first monitored version ---------------------------------------------
def first_version_id(db: Database, chapter_id: int) -> int | None:
    row = fetch_one(
        db,
        "SELECT id FROM versions WHERE chapter_id = ? ORDER BY valid_from, id LIMIT 1",
        (chapter_id,),
    )
    return None if row is None else int(row["id"])


def insert_history_version(
    db: Database,
    chapter_id: int,
    chapter: Chapter,
    *,
    observation_id: int,
    observed_at: datetime,
    valid_to: datetime,
    previous: StoredVersion | None,
    pairs: Sequence[tuple[int, int]],
) -> int:
    """Store an imported version valid over [observed_at, valid_to), before the chapter's
    monitored history; ``previous`` (the imported version before it) is closed at
    ``observed_at``. Returns the new version id."""
    stamp = to_db_time(observed_at)
    with write_transaction(db):
        version_id = insert_version_row(
            db,
            chapter_id,
            chapter,
            valid_from=stamp,
            valid_to=to_db_time(valid_to),
            observation_id=observation_id,
        )
        if previous is not None:
            db.execute("UPDATE versions SET valid_to = ? WHERE id = ?", (stamp, previous.id))
        lineage = _lineage_for(chapter_id, version_id, len(chapter.sections), previous, pairs)
        _insert_sections(db, version_id, chapter, lineage)
        db.execute(
            "UPDATE chapters SET first_seen = min(first_seen, ?) WHERE id = ?", (stamp, chapter_id)
        )
    return version_id


def join_history(
    db: Database, imported: Sequence[int], head: StoredVersion, mapping: dict[str, str]
) -> None:
    """Give the imported versions' sections the lineage ids of the monitored history
    (``mapping``: imported lineage id -> head's); when the last imported version has the
    head's content, fold it into the head (the head was simply seen earlier)."""
    marks = ", ".join("?" for _ in imported)
    with write_transaction(db):
        db.conn.executemany(
            f"UPDATE sections SET lineage_id = ? WHERE lineage_id = ? AND version_id IN ({marks})",
            [(new, old, *imported) for old, new in mapping.items()],
        )
        last = fetch_one(db, "SELECT * FROM versions WHERE id = ?", (imported[-1],))
        if last is None or last["content_hash"] != head.content_hash:
            return
        db.execute(
            "UPDATE versions SET valid_from = ?, last_seen = max(last_seen, ?) WHERE id = ?",
            (last["valid_from"], last["last_seen"], head.id),
        )
        db.execute("UPDATE changes SET new_version_id = ? WHERE new_version_id = ?",
                   (head.id, last["id"]))  # fmt: skip
        db.execute("DELETE FROM sections WHERE version_id = ?", (last["id"],))
        db.execute("DELETE FROM versions WHERE id = ?", (last["id"],))
