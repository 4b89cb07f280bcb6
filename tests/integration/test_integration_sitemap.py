"""sitemap.xml discovery through the real pipeline, on a loopback site (issue 3)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.api import Amendwatch, RunReport
from amendwatch.cli import cli
from amendwatch.config import Settings
from amendwatch.errors import InputError
from scraper.fetch import FetchPolicy
from store import lifecycle, observations
from store.rows import fetch_all, fetch_one
from tests.integration.minisite import chapter_html, contents_html
from tests.loopback import HTML, LoopbackServer, QuietHandler

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


class Site(LoopbackServer):
    """``pages`` maps a path to (status, content type, body); any other path answers 404."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.etags: dict[str, str] = {}  # paths answering 304 to their ETag
        site = self

        class Handler(QuietHandler):
            def get(self) -> None:
                status, kind, body = site.pages.get(self.path, (404, HTML, b"<h1>Not found</h1>"))
                tag = site.etags.get(self.path)
                if tag is not None and self.headers.get("If-None-Match") == tag:
                    self.answer(304, b"", kind, [("ETag", tag)])
                    return
                self.answer(status, body, kind, [("ETag", tag)] if tag else [])

        super().__init__(Handler)
        self.base = self.base_url

    def html(self, path: str, text: str) -> None:
        self.pages[path] = (200, HTML, text.encode())

    def chapter(self, path: str, title: str) -> None:
        self.html(path, chapter_html(title, [("1. Purpose", f"{title}: what must be done.")]))

    def sitemap(self, path: str, paths: list[str], *, gz: bool = False) -> None:
        items = "".join(f"<url><loc>{self.base}{p}</loc></url>" for p in paths)
        body = f'<?xml version="1.0"?><urlset xmlns="{NS}">{items}</urlset>'.encode()
        kind = "application/gzip" if gz else "application/xml"
        self.pages[path] = (200, kind, gzip.compress(body) if gz else body)


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as running:
        running.html(
            "/m/contents.html",
            contents_html([("1.1", "Assessments", "a.html"), ("1.2", "Referrals", "b.html")]),
        )
        running.chapter("/m/a.html", "Assessments")
        running.chapter("/m/b.html", "Referrals")
        running.chapter("/m/private-fostering.html", "Private Fostering Arrangements")
        running.chapter("/m/guide.pdf", "Not a chapter")
        running.chapter("/other/x.html", "Another manual")
        running.sitemap(
            "/sitemap.xml",
            ["/m/a.html", "/m/contents.html", "/m/private-fostering.html", "/m/b.html/",
             "/m/guide.pdf", "/other/x.html", "/", "/m/private-fostering.html#s2"],
        )  # fmt: skip
        yield running


def open_app(tmp_path: Path, site: Site, sitemap: str | None) -> Amendwatch:
    settings = Settings(db_path=tmp_path / "aw.db", fetch=FetchPolicy(retries=0))
    app = Amendwatch.open(settings, clock=lambda: T0)
    app.add_manual("mini", f"{site.base}/m/contents.html", sitemap_url=sitemap)
    return app


@pytest.fixture
def app(tmp_path: Path, site: Site) -> Iterator[Amendwatch]:
    opened = open_app(tmp_path, site, f"{site.base}/sitemap.xml")
    yield opened
    opened.close()


def chapters(app: Amendwatch) -> dict[str, tuple[str, bool]]:
    rows = fetch_all(app.db, "SELECT url, title, removed_at FROM chapters ORDER BY id")
    return {r["url"].split("/", 3)[3]: (r["title"], r["removed_at"] is not None) for r in rows}


def outcomes(report: RunReport) -> dict[str, str]:
    return {o.url.split("/", 3)[3]: o.outcome for o in report.results[0].outcomes}


def sitemap_observations(app: Amendwatch) -> list[tuple[str, str, str]]:
    rows = fetch_all(
        app.db,
        "SELECT url, outcome, reason FROM observations WHERE role = 'contents'"
        " AND url NOT LIKE '%/contents.html' ORDER BY id",
    )
    return [(r["url"].split("/", 3)[3], r["outcome"], r["reason"]) for r in rows]


