"""Any HTML page as a sequence of :class:`Line` in document order, whatever its tags.

A block is the text between block boundaries (paragraphs, items, cells, headings, ``br`` ...).
A block is *marked* as a title when its tag says so (a heading, ``summary``, ``dt``,
``caption``, ``th``, ``button``, ``legend``, a class naming a title or header) or when all its
text is bold or one link. A block opening with a bold or linked title followed by more text is
split into that title and its details. Table rows are read by their header when it names
the columns (Chapter, Details, Date, Category), else as title cell + details cells.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, PageElement

from scraper.amendments_text import Line, is_furniture, plausible_title
from scraper.text import normalise_line

_BLOCK = frozenset(
    {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr",
     "td", "th", "caption", "blockquote", "pre", "section", "article", "main", "figure",
     "figcaption", "address", "hr", "details", "summary", "header", "aside", "button",
     "legend", "fieldset", "form", "center", "h1", "h2", "h3", "h4", "h5", "h6", "body",
     "html", "nav", "footer", "label"}
)  # fmt: skip
_SKIP = frozenset({"script", "style", "nav", "footer", "noscript", "template", "head", "svg"})
_MARKED_TAGS = frozenset(
    {"h1", "h2", "h3", "h4", "h5", "h6", "summary", "dt", "caption", "th", "button", "legend"}
)
_MARKED_CLASS = re.compile(
    r"(^|[-_\s])(title|heading|header|head|toggle|trigger|summary|accordion-button)([-_\s]|$)",
    re.I,
)
_EMPHASIS = frozenset({"strong", "b", "a"})
_NOT_TITLES = re.compile(r"^(note|nb|n\.b|please note|important|update[ds]?|see also)$", re.I)
_DASH = re.compile(r"^[\s:–—\-|]+")
_ROLES = (
    ("title", re.compile(r"^(chapter|title|name|procedure|document|page)", re.I)),
    ("details", re.compile(r"^(details|summary|description|changes?|amendments?|what)", re.I)),
    ("month", re.compile(r"^(date|month|when|updated|published|amended)", re.I)),
    ("label", re.compile(r"^(category|type|kind|status|change type|action)", re.I)),
)


def _text(nodes: Sequence[PageElement]) -> str:
    parts = [str(n) if isinstance(n, NavigableString) else n.get_text(" ") for n in nodes]
    return normalise_line(re.sub(r"\s+([,.;:)])", r"\1", " ".join(parts)))


def _links(nodes: Sequence[PageElement]) -> tuple[str, ...]:
    found: list[str] = []
    for node in nodes:
        if not isinstance(node, Tag):
            continue
        anchors = [node] if node.name == "a" else node.find_all("a")
        for a in anchors:
            href = str(a.get("href") or "")
            if href and not href.startswith(("#", "javascript:")) and (name := _text([a])):
                found.append(name)
    return tuple(found)


def _is_marked(tag: Tag) -> bool:
    classes = " ".join(tag.get("class") or []) + " " + str(tag.get("role") or "")
    return tag.name in _MARKED_TAGS or bool(_MARKED_CLASS.search(classes))


def _emphasised(node: PageElement) -> bool:
    if isinstance(node, NavigableString):
        return not node.strip()
    if not isinstance(node, Tag):
        return True
    if node.name in _EMPHASIS or _is_marked(node):
        return True
    return all(_emphasised(child) for child in node.children) and bool(node.get_text().strip())


def _run_line(nodes: Sequence[PageElement], container: Tag) -> Line | None:
    text = _text(nodes)
    if not text:
        return None
    solid = [n for n in nodes if not (isinstance(n, NavigableString) and not n.strip())]
    if _is_marked(container) or all(_emphasised(n) for n in solid):
        return Line(text, heading=True, links=_links(nodes))
    lead = solid[0]
    if isinstance(lead, Tag) and _emphasised(lead) and len(solid) > 1:
        title, rest = _text([lead]).rstrip(":–—- "), solid[1:]
        details = _DASH.sub("", _text(rest))
        if plausible_title(title) and _lead_ok(title) and re.search(r"[^\W\d_]{2}", details):
            return Line(title, links=_links(rest), details=(details,))
    return Line(text, links=_links(nodes))


def _lead_ok(title: str) -> bool:
    return not _NOT_TITLES.match(title)


def _is_block(node: Tag) -> bool:
    return node.name in _BLOCK or node.find(_BLOCK) is not None


def lines_of(node: Tag) -> Iterator[Line]:
    """The blocks under ``node`` in document order."""
    run: list[PageElement] = []
    for child in node.children:
        if isinstance(child, Comment) or (isinstance(child, Tag) and child.name in _SKIP):
            continue
        if isinstance(child, Tag) and (child.name == "br" or _is_block(child)):
            if (line := _run_line(run, node)) is not None:
                yield line
            run = []
            if child.name == "table":
                yield from _table_lines(child)
            elif child.name != "br":
                yield from lines_of(child)
        elif isinstance(child, (NavigableString, Tag)):
            run.append(child)
    if (line := _run_line(run, node)) is not None:
        yield line


def _cells(row: Tag) -> list[Tag]:
    return [c for c in row.find_all(["td", "th"], recursive=False)]


def _header_roles(cells: Sequence[Tag]) -> dict[str, int] | None:
    roles: dict[str, int] = {}
    for index, cell in enumerate(cells):
        text = _text([cell])
        role = next((name for name, pattern in _ROLES if pattern.match(text)), None)
        if role and role not in roles:
            roles[role] = index
    return roles if "title" in roles and len(cells) >= 2 else None


def _table_lines(table: Tag) -> Iterator[Line]:
    if table.caption is not None and (caption := _text([table.caption])):
        yield Line(caption, heading=True)
    roles: dict[str, int] | None = None
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue
        cells = _cells(row)
        if not cells:
            continue
        if (found := _header_roles(cells)) is not None and (
            all(c.name == "th" for c in cells) or is_furniture(_text(cells))
        ):
            roles = found
            continue
        yield from _row_lines(cells, roles)


def _row_lines(cells: Sequence[Tag], roles: dict[str, int] | None) -> Iterator[Line]:
    if len(cells) == 1 or all(c.name == "th" for c in cells):
        yield from (Line(t, heading=True) for c in cells if (t := _text([c])))
        return
    roles = roles or {"title": 0}
    for role in ("month", "label"):
        if role in roles and roles[role] < len(cells) and (t := _text([cells[roles[role]]])):
            yield Line(t, heading=True)
    title_cell = cells[min(roles["title"], len(cells) - 1)]
    detail_cells = [c for i, c in enumerate(cells) if c is not title_cell and i not in
                    (roles.get("month"), roles.get("label"))]  # fmt: skip
    blocks = [line for cell in detail_cells for line in lines_of(cell)]
    title = _text([title_cell])
    if title:
        details = tuple(b.text if b.details is None else f"{b.text} {b.details[0]}"
                        for b in blocks)  # fmt: skip
        links = _links(detail_cells)
        yield Line(title, links=links, details=details)


def page_lines(html: bytes | str) -> list[Line]:
    soup = BeautifulSoup(html, "lxml")
    return list(lines_of(soup.body or soup))
