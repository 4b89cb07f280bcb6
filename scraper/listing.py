"""What becomes of a parsed contents listing before its chapters are checked: a second reading
confirms its new links (``confirm_stable``), and chapters stored under a decorated URL by an
earlier release keep it (``keep_known_urls``). Kept apart from scraper/discover.py (which
needs BeautifulSoup) so that a run reusing a kept listing never imports the HTML parser."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from scraper.models import Contents, Skipped
from scraper.urlcanon import adopt_known

__all__ = ["confirm_stable", "keep_known_urls"]


def confirm_stable(first: Contents, second: Contents, known: Collection[str]) -> Contents:
    """``first`` without the chapters that are new (not ``known``) and missing from a second
    reading of the same contents page: a link whose target changes from render to render
    (a token in its path or query) is never a chapter."""
    again = {ref.url for ref in second.chapters}
    unstable = [ref for ref in first.chapters if ref.url not in known and ref.url not in again]
    if not unstable:
        return first
    reason = "the link changed between two readings of the contents page"
    return replace(
        first,
        chapters=tuple(ref for ref in first.chapters if ref not in unstable),
        skipped=(*first.skipped, *(Skipped(ref.url, ref.title, reason) for ref in unstable)),
    )


def keep_known_urls(contents: Contents, known: Collection[str]) -> Contents:
    """``contents`` with each chapter stored under a decorated URL by an earlier release
    (``?ref=contents``) listed under that stored URL, so that it keeps its record."""
    adopted = adopt_known([ref.url for ref in contents.chapters], known)
    if not adopted:
        return contents
    chapters = tuple(replace(ref, url=adopted.get(ref.url, ref.url)) for ref in contents.chapters)
    return replace(contents, chapters=chapters)
