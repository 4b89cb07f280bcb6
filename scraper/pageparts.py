"""Names of page parts that the extraction, the fingerprint and the quick check agree on,
kept apart from scraper/extract.py so that the two lxml stages need not import BeautifulSoup
(about 60 ms) to know them."""

from __future__ import annotations

__all__ = ["BODY_CANDIDATES", "MAX_ELEMENTS", "NEVER_CONTENT"]

MAX_ELEMENTS = 200_000  # a chapter page with more elements than this is refused, not parsed

# elements that are never content (their text is not the chapter's)
NEVER_CONTENT = ("script", "style", "noscript", "template", "link", "meta", "svg", "iframe")
# where a chapter's body is looked for, in this order, before the densest element
BODY_CANDIDATES = (
    "main",
    "[role=main]",
    "article",
    "#content",
    "#main-content",
    "#maincontent",
    ".main-content",
    ".content",
    "#main",
    ".page-content",
    ".entry-content",
)
