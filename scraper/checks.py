"""Decide whether a fetched and extracted page may become a new version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from scraper.errorpages import error_wording
from scraper.models import Chapter, Page

Outcome = Literal["ok", "failed", "suspect", "large"]
# "large": a trustworthy-looking answer that changes the chapter a lot (shrank, lost most of
# its sections): to be confirmed by a second fetch in the same run (``structural_problem``),
# never parked.

LOST_SECTIONS = 0.5  # a change keeping fewer of the old section headings than this is large
MIN_SECTIONS_FOR_LOSS = 4  # ... when the old version had at least this many
_TITLE_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Judgement:
    outcome: Outcome
    reason: str


def _failure(page: Page) -> str | None:
    if page.error:
        return page.error
    if page.status == 304:
        return None
    if not 200 <= page.status < 300:
        return f"HTTP status {page.status}"
    return None


def _heading_keys(chapter: Chapter) -> set[str]:
    return {" ".join(_TITLE_WORD.findall(s.title.casefold())) for s in chapter.sections if s.title}


def kept_headings(old: Chapter, new: Chapter) -> float:
    """The share of ``old``'s section headings that ``new`` still has (1.0 when none)."""
    before = _heading_keys(old)
    return len(before & _heading_keys(new)) / len(before) if before else 1.0


def _same_title(title: str, others: tuple[str, ...]) -> bool:
    words = set(_TITLE_WORD.findall(title.casefold()))
    for other in others:
        theirs = set(_TITLE_WORD.findall(other.casefold()))
        if words == theirs or (words and theirs and len(words & theirs) * 2 >= len(words | theirs)):
            return True
    return False


def structural_problem(
    chapter: Chapter, previous: Chapter | None, titles: tuple[str, ...] = ()
) -> str | None:
    """Why ``chapter`` is not a sound capture of the chapter, or None: the title is the
    chapter's (its last version's or the contents page's ``titles``), it has a body (and
    headings, when the last version had some), and no error or maintenance wording."""
    wording = error_wording(chapter)
    if wording is not None:
        return f"error or maintenance wording ({wording!r})"
    known = tuple(t for t in (*titles, previous.title if previous else "") if t)
    if known and not _same_title(chapter.title, known):
        return f"the title {chapter.title!r} is not the chapter's ({known[0]!r})"
    if not any(s.text for s in chapter.sections):
        return "no body text"
    if previous is not None and _heading_keys(previous) and not _heading_keys(chapter):
        return "no headings"
    return None


def _large_change(chapter: Chapter, previous: Chapter, min_fraction: float) -> str | None:
    before = sum(len(s.text) for s in previous.sections)
    length = sum(len(s.text) for s in chapter.sections)
    if before and length < min_fraction * before:
        return (
            f"text shrank to {length} characters from {before} "
            f"(under {min_fraction:.0%} of the previous version)"
        )
    if len(previous.sections) >= MIN_SECTIONS_FOR_LOSS:
        kept = kept_headings(previous, chapter)
        if kept < LOST_SECTIONS:
            return f"only {kept:.0%} of the previous section headings are left"
    return None


MAX_GARBAGE = 0.02  # guidance text has no control characters; binary junk is full of them


# C0/C1 controls other than tab, line feed and carriage return; U+FFFD; private use
_GARBAGE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]")


def _garbage_share(chapter: Chapter) -> float:
    """The share of characters that no guidance text contains: C0/C1 controls (other than
    line breaks and tabs), U+FFFD replacement characters and private-use characters."""
    total = sum(len(section.text) for section in chapter.sections)
    if not total:
        return 0.0
    bad = sum(len(_GARBAGE.findall(section.text)) for section in chapter.sections)
    return bad / total


_DOCUMENT_END = re.compile(rb"</(?:html|body)\s*>(?:\s|<!--.*?-->)*\Z", re.I | re.S)


def ends_whole(body: bytes) -> bool:
    """The body ends with ``</html>`` or ``</body>`` (then only space and comments)."""
    return _DOCUMENT_END.search(body[-4096:]) is not None


def judge_page(
    page: Page,
    chapter: Chapter | None,
    previous: Chapter | None,
    *,
    min_fraction: float = 0.5,
) -> Judgement:
    """ "failed" (no usable answer), "suspect" (an answer not to trust: an error or
    maintenance page, no text, junk), "large" (to confirm in the same run) or "ok".

    A 304 with no chapter is "ok" (unchanged); only "ok" may become a version as it is.
    """
    failure = _failure(page)
    if failure is not None:
        return Judgement("failed", failure)
    if chapter is None:
        if page.status == 304:
            return Judgement("ok", "not modified")
        return Judgement("suspect", "no chapter could be extracted")
    wording = error_wording(chapter)
    if wording is not None and (
        previous is None or structural_problem(chapter, previous) is not None
    ):
        return Judgement("suspect", f"looks like an error, login or maintenance page ({wording!r})")
    length = sum(len(s.text) for s in chapter.sections)
    if length == 0:
        return Judgement("suspect", "the chapter has no section text")
    garbage = _garbage_share(chapter)
    if garbage > MAX_GARBAGE:
        return Judgement(
            "suspect", f"{garbage:.0%} of the text is control or undecodable characters"
        )
    if previous is not None and (large := _large_change(chapter, previous, min_fraction)):
        return Judgement("large", large)
    return Judgement("ok", "")
