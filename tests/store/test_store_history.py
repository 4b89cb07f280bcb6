from __future__ import annotations

import pytest

from amendwatch.errors import AmbiguousError, NotFoundError
from differ.models import ChapterDiff, Edit, SectionChange
from scraper.models import ChapterRef, Link
from store.history import (
    changes_in,
    chapter_history,
    failures_in,
    find_chapter,
    manual_as_of,
    section_timeline,
    version_as_of,
)
from store.observations import record_observation
from store.versions import add_version, mark_removed, record_change, upsert_chapter
from tests.store.storekit import (
    URL,
    chapter,
    day,
    new_db,
    observe_unchanged,
    observe_version,
    page,
    sec,
    seed,
)
from tests.store.test_store_versions import PAIRS_1_2, V1, V2

V3 = chapter(
    "Pre-birth Child Protection Procedure",
    sec("1", "Scope of this Chapter", "This chapter applies to unborn babies."),
    sec("2", "Assessment", "A pre-birth assessment starts at 12 weeks."),
    sec("3", "Referral", "Referrals are made to children's social care."),
    sec(
        "4",
        "Pre-birth Child Protection Conferences",
        "A conference is held within 10 working days.",
    ),
    sec("5", "Review", "The plan is reviewed."),
)


def _update_diff(old_id: int, new_id: int) -> ChapterDiff:
    change = SectionChange(
        kinds=frozenset({"modified", "renumbered"}),
        old=V1.sections[2],
        new=V2.sections[3],
        edits=(Edit(0, "within "), Edit(-1, "15"), Edit(1, "10"), Edit(0, " working days.")),
        links_added=(Link("Assessment", "https://x/a"),),
        similarity=0.875,
        flags=frozenset({"duration"}),
    )
    added = SectionChange(kinds=frozenset({"added"}), old=None, new=V2.sections[1])
    return ChapterDiff(
        chapter_url=URL,
        kind="updated",
        old_version=old_id,
        new_version=new_id,
        sections=(change, added),
        pairs=PAIRS_1_2,
    )


@pytest.fixture
def story():  # type: ignore[no-untyped-def]
    """v1 on day 1 (seen again day 3), v2 on day 5 (seen day 6), v3 on day 10."""
    db = new_db()
    manual, row = seed(db)
    v1 = observe_version(db, row, V1, day(1), None)
    new_diff = ChapterDiff(URL, "new", None, v1.id, (), new_title=V1.title)
    record_change(db, new_diff, chapter_id=row.id, detected_at=day(1), run_id=None)
    observe_unchanged(db, row, v1, day(3))
    v2 = observe_version(db, row, V2, day(5), v1, PAIRS_1_2)
    record_change(
        db, _update_diff(v1.id, v2.id), chapter_id=row.id, detected_at=day(5), run_id=None
    )
    observe_unchanged(db, row, v2, day(6))
    v3 = observe_version(db, row, V3, day(10), v2, tuple((i, i) for i in range(5)))
    return db, manual, row, (v1, v2, v3)


def test_changes_in_rebuilds_the_stored_diff_exactly(story) -> None:  # type: ignore[no-untyped-def]
    db, manual, row, (v1, v2, _v3) = story
    found = changes_in(db, day(0), day(7))
    assert [c.diff.kind for c in found] == ["new", "updated"]
    new, updated = found
    assert updated.diff == _update_diff(v1.id, v2.id)
    assert (updated.old_content_hash, updated.new_content_hash) == (
        v1.content_hash,
        v2.content_hash,
    )
    assert updated.manual == manual.name and updated.chapter_url == row.url
    assert new.summary == "This chapter applies to unborn babies."
    assert changes_in(db, day(2), day(5)) == ()  # half-open: [start, end)
    assert [c.change_id for c in changes_in(db, day(5), day(6))] == [updated.change_id]
    assert changes_in(db, day(0), day(7), manual="other") == ()


def test_failures_in_lists_failed_and_suspect_fetches(story) -> None:  # type: ignore[no-untyped-def]
    db, manual, row, _ = story
    for n, outcome in ((6.5, "failed"), (6.6, "suspect"), (6.7, "unchanged")):
        record_observation(
            db,
            page(row.url, b"", day(n), status=503),
            manual_id=manual.id,
            chapter_id=row.id,
            role="chapter",
            outcome=outcome,
            reason=f"{outcome} fetch",
        )
    found = failures_in(db, day(6), day(7))
    assert [(f.reason, f.status, f.manual) for f in found] == [
        ("failed fetch", 503, manual.name),
        ("suspect fetch", 503, manual.name),
    ]
    assert failures_in(db, day(7), day(8)) == ()


