from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from reports_builders import (
    INSERTED,
    NEW_PREBIRTH,
    OLD_PREBIRTH,
    added,
    change,
    modified,
    prebirth_change,
    removed,
    section,
)

from differ.models import SectionChange
from reports.draft import draft_entries, shorten, shorten_sentences
from reports.periods import parse_month
from reports.stated import state_values, value_changes, values_sentence
from scraper.models import Link

NOVEMBER = parse_month("2026-11")


def test_inserted_sentence_is_quoted_and_section_cited() -> None:
    (entry,) = draft_entries([prebirth_change()], NOVEMBER)
    assert entry.category == "updated"
    assert entry.details.startswith("This chapter has been updated to note that the first review")
    assert "within 20 working days after the birth of the baby" in entry.details
    assert entry.details.endswith("(see Section 8, Pre-birth Conferences).")
    assert entry.sections_cited == ("Section 8, Pre-birth Conferences",)
    assert entry.change_ids == (1,)
    assert entry.period == "2026-11"


def test_cosmetic_only_change_gives_no_entry() -> None:
    old = section("3", "Frequency", "The conference  must meet.")
    new = section("3", "Frequency", "The conference must meet .")
    cosmetic = change((modified(old, new, cosmetic=True),))
    assert draft_entries([cosmetic], NOVEMBER) == ()


