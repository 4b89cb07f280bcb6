from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amendwatch.errors import InputError, NotFoundError
from differ.models import ChapterDiff
from scraper.models import ChapterRef
from store.history import get_version
from store.versions import (
    latest_version,
    mark_removed,
    mark_seen,
    note_missing,
    record_change,
    upsert_chapter,
)
from tests.store.storekit import T0, URL, chapter, day, new_db, observe_version, sec, seed

V1 = chapter(
    "Pre-birth Procedure",
    sec("1", "Scope of this Chapter", "This chapter applies to unborn babies."),
    sec("2", "Referral", "Referrals are made to children's social care."),
    sec("3", "Pre-birth Conferences", "A conference is held within 15 working days."),
    sec("4", "Review", "The plan is reviewed."),
)
V2 = chapter(
    "Pre-birth Procedure",
    sec("1", "Scope of this Chapter", "This chapter applies to unborn babies."),
    sec("2", "Assessment", "A pre-birth assessment starts at 12 weeks."),
    sec("3", "Referral", "Referrals are made to children's social care."),
    sec("4", "Pre-birth Conferences", "A conference is held within 10 working days."),
    sec("5", "Review", "The plan is reviewed."),
)
PAIRS_1_2 = ((0, 0), (1, 2), (2, 3), (3, 4))


def test_first_version_gets_fresh_distinct_lineage_ids() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = observe_version(db, row, V1, day(1), None)
    assert len(v1.lineage) == len(V1.sections)
    assert len(set(v1.lineage)) == len(V1.sections)
    assert v1.chapter == V1
    assert v1.content_hash == V1.content_hash
    assert get_version(db, v1.id) == v1


def test_lineage_follows_sections_across_renumbering() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = observe_version(db, row, V1, day(1), None)
    v2 = observe_version(db, row, V2, day(5), v1, PAIRS_1_2)
    for old, new in PAIRS_1_2:
        assert v2.lineage[new] == v1.lineage[old]
    assert v2.lineage[1] not in v1.lineage  # the inserted "Assessment" is a new lineage
    assert len(set(v2.lineage)) == len(v2.lineage)


def test_add_version_closes_the_previous_interval() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = observe_version(db, row, V1, day(1), None)
    v2 = observe_version(db, row, V2, day(5), v1, PAIRS_1_2)
    assert get_version(db, v1.id).valid_to == day(5)
    assert v2.valid_from == day(5)
    assert v2.valid_to is None
    assert latest_version(db, row.id) == v2


def test_versions_may_not_go_back_in_time_and_pairs_must_fit() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = observe_version(db, row, V1, day(5), None)
    with pytest.raises(InputError):
        observe_version(db, row, V2, day(1), v1, PAIRS_1_2)
    with pytest.raises(InputError):
        observe_version(db, row, V2, day(6), v1, ((9, 0),))
    assert latest_version(db, row.id) == v1
    assert db["sections"].count == len(V1.sections)


def test_mark_seen_only_moves_forward_and_needs_a_version() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = observe_version(db, row, V1, day(1), None)
    mark_seen(db, v1.id, day(9))
    mark_seen(db, v1.id, day(3))
    assert get_version(db, v1.id).last_seen == day(9)
    with pytest.raises(NotFoundError):
        mark_seen(db, 999, day(9))


def test_upsert_refreshes_a_listed_chapter_and_mark_removed_closes_it() -> None:
    db = new_db()
    m, row = seed(db)
    v1 = observe_version(db, row, V1, day(1), None)
    assert note_missing(db, row.id) == 1
    assert note_missing(db, row.id) == 2
    again = upsert_chapter(db, m.id, ChapterRef(URL, "Pre-Birth Procedures", "1.3"), day(2))
    assert again.id == row.id
    assert (again.title, again.number, again.missing_count) == ("Pre-Birth Procedures", "1.3", 0)
    assert again.first_seen == T0
    mark_removed(db, row.id, day(7))
    assert get_version(db, v1.id).valid_to == day(7)
    assert upsert_chapter(db, m.id, ChapterRef(URL, "x"), day(8)).removed_at is None


def test_a_chapter_that_comes_back_keeps_its_removal_time() -> None:
    db = new_db()
    _m, row = seed(db)
    v1 = observe_version(db, row, V1, day(1), None)
    mark_removed(db, row.id, day(4))
    v2 = observe_version(db, row, V2, day(9), v1, PAIRS_1_2)
    assert get_version(db, v1.id).valid_to == day(4)
    assert latest_version(db, row.id) == v2


def test_a_change_pointing_at_a_missing_version_is_an_input_error() -> None:
    db = new_db()
    _m, row = seed(db)
    bogus = ChapterDiff(URL, "updated", 41, 42, ())
    with pytest.raises(InputError):
        record_change(db, bogus, chapter_id=row.id, detected_at=day(1), run_id=None)
    assert db["changes"].count == 0


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_paired_sections_inherit_lineage_and_the_rest_get_fresh_ids(data: st.DataObject) -> None:
    n_old = data.draw(st.integers(1, 6))
    n_new = data.draw(st.integers(1, 6))
    old_idx = data.draw(st.permutations(range(n_old)))
    new_idx = data.draw(st.permutations(range(n_new)))
    k = data.draw(st.integers(0, min(n_old, n_new)))
    pairs = tuple(zip(old_idx[:k], new_idx[:k], strict=True))
    db = new_db()
    _m, row = seed(db)
    old = chapter("C", *(sec(str(i + 1), f"Old {i}", f"text {i}") for i in range(n_old)))
    new = chapter("C", *(sec(str(i + 1), f"New {i}", f"words {i}") for i in range(n_new)))
    v1 = observe_version(db, row, old, day(1), None)
    v2 = observe_version(db, row, new, day(2), v1, pairs)
    inherited = dict((n, o) for o, n in pairs)
    for index, lineage_id in enumerate(v2.lineage):
        if index in inherited:
            assert lineage_id == v1.lineage[inherited[index]]
        else:
            assert lineage_id not in v1.lineage
    assert len(set(v2.lineage)) == n_new
