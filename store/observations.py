"""Observations (one per fetch, hash-chained) and content-addressed, compressed bodies
(a capture may be stored as a splice of, or a small zstd delta against, an earlier capture of
its URL)."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import zstandard
from sqlite_utils import Database

from amendwatch.errors import InputError, IntegrityError, NotFoundError
from scraper.models import Page
from store.codec import compress, decompress_zstd, dumps
from store.rows import fetch_all, fetch_one, from_db_time, insert, to_db_time, write_transaction
from store.splice import COMPRESSION as SPLICE
from store.splice import apply_splice, splice_of

GENESIS_HASH = "0" * 64
ROLES = frozenset({"contents", "chapter", "amendments", "robots"})
FAILED_OUTCOMES = ("failed", "suspect")
COMPRESSION = "zstd"  # new bodies; "zlib" bodies of older releases stay readable
BODY_LEVEL = 3  # about 6x faster than zlib level 6 here, and a little smaller
BASE_CACHE_BYTES = 32 * 1024 * 1024  # verified whole bodies kept in memory during a snapshot
DELTA_RATIO = 16  # a delta is kept when under 1/16 of the raw body, else the body is stored whole


@dataclass(frozen=True)
class Encoded:
    """A body's stored form: its data, how it is encoded ("zstd", or "splice" of its base),
    its base (the hash of a body stored whole; None: the data holds the body whole) and the
    body's size (a page sent back from a fetch process without its body still has it)."""

    data: bytes
    compression: str
    base: str | None
    size: int


# The fields a row's hash covers, in this order (id and prev_hash included, hash excluded).
HASHED_FIELDS = (
    "id",
    "run_id",
    "manual_id",
    "chapter_id",
    "role",
    "url",
    "final_url",
    "status",
    "headers",
    "body_sha256",
    "observed_at",
    "outcome",
    "reason",
    "etag",
    "last_modified",
    "imported",
    "prev_hash",
)


def observation_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the row's own fields and its prev_hash."""
    payload = dumps({name: row[name] for name in HASHED_FIELDS})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def store_body(db: Database, body: bytes, base: str | None = None) -> str:
    """Store ``body`` once under its SHA-256 (zstd-compressed); return the hash. A body
    already stored is not compressed again. With ``base`` (the hash of a stored body; a
    delta's own base is used in its place), the body is stored as a zstd delta against the
    base's raw bytes when that delta is small (under 1/``DELTA_RATIO`` of the body); otherwise
    whole, and later bodies may use it."""
    digest = hashlib.sha256(body).hexdigest()
    if not _is_stored(db, digest):
        _insert_body(db, body, digest, _whole(db, base))
    return digest


def _is_stored(db: Database, digest: str) -> bool:
    return fetch_one(db, "SELECT 1 FROM bodies WHERE sha256 = ?", (digest,)) is not None


def encode_body(body: bytes, digest: str, base: tuple[str, bytes] | None) -> Encoded:
    """How ``body`` (SHA-256 ``digest``) is stored. Against ``base`` (hash, raw bytes of a
    body stored whole): a splice when ``body`` is the base with a few runs of text replaced
    (``store.splice``), else a zstd delta; either is kept when under 1/``DELTA_RATIO`` of the
    body, else the body is stored whole. Pure: the fetch process runs it too
    (amendwatch/capturework.py)."""
    if base is not None and base[0] != digest:
        spliced = splice_of(base[1], body)
        if spliced is not None and len(spliced) * DELTA_RATIO < len(body):
            return Encoded(spliced, SPLICE, base[0], len(body))
        delta = compress(body, BODY_LEVEL, base[1])
        if len(delta) * DELTA_RATIO < len(body):
            return Encoded(delta, COMPRESSION, base[0], len(body))
    return Encoded(compress(body, BODY_LEVEL), COMPRESSION, None, len(body))


def _insert_body(
    db: Database,
    body: bytes,
    digest: str,
    base: str | None,
    encoded: Encoded | None = None,
) -> None:
    """Insert a body not stored yet (``base``: a body stored whole, or None), compressed
    here or, as ``encoded``, already (by ``encode_body``)."""
    if encoded is None:
        pair = None if base is None or base == digest else (base, get_body(db, base, cached=True))
        encoded = encode_body(body, digest, pair)
    if encoded.base is None:
        if len(body) != encoded.size:
            raise InputError("a body stored whole needs its bytes (the page came without them)")
        _BASES.put(digest, body)  # a base of later deltas, and its version's dictionary
    db.execute(
        "INSERT INTO bodies (sha256, size, compression, data, base_sha256) VALUES (?, ?, ?, ?, ?)",
        (digest, encoded.size, encoded.compression, encoded.data, encoded.base),
    )


def stored_row(db: Database, sha256: str) -> tuple[str, bytes, str | None] | None:
    """(compression, data, base hash) of a stored body, as stored (not decompressed)."""
    row = fetch_one(
        db, "SELECT compression, data, base_sha256 FROM bodies WHERE sha256 = ?", (sha256,)
    )
    if row is None:
        return None
    return str(row["compression"]), bytes(row["data"]), row["base_sha256"]


