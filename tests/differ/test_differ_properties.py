"""Hypothesis properties of the differ."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from differ.align import align_sections
from differ.chapter import build_section_change, diff_chapters
from differ.models import Edit
from differ.textdiff import diff_words
from scraper.models import Chapter, Link, Section

WORDS = st.sampled_from(
    [
        "the",
        "child",
        "must",
        "should",
        "may",
        "parent",
        "conference",
        "within",
        "15",
        "10",
        "working",
        "days",
        "plan",
        "social",
        "worker",
        "a",
        "of",
        "and",
        "-",
        ",",
        ".",
        "'",
        "“",
        "”",
        "café",
        "naïve",
        "2022",
        "March",
    ]
)
SPACES = st.sampled_from([" ", "  ", "\n", " \t", "\n\n"])


@st.composite
def texts(draw: st.DrawFn, max_words: int = 40) -> str:
    words = draw(st.lists(WORDS, max_size=max_words))
    out = []
    for word in words:
        out.append(word)
        out.append(draw(SPACES))
    return "".join(out).strip()


@st.composite
def raw_texts(draw: st.DrawFn) -> str:
    """Any unicode, including surrogate-free astral characters and odd whitespace."""
    return draw(st.text(st.characters(blacklist_categories=("Cs",)), max_size=60))


TITLES = st.sampled_from(
    ["Introduction", "Actions", "Timing", "Who Should Attend", "Further Information", "Plan"]
)


@st.composite
def sections(draw: st.DrawFn) -> Section:
    numbered = draw(st.booleans())
    number = str(draw(st.integers(1, 9))) if numbered else None
    title = draw(TITLES)
    links = tuple(
        Link(draw(TITLES), f"https://example.org/{draw(st.integers(1, 3))}")
        for _ in range(draw(st.integers(0, 2)))
    )
    return Section(number, title, 1, (number or title,), draw(texts()), links)


CHAPTERS = st.lists(sections(), max_size=10).map(
    lambda s: Chapter("https://example.org/c", "Chapter", tuple(s))
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rebuild(edits: tuple[object, ...], skip: int) -> str:
    return "".join(e.text for e in edits if e.op != skip)  # type: ignore[attr-defined]


@FAST
@given(texts(), texts())
def test_edits_rebuild_both_texts(a: str, b: str) -> None:
    edits = diff_words(a, b)
    assert rebuild(edits, 1) == a
    assert rebuild(edits, -1) == b


@FAST
@given(raw_texts(), raw_texts())
def test_edits_rebuild_any_unicode(a: str, b: str) -> None:
    edits = diff_words(a, b)
    assert rebuild(edits, 1) == a
    assert rebuild(edits, -1) == b
    assert all(e.text for e in edits)


@FAST
@given(CHAPTERS)
def test_diff_with_itself_has_no_changes(chapter: Chapter) -> None:
    diff = diff_chapters(chapter, chapter, old_version=1, new_version=2)
    assert diff.sections == ()
    assert diff.pairs == tuple((i, i) for i in range(len(chapter.sections)))
    assert diff.kind == "updated"


@FAST
@given(CHAPTERS, CHAPTERS)
def test_alignment_is_one_to_one_and_complete(old: Chapter, new: Chapter) -> None:
    alignment = align_sections(old.sections, new.sections)
    olds = [o for o, _ in alignment.pairs]
    news = [n for _, n in alignment.pairs]
    assert len(set(olds)) == len(olds) and len(set(news)) == len(news)
    assert news == sorted(news)
    assert sorted(olds + list(alignment.removed)) == list(range(len(old.sections)))
    assert sorted(news + list(alignment.added)) == list(range(len(new.sections)))
    assert alignment.moved <= set(news)


@FAST
@given(CHAPTERS, CHAPTERS)
def test_every_section_accounted_for(old: Chapter, new: Chapter) -> None:
    diff = diff_chapters(old, new, old_version=1, new_version=2)
    for change in diff.sections:
        assert change.old is not None or change.new is not None
        if change.old is not None and change.new is not None:
            assert change.kinds - {"added", "removed"} == change.kinds
    added = sum(1 for c in diff.sections if c.old is None)
    removed = sum(1 for c in diff.sections if c.new is None)
    assert len(diff.pairs) + added == len(new.sections)
    assert len(diff.pairs) + removed == len(old.sections)


def reflow(text: str) -> str:
    return re.sub(r"\s+", lambda m: "  \n " if "\n" in m.group() else "   ", f" {text} ")


def reflow_chapter(chapter: Chapter) -> Chapter:
    return Chapter(
        chapter.url,
        chapter.title,
        tuple(
            Section(s.number, s.title, s.level, s.path, reflow(s.text), s.links)
            for s in chapter.sections
        ),
    )


@FAST
@given(CHAPTERS, CHAPTERS)
def test_irrelevant_whitespace_does_not_matter(old: Chapter, new: Chapter) -> None:
    plain = diff_chapters(old, new, old_version=1, new_version=2)
    spaced = diff_chapters(reflow_chapter(old), new, old_version=1, new_version=2)
    assert spaced.pairs == plain.pairs
    assert [(c.kinds, c.cosmetic, c.flags) for c in spaced.sections] == [
        (c.kinds, c.cosmetic, c.flags) for c in plain.sections
    ]
    alone = diff_chapters(old, reflow_chapter(old), old_version=1, new_version=2)
    assert alone.sections == ()


# --- punctuation, whitespace and case never make a kept word look changed --------------------

REFERENCE_WORDS = st.sampled_from(
    ["Section", "section", "10", "3", "b", "d", "i", "ii", "v", "2", "Annex", "the", "must"]
)
SEPARATORS = st.sampled_from([" ", ".", "(", ")", ")(", ", ", " (", ") ", "; ", "-", "\n", "."])
WORD_RE = re.compile(r"\w+")


def words_of(text: str) -> list[str]:
    return WORD_RE.findall(text)


def change_runs(edits: tuple[Edit, ...]) -> list[tuple[str, str]]:
    """(deleted, inserted) of each run of edits between unchanged stretches."""
    runs: list[tuple[str, str]] = []
    for edit in edits:
        if edit.op == 0 or not runs:
            runs.append(("", ""))
        if edit.op != 0:
            old, new = runs[-1]
            runs[-1] = (old + edit.text, new) if edit.op == -1 else (old, new + edit.text)
    return [run for run in runs if run != ("", "")]


@st.composite
def restyled(draw: st.DrawFn) -> tuple[str, str]:
    """Two texts with the same words in the same order; separators and case drawn apart."""
    words = draw(st.lists(REFERENCE_WORDS, min_size=1, max_size=25))
    seps_a = draw(st.lists(SEPARATORS, min_size=len(words) + 1, max_size=len(words) + 1))
    seps_b = draw(st.lists(SEPARATORS, min_size=len(words) + 1, max_size=len(words) + 1))
    recased = [draw(st.sampled_from([w, w.upper(), w.capitalize()])) for w in words]
    a = seps_a[0].strip() + "".join(w + s for w, s in zip(words, seps_a[1:], strict=True))
    b = seps_b[0].strip() + "".join(w + s for w, s in zip(recased, seps_b[1:], strict=True))
    return a, b


@FAST
@given(restyled())
def test_restyled_text_changes_no_word(pair: tuple[str, str]) -> None:
    """ "Section 10(b)(v)" -> "section 10.b.v": each run of edits deletes and inserts the
    same words (case aside), so no unchanged word is ever reported inserted or deleted."""
    a, b = pair
    edits = diff_words(a, b)
    assert rebuild(edits, 1) == a and rebuild(edits, -1) == b
    for old, new in change_runs(edits):
        assert [w.casefold() for w in words_of(old)] == [w.casefold() for w in words_of(new)]


@FAST
@given(texts(), texts())
def test_no_run_deletes_and_reinserts_the_same_words(a: str, b: str) -> None:
    """A run of edits that holds words changes at least one of them: the words a run deletes
    and those it inserts are never the same sequence."""
    for old, new in change_runs(diff_words(a, b)):
        if words_of(old) or words_of(new):
            assert words_of(old) != words_of(new), (old, new)


@FAST
@given(restyled(), texts(max_words=6))
def test_quoted_text_is_the_reworded_part(pair: tuple[str, str], extra: str) -> None:
    """Around a real insertion, restyled references and re-cased words are not quoted."""
    a, b = pair
    inserted = "Platform Developers Dashboard " + extra
    change = build_section_change(section(a), section(f"{b} {inserted}"))
    assert change is not None
    assert words_of(change.inserted) == words_of(inserted)
    assert words_of(change.deleted) == []


def section(text: str) -> Section:
    return Section("10", "International Transfers", 1, ("10",), text)
