"""Full-text search over the current text and section titles of every watched chapter (FTS5).

A version's text is stored compressed (store/codec.py), out of reach of SQL triggers, so the
index is refreshed in Python: :func:`refresh_index` re-indexes only the chapters whose current
version changed since the last refresh (nothing at all when no version was added and no
chapter removed since: one cheap check), in batches of short transactions. It runs at the end
of each snapshot and before each search of the web application; ``full=True`` rebuilds it.

Each row of ``search_index`` is one section (rowid ``chapter_id * 10000 + ordinal``, so a
chapter's rows are one rowid range): the chapter's title, the section's label, its text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlite_utils import Database

from store.rows import fetch_all, fetch_one, write_transaction
from store.versions import version_chapter

ROWS_PER_CHAPTER: Final = 10_000
BATCH: Final = 200
SIGNATURE_KEY: Final = "search_signature"
HIT_START: Final = "\x02"
HIT_END: Final = "\x03"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    chapter_id: int
    version_id: int
    chapter_title: str
    section: str
    snippet: tuple[tuple[str, bool], ...]  # (text, matched) runs: a template marks the hits
    section_marked: tuple[tuple[str, bool], ...]


def _signature(db: Database) -> str:
    row = fetch_one(
        db,
        "SELECT (SELECT MAX(id) FROM versions) AS v,"
        " (SELECT COUNT(*) FROM chapters WHERE removed_at IS NOT NULL) AS r,"
        " (SELECT COUNT(*) FROM derivations WHERE applied = 1) AS d",
    )
    assert row is not None
    return f"{row['v']}:{row['r']}:{row['d']}"


def _current_versions(db: Database) -> dict[int, int]:
    rows = fetch_all(
        db,
        "SELECT c.id AS chapter_id, (SELECT v.id FROM versions v WHERE v.chapter_id = c.id"
        " AND v.valid_to IS NULL ORDER BY v.valid_from DESC, v.id DESC LIMIT 1) AS version_id"
        " FROM chapters c WHERE c.removed_at IS NULL",
    )
    return {r["chapter_id"]: r["version_id"] for r in rows if r["version_id"] is not None}


def _drop(db: Database, chapter_id: int) -> None:
    low = chapter_id * ROWS_PER_CHAPTER
    db.execute(
        "DELETE FROM search_index WHERE rowid >= ? AND rowid < ?",
        (low, low + ROWS_PER_CHAPTER),
    )
    db.execute("DELETE FROM search_indexed WHERE chapter_id = ?", (chapter_id,))


def _add(db: Database, chapter_id: int, version_id: int) -> None:
    row = fetch_one(db, "SELECT * FROM versions WHERE id = ?", (version_id,))
    if row is None:
        return
    chapter = version_chapter(db, row)
    base = chapter_id * ROWS_PER_CHAPTER
    db.conn.executemany(
        "INSERT INTO search_index (rowid, title, section, body, chapter_id, version_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (base + ordinal, chapter.title, section.label, section.text, chapter_id, version_id)
            for ordinal, section in enumerate(chapter.sections[: ROWS_PER_CHAPTER - 1])
        ],
    )
    db.execute(
        "INSERT INTO search_indexed (chapter_id, version_id) VALUES (?, ?)",
        (chapter_id, version_id),
    )


def refresh_index(db: Database, *, full: bool = False) -> int:
    """Bring ``search_index`` up to date; returns how many chapters were (re)indexed."""
    signature = _signature(db)
    stored = fetch_one(db, "SELECT value FROM web_meta WHERE name = ?", (SIGNATURE_KEY,))
    if not full and stored is not None and stored["value"] == signature:
        return 0
    if full:
        with write_transaction(db):
            db.execute("DELETE FROM search_index")
            db.execute("DELETE FROM search_indexed")
    rows = fetch_all(db, "SELECT chapter_id, version_id FROM search_indexed")
    indexed = {r["chapter_id"]: r["version_id"] for r in rows}
    current = _current_versions(db)
    stale = sorted(set(indexed) - set(current))
    todo = sorted(cid for cid, vid in current.items() if indexed.get(cid) != vid)
    for start in range(0, max(len(stale), len(todo)), BATCH):
        with write_transaction(db):
            for chapter_id in stale[start : start + BATCH]:
                _drop(db, chapter_id)
            for chapter_id in todo[start : start + BATCH]:
                _drop(db, chapter_id)
                _add(db, chapter_id, current[chapter_id])
    with write_transaction(db):
        db.execute(
            "INSERT INTO web_meta (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (SIGNATURE_KEY, signature),
        )
    return len(todo)


def match_expression(query: str) -> str:
    """The words of ``query`` as an FTS5 expression that finds sections holding all of them
    (each word quoted: no FTS5 syntax reaches the parser from the query)."""
    return " ".join(f'"{word}"' for word in _WORD.findall(query)[:32])


def _spans(marked: str) -> tuple[tuple[str, bool], ...]:
    spans: list[tuple[str, bool]] = []
    for index, piece in enumerate(re.split(f"[{HIT_START}{HIT_END}]", marked)):
        if piece:
            spans.append((piece, index % 2 == 1))
    return tuple(spans)


def search(db: Database, query: str, limit: int = 50) -> tuple[SearchHit, ...]:
    """Sections whose chapter title, section title or text hold every word of ``query``,
    best first (BM25, titles weighted over text)."""
    expression = match_expression(query)
    if not expression:
        return ()
    rows = fetch_all(
        db,
        "SELECT chapter_id, version_id, title,"
        f" highlight(search_index, 1, '{HIT_START}', '{HIT_END}') AS section_marked,"
        f" snippet(search_index, 2, '{HIT_START}', '{HIT_END}', '…', 24) AS snippet"
        " FROM search_index WHERE search_index MATCH ?"
        " ORDER BY bm25(search_index, 4.0, 3.0, 1.0) LIMIT ?",
        (expression, limit),
    )
    return tuple(
        SearchHit(
            chapter_id=int(r["chapter_id"]),
            version_id=int(r["version_id"]),
            chapter_title=r["title"],
            section="".join(text for text, _ in _spans(r["section_marked"])),
            snippet=_spans(r["snippet"]),
            section_marked=_spans(r["section_marked"]),
        )
        for r in rows
    )


def indexed_chapters(db: Database, chapter_ids: Sequence[int] = ()) -> int:
    """How many chapters the index holds (of ``chapter_ids``, when given)."""
    if chapter_ids:
        marks = ", ".join("?" for _ in chapter_ids)
        sql = f"SELECT COUNT(*) AS n FROM search_indexed WHERE chapter_id IN ({marks})"
        row = fetch_one(db, sql, list(chapter_ids))
    else:
        row = fetch_one(db, "SELECT COUNT(*) AS n FROM search_indexed")
    return int(row["n"]) if row else 0
