"""The per-page work done where a page is fetched (amendwatch/capturework.py), over real
loopback HTTP and a real SQLite file: the demo manual served as dynamic pages (a new footer,
time and token on every request), after a run of edition 1 and one of edition 2.

``prepare`` in the fetch session judges a page exactly as ``quick_analysis`` does in the
storing process, and its encoded capture decodes to the page's bytes against the URL's delta
base; a stored body that does not match its hash leaves the work undone (the fetch process
answers on) and the snapshot reports the damage as it did before the work moved; the bodies
a run stores from the fetch side's encoding verify; a chapter answered 304 last time is asked
for without a payload.

The database of those two runs is built once per module and copied for each test.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import zstandard

from amendwatch import pipeline
from amendwatch.analysisstage import Quick, latest_head, quick_analysis
from amendwatch.api import Amendwatch, utc_now
from amendwatch.capturework import Prepared, Prior, prepare, prepared_page, prior_for
from amendwatch.config import Settings
from amendwatch.demo.server import DemoServer
from amendwatch.errors import IntegrityError
from amendwatch.pipeline import POOL_MIN_CHAPTERS, _request
from amendwatch.runcontext import RunContext, site_policy
from scraper.fetch import FetchPolicy, FetchRequest
from scraper.fetchproc import FetchProcess
from scraper.models import Page
from scraper.session import FetchSession
from store import guards, lifecycle, observations
from store.models import Manual
from store.rows import fetch_all, fetch_one
from tests.integration.minisite import MiniSite, chapter_html, contents_html
from tests.integration.test_integration_quickpath import T0, latest

DAY = timedelta(days=1)
FORGED = zstandard.ZstdCompressor().compress(b"forged")  # valid zstd, of other bytes
EDITED = "/chapters/agency-roles.html"  # edited in edition 2: its reference is a delta


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer(validators=False, dynamic=True) as running:
        yield running


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, server: DemoServer) -> Path:
    """A database after the baseline (edition 1) and a run of edition 2 a week later: every
    chapter has a version with a guard (made by the baseline's parse), and the edited
    chapters' references are captures stored as deltas."""
    path = tmp_path_factory.mktemp("capturework") / "template.db"
    app = Amendwatch.open(Settings(db_path=path), clock=lambda: T0)
    app.add_manual("northmoor", f"{server.base_url}/")
    app.snapshot(["northmoor"], at=T0)
    server.set_edition(2)
    app.snapshot(["northmoor"], at=T0 + 7 * DAY)
    app.close()
    return path


@pytest.fixture(autouse=True)
def edition_two(server: DemoServer) -> Iterator[None]:
    server.set_edition(2)  # what the template stored last
    yield
    server.set_edition(2)


def opened(template: Path, path: Path) -> Amendwatch:
    """A copy of the template database, opened."""
    with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
        source.backup(target)
    source.close()
    target.close()
    return Amendwatch.open(Settings(db_path=path), clock=lambda: T0)


@pytest.fixture
def app(template: Path, tmp_path: Path) -> Iterator[Amendwatch]:
    copy = opened(template, tmp_path / "aw.db")
    yield copy
    copy.close()


@pytest.fixture
def fresh_bases(monkeypatch: pytest.MonkeyPatch) -> None:
    """No verified bodies in memory, as in a new ``amendwatch snapshot`` process (this one
    built the template, so its cache holds the bytes the tests damage on disk)."""
    monkeypatch.setattr(
        observations, "_BASES", observations._BaseCache(observations.BASE_CACHE_BYTES)
    )


def northmoor(app: Amendwatch) -> Manual:
    return app.manual("northmoor")


def chapters(app: Amendwatch) -> dict[str, str]:
    """Each chapter's URL and its latest version's fingerprint."""
    return {str(row["url"]): str(row["fingerprint"]) for row in latest(app)}


def with_body(page: Page, prior: object) -> Page:
    """The page with ``prepare``'s work and its body kept (to compare the two)."""
    return page.with_work(prepare(page, prior))


def fetch_prepared(
    app: Amendwatch, priors: dict[str, Prior | None]
) -> dict[str, tuple[Page, Prior | None]]:
    """Each URL fetched in one batch by a session that prepares pages, as the fetch process's
    session does, each request with its prior (the body kept)."""
    policy = site_policy(app.settings.fetch, northmoor(app))
    requests = [FetchRequest(url, payload=prior) for url, prior in priors.items()]
    with FetchSession(policy, lambda: T0, prepare=with_body) as session:
        pages = session.fetch(requests)
    return {page.url: (page, priors[page.url]) for page in pages}


def priors_of(app: Amendwatch) -> dict[str, Prior | None]:
    manual = northmoor(app)
    return {url: prior_for(app.db, manual, url, known) for url, known in chapters(app).items()}


def judged(quick: Quick) -> tuple[bool | None, bool]:
    """What the pipeline acts on: same content (None: parse it), and whether to guard it."""
    return (None if quick.analysis is None else quick.analysis.same, quick.want_guard)


def both_ways(app: Amendwatch, page: Page, fingerprint: str) -> tuple[Quick, Quick]:
    """``quick_analysis`` on the prepared page, and on the same page left to the storing
    process (as before the work moved, or when ``prepare`` gave up)."""
    manual = northmoor(app)
    return (
        quick_analysis(app.db, manual, page, fingerprint),
        quick_analysis(app.db, manual, replace(page, work=None), fingerprint),
    )


def decoded(app: Amendwatch, page: Page, work: Prepared) -> bytes:
    encoded = work.encoded
    base_bytes = None if encoded.base is None else observations.get_body(app.db, encoded.base)
    return observations.unpack_body(encoded.compression, encoded.data, base_bytes, page.body_hash)


# the quick check and the encoding, in the fetch session -----------------------------------


def test_unchanged_dynamic_pages_are_judged_same_in_the_fetch_session(app: Amendwatch) -> None:
    known = chapters(app)
    fetched = fetch_prepared(app, priors_of(app))
    assert len(fetched) == len(known) == 12
    for url, (page, prior) in fetched.items():
        assert prior is not None and prior.reference is not None, url
        assert isinstance(page.work, Prepared), url
        assert page.work.checked and page.work.same and not page.work.want_guard, url
        there, here = both_ways(app, page, known[url])
        assert judged(there) == judged(here) == (True, False), url
        assert there.analysis == here.analysis  # "same content", the version's fingerprint


@pytest.mark.parametrize("edition", [1, 3])
def test_pages_edited_on_the_server_are_not_same_either_way(
    app: Amendwatch, server: DemoServer, edition: int
) -> None:
    """Edition 1 undoes edition 2's edits (references stored as deltas); edition 3 edits
    other chapters (references stored whole) and removes one (404: no work)."""
    known = chapters(app)
    server.set_edition(edition)
    fetched = fetch_prepared(app, priors_of(app))
    edited = set()
    for url, (page, _) in fetched.items():
        if not page.ok:
            assert edition == 3 and page.status == 404 and page.work is None, url
            continue
        assert isinstance(page.work, Prepared) and page.work.checked, url
        there, here = both_ways(app, page, known[url])
        assert judged(there) == judged(here), url
        assert page.work.same == (there.analysis is not None), url
        if not page.work.same:
            edited.add(url.removeprefix(server.base_url))
    # the edited chapters at least (the check may send more to the parse: edition 3 changes
    # the chapter links around two more, whose content the snapshot finds unchanged)
    chapter = "/chapters/{}.html".format
    expected = {
        1: {EDITED, chapter("domestic-abuse"), chapter("initial-child-protection-conferences")},
        3: {chapter("child-protection-review-conferences"), chapter("dangerous-dogs")},
    }
    assert expected[edition] <= edited


def test_the_encoded_capture_decodes_to_the_page_against_the_urls_delta_base(
    app: Amendwatch, server: DemoServer
) -> None:
    server.set_edition(3)  # unchanged and edited pages alike
    fetched = fetch_prepared(app, priors_of(app))
    deltas = 0
    for url, (page, prior) in fetched.items():
        if not page.ok:
            continue
        assert isinstance(page.work, Prepared) and prior is not None
        base = page.work.encoded.base
        assert prior.base == observations.delta_base(app.db, url) is not None
        if base is not None:
            deltas += 1
            assert base == prior.base, url  # a delta only ever against the URL's base
            assert stored_whole(app, base), url  # bases are never deltas themselves
        assert decoded(app, page, page.work) == page.body, url
    assert deltas >= 9  # the dynamic footer is a small delta; only edited pages may not be


def test_pages_judged_same_come_back_without_their_body_and_are_stored_as_fetched(
    app: Amendwatch,
) -> None:
    priors = priors_of(app)
    policy = site_policy(app.settings.fetch, northmoor(app))
    with FetchProcess(policy, utc_now, prepare=prepared_page) as process:
        pages = process.fetch([FetchRequest(url, payload=prior) for url, prior in priors.items()])
    for page in pages:  # the dynamic footer: each a splice of its URL's base, no body sent
        assert isinstance(page.work, Prepared) and page.work.same, page.url
        assert page.body == b"" and page.work.encoded.base is not None, page.url
        base = observations.get_body(app.db, page.work.encoded.base)
        fetched = observations.unpack_body(
            page.work.encoded.compression, page.work.encoded.data, base, page.body_hash
        )  # the hash the page kept is that of the bytes fetched
        assert len(fetched) == page.work.encoded.size and fetched != base, page.url
    report = app.snapshot(["northmoor"], at=T0 + 8 * DAY)
    assert {o.outcome for o in report.results[0].outcomes} == {"unchanged"}
    stored = fetch_all(
        app.db,
        "SELECT b.sha256, b.size, b.compression FROM observations o JOIN bodies b"
        " ON b.sha256 = o.body_sha256 WHERE o.run_id = (SELECT max(id) FROM runs)"
        " AND o.role = 'chapter'",
    )
    assert len(stored) == len(pages) and "splice" in {row["compression"] for row in stored}
    for row in stored:
        assert len(observations.get_body(app.db, row["sha256"])) == row["size"]
    assert app.verify().ok


def stored_whole(app: Amendwatch, sha256: str) -> bool:
    row = observations.stored_row(app.db, sha256)
    assert row is not None
    return row[2] is None


def test_a_page_with_no_base_is_encoded_whole(app: Amendwatch) -> None:
    url = next(iter(chapters(app)))
    alone = Prior((), None, None)  # a new URL: nothing stored, no quick check
    (page, _) = fetch_prepared(app, {url: alone})[url]
    assert isinstance(page.work, Prepared)
    assert not page.work.checked and not page.work.same and page.work.want_guard
    assert page.work.encoded.base is None and page.work.encoded.compression == "zstd"
    assert decoded(app, page, page.work) == page.body


# damaged stored bodies ---------------------------------------------------------------------


def damage(path: Path, sha256: str) -> None:
    with sqlite3.connect(path) as conn:
        changed = conn.execute("UPDATE bodies SET data = ? WHERE sha256 = ?", (FORGED, sha256))
        assert changed.rowcount == 1
    conn.close()


def edited_bodies(app: Amendwatch, url: str) -> dict[str, str]:
    """The edited chapter's reference capture (a delta) and its delta base (stored whole)."""
    reference = guards.reference_for(app.db, chapters(app)[url])
    assert reference is not None
    stored = observations.stored_row(app.db, reference.body_sha256)
    assert stored is not None and stored[2] is not None  # the reference is a delta ...
    assert observations.delta_base(app.db, url) == stored[2]  # ... on the URL's base
    return {"reference": reference.body_sha256, "base": stored[2]}


def run_row(app: Amendwatch, run_id: int) -> tuple[str, str, int]:
    """The run's status and errors as kept, and how many observations it recorded."""
    row = fetch_one(app.db, "SELECT status, errors FROM runs WHERE id = ?", (run_id,))
    kept = fetch_all(app.db, "SELECT id FROM observations WHERE run_id = ?", (run_id,))
    return str(row["status"]), str(row["errors"]), len(kept)


@pytest.mark.usefixtures("fresh_bases")
@pytest.mark.parametrize("which", ["reference", "base"])
def test_a_body_that_does_not_match_its_hash_leaves_the_work_to_the_storing_process(
    template: Path, tmp_path: Path, server: DemoServer, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    with_work = opened(template, tmp_path / "with.db")
    without = opened(template, tmp_path / "without.db")
    url = server.base_url + EDITED
    sha = edited_bodies(with_work, url)[which]
    for app in (with_work, without):
        app.close()
        damage(Path(app.settings.db_path), sha)
    with_work = Amendwatch.open(Settings(db_path=tmp_path / "with.db"), clock=lambda: T0)
    without = Amendwatch.open(Settings(db_path=tmp_path / "without.db"), clock=lambda: T0)

    # the fetch process: the damaged chapter comes back unprepared, the others in its batch
    # prepared, and the child answers the next batch too
    priors = priors_of(with_work)
    assert priors[url] is not None  # read as stored: nothing is checked in the storing process
    others = [other for other in priors if other != url][:2]
    policy = site_policy(with_work.settings.fetch, northmoor(with_work))
    with FetchProcess(policy, utc_now, prepare=prepared_page) as process:
        pages = process.fetch([FetchRequest(u, payload=priors[u]) for u in [url, *others]])
        (again,) = process.fetch([FetchRequest(url, payload=priors[url])])
    works = {page.url: page.work for page in pages}
    assert works.pop(url) is None and again.work is None and again.ok
    assert len(works) == 2
    assert all(isinstance(work, Prepared) and work.same for work in works.values())

    # the snapshot: the storing process meets the damage and says so, as it did before the
    # work moved (no payloads: what ``_request`` sent then)
    with_report = with_work.snapshot(["northmoor"], at=T0 + 8 * DAY)
    monkeypatch.setattr(
        observations, "_BASES", observations._BaseCache(observations.BASE_CACHE_BYTES)
    )
    monkeypatch.setattr(pipeline, "prior_for", lambda *args: None)
    without_report = without.snapshot(["northmoor"], at=T0 + 8 * DAY)

    problem = f"northmoor: body {sha[:12]}: content does not match its hash ({IntegrityError.hint})"
    assert with_report.errors == without_report.errors == (problem,)
    assert with_report.results == without_report.results == ()
    assert run_row(with_work, with_report.run_id) == run_row(without, without_report.run_id)
    assert run_row(with_work, with_report.run_id)[0] == "errors"
    for app in (with_work, without):
        check = app.verify()
        assert not check.ok and any(sha[:12] in problem for problem in check.problems)
        app.close()


# what a run stores -----------------------------------------------------------------------


def run_bodies(app: Amendwatch, run_id: int) -> list[dict[str, object]]:
    return fetch_all(
        app.db,
        "SELECT DISTINCT o.url, b.sha256, b.compression, b.data, b.base_sha256 FROM observations o"
        " JOIN bodies b ON b.sha256 = o.body_sha256 WHERE o.run_id = ? AND o.role = 'chapter'",
        (run_id,),
    )


def assert_stored_as_prepared(
    app: Amendwatch, run_id: int, bases: dict[str, str | None]
) -> list[dict[str, object]]:
    """Every chapter body the run stored decodes to its hash, a delta only against the base
    its prior carried, and the whole database verifies."""
    stored = run_bodies(app, run_id)
    for row in stored:
        base = row["base_sha256"]
        assert base is None or base == bases[str(row["url"])], row["url"]
        base_bytes = None if base is None else observations.get_body(app.db, str(base))
        data = row["data"]
        assert isinstance(data, bytes)
        body = observations.unpack_body(
            str(row["compression"]), data, base_bytes, str(row["sha256"])
        )
        assert hashlib.sha256(body).hexdigest() == row["sha256"]
    check = app.verify()
    assert check.ok, check.problems
    return stored


def test_a_runs_stored_captures_verify(app: Amendwatch, server: DemoServer) -> None:
    server.set_edition(3)
    bases = {url: prior.base for url, prior in priors_of(app).items() if prior is not None}
    report = app.snapshot(["northmoor"], at=T0 + 14 * DAY)
    outcomes = {o.outcome for o in report.results[0].outcomes}
    assert {"unchanged", "new-version", "missing"} <= outcomes
    stored = assert_stored_as_prepared(app, report.run_id, bases)
    assert len(stored) == 12  # one chapter removed, one new
    new = [row for row in stored if str(row["url"]) not in bases]
    assert len(new) == 1 and new[0]["base_sha256"] is None  # no earlier capture: stored whole
    assert sum(row["base_sha256"] is not None for row in stored) >= 9


def test_a_large_manual_fetched_in_fetch_processes_stores_captures_that_verify(
    tmp_path: Path,
) -> None:
    """Enough chapters for the fetch processes (a pickling clock): the pages are prepared in
    the children and stored from their encoding."""
    count = POOL_MIN_CHAPTERS + 2
    with MiniSite() as site:
        refs = [(f"1.{n}", f"Chapter {n}", f"/ch/{n}.html") for n in range(count)]
        site.pages["/"] = contents_html(refs)
        for number, title, url in refs:
            site.pages[url] = chapter_html(title, [("1. Scope", f"Text of {number}. " * 40)])
        app = Amendwatch.open(Settings(db_path=tmp_path / "big.db"), clock=utc_now)
        app.add_manual("big", f"{site.base_url}/")
        app.snapshot(["big"], at=T0)
        for _, _, url in refs:  # every page served with another footer: a delta each
            site.pages[url] = site.pages[url].replace("</main>", "</main><p>Build 2</p>")
        site.pages["/ch/7.html"] = site.pages["/ch/7.html"].replace("Text of 1.7.", "Edited.")
        manual = app.manual("big")
        priors = {
            site.base_url + url: prior_for(app.db, manual, site.base_url + url, None)
            for _, _, url in refs
        }  # as ``_request`` builds them (the chapters' fingerprints do not change the base)
        report = app.snapshot(["big"], at=T0 + DAY)
    outcomes = [o.outcome for o in report.results[0].outcomes]
    assert outcomes.count("new-version") == 1 and outcomes.count("unchanged") == count - 1
    stored = assert_stored_as_prepared(
        app, report.run_id, {url: p.base if p else None for url, p in priors.items()}
    )
    assert len(stored) == count
    assert sum(row["base_sha256"] is not None for row in stored) >= count - 1  # all but the edit
    app.close()


# 304s ------------------------------------------------------------------------------------


def test_a_chapter_answered_304_last_time_is_asked_for_without_a_payload(tmp_path: Path) -> None:
    """The demo server with validators: ETags, and 304 to a matching If-None-Match."""
    with DemoServer(validators=True, dynamic=True) as server:
        app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0)
        manual = app.add_manual("northmoor", f"{server.base_url}/")
        session = FetchSession(FetchPolicy(), lambda: T0)  # never entered: _request fetches none
        ctx = RunContext(app.db, manual, app.settings, lambda: T0, None, False, session)

        def requests() -> dict[str, FetchRequest]:
            rows = lifecycle.active_chapters(app.db, manual.id)
            return {row.url: _request(ctx, row, latest_head(ctx, row.id)) for row in rows}

        app.snapshot(["northmoor"], at=T0)  # 200s, with ETags
        first = requests()
        assert len(first) == 12
        for url, request in first.items():  # the first conditional GET: 304 expected
            assert request.etag and observations.likely_not_modified(app.db, url)
            assert request.payload is None, url

        report = app.snapshot(["northmoor"], at=T0 + DAY)  # all 304
        assert {o.outcome for o in report.results[0].outcomes} == {"not-modified"}
        second = requests()
        for url, request in second.items():
            assert observations.likely_not_modified(app.db, url)
            assert request.payload is None and request.etag == first[url].etag, url

        # a 304 answer is given no work, even when a payload goes with its request
        url, request = next(iter(first.items()))
        head = latest_head(ctx, lifecycle.active_chapters(app.db, manual.id)[0].id)
        prior = prior_for(app.db, manual, url, None if head is None else head.fingerprint)
        assert isinstance(prior, Prior) and prior.reference is not None  # the baseline's guard
        assert prior.base == observations.delta_base(app.db, url) is not None
        policy = site_policy(app.settings.fetch, manual)
        with FetchSession(policy, lambda: T0, prepare=prepared_page) as fetching:
            (page,) = fetching.fetch([replace(second[url], payload=prior)])
        assert isinstance(prior, Prior) and page.status == 304 and page.work is None

        server.set_edition(2)  # three chapters edited: 200 again, and a payload next time
        report = app.snapshot(["northmoor"], at=T0 + 7 * DAY)
        edited = {o.url for o in report.results[0].outcomes if o.outcome == "new-version"}
        third = requests()
        app.close()
    assert len(edited) == 3  # answered 200 to a conditional GET: a payload next time
    assert {url for url, request in third.items() if request.payload is not None} == edited
    assert all(request.etag for request in third.values())
