"""The content root: the one element of the main region that holds the chapter, and the date
stamps beside it.

Rules (docs/extraction.md, "Content root"):

* **Stamps.** Every small block of the main region whose whole text is a date stamp ("This
  chapter was last updated: 12 January 2026", "Last reviewed on 3 March 2024") is taken out
  of the text and kept as the chapter's ``stamp`` (the version's metadata). A stamp with a
  time of day ("Page last updated: 2026-03-01T12:00:00Z") is the render time: dropped.
* **Descent.** From the main region, step into a child that holds most (over half) of the
  text, as long as everything beside it is furniture: no heading (h2-h6), and each text block
  either a short label that is not a sentence (a breadcrumb trail, "back to top", a print
  link: at most ``FURNITURE_WORDS`` words, no full stop), mostly link text (a tool bar, a
  related-chapters list), or a stamp. One substantial paragraph beside the dominant child (a
  summary, an introduction) stops the descent there, so no chapter text is ever dropped by
  it. Only containers are descended into (div, section, article, main, custom elements),
  never a list or a table.
"""

from __future__ import annotations

from bs4 import NavigableString, Tag
from bs4.element import PageElement

from scraper.sections import bounded_text, gone, strings_in, tags_in
from scraper.stamps import STAMP_MAX_CHARS, has_time_of_day, is_stamp, stamp_text
from scraper.text import normalise_line

__all__ = ["FURNITURE_WORDS", "content_root", "take_stamps"]

FURNITURE_WORDS = 12  # a text block beside the content this short is furniture
MAX_STEPS = 64  # wrappers stepped through at most (a page nested 10,000 deep costs no more)
DOMINANT = 0.5  # the share of the text the child descended into must hold
LINK_DENSE = 0.5  # a block whose link text is at least this share of its text is furniture
_STAMP_BLOCKS = (
    "p", "div", "span", "small", "time", "li", "dd", "dt", "td", "em", "i", "strong", "b",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "section", "aside",
)  # fmt: skip
_BLOCKS = frozenset(
    {"p", "li", "div", "dd", "dt", "td", "th", "blockquote", "pre", "table", "ul", "ol", "dl",
     "section", "article", "figure", "details", "address"}
)  # fmt: skip
_CONTAINERS = frozenset({"div", "section", "article", "main"})
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")


def _words(text: str) -> int:
    return len(text.split())


def take_stamps(root: Tag) -> tuple[str, ...]:
    """Remove the date-stamp blocks from ``root``; the texts of those that are editorial
    (a date, not a render time: ``has_time_of_day``), in document order."""
    stamps: list[str] = []
    for tag in tags_in(root, _STAMP_BLOCKS):
        if gone(tag):
            continue
        text = bounded_text(tag, STAMP_MAX_CHARS)
        if text is None or not is_stamp(text):
            continue
        if not has_time_of_day(text):
            stamps.append(stamp_text(text))
        outer = tag
        while (  # the whole wrapper goes when it holds nothing but the stamp
            isinstance(outer.parent, Tag)
            and outer.parent is not root
            and normalise_line(outer.parent.get_text(" ")) == text
        ):
            outer = outer.parent
        outer.decompose()
    return tuple(stamps)


def _text_length(node: PageElement) -> int:
    if isinstance(node, NavigableString):
        return len(node.strip())
    if isinstance(node, Tag):
        return sum(len(piece.strip()) for piece in strings_in(node))
    return 0


def _is_short_label(text: str) -> bool:
    """A few words that are not a sentence ("You are here:", "Share this page")."""
    return _words(text) <= FURNITURE_WORDS and not text.endswith((".", "!", "?"))


def _is_furniture_block(tag: Tag) -> bool:
    text = normalise_line(tag.get_text(" "))
    if not text or _is_short_label(text) or is_stamp(text):
        return True
    linked = sum(len(normalise_line(a.get_text(" "))) for a in tags_in(tag, ("a",)))
    return linked >= LINK_DENSE * len(text)


def _leaf_blocks(tag: Tag) -> list[Tag]:
    """The innermost block elements of ``tag`` (``tag`` itself when it has none)."""
    inner = [t for t in tags_in(tag, _BLOCKS) if t.find(_BLOCKS) is None]
    return inner or [tag]


def _is_furniture(node: PageElement) -> bool:
    """A sibling of the content: no heading, and only short, link-dense or stamp blocks."""
    if isinstance(node, NavigableString):
        return _is_short_label(normalise_line(str(node)))
    if not isinstance(node, Tag):
        return True
    if node.name in _HEADINGS or node.find(_HEADINGS) is not None:
        return False
    return all(_is_furniture_block(block) for block in _leaf_blocks(node))


def _dominant_child(tag: Tag) -> Tag | None:
    total = _text_length(tag)
    if total == 0:
        return None
    for child in tag.children:
        if isinstance(child, Tag) and _text_length(child) > DOMINANT * total:
            return child if _is_container(child) else None
    return None


def _is_container(tag: Tag) -> bool:
    """An element that may hold a whole chapter (not a list, table, paragraph ...)."""
    return tag.name in _CONTAINERS or "-" in tag.name  # custom elements: <cms-body>


def content_root(body: Tag) -> Tag:
    """The element of ``body`` that holds the chapter (``body`` itself when nothing beside
    its dominant child is furniture)."""
    root = body
    for _ in range(MAX_STEPS):
        child = _dominant_child(root)
        if child is None:
            break
        if not all(_is_furniture(node) for node in root.children if node is not child):
            break
        root = child
    return root
