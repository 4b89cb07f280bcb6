"""The demo site's pages as HTML: the chapters a contents fragment lists, and a content
fragment wrapped in ``template.html`` with its furniture (breadcrumbs, a contents list of
anchors, related chapters, tokens and a timestamp). Used by :mod:`amendwatch.demo.server`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from string import Template

_CONTENTS_ITEM = re.compile(
    r'<h2[^>]*>\s*(?P<part>\d+\.\s.*?)</h2>|<a href="/chapters/(?P<slug>[a-z0-9-]+)\.html">'
    r"\s*(?P<number>[\d.]+)\s+(?P<title>.*?)</a>",
    re.S,
)
_HEADING = re.compile(r"<(h[1-4])>(.*?)</\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class ContentsEntry:
    """A chapter as the contents page lists it."""

    slug: str
    number: str
    title: str
    part: str


@dataclass(frozen=True)
class Furniture:
    """The per-request parts of the page furniture (empty when ``dynamic=False``)."""

    updated: str
    token: str
    css_version: str


def parse_contents_entries(fragment: str) -> tuple[ContentsEntry, ...]:
    """The chapters listed on the contents fragment, with the part each belongs to."""
    entries: list[ContentsEntry] = []
    part = ""
    for match in _CONTENTS_ITEM.finditer(fragment):
        if match.group("part"):
            part = _plain(match.group("part"))
        else:
            slug, number, title = match.group("slug", "number", "title")
            entries.append(ContentsEntry(slug, number, _plain(title), part))
    return tuple(entries)


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def _anchor(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    anchor, suffix = base, 2
    while anchor in used:
        anchor, suffix = f"{base}-{suffix}", suffix + 1
    used.add(anchor)
    return anchor


def add_heading_ids(fragment: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Give every heading an id; return the fragment and the (anchor, text) list of its h2s."""
    used: set[str] = set()
    toc: list[tuple[str, str]] = []

    def give_id(match: re.Match[str]) -> str:
        tag, inner = match.group(1), match.group(2)
        text = _plain(inner)
        anchor = _anchor(text, used)
        if tag == "h2":
            toc.append((anchor, text))
        return f'<{tag} id="{anchor}">{inner}</{tag}>'

    return _HEADING.sub(give_id, fragment), tuple(toc)


def page_title(fragment: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", fragment, re.S)
    return _plain(match.group(1)) if match else "Northmoor Safeguarding Children Partnership"


def _link_list(heading: str, items: list[tuple[str, str]], css_class: str) -> str:
    if not items:
        return ""
    lines = "".join(f'<li><a href="{href}">{html.escape(text)}</a></li>' for href, text in items)
    return f'<nav class="{css_class}"><h2>{heading}</h2><ul>{lines}</ul></nav>'


def _crumbs_and_related(
    kind: str, slug: str, contents: tuple[ContentsEntry, ...]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Breadcrumbs (Home > part) and the other chapters of the same part."""
    crumbs = [("/", "Home")]
    if kind == "page":
        crumbs.append(("/contents.html", "Contents"))
    here = next((e for e in contents if e.slug == slug), None) if kind == "chapter" else None
    if here is None:
        return crumbs, []
    crumbs.append((f"/contents.html#{_anchor(here.part, set())}", here.part))
    related = [
        (f"/chapters/{e.slug}.html", e.title)
        for e in contents
        if e.part == here.part and e.slug != here.slug
    ]
    return crumbs, related


def render_page(
    template: str,
    kind: str,
    rel: str,
    fragment: str,
    contents: tuple[ContentsEntry, ...],
    furniture: Furniture,
) -> str:
    """Wrap a content fragment in the site template with its furniture."""
    title = page_title(fragment)
    content, headings = add_heading_ids(fragment)
    slug = rel.removeprefix("chapters/").removesuffix(".html")
    crumbs, related = _crumbs_and_related(kind, slug, contents)
    crumb_html = "".join(f'<li><a href="{h}">{html.escape(t)}</a></li>' for h, t in crumbs)
    crumb_html += f'<li aria-current="page">{html.escape(title)}</li>'
    toc = _link_list("Contents", [(f"#{a}", t) for a, t in headings], "page-contents")
    return Template(template).substitute(
        title=html.escape(title),
        title_query=html.escape(title.replace(" ", "%20")),
        body_class=f"page-{kind}",
        css_version=furniture.css_version,
        search_token=furniture.token,
        breadcrumbs=crumb_html,
        toc=toc,
        related=_link_list("Related Chapters", related, "related-chapters"),
        content=content,
        updated=furniture.updated,
    )