def test_version_as_of_gives_honest_bounds(story) -> None:  # type: ignore[no-untyped-def]
    db, _manual, row, (v1, v2, v3) = story
    before = version_as_of(db, row.id, day(0))
    assert before.version is None and "not yet observed" in before.reason
    within = version_as_of(db, row.id, day(4))
    assert within.version == v1.__class__(
        **{**v1.__dict__, "valid_to": day(5), "last_seen": day(3)}
    )
    assert (within.seen_from, within.seen_until, within.next_change_at) == (day(1), day(3), day(5))
    assert within.next_observed_at == day(5)
    exact = version_as_of(db, row.id, day(5))
    assert exact.version is not None and exact.version.id == v2.id
    assert exact.seen_until == day(5)
    after = version_as_of(db, row.id, day(30))
    assert after.version is not None and after.version.id == v3.id
    assert after.next_change_at is None and after.next_observed_at is None


def test_section_timeline_follows_renumbering_and_renaming(story) -> None:  # type: ignore[no-untyped-def]
    db, _manual, row, (v1, v2, v3) = story
    events = section_timeline(db, row.id, "4")  # the number in the latest version
    assert [e.version_id for e in events] == [v1.id, v2.id, v3.id]
    assert [e.number for e in events] == ["3", "4", "4"]
    assert [e.changed for e in events] == [True, True, True]
    assert events[0].text.endswith("15 working days.") and events[1].text.endswith(
        "10 working days."
    )
    assert events[2].title == "Pre-birth Child Protection Conferences"
    by_old_title = section_timeline(db, row.id, "Pre-birth Conferences")
    assert by_old_title == events
    review = section_timeline(db, row.id, "review")
    assert [e.changed for e in review] == [True, True, False]
    added = section_timeline(db, row.id, "Assessment")
    assert [e.version_id for e in added] == [v2.id, v3.id]
    with pytest.raises(NotFoundError):
        section_timeline(db, row.id, "Appendix 9")
    with pytest.raises(AmbiguousError):
        section_timeline(db, row.id, "re")


def test_find_chapter_by_url_title_part_and_past_title(story) -> None:  # type: ignore[no-untyped-def]
    db, manual, row, _ = story
    assert find_chapter(db, URL).id == row.id
    assert find_chapter(db, "child protection proc").id == row.id
    other = upsert_chapter(
        db, manual.id, ChapterRef("https://x/b.html", "Pre-birth Visits"), day(1)
    )
    assert find_chapter(db, "Pre-birth Visits").id == other.id
    with pytest.raises(AmbiguousError) as caught:
        find_chapter(db, "pre-birth")
    assert "Pre-birth Visits" in str(caught.value)
    assert find_chapter(db, "pre-birth procedure").id == row.id  # a past title (v1, v2)
    with pytest.raises(NotFoundError):
        find_chapter(db, "Missing Children")
    with pytest.raises(NotFoundError):
        find_chapter(db, URL, manual="another")


def test_chapter_history_and_manual_as_of_with_a_removed_chapter(story) -> None:  # type: ignore[no-untyped-def]
    db, manual, row, (v1, v2, v3) = story
    history = chapter_history(db, row.id)
    assert [h.version_id for h in history] == [v1.id, v2.id, v3.id]
    assert [h.valid_to for h in history] == [day(5), day(10), None]
    assert history[1].summary.startswith("updated") and "Section 4" in history[1].summary
    assert history[2].summary == "" and history[2].change_id is None
    gone = upsert_chapter(
        db, manual.id, ChapterRef("https://x/gone.html", "Old Chapter", "0.1"), day(2)
    )
    obs = record_observation(
        db,
        page(gone.url, b"old", day(2)),
        manual_id=manual.id,
        chapter_id=gone.id,
        role="chapter",
        outcome="new-version",
    )
    add_version(
        db,
        gone.id,
        chapter("Old Chapter", sec("1", "Intro", "old"), url=gone.url),
        observation_id=obs,
        observed_at=day(2),
        previous=None,
    )
    mark_removed(db, gone.id, day(8))
    then = manual_as_of(db, manual.id, day(4))
    assert [s.chapter.id for s in then] == [gone.id, row.id]  # ordered by number: 0.1, 1.2
    assert [s.as_of.version.chapter.title for s in then if s.as_of.version] == [
        "Old Chapter",
        V1.title,
    ]
    now = manual_as_of(db, manual.id, day(20))
    assert [s.chapter.id for s in now] == [row.id]
    assert "removed" in version_as_of(db, gone.id, day(9)).reason
