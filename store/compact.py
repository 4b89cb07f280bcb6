"""Bring rows written before compact storage (migration 0006) to the compact form.

Migration 0006 made new rows compact but left older ones as they were. ``compact`` rewrites:

- ``bodies`` stored whole that are close to an earlier capture of the same URL become zstd
  deltas against it (the URL's latest body stored whole before them, as a new capture would
  be stored); a body that is the base of a delta always stays whole; zlib bodies become zstd;
- ``versions.content`` stored as text or compressed standalone is compressed with the
  version's own capture as the dictionary (``versions.content_dict``);
- ``sections.text``/``links`` that repeat the version's content become '' and '[]' (a version
  whose section rows disagree with its content is kept as it is and counted as kept);
- ``changes.diff`` stored as JSON text is stored zstd-compressed (the same text).

Each batch is one transaction and every rewritten row is read back (and compared with what it
held before) inside it, so an interrupted compaction leaves a consistent database and can be run
again; a second run changes nothing. Bodies keep their SHA-256, so the observations' hash chain
is untouched. Finally ``VACUUM`` shrinks the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TypeVar

from sqlite_utils import Database

from amendwatch.errors import IntegrityError, StoreError
from store.codec import CONTENT_LEVEL, DIFF_LEVEL, compress, diff_json, links_to_json
from store.observations import BODY_LEVEL, COMPRESSION, DELTA_RATIO, base_bytes, get_body
from store.rows import fetch_all, fetch_one, write_transaction
from store.versions import capture_of, version_chapter, version_content

BATCH_SIZE = 200  # rows (bodies, versions, changes) or versions' sections per transaction
KINDS = ("bodies", "versions", "sections", "changes")

Progress = Callable[[str, int, int], None]  # (kind, items done, items to look at)
Item = TypeVar("Item")


@dataclass(frozen=True)
class KindResult:
    """What compaction did to one kind of row: rows rewritten, their stored bytes before and
    after, and old-style rows deliberately kept as they were."""

    kind: str
    rewritten: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    kept: int = 0

    def plus(self, other: KindResult) -> KindResult:
        return replace(
            self,
            rewritten=self.rewritten + other.rewritten,
            bytes_before=self.bytes_before + other.bytes_before,
            bytes_after=self.bytes_after + other.bytes_after,
            kept=self.kept + other.kept,
        )

    def describe(self) -> str:
        line = (
            f"{self.kind}: {self.rewritten} rewritten,"
            f" {megabytes(self.bytes_before)} -> {megabytes(self.bytes_after)}"
        )
        if self.kept:
            line += f" ({self.kept} kept: their text differs from the version's content)"
        return line


@dataclass(frozen=True)
class CompactResult:
    """Per kind what was rewritten, and the database's size before and after (bytes)."""

    bodies: KindResult
    versions: KindResult
    sections: KindResult
    changes: KindResult
    size_before: int
    size_after: int

    @property
    def kinds(self) -> tuple[KindResult, ...]:
        return (self.bodies, self.versions, self.sections, self.changes)

    @property
    def rewritten(self) -> int:
        return sum(kind.rewritten for kind in self.kinds)


def megabytes(size: int) -> str:
    """A size for people: "0.42 MB", or "3.1 kB" below a tenth of a megabyte."""
    if size < 100_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.2f} MB"


def database_size(db: Database) -> int:
    """The database's size in bytes (its pages; the file's size once checkpointed)."""
    (pages,) = db.conn.execute("PRAGMA page_count").fetchone()
    (page_size,) = db.conn.execute("PRAGMA page_size").fetchone()
    return int(pages) * int(page_size)


def compact(
    db: Database, *, progress: Progress | None = None, batch_size: int = BATCH_SIZE
) -> CompactResult:
    """Rewrite old-style rows into the compact form (see the module), then VACUUM."""
    if batch_size < 1:
        raise StoreError(f"batch size {batch_size} is below 1", hint="give a positive size")
    with _translated():
        before = database_size(db)
        walk = _BodyWalk(db)
        results = (
            _batches(db, "bodies", _body_items(db), walk, batch_size, progress),
            _batches(db, "versions", _ids(db, _OLD_VERSIONS), _version, batch_size, progress),
            _batches(db, "sections", _ids(db, _FILLED_SECTIONS), _sections, batch_size, progress),
            _batches(db, "changes", _ids(db, _TEXT_DIFFS), _change, batch_size, progress),
        )
        _vacuum(db)
        return CompactResult(*results, size_before=before, size_after=database_size(db))


