"""Every drafted sentence traces back to the change and sections it came from; wording helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from reports_builders import added, change, modified, prebirth_change, removed, section

from differ.models import SectionChange
from reports.draft import draft_entries
from reports.periods import parse_month
from reports.render import render_drafts
from reports.wording import shorten_clause, split_sentences
from scraper.models import Link

NOVEMBER = parse_month("2026-11")
LONG = (
    "The initial child protection conference must be held within 10 working days of the "
    "strategy discussion at which it was agreed to begin Section 47 enquiries, or of the last "
    "strategy discussion where more than one was held, so that the family has time to prepare."
)


def _renumbered_chapter() -> list[SectionChange]:
    old4 = section("4", "Timescales", "Hold it within 15 working days. Invite the family.")
    new4 = section("4", "Timescales", "Hold it within 10 working days. Invite the family.")
    who_old = section("5", "Who Should Attend", "Parents and professionals.")
    who_new = section("6", "Who Should Attend", "Parents and professionals.")
    layout = SectionChange(frozenset({"renumbered"}), who_old, who_new)
    return [
        modified(old4, new4),
        added(section("5", "Pre-birth Conferences", "Hold it by the 30th week.")),
        layout,
    ]


def test_each_sentence_carries_its_change_and_sections() -> None:
    link = Link("Working Together", "https://www.gov.uk/wt")
    info = section(None, "Further Information", "See also:", (link,))
    links = SectionChange(frozenset({"modified"}), info, info, links_added=(link,))
    first = change(tuple(_renumbered_chapter()), change_id=4)
    second = change((links,), change_id=9, when=datetime(2026, 11, 20, tzinfo=UTC))
    (entry,) = draft_entries([first, second], NOVEMBER)
    assert " ".join(s.text for s in entry.sentences) == entry.details
    by_text = {s.text: s for s in entry.sentences}
    note = next(s for s in entry.sentences if "10 working days" in s.text)
    assert (note.change_id, note.sections) == (4, ("Section 4, Timescales",))
    renumbered = by_text["Sections have been renumbered following the insertion of Section 5."]
    assert renumbered.sections == ("Section 5, Pre-birth Conferences",)
    linked = next(s for s in entry.sentences if s.text.startswith("A link has been added"))
    assert (linked.change_id, linked.sections) == (9, ("Further Information",))
    for sentence in entry.sentences:
        assert sentence.change_id in entry.change_ids
        assert set(sentence.sections) <= set(entry.sections_cited)


def test_drafts_json_lists_the_sentences_with_their_ids() -> None:
    gone = change(
        (removed(section("1", "Intro", "Old text.")),),
        change_id=5,
        kind="removed",
        title="Gone",
        url="https://example.trixonline.co.uk/chapter/gone",
    )
    entries = draft_entries([prebirth_change(change_id=3), gone], NOVEMBER)
    payload = json.loads(render_drafts(entries, NOVEMBER, "json"))
    sentences = {e["category"]: e["sentences"] for e in payload["entries"]}
    assert sentences["removed"] == [
        {"text": "This chapter has been removed.", "change_id": 5, "sections": []}
    ]
    (updated,) = sentences["updated"]
    assert updated["change_id"] == 3
    assert updated["sections"] == ["Section 8, Pre-birth Conferences"]


def test_new_chapter_summary_traces_to_its_scope_section() -> None:
    scope = section(None, "Scope of this Chapter", "This chapter sets out how to respond. More.")
    body = section("1", "Definition", "Harmful behaviour is defined here.")
    new = change((added(scope), added(body)), change_id=6, kind="new", title="HSB")
    (entry,) = draft_entries([new], NOVEMBER)
    sentence, outline = entry.sentences
    assert f"{sentence.text} {outline.text}" == entry.details
    assert sentence.sections == ("Scope of this Chapter",)
    assert outline.text == "The chapter has sections on Definition."
    assert outline.change_id == 6


def test_long_sentences_are_cut_after_a_whole_clause_keeping_the_change() -> None:
    short = shorten_clause(LONG, 200, keep=["10"])
    assert short.endswith("to begin Section 47 enquiries")
    assert "…" not in short
    # the changed words lie beyond the first clause: the cut comes after them
    later = shorten_clause(LONG, 200, keep=["more than one"])
    assert later.endswith("more than one was held")
    assert len(later) <= 300


def test_a_qualifying_clause_is_never_cut_off() -> None:
    text = (
        "Parents should be invited to attend the whole of the conference and to bring a friend "
        "or supporter with them, unless the chair decides that their presence would prevent a "
        "full discussion of the child's needs and safety."
    )
    cut = shorten_clause(text, 130)
    assert cut.endswith("…")
    assert "unless the chair" in cut  # not cut off at the comma before "unless"


def test_split_sentences_keeps_abbreviations_and_list_items_together() -> None:
    text = "Agencies, e.g. The police, must share.\nthe health visitor too. Then review."
    assert split_sentences(text) == [
        "Agencies, e.g. The police, must share. the health visitor too.",
        "Then review.",
    ]


def test_a_whole_new_sentence_is_quoted_to_a_clause_not_an_ellipsis() -> None:
    old = section("8", "Information", "Interpreters should be used.")
    new = section("8", "Information", f"Interpreters should be used. {LONG}")
    (entry,) = draft_entries([change((modified(old, new),))], NOVEMBER)
    assert "…" not in entry.details
    assert "enquiries (see Section 8, Information)." in entry.details
