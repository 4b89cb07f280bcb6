"""The search index (store/search.py): contentless FTS5 kept in step with the current versions;
a chapter's old rows are really removed (no word of an old version still matches), and hits
carry marked snippets made from the versions' text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from store.search import refresh_index, search
from tests.integration.minisite import MiniSite, chapter_html, contents_html

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def matches(app: Amendwatch, word: str) -> int:
    sql = "SELECT COUNT(*) FROM search_index WHERE search_index MATCH ?"
    return int(app.db.execute(sql, (f'"{word}"',)).fetchone()[0])


def test_the_index_follows_new_versions_and_removes_old_rows(tmp_path: Path) -> None:
    with MiniSite() as site:
        site.pages["/"] = contents_html([("1.1", "Animals", "/a.html")])
        site.pages["/a.html"] = chapter_html("Animals", [("1 Zebras", "Zebras graze daily.")])
        app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0)
        app.add_manual("mini", f"{site.base_url}/")
        app.snapshot(["mini"], at=T0)  # the run refreshes the index
        assert matches(app, "zebras") == 1 and matches(app, "graze") == 1
        assert matches(app, "yaks") == 0
        site.pages["/a.html"] = chapter_html("Animals", [("1 Yaks", "Yaks climb mountains.")])
        app.snapshot(["mini"], at=T0 + timedelta(days=1))
        # the old version's words are gone, its text's too ("graze": no stale row matches)
        assert matches(app, "zebras") == 0 and matches(app, "graze") == 0
        assert matches(app, "yaks") == 1 and matches(app, "climb") == 1
        (hit,) = search(app.db, "yak mountain")
        assert hit.chapter_title == "Animals" and hit.section == "Section 1, Yaks"
        marked = [text for text, hit_mark in hit.snippet if hit_mark]
        assert marked == ["Yaks", "mountains"]
        assert refresh_index(app.db) == 0  # nothing new since the run
        assert refresh_index(app.db, full=True) == 1
        assert matches(app, "yaks") == 1 and matches(app, "zebras") == 0
        app.close()
