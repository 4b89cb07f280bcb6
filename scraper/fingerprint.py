"""A fast fingerprint of what ``extract_chapter`` reads, computed with lxml alone.

Two pages with the same fingerprint extract to the same ``Chapter`` (same rules, same URL),
so the full BeautifulSoup pass is needed only when the fingerprint moved. The fingerprint
covers, after the never-content elements are dropped as ``extract_chapter`` drops them:

* the markup of every element ``find_body`` could have chosen before or at the element it
  chooses (the body candidates in order; lxml's text length never exceeds bs4's, so the
  element bs4 chooses is always among them);
* the markup of every <h1> and <title> (the title fallbacks);
* the page URL (links are resolved against it) and the source of the extraction rules.

When no candidate holds text (the heuristic fallbacks), or a content selector is set, it
covers the whole document. ``None`` means "cannot tell": run the full extraction.
"""

from __future__ import annotations

import hashlib
from typing import cast

from lxml import etree, html

from scraper.pageparts import (
    BODY_CANDIDATES,
    CANDIDATE_XPATH,
    NEVER_CONTENT,
    RULES,
    SELECTING_ATTRIBUTES,
)
from scraper.text import has_text

__all__ = [
    "RULES",
    "SELECTING_ATTRIBUTES",
    "covered_elements",
    "digest_of",
    "fingerprint",
    "parse_document",
    "parse_pruned",
    "prune",
]

_MIN_TEXT = 40  # find_body's threshold
_PARSER = html.HTMLParser(remove_comments=False)


def _markup(element: etree._Element) -> bytes:
    return etree.tostring(element, method="html", encoding="utf-8", with_tail=False)


def _candidates(root: html.HtmlElement) -> list[tuple[str, html.HtmlElement]] | None:
    """The candidates in order up to (and including) the one ``find_body`` takes."""
    found: list[tuple[str, html.HtmlElement]] = []
    for candidate in BODY_CANDIDATES:
        for element in cast(list[html.HtmlElement], root.xpath(CANDIDATE_XPATH[candidate])):
            found.append((candidate, element))
            if has_text(element.text_content(), _MIN_TEXT):
                return found
    return None


def parse_document(page_html: str) -> html.HtmlElement | None:
    """The document parsed as ``fingerprint`` parses it (None: lxml cannot)."""
    try:
        return html.document_fromstring(page_html, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None


def prune(root: html.HtmlElement) -> html.HtmlElement:
    """Drop the never-content elements, as ``extract_chapter`` does; returns ``root``."""
    dropped: list[html.HtmlElement] = list(root.iter(*NEVER_CONTENT))
    for element in dropped:
        if element.getparent() is not None:
            element.drop_tree()
    return root


def parse_pruned(page_html: str) -> html.HtmlElement | None:
    """The document parsed as ``fingerprint`` parses it, never-content elements dropped."""
    root = parse_document(page_html)
    return None if root is None else prune(root)


def covered_elements(root: html.HtmlElement) -> list[html.HtmlElement] | None:
    """The elements whose markup the fingerprint hashes (None: the whole document)."""
    found = _candidates(root)
    if found is None:
        return None
    return [element for _, element in found] + list(root.iter("h1", "title"))


def fingerprint(page_html: str, url: str, *, selector: str | None = None) -> str | None:
    """A SHA-256 over what the extraction of ``page_html`` depends on (see the module doc)."""
    if selector is not None or not page_html.strip():
        return None
    root = parse_pruned(page_html)
    return None if root is None else digest_of(root, url)


def digest_of(root: html.HtmlElement, url: str) -> str:
    digest = hashlib.sha256(f"{RULES}\x00{url}\x00".encode())
    found = _candidates(root)
    parts = (
        [b"document\x00" + _markup(root)]
        if found is None
        else [name.encode() + b"\x00" + _markup(element) for name, element in found]
    )
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    for element in root.iter("h1", "title"):  # every title fallback, in document order
        part = _markup(element)
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()