def unpack_body(compression: str, data: bytes, base: bytes | None, sha256: str) -> bytes:
    """A stored body's bytes, checked against its hash (``base``: its delta base's bytes)."""
    return checked_body(decompress(compression, data, base), sha256)


def checked_body(body: bytes, sha256: str) -> bytes:
    """``body``, when it hashes to ``sha256``; else IntegrityError."""
    if hashlib.sha256(body).hexdigest() != sha256:
        raise IntegrityError(f"body {sha256[:12]}: content does not match its hash")
    return body


def _whole(db: Database, sha256: str | None) -> str | None:
    """``sha256`` if stored whole, its base if it is a delta, None if it is not stored."""
    if sha256 is None:
        return None
    row = fetch_one(db, "SELECT base_sha256 FROM bodies WHERE sha256 = ?", (sha256,))
    return None if row is None else str(row["base_sha256"] or sha256)


def delta_base(db: Database, url: str) -> str | None:
    """The body a new capture of ``url`` is stored against: the latest stored body of that URL,
    or that body's own base when it is a delta (bases are always stored whole)."""
    row = fetch_one(
        db,
        "SELECT o.body_sha256 AS sha256, b.base_sha256 AS base FROM observations o"
        " JOIN bodies b ON b.sha256 = o.body_sha256 WHERE o.url = ?"
        " AND o.body_sha256 IS NOT NULL ORDER BY o.observed_at DESC, o.id DESC LIMIT 1",
        (url,),
    )
    if row is None:
        return None
    return str(row["base"] or row["sha256"])


def store_capture(
    db: Database,
    url: str,
    body: bytes,
    digest: str | None = None,
    encoded: Encoded | None = None,
) -> str:
    """Store a capture of ``url`` (as a delta against the URL's latest base when small);
    ``digest``: its SHA-256 when already known; ``encoded``: its stored form when already
    made (by ``encode_body`` against a body stored whole; ``body`` may then be left out,
    ``b""``, unless it is stored whole)."""
    digest = digest or hashlib.sha256(body).hexdigest()
    if not _is_stored(db, digest):
        base = None if encoded is not None else delta_base(db, url)  # stored whole
        _insert_body(db, body, digest, base, encoded)
    return digest


class _BaseCache:
    """Verified raw bytes of recently read bodies stored whole (the bases of deltas and the
    captures the quick check compares with), most recent last, within a byte budget. Keyed by
    SHA-256, so an entry is right for any database; ``verify`` never reads through it."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, sha256: str) -> bytes | None:
        found = self._entries.get(sha256)
        if found is not None:
            self._entries.move_to_end(sha256)
        return found

    def put(self, sha256: str, body: bytes) -> None:
        if sha256 in self._entries or len(body) > self.budget // 4:
            return
        self._entries[sha256] = body
        self._size += len(body)
        while self._size > self.budget:
            _, dropped = self._entries.popitem(last=False)
            self._size -= len(dropped)


_BASES = _BaseCache(BASE_CACHE_BYTES)


def get_body(db: Database, sha256: str, *, cached: bool = False) -> bytes:
    """The decompressed body stored under ``sha256`` (through its base when it is stored as a
    delta), verified against its hash. ``cached``: bodies stored whole may come from (and go
    to) a small in-memory cache of verified bytes (a snapshot reads each base twice)."""
    if cached and (known := _BASES.get(sha256)) is not None:
        return known
    row = fetch_one(
        db, "SELECT compression, data, base_sha256 FROM bodies WHERE sha256 = ?", (sha256,)
    )
    if row is None:
        raise NotFoundError(f"no stored body {sha256[:12]}")
    base = base_bytes(db, sha256, row["base_sha256"], cached=cached)
    body = unpack_body(row["compression"], row["data"], base, sha256)
    if cached and base is None:
        _BASES.put(sha256, body)
    return body


def base_bytes(
    db: Database, sha256: str, base: str | None, *, cached: bool = False
) -> bytes | None:
    """The verified raw bytes of body ``sha256``'s delta base (None: stored whole)."""
    if base is None:
        return None
    if cached and (known := _BASES.get(base)) is not None:
        return known
    row = fetch_one(db, "SELECT base_sha256 FROM bodies WHERE sha256 = ?", (base,))
    if row is None:
        raise IntegrityError(f"body {sha256[:12]}: its delta base {base[:12]} is missing")
    if row["base_sha256"] is not None:
        raise IntegrityError(f"body {sha256[:12]}: its delta base {base[:12]} is itself a delta")
    return get_body(db, base, cached=cached)


