"""Analysing a batch of fetched pages, inline or on a pool of worker processes.

Each page is fingerprinted (``scraper.fingerprint``); the full BeautifulSoup extraction runs
only when the fingerprint differs from the latest version's. A page whose job asks for it (no
capture with the latest version's fingerprint has a guard yet) also gets its
``scraper.quickcheck`` guard, so that later fetches differing from it only outside the
chapter need no parse at all. Guards are computed lazily, on the first fetch that finds a
chapter unchanged, so a changed chapter costs no second parse.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from amendwatch.errors import ExtractError
from scraper.models import Chapter
from scraper.orphans import can_fork, start_child
from scraper.pageparts import MAX_ELEMENTS
from scraper.quickcheck import guard_of, whole_guard

__all__ = ["Analyser", "Analysis", "AnalysisJob", "analyse"]


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
    want_guard: bool = False  # compute the page's guard even when it is unchanged


@dataclass(frozen=True)
class Analysis:
    """``same``: the page extracts to the latest version's chapter (no bs4 pass was run);
    else ``chapter`` (or ``error``: the ExtractError's message) from the full extraction.
    ``guard``: the page's quick-check guard as JSON (when computed and possible)."""

    fingerprint: str | None
    old_fingerprint: str | None
    same: bool = False
    chapter: Chapter | None = None
    error: str | None = None
    guard: str | None = None


MAX_PAGE_ELEMENTS = 2 * MAX_ELEMENTS  # refused before the BeautifulSoup pass is even built

# What the HTML libraries raise on input they cannot take (lxml and bs4 raise ValueError on
# some control characters and broken encodings, lookups of unknown codecs raise LookupError,
# a tree too deep for a recursive library function RecursionError; and lxml's ParserError):
# one page's failure, recorded with its reason, never the end of a run.
_PAGE_ERRORS = (ValueError, UnicodeError, RecursionError, LookupError)


def analyse(job: AnalysisJob) -> Analysis:
    """Fingerprint the page; run ``extract_chapter`` only when it differs from the old one.

    Never raises for a page: what the extraction or the HTML libraries refuse is an
    ``Analysis`` with an ``error`` (the page becomes a suspect observation with that reason).
    """
    from lxml import etree  # noqa: PLC0415 (lxml loads with the first page to parse)

    try:
        return _analyse(job)
    except ExtractError as exc:
        return Analysis(None, job.old_fingerprint, error=str(exc))
    except (*_PAGE_ERRORS, etree.ParserError) as exc:
        reason = f"the page could not be read ({type(exc).__name__}: {str(exc)[:200]})"
        return Analysis(None, job.old_fingerprint, error=str(ExtractError(reason)))


def _analyse(job: AnalysisJob) -> Analysis:
    from lxml import etree  # noqa: PLC0415

    from scraper.fingerprint import digest_of, fingerprint, parse_pruned  # noqa: PLC0415

    root = None if job.selector is not None or not job.html.strip() else parse_pruned(job.html)
    if root is not None:
        elements = sum(1 for _ in root.iter(etree.Element))
        if elements > MAX_PAGE_ELEMENTS:
            raise ExtractError(f"the page has more than {MAX_PAGE_ELEMENTS:,} elements")
    new = None if root is None else digest_of(root, job.url)
    old = job.old_fingerprint
    if old is None and job.old_html is not None:
        old = fingerprint(job.old_html, job.old_url, selector=job.selector)
    same = new is not None and new == old
    guard = None
    if root is not None and job.want_guard:
        guard = (guard_of(job.html, root) or whole_guard(job.html)).to_json()
    if same:
        return Analysis(new, old, same=True, guard=guard)
    from scraper.extract import extract_chapter  # noqa: PLC0415 (BeautifulSoup: when needed)

    try:
        chapter = extract_chapter(
            job.html, job.url, selector=job.selector, ignore=job.ignore, ignore_text=job.ignore_text
        )
    except ExtractError as exc:
        return Analysis(new, old, error=str(exc), guard=guard)
    _ = chapter.content_hash  # computed here, on a worker; it travels with the chapter
    return Analysis(new, old, chapter=chapter, guard=guard)


class Analyser:
    """Runs ``analyse`` inline, or on a pool of worker processes. ``min_batch``: the fewest
    pages worth starting the pool for; by default any page where workers are forked (they
    start in a few milliseconds, and a page parsed inline holds up the storing of every
    other: a week with a few changed chapters parsed them all in the storing process), else
    8 (a spawned worker first spends about 0.5 s importing)."""

    def __init__(self, workers: int = 0, min_batch: int | None = None) -> None:
        self.workers = workers
        self.min_batch = min_batch if min_batch is not None else (1 if can_fork() else 8)
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, jobs: Sequence[AnalysisJob | None]) -> Callable[[], list[Analysis | None]]:
        """Start analysing ``jobs`` now (on the pool for large batches); the returned
        function waits for the analyses, in job order."""
        wanted = [job for job in jobs if job is not None]
        if self.workers < 2 or len(wanted) < self.min_batch:
            return lambda: [None if job is None else analyse(job) for job in jobs]
        if self._pool is None:
            import scraper.fingerprint  # noqa: F401, PLC0415 (forked workers start with lxml)

            self._pool = ProcessPoolExecutor(
                self.workers,
                # forked when it can (scraper.orphans.can_fork): a worker then starts with
                # the parsers imported (a spawned one spends about 0.5 s importing them)
                mp_context=get_context("fork" if can_fork() else "spawn"),
                initializer=start_child,  # a worker ends when the snapshot is killed
                initargs=(os.getpid(),),
            )
        pool = self._pool
        futures = [None if job is None else pool.submit(analyse, job) for job in jobs]
        return lambda: [None if future is None else future.result() for future in futures]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