_OLD_VERSIONS = "SELECT id FROM versions WHERE content_dict IS NULL ORDER BY id"
_FILLED_SECTIONS = (
    "SELECT DISTINCT version_id FROM sections WHERE text != '' OR links != '[]' ORDER BY version_id"
)
_TEXT_DIFFS = "SELECT id FROM changes WHERE typeof(diff) = 'text' ORDER BY id"


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(
            f"compaction stopped: {exc}",
            hint="the finished batches are kept and nothing is lost; fix the cause (disk space,"
            " another writer) and run `amendwatch compact` again",
        ) from exc


def _ids(db: Database, sql: str) -> list[int]:
    return [int(row[0]) for row in db.conn.execute(sql)]


def _batches(
    db: Database,
    kind: str,
    items: Sequence[Item],
    handle: Callable[[Database, Item], KindResult],
    batch_size: int,
    progress: Progress | None,
) -> KindResult:
    """Hand ``items`` to ``handle`` in batches, one write transaction each."""
    total = KindResult(kind)
    for start in range(0, len(items), batch_size):
        with write_transaction(db):
            for item in items[start : start + batch_size]:
                total = total.plus(handle(db, item))
        if progress is not None:
            progress(kind, min(start + batch_size, len(items)), len(items))
    return total


def _vacuum(db: Database) -> None:
    """Rebuild the file without the freed pages; in WAL mode, checkpoint so it shrinks now."""
    db.conn.execute("VACUUM")
    if not db.memory:
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# bodies ----------------------------------------------------------------------------------


def _body_items(db: Database) -> list[tuple[str, str]]:
    """(url, sha256) of every stored body, each URL's bodies in the order first observed;
    bodies no observation refers to come last with url ''."""
    items = [
        (str(row[0]), str(row[1]))
        for row in db.conn.execute(
            "SELECT url, body_sha256 FROM observations WHERE body_sha256 IS NOT NULL"
            " GROUP BY url, body_sha256 ORDER BY url, min(observed_at), min(id)"
        )
    ]
    orphans = db.conn.execute(
        "SELECT sha256 FROM bodies WHERE sha256 NOT IN"
        " (SELECT body_sha256 FROM observations WHERE body_sha256 IS NOT NULL) ORDER BY sha256"
    )
    return items + [("", str(row[0])) for row in orphans]


class _BodyWalk:
    """Walks each URL's bodies in capture order, as ``store_capture`` would have stored them:
    a body stored whole becomes a delta against the URL's latest whole body before it when
    the delta is small (under 1/``DELTA_RATIO``); otherwise it stays whole and is the base of
    the URL's later bodies. A body that is the base of a delta is never made a delta."""

    def __init__(self, db: Database) -> None:
        self.bases = {
            str(row[0])
            for row in db.conn.execute(
                "SELECT DISTINCT base_sha256 FROM bodies WHERE base_sha256 IS NOT NULL"
            )
        }
        self.latest: dict[str, str] = {}  # url -> its latest body stored whole

    def __call__(self, db: Database, item: tuple[str, str]) -> KindResult:
        url, sha = item
        row = fetch_one(
            db,
            "SELECT compression, base_sha256, length(data) AS stored FROM bodies WHERE sha256 = ?",
            (sha,),
        )
        if row is None or row["base_sha256"] is not None:
            return KindResult("bodies")  # already a delta (or gone)
        raw = get_body(db, sha)
        data, base = self._encode(db, sha, raw, self.latest.get(url) if url else None)
        if base is None and url:
            self.latest[url] = sha
        if data is None and row["compression"] == COMPRESSION:
            return KindResult("bodies")
        data = data if data is not None else compress(raw, BODY_LEVEL)
        db.execute(
            "UPDATE bodies SET compression = ?, data = ?, base_sha256 = ? WHERE sha256 = ?",
            (COMPRESSION, data, base, sha),
        )
        if base is not None:
            self.bases.add(base)
        if get_body(db, sha) != raw:
            raise IntegrityError(f"body {sha[:12]}: re-encoded bytes do not read back")
        return KindResult("bodies", 1, int(row["stored"]), len(data))

    def _encode(
        self, db: Database, sha: str, raw: bytes, base: str | None
    ) -> tuple[bytes | None, str | None]:
        """(delta, base) when ``raw`` is small as a delta against ``base``, else (None, None)."""
        if base is None or base == sha or sha in self.bases:
            return None, None
        base_raw = base_bytes(db, sha, base, cached=True)  # refuses a base that is a delta
        assert base_raw is not None
        delta = compress(raw, BODY_LEVEL, base_raw)
        if len(delta) * DELTA_RATIO < len(raw):
            return delta, base
        return None, None


