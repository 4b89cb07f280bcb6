"""Quick-check guards of stored captures (``scraper.quickcheck``), by content fingerprint."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from store.rows import fetch_one


@dataclass(frozen=True)
class Reference:
    """A stored capture with this fingerprint, and where its fingerprinted elements lie."""

    body_sha256: str
    url: str
    content_type: str | None
    guard: str


def remember(db: Database, reference: Reference, fingerprint: str) -> None:
    """Keep the guard of a stored capture (the first one per capture wins)."""
    db.execute(
        "INSERT OR IGNORE INTO capture_guards (body_sha256, fingerprint, url, content_type, guard)"
        " VALUES (?, ?, ?, ?, ?)",
        (
            reference.body_sha256,
            fingerprint,
            reference.url,
            reference.content_type,
            reference.guard,
        ),
    )


def reference_for(db: Database, fingerprint: str) -> Reference | None:
    """A stored capture whose fingerprint is ``fingerprint``, with its guard, if one is known."""
    row = fetch_one(
        db,
        "SELECT body_sha256, url, content_type, guard FROM capture_guards WHERE fingerprint = ?"
        " ORDER BY rowid DESC LIMIT 1",
        (fingerprint,),
    )
    if row is None:
        return None
    return Reference(row["body_sha256"], row["url"], row["content_type"], row["guard"])