def decompress(compression: str, data: bytes, base: bytes | None = None) -> bytes:
    """Decompress a stored body (a zstd delta or a splice needs its base's raw bytes as
    ``base``)."""
    if compression == "none" and base is None:
        return bytes(data)
    if compression == SPLICE and base is not None:
        return apply_splice(base, data)
    try:
        if compression == "zstd":
            return decompress_zstd(data, base)
        if compression == "zlib" and base is None:
            return zlib.decompress(data)
    except (zlib.error, zstandard.ZstdError) as exc:
        raise IntegrityError(f"stored body does not decompress: {exc}") from exc
    raise IntegrityError(f"unknown body compression {compression!r}")


REDIRECT_HEADER = "X-Amendwatch-Redirected-From"  # the redirect chain, kept with the answer


def stored_headers(page: Page) -> list[list[str]]:
    """The response headers as stored, plus one ``X-Amendwatch-Redirected-From`` line per URL
    the request was redirected through (in order), so the chain is evidence too."""
    return [[key, value] for key, value in page.headers] + [
        [REDIRECT_HEADER, url] for url in page.redirects
    ]


def record_observation(
    db: Database,
    page: Page,
    *,
    manual_id: int | None,
    chapter_id: int | None,
    role: str,
    outcome: str,
    reason: str = "",
    run_id: int | None = None,
    imported: bool = False,
    encoded: Encoded | None = None,
) -> int:
    """Store the body once (if any; ``encoded``: its stored form, see ``store_capture``) and
    append the observation to the hash chain."""
    if role not in ROLES:
        raise InputError(f"unknown observation role {role!r}", hint=f"use one of {sorted(ROLES)}")
    if not outcome:
        raise InputError("an observation needs an outcome")
    with write_transaction(db):
        body_sha = None
        if page.body or encoded is not None:  # a page may come without its body, encoded
            body_sha = store_capture(db, page.url, page.body, page.body_hash, encoded)
        last = fetch_one(db, "SELECT id, hash FROM observations ORDER BY id DESC LIMIT 1")
        row: dict[str, Any] = {
            "id": (last["id"] + 1) if last else 1,
            "run_id": run_id,
            "manual_id": manual_id,
            "chapter_id": chapter_id,
            "role": role,
            "url": page.url,
            "final_url": page.final_url,
            "status": page.status,
            "headers": dumps(stored_headers(page)),
            "body_sha256": body_sha,
            "observed_at": to_db_time(page.fetched_at),
            "outcome": outcome,
            "reason": reason or page.error or "",
            "etag": page.header("ETag"),
            "last_modified": page.header("Last-Modified"),
            "imported": 1 if imported else 0,
            "prev_hash": last["hash"] if last else GENESIS_HASH,
        }
        row["hash"] = observation_hash(row)
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        return insert(
            db, f"INSERT INTO observations ({columns}) VALUES ({marks})", list(row.values())
        )


def last_validators(db: Database, url: str) -> tuple[str | None, str | None]:
    """(etag, last_modified) of the latest successful (2xx, not failed/suspect) fetch of url."""
    row = fetch_one(
        db,
        "SELECT etag, last_modified FROM observations WHERE url = ? AND status BETWEEN 200 AND 299"
        " AND outcome NOT IN ('failed', 'suspect', 'superseded')"
        " ORDER BY observed_at DESC, id DESC LIMIT 1",
        (url,),
    )
    if row is None:
        return (None, None)
    return (row["etag"], row["last_modified"])


def likely_not_modified(db: Database, url: str) -> bool:
    """Whether a conditional GET of ``url`` will most likely be answered 304: its latest fetch
    was, or no conditional GET of it has been answered yet (its latest fetch is the first
    with validators). A site that answers a conditional GET with 200 again and again (its
    validators change with every render) is not expected to answer 304."""
    rows = fetch_all(
        db,
        "SELECT status, etag, last_modified FROM observations WHERE url = ?"
        " ORDER BY observed_at DESC, id DESC LIMIT 2",
        (url,),
    )
    if not rows:
        return False
    if rows[0]["status"] == 304:
        return True
    if len(rows) < 2:
        return True
    earlier = rows[1]
    asked = earlier["status"] == 304 or earlier["etag"] or earlier["last_modified"]
    return not asked


def latest_capture(db: Database, manual_id: int, role: str, before: datetime) -> Page | None:
    """The latest successful capture of a manual's page in ``role`` observed before ``before``,
    rebuilt as a ``Page`` from the stored observation and body (reports read it offline)."""
    row = fetch_one(
        db,
        "SELECT * FROM observations WHERE manual_id = ? AND role = ? AND outcome = 'ok'"
        " AND body_sha256 IS NOT NULL AND observed_at < ? ORDER BY observed_at DESC, id DESC"
        " LIMIT 1",
        (manual_id, role, to_db_time(before)),
    )
    if row is None:
        return None
    return Page(
        url=row["url"],
        final_url=row["final_url"],
        status=row["status"],
        headers=tuple((key, value) for key, value in json.loads(row["headers"])),
        body=get_body(db, row["body_sha256"]),
        fetched_at=from_db_time(row["observed_at"]),
    )