# versions, sections, changes ---------------------------------------------------------------


def _stored_size(value: object) -> int:
    if isinstance(value, bytes):
        return len(value)
    return len(str(value).encode("utf-8"))


def _version(db: Database, version_id: int) -> KindResult:
    """Compress a version's content with its capture as the dictionary (standalone when it
    has no capture); kept when that is no smaller than compressed content already stored."""
    row = fetch_one(db, "SELECT * FROM versions WHERE id = ?", (version_id,))
    if row is None or row["content_dict"] is not None:
        return KindResult("versions")
    before = version_content(db, row)
    capture = capture_of(db, row["observation_id"])
    packed = compress(before.encode("utf-8"), CONTENT_LEVEL, capture[1] if capture else None)
    if isinstance(row["content"], bytes) and len(packed) >= len(row["content"]):
        return KindResult("versions")
    db.execute(
        "UPDATE versions SET content = ?, content_dict = ? WHERE id = ?",
        (packed, capture[0] if capture else None, version_id),
    )
    after = fetch_one(db, "SELECT * FROM versions WHERE id = ?", (version_id,))
    if after is None or version_content(db, after) != before:
        raise IntegrityError(f"version {version_id}: re-compressed content does not read back")
    return KindResult("versions", 1, _stored_size(row["content"]), len(packed))


def _sections(db: Database, version_id: int) -> KindResult:
    """Empty the text and links of a version's section rows when its content holds the same;
    a version whose rows disagree with its content is kept as it is."""
    rows = fetch_all(
        db,
        "SELECT ordinal, text, links FROM sections WHERE version_id = ? ORDER BY ordinal",
        (version_id,),
    )
    filled = [row for row in rows if row["text"] != "" or row["links"] != "[]"]
    version = fetch_one(db, "SELECT * FROM versions WHERE id = ?", (version_id,))
    if not filled or version is None:
        return KindResult("sections")
    stored = version_chapter(db, version).sections
    same = [row["ordinal"] for row in rows] == list(range(len(stored))) and all(
        row["text"] == section.text and json.loads(row["links"]) == links_to_json(section.links)
        for row, section in zip(rows, stored, strict=False)
    )
    if not same:
        return KindResult("sections", kept=len(filled))
    db.execute("UPDATE sections SET text = '', links = '[]' WHERE version_id = ?", (version_id,))
    size = sum(_stored_size(row["text"]) + _stored_size(row["links"]) for row in filled)
    return KindResult("sections", len(filled), size, len(filled) * len("[]"))


def _change(db: Database, change_id: int) -> KindResult:
    """Store a change's JSON diff text zstd-compressed (the same text, byte for byte)."""
    row = fetch_one(db, "SELECT diff FROM changes WHERE id = ?", (change_id,))
    if row is None or not isinstance(row["diff"], str):
        return KindResult("changes")
    text: str = row["diff"]
    packed = compress(text.encode("utf-8"), DIFF_LEVEL)
    db.execute("UPDATE changes SET diff = ? WHERE id = ?", (packed, change_id))
    after = fetch_one(db, "SELECT diff FROM changes WHERE id = ?", (change_id,))
    if after is None or diff_json(after["diff"]) != text:
        raise IntegrityError(f"change {change_id}: re-compressed diff does not read back")
    return KindResult("changes", 1, _stored_size(text), len(packed))


def describe(result: CompactResult) -> list[str]:
    """One line per kind and one for the database's size (the CLI prints them)."""
    lines = [kind.describe() for kind in result.kinds]
    lines.append(f"database: {megabytes(result.size_before)} -> {megabytes(result.size_after)}")
    return lines
