"""Full-text search over the current text and section titles of every watched chapter (FTS5).

A version's text is stored compressed (store/codec.py), out of reach of SQL triggers, so the
index is refreshed in Python: :func:`refresh_index` re-indexes only the chapters whose current
version changed since the last refresh (nothing at all when no version was added and no
chapter removed since: one cheap check), in batches of short transactions. It runs at the end
of each snapshot and before each search of the web application; ``full=True`` rebuilds it.

Each row of ``search_index`` is one section (rowid ``chapter_id * 10000 + ordinal``, so a
chapter's rows are one rowid range): the chapter's title, the section's label, its text.

The index is contentless and keeps no positions (``content='', detail=none``): the text is in
the versions already, and a copy in the index tripled a database's size. A query is a set of
words, which needs no positions; a chapter's rows are removed with FTS5's 'delete' command,
given the values its indexed version had, and the snippets and marks are made here from the
versions' text for the hits shown.
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


def _rows(db: Database, chapter_id: int, version_id: int) -> list[tuple[int, str, str, str]]:
    """(rowid, chapter title, section label, section text) of a version's sections."""
    row = fetch_one(db, "SELECT * FROM versions WHERE id = ?", (version_id,))
    if row is None:
        return []
    chapter = version_chapter(db, row)
    base = chapter_id * ROWS_PER_CHAPTER
    return [
        (base + ordinal, chapter.title, section.label, section.text)
        for ordinal, section in enumerate(chapter.sections[: ROWS_PER_CHAPTER - 1])
    ]


def _drop(db: Database, chapter_id: int, version_id: int | None) -> None:
    """Remove a chapter's rows: a contentless index is told the values it indexed."""
    if version_id is not None:
        db.conn.executemany(
            "INSERT INTO search_index (search_index, rowid, title, section, body)"
            " VALUES ('delete', ?, ?, ?, ?)",
            _rows(db, chapter_id, version_id),
        )
    db.execute("DELETE FROM search_indexed WHERE chapter_id = ?", (chapter_id,))


def _add(db: Database, chapter_id: int, version_id: int) -> None:
    db.conn.executemany(
        "INSERT INTO search_index (rowid, title, section, body) VALUES (?, ?, ?, ?)",
        _rows(db, chapter_id, version_id),
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
            db.execute("INSERT INTO search_index (search_index) VALUES ('delete-all')")
            db.execute("DELETE FROM search_indexed")
    rows = fetch_all(db, "SELECT chapter_id, version_id FROM search_indexed")
    indexed = {r["chapter_id"]: r["version_id"] for r in rows}
    current = _current_versions(db)
    stale = sorted(set(indexed) - set(current))
    todo = sorted(cid for cid, vid in current.items() if indexed.get(cid) != vid)
    for start in range(0, max(len(stale), len(todo)), BATCH):
        with write_transaction(db):
            for chapter_id in stale[start : start + BATCH]:
                _drop(db, chapter_id, indexed[chapter_id])
            for chapter_id in todo[start : start + BATCH]:
                _drop(db, chapter_id, indexed.get(chapter_id))
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


_SUFFIXES = ("ing", "ed", "es", "s")


def _stem(word: str) -> str:
    """A crude stem for marking hits (the index itself uses Porter): "dogs" -> "dog"."""
    folded = word.casefold()
    for suffix in _SUFFIXES:
        if folded.endswith(suffix) and len(folded) - len(suffix) >= 3:
            return folded[: -len(suffix)]
    return folded


def _marked(text: str, words: Sequence[str]) -> tuple[tuple[str, bool], ...]:
    """``text`` as (text, matched) runs: a word matches when it starts with the stem of a
    query word (case aside), close to the index's stemming."""
    stems = [_stem(w) for w in words]
    spans: list[tuple[str, bool]] = []
    last = 0
    for found in _WORD.finditer(text):
        if any(found.group().casefold().startswith(stem) for stem in stems):
            if found.start() > last:
                spans.append((text[last : found.start()], False))
            spans.append((found.group(), True))
            last = found.end()
    if last < len(text):
        spans.append((text[last:], False))
    return tuple(spans)


def _snippet(text: str, words: Sequence[str], width: int = 24) -> tuple[tuple[str, bool], ...]:
    """About ``width`` words of ``text`` around its first match, marked."""
    tokens = text.split()
    stems = [_stem(w) for w in words]
    first = next(
        (i for i, t in enumerate(tokens) if any(t.casefold().lstrip("(\"'").startswith(s)
                                                 for s in stems)),
        0,
    )  # fmt: skip
    start = max(0, first - width // 3)
    piece = " ".join(tokens[start : start + width])
    ends = ("…" if start > 0 else "", "…" if start + width < len(tokens) else "")
    spans = ((ends[0], False), *_marked(piece, words), (ends[1], False)) if piece else ()
    return tuple(span for span in spans if span[0])


def search(db: Database, query: str, limit: int = 50) -> tuple[SearchHit, ...]:
    """Sections whose chapter title, section title or text hold every word of ``query``,
    best first (BM25, titles weighted over text)."""
    expression = match_expression(query)
    if not expression:
        return ()
    words = _WORD.findall(query)[:32]
    found = fetch_all(
        db,
        "SELECT rowid AS id FROM search_index WHERE search_index MATCH ?"
        " ORDER BY bm25(search_index, 4.0, 3.0, 1.0) LIMIT ?",
        (expression, limit),
    )
    indexed = {r["chapter_id"]: r["version_id"] for r in fetch_all(
        db, "SELECT chapter_id, version_id FROM search_indexed")}  # fmt: skip
    sections: dict[int, dict[int, tuple[str, str, str]]] = {}
    hits = []
    for row in found:
        chapter_id, ordinal = divmod(int(row["id"]), ROWS_PER_CHAPTER)
        version_id = indexed.get(chapter_id)
        if version_id is None:
            continue
        if version_id not in sections:
            rows = _rows(db, chapter_id, version_id)
            sections[version_id] = {
                rowid % ROWS_PER_CHAPTER: (title, label, text) for rowid, title, label, text in rows
            }
        title, label, text = sections[version_id].get(ordinal, ("", "", ""))
        marked = _marked(label, words)
        hits.append(SearchHit(chapter_id, version_id, title, label, _snippet(text, words), marked))
    return tuple(hits)


def indexed_chapters(db: Database, chapter_ids: Sequence[int] = ()) -> int:
    """How many chapters the index holds (of ``chapter_ids``, when given)."""
    if chapter_ids:
        marks = ", ".join("?" for _ in chapter_ids)
        sql = f"SELECT COUNT(*) AS n FROM search_indexed WHERE chapter_id IN ({marks})"
        row = fetch_one(db, sql, list(chapter_ids))
    else:
        row = fetch_one(db, "SELECT COUNT(*) AS n FROM search_indexed")
    return int(row["n"]) if row else 0
