"""Unit tests of textdiff, classify, align and chapter helpers."""

from __future__ import annotations

import random
import time

import pytest

import differ.textdiff as textdiff
from differ.align import align_sections, find_moved
from differ.chapter import diff_chapters, is_same_content
from differ.classify import flags_for, link_changes
from differ.cosmetic import is_cosmetic
from differ.models import Edit, chapter_diff_to_json
from differ.textdiff import diff_words, is_degenerate, sentences_touched
from scraper.models import Chapter, Link, Section

VOCAB = [
    "child",
    "parent",
    "social",
    "worker",
    "conference",
    "plan",
    "must",
    "should",
    "review",
    "meeting",
    "record",
    "visit",
    "agency",
    "health",
    "police",
    "school",
    "referral",
    "assessment",
    "family",
    "support",
    "risk",
    "harm",
    "safety",
]


def prose(rng: random.Random, words: int) -> str:
    out = []
    for i in range(words):
        out.append(rng.choice(VOCAB))
        out.append(". " if i % 12 == 11 else " ")
    return "".join(out).strip()


def sec(number: str | None, title: str, text: str, links: tuple[Link, ...] = ()) -> Section:
    return Section(number, title, 1, (number or title,), text, links)


def rebuild(edits: tuple[Edit, ...], skip: int) -> str:
    return "".join(e.text for e in edits if e.op != skip)


# --- textdiff -------------------------------------------------------------------------------


def test_diff_words_keeps_whole_words() -> None:
    edits = diff_words("the cat sat on the mat", "the cot sat on the mat")
    assert [e for e in edits if e.op != 0] == [Edit(-1, "cat"), Edit(1, "cot")]


def test_diff_words_whitespace_reflow_is_whitespace_only_edits() -> None:
    edits = diff_words("must attend the  meeting", "must attend\nthe meeting")
    assert all(not e.text.strip() for e in edits if e.op != 0)
    assert rebuild(edits, 1) == "must attend the  meeting"


def test_degenerate_result_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    a = prose(rng, 3000)
    words = a.split(" ")
    for i in range(0, len(words), 25):  # scattered changes: no long common prefix or suffix
        words[i] = "CHANGED"
    b = " ".join(words)
    monkeypatch.setattr(textdiff, "DIFF_TIMEOUT", 1e-9)  # dmp gives up at once
    raw = textdiff._dmp_diff(textdiff.tokenize(a), textdiff.tokenize(b))
    assert raw is not None and is_degenerate(raw, a, b)
    edits = diff_words(a, b)
    assert not is_degenerate(edits, a, b)
    assert rebuild(edits, 1) == a and rebuild(edits, -1) == b
    equal = sum(len(e.text) for e in edits if e.op == 0)
    assert equal > 0.8 * len(a)


def test_rewrite_is_not_degenerate() -> None:
    a, b = "alpha beta gamma delta", "one two three four"
    assert not is_degenerate(diff_words(a, b), a, b)


def test_sentences_touched() -> None:
    a = "Call the police. The worker must visit within one week. Record it."
    b = "Call the police. The worker should visit within one week. Record it. Tell the GP."
    deleted, inserted = sentences_touched(a, b, diff_words(a, b))
    assert deleted == ("The worker must visit within one week.",)
    assert inserted == ("The worker should visit within one week.", "Tell the GP.")


def test_big_text_one_change_is_fast() -> None:
    rng = random.Random(1)
    a = prose(rng, 100_000)
    b = a[: len(a) // 2] + " an extra sentence here. " + a[len(a) // 2 :]
    start = time.perf_counter()
    edits = diff_words(a, b)
    elapsed = time.perf_counter() - start
    assert "an extra sentence here" in "".join(e.text for e in edits if e.op == 1)
    assert elapsed < 0.5


# --- classify -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("the child's plan", "the child’s plan", True),
        ('a "core" group', "a “core” group", True),
        ("pre-birth - work", "pre–birth — work", True),
        ("Core Group", "core group", True),
        ("visit  the\nchild", "visit the child.", True),
        ("within 1.5 days", "within 15 days", False),
        ("must visit", "should visit", False),
        ("visit the child", "visit the children", False),
    ],
)
def test_is_cosmetic(a: str, b: str, expected: bool) -> None:
    assert is_cosmetic(a, b) is expected