def test_changes_outside_the_period_are_ignored() -> None:
    october = prebirth_change(when=datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    assert draft_entries([october], NOVEMBER) == ()


def test_changes_to_one_chapter_merge_into_one_entry() -> None:
    first = prebirth_change(change_id=1)
    link = Link("Working Together to Safeguard Children", "https://www.gov.uk/wt")
    info = section(None, "Further Information", "See also:", (link,))
    second = change(
        (SectionChange(frozenset({"modified"}), info, info, links_added=(link,)),),
        change_id=7,
        when=datetime(2026, 11, 20, tzinfo=UTC),
    )
    (entry,) = draft_entries([second, first], NOVEMBER)
    assert entry.change_ids == (1, 7)
    assert "A link has been added to Working Together to Safeguard Children" in entry.details
    assert "(see Further Information)." in entry.details
    assert entry.sections_cited == ("Section 8, Pre-birth Conferences", "Further Information")


def test_new_removed_and_renamed_sections() -> None:
    new_section = section("4.2", "Virtual Conferences", "Conferences may be held online.")
    gone = section("5", "Quorum", "Three agencies must attend.")
    diff = change((added(new_section), removed(gone)))
    (entry,) = draft_entries([diff], NOVEMBER)
    assert "A new Section 4.2, Virtual Conferences has been added." in entry.details
    assert "Section 5, Quorum has been removed." in entry.details


def test_renamed_chapter_wording() -> None:
    renamed = change(
        (),
        kind="renamed",
        title="Domestic Abuse",
        old_title="Domestic Violence and Abuse",
    )
    (entry,) = draft_entries([renamed], NOVEMBER)
    assert entry.chapter_title == "Domestic Abuse"
    assert entry.details == (
        "This chapter has been renamed from 'Domestic Violence and Abuse' to 'Domestic Abuse'."
    )


def test_new_chapter_summary_is_shortened_at_a_sentence() -> None:
    summary = (
        "This chapter sets out the framework for agencies responding to concerns about "
        "children. " + "It describes the process in some detail and at some length. " * 10
    )
    new = change((), kind="new", title="Responding to Abuse and Neglect", summary=summary)
    (entry,) = draft_entries([new], NOVEMBER)
    assert entry.category == "new"
    assert entry.details.startswith("This chapter sets out the framework")
    assert len(entry.details) <= 250
    assert entry.details.endswith(".")


def test_removed_chapter() -> None:
    gone = change((), kind="removed", title="Begging")
    (entry,) = draft_entries([gone], NOVEMBER)
    assert (entry.category, entry.details) == ("removed", "This chapter has been removed.")


def test_renumbering_is_one_sentence() -> None:
    inserted = section("4", "Consent", "Consent should be sought.")
    shifted = tuple(
        SectionChange(
            frozenset({"renumbered"}),
            section(str(n), f"Title {n}", f"Text {n}."),
            section(str(n + 1), f"Title {n}", f"Text {n}."),
        )
        for n in range(4, 9)
    )
    (entry,) = draft_entries([change((added(inserted), *shifted))], NOVEMBER)
    assert entry.details.count("renumbered") == 1
    assert "Sections have been renumbered following the insertion of Section 4." in entry.details


def test_removed_link_and_revised_throughout() -> None:
    link = Link("Old Guidance", "https://example.org/old")
    related = section(None, "Related Guidance", "", (link,))
    change_ = change(
        (SectionChange(frozenset({"modified"}), related, related, links_removed=(link,)),),
        revised_throughout=True,
    )
    (entry,) = draft_entries([change_], NOVEMBER)
    assert "This chapter has been revised throughout and should be re-read." in entry.details
    assert "The link to Old Guidance has been removed (see Related Guidance)." in entry.details
    assert entry.details.endswith("Please re-reference.")


def test_long_inserted_sentence_shortened_with_ellipsis() -> None:
    long_sentence = "Practitioners must record " + "every single relevant detail " * 30 + "today."
    old = section("2", "Recording", OLD_PREBIRTH)
    new = section("2", "Recording", f"{OLD_PREBIRTH} {long_sentence}")
    (entry,) = draft_entries([change((modified(old, new),))], NOVEMBER)
    assert "to note that practitioners must record every single" in entry.details
    assert "… (see Section 2, Recording)." in entry.details


def test_drafting_is_deterministic() -> None:
    changes = [prebirth_change(1), change((), kind="removed", title="Begging", change_id=2)]
    assert draft_entries(changes, NOVEMBER) == draft_entries(list(reversed(changes)), NOVEMBER)


def test_shorten_helpers_cut_at_word_boundaries() -> None:
    assert shorten("alpha beta gamma delta", 12) == "alpha beta…"
    assert shorten_sentences(f"{INSERTED} Second one.", 200).endswith("Second one.")
    assert NEW_PREBIRTH.endswith(INSERTED)


def test_second_section_is_noted_as_also_and_many_ask_to_re_reference() -> None:
    changes = []
    for number, title in (("8", "Pre-birth Conferences"), ("2", "Reports"), ("3", "Quorum")):
        old = section(number, title, OLD_PREBIRTH)
        new = section(number, title, f"{OLD_PREBIRTH} All records for part {number} must be kept.")
        changes.append(modified(old, new))
    (entry,) = draft_entries([change(tuple(changes))], NOVEMBER)
    assert entry.details.count("This chapter has been updated to note that") == 1
    assert (
        "Section 2, Reports has also been updated to note that all records for part 2 must be kept."
        in entry.details
    )
    assert entry.details.endswith("Please re-reference.")
    assert entry.sections_cited == (
        "Section 8, Pre-birth Conferences",
        "Section 2, Reports",
        "Section 3, Quorum",
    )


def test_revised_throughout_still_notes_the_sections() -> None:
    old = section("7", "Information", "Reports must be shared 3 days before. The reports are kept.")
    new = section(
        "7", "Information", "Reports must be shared 5 working days before. The reports are kept."
    )
    ofsted_old = section("9", "Inspection", "Inspections happen.")
    ofsted_new = section("9", "Inspection", "Inspections happen. Ofsted inspects each year.")
    diff = change((modified(old, new), modified(ofsted_old, ofsted_new)), revised_throughout=True)
    (entry,) = draft_entries([diff], NOVEMBER)
    assert entry.details.startswith("This chapter has been revised throughout")
    # "Reports" is lower-cased (the section uses "reports"); "Ofsted" is a name and is kept
    assert (
        "Section 7, Information has also been updated to note that reports must be shared "
        "5 working days before." in entry.details
    )
    assert (
        "Section 9, Inspection has also been updated to note that Ofsted inspects each year."
        in (entry.details)
    )
    assert entry.details.endswith("Please re-reference.")


def test_link_only_and_cross_reference_edits_are_not_quoted() -> None:
    link = Link("Domestic Abuse: How to Get Help (GOV.UK)", "https://www.gov.uk/help")
    info_old = section(None, "Further Information", "Women's Aid")
    info_new = section(None, "Further Information", f"Women's Aid {link.text}", (link,))
    ref_old = section("6.1", "Parents", "Parents attend (see Section 8.1, Exclusion). Staff must.")
    ref_new = section("6.1", "Parents", "Parents attend (see Section 9.1, Exclusion). Staff must.")
    diff = change((modified(info_old, info_new, links_added=(link,)), modified(ref_old, ref_new)))
    (entry,) = draft_entries([diff], NOVEMBER)
    assert entry.details == (
        "A link has been added to Domestic Abuse: How to Get Help (GOV.UK) "
        "(see Further Information)."
    )
    assert entry.sections_cited == ("Further Information",)


def test_changed_number_outside_a_reference_is_quoted() -> None:
    old = section("3", "Reports", "The report must be shared at least 3 working days before.")
    new = section("3", "Reports", "The report must be shared at least 5 working days before.")
    (entry,) = draft_entries([change((modified(old, new),))], NOVEMBER)
    assert "to note that the report must be shared at least 5 working days (increased from 3) " in (
        entry.details
    )


@given(st.text(max_size=400), st.integers(min_value=5, max_value=300))
def test_shorten_never_exceeds_the_limit_and_keeps_a_prefix(text: str, limit: int) -> None:
    short = shorten(text, limit)
    flat = " ".join(text.split())
    assert len(short) <= limit
    if short != flat:
        assert short.endswith("…")
        assert flat.startswith(short[:-1].rstrip(" ,;:.-–"))


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9)


