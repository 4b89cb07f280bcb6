"""Point-in-time browsing and search: a chapter's timeline and section lineage, its text as it
stood on a date with honest bounds, a redline of two versions, the whole manual as of a date,
and full-text search kept up to date as versions are added."""

from __future__ import annotations

import re
from pathlib import Path

from store.db import open_db
from store.search import refresh_index, search
from tests.web.conftest import Clock, logged_in, make_client

CONFERENCES = 7  # "Initial Child Protection Conferences": section 5 inserted in edition 2


def test_a_chapter_as_of_a_date_with_honest_bounds(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        logged_in(client, "viewer")
        page = client.get(f"/chapters/{CONFERENCES}").text
        assert "v7" in page and "v14" in page  # the timeline
        before = client.get(f"/chapters/{CONFERENCES}?as_of=2026-11-05").text
        assert "version 7" in before
        assert "seen unchanged from 2026-11-02 09:00 to 2026-11-02 09:00" in before
        assert "changed between 2026-11-02 09:00 and 2026-11-09 09:00" in before
        assert "Pre-birth Conferences" not in before.split('id="as-of"')[1].split("</article>")[0]
        after = client.get(f"/chapters/{CONFERENCES}?as_of=2026-11-10").text
        assert "version 14" in after and "no change observed since" in after
        assert "Section 5, Pre-birth Conferences" in after
        early = client.get(f"/chapters/{CONFERENCES}?as_of=2026-10-01").text
        assert "not yet observed (first observed 2026-11-02" in early
        bad = client.get(f"/chapters/{CONFERENCES}?as_of=last tuesday")
        assert bad.status_code == 400 and "not a date" in bad.text


def test_section_lineage_follows_a_renumbered_section(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        logged_in(client, "viewer")
        page = client.get(f"/chapters/{CONFERENCES}?section=7:7:7").text
        rows = re.findall(r"<tr><td>v(\d+)</td>.*?<td>(yes|no)</td><td>([^<]*)</td>", page)
        assert [(v, n.strip()) for v, _, n in rows] == [
            ("7", "5 Who Should Attend"),
            ("14", "6 Who Should Attend"),
        ]
        assert client.get(f"/chapters/{CONFERENCES}?section=nothing-like-it").status_code == 404


def test_two_versions_compared_as_a_redline(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        logged_in(client, "viewer")
        page = client.get(f"/chapters/{CONFERENCES}/compare?from=v7&to=v14").text
        assert "v7 → v14" in page and "Pre-birth Conferences" in page
        assert "<ins" in page and "<del" in page
        same = client.get(f"/chapters/{CONFERENCES}/compare?from=v14&to=v14").text
        assert "the same sections and text" in same
        other = client.get(f"/chapters/{CONFERENCES}/compare?from=v3&to=v14")
        assert other.status_code == 400 and "is not a version of" in other.text


def test_the_whole_manual_as_of_a_date(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        logged_in(client, "viewer")
        first = client.get("/manuals/northmoor?as_of=2026-11-05").text
        assert "Safeguarding Children from Dangerous Dogs" in first
        assert "Harmful Sexual Behaviour" not in first
        later = client.get("/manuals/northmoor?as_of=2026-11-16T10:00").text
        assert "Keeping Children Safe around Dogs" in later and "Harmful Sexual Behaviour" in later
        assert client.get("/manuals/nonesuch").status_code == 404


def test_search_finds_current_text_and_titles_and_follows_new_versions(
    db_path: Path, clock: Clock
) -> None:
    with make_client(db_path, clock) as client:
        logged_in(client, "viewer")
        page = client.get("/search?q=pre-birth conferences").text
        assert "Section 5, <mark>Pre</mark>-<mark>birth</mark> <mark>Conferences</mark>" in page
        assert f'href="/chapters/{CONFERENCES}"' in page
        nothing = client.get('/search?q="unbalanced AND (quote').text  # no FTS5 syntax error
        assert "0 sections found" in nothing
    db = open_db(db_path)
    try:
        assert refresh_index(db) == 0  # nothing changed since the page searched
        titles = {hit.chapter_title for hit in search(db, "dogs")}
        assert titles == {"Keeping Children Safe around Dogs"}  # the current title only
        db.execute("UPDATE chapters SET removed_at = '2026-11-17T00:00:00+00:00' WHERE id = 13")
        assert refresh_index(db) == 0  # a removal re-indexes nothing, it drops rows
        assert not [h for h in search(db, "sexual behaviour") if h.chapter_id == 13]
        assert refresh_index(db, full=True) == 12
    finally:
        db.close()