@pytest.mark.parametrize(
    ("a", "b", "flags"),
    [
        ("within 15 working days of", "within 10 working days of", {"duration", "number"}),
        ("within two weeks of", "within three weeks of", {"duration", "number"}),
        ("every 6 months the", "every 6 weeks the", {"duration"}),
        ("from 1 March 2022 the", "from 1 April 2023 the", {"date"}),
        ("guidance of 2018 says", "guidance of 2023 says", {"date"}),
        ("the worker must visit", "the worker should visit", {"obligation"}),
        ("the worker must visit", "the worker must not visit", {"obligation"}),
        ("the worker visits", "the worker may visit", {"obligation"}),
        ("see 4 agencies", "see 5 agencies", {"number"}),
        ("tell the child", "tell the family", set()),
    ],
)
def test_flags_for(a: str, b: str, flags: set[str]) -> None:
    assert flags_for(diff_words(a, b)) == flags


def test_link_changes() -> None:
    keep = Link("Working Together", "https://a.example/wt")
    moved_old = Link("Core Groups", "https://a.example/core")
    moved_new = Link("Core  groups", "https://a.example/core-2023")
    gone = Link("Old Form", "https://a.example/form")
    new = Link("NICE", "https://nice.example/")
    added, removed, retargeted = link_changes([keep, moved_old, gone], [keep, new, moved_new])
    assert set(added) == {new, moved_new}
    assert set(removed) == {moved_old, gone}
    assert retargeted == ((moved_old, moved_new),)


def test_link_changes_counts_duplicates() -> None:
    link = Link("Form", "https://a.example/f")
    added, removed, _ = link_changes([link], [link, link])
    assert added == (link,) and removed == ()


# --- align ----------------------------------------------------------------------------------


def test_moved_pairs_uses_longest_run() -> None:
    assert find_moved([(0, 0), (4, 1), (1, 2), (2, 3), (3, 4)]) == frozenset({1})
    assert find_moved([(0, 0), (1, 1)]) == frozenset()
    assert find_moved([]) == frozenset()


def test_duplicate_titles_pair_by_similarity() -> None:
    rng = random.Random(3)
    first, second = prose(rng, 40), prose(rng, 40)
    old = [sec(None, "Actions", first), sec(None, "Actions", second)]
    new = [sec(None, "Actions", second + " More."), sec(None, "Actions", first)]
    alignment = align_sections(old, new)
    assert alignment.pairs == ((1, 0), (0, 1))
    assert alignment.moved == frozenset({0}) or alignment.moved == frozenset({1})


def test_renamed_and_moved_by_body() -> None:
    rng = random.Random(4)
    texts = [prose(rng, 60) for _ in range(4)]
    old = [sec(str(i + 1), f"Title {i}", t) for i, t in enumerate(texts)]
    new = [sec("1", "Title 0", texts[0]), sec("2", "Fresh name", texts[3] + " Extra words.")]
    new += [sec("3", "Title 1", texts[1]), sec("4", "Title 2", texts[2])]
    alignment = align_sections(old, new)
    assert (3, 1) in alignment.pairs
    assert alignment.moved == frozenset({1})
    assert alignment.added == () and alignment.removed == ()


def test_large_chapter_alignment_is_fast() -> None:
    rng = random.Random(5)
    old = [sec(str(i + 1), f"Heading {i}", prose(rng, 150)) for i in range(80)]
    new = [sec(str(i + 1), f"Renamed {i}", s.text) for i, s in enumerate(reversed(old))]
    start = time.perf_counter()
    alignment = align_sections(old, new)
    elapsed = time.perf_counter() - start
    assert len(alignment.pairs) == 80
    assert all(o == 79 - n for o, n in alignment.pairs)
    assert elapsed < 2.0


def test_unrelated_sections_are_added_and_removed() -> None:
    old = [sec("1", "Intro", "alpha beta gamma delta epsilon zeta")]
    new = [sec("1", "Scope", "one two three four five six seven")]
    alignment = align_sections(old, new)
    assert alignment.pairs == () and alignment.added == (0,) and alignment.removed == (0,)


# --- chapter --------------------------------------------------------------------------------


def chapter(
    *sections: Section, title: str = "Chapter", url: str = "https://a.example/c"
) -> Chapter:
    return Chapter(url, title, sections)


def test_new_and_removed_chapters() -> None:
    c = chapter(sec("1", "Intro", "text one"), sec(None, "Further Information", "links"))
    new = diff_chapters(None, c, old_version=None, new_version=1)
    assert new.kind == "new" and [s.kinds for s in new.sections] == [frozenset({"added"})] * 2
    gone = diff_chapters(c, None, old_version=1, new_version=None)
    assert gone.kind == "removed" and all(s.kinds == {"removed"} for s in gone.sections)
    assert gone.chapter_url == c.url


