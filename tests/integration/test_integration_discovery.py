"""Discovery through the real command line, on a loopback site whose contents page changes
its share, print and session links on every render (issue 13, part 3): no phantom chapter
across runs, two chapters with the same title both watched, and every listed entry that is
not watched reported with its reason, in `snapshot`, in `runs` and in `runs --format json`."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.api import Amendwatch
from amendwatch.cli import cli
from amendwatch.config import Settings
from scraper.fetch import FetchPolicy
from scraper.models import ChapterRef
from store.db import open_db
from store.rows import fetch_all
from store.versions import upsert_chapter
from tests.integration.minisite import chapter_html, contents_html
from tests.loopback import LoopbackServer, QuietHandler

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
RUNS = ("2026-11-02T09:00:00+00:00", "2026-11-09T09:00:00+00:00", "2026-11-16T09:00:00+00:00")
CHAPTERS = {
    "terms-of-service": "Terms of Service",
    "acme-privacy-policy": "Privacy Policy",
    "acme-cloud-privacy-policy": "Privacy Policy",
    "cookies": "Cookies",
    "developer-terms": "Developer Terms",
}


def contents_page() -> str:
    """A new render: its share/print tokens, session id and print edition differ every time."""
    token, sid, edition = secrets.token_hex(16), secrets.token_hex(8), secrets.token_urlsafe(12)
    return f"""<!DOCTYPE html><html><head><title>Contents | Acme Policies</title></head><body>