@given(st.lists(_WORD, min_size=3, max_size=60))
def test_any_inserted_sentence_is_quoted_from_its_start(words: list[str]) -> None:
    sentence = " ".join(["The", *words]) + "."
    old = section("4", "Timescales", OLD_PREBIRTH)
    new = section("4", "Timescales", f"{OLD_PREBIRTH} {sentence}")
    (entry,) = draft_entries([change((modified(old, new),))], NOVEMBER)
    assert entry.details.startswith(f"This chapter has been updated to note that the {words[0]}")
    assert entry.details.endswith("(see Section 4, Timescales).")
    assert len(entry.details) < 300


def test_changed_obligation_and_date_are_stated_with_the_old_value() -> None:
    old = section("2", "Visits", "Visits should be recorded by 1 March 2026 in the notes.")
    new = section("2", "Visits", "Visits must be recorded by 1 April 2026 in the notes.")
    (entry,) = draft_entries([change((modified(old, new),))], NOVEMBER)
    assert "Visits must (previously should) be recorded" in entry.details
    assert "1 April 2026 (previously 1 March 2026)" in entry.details


def test_a_reduced_number_says_so_and_a_lost_value_gets_its_own_sentence() -> None:
    old = section("4", "Timescales", "Hold it within 15 working days. " + "Other text here. " * 20)
    new = section("4", "Timescales", "Hold it within 10 working days. " + "Other text here. " * 20)
    (entry,) = draft_entries([change((modified(old, new),))], NOVEMBER)
    assert "within 10 working days (reduced from 15) (see Section 4, Timescales)." in entry.details
    stated = value_changes(modified(old, new))
    assert stated == [("15", "10")]
    assert state_values("no value here", stated) == ("no value here", [("15", "10")])
    assert values_sentence("Section 4, Timescales", stated) == (
        "In Section 4, Timescales, 15 has been changed to 10."
    )


def test_renamed_section_names_both_titles() -> None:
    old = section("3", "Quorum", "Three agencies must attend.")
    new = section("3", "Quoracy", "Three agencies must attend.")
    renamed = modified(old, new, kinds=frozenset({"renamed"}))
    (entry,) = draft_entries([change((renamed,))], NOVEMBER)
    assert "Section 3 has been renamed from 'Quorum' to 'Quoracy'." in entry.details
