"""The chapter list parsed from each manual's latest contents capture (schema 0014), so that a
run whose contents page is byte for byte the one parsed before reuses the parse: for a
1,000-chapter manual that is about a tenth of a second, and the HTML parser's import, in
every such run.

A listing is found only under the capture's SHA-256 and the same ``rules`` (what else the
parse depended on; the caller includes the release), so a new release, another page URL or a
manual's changed hosts parse again. The row is sealed (store/seals.py): ``verify`` catches a
listing edited to hide a chapter from later runs."""

from __future__ import annotations

import json

from sqlite_utils import Database

from scraper.models import ChapterRef, Contents, Skipped
from store.rows import fetch_one, write_transaction

__all__ = ["cached_listing", "remember_listing"]


def cached_listing(db: Database, manual_id: int, body_sha256: str, rules: str) -> Contents | None:
    """The contents parsed from the capture ``body_sha256`` under ``rules``, if kept."""
    row = fetch_one(
        db,
        "SELECT data FROM listings WHERE manual_id = ? AND body_sha256 = ? AND rules = ?",
        (manual_id, body_sha256, rules),
    )
    return None if row is None else _from_json(str(row["data"]))


def remember_listing(
    db: Database, manual_id: int, body_sha256: str, rules: str, contents: Contents
) -> None:
    """Keep ``contents`` as the manual's listing (replacing the one before)."""
    data = json.dumps(_to_json(contents), ensure_ascii=False, separators=(",", ":"))
    with write_transaction(db):
        db.execute(
            "INSERT INTO listings (manual_id, body_sha256, rules, data) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (manual_id) DO UPDATE SET body_sha256 = excluded.body_sha256,"
            " rules = excluded.rules, data = excluded.data",
            (manual_id, body_sha256, rules, data),
        )


def _to_json(contents: Contents) -> dict[str, object]:
    return {
        "url": contents.url,
        "title": contents.title,
        "chapters": [[c.url, c.title, c.number, c.part] for c in contents.chapters],
        "skipped": [[s.url, s.title, s.reason] for s in contents.skipped],
    }


def _from_json(data: str) -> Contents:
    value = json.loads(data)
    return Contents(
        url=value["url"],
        title=value["title"],
        chapters=tuple(ChapterRef(u, t, n, p) for u, t, n, p in value["chapters"]),
        skipped=tuple(Skipped(u, t, r) for u, t, r in value["skipped"]),
    )
