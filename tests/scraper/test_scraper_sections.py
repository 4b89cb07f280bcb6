"""split_sections: heading forms, numbering, paths, and no text lost or invented."""

from __future__ import annotations

import html as htmllib

import pytest
from bs4 import BeautifulSoup, Tag
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.sections import looks_like_heading, parse_heading, split_sections
from scraper.text import normalise_line

BASE = "https://m.example/chapters/c.html"


def body(markup: str) -> Tag:
    soup = BeautifulSoup(f"<div id='b'>{markup}</div>", "lxml")
    found = soup.find(id="b")
    assert isinstance(found, Tag)
    return found


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("8. Pre-birth Conferences", ("8", "Pre-birth Conferences")),
        ("8 Pre-birth Conferences", ("8", "Pre-birth Conferences")),
        ("Section 8: Pre-birth Conferences", ("8", "Pre-birth Conferences")),
        ("8.2 Timing of Conferences", ("8.2", "Timing of Conferences")),
        ("8.2. Timing", ("8.2", "Timing")),
        ("Appendix 1: Conference Report", ("Appendix 1", "Conference Report")),
        ("APPENDIX 2 - FORMS", ("APPENDIX 2", "Forms")),
        ("SCOPE OF THIS CHAPTER", (None, "Scope of this Chapter")),
        ("Further Information", (None, "Further Information")),
        ("2021 Changes", (None, "2021 Changes")),
        ("12.", ("12", "")),
    ],
)
def test_parse_heading(heading: str, expected: tuple[str | None, str]) -> None:
    assert parse_heading(heading) == expected


def test_introduction_bold_headings_and_box_titles() -> None:
    sections = split_sections(
        body(
            "<p>Opening words.</p>"
            "<p>RELATED CHAPTERS</p><p><a href='other.html'>Other</a> and <a href='#x'>here</a></p>"
            "<p><strong>3. Process</strong></p><p>Step <strong>one</strong> then two.</p>"
            "<h4>3.1 Detail</h4><p>More.</p><p>3.1.1 A numbered paragraph.</p>"
            "<p>3.1.2 Another one.</p><h2>4. Review</h2><ul><li>First</li><li>Second</li></ul>"
        ),
        BASE,
    )
    assert [(s.number, s.title, s.level, s.path, s.text) for s in sections] == [
        (None, "Introduction", 1, ("Introduction",), "Opening words."),
        (None, "Related Chapters", 1, ("Related Chapters",), "Other and here"),
        ("3", "Process", 1, ("3",), "Step one then two."),
        ("3.1", "Detail", 2, ("3", "3.1"), "More."),
        ("3.1.1", "", 3, ("3", "3.1", "3.1.1"), "A numbered paragraph."),
        ("3.1.2", "", 3, ("3", "3.1", "3.1.2"), "Another one."),
        ("4", "Review", 1, ("4",), "First\nSecond"),
    ]
    related = sections[1]
    assert [(link.text, link.url) for link in related.links] == [
        ("Other", "https://m.example/chapters/other.html")
    ]


def test_unnumbered_headings_nest_by_depth() -> None:
    sections = split_sections(
        body("<h2>Guidance</h2><p>a</p><h3>Local Notes</h3><p>b</p><h2>Contacts</h2><p>c</p>"),
        BASE,
    )
    assert [s.path for s in sections] == [
        ("Guidance",),
        ("Guidance", "Local Notes"),
        ("Contacts",),
    ]
    assert [s.level for s in sections] == [1, 2, 1]


def test_bold_text_inside_a_sentence_is_not_a_heading() -> None:
    sections = split_sections(body("<h2>1. Scope</h2><p><strong>Note:</strong> this.</p>"), BASE)
    assert len(sections) == 1 and sections[0].text == "Note: this."


words = st.text(alphabet="abcdefghij klmnopqrstuvwxyz,;'&<\u00a0\u00ad", min_size=1, max_size=40)
# a bold paragraph ending in punctuation is prose ("Note:"), so bold headings end in a letter
bold_words = words.filter(lambda t: normalise_line(t)[-1:].isalpha())
items = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["h2", "h3", "p", "li"]), words),
        st.tuples(st.just("boldp"), st.one_of(bold_words, bold_words.map(str.title))),
    ),
    min_size=1,
    max_size=12,
)


def render(doc: list[tuple[str, str]]) -> str:
    parts = []
    for kind, text in doc:
        escaped = htmllib.escape(text)
        if kind == "boldp":
            parts.append(f"<p><strong>{escaped}</strong></p>")
        elif kind == "li":
            parts.append(f"<ul><li>{escaped}</li></ul>")
        else:
            parts.append(f"<{kind}>{escaped}</{kind}>")
    return "".join(parts)


@settings(max_examples=150, deadline=None)
@given(items)
def test_sections_partition_the_body_text(doc: list[tuple[str, str]]) -> None:
    root = body(render(doc))
    sections = split_sections(root, BASE)
    # a bold paragraph is a heading only when it looks like one (title case, numbered)
    heading = [
        kind in ("h2", "h3") or (kind == "boldp" and looks_like_heading(normalise_line(t)))
        for kind, t in doc
    ]
    headings = [normalise_line(t) for (_, t), h in zip(doc, heading, strict=True) if h]
    headings = [h for h in headings if h]
    paragraphs = [normalise_line(t) for (_, t), h in zip(doc, heading, strict=True) if not h]
    paragraphs = [p for p in paragraphs if p]
    # every paragraph lands in exactly one section, in order; nothing is invented
    assert "\n".join(s.text for s in sections if s.text) == "\n".join(paragraphs)
    titled = [s for s in sections if s.title != "Introduction" or s.number is not None]
    assert [s.title for s in titled] == [parse_heading(h)[1] for h in headings]
    # deterministic
    assert split_sections(body(render(doc)), BASE) == sections
