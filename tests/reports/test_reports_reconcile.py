from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reports_builders import change, modified, prebirth_change, section

from reports.digest import build_digest
from reports.draft import draft_entries
from reports.periods import parse_month, parse_week
from reports.reconcile import normalise_title, reconcile, title_ratio
from reports.render import render_digest, render_drafts
from scraper.amendments import parse_amendments, parse_amendments_text
from scraper.models import PublishedEntry

MANUAL = "Working Together"


def _entry(chapter: str, sections: tuple[str, ...] = ()) -> PublishedEntry:
    return PublishedEntry("2026-11", "updated", chapter, "This chapter has been updated.", sections)


def test_titles_normalise_case_punctuation_and_ampersand() -> None:
    assert normalise_title("Forced Marriage & Honour-Based Violence") == normalise_title(
        "forced marriage and honour based violence"
    )
    assert (
        title_ratio("Initial Child Protection Conference", "Initial Child Protection Conferences")
        >= 0.85
    )
    assert title_ratio("Bullying", "Begging") < 0.85


def test_matched_declared_only_and_silent_changes() -> None:
    real = prebirth_change(change_id=1)  # Initial Child Protection Conferences
    old = section("1", "Definition", "Bullying is behaviour.")
    new = section("1", "Definition", "Bullying is repeated behaviour. It includes online abuse.")
    silent = change((modified(old, new),), title="Bullying", change_id=2, url="https://x.test/b")
    cosmetic_old = section("1", "Scope", "Scope text.")
    cosmetic = change(
        (modified(cosmetic_old, section("1", "Scope", "Scope  text."), cosmetic=True),),
        title="Begging",
        change_id=3,
        url="https://x.test/beg",
    )
    other_manual = change((), kind="removed", title="Other", manual="Another Manual", change_id=4)
    declared = (
        _entry("Initial Child Protection Conferences", ("Section 8, Prebirth Conferences",)),
        _entry("Domestic Abuse"),
    )
    result = reconcile(MANUAL, declared, [real, silent, cosmetic, other_manual])
    assert [(e.chapter, cid) for e, cid in result.matched] == [
        ("Initial Child Protection Conferences", 1)
    ]
    assert [e.chapter for e in result.declared_only] == ["Domestic Abuse"]
    assert result.detected_only == (2,)


def test_cited_sections_are_checked_against_detected_sections() -> None:
    real = prebirth_change(change_id=5)
    entry = _entry(
        "initial child protection conferences",
        ("Section 8, Prebirth Conferences", "Section 3, Attendance", "‘Pre-birth Conferences’"),
    )
    result = reconcile(MANUAL, [entry], [real])
    found = {check.cited: (check.detected, check.matched_label) for check in result.sections}
    assert found["Section 8, Prebirth Conferences"] == (True, "Section 8, Pre-birth Conferences")
    assert found["Section 3, Attendance"] == (False, "")
    assert found["‘Pre-birth Conferences’"][0] is True
    assert all(check.change_id == 5 for check in result.sections)


SEED_STYLE = "\n".join(
    [
        "March 2022",
        "",
        "Updated Chapters",
        "Chapter Name Details",
        "Initial Child Protection Conferences This chapter has been updated to note the first"
        " child protection conference will be scheduled within three months of the initial"
        " conference or within 20 working days after the birth of the baby, whichever is the"
        " sooner. (See Section 8, Prebirth Conferences).",
        "Child Protection Review Conferences A note has been added into Section 1, Frequency"
        " that the first child protection conference will be scheduled within three months.",
        "",
    ]
)


def test_publishers_text_page_reconciled_with_detected_changes() -> None:
    declared = parse_amendments_text(SEED_STYLE)
    assert [e.chapter for e in declared] == [
        "Initial Child Protection Conferences",
        "Child Protection Review Conferences",
    ]
    result = reconcile(MANUAL, declared, [prebirth_change(change_id=3)])
    assert [cid for _, cid in result.matched] == [3]
    assert [e.chapter for e in result.declared_only] == ["Child Protection Review Conferences"]
    assert result.sections[0].detected


def test_our_drafts_read_back_as_the_publishers_format() -> None:
    period = parse_month("2026-11")
    new = change(
        (),
        kind="new",
        title="Young Carers",
        summary="Support for carers.",
        change_id=2,
        url="https://x.test/yc",
    )
    gone = change((), kind="removed", title="Begging", change_id=3, url="https://x.test/b")
    detected = [prebirth_change(), new, gone]
    entries = draft_entries(detected, period)
    parsed = parse_amendments(render_drafts(entries, period, "html"))
    assert [(e.month, e.category, e.chapter) for e in parsed] == [
        ("2026-11", e.category, e.chapter_title) for e in entries
    ]
    assert parsed[0].sections == ("Section 8, Pre-birth Conferences",)
    result = reconcile(MANUAL, parsed, detected)
    assert (result.declared_only, result.detected_only) == ((), ())
    assert len(result.matched) == 3


def test_declared_entry_matches_a_change_detected_in_an_earlier_week() -> None:
    week = parse_week("2026-W47")  # 16-22 Nov; the change was detected on 9 Nov
    earlier = replace(
        prebirth_change(change_id=2), detected_at=datetime(2026, 11, 9, 9, tzinfo=UTC)
    )
    far = replace(earlier, change_id=9, detected_at=datetime(2026, 6, 1, tzinfo=UTC))
    declared = (_entry("Initial Child Protection Conferences"),)
    result = reconcile(MANUAL, declared, [earlier, far], period=week)
    assert [cid for _, cid in result.matched] == [2]  # 1 June is outside the 8 weeks
    assert result.detected_only == ()  # detected before the week: not a silent change of it
    assert result.window_weeks == 8
    narrow = reconcile(MANUAL, declared, [earlier], period=week, window=timedelta(days=1))
    assert narrow.matched == () and len(narrow.declared_only) == 1
    digest = build_digest([], [], week, reconciliations=[result])
    assert "detected 9 Nov (change 2)" in render_digest(digest, "md")
    (rec,) = json.loads(render_digest(digest, "json"))["reconciliations"]
    assert rec["matched"][0]["detected_at"] == "2026-11-09T09:00:00+00:00"


def test_declared_chapters_that_no_longer_exist_are_listed_apart() -> None:
    gone = change((), kind="removed", title="Begging", change_id=3, url="https://x.test/b")
    declared = (_entry("Begging"), _entry("Bullying"), _entry("Domestic Abuse"))
    result = reconcile(MANUAL, declared, [gone], chapters=["Domestic Abuse", "Section 47"])
    assert [e.chapter for e in result.gone] == ["Begging", "Bullying"]
    assert [e.chapter for e in result.declared_only] == ["Domestic Abuse"]
    assert result.detected_only == (3,)  # the removal itself was never declared
    digest = build_digest([gone], [], parse_month("2026-11"), reconciliations=[result])
    (rec,) = json.loads(render_digest(digest, "json"))["reconciliations"]
    assert [g["chapter"] for g in rec["gone"]] == ["Begging", "Bullying"]
    assert "chapter no longer exists" in render_digest(digest, "md")
