"""Re-derive versions from their stored captures (the extraction is injected).

A version whose re-extracted content hash differs is recorded in ``derivations`` (old and new
hash and content, the rule label, when) — never as a ``changes`` row: a changed extraction
rule is not a guidance change. ``apply=True`` also stores the re-derived content as the
version's content (``derived_by='rederive'``); the original stays in ``derivations``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from amendwatch.errors import AmendwatchError
from scraper.models import Chapter, Page
from store.codec import dumps, links_to_json, pack_content
from store.observations import get_body
from store.rows import fetch_all, from_db_time, insert, to_db_time, write_transaction
from store.versions import _insert_sections, version_chapter, version_content


@dataclass(frozen=True)
class ExtractionRules:
    """A manual's extraction rules: content selector, ignore selectors and text patterns."""

    selector: str | None = None
    ignore: tuple[str, ...] = ()
    ignore_text: tuple[str, ...] = ()


# (page rebuilt from the stored capture, the manual's extraction rules) -> Chapter
Extractor = Callable[[Page, ExtractionRules], Chapter]
# (old chapter, new chapter) -> aligned (old index, new index) section pairs
Aligner = Callable[[Chapter, Chapter], Sequence[tuple[int, int]]]


@dataclass(frozen=True)
class Derivation:
    version_id: int
    chapter_id: int
    old_hash: str
    new_hash: str
    derivation_id: int | None  # None when unchanged
    applied: bool = False
    error: str = ""


def captured_versions(
    db: Database, *, chapter_id: int | None = None, ids: tuple[int, int] | None = None
) -> list[dict[str, Any]]:
    """Versions that have a stored capture, with the capture's observation and their
    manual's extraction rules, in id order: of one chapter, or with id in ``(low, high]``."""
    where, params = "", []
    if chapter_id is not None:
        where, params = " AND v.chapter_id = ?", [chapter_id]
    if ids is not None:
        where, params = where + " AND v.id > ? AND v.id <= ?", [*params, *ids]
    return fetch_all(
        db,
        "SELECT v.*, o.url AS o_url, o.final_url, o.status, o.headers, o.body_sha256,"
        " o.observed_at, m.content_selector, m.ignore_selectors, m.ignore_patterns"
        " FROM versions v"
        " JOIN observations o ON o.id = v.observation_id"
        " JOIN chapters c ON c.id = v.chapter_id JOIN manuals m ON m.id = c.manual_id"
        " WHERE o.body_sha256 IS NOT NULL" + where + " ORDER BY v.id",
        tuple(params),
    )


def page_of(db: Database, row: dict[str, object]) -> Page:
    return Page(
        url=str(row["o_url"]),
        final_url=str(row["final_url"]),
        status=int(str(row["status"])),
        headers=tuple((k, v) for k, v in json.loads(str(row["headers"]))),
        body=get_body(db, str(row["body_sha256"])),
        fetched_at=from_db_time(str(row["observed_at"])),
    )


def rules_of(row: dict[str, object]) -> ExtractionRules:
    selector = row["content_selector"]
    return ExtractionRules(
        str(selector) if selector else None,
        tuple(json.loads(str(row["ignore_selectors"] or "[]"))),
        tuple(json.loads(str(row["ignore_patterns"] or "[]"))),
    )


def rederive(
    db: Database,
    extract: Extractor,
    *,
    rule: str,
    at: datetime,
    chapter_id: int | None = None,
    apply: bool = False,
    align: Aligner | None = None,
) -> tuple[Derivation, ...]:
    """Re-run ``extract`` on every version's stored capture (of one chapter, or all)."""
    results = []
    for row in captured_versions(db, chapter_id=chapter_id):
        version_id, old_hash = int(str(row["id"])), str(row["content_hash"])
        chapter_of = int(str(row["chapter_id"]))
        try:
            fresh = extract(page_of(db, row), rules_of(row))
        except AmendwatchError as exc:
            results.append(Derivation(version_id, chapter_of, old_hash, "", None, error=str(exc)))
            continue
        if fresh.content_hash == old_hash:
            results.append(Derivation(version_id, chapter_of, old_hash, old_hash, None))
            continue
        with write_transaction(db):
            derivation_id = insert(
                db,
                "INSERT INTO derivations (version_id, observation_id, old_hash, new_hash,"
                " old_content, new_content, rule, at, applied) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    version_id,
                    row["observation_id"],
                    old_hash,
                    fresh.content_hash,
                    version_content(db, row),
                    fresh.content_json(),
                    rule,
                    to_db_time(at),
                    1 if apply else 0,
                ),
            )
            if apply:
                _apply(db, row, fresh, align)
        results.append(
            Derivation(
                version_id, chapter_of, old_hash, fresh.content_hash, derivation_id, applied=apply
            )
        )
    return tuple(results)


def _apply(db: Database, row: dict[str, object], fresh: Chapter, align: Aligner | None) -> None:
    """Replace the version's content and sections; sections keep their lineage ids where
    ``align`` pairs them with the old sections, others get new ids."""
    version_id = int(str(row["id"]))
    old = version_chapter(db, row)
    lineage = [f"{row['chapter_id']}:{version_id}:r{index}" for index in range(len(fresh.sections))]
    previous = [
        r["lineage_id"]
        for r in fetch_all(
            db,
            "SELECT lineage_id FROM sections WHERE version_id = ? ORDER BY ordinal",
            (version_id,),
        )
    ]
    for old_index, new_index in align(old, fresh) if align is not None else ():
        if 0 <= old_index < len(previous) and 0 <= new_index < len(lineage):
            lineage[new_index] = previous[old_index]
    db.execute(
        "UPDATE versions SET content_hash = ?, title = ?, content = ?, content_dict = ?,"
        " links = ?, derived_by = 'rederive', fingerprint = NULL WHERE id = ?",
        (
            fresh.content_hash,
            fresh.title,
            pack_content(fresh, get_body(db, str(row["body_sha256"]))),
            str(row["body_sha256"]),
            dumps(links_to_json(fresh.links)),
            version_id,
        ),
    )
    db.execute("DELETE FROM sections WHERE version_id = ?", (version_id,))
    _insert_sections(db, version_id, fresh, lineage)
