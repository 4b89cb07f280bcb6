"""The per-page work of a snapshot that needs the page and a few stored bodies but not the
database, done where the page is fetched (a fetch process, on another core) instead of in the
process that stores: the quick check against the guard's reference capture, and the stored
form of the new capture (a zstd delta against the URL's base, or the body whole).

``prior_for`` (in the storing process) reads what that work needs from the database, as
stored (compressed): it travels with the request (``FetchRequest.payload``). ``prepare`` (in
the fetch process) does the work; its ``Prepared`` comes back as the page's ``work``.
Anything it cannot do (a stored body that does not match its hash) it leaves undone, and the
storing process does it as before (and reports what is wrong).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from amendwatch.errors import AmendwatchError
from scraper.fetch import decode_body
from scraper.models import Page
from scraper.quickcheck import Guard, same_content
from store import guards, observations
from store.models import Manual

__all__ = ["Blob", "Prepared", "Prior", "judged_against", "prepare", "prepared_page", "prior_for"]


@dataclass(frozen=True)
class Blob:
    """A stored body as stored: its hash, compression, data and delta base (hash or None)."""

    sha256: str
    compression: str
    data: bytes
    base: str | None


@dataclass(frozen=True)
class Prior:
    """What the fetch process needs: the bodies (each delta with its base), the quick check's
    reference capture and guard (None: no quick check) and the delta base (None: stored
    whole)."""

    blobs: tuple[Blob, ...]
    reference: guards.Reference | None
    base: str | None


@dataclass(frozen=True)
class Prepared:
    """``checked``: the quick check ran; ``same``: it found the page the reference's content;
    ``want_guard``: a parse should compute the page's guard; ``encoded``: the capture's
    stored form (``store.observations.encode_body``)."""

    checked: bool
    same: bool
    want_guard: bool
    encoded: observations.Encoded


def prior_for(db: Database, manual: Manual, url: str, fingerprint: str | None) -> Prior | None:
    """The ``Prior`` of a chapter fetch (``fingerprint``: its latest version's, if any)."""
    reference = None
    if fingerprint is not None and manual.content_selector is None:
        reference = guards.reference_for(db, fingerprint)
    base = observations.delta_base(db, url)
    blobs: dict[str, Blob] = {}

    def read(sha: str) -> bool:
        """Read ``sha`` (and its delta base) once: the reference is often the base itself."""
        if sha in blobs:
            return True
        row = observations.stored_row(db, sha)
        if row is None:
            return False
        blobs[sha] = Blob(sha, *row)
        return row[2] is None or read(row[2])

    wanted = (sha for sha in (reference and reference.body_sha256, base) if sha)
    if not all(read(sha) for sha in wanted):
        return None
    return Prior(tuple(blobs.values()), reference, base)


def prepared_page(page: Page, prior: object) -> Page:
    """``page`` with its work (``prepare``), as the fetch session's ``prepare``: without its
    body when the page is the same content as its reference and its capture is stored
    against a base (the storing process then needs only the stored form, its size and the
    hash, which the page keeps)."""
    work = prepare(page, prior)
    drop = work is not None and work.same and work.encoded.base is not None
    return page.with_work(work, drop_body=drop)


def prepare(page: Page, prior: object) -> Prepared | None:
    """The work on ``page`` (in the fetch process); None when there is none to do, or when a
    stored body cannot be read (the storing process then does it, and says why)."""
    if not isinstance(prior, Prior) or not page.ok or not page.body:
        return None
    try:
        return _prepare(page, prior)
    except (AmendwatchError, ValueError, KeyError, TypeError):  # a stored body or guard the
        return None  # storing process then reads itself, and reports


def judged_against(reference: guards.Reference, body: bytes, page: Page) -> tuple[bool, bool]:
    """The quick check of ``page`` against its reference capture (``body``: its verified
    bytes): (the same content, a parse should compute the page's guard). A whole-page guard
    (the capture's elements could not be placed) is not tried again."""
    headers = (("Content-Type", reference.content_type),) if reference.content_type else ()
    old = decode_body(Page(reference.url, reference.url, 200, headers, body, page.fetched_at))
    guard = Guard.from_json(reference.guard)
    if same_content(old, decode_body(page), guard):
        return True, False
    return False, guard.extents != ((0, max(1, len(old))),)


def _prepare(page: Page, prior: Prior) -> Prepared:
    found = {blob.sha256: blob for blob in prior.blobs}
    raw: dict[str, bytes] = {}
    verified: set[str] = set()

    def bytes_of(sha: str, *, checked: bool = True) -> bytes:
        """The body's bytes; checked against its hash when they are compared with the page
        (a base only decodes a delta, which is checked, or is the dictionary of the new
        capture's delta, which decodes against the same stored bytes)."""
        if sha not in raw:
            blob = found[sha]
            base = None if blob.base is None else bytes_of(blob.base, checked=False)
            raw[sha] = observations.decompress(blob.compression, blob.data, base)
        if checked and sha not in verified:
            observations.checked_body(raw[sha], sha)
            verified.add(sha)
        return raw[sha]

    checked = same = False
    want_guard = True
    reference = prior.reference
    if reference is not None and reference.url == (page.final_url or page.url):
        checked = True
        same, want_guard = judged_against(reference, bytes_of(reference.body_sha256), page)
    base = None if prior.base is None else (prior.base, bytes_of(prior.base, checked=False))
    encoded = observations.encode_body(page.body, page.body_hash, base)
    return Prepared(checked, same, want_guard, encoded)
