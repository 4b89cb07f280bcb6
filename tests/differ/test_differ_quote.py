"""Unit tests of what a change quotes: punctuation, whitespace and case never make a kept word
look changed (textdiff), cosmetic runs are left out of the quote (quote), and a heading read
with another split into number and title is neither renamed nor renumbered (chapter)."""

from __future__ import annotations

from differ.chapter import build_section_change, diff_chapters
from differ.models import Edit
from differ.quote import change_runs, reworded
from differ.textdiff import diff_words
from scraper.models import Chapter, Section


def sec(number: str | None, title: str, text: str) -> Section:
    return Section(number, title, 1, (number or title,), text)


def chapter(*sections: Section) -> Chapter:
    return Chapter("https://a.example/c", "Chapter", tuple(sections))


# --- textdiff -------------------------------------------------------------------------------


def changed(edits: tuple[Edit, ...]) -> list[Edit]:
    return [e for e in edits if e.op != 0]


def test_restyled_references_change_punctuation_only() -> None:
    edits = diff_words("outlined in Section 10(b)(v) below;", "outlined in Section 10.b.v below;")
    assert changed(edits) == [
        Edit(-1, "("),
        Edit(1, "."),
        Edit(-1, ")("),
        Edit(1, "."),
        Edit(-1, ")"),
    ]
    edits = diff_words(
        "as set out in Section 3(d)(i)(2) unless", "as set out in Section 3.d.i.2 unless"
    )
    assert all(not any(ch.isalnum() for ch in e.text) for e in changed(edits))


def test_words_between_restyled_references_and_a_rewording_stay() -> None:
    a = "Section 10(b) and 1601 Willow Road, Menlo Park"
    b = "Section 10.b and 1 Meta Way, Menlo Park"
    edits = diff_words(a, b)
    assert Edit(0, " and ") in edits
    assert (Edit(-1, "1601 Willow Road"), Edit(1, "1 Meta Way")) == tuple(changed(edits)[-2:])


def test_case_change_is_an_edit_of_that_word_alone() -> None:
    edits = diff_words(
        "audit rights under this Section will survive",
        "audit rights under this section (i) will survive",
    )
    assert changed(edits) == [Edit(-1, "Section"), Edit(1, "section"), Edit(1, "(i) ")]


def test_dmp_keeps_single_words_between_single_word_changes() -> None:
    edits = diff_words("you must notify us at once", "you should notify them at once")
    assert changed(edits) == [Edit(-1, "must"), Edit(1, "should"), Edit(-1, "us"), Edit(1, "them")]


# --- quoted text ----------------------------------------------------------------------------


def test_quote_leaves_out_restyled_references_and_case() -> None:
    old = sec(
        "10", "Transfers", "Section 10(b)(v) applies. Meta, 1601 Willow Road, under this Section."
    )
    new = sec("10", "Transfers", "Section 10.b.v applies. Meta, 1 Meta Way, under this section.")
    change = build_section_change(old, new)
    assert change is not None and not change.cosmetic
    assert (change.inserted, change.deleted) == ("1 Meta Way", "1601 Willow Road")


def test_quote_of_cosmetic_edits_is_what_changed() -> None:
    change = build_section_change(
        sec("5", "A", "see this Section"), sec("5", "A", "see this section")
    )
    assert change is not None and change.cosmetic
    assert (change.inserted, change.deleted) == ("section", "Section")


def test_reworded_drops_words_shared_at_the_ends() -> None:
    assert reworded("Section", "section and the Annex") == ("", "and the Annex")
    assert reworded("Section, x", "section; y") == ("x", "y")
    assert reworded("(“Platform”)", "(“Meta”)") == ("(“Platform”)", "(“Meta”)")
    assert change_runs(
        (Edit(0, "a "), Edit(-1, "b"), Edit(1, "c"), Edit(0, " d"), Edit(1, "e"))
    ) == [
        ("b", "c"),
        ("", "e"),
    ]


# --- headings read with another split into number and title ----------------------------------


def test_heading_resplit_is_no_rename_or_renumbering() -> None:
    old = chapter(
        sec(None, "A. Definitions", "Account means an account."),
        sec(None, "B. Data", "We collect."),
    )
    new = chapter(
        sec("A", "Definitions", "Account means an account."), sec("B", "Data", "We collect data.")
    )
    diff = diff_chapters(old, new, old_version=1, new_version=2)
    assert diff.pairs == ((0, 0), (1, 1))
    assert [(s.kinds, s.inserted) for s in diff.sections] == [(frozenset({"modified"}), "data")]


def test_relettered_heading_is_renumbered() -> None:
    old = chapter(sec("P", "Changes to our Privacy Policy", "We post changes here."))
    new = chapter(sec("O", "Changes to our Privacy Policy", "We post changes here."))
    (change,) = diff_chapters(old, new, old_version=1, new_version=2).sections
    assert change.kinds == {"renumbered"} and not change.is_substantive
