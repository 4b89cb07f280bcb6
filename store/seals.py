"""Seals: every row that an answer relies on carries ``row_hash``, the SHA-256 of its canonical
content (a fixed column list with its id, as canonical JSON), and every write is sealed into a
hash-chained ``seals`` table that pins each written row's hash, so ``verify`` catches an edited
value, a deleted or inserted row and two rows' contents swapped (see store/sealcheck.py).

Writes are recorded by TEMP triggers that each writable connection installs (``install``):
they set ``row_hash`` (one SHA-256 per written row) and stage ``(table, id, row_hash)`` in a
per-connection TEMP table, transactional with the write. ``seal_pending`` turns the staged
entries into the next seal (at the end of each run, on closing the API, before ``verify``).
A row updated later (``versions.last_seen``/``valid_to``, a chapter's listing, a draft's
edit, ``compact`` re-encoding a row) is re-hashed and re-sealed: its latest seal holds.
A connection without the triggers (the sqlite3 shell) writes nothing that gets sealed."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from store.codec import dumps
from store.observations import GENESIS_HASH
from store.rows import write_transaction

SEALED: dict[str, tuple[str, ...]] = {
    "manuals": ("name", "contents_url", "amendments_url", "content_selector", "created_at",
                "ignore_selectors", "ignore_patterns", "allowed_hosts", "sitemap_url",
                "display_name", "headers", "cookies", "user_agent"),
    "chapters": ("manual_id", "url", "title", "number", "part", "first_seen", "last_listed",
                 "removed_at", "missing_count"),
    "versions": ("chapter_id", "content_hash", "title", "url", "content", "links", "valid_from",
                 "valid_to", "last_seen", "observation_id", "derived_by", "fingerprint",
                 "content_dict"),
    "sections": ("version_id", "ordinal", "number", "title", "level", "path", "text", "links",
                 "lineage_id"),
    "changes": ("chapter_id", "run_id", "detected_at", "kind", "old_version_id",
                "new_version_id", "old_title", "new_title", "revised_throughout", "diff",
                "summary"),
    "drafts": ("period", "manual", "category", "chapter_title", "chapter_url", "details",
               "generated_details", "sections_cited", "change_ids", "status", "updated_at",
               "updated_by"),
    "draft_events": ("draft_id", "at", "who", "action", "old_text", "new_text"),
    "runs": ("kind", "started_at", "finished_at", "status", "checked", "changed", "failed",
             "errors"),
    # migration 0012
    "derivations": ("version_id", "observation_id", "old_hash", "new_hash", "old_content",
                    "new_content", "rule", "at", "applied"),
    "unwatched": ("run_id", "manual_id", "observation_id", "observed_at", "url", "title",
                  "reason"),
    # migration 0013: the web application's sign-offs and its audit log
    "reviews": ("change_id", "status", "impact", "owner", "note", "at", "who"),
    "audit_log": ("at", "who", "action", "target", "detail", "address"),
    # migration 0014: the chapter list parsed from the latest contents capture
    "listings": ("manual_id", "body_sha256", "rules", "data"),
}  # fmt: skip
SEALED_BY_0008 = ("manuals", "chapters", "versions", "sections", "changes", "drafts",
                  "draft_events", "runs")  # fmt: skip
SEALED_BY_0012 = ("derivations", "unwatched")
SEALED_BY_0013 = ("reviews", "audit_log")
SEALED_BY_0014 = ("listings",)

SEALS_SCHEMA = [f"ALTER TABLE {table} ADD COLUMN row_hash TEXT" for table in SEALED_BY_0008] + [
    """CREATE TABLE seals (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    sealed_at TEXT NOT NULL,
    entries TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)"""
]


def row_hash(table: str, row_id: int, *values: Any) -> str:
    """SHA-256 of ``[table, id, value...]`` as compact JSON, UTF-8 kept (a BLOB as its hex)."""
    data: list[Any] = [table, row_id, *values]
    for index in range(2, len(data)):
        value = data[index]
        if isinstance(value, bytes | memoryview):
            data[index] = ["blob", bytes(value).hex()]
    return hashlib.sha256(dumps(data).encode()).hexdigest()  # a list: no keys to sort


def hash_of_row(table: str, row: dict[str, Any]) -> str:
    return row_hash(table, int(row["id"]), *(row[column] for column in SEALED[table]))


def seal_hash(seal_id: int, run_id: int | None, at: str, entries: str, prev: str) -> str:
    text = json.dumps([seal_id, run_id, at, entries, prev], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _triggers(table: str) -> list[str]:
    columns = SEALED[table]
    args = ", ".join(f"NEW.{column}" for column in columns)
    rehash = (
        f"UPDATE {table} SET row_hash = aw_row_hash('{table}', NEW.id, {args})"
        f" WHERE id = NEW.id; INSERT INTO seal_pending SELECT '{table}', id, row_hash"
        f" FROM {table} WHERE id = NEW.id;"
    )
    name = f"aw_seal_{table}"
    return [
        f"CREATE TEMP TRIGGER IF NOT EXISTS {name}_i AFTER INSERT ON main.{table}"
        f" BEGIN {rehash} END",
        f"CREATE TEMP TRIGGER IF NOT EXISTS {name}_u AFTER UPDATE OF id, {', '.join(columns)}"
        f" ON main.{table} BEGIN {rehash} END",
        f"CREATE TEMP TRIGGER IF NOT EXISTS {name}_d AFTER DELETE ON main.{table}"
        f" BEGIN INSERT INTO seal_pending VALUES ('{table}', OLD.id, NULL); END",
    ]


def install(db: Database) -> None:
    """Make this (writable) connection hash and stage every write to a sealed table."""
    db.conn.create_function("aw_row_hash", -1, _sql_row_hash, deterministic=True)
    db.conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS seal_pending"
        " (tbl TEXT NOT NULL, row_id INTEGER NOT NULL, row_hash TEXT)"
    )
    for table in SEALED:
        for sql in _triggers(table):
            db.conn.execute(sql)


def _sql_row_hash(table: str, row_id: int, *values: Any) -> str:
    return row_hash(table, row_id, *values)


def installed(db: Database) -> bool:
    found = db.conn.execute(
        "SELECT 1 FROM sqlite_temp_master WHERE type = 'table' AND name = 'seal_pending'"
    ).fetchone()
    return found is not None


def seal_pending(db: Database, run_id: int | None = None, now: datetime | None = None) -> int:
    """Append a seal over the staged writes of this connection (the latest hash of each row;
    None for a deleted row) and clear them; returns the seal id, 0 when nothing was staged."""
    if not installed(db):
        return 0
    with write_transaction(db):
        return seal_staged(db, run_id, now)


def seal_staged(db: Database, run_id: int | None = None, now: datetime | None = None) -> int:
    """``seal_pending`` inside the caller's open transaction."""
    if not installed(db):
        return 0
    latest: dict[tuple[str, int], str | None] = {}
    for tbl, row_id, digest in db.conn.execute("SELECT * FROM temp.seal_pending ORDER BY rowid"):
        latest[(tbl, row_id)] = digest
    return append_seal(db, latest.items(), run_id, now) if latest else 0


