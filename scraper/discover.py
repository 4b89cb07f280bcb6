"""Read a manual's contents page into its ordered list of chapters."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag

from scraper.models import ChapterRef, Contents
from scraper.sections import inline_text
from scraper.text import normalise_line

_NUMBER_PREFIX = re.compile(r"^(\d{1,3}(?:\.\d{1,3})+|\d{1,3})\.?\s+(?=\S)")
_NUMBER_TAIL = re.compile(r"(\d{1,3}(?:\.\d{1,3})+)\.?\s*$")
_MARKER_TAIL = re.compile(r"\s*[-–(\[]*\s*\b(updated|new|amended|revised)\b\s*[)\]]*\s*$", re.I)
_PART_TEXT = re.compile(r"^(\d{1,2}|Part\s+\w+)[.:)]?\s+\S")
_FURNITURE_TITLES = frozenset(
    {"home", "contact", "contact us", "contacts", "amendments", "amendment", "search",
     "login", "log in", "sign in", "logout", "log out", "cookies", "cookie policy",
     "cookie settings", "accessibility", "accessibility statement", "privacy",
     "privacy notice", "privacy policy", "terms", "sitemap", "site map", "help", "print",
     "back to top", "top", "contents", "register", "disclaimer", "what's new", "whats new"}
)  # fmt: skip
_FURNITURE_SLUGS = re.compile(
    r"(^|/)(index|home|contact(-?us)?|amendments?|search|log-?in|sign-?in|log-?out|cookies?"
    r"|cookie-?policy|accessibility|privacy|sitemap|disclaimer)(\.\w+)?/?$",
    re.I,
)
_CHROME = ("script", "style", "noscript", "nav", "header", "footer", "form", "aside")


def _strip_markers(title: str) -> str:
    previous = None
    while previous != title:
        previous = title
        title = _MARKER_TAIL.sub("", title).strip(" -–\u00a0")
    return title


def split_number(text: str) -> tuple[str | None, str]:
    """ "3.4 Initial Child Protection Conferences Updated" -> ("3.4", "Initial ... Conferences")."""
    text = normalise_line(text)
    number = None
    match = _NUMBER_PREFIX.match(text)
    if match:
        number, text = match.group(1), text[match.end() :]
    return number, _strip_markers(text)


def _preceding_number(anchor: Tag) -> str | None:
    """A number written just before the link, in the same block: "3.4 <a>Initial ...</a>"."""
    texts: list[str] = []
    for sibling in anchor.previous_siblings:
        if isinstance(sibling, Tag) and sibling.name in ("br", "a", "p", "li", "div"):
            break
        texts.append(sibling.get_text(" ") if isinstance(sibling, Tag) else str(sibling))
    match = _NUMBER_TAIL.search(normalise_line(" ".join(reversed(texts))))
    return match.group(1) if match else None


def _is_furniture(title: str, url: str) -> bool:
    if title.lower().strip(" .:") in _FURNITURE_TITLES:
        return True
    return bool(_FURNITURE_SLUGS.search(urlsplit(url).path))


def _part_of(tag: Tag) -> str | None:
    """A part heading: h2-h5, or a paragraph that is only bold text like "3. Managing ..."."""
    if tag.name in ("h2", "h3", "h4", "h5"):
        text = inline_text(tag)
        return text or None
    if tag.name in ("p", "div", "dt") and tag.find("a", href=True) is None:
        children = [
            c for c in tag.children if not (isinstance(c, NavigableString) and not c.strip())
        ]
        text = inline_text(tag)
        bold = (
            len(children) == 1
            and isinstance(children[0], Tag)
            and children[0].name in ("strong", "b")
        )
        if text and (bold or (_PART_TEXT.match(text) and len(text) <= 160 and tag.name != "div")):
            return text
    return None


def chapter_url(href: str, base_url: str) -> str | None:
    """The absolute URL a link ``href`` on the contents page ``base_url`` names, when it may
    be a chapter: http(s), the contents page's own host, not the contents page itself and
    not site furniture by its path (home, search, cookies ...); else None."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    url = urljoin(base_url, href).split("#", 1)[0]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != urlsplit(base_url).netloc:
        return None
    if url == base_url.split("#", 1)[0] or _FURNITURE_SLUGS.search(parts.path):
        return None
    return url


def _chapter_of(anchor: Tag, base_url: str, part: str | None) -> ChapterRef | None:
    href = anchor.get("href")
    url = chapter_url(href, base_url) if isinstance(href, str) else None
    if url is None:
        return None
    number, title = split_number(inline_text(anchor))
    if number is None:
        number = _preceding_number(anchor)
    if not title or _is_furniture(title, url):
        return None
    return ChapterRef(url=url, title=title, number=number, part=part)


def parse_contents(html: bytes | str, base_url: str) -> Contents:
    """The ordered chapters listed on a contents page (own host only, no furniture)."""
    soup = BeautifulSoup(html, "lxml")
    for tag in soup.find_all(_CHROME):
        tag.decompose()
    heading = soup.find("h1")
    if isinstance(heading, Tag):
        title = inline_text(heading)
    else:
        title = normalise_line(soup.title.get_text()) if soup.title else ""
    chapters: list[ChapterRef] = []
    seen: set[str] = set()
    part: str | None = None
    for tag in soup.find_all(True):
        if tag.name == "a":
            ref = _chapter_of(tag, base_url, part)
            if ref is not None and ref.url not in seen:
                seen.add(ref.url)
                chapters.append(ref)
            continue
        found = _part_of(tag)
        if found is not None:
            part = found
    return Contents(url=base_url, title=title, chapters=tuple(chapters))
