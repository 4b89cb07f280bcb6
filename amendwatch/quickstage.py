"""The quick path of a snapshot: pages that differ from a known capture only outside the
chapter (a footer with the time and a token) are judged without parsing them.

``quick_analysis`` looks up a stored capture with the latest version's fingerprint and its
guard (``store.guards``) and compares the new page with it (``scraper.quickcheck``): a match
is the analysis "same content", as if the page had been fingerprinted. ``remember_guard``
keeps the guard the analyser computed for a page whose capture is now stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from scraper.analysis import Analysis
from scraper.fetch import decode_body
from scraper.models import Page
from scraper.quickcheck import Guard, same_content
from store import guards, observations
from store.models import Manual

__all__ = ["Quick", "quick_analysis", "remember_guard"]

_GUARDED_OUTCOMES = frozenset({"unchanged", "new-version"})


@dataclass(frozen=True)
class Quick:
    """``analysis``: the page needs no parse (same content); ``want_guard``: no capture with
    this fingerprint has a guard yet, so the analyser should compute the page's."""

    analysis: Analysis | None
    want_guard: bool


def quick_analysis(db: Database, manual: Manual, page: Page, fingerprint: str | None) -> Quick:
    """``fingerprint``: the latest version's (None: there is no version)."""
    if not page.ok or fingerprint is None or manual.content_selector is not None:
        return Quick(None, False)
    reference = guards.reference_for(db, fingerprint)
    if reference is None:
        return Quick(None, True)
    if reference.url != (page.final_url or page.url):
        return Quick(None, False)
    headers = (("Content-Type", reference.content_type),) if reference.content_type else ()
    body = observations.get_body(db, reference.body_sha256, cached=True)
    old = decode_body(Page(reference.url, reference.url, 200, headers, body, page.fetched_at))
    if not same_content(old, decode_body(page), Guard.from_json(reference.guard)):
        return Quick(None, False)
    return Quick(Analysis(fingerprint, fingerprint, same=True), False)


def remember_guard(db: Database, page: Page, analysis: Analysis | None, outcome: str) -> None:
    """Keep the guard of a page stored as a capture of known content."""
    if analysis is None or analysis.guard is None or analysis.fingerprint is None:
        return
    if outcome not in _GUARDED_OUTCOMES or not page.body:
        return
    reference = guards.Reference(
        page.body_hash, page.final_url or page.url, page.header("Content-Type"), analysis.guard
    )
    guards.remember(db, reference, analysis.fingerprint)
