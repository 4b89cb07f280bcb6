"""SQL functions for browsing an amendwatch database in Datasette.

Since schema 6 the store keeps a version's content compressed (with its capture as the zstd
dictionary), ``sections`` rows without their text and links, compressed diffs and bodies as
deltas, so plain SQL cannot show them. This plugin registers, on every Datasette connection:

- ``amendwatch_content(version_id)``: the version's content JSON (title and sections);
- ``amendwatch_section_text(version_id, ordinal)``: one section's text;
- ``amendwatch_section_links(version_id, ordinal)``: one section's links as JSON;
- ``amendwatch_diff(change_id)``: the change's full section diff as JSON;
- ``amendwatch_body(sha256)``: a capture's raw bytes (verified against its hash).

They read through the store's own functions on a separate read-only connection to the same
file. Unknown ids give NULL; a damaged record raises (the query fails with the error).
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datasette import hookimpl as datasette_hookimpl
from sqlite_utils import Database

from scraper.models import Chapter
from store.codec import diff_json, links_to_json
from store.observations import get_body
from store.rows import fetch_one
from store.versions import version_chapter, version_content

Hook = Callable[..., None]
hookimpl: Callable[[Hook], Hook] = datasette_hookimpl  # datasette is untyped
CACHED_VERSIONS = 32  # a canned query asks for each section of a version in turn


class StoreReader:
    """The store's readers on a lazily opened read-only connection to ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db: Database | None = None
        self._chapters: OrderedDict[tuple[int, str], Chapter] = OrderedDict()

    @property
    def db(self) -> Database:
        if self._db is None:
            uri = Path(self.path).resolve().as_uri() + "?mode=ro"
            self._db = Database(sqlite3.connect(uri, uri=True, check_same_thread=False))
        return self._db

    def _version_row(self, version_id: int) -> dict[str, Any] | None:
        return fetch_one(self.db, "SELECT * FROM versions WHERE id = ?", (version_id,))

    def chapter(self, version_id: int) -> Chapter | None:
        row = self._version_row(version_id)
        if row is None:
            return None
        key = (int(row["id"]), str(row["content_hash"]))
        if key not in self._chapters:
            self._chapters[key] = version_chapter(self.db, row)
            while len(self._chapters) > CACHED_VERSIONS:
                self._chapters.popitem(last=False)
        return self._chapters[key]

    def content(self, version_id: int) -> str | None:
        row = self._version_row(version_id)
        return None if row is None else version_content(self.db, row)

    def section_text(self, version_id: int, ordinal: int) -> str | None:
        chapter = self.chapter(version_id)
        if chapter is None or not 0 <= ordinal < len(chapter.sections):
            return None
        return chapter.sections[ordinal].text

    def section_links(self, version_id: int, ordinal: int) -> str | None:
        chapter = self.chapter(version_id)
        if chapter is None or not 0 <= ordinal < len(chapter.sections):
            return None
        return json.dumps(links_to_json(chapter.sections[ordinal].links), ensure_ascii=False)

    def diff(self, change_id: int) -> str | None:
        row = fetch_one(self.db, "SELECT diff FROM changes WHERE id = ?", (change_id,))
        return None if row is None else diff_json(row["diff"])

    def body(self, sha256: str) -> bytes | None:
        row = fetch_one(self.db, "SELECT 1 FROM bodies WHERE sha256 = ?", (sha256,))
        return None if row is None else get_body(self.db, sha256)


def register(conn: sqlite3.Connection, path: str) -> StoreReader:
    """Register the ``amendwatch_*`` SQL functions on ``conn``, reading the file at ``path``."""
    reader = StoreReader(path)
    conn.create_function("amendwatch_content", 1, reader.content)
    conn.create_function("amendwatch_section_text", 2, reader.section_text)
    conn.create_function("amendwatch_section_links", 2, reader.section_links)
    conn.create_function("amendwatch_diff", 1, reader.diff)
    conn.create_function("amendwatch_body", 1, reader.body)
    return reader


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    found = datasette.databases.get(database)
    path = getattr(found, "path", None)
    if path:
        register(conn, str(path))