def test_a_chapter_only_in_the_sitemap_is_found_and_snapshotted(
    app: Amendwatch, site: Site
) -> None:
    first = app.snapshot(at=T0)
    assert outcomes(first) == {
        "m/a.html": "new-version",
        "m/b.html": "new-version",
        "m/private-fostering.html": "new-version",
    }
    # listed after the contents page's chapters, titled from its URL until its page is read
    assert list(chapters(app)) == ["m/a.html", "m/b.html", "m/private-fostering.html"]
    assert chapters(app)["m/private-fostering.html"] == ("Private fostering", False)
    _, versions = app.history(f"{site.base}/m/private-fostering.html")
    assert len(versions) == 1
    assert sitemap_observations(app) == [("sitemap.xml", "sitemap", "sitemap (urlset, 8 URLs)")]
    # the sitemap's observation is never taken for the contents page
    page = observations.latest_capture(app.db, app.manuals()[0].id, "contents", T0 + DAY)
    assert page is not None and page.url.endswith("/m/contents.html")
    # the next run uses the title the chapter's own page gave
    app.snapshot(at=T0 + DAY)
    assert chapters(app)["m/private-fostering.html"][0] == "Private Fostering Arrangements"


def test_a_chapter_new_in_the_sitemap_is_reported_new(app: Amendwatch, site: Site) -> None:
    app.snapshot(at=T0)
    site.chapter("/m/kinship-care.html", "Kinship Care")
    site.sitemap("/sitemap.xml", ["/m/a.html", "/m/kinship-care.html"])
    second = app.snapshot(at=T0 + DAY)
    assert outcomes(second)["m/kinship-care.html"] == "new"
    assert second.results[0].changed == 1


def test_a_sitemap_index_with_a_gzip_child_is_followed(tmp_path: Path, site: Site) -> None:
    site.sitemap("/maps/part-1.xml.gz", ["/m/private-fostering.html"], gz=True)
    index = (
        f'<sitemapindex xmlns="{NS}"><sitemap><loc>{site.base}/maps/part-1.xml.gz</loc>'
        "</sitemap><sitemap><loc>https://elsewhere.invalid/s.xml</loc></sitemap></sitemapindex>"
    )
    site.pages["/sitemap_index.xml"] = (200, "application/xml", index.encode())
    app = open_app(tmp_path, site, f"{site.base}/sitemap_index.xml")
    try:
        report = app.snapshot(at=T0)
        assert "m/private-fostering.html" in outcomes(report)
        assert [(u, o) for u, o, _ in sitemap_observations(app)] == [
            ("sitemap_index.xml", "sitemap"),
            ("maps/part-1.xml.gz", "sitemap"),
        ]
    finally:
        app.close()


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((503, "text/plain", b"busy"), "HTTP 503"),
        ((200, "application/xml", b"<urlset><url><loc>"), "not well-formed XML"),
        ((200, HTML, b"<html><body>Home</body></html>"), "not a sitemap"),
    ],
)
def test_a_failed_sitemap_leaves_the_run_ok_and_removes_nothing(
    app: Amendwatch, site: Site, answer: tuple[int, str, bytes], reason: str
) -> None:
    app.snapshot(at=T0)
    site.pages["/sitemap.xml"] = answer
    del site.pages["/m/private-fostering.html"]  # now 404, and the sitemap cannot say
    for day in (1, 2, 3):
        report = app.snapshot(at=T0 + day * DAY)
        assert report.errors == () and report.results[0].contents_ok
        assert "removed" not in outcomes(report).values()
    assert chapters(app)["m/private-fostering.html"][1] is False
    # the failed sitemap never fails a run; the chapter that answers 404 leaves it partial
    assert runs_status(app) == ["ok"] + ["partial"] * 3
    failed = sitemap_observations(app)[1:]
    assert len(failed) == 3 and all(o == "failed" and reason in r for _, o, r in failed)
    assert lifecycle.has_completed_baseline(app.db, app.manuals()[0].id)


def runs_status(app: Amendwatch) -> list[str]:
    return [r["status"] for r in fetch_all(app.db, "SELECT status FROM runs ORDER BY id")]


def test_removed_only_when_gone_from_contents_and_sitemap_on_two_runs(
    app: Amendwatch, site: Site
) -> None:
    app.snapshot(at=T0)
    # b.html leaves the contents page but stays in the sitemap (and answers 404: listed, so
    # never "gone"); private-fostering.html leaves the sitemap and answers 404
    site.html("/m/contents.html", contents_html([("1.1", "Assessments", "a.html")]))
    site.sitemap("/sitemap.xml", ["/m/a.html", "/m/b.html"])
    del site.pages["/m/b.html"]
    del site.pages["/m/private-fostering.html"]
    second = app.snapshot(at=T0 + DAY)
    assert outcomes(second)["m/private-fostering.html"] == "missing"
    assert outcomes(second)["m/b.html"] == "failed"
    third = app.snapshot(at=T0 + 2 * DAY)
    assert outcomes(third)["m/private-fostering.html"] == "removed"
    assert outcomes(third)["m/b.html"] == "failed"
    assert chapters(app)["m/private-fostering.html"][1] is True
    assert chapters(app)["m/b.html"][1] is False