<div class="cookie-notice"><p>We use cookies. <a href="/cookies.html">About cookies</a></p>
<button>Accept</button></div>
<main><h1>Acme Policies Manual</h1>
<div class="tools"><a href="/chapters/contents.html?share={token}">Share</a>
<a href="/chapters/contents.html?print=1&amp;t={token}">Print</a>
<a href="mailto:?subject=Acme">Email this page</a></div>
<p>This contents page was last updated: {secrets.token_hex(3)}</p>
<h2>1. Our policies</h2><ul>
<li><a href="/chapters/terms-of-service.html?utm_source=contents">1.1 Terms of Service</a></li>
<li><a href="/chapters/acme-privacy-policy.html?sid={sid}">1.2 Privacy Policy</a></li>
<li><a href="/chapters/acme-cloud-privacy-policy.html">1.3 Privacy Policy</a></li>
<li><a href="/chapters/cookies.html">1.4 Cookies</a></li>
<li><a href="/chapters/developer-terms.html">1.5 Developer Terms</a></li>
<li><a href="/print/{edition}">1.6 Printable edition</a></li>
<li><a href="https://status.example.com/">1.7 Service Status</a></li>
</ul></main>
<div class="foot"><a href="/cookies.html">Cookies</a> <a href="/privacy.html">Privacy</a></div>
</body></html>"""


def chapter_page(slug: str) -> str:
    title = CHAPTERS[slug]
    sections = "".join(
        f"<h2>{n}. Part {n} of {slug}</h2><p>{title} ({slug}): what applies in case {n}, "
        f"who decides and within how many working days the decision is recorded.</p>"
        for n in range(1, 4)
    )
    head = f"<html><head><title>{title}</title></head>"
    return f"{head}<body><main><h1>{title}</h1>{sections}</main></body></html>"


class PolicySite(LoopbackServer):
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}

        site = self

        class Handler(QuietHandler):
            def get(self) -> None:
                path = self.path.split("?", 1)[0]
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                slug = path.removeprefix("/chapters/").removesuffix(".html")
                if path == "/chapters/contents.html":
                    self.answer(200, contents_page().encode())
                elif path.startswith("/chapters/") and slug in CHAPTERS:
                    self.answer(200, chapter_page(slug).encode())
                elif path.startswith("/print/"):  # it answers, but is no chapter
                    self.answer(200, chapter_page("terms-of-service").encode())
                else:
                    self.answer(404, b"<h1>Page not found</h1>")

        super().__init__(Handler)


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def snapshotted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, list[str]]]:
    db = tmp_path_factory.mktemp("discovery") / "aw.db"
    with PolicySite() as site:
        base = site.base_url
        added = run(db, "manual", "add", "acme", f"{base}/chapters/contents.html")
        assert added.exit_code == 0, added.output
        outputs = []
        for at in RUNS:
            result = run(db, "snapshot", "--at", at, "--quiet")
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
        yield db, base, outputs


def test_no_phantom_chapter_across_three_runs(snapshotted: tuple[Path, str, list[str]]) -> None:
    db, base, outputs = snapshotted
    conn = open_db(db)
    try:
        rows = fetch_all(conn, "SELECT url, title, removed_at FROM chapters ORDER BY id")
        versions = fetch_all(
            conn,
            "SELECT c.url, COUNT(v.id) AS n FROM chapters c"
            " JOIN versions v ON v.chapter_id = c.id GROUP BY c.url",
        )
    finally:
        conn.close()
    assert [(r["url"], r["title"]) for r in rows] == [
        (f"{base}/chapters/{slug}.html", title) for slug, title in CHAPTERS.items()
    ]
    assert all(r["removed_at"] is None for r in rows)
    assert {v["url"]: v["n"] for v in versions} == {
        f"{base}/chapters/{slug}.html": 1 for slug in CHAPTERS
    }  # the same content on every run: one version each, no change invented
    for output in outputs:
        assert "checked 5, changed 0, not checked 0" in output, output


def test_both_same_title_chapters_are_watched_and_the_title_is_ambiguous(
    snapshotted: tuple[Path, str, list[str]],
) -> None:
    db, base, _ = snapshotted
    ambiguous = CliRunner().invoke(cli, ["--db", str(db), "history", "Privacy Policy"])
    assert ambiguous.exit_code == 1
    assert "matches 2 chapters" in ambiguous.output
    assert f"{base}/chapters/acme-privacy-policy.html" in ambiguous.output
    assert f"{base}/chapters/acme-cloud-privacy-policy.html" in ambiguous.output
    assert "URL" in ambiguous.output  # what to give instead
    for slug in ("acme-privacy-policy", "acme-cloud-privacy-policy"):
        history = run(db, "history", f"{base}/chapters/{slug}.html")
        assert history.exit_code == 0 and history.output.count("  v") == 1


def test_listed_entries_not_watched_are_reported_on_every_run(
    snapshotted: tuple[Path, str, list[str]],
) -> None:
    db, base, outputs = snapshotted
    for output in outputs:
        assert "  not watched: 2" in output, output
        assert "Printable edition <" in output
        assert "the link changed between two readings of the contents page" in output
        assert "Service Status <https://status.example.com/>: on another site" in output
        assert "Share" not in output and "/cookies.html" not in output  # tools, furniture
    text = run(db, "runs").output
    assert text.count("  not watched: 2") == 3
    data = json.loads(run(db, "runs", "--format", "json").output)
    assert len(data["runs"]) == 3
    for entry in data["runs"]:
        found = {u["title"]: u for u in entry["not_watched"]}
        assert sorted(found) == ["Printable edition", "Service Status"]
        assert {u["manual"] for u in found.values()} == {"acme"}
        assert found["Printable edition"]["url"].startswith(f"{base}/print/")
        assert found["Service Status"]["reason"].startswith("on another site")


# -- through the API: stored decorated URLs, a second reading that fails --------------------
class CountingSite(LoopbackServer):
    """A contents page listing a.html and b.html (its ``fail`` readings answer 503)."""

    def __init__(self) -> None:
        self.readings = 0
        self.fail: set[int] = set()
        site = self

        class Handler(QuietHandler):
            def get(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/m/contents.html":
                    site.readings += 1
                    if site.readings in site.fail:
                        self.answer(503, b"busy")
                        return
                    self.answer(
                        200,
                        contents_html(
                            [("1.1", "Alpha", "a.html"), ("1.2", "Beta", "b.html")]
                        ).encode(),
                    )
                elif path in ("/m/a.html", "/m/b.html"):
                    title = "Alpha" if path == "/m/a.html" else "Beta"
                    self.answer(
                        200, chapter_html(title, [("1. Purpose", f"{title} applies.")]).encode()
                    )
                else:
                    self.answer(404, b"<h1>Page not found</h1>")

        super().__init__(Handler)


def open_api(tmp_path: Path, site: CountingSite) -> Amendwatch:
    settings = Settings(db_path=tmp_path / "aw.db", fetch=FetchPolicy(retries=0))
    app = Amendwatch.open(settings, clock=lambda: T0)
    app.add_manual("mini", f"{site.base_url}/m/contents.html")
    return app


def test_a_chapter_stored_under_a_decorated_url_keeps_its_record(tmp_path: Path) -> None:
    with CountingSite() as site:
        app = open_api(tmp_path, site)
        try:
            manual = app.manuals()[0]
            stored = f"{site.base_url}/m/a.html?ref=contents"  # as an earlier release stored it
            upsert_chapter(app.db, manual.id, ChapterRef(stored, "Alpha", "1.1"), T0)
            report = app.snapshot(at=T0)
            urls = [r["url"] for r in fetch_all(app.db, "SELECT url FROM chapters ORDER BY id")]
            assert urls == [stored, f"{site.base_url}/m/b.html"]
            assert {o.outcome for o in report.results[0].outcomes} == {"new-version"}
            assert report.results[0].skipped == ()
        finally:
            app.close()


def test_a_failed_second_reading_keeps_the_first(tmp_path: Path) -> None:
    with CountingSite() as site:
        site.fail = {2}
        app = open_api(tmp_path, site)
        try:
            report = app.snapshot(at=T0)
            assert report.results[0].checked == 2 and site.readings == 2
            rows = fetch_all(
                app.db,
                "SELECT outcome, reason FROM observations WHERE role = 'contents' ORDER BY id",
            )
            assert [r["outcome"] for r in rows] == ["ok", "reread"]
            assert rows[1]["reason"].startswith("second reading failed (HTTP 503")
            # the chapters are known now: the next run reads the page once
            app.snapshot(at=T0 + timedelta(days=1))
            assert site.readings == 3
        finally:
            app.close()
