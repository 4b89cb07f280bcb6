"""scraper.sections ``tags_in`` and ``strings_in`` (the tree walks that replaced BeautifulSoup's
``find_all`` in the extraction): the very same nodes, in the same order, as ``find_all(names)``,
``find_all(True)`` and ``find_all(string=True)``, from the document and from every element in
it, on generated markup and on the stored test pages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, PageElement, Tag
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.extract import parse_html
from scraper.sections import strings_in, tags_in

NAMES = ("p", "div", "a", "span", "ul", "li", "script")
DATA = Path(__file__).resolve().parents[1] / "data"
SCRAPER_DATA = Path(__file__).resolve().parent / "data"
PAGES = sorted([*DATA.glob("*/*.html"), *SCRAPER_DATA.glob("**/*.html")])

_text = st.text(alphabet="ab &;<>\n\t-", min_size=1, max_size=8).map(
    lambda s: s.replace("<", "&lt;").replace(">", "&gt;")
)
_comment = st.text(alphabet="ab -", max_size=6).map(lambda s: f"<!--{s}-->")
_script = st.text(alphabet="ab<>/;", max_size=8).map(
    lambda s: "<script>" + s.replace("</", "< /") + "</script>"
)


def _element(children: st.SearchStrategy[list[str]]) -> st.SearchStrategy[str]:
    tag = st.sampled_from(("p", "div", "a", "span", "ul", "li"))
    attribute = st.sampled_from(("", ' class="c"', ' href="#x"', ' id="main"'))
    return st.tuples(tag, attribute, children).map(
        lambda t: f"<{t[0]}{t[1]}>{''.join(t[2])}</{t[0]}>"
    )


MARKUP = st.recursive(
    st.one_of(_text, _comment, _script),
    lambda inner: _element(st.lists(inner, max_size=4)),
    max_leaves=25,
)
DOCUMENTS = st.tuples(
    st.sampled_from(("", "<!DOCTYPE html>")), st.lists(MARKUP, min_size=1, max_size=4)
).map(lambda t: t[0] + "<html><body>" + "".join(t[1]) + "</body></html>")


def same_nodes(walked: Sequence[PageElement], found: Sequence[PageElement]) -> None:
    """The same objects (``is``, not ``==``: equal strings are distinct nodes), in order."""
    assert len(walked) == len(found)
    for index, (mine, theirs) in enumerate(zip(walked, found, strict=True)):
        assert mine is theirs, (index, mine, theirs)


def check_every_root(soup: BeautifulSoup, names: Sequence[str]) -> int:
    """Compare both walks with ``find_all`` from the document and from each element in it;
    returns how many roots were compared."""
    roots: list[Tag] = [soup, *soup.find_all(True)]
    for root in roots:
        same_nodes(tags_in(root, names), root.find_all(list(names)))
        same_nodes(tags_in(root, frozenset(names)), root.find_all(list(names)))
        same_nodes(tags_in(root), root.find_all(True))
        same_nodes(strings_in(root), root.find_all(string=True))
    return len(roots)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS, st.lists(st.sampled_from(NAMES), max_size=4, unique=True))
def test_the_walks_find_what_find_all_finds(document: str, names: list[str]) -> None:
    soup = parse_html(document)
    assert check_every_root(soup, names) >= 3  # the document, <html> and <body> at least


def test_a_hand_written_page_with_every_kind_of_node() -> None:
    soup = parse_html(
        "<!DOCTYPE html><html><head><title>T</title><script>var a = 1;</script></head>"
        "<body><div><p>One <a href='#x'>two</a><!-- note --></p><ul><li>a</li><li>"
        "<span>b</span></li></ul></div><p>Three</p></body></html>"
    )
    check_every_root(soup, ["p", "a", "li"])
    assert [t.name for t in tags_in(soup, ("p", "a", "li"))] == ["p", "a", "li", "li", "p"]
    assert [str(s) for s in strings_in(soup)] == [
        "html", "T", "var a = 1;", "One ", "two", " note ", "a", "b", "Three",
    ]  # fmt: skip
    assert tags_in(soup, ()) == []
    assert tags_in(soup, ("table",)) == []


@pytest.mark.parametrize("path", PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_stored_pages_walk_as_find_all_finds(path: Path) -> None:
    soup = parse_html(path.read_bytes())
    names = ["p", "a", "h2", "li", "div", "main", "script", "nav", "footer"]
    assert check_every_root(soup, names) >= 5  # html, head, title, body and more
    assert tags_in(soup, ("title",)) and strings_in(soup)


def test_pages_were_found() -> None:
    assert len(PAGES) >= 40
    assert SCRAPER_DATA / "chapter_icpc.html" in PAGES
