"""Split a chapter body into numbered (and unnumbered) sections."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

from bs4 import NavigableString, Tag
from bs4.element import CData, Comment, PageElement

from amendwatch.errors import ExtractError
from scraper.models import Link, Section
from scraper.pageparts import MAX_ELEMENTS
from scraper.text import SMALL_WORDS, normalise_line, strip_anchor_marks, title_case
from scraper.urlcanon import canonical_url

HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCK_TAGS = frozenset(
    {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr",
     "td", "th", "caption", "blockquote", "pre", "section", "article", "main", "figure",
     "figcaption", "address", "hr", "br", "details", "summary", *HEADING_TAGS}
)  # fmt: skip
#: Capitalised box headings of procedures manuals, recognised even without bold.
BOX_TITLES = frozenset(
    {"SCOPE OF THIS CHAPTER", "RELATED CHAPTERS", "RELATED GUIDANCE", "AMENDMENT",
     "AMENDMENTS", "RELEVANT GUIDANCE", "RELATED CHAPTERS AND GUIDANCE", "CONTENTS",
     "FURTHER INFORMATION", "RELEVANT CHAPTERS"}
)  # fmt: skip
_NUMBERED = re.compile(
    r"^(?:Section\s+)?(\d{1,3}(?:\.\d{1,3})*)(?:\.(?!\d))?(?:\s*[:.\-–—)]\s*|\s+|$)(.*)$", re.S
)
_APPENDIX = re.compile(r"^(Appendix\s+(?:\d{1,3}|[A-Z]))\b\s*[:.\-–—]?\s*(.*)$", re.S | re.I)
_SEPARATOR_BEFORE_PUNCT = re.compile(r"\x00+(?=[.,;:!?)\]’”])")
_LETTERED = re.compile(r"^([A-Z]|[IVXL]{1,6})[.)]\s+([A-Z0-9\"“‘'(].*)$", re.S)
_PARA_NUMBER = re.compile(r"^(\d{1,3}(?:\.\d{1,3})+)\.?\s+(\S.*)$", re.S)


@dataclass(frozen=True)
class Block:
    """One paragraph-like piece of the body, in document order."""

    text: str
    heading_level: int = 0  # 0 for text; 1-6 for headings (bold paragraphs count as 2)
    links: tuple[Link, ...] = ()


def tags_in(root: Tag, names: Collection[str] | None = None) -> list[Tag]:
    """``root.find_all(names)`` (``find_all(True)`` when None): the elements below ``root``
    named so, in document order. The same list without BeautifulSoup's filter machinery,
    several times faster over a whole page."""
    return [
        node
        for node in root.descendants
        if isinstance(node, Tag) and (names is None or node.name in names)
    ]


def strings_in(root: Tag) -> list[NavigableString]:
    """``root.find_all(string=True)``: every string below ``root`` (comments included)."""
    return [node for node in root.descendants if isinstance(node, NavigableString)]


def gone(tag: Tag) -> bool:
    """``tag.decomposed`` without its cost: when ``_decomposed`` was never set, bs4's
    attribute fallback searches the whole subtree for a <_decomposed> tag (quadratic on a
    deeply nested page)."""
    return bool(vars(tag).get("_decomposed", False))


SMALL_BLOCK_ELEMENTS = 200  # a short block (furniture, a stamp) has no more elements than this


def bounded_text(tag: Tag, limit: int, max_elements: int = SMALL_BLOCK_ELEMENTS) -> str | None:
    """``tag``'s text on one line when it holds at most ``limit`` characters (besides
    spaces) in at most ``max_elements`` elements, else None, having read no more than that:
    on a deeply nested page, reading every element's whole text (or walking every element
    below it: bs4's ``strings`` first looks for the subtree's last descendant) would be
    quadratic."""
    parts: list[str] = []
    size = 0
    elements = 0
    wanted = tag.interesting_string_types or (NavigableString, CData)  # as ``tag.strings``
    types = (wanted,) if isinstance(wanted, type) else tuple(wanted)
    stack: list[Iterator[PageElement]] = [iter(tag.contents)]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
        elif isinstance(node, Tag):
            elements += 1
            if elements > max_elements:
                return None
            stack.append(iter(node.contents))
        elif isinstance(node, NavigableString) and type(node) in types:
            size += len(node.strip())
            if size > limit:
                return None
            parts.append(node)
    return normalise_line(" ".join(parts))


def parse_heading(text: str) -> tuple[str | None, str]:
    """ "8. Pre-birth Conferences" -> ("8", "Pre-birth Conferences"); "Appendix 1: X" ->
    ("Appendix 1", "X"); "RELATED GUIDANCE" -> (None, "Related Guidance")."""
    text = text.strip()
    match = _APPENDIX.match(text)
    if match:
        number = " ".join(match.group(1).split())
        return number[:1].upper() + number[1:], title_case(match.group(2).strip())
    match = _NUMBERED.match(text)
    if match and (match.group(2) or text[:1].isdigit()):
        return match.group(1), title_case(match.group(2).strip())
    match = _LETTERED.match(text)
    if match:  # "P. Changes to our Policy", "IV. Remedies": lettered and roman sections
        return match.group(1), title_case(match.group(2).strip())
    return None, title_case(text)


def inline_text(tag: Tag) -> str:
    """Text of a heading or link on one line; separate elements are joined by a space
    (none is added before punctuation)."""
    joined = _SEPARATOR_BEFORE_PUNCT.sub("", tag.get_text("\x00"))
    return normalise_line(joined.replace("\x00", " "))


def _link_of(tag: Tag, base_url: str) -> Link | None:
    href = tag.get("href")
    if not isinstance(href, str):
        return None
    href = href.strip()
    if not href or href.startswith("#") or href.lower().startswith("javascript:"):
        return None
    try:
        url = urljoin(base_url, href)
    except ValueError:  # e.g. "https://[broken/": keep the link as written, it is content too
        url = href
    return Link(inline_text(tag), _without_decoration(url))


def _without_decoration(url: str) -> str:
    """The link without tracking, session, share or per-render token parameters (its
    fragment kept): a share link whose token changes on every render is the same link."""
    if "?" not in url:
        return url
    base, hash_mark, fragment = url.partition("#")
    try:
        return canonical_url(base) + hash_mark + fragment
    except ValueError:
        return url


def _links_in(tag: Tag, base_url: str) -> tuple[Link, ...]:
    found = [_link_of(a, base_url) for a in tag.find_all("a")]
    return tuple(link for link in found if link is not None)


MAX_LEAD_IN_CHARS = 100  # a bold line longer than this is emphasis, not a heading
MAX_LEAD_IN_WORDS = 12
_ENUMERATED = re.compile(r"^(?:\(?[A-Za-z]\)|[A-Za-z][.)]|\(?[ivxlc]{1,5}[.)])\s+\S", re.I)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def looks_like_heading(text: str) -> bool:
    """A bold line that reads as a heading: short, not a sentence, and numbered ("3.2 Visits",
    "Appendix 1", "(a) Scope") or in title case ("Who Can Attend", "SCOPE OF THIS CHAPTER")."""
    if not 0 < len(text) <= MAX_LEAD_IN_CHARS or len(text.split()) > MAX_LEAD_IN_WORDS:
        return False
    if text.endswith((".", ":", ";", ",")):
        return False
    number, _ = parse_heading(text)
    if number is not None or _ENUMERATED.match(text):
        return True
    return is_title_case(text)


def is_title_case(text: str) -> bool:
    """The first word and every word but the small ones ("of", "and", "the") capitalised."""
    words = _WORD.findall(text)
    if not words or not words[0][:1].isupper():
        return False
    significant = [w for w in words[1:] if w.lower() not in SMALL_WORDS]
    return all(w[:1].isupper() for w in significant)


def is_bold_heading(tag: Tag) -> bool:
    """A paragraph whose only content is one <strong>/<b> that looks like a heading
    (``looks_like_heading``): a bold lead-in of a sentence case paragraph stays text."""
    children = [c for c in tag.children if not (isinstance(c, NavigableString) and not c.strip())]
    if len(children) != 1 or not isinstance(children[0], Tag):
        return False
    if children[0].name not in ("strong", "b"):
        return False
    return looks_like_heading(inline_text(tag))


def bold_lead_in(tag: Tag) -> tuple[Tag, list[PageElement]] | None:
    """A paragraph opening with a bold line that looks like a heading, then a line break and
    text ("<p><b>Children and Minors</b><br>We remove ...</p>"): (the bold, what follows the
    break). The same heading written in a paragraph of its own is a heading too, so the
    section does not come and go with the publisher's line breaks."""
    children = [c for c in tag.children if not (isinstance(c, NavigableString) and not c.strip())]
    if len(children) < 3 or not isinstance(children[0], Tag) or not isinstance(children[1], Tag):
        return None
    bold, brk = children[0], children[1]
    if bold.name not in ("strong", "b") or brk.name != "br":
        return None
    text = inline_text(bold)  # one word before a break is a label ("Note"), not a heading
    if len(text.split()) < 2 or not looks_like_heading(text):
        return None
    return bold, list(brk.next_siblings)