def test_sitemap_auto_finds_it_through_robots_txt(tmp_path: Path, site: Site) -> None:
    robots = f"User-agent: *\nDisallow: /private/\nSitemap: {site.base}/maps/chapters.xml\n"
    site.pages["/robots.txt"] = (200, "text/plain", robots.encode())
    site.sitemap("/maps/chapters.xml", ["/m/private-fostering.html"])
    del site.pages["/sitemap.xml"]
    db = tmp_path / "aw.db"
    added = cli_run(
        db, "manual", "add", "mini", f"{site.base}/m/contents.html", "--sitemap", "auto"
    )
    assert added.exit_code == 0, added.output
    listed = cli_run(db, "manual", "list")
    assert "sitemap: auto" in listed.output
    snap = cli_run(db, "snapshot", "--at", T0.isoformat(), "--quiet")
    assert snap.exit_code == 0, snap.output
    app = Amendwatch.open(Settings(db_path=db))
    try:
        assert "m/private-fostering.html" in chapters(app)
        assert [(u, o) for u, o, _ in sitemap_observations(app)] == [
            ("maps/chapters.xml", "sitemap")
        ]
        robots_row = fetch_one(app.db, "SELECT outcome FROM observations WHERE role = 'robots'")
        assert robots_row is not None and robots_row["outcome"] == "ok"
    finally:
        app.close()


def test_sitemap_auto_falls_back_to_sitemap_xml_and_tolerates_none(
    tmp_path: Path, site: Site
) -> None:
    app = open_app(tmp_path, site, "auto")
    try:
        app.snapshot(at=T0)
        assert "m/private-fostering.html" in chapters(app)
        del site.pages["/sitemap.xml"]  # no sitemap at all: the contents page alone decides
        del site.pages["/m/private-fostering.html"]
        app.snapshot(at=T0 + DAY)
        third = app.snapshot(at=T0 + 2 * DAY)
        assert outcomes(third)["m/private-fostering.html"] == "removed"
        assert [o for _, o, _ in sitemap_observations(app)] == ["sitemap", "absent", "absent"]
    finally:
        app.close()


def test_sitemap_option_is_checked_settable_and_clearable(tmp_path: Path, site: Site) -> None:
    app = open_app(tmp_path, site, None)
    try:
        assert app.manuals()[0].sitemap_url is None
        with pytest.raises(InputError, match="not on the contents page's host"):
            app.set_sitemap("mini", "https://elsewhere.example/sitemap.xml")
        with pytest.raises(InputError, match="not an http"):
            app.set_sitemap("mini", "sitemap.xml")
        assert app.set_sitemap("mini", " AUTO ").sitemap_url == "auto"
        assert app.set_sitemap("mini", f"{site.base}/s.xml").sitemap_url == f"{site.base}/s.xml"
        assert app.set_sitemap("mini", "none").sitemap_url is None
    finally:
        app.close()
    db = tmp_path / "aw.db"
    changed = cli_run(db, "manual", "set", "mini", "--sitemap", f"{site.base}/sitemap.xml")
    assert changed.exit_code == 0 and "sitemap http://127.0.0.1" in changed.output
    refused = cli_run(db, "manual", "add", "x", f"{site.base}/m/", "--sitemap", "ftp://x/s")
    assert refused.exit_code == 1 and "not an http(s) URL" in refused.output


def cli_run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def test_an_unchanged_sitemap_costs_a_304_and_is_read_from_its_capture(
    app: Amendwatch, site: Site
) -> None:
    site.etags["/sitemap.xml"] = '"v1"'
    app.snapshot(at=T0)
    second = app.snapshot(at=T0 + timedelta(days=1))
    sitemaps = [o for o in sitemap_observations(app) if o[0] == "sitemap.xml"]
    statuses = fetch_all(
        app.db, "SELECT status FROM observations WHERE url LIKE '%/sitemap.xml' ORDER BY id"
    )
    assert [row["status"] for row in statuses] == [200, 304]
    assert [outcome for _, outcome, _ in sitemaps] == ["sitemap", "sitemap"]
    assert "unchanged: 304" in sitemaps[1][2]
    # the chapter only the sitemap lists is still checked, not taken for removed
    assert outcomes(second)["m/private-fostering.html"] in ("unchanged", "not-modified")
    assert chapters(app)["m/private-fostering.html"][1] is False
