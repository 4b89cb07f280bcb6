from __future__ import annotations

from datetime import UTC, datetime

import pytest

from amendwatch.errors import InputError, NotFoundError
from reports.models import AmendmentEntry, Period
from store.drafts import draft_events, edit_draft, list_drafts, save_drafts, set_draft_status
from store.manuals import add_manual, get_manual, list_manuals
from store.runs import finish_run, list_runs, start_run
from tests.store.storekit import T0, day, new_db

MARCH = Period(
    datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC), "March 2026", "2026-03"
)


def _entry(title: str, details: str, category: str = "updated") -> AmendmentEntry:
    return AmendmentEntry(
        manual="tri-x",
        period="2026-03",
        category=category,  # type: ignore[arg-type]
        chapter_title=title,
        details=details,
        sections_cited=("Section 8, Pre-birth",),
        change_ids=(1, 2),
        chapter_url=f"https://x/{title.lower().replace(' ', '_')}.html",
    )


def test_regenerating_replaces_only_untouched_entries() -> None:
    db = new_db()
    first = save_drafts(
        db,
        [_entry("Pre-birth", "old A"), _entry("Missing", "old B"), _entry("Gone", "old C")],
        MARCH,
        T0,
    )
    pre, missing, gone = first
    edit_draft(db, pre.id, "Editor's text", "alice", day(1))
    set_draft_status(db, gone.id, "rejected", "bob", day(1))
    again = save_drafts(
        db,
        [_entry("Pre-birth", "new A"), _entry("Missing", "new B"), _entry("Neglect", "new D")],
        MARCH,
        day(2),
    )
    by_title = {d.chapter_title: d for d in again}
    assert set(by_title) == {"Pre-birth", "Missing", "Gone", "Neglect"}
    assert by_title["Pre-birth"].details == "Editor's text"
    assert by_title["Pre-birth"].generated_details == "new A"
    assert by_title["Pre-birth"].status == "edited"
    assert by_title["Missing"].details == "new B" and by_title["Missing"].id == missing.id
    assert by_title["Gone"].status == "rejected"
    assert list_drafts(db, "2026-03", status="edited") == (by_title["Pre-birth"],)
    save_drafts(db, [], MARCH, day(3))  # untouched entries that are no longer drafted go
    assert {d.chapter_title for d in list_drafts(db, MARCH)} == {"Pre-birth", "Gone"}
    assert by_title["Pre-birth"].to_entry().details == "Editor's text"


def test_edits_and_decisions_are_recorded_as_events() -> None:
    db = new_db()
    (draft,) = save_drafts(db, [_entry("Pre-birth", "generated")], MARCH, T0)
    edited = edit_draft(db, draft.id, "better", "alice", day(1))
    assert (edited.status, edited.updated_by, edited.updated_at) == ("edited", "alice", day(1))
    approved = set_draft_status(db, draft.id, "approved", "bob", day(2))
    assert approved.status == "approved"
    events = draft_events(db, draft.id)
    assert [(e.who, e.action, e.old_text, e.new_text) for e in events] == [
        ("alice", "edit", "generated", "better"),
        ("bob", "approved", "edited", "approved"),
    ]
    with pytest.raises(InputError):
        set_draft_status(db, draft.id, "published", "bob", day(2))
    with pytest.raises(NotFoundError):
        edit_draft(db, 999, "x", "alice", day(1))
    with pytest.raises(NotFoundError):
        set_draft_status(db, 999, "approved", "alice", day(1))


def test_manuals_validate_urls_and_names() -> None:
    db = new_db()
    made = add_manual(
        db,
        "tri-x",
        "https://tri-x.example.org/contents.html",
        now=T0,
        amendments_url="https://tri-x.example.org/amendments.html",
    )
    assert get_manual(db, "tri-x") == made
    for bad in ("ftp://h/x", "https:///nohost", "contents.html"):
        with pytest.raises(InputError) as caught:
            add_manual(db, "other", bad, now=T0)
        assert "not an http(s) URL" in str(caught.value)
    with pytest.raises(InputError) as caught:
        add_manual(db, "tri-x", "https://h/", now=T0)
    assert "already exists" in str(caught.value)
    assert list_manuals(db) == (made,)
    with pytest.raises(NotFoundError):
        get_manual(db, "nope")


def test_runs_are_started_finished_and_listed_newest_first() -> None:
    db = new_db()
    first = start_run(db, "snapshot", T0)
    second = start_run(db, "schedule", day(1))
    done = finish_run(
        db,
        first,
        now=day(0.1),
        checked=12,
        changed=2,
        failed=1,
        errors=["timeout: https://x/a"],
        status="partial",
    )
    assert (done.checked, done.changed, done.failed, done.errors) == (
        12,
        2,
        1,
        ("timeout: https://x/a",),
    )
    assert [r.id for r in list_runs(db, 10)] == [second, first]
    assert list_runs(db, 1)[0].status == "running"
    with pytest.raises(NotFoundError):
        finish_run(db, 99, now=T0, checked=0, changed=0, failed=0)
