"""What each fetched chapter page needs analysed: the latest version's head, the quick path,
and otherwise the analyser's job.

The quick path: pages that differ from a known capture only outside the chapter (a footer
with the time and a token) are judged without parsing them.

``quick_analysis`` looks up a stored capture with the latest version's fingerprint and its
guard (``store.guards``) and compares the new page with it (``scraper.quickcheck``): a match
is the analysis "same content", as if the page had been fingerprinted. ``remember_guard``
keeps the guard the analyser computed for a page whose capture is now stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial

from sqlite_utils import Database

from amendwatch.capturework import Prepared, judged_against
from amendwatch.runcontext import RunContext
from scraper.analysis import Analysis, AnalysisJob
from scraper.fetch import decode_body
from scraper.models import Page
from scraper.quickcheck import GUARD_RULES, Guard
from store import guards, observations, versions
from store.models import Manual
from store.rows import fetch_one

__all__ = [
    "Head",
    "Quick",
    "analysis_job",
    "latest_head",
    "quick_analysis",
    "remember_guard",
    "remember_old_fingerprint",
]

_GUARDED_OUTCOMES = frozenset({"unchanged", "new-version", "stamp"})


@dataclass(frozen=True)
class Quick:
    """``analysis``: the page needs no parse (same content); ``want_guard``: the page will be
    parsed, so the analyser should compute its guard in the same pass."""

    analysis: Analysis | None
    want_guard: bool


def quick_analysis(db: Database, manual: Manual, page: Page, fingerprint: str | None) -> Quick:
    """``fingerprint``: the latest version's (None: no version). The fetch process has
    usually made the comparison already (``amendwatch.capturework``); else it is made here.

    Whenever the page must be parsed (a new chapter, a changed page, no guard yet) its guard
    is wanted too, computed by the analyser in the same parse: a capture stored by the
    baseline or by a change run then serves the next run's quick check, so the first run
    after either is as fast as any later one."""
    if not page.ok or manual.content_selector is not None:
        return Quick(None, False)
    if fingerprint is None:
        return Quick(None, True)
    if isinstance(page.work, Prepared):  # the fetch process has checked it already
        if page.work.same:
            return Quick(Analysis(fingerprint, fingerprint, same=True), False)
        return Quick(None, page.work.want_guard)
    reference = guards.reference_for(db, fingerprint)
    if reference is None or reference.url != (page.final_url or page.url):
        return Quick(None, True)
    body = observations.get_body(db, reference.body_sha256, cached=True)
    same, want_guard = judged_against(reference, body, page)
    return Quick(Analysis(fingerprint, fingerprint, same=True) if same else None, want_guard)


def remember_guard(db: Database, page: Page, analysis: Analysis | None, outcome: str) -> None:
    """Keep the guard of a page stored as a capture of known content."""
    if analysis is None or analysis.guard is None or analysis.fingerprint is None:
        return
    if outcome not in _GUARDED_OUTCOMES or not page.body:
        return
    known = guards.reference_for(db, analysis.fingerprint) if outcome == "unchanged" else None
    if known is not None and _current(known):
        # the same content, and a guard for it already: this page differs from that capture
        # in a way no guard absorbs (an element added, not just text), and so will the next
        # fetch; another guard per run would only grow the table. A guard made under other
        # rules (an earlier release) is replaced, or every later run would parse the page.
        return
    reference = guards.Reference(
        page.body_hash, page.final_url or page.url, page.header("Content-Type"), analysis.guard
    )
    guards.remember(db, reference, analysis.fingerprint)


def _current(reference: guards.Reference) -> bool:
    return Guard.from_json(reference.guard).rules == GUARD_RULES


@dataclass(frozen=True)
class Head:
    """The latest version's id, hash, capture and the capture's fingerprint (its content is
    loaded only when needed)."""

    id: int
    content_hash: str
    observation_id: int | None
    fingerprint: str | None


def latest_head(ctx: RunContext, chapter_id: int) -> Head | None:
    row = fetch_one(
        ctx.db,
        "SELECT id, content_hash, observation_id, fingerprint FROM versions"
        " WHERE chapter_id = ? ORDER BY valid_from DESC, id DESC LIMIT 1",
        (chapter_id,),
    )
    if row is None:
        return None
    return Head(row["id"], row["content_hash"], row["observation_id"], row["fingerprint"])


def analysis_job(
    ctx: RunContext, page: Page, html: str, latest: Head | None, *, want_guard: bool = False
) -> AnalysisJob | None:
    """What the analyser needs: the page (``html`` decoded), and the capture the latest
    version came from."""
    if not page.ok:
        return None
    url, selector = page.final_url or page.url, ctx.manual.content_selector
    job = partial(
        AnalysisJob,
        ignore=ctx.manual.ignore_selectors,
        ignore_text=ctx.manual.ignore_patterns,
        want_guard=want_guard,
    )
    if latest is None or latest.observation_id is None:
        return job(html, url, selector)
    if latest.fingerprint is not None:  # stored with the version: no old capture to parse
        return job(html, url, selector, old_fingerprint=latest.fingerprint)
    capture = fetch_one(
        ctx.db,
        "SELECT body_sha256, final_url, headers FROM observations WHERE id = ?",
        (latest.observation_id,),
    )
    if capture is None or capture["body_sha256"] is None:
        return job(html, url, selector)
    old = Page(
        capture["final_url"], capture["final_url"], 200,
        tuple((k, v) for k, v in json.loads(capture["headers"])),
        observations.get_body(ctx.db, capture["body_sha256"]), page.fetched_at,
    )  # fmt: skip
    return job(
        html,
        url,
        selector,
        old_html=decode_body(old),
        old_url=old.url,
        old_sha256=capture["body_sha256"],
    )


def remember_old_fingerprint(ctx: RunContext, head: Head | None, analysis: Analysis | None) -> None:
    """A version stored without its capture's fingerprint gets it once, when first needed."""
    if head is None or head.fingerprint is not None or analysis is None:
        return
    if analysis.old_fingerprint is not None:
        versions.set_fingerprint(ctx.db, head.id, analysis.old_fingerprint)
