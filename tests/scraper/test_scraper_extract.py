"""extract_chapter on proceduresonline-like pages with furniture."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amendwatch.errors import ExtractError
from scraper.extract import extract_chapter, normalise_text

DATA = Path(__file__).parent / "data"
URL = "https://northvale.proceduresonline.com/chapters/p_init_cp_conf.html"
TEMPLATE = (DATA / "chapter_icpc.html").read_text(encoding="utf-8")


def render(now: str, token: str, build: str = "4411", count: str = "17") -> str:
    return (
        TEMPLATE.replace("@NOW@", now)
        .replace("@TOKEN@", token)
        .replace("@BUILD@", build)
        .replace("@COUNT@", count)
    )


PAGE = render("2026-03-01T12:00:00Z", "tok-a1b2c3")


def test_title_and_section_outline() -> None:
    chapter = extract_chapter(PAGE, URL)
    assert chapter.title == "Initial Child Protection Conferences"
    outline = [(s.number, s.title, s.level, s.path) for s in chapter.sections]
    assert outline == [
        (None, "Scope of this Chapter", 1, ("Scope of this Chapter",)),
        (None, "Related Guidance", 1, ("Related Guidance",)),
        (None, "Amendment", 1, ("Amendment",)),
        ("1", "Purpose", 1, ("1",)),
        ("2", "Timing", 1, ("2",)),
        ("2.1", "Exceptions", 2, ("2", "2.1")),
        ("2.1.1", "", 3, ("2", "2.1", "2.1.1")),
        ("8", "Pre-birth Conferences", 1, ("8",)),
        ("Appendix 1", "Conference Report Template", 1, ("Appendix 1",)),
        (None, "Further Information", 1, ("Further Information",)),
    ]


def test_section_text_is_normalised() -> None:
    sections = {s.key: s for s in extract_chapter(PAGE, URL).sections}
    assert sections["1"].text == (
        "The Initial Child Protection Conference brings together family members, the child "
        "where appropriate, and professionals.\n"
        "Its purpose is to analyse the information obtained in the Section 47 enquiries."
    )
    assert "prebirth conferences" in sections["Amendment"].text  # soft hyphen removed
    assert sections["2.1.1"].text == "The Conference Chair must be told about any delay."


def test_furniture_is_gone() -> None:
    chapter = extract_chapter(PAGE, URL)
    text = chapter.text
    for furniture in ("Skip to", "cookies", "Search", "Server time", "Visitors", "Print",
                      "Share", "Page last updated", "Build", "tok-a1b2c3", "Home"):  # fmt: skip
        assert furniture not in text
    assert "Contents" not in [s.title for s in chapter.sections]
    assert "1. Purpose" not in text  # the in-page contents list


def test_links_are_absolute_and_in_page_anchors_excluded() -> None:
    chapter = extract_chapter(PAGE, URL)
    prebirth = next(s for s in chapter.sections if s.number == "8")
    assert [(link.text, link.url) for link in prebirth.links] == [
        (
            "Pre-birth Assessment",
            "https://northvale.proceduresonline.com/chapters/p_prebirth_assess.html#top",
        )
    ]
    urls = [link.url for link in chapter.links]
    assert "https://www.nspcc.org.uk/" in urls
    assert not any("#purpose" in u or u.startswith("mailto:") for u in urls)


@settings(max_examples=25, deadline=None)
@given(
    now=st.datetimes().map(lambda d: d.isoformat()),
    token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=32),
    build=st.integers(0, 10**9).map(str),
    count=st.integers(0, 10**6).map(str),
)
def test_volatile_furniture_does_not_change_the_chapter(
    now: str, token: str, build: str, count: str
) -> None:
    assert extract_chapter(render(now, token, build, count), URL) == extract_chapter(PAGE, URL)
    again = extract_chapter(render(now, token, build, count), URL)
    assert again.content_hash == extract_chapter(PAGE, URL).content_hash


def test_selector_and_ignore() -> None:
    chapter = extract_chapter(PAGE, URL, selector="#content", ignore=("h2 + p + p",))
    purpose = next(s for s in chapter.sections if s.number == "1")
    assert purpose.text.startswith("The Initial Child Protection Conference")
    assert "Its purpose" not in purpose.text
    with pytest.raises(ExtractError):
        extract_chapter(PAGE, URL, selector="#no-such-thing")
    with pytest.raises(ExtractError):
        extract_chapter(PAGE, URL, selector="[[[")


def test_heuristic_without_a_content_container_uses_the_densest_element() -> None:
    page = """<html><head><title>Short Breaks | Northvale Manual</title></head><body>
    <div class="menu"><p>Menu</p><p>More</p></div>
    <div class="x"><h2>1. Eligibility</h2><p>Short breaks are available to disabled children.</p>
    <p>They are arranged by the Children with Disabilities Team.</p></div></body></html>"""
    chapter = extract_chapter(page, "https://m.example/c")
    assert chapter.title == "Short Breaks"  # no h1: <title> without the site name
    assert [(s.number, s.title) for s in chapter.sections] == [("1", "Eligibility")]
    assert "Menu" not in chapter.text


def test_bytes_input_with_meta_charset() -> None:
    page = (
        '<html><head><meta charset="windows-1252"></head><body><main><h1>Café Rules</h1>'
        "<p>Children’s café – open daily.</p></main></body></html>"
    ).encode("cp1252")
    chapter = extract_chapter(page, "https://m.example/c")
    assert chapter.title == "Café Rules"
    assert chapter.sections[0].text == "Children’s café – open daily."


def test_no_content_raises() -> None:
    with pytest.raises(ExtractError):
        extract_chapter("<html><body><nav><a href='/'>Home</a></nav></body></html>", URL)


def test_normalise_text() -> None:
    assert normalise_text("a\u00a0 b\u00ad c\u200b d\t\te") == "a b c d e"
    assert normalise_text("  one  \n\n  two \r\n") == "one\ntwo"
    assert normalise_text("e\u0301") == "é"


def test_title_from_an_h1_outside_the_content_container() -> None:
    page = """<html><head><title>Site</title></head><body><div class="banner-title">
    <h1>Private Fostering</h1></div><main><p>A private fostering arrangement is one made
    privately for the care of a child under 16.</p></main></body></html>"""
    chapter = extract_chapter(page, "https://m.example/c")
    assert chapter.title == "Private Fostering"
    assert [s.title for s in chapter.sections] == ["Introduction"]
    assert chapter.sections[0].text.startswith("A private fostering arrangement")
