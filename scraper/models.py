"""Frozen dataclasses that leave the scraper stage."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Literal


@dataclass(frozen=True)
class Page:
    """One HTTP observation (or a failed attempt at one).

    ``status`` is 0 when no HTTP answer was received (connection error, timeout);
    ``error`` then says what happened. ``redirects`` lists the URLs passed through.
    """

    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime
    error: str | None = None
    redirects: tuple[str, ...] = ()
    # what the session's ``prepare`` made of the page (with its request's payload), if any
    work: object = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def with_work(self, work: object, *, drop_body: bool = False) -> Page:
        """This page with ``work``, keeping its body hash if computed already. ``drop_body``:
        without its body (``b""``), its hash kept, for a page whose work holds all that the
        storing process needs of it (a fetch process then sends it back without copying
        100 KB through the pipe twice)."""
        digest = self.body_hash if drop_body else self.__dict__.get("body_hash")
        page = replace(self, work=work, body=b"" if drop_body else self.body)
        if digest is not None:
            page.__dict__["body_hash"] = digest
        return page

    @cached_property
    def body_hash(self) -> str:
        """SHA-256 of the body, computed once (by the fetch process, which sends it along)."""
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Section:
    """A numbered (or unnumbered) block of a chapter.

    ``number`` is "8", "7.4.1", "Appendix 1" or None; ``path`` is the chain of keys
    (number, or title when unnumbered) from the top-level ancestor down to this section.
    """

    number: str | None
    title: str
    level: int
    path: tuple[str, ...]
    text: str
    links: tuple[Link, ...] = ()

    @property
    def key(self) -> str:
        return self.number if self.number else self.title

    @property
    def label(self) -> str:
        """How the house style cites it: "Section 8, Pre-birth Conferences" or the title."""
        if self.number is None:
            return self.title
        if self.number[:1].isdigit() or " " not in self.number:  # 8, 7.4.1, P, IV
            return (
                f"Section {self.number}, {self.title}" if self.title else f"Section {self.number}"
            )
        return f"{self.number}, {self.title}" if self.title else self.number


@dataclass(frozen=True)
class Chapter:
    """What extraction and sectioning make of one chapter page."""

    url: str
    title: str
    sections: tuple[Section, ...]
    links: tuple[Link, ...] = ()
    # the page's date stamp(s) ("Last reviewed on 3 March 2024"): metadata, never text
    stamp: str | None = None

    def content_json(self) -> str:
        """Canonical serialisation of the content that matters for versioning (the stamp is
        included when there is one, so a chapter without one keeps its old hash)."""
        return self._content_json

    # Computed once per instance (the fields are frozen): the pipeline asks for the hash
    # several times per page. A worker sends the hash back with the chapter, not the JSON.
    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_content_json", None)
        return state

    @cached_property
    def _content_json(self) -> str:
        payload: dict[str, object] = {
            "title": self.title,
            "sections": [
                {
                    "number": s.number,
                    "title": s.title,
                    "level": s.level,
                    "path": list(s.path),
                    "text": s.text,
                    "links": [[link.text, link.url] for link in s.links],
                }
                for s in self.sections
            ],
        }
        if self.stamp is not None:
            payload["stamp"] = self.stamp
        return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @cached_property
    def content_hash(self) -> str:
        return hashlib.sha256(self.content_json().encode("utf-8")).hexdigest()

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


@dataclass(frozen=True)
class ChapterRef:
    """A chapter as listed on a manual's contents page."""

    url: str
    title: str
    number: str | None = None
    part: str | None = None


@dataclass(frozen=True)
class Skipped:
    """An entry listed on a contents page that is not watched as a chapter, and why
    ("off-site link (www.gov.uk)", "site page outside the chapters' folder" ...)."""

    url: str
    title: str
    reason: str


@dataclass(frozen=True)
class Contents:
    """A parsed contents page: the ordered chapter list of a manual, and the entries it
    lists that are not watched (each with its reason)."""

    url: str
    title: str
    chapters: tuple[ChapterRef, ...]
    skipped: tuple[Skipped, ...] = ()


PublishedCategory = Literal["updated", "new", "removed"]


@dataclass(frozen=True)
class PublishedEntry:
    """One entry of a publisher's own Amendments page."""

    month: str  # "2022-03"
    category: PublishedCategory
    chapter: str
    details: str
    sections: tuple[str, ...] = ()  # "Section 8, Prebirth Conferences"
    links: tuple[str, ...] = ()  # titles of linked documents named in the entry
    label: str = ""  # the category label as the page wrote it ("Amended chapters"); "" if none
