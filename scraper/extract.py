"""Find a chapter's main content, strip the site furniture and split it into sections."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction
from soupsieve import SelectorSyntaxError

from amendwatch.errors import ExtractError
from scraper.contentroot import content_root, take_stamps
from scraper.models import Chapter, Link
from scraper.pageparts import BODY_CANDIDATES as _BODY_CANDIDATES
from scraper.pageparts import NEVER_CONTENT as _NEVER_CONTENT
from scraper.sections import (
    HEADING_TAGS,
    bounded_text,
    gone,
    split_sections,
    strings_in,
    tags_in,
)
from scraper.text import has_text, normalise_line, normalise_text

__all__ = ["extract_chapter", "find_body", "normalise_text", "parse_html", "strip_furniture"]

_FURNITURE_TAGS = ("nav", "header", "footer", "form", "aside", "button", "input", "select")
_FURNITURE_NAME = re.compile(
    r"(^|[-_\s])(skip|skip-?link|logo|breadcrumbs?|cookies?|cookie-?banner|consent|search|"
    r"print|share|social|sidebar|side-?bar|related-?(chapters|links|pages|content)|"
    r"toolbar|page-?tools|tools|last-?updated|build(-?info)?|site-?footer|site-?header|"
    r"back-?to-?top|alert-?banner)([-_\s]|$)",
    re.I,
)
_FOOTER_TEXT = re.compile(
    r"^(page\s+)?last\s+(updated|modified|reviewed|built)\b|^build\s*(no\.?|number|#|:|\d)"
    r"|^(version|release)\s*[:#]?\s*[\w.-]*\d|^generated\s+(at|on)\b",
    re.I,
)
_SKIP_TEXT = re.compile(r"^(skip to|jump to) (main )?(content|navigation)", re.I)
_CONTENTS_TEXT = re.compile(r"^(chapter\s+)?contents:?$|^in this chapter:?$", re.I)


def parse_html(html: bytes | str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def _classes(tag: Tag) -> str:
    classes = tag.get("class") or ""
    return " ".join(classes) if isinstance(classes, list) else str(classes)


def _names(tag: Tag) -> str:
    return f"{_classes(tag)} {tag.get('id') or ''}".strip()


def _is_inpage_contents(tag: Tag) -> bool:
    """A list of links that all point into the page (#...): a generated contents list."""
    if tag.name not in ("ul", "ol"):
        return False
    anchors = tags_in(tag, ("a",))
    if len(anchors) < 2 or tag.find(HEADING_TAGS) is not None:
        return False
    if not all(str(a.get("href", "")).startswith("#") for a in anchors):
        return False
    linked = sum(len(normalise_line(a.get_text(" "))) for a in anchors)
    return linked >= INPAGE_LINK_SHARE * len(normalise_line(tag.get_text(" ")))


SMALL_TEXT = 160  # furniture lines are at most this long
_TOOL_BLOCKS = frozenset({"p", "div", "ul", "ol"})
INPAGE_LINK_SHARE = 0.8  # a contents list is (nearly) all link text: no headings, no prose

_TOOL_WORDS = frozenset(
    {"print", "printable", "printer", "share", "email", "e-mail", "mail", "send", "download",
     "pdf", "bookmark", "save", "feedback", "tweet", "facebook", "linkedin", "twitter", "x",
     "whatsapp", "copy", "link", "subscribe", "rss", "follow", "report", "problem", "rate",
     "export", "word", "doc", "back", "top", "up", "to", "the", "this", "a", "an", "page",
     "chapter", "article", "document", "section", "version", "friend", "us", "on", "our", "of",
     "as", "or", "and", "via", "print-friendly"}
)  # fmt: skip
_TOOL_ACTIONS = frozenset(
    {"print", "printable", "share", "email", "e-mail", "send", "download", "bookmark",
     "feedback", "tweet", "copy", "subscribe", "follow", "report", "export", "top",
     "print-friendly"}
)  # fmt: skip
_TOOL_SEPARATORS = re.compile(r"[|·•/,:;()\[\]>»–—-]+")


def is_tool_bar(text: str) -> bool:
    """A short run of page actions ("Print this page | Share", "Back to top", "Download
    PDF | Email a friend"): only action words and their small words, at least one action."""
    words = _TOOL_SEPARATORS.sub(" ", text.casefold()).split()
    if not words or len(words) > 12:
        return False
    return set(words) <= _TOOL_WORDS and not _TOOL_ACTIONS.isdisjoint(words)


_NOT_TEXT = (Comment, Doctype, Declaration, ProcessingInstruction)


def strip_furniture(root: Tag, ignore: Sequence[str] = ()) -> None:
    """Remove navigation, banners, tools, footers and ``ignore`` matches from ``root``."""
    for markup in [s for s in strings_in(root) if isinstance(s, _NOT_TEXT)]:
        markup.extract()  # comments, and a stray <!DOCTYPE> or <?xml?> inside the body
    for selector in ignore:
        try:
            matches = root.select(selector)
        except SelectorSyntaxError as exc:
            raise ExtractError(f"invalid ignore selector {selector!r}") from exc
        for tag in matches:
            tag.decompose()
    for tag in tags_in(root, _NEVER_CONTENT):
        tag.decompose()
    for tag in tags_in(root, _FURNITURE_TAGS):
        if gone(tag):
            continue
        if tag.name == "header" and tag.find(HEADING_TAGS) is not None:
            tag.unwrap()  # an article or section header that carries its heading
        else:
            tag.decompose()
    for tag in tags_in(root):
        if gone(tag) or not _is_named_furniture(tag):
            continue
        tag.decompose()
    _strip_small_furniture(root)


MAX_NAMED_SECTION = 400  # an element named like furniture that holds a heading and more text
# than this is a section of the chapter ("Cookies", "Sharing your information"), not furniture


def _is_named_furniture(tag: Tag) -> bool:
    """Furniture by its class, id or role; a heading, or an element holding a heading and
    the text of a section, is content whatever its name (anchors like id="cookies")."""
    role = tag.get("role") in ("navigation", "search")
    if not (role or _FURNITURE_NAME.search(_names(tag))) or tag.name in HEADING_TAGS:
        return False
    if tag.find(HEADING_TAGS) is None:
        return True
    by_class = _FURNITURE_NAME.search(_classes(tag))
    # an id on an element with a heading is an anchor (<section id="cookies">)
    return (role or by_class is not None) and _text_length(tag) <= MAX_NAMED_SECTION


_TEXT_BLOCKS = ["p", "li", "td", "th", "dd", "dt", "small", "span", "caption", "figcaption", "div"]
_BLOCK_CHILDREN = ["p", "li", "div", "ul", "ol", "table", "section", "h2", "h3", "h4", "h5", "h6"]


def strip_matching_text(root: Tag, patterns: Sequence[str]) -> None:
    """Drop the smallest blocks whose text matches one of ``patterns``."""
    if not patterns:
        return
    try:
        compiled = [re.compile(pattern) for pattern in patterns]
    except re.error as exc:
        raise ExtractError(f"invalid ignore pattern: {exc}") from exc
    for tag in tags_in(root, _TEXT_BLOCKS):
        if gone(tag) or tag.find(_BLOCK_CHILDREN) is not None:
            continue
        text = " ".join(tag.get_text(" ").split())
        if any(pattern.search(text) for pattern in compiled):
            tag.decompose()


_SMALL_FURNITURE = frozenset({"a", "p", "div", "span", "small", "ul", "ol"})


def _strip_small_furniture(root: Tag) -> None:
    for tag in tags_in(root, _SMALL_FURNITURE):
        if gone(tag):
            continue
        text = bounded_text(tag, SMALL_TEXT)
        if text is None:  # too long for furniture: only a generated contents list may be
            if _is_inpage_contents(tag):
                tag.decompose()
            continue
        if tag.name == "a" and _SKIP_TEXT.match(text):
            tag.decompose()
        elif _is_inpage_contents(tag):
            label = tag.find_previous_sibling()
            if isinstance(label, Tag) and _CONTENTS_TEXT.match(normalise_line(label.get_text())):
                label.decompose()
            tag.decompose()
        elif _FOOTER_TEXT.match(text):
            tag.decompose()
        elif tag.name in _TOOL_BLOCKS and is_tool_bar(text):
            tag.decompose()  # a block of page actions, never words inside a sentence


def _text_length(tag: Tag) -> int:
    return len(normalise_line(tag.get_text(" ")))


def find_body(soup: BeautifulSoup, selector: str | None) -> Tag:
    """The element holding the chapter: ``selector`` if given, else a heuristic."""
    if selector is not None:
        try:
            found = soup.select_one(selector)
        except SelectorSyntaxError as exc:
            raise ExtractError(f"invalid content selector {selector!r}") from exc
        if found is None:
            raise ExtractError(f"the content selector {selector!r} matched nothing")
        return found
    for candidate in _BODY_CANDIDATES:
        for found in soup.select(candidate):
            if has_text(found.get_text(" "), 40):
                return found
    scores: dict[int, tuple[int, Tag]] = {}
    for para in tags_in(soup, ("p",)):
        parent = para.parent
        if isinstance(parent, Tag):
            score = scores.get(id(parent), (0, parent))[0] + _text_length(para)
            scores[id(parent)] = (score, parent)
    if scores:
        return max(scores.values(), key=lambda pair: pair[0])[1]
    body = soup.body
    if body is None:
        raise ExtractError("the page has no body")
    return body


def _title_of(soup: BeautifulSoup, body: Tag) -> str:
    """The first h1 of the body (removed from it), else the page's first h1, else <title>
    without a trailing " | Site name"."""
    heading = body.find("h1")
    if isinstance(heading, Tag):
        title = normalise_line(heading.get_text(" "))
        heading.decompose()
        if title:
            return title
    heading = soup.find("h1")
    if isinstance(heading, Tag) and (title := normalise_line(heading.get_text(" "))):
        return title
    if soup.title is not None:
        return normalise_line(soup.title.get_text(" ")).split(" | ")[0].strip()
    return ""


def extract_chapter(
    html: bytes | str,
    url: str,
    *,
    selector: str | None = None,
    ignore: Sequence[str] = (),
    ignore_text: Sequence[str] = (),
) -> Chapter:
    """Extract one chapter page into a ``Chapter`` (raises ``ExtractError`` without content).

    ``ignore`` are CSS selectors of parts that are not content; ``ignore_text`` regular
    expressions: the smallest blocks (paragraph, list item, cell, ...) whose text matches one
    are dropped (a manual's own "Page reviewed on ..." lines, say)."""
    soup = parse_html(html)
    for tag in tags_in(soup, _NEVER_CONTENT):
        tag.decompose()
    body = find_body(soup, selector)
    stamps = take_stamps(body)
    strip_furniture(body, ignore)
    strip_matching_text(body, ignore_text)
    title = _title_of(soup, body)
    sections = split_sections(content_root(body), url)
    if not sections:
        raise ExtractError(f"no chapter content found at {url}")
    links: dict[tuple[str, str], Link] = {}
    for section in sections:
        for link in section.links:
            links.setdefault((link.text, link.url), link)
    stamp = " | ".join(dict.fromkeys(stamps)) or None
    return Chapter(
        url=url, title=title, sections=sections, links=tuple(links.values()), stamp=stamp
    )
