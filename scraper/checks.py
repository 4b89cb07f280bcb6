"""Decide whether a fetched and extracted page may become a new version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from scraper.models import Chapter, Page

Outcome = Literal["ok", "failed", "suspect"]

_ERROR_TITLES = re.compile(
    r"^(log ?in|sign ?in|log on|sign on)\b|\b(page not found|not found|404|please (log|sign) in|"
    r"down for maintenance|under maintenance|maintenance mode|service (temporarily )?unavailable|"
    r"access denied|403 forbidden|error \d{3}|internal server error|session (has )?expired)\b",
    re.I,
)


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


def _looks_like_error_page(chapter: Chapter) -> str | None:
    candidates = [chapter.title]
    if chapter.sections:
        candidates.append(chapter.sections[0].title)
    for text in candidates:
        if text and len(text) <= 80 and _ERROR_TITLES.search(text):
            return f"looks like an error, login or maintenance page ({text!r})"
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


def judge_page(
    page: Page,
    chapter: Chapter | None,
    previous: Chapter | None,
    *,
    min_fraction: float = 0.5,
) -> Judgement:
    """ "failed" (no usable answer), "suspect" (an answer not to trust) or "ok".

    A 304 with no chapter is "ok" (unchanged); only "ok" may become a version.
    """
    failure = _failure(page)
    if failure is not None:
        return Judgement("failed", failure)
    if chapter is None:
        if page.status == 304:
            return Judgement("ok", "not modified")
        return Judgement("suspect", "no chapter could be extracted")
    error_page = _looks_like_error_page(chapter)
    if error_page:
        return Judgement("suspect", error_page)
    length = sum(len(s.text) for s in chapter.sections)
    if length == 0:
        return Judgement("suspect", "the chapter has no section text")
    garbage = _garbage_share(chapter)
    if garbage > MAX_GARBAGE:
        return Judgement(
            "suspect", f"{garbage:.0%} of the text is control or undecodable characters"
        )
    if previous is not None:
        before = sum(len(s.text) for s in previous.sections)
        if before and length < min_fraction * before:
            return Judgement(
                "suspect",
                f"text shrank to {length} characters from {before} "
                f"(under {min_fraction:.0%} of the previous version)",
            )
    return Judgement("ok", "")