def test_cosmetic_title_change_is_cosmetic_modification() -> None:
    old = chapter(sec("1", "Pre-birth Conferences", "text"))
    new = chapter(sec("1", "Pre–Birth Conferences", "text"))
    diff = diff_chapters(old, new, old_version=1, new_version=2)
    assert [(s.kinds, s.cosmetic) for s in diff.sections] == [(frozenset({"modified"}), True)]


def test_json_contract() -> None:
    link = Link("NICE", "https://nice.example/")
    old = chapter(sec("1", "Intro", "The worker must visit."))
    new = chapter(sec("1", "Intro", "The worker should visit.", (link,)))
    data = chapter_diff_to_json(diff_chapters(old, new, old_version=1, new_version=2))
    (section,) = data["sections"]
    assert section["kinds"] == ["modified"]
    assert section["old"] == {"number": "1", "title": "Intro", "path": ["1"]}
    assert section["inserted"] == "should" and section["deleted"] == "must"
    assert section["links_added"] == [{"text": "NICE", "url": "https://nice.example/"}]
    assert section["flags"] == ["obligation"] and section["cosmetic"] is False


def test_is_same_content() -> None:
    rng = random.Random(9)
    sections = tuple(sec(str(i), f"T{i}", prose(rng, 80)) for i in range(1, 6))
    a = chapter(*sections)
    b = Chapter("https://a.example/moved", "Chapter", (*sections[:-1], sec("5", "T5", "x")))
    other = chapter(*(sec(str(i), f"T{i}", prose(rng, 80)) for i in range(1, 6)))
    assert is_same_content(a, Chapter("https://a.example/moved", "Chapter", sections))
    assert not is_same_content(a, b)
    assert not is_same_content(a, other)


def test_chapter_title_case_change_is_not_a_rename() -> None:
    body = sec("1", "Intro", "text")
    old = chapter(body, title="Pre-birth Conferences")
    assert (
        diff_chapters(
            old, chapter(body, title="Pre-Birth conferences"), old_version=1, new_version=2
        ).kind
        == "updated"
    )
    assert (
        diff_chapters(
            old, chapter(body, title="Unborn Baby Protocol"), old_version=1, new_version=2
        ).kind
        == "renamed"
    )


def test_revised_throughout_needs_most_sections() -> None:
    rng = random.Random(11)
    old = chapter(*(sec(str(i), f"T{i}", prose(rng, 30)) for i in range(1, 6)))
    rewritten = [sec(s.number, s.title, prose(rng, 30)) for s in old.sections]
    most = chapter(*rewritten[:4], old.sections[4])
    some = chapter(*rewritten[:2], *old.sections[2:])
    assert diff_chapters(old, most, old_version=1, new_version=2).revised_throughout
    assert not diff_chapters(old, some, old_version=1, new_version=2).revised_throughout


def test_split_of_a_section_that_lost_its_title() -> None:
    rng = random.Random(12)
    first, second, other = prose(rng, 60), prose(rng, 60), prose(rng, 60)
    old = [sec("1", "Scope", other), sec("2", "Referrals and Assessments", first + " " + second)]
    new = [sec("1", "Scope", other), sec("2", "Referrals", first), sec("3", "Assessments", second)]
    alignment = align_sections(old, new)
    assert len(alignment.splits) == 1
    holder, pieces = alignment.splits[0]
    assert holder == 1 and sorted(pieces) == [1, 2]
    assert alignment.removed == ()
    diff = diff_chapters(chapter(*old), chapter(*new), old_version=1, new_version=2)
    added = [c for c in diff.sections if c.kinds == {"added"}]
    assert len(added) == 1 and added[0].note.startswith("split from Section 2")


def test_merge_into_a_new_title() -> None:
    rng = random.Random(13)
    first, second = prose(rng, 50), prose(rng, 50)
    old = [sec("1", "Referrals", first), sec("2", "Assessments", second)]
    new = [sec("1", "Referrals and Assessments", first + " " + second)]
    alignment = align_sections(old, new)
    assert alignment.merges == ((0, (0, 1)),)
    assert alignment.pairs == ((0, 0),) and alignment.removed == (1,)
    diff = diff_chapters(chapter(*old), chapter(*new), old_version=1, new_version=2)
    removed = [c for c in diff.sections if c.kinds == {"removed"}]
    assert removed[0].note == "merged into Section 1, Referrals and Assessments"
