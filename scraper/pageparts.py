"""Names of page parts that the extraction, the fingerprint and the quick check agree on,
kept apart from scraper/extract.py so that the two lxml stages need not import BeautifulSoup
(about 60 ms) to know them, and from scraper/fingerprint.py so that the quick check on an
unchanged page (``scraper.quickcheck.same_content``) needs no lxml (about 8 ms) either."""

from __future__ import annotations

import re

from scraper import source_digest

__all__ = [
    "BODY_CANDIDATES",
    "CANDIDATE_XPATH",
    "MAX_ELEMENTS",
    "NEVER_CONTENT",
    "RULES",
    "SELECTING_ATTRIBUTES",
]

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
# how the fingerprint finds each of them (``find_body``'s CSS, as lxml XPath)
CANDIDATE_XPATH = {
    "main": "//main",
    "[role=main]": "//*[@role='main']",
    "article": "//article",
    "#content": "//*[@id='content']",
    "#main-content": "//*[@id='main-content']",
    "#maincontent": "//*[@id='maincontent']",
    ".main-content": "//*[contains(concat(' ', normalize-space(@class), ' '), ' main-content ')]",
    ".content": "//*[contains(concat(' ', normalize-space(@class), ' '), ' content ')]",
    "#main": "//*[@id='main']",
    ".page-content": "//*[contains(concat(' ', normalize-space(@class), ' '), ' page-content ')]",
    ".entry-content": "//*[contains(concat(' ', normalize-space(@class), ' '), ' entry-content ')]",
}
# the attributes the XPaths above look at (derived, so a new candidate cannot be forgotten)
SELECTING_ATTRIBUTES = frozenset(re.findall(r"@([\w-]+)", " ".join(CANDIDATE_XPATH.values())))
_RULE_FILES = (
    "extract.py", "sections.py", "text.py", "fingerprint.py", "contentroot.py", "stamps.py",
    "urlcanon.py", "pageparts.py",
)  # fmt: skip
# the extraction rules a fingerprint (and a quick-check guard) was computed under
RULES = source_digest(_RULE_FILES)