_END = object()  # on the walk's stack: the end of a block element


class _Collector:
    """Accumulates inline text into blocks while walking the tree (iteratively: a page nested
    100,000 deep costs no recursion, and at most ``MAX_ELEMENTS`` elements are visited)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.links: list[Link] = []
        self.elements = 0

    def flush(self) -> None:
        if not self.parts and not self.links:
            return  # nothing gathered since the last block (most flushes)
        text = normalise_line("".join(self.parts))
        if text:
            self.blocks.append(Block(text, 0, tuple(self.links)))
        self.parts, self.links = [], []

    def heading(self, tag: Tag, level: int) -> None:
        self.flush()
        text = strip_anchor_marks(inline_text(tag))
        if text:
            self.blocks.append(Block(text, level, _links_in(tag, self.base_url)))

    def walk(self, root: PageElement) -> None:
        stack: list[object] = [root]
        while stack:
            node = stack.pop()
            if node is _END:
                self.flush()
            elif isinstance(node, NavigableString):
                if not isinstance(node, Comment):
                    self.parts.append(str(node))
            elif isinstance(node, Tag):
                stack.extend(reversed(self.visit(node)))

    def visit(self, node: Tag) -> list[object]:
        """Take in ``node`` itself; what remains to walk of it, in order."""
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise ExtractError(f"the page has more than {MAX_ELEMENTS:,} elements")
        if node.name in HEADING_TAGS:
            self.heading(node, int(node.name[1]))
            return []
        if node.name == "p" and is_bold_heading(node):
            self.heading(node, 2)
            return []
        if node.name == "p" and (lead := bold_lead_in(node)) is not None:
            bold, rest = lead
            self.heading(bold, 2)
            return [*rest, _END]
        if node.name == "a":
            link = _link_of(node, self.base_url)
            if link is not None:
                self.links.append(link)
        if node.name not in _BLOCK_TAGS:
            return list(node.children)
        self.flush()
        return [*node.children, _END]


def body_blocks(root: Tag, base_url: str) -> tuple[Block, ...]:
    """The body as paragraph and heading blocks, in document order."""
    collector = _Collector(base_url)
    for child in root.children:
        collector.walk(child)
    collector.flush()
    return tuple(_promote_box_titles(collector.blocks))


def _promote_box_titles(blocks: list[Block]) -> list[Block]:
    return [
        Block(b.text, 2, b.links) if b.heading_level == 0 and b.text in BOX_TITLES else b
        for b in blocks
    ]


@dataclass(frozen=True)
class _Draft:
    number: str | None
    title: str
    level: int
    lines: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()


def _level_of(number: str | None, heading_level: int) -> int:
    if number and number[0].isdigit():
        return number.count(".") + 1
    if number:  # Appendix
        return 1
    return max(1, heading_level - 1)


def _paragraph_section(block: Block, current: _Draft | None) -> _Draft | None:
    """A paragraph "7.4.1 The chair ..." inside section 7.4 becomes section 7.4.1."""
    match = _PARA_NUMBER.match(block.text)
    if not match or current is None or not current.number:
        return None
    number = match.group(1)
    if not number.startswith(current.number + ".") and not (
        current.number[0].isdigit()
        and number.rsplit(".", 1)[0] == current.number.rsplit(".", 1)[0]
        and "." in current.number
    ):
        return None
    return _Draft(number, "", number.count(".") + 1, (match.group(2),), block.links)


def _drafts(blocks: tuple[Block, ...]) -> list[_Draft]:
    drafts: list[_Draft] = []
    current: _Draft | None = None
    for block in blocks:
        if block.heading_level:
            number, title = parse_heading(block.text)
            current = _Draft(number, title, _level_of(number, block.heading_level))
            current = _Draft(current.number, current.title, current.level, (), block.links)
            drafts.append(current)
            continue
        promoted = _paragraph_section(block, current)
        if promoted is not None:
            current = promoted
            drafts.append(current)
            continue
        if current is None:
            current = _Draft(None, "Introduction", 1)
            drafts.append(current)
        current = _Draft(
            current.number,
            current.title,
            current.level,
            (*current.lines, block.text),
            (*current.links, *block.links),
        )
        drafts[-1] = current
    return drafts


def _with_paths(drafts: list[_Draft]) -> tuple[Section, ...]:
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    for draft in drafts:
        key = draft.number or draft.title
        while stack and stack[-1][0] >= draft.level:
            stack.pop()
        path = (*(k for _, k in stack), key)
        stack.append((draft.level, key))
        sections.append(
            Section(
                number=draft.number,
                title=draft.title,
                level=draft.level,
                path=path,
                text="\n".join(draft.lines),
                links=draft.links,
            )
        )
    return tuple(sections)


def split_sections(root: Tag, base_url: str) -> tuple[Section, ...]:
    """Split ``root`` (furniture and chapter title already removed) into sections."""
    return _with_paths(_drafts(body_blocks(root, base_url)))
