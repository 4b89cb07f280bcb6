"""A minimal chapter parser for the differ's golden cases (stand-in for scraper.extract).

h1 = chapter title; h2/h3/h4 = sections ("3.1 Title" or "3. Title" numbered, else unnumbered);
p/li = text (one line each); a = links (absolute URLs); a paragraph that is only a date
stamp ("This chapter was last reviewed in March 2022.") is the chapter's stamp, not text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from scraper.models import Chapter, Link, Section
from scraper.stamps import is_stamp

HEADING_RE = re.compile(r"^(?P<number>\d+(?:\.\d+)*)\.?\s+(?P<title>.*)$")
LEVELS = {"h2": 1, "h3": 2, "h4": 3}


def _clean(text: str) -> str:
    return " ".join(text.split())


def _heading(tag: Tag) -> tuple[str | None, str]:
    text = _clean(tag.get_text(" "))
    match = HEADING_RE.match(text)
    if match:
        return match.group("number"), match.group("title")
    return None, text


@dataclass
class _Block:
    """A section while its lines and links are collected."""

    number: str | None
    title: str
    level: int
    path: tuple[str, ...]
    lines: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def section(self) -> Section:
        text = "\n".join(self.lines)
        return Section(self.number, self.title, self.level, self.path, text, tuple(self.links))


def parse_chapter(html: str, url: str) -> Chapter:
    soup = BeautifulSoup(html, "lxml")
    h1 = soup.find("h1")
    title = _clean(h1.get_text(" ")) if isinstance(h1, Tag) else ""
    stack: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    stamps: list[str] = []
    for tag in soup.find_all(["h2", "h3", "h4", "p", "li"]):
        if tag.name in LEVELS:
            number, heading = _heading(tag)
            level = LEVELS[tag.name]
            stack = [(lvl, key) for lvl, key in stack if lvl < level]
            stack.append((level, number or heading))
            blocks.append(_Block(number, heading, level, tuple(key for _, key in stack)))
            continue
        if not blocks:
            continue
        line = _clean(tag.get_text())
        if is_stamp(line):
            stamps.append(line)
            continue
        if line:
            blocks[-1].lines.append(line)
        for anchor in tag.find_all("a"):
            href = anchor.get("href")
            if isinstance(href, str):
                blocks[-1].links.append(Link(_clean(anchor.get_text(" ")), urljoin(url, href)))
    sections = tuple(b.section() for b in blocks)
    return Chapter(url=url, title=title, sections=sections, stamp=" | ".join(stamps) or None)
