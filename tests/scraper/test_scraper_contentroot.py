"""The content root, date stamps and bold lead-ins (docs/extraction.md), on layouts of our own."""

from __future__ import annotations

import pytest

from scraper.extract import extract_chapter
from scraper.sections import looks_like_heading
from scraper.stamps import has_time_of_day, is_stamp

URL = "https://manual.example.org/chapters/visits.html"
ARTICLE = """
<article>
  <h1>Visits to Children in Care</h1>
  <p>Every child in care is visited by their social worker at the intervals set out here.</p>
  <h2>1. Frequency of Visits</h2>
  <p>The first visit must take place within one week of the placement starting.</p>
  <h2>2. Recording</h2>
  <p>Each visit is recorded on the child's file within three working days of the visit.</p>
</article>
"""


def page(main: str) -> str:
    return (
        "<!DOCTYPE html><html><head><title>Visits | Example Manual</title></head><body>"
        '<header><a href="/">Example Manual</a></header>'
        f"<main>{main}</main><footer>Copyright Example</footer></body></html>"
    )


def stamped(stamp: str, token: str = "a1b2") -> str:
    """Layout A: furniture and a stamp in <main> beside the <article> that holds the chapter."""
    return page(
        '<nav class="crumbs"><a href="/">Home</a> &gt; <a href="/c.html">Chapters</a></nav>'
        '<div class="page-actions"><a href="?print=1">Print</a> '
        f'<a href="/share?t={token}">Share this page</a></div>'
        f'<p class="updated">{stamp}</p>{ARTICLE}'
        '<p><a href="#top">Back to top</a></p>'
    )


def test_a_stamp_beside_the_article_is_metadata_not_the_introduction() -> None:
    old = extract_chapter(stamped("This chapter was last updated: 12 January 2026"), URL)
    new = extract_chapter(stamped("This chapter was last updated: 3 March 2026", "zz9"), URL)
    assert old.stamp == "This chapter was last updated: 12 January 2026"
    assert new.stamp == "This chapter was last updated: 3 March 2026"
    assert old.sections == new.sections
    assert old.sections[0].title == "Introduction"
    assert old.sections[0].text.startswith("Every child in care")
    assert "updated" not in old.text and "Share" not in old.text and "Print" not in old.text
    assert old.title == "Visits to Children in Care"


def test_layout_b_stamp_inside_the_body_container_under_the_title() -> None:
    html = page(
        '<div id="content" class="page-body"><h1>Visits to Children in Care</h1>'
        "<p><em>Last reviewed on 3 March 2024</em></p>"
        "<p>Every child in care is visited by their social worker.</p>"
        "<h2>1. Frequency of Visits</h2><p>Within one week of the placement.</p></div>"
    )
    chapter = extract_chapter(html, URL)
    assert chapter.stamp == "Last reviewed on 3 March 2024"
    assert [s.title for s in chapter.sections] == ["Introduction", "Frequency of Visits"]
    assert chapter.sections[0].text == "Every child in care is visited by their social worker."


def test_a_substantial_paragraph_beside_the_article_keeps_the_whole_main_region() -> None:
    summary = (
        "<p>This summary explains who must visit, how often visits happen and what is "
        "recorded after each one, for every looked after child.</p>"
    )
    chapter = extract_chapter(page(summary + ARTICLE), URL)
    assert chapter.sections[0].text.startswith("This summary explains who must visit")
    assert "Every child in care is visited" in chapter.sections[0].text


def test_a_sentence_about_an_update_is_content_not_a_stamp() -> None:
    sentence = "We last updated this policy on 5 May 2024 to reflect the new regulations."
    html = page(f"<article><h1>Visits</h1><p>{sentence}</p><h2>1. Scope</h2><p>All.</p></article>")
    chapter = extract_chapter(html, URL)
    assert chapter.stamp is None
    assert chapter.sections[0].text == sentence


def test_a_render_time_stamp_is_dropped_not_kept() -> None:
    html = stamped("Page last updated: 2026-03-01T12:00:00Z")
    chapter = extract_chapter(html, URL)
    assert chapter.stamp is None
    assert "2026-03-01" not in chapter.text


def test_headings_named_like_furniture_are_sections() -> None:
    cookies = (
        "We use cookies to remember your settings and to measure how the site is used; "
        "you can refuse them at any time in the settings. "
    )
    body = (
        "<article><h1>Privacy Policy</h1><p>How we use your data.</p>"
        '<section id="cookies"><h2 id="cookies-h">Cookies</h2>'
        f"<p>{cookies * 4}</p></section>"
        '<h2 id="search">Search</h2><p>Searches are logged for a month.</p>'
        '<section id="share"><h2>Share</h2><p>We never share your data.</p></section>'
        "<header><h3>Sharing Your Information</h3></header><p>Only with your consent.</p>"
        "</article>"
    )
    chapter = extract_chapter(page(body), URL)
    assert [s.title for s in chapter.sections] == [
        "Introduction",
        "Cookies",
        "Search",
        "Share",
        "Sharing Your Information",
    ]


