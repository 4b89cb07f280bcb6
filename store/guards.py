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
    """Keep the guard of a stored capture: the first one per capture wins, unless it was made
    under other rules (an earlier release), which the new one replaces, or a page served the
    same bytes as before would be parsed on every later run."""
    db.execute(
        "INSERT INTO capture_guards (body_sha256, fingerprint, url, content_type, guard)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (body_sha256) DO UPDATE SET"
        " fingerprint = excluded.fingerprint, url = excluded.url,"
        " content_type = excluded.content_type, guard = excluded.guard"
        " WHERE json_extract(capture_guards.guard, '$.rules')"
        " IS NOT json_extract(excluded.guard, '$.rules')",
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
