"""The kept contents listing (store/listings.py, schema 0014) and its use by the contents stage
(amendwatch/contentsstage.py ``_parse``): a listing round-trips, is found only under the same
capture hash and rules, is one row per manual, is reused by a snapshot whose contents page is
byte for byte unchanged, and is parsed again when the page's bytes or the manual's hosts or
Amendments URL change."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.contentsstage import _parse
from amendwatch.runcontext import RunContext
from scraper.fetch import FetchPolicy
from scraper.models import ChapterRef, Contents, Page, Skipped
from scraper.session import FetchSession
from store.db import open_db
from store.listings import cached_listing, remember_listing
from store.manuals import add_manual
from store.models import Manual
from store.rows import fetch_all
from store.seals import SEALED, SEALED_BY_0014
from tests.integration.minisite import MiniSite, chapter_html, contents_html

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SHA = hashlib.sha256(b"contents page").hexdigest()
OTHER_SHA = hashlib.sha256(b"another contents page").hexdigest()
RULES = '["0.1.0","parser","https://m.example/","[]",null]'
CONTENTS = Contents(
    url="https://m.example/contents.html",
    title="Procedures Manual – Contents",
    chapters=(
        ChapterRef("https://m.example/a.html", "Assessments"),
        ChapterRef("https://m.example/b.html", "Referrals", number="1.2", part="1. Procedures"),
        ChapterRef("https://m.example/c.html", "Conférences «élargies»", number="1.3"),
    ),
    skipped=(
        Skipped("https://m.example/print", "Print", "not a chapter: a print link"),
        Skipped("mailto:x@m.example", "Email", "not http(s)"),
    ),
)
LISTED = [
    ("1.1", "Assessments", "/a.html"),
    ("1.2", "Referrals", "/b.html"),
    ("1.3", "Conferences", "/c.html"),
]


def listing_rows(db: Database) -> list[dict[str, object]]:
    return fetch_all(db, "SELECT manual_id, body_sha256, rules, data FROM listings ORDER BY id")


# --- store/listings.py -----------------------------------------------------------------------


@pytest.fixture
def db_file(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    path = tmp_path / "aw.db"
    db = open_db(path)
    add_manual(db, "one", "https://m.example/contents.html", now=T0)
    add_manual(db, "two", "https://n.example/contents.html", now=T0)
    yield db, path
    db.close()


def test_a_listing_round_trips_through_the_file(db_file: tuple[Database, Path]) -> None:
    db, path = db_file
    remember_listing(db, 1, SHA, RULES, CONTENTS)
    assert cached_listing(db, 1, SHA, RULES) == CONTENTS
    db.close()
    reopened = open_db(path)
    try:
        again = cached_listing(reopened, 1, SHA, RULES)
    finally:
        reopened.close()
    assert again == CONTENTS
    assert again is not None and [(c.number, c.part) for c in again.chapters] == [
        (None, None),
        ("1.2", "1. Procedures"),
        ("1.3", None),
    ]


def test_an_empty_listing_round_trips(db_file: tuple[Database, Path]) -> None:
    db, _ = db_file
    empty = Contents(url="https://m.example/contents.html", title="", chapters=())
    remember_listing(db, 1, SHA, RULES, empty)
    assert cached_listing(db, 1, SHA, RULES) == empty


def test_a_listing_is_found_only_under_its_hash_rules_and_manual(
    db_file: tuple[Database, Path],
) -> None:
    db, _ = db_file
    remember_listing(db, 1, SHA, RULES, CONTENTS)
    assert cached_listing(db, 1, OTHER_SHA, RULES) is None
    assert cached_listing(db, 1, SHA, RULES.replace("0.1.0", "0.1.1")) is None
    assert cached_listing(db, 1, SHA, RULES.replace('"[]"', '"[\\"cdn.example\\"]"')) is None
    assert cached_listing(db, 2, SHA, RULES) is None  # another manual's capture


def test_remembering_again_replaces_the_manuals_one_row(db_file: tuple[Database, Path]) -> None:
    db, _ = db_file
    remember_listing(db, 1, SHA, RULES, CONTENTS)
    remember_listing(db, 2, SHA, RULES, CONTENTS)
    shorter = replace(CONTENTS, chapters=CONTENTS.chapters[:1], skipped=())
    remember_listing(db, 1, OTHER_SHA, RULES, shorter)
    rows = listing_rows(db)
    assert [(row["manual_id"], row["body_sha256"]) for row in rows] == [(1, OTHER_SHA), (2, SHA)]
    assert cached_listing(db, 1, SHA, RULES) is None  # the replaced capture is gone
    assert cached_listing(db, 1, OTHER_SHA, RULES) == shorter
    assert cached_listing(db, 2, SHA, RULES) == CONTENTS  # the other manual's row is untouched


def test_listings_are_sealed() -> None:
    """``verify`` catches an edited listing: tests/audit/test_audit_tamper.py edits, deletes,
    copies and swaps a row of every table of ``SEALED``, and the whole kept listing (``data``
    with its key) is in the seal."""
    assert SEALED_BY_0014 == ("listings",)
    assert set(SEALED["listings"]) == {"manual_id", "body_sha256", "rules", "data"}


# --- the contents stage through the real pipeline ----------------------------------------------


@pytest.fixture
def site() -> Iterator[MiniSite]:
    with MiniSite() as running:
        running.pages["/"] = contents_html(LISTED)
        for _, title, path in LISTED:
            running.pages[path] = chapter_html(title, [("1. Purpose", f"What {title} is for.")])
        yield running


@pytest.fixture
def app(tmp_path: Path, site: MiniSite) -> Iterator[Amendwatch]:
    opened = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0)
    opened.add_manual("mini", f"{site.base_url}/")
    yield opened
    opened.close()


def outcomes(app: Amendwatch, at: datetime) -> dict[str, str]:
    (result,) = app.snapshot(at=at).results
    assert result.contents_ok
    return {o.url.rsplit("/", 1)[-1]: o.outcome for o in result.outcomes}


def test_an_unchanged_contents_page_reuses_the_kept_listing(
    app: Amendwatch, site: MiniSite
) -> None:
    first = outcomes(app, T0)
    assert set(first) == {"a.html", "b.html", "c.html"}
    (row,) = listing_rows(app.db)
    manual = app.manual("mini")
    assert row["manual_id"] == manual.id
    assert row["body_sha256"] == hashlib.sha256(site.pages["/"].encode()).hexdigest()
    kept = cached_listing(app.db, manual.id, str(row["body_sha256"]), str(row["rules"]))
    assert kept is not None and [c.url.rsplit("/", 1)[-1] for c in kept.chapters] == [
        "a.html",
        "b.html",
        "c.html",
    ]

    # the kept listing, doctored to omit b.html under the same capture hash and rules: a run
    # that reuses it (instead of parsing the unchanged page again) does not check b.html
    doctored = replace(kept, chapters=tuple(c for c in kept.chapters if "/b.html" not in c.url))
    remember_listing(app.db, manual.id, str(row["body_sha256"]), str(row["rules"]), doctored)
    second = outcomes(app, T0 + DAY)
    assert second["a.html"] == second["c.html"] == "unchanged"
    assert second["b.html"] == "missing"  # known, not listed: looked up, never checked
    assert cached_listing(app.db, manual.id, str(row["body_sha256"]), str(row["rules"])) == (
        doctored
    )

    # another byte on the contents page: parsed again, and b.html is listed and checked
    site.pages["/"] = site.pages["/"].replace("<body>", "<body><!-- rebuilt -->")
    third = outcomes(app, T0 + 2 * DAY)
    assert third == {"a.html": "unchanged", "b.html": "unchanged", "c.html": "unchanged"}
    (again,) = listing_rows(app.db)
    assert again["body_sha256"] == hashlib.sha256(site.pages["/"].encode()).hexdigest()
    assert again["body_sha256"] != row["body_sha256"] and again["rules"] == row["rules"]
    assert app.verify().ok


def contents_ctx(app: Amendwatch, manual: Manual) -> RunContext:
    session = FetchSession(FetchPolicy(), lambda: T0)  # never entered: _parse fetches nothing
    return RunContext(app.db, manual, app.settings, lambda: T0, None, False, session)


def test_other_hosts_or_amendments_url_parse_again(app: Amendwatch, site: MiniSite) -> None:
    """What the parse depends on besides the bytes (the manual's allowed hosts and Amendments
    URL) is part of the rules: a listing kept under the old ones is not reused."""
    manual = app.manual("mini")
    body = site.pages["/"].replace(
        "</ul>", '<li><a href="https://cdn.example/d.html">1.4 Duties</a></li></ul>'
    )
    url = f"{site.base_url}/"
    page = Page(url, url, 200, (("Content-Type", "text/html"),), body.encode(), T0)
    parsed = _parse(contents_ctx(app, manual), page, ())
    assert len(parsed.chapters) == 3  # cdn.example is not one of the manual's hosts
    (row,) = listing_rows(app.db)
    doctored = replace(parsed, chapters=parsed.chapters[:1])
    remember_listing(app.db, manual.id, page.body_hash, str(row["rules"]), doctored)
    assert _parse(contents_ctx(app, manual), page, ()) == doctored  # same bytes, same rules

    hosts = replace(manual, allowed_hosts=("cdn.example",))
    reparsed = _parse(contents_ctx(app, hosts), page, ())
    assert [c.url.rsplit("/", 1)[-1] for c in reparsed.chapters] == [
        "a.html",
        "b.html",
        "c.html",
        "d.html",
    ]
    (by_hosts,) = listing_rows(app.db)
    assert by_hosts["body_sha256"] == page.body_hash and by_hosts["rules"] != row["rules"]

    remember_listing(app.db, manual.id, page.body_hash, str(row["rules"]), doctored)
    amendments = replace(manual, amendments_url=f"{site.base_url}/amendments.html")
    assert len(_parse(contents_ctx(app, amendments), page, ()).chapters) == 3
    (by_amendments,) = listing_rows(app.db)
    assert by_amendments["rules"] not in (row["rules"], by_hosts["rules"])
