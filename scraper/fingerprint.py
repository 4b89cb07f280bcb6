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
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import cast

from lxml import etree, html

from amendwatch.errors import ExtractError
from scraper.extract import _BODY_CANDIDATES, _NEVER_CONTENT, extract_chapter
from scraper.models import Chapter
from scraper.text import normalise_line

__all__ = ["RULES", "Analyser", "Analysis", "AnalysisJob", "analyse", "fingerprint"]

_MIN_TEXT = 40  # find_body's threshold
_CANDIDATE_XPATH = {
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
_RULE_FILES = ("extract.py", "sections.py", "text.py", "fingerprint.py")
RULES = hashlib.sha256(
    b"".join((Path(__file__).parent / name).read_bytes() for name in _RULE_FILES)
).hexdigest()
_PARSER = html.HTMLParser(remove_comments=False)


def _markup(element: etree._Element) -> bytes:
    return etree.tostring(element, method="html", encoding="utf-8", with_tail=False)


def _body_parts(root: html.HtmlElement) -> list[bytes] | None:
    """Markup of the candidates up to (and including) the one ``find_body`` takes."""
    parts: list[bytes] = []
    for candidate in _BODY_CANDIDATES:
        found = cast(list[html.HtmlElement], root.xpath(_CANDIDATE_XPATH[candidate]))
        for element in found:
            parts.append(candidate.encode() + b"\x00" + _markup(element))
            if len(normalise_line(element.text_content())) >= _MIN_TEXT:
                return parts
    return None


def fingerprint(page_html: str, url: str, *, selector: str | None = None) -> str | None:
    """A SHA-256 over what the extraction of ``page_html`` depends on (see the module doc)."""
    if selector is not None or not page_html.strip():
        return None
    try:
        root = html.document_fromstring(page_html, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    dropped: list[html.HtmlElement] = list(root.iter(*_NEVER_CONTENT))
    for element in dropped:
        if element.getparent() is not None:
            element.drop_tree()
    digest = hashlib.sha256(f"{RULES}\x00{url}\x00".encode())
    parts = _body_parts(root)
    if parts is None:
        parts = [b"document\x00" + _markup(root)]
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    for element in root.iter("h1", "title"):  # every title fallback, in document order
        part = _markup(element)
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


# --- analysing a batch of fetched pages (optionally on a process pool) ------------------


@dataclass(frozen=True)
class AnalysisJob:
    """One fetched page to analyse, with the capture its latest version came from."""

    html: str
    url: str
    selector: str | None = None
    old_html: str | None = None  # the latest version's capture (None: no version yet)
    old_url: str = ""
    old_fingerprint: str | None = None  # known already (then old_html is not needed)
    old_sha256: str | None = None  # the old capture's body hash (to remember its fingerprint)
    ignore: tuple[str, ...] = ()  # the manual's ignore selectors and text patterns
    ignore_text: tuple[str, ...] = ()


@dataclass(frozen=True)
class Analysis:
    """``same``: the page extracts to the latest version's chapter (no bs4 pass was run);
    else ``chapter`` (or ``error``: the ExtractError's message) from the full extraction."""

    fingerprint: str | None
    old_fingerprint: str | None
    same: bool = False
    chapter: Chapter | None = None
    error: str | None = None


def analyse(job: AnalysisJob) -> Analysis:
    """Fingerprint the page; run ``extract_chapter`` only when it differs from the old one."""
    new = fingerprint(job.html, job.url, selector=job.selector)
    old = job.old_fingerprint
    if old is None and job.old_html is not None:
        old = fingerprint(job.old_html, job.old_url, selector=job.selector)
    if new is not None and new == old:
        return Analysis(new, old, same=True)
    try:
        chapter = extract_chapter(
            job.html, job.url, selector=job.selector, ignore=job.ignore, ignore_text=job.ignore_text
        )
    except ExtractError as exc:
        return Analysis(new, old, error=str(exc))
    return Analysis(new, old, chapter=chapter)


class Analyser:
    """Runs ``analyse`` inline, or on a pool of worker processes for large batches."""

    def __init__(self, workers: int = 0, min_batch: int = 8) -> None:
        self.workers = workers
        self.min_batch = min_batch
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, jobs: Sequence[AnalysisJob | None]) -> Callable[[], list[Analysis | None]]:
        """Start analysing ``jobs`` now (on the pool for large batches); the returned
        function waits for the analyses, in job order."""
        wanted = [job for job in jobs if job is not None]
        if self.workers < 2 or len(wanted) < self.min_batch:
            return lambda: [None if job is None else analyse(job) for job in jobs]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
        pool = self._pool
        futures = [None if job is None else pool.submit(analyse, job) for job in jobs]
        return lambda: [None if future is None else future.result() for future in futures]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