def append_seal(
    db: Database,
    entries: Iterable[tuple[tuple[str, int], str | None]],
    run_id: int | None = None,
    now: datetime | None = None,
) -> int:
    grouped: dict[str, list[list[Any]]] = {}
    for (tbl, row_id), digest in sorted(entries):
        grouped.setdefault(tbl, []).append([row_id, digest])
    text = json.dumps(grouped, sort_keys=True, separators=(",", ":"))
    last = db.conn.execute("SELECT id, hash FROM seals ORDER BY id DESC LIMIT 1").fetchone()
    seal_id, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
    digest = seal_hash(seal_id, run_id, at, text, prev)
    db.conn.execute(
        "INSERT INTO seals (id, run_id, sealed_at, entries, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (seal_id, run_id, at, text, prev, digest),
    )
    if installed(db):
        db.conn.execute("DELETE FROM temp.seal_pending")
    return seal_id


def seal_existing(db: Database, tables: Iterable[str] = SEALED) -> int:
    """Migration 0008: hash every row written before it and seal them all once."""
    entries: list[tuple[tuple[str, int], str | None]] = []
    for table in tables:
        present = set(db[table].columns_dict)  # a later migration's columns hash as NULL
        columns = [column for column in SEALED[table] if column in present]
        select = f"SELECT id, {', '.join(columns)} FROM {table} ORDER BY id"
        for row in db.query(select):
            digest = row_hash(table, int(row["id"]), *(row.get(c) for c in SEALED[table]))
            db.execute(f"UPDATE {table} SET row_hash = ? WHERE id = ?", (digest, row["id"]))
            entries.append(((table, int(row["id"])), digest))
    return append_seal(db, entries) if entries else 0


def seal_on_close(db: Database) -> None:
    """Seal what this connection wrote outside a run (manual add, draft edits, compact,
    rederive), in its own transaction; an open transaction is left alone (closing rolls it
    back, and its staged entries with it)."""
    if installed(db) and not db.conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):  # best effort: what stays unsealed is reported
            seal_pending(db)


def reseal_table(db: Database, table: str) -> int:
    """A migration that adds sealed columns to ``table``: hash its rows again and seal them."""
    return seal_existing(db, (table,))


def seal_more_tables(db: Database) -> int:
    """Migration 0012: the derivations (re-extractions ``history`` and ``rederive`` show) and
    the unwatched entries of each run are sealed too."""
    for table in SEALED_BY_0012:
        db.execute(f"ALTER TABLE {table} ADD COLUMN row_hash TEXT")
    return seal_existing(db, SEALED_BY_0012)