def test_every_heading_level_is_a_boundary_numbered_or_not() -> None:
    body = "".join(
        f"<h{n}><a id='h{n}'></a>Heading Level {n}</h{n}><p>Text {n}.</p>" for n in range(2, 7)
    )
    chapter = extract_chapter(page(f"<article><h1>All Levels</h1>{body}</article>"), URL)
    assert [s.title for s in chapter.sections] == [f"Heading Level {n}" for n in range(2, 7)]


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("Who Can Attend", True),
        ("SCOPE OF THIS CHAPTER", True),
        ("3.2 Visits to the child", True),
        ("(a) the child's wishes", True),
        ("Appendix 1: Forms", True),
        ("Rights of the Child and the Family", True),
        ("Note:", False),
        ("Please read this carefully before you start", False),
        ("We will never sell your data", False),
        ("This Is A Very Long Bold Line That Runs On And On Well Past Any Heading Length", False),
        ("Important.", False),
    ],
)
def test_bold_lead_in_rule_both_sides(text: str, heading: bool) -> None:
    assert looks_like_heading(text) is heading
    html = page(
        f"<article><h1>Lead-ins</h1><p>Opening.</p><p><strong>{text}</strong></p>"
        "<p>Body text.</p></article>"
    )
    titles = [s.title for s in extract_chapter(html, URL).sections]
    assert (len(titles) == 2) is heading


@pytest.mark.parametrize(
    "text",
    [
        "Last updated: 3 March 2024",
        "Last Updated: May 22, 2024",
        "This chapter was last reviewed in March 2022.",
        "Amended on 2024-03-03",
        "Date of last review: 01/02/2024",
        "Effective date: January 1, 2024",
        "Page last updated: 5 May 2024. Next review due: May 2025",
    ],
)
def test_stamps(text: str) -> None:
    assert is_stamp(text)
    assert not has_time_of_day(text)


@pytest.mark.parametrize(
    "text",
    [
        "Last updated",
        "Updated chapters",
        "Section 3 was updated on 3 May 2024 to add a new table",
        "The conference is held on 3 March 2024 at the town hall.",
        "3 March 2024",
    ],
)
def test_not_stamps(text: str) -> None:
    assert not is_stamp(text)


def test_deep_nesting_does_not_recurse() -> None:
    nested = "<div>" * 20_000 + "<p>Deep text of the chapter.</p>" + "</div>" * 20_000
    unclosed = "".join(f"<p><span>Paragraph {n} text" for n in range(2_000))
    for body in (nested, unclosed):
        html = f"<html><body><main><h1>Deep</h1>{body}</main></body></html>"
        chapter = extract_chapter(html, URL)
        assert chapter.title == "Deep" and chapter.sections


def test_a_print_and_share_block_inside_the_content_is_furniture() -> None:
    for token in ("abc123DEF456ghi789", "zz9Yx8Wv7Ut6Sr5Qp4"):
        html = page(
            f"{ARTICLE[:-11]}<div class='pagefoot'>Print this page | "
            f"<a href='/c.html?share={token}'>Share</a></div></article>"
        )
        chapter = extract_chapter(html, URL)
        assert "Print" not in chapter.text and "Share" not in chapter.text
    sentence = page("<article><h1>T</h1><p>You may <a href='/s.html'>share</a> it.</p></article>")
    assert extract_chapter(sentence, URL).sections[0].text == "You may share it."


def test_links_lose_tracking_and_token_parameters_but_keep_their_fragment() -> None:
    html = page(
        "<article><h1>T</h1><p>See <a href='/g.html?utm_source=x&id=7#part2'>the guide</a> "
        "and <a href='/d.html?session=Ab12Cd34Ef56Gh78Ij90'>the form</a>.</p></article>"
    )
    urls = [link.url for link in extract_chapter(html, URL).links]
    assert urls == [
        "https://manual.example.org/g.html?id=7#part2",
        "https://manual.example.org/d.html",
    ]


def test_headings_inside_a_list_of_anchor_links_are_sections() -> None:
    items = "".join(
        f"<li><h4>Be {w}</h4><p>Text {w}.</p><p><a href='#{w}'>Learn more</a></p></li>"
        for w in ("safe", "kind", "fair")
    )
    chapter = extract_chapter(page(f"<article><h1>Rules</h1><ul>{items}</ul></article>"), URL)
    assert [s.title for s in chapter.sections] == ["Be safe", "Be kind", "Be fair"]


def test_a_heading_anchor_mark_is_not_part_of_its_title_or_stamp() -> None:
    html = page(
        "<article><h1>T</h1><h2 id='a'>Be Trustworthy <a href='#a'>¶</a></h2><p>Text.</p>"
        "<h5 id='u'>Last Updated: May 22, 2024 <a href='#u'>¶</a></h5></article>"
    )
    chapter = extract_chapter(html, URL)
    assert [s.title for s in chapter.sections] == ["Be Trustworthy"]
    assert chapter.stamp == "Last Updated: May 22, 2024"


def test_a_bold_heading_before_a_line_break_is_a_heading_as_on_its_own_line() -> None:
    joined = "<p><strong>Children and Minors</strong><br>We remove such content.</p>"
    alone = "<p><strong>Children and Minors</strong></p><p>We remove such content.</p>"
    lead = "<p><strong>Note</strong><br>this is not a heading, it is emphasis.</p>"
    made = [
        extract_chapter(page(f"<article><h1>T</h1><p>Intro.</p>{body}</article>"), URL).sections
        for body in (joined, alone, lead)
    ]
    assert made[0] == made[1]
    assert [s.title for s in made[0]] == ["Introduction", "Children and Minors"]
    assert [s.title for s in made[2]] == ["Introduction"]


def test_lettered_and_roman_headings_are_numbered_so_relettering_is_a_renumbering() -> None:
    html = page("<article><h1>T</h1><h2>P. Changes to our Policy</h2><p>a</p>"
                "<h2>IV. Remedies</h2><p>b</p></article>")  # fmt: skip
    sections = extract_chapter(html, URL).sections
    assert [(s.number, s.title) for s in sections] == [
        ("P", "Changes to our Policy"),
        ("IV", "Remedies"),
    ]
    assert sections[0].label == "Section P, Changes to our Policy"
