"""Parse a publisher's own Amendments page (any HTML, or its text rendering) into entries.

The page is read as a sequence of blocks in document order (``amendments_blocks``); what
each block *is* comes from its text (``amendments_text``): a month or date, a year, a category
label, an end marker, a chapter title or details. Tags only say whether a block is marked
up as a title (heading, bold, link alone, summary, dt, cell ...). The rules are documented in
docs/reports.md, "Reading the publisher's Amendments page".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urljoin

from bs4 import BeautifulSoup

from scraper.amendments_blocks import page_lines
from scraper.amendments_text import (
    Label,
    Line,
    is_end,
    is_furniture,
    is_structural,
    label_of,
    month_and_label,
    month_of,
    plausible_title,
    section_refs,
    split_title,
    title_alone,
    without_furniture,
    year_of,
)
from scraper.models import PublishedEntry
from scraper.text import normalise_line

__all__ = [
    "archive_links",
    "parse_amendments",
    "parse_amendments_text",
    "parse_with_archives",
    "plausible_title",
    "section_refs",
    "split_title",
]

_ARCHIVE = re.compile(
    r"^(?:(\d{4})\s+(?:amendments|archive|updates)|(?:amendments|archive|updates)\s*[:\-–]?\s*(\d{4}))$",
    re.I,
)
_NUMBERED = re.compile(r"^\d{1,3}(\.\d{1,3})*\.?\s")


@dataclass(frozen=True)
class _State:
    year: str | None = None
    month: str | None = None
    label: Label | None = None


@dataclass(frozen=True)
class _Open:
    month: str
    label: Label | None
    title: str
    paras: tuple[str, ...] = ()
    links: tuple[str, ...] = ()

    def add(self, text: str, links: tuple[str, ...] = ()) -> _Open:
        return replace(self, paras=(*self.paras, text), links=(*self.links, *links))

    def entry(self) -> PublishedEntry | None:
        details = "\n".join(self.paras)
        if not details:
            return None
        category = self.label.category if self.label else "updated"
        label = self.label.text if self.label else ""
        return PublishedEntry(
            self.month, category, self.title, details, section_refs(details), self.links, label
        )


def _structure(line: Line, state: _State, following: Line) -> _State | None:
    """The new state if ``line`` is a month, year, category or end marker; else None."""
    text = without_furniture(line.text)
    if both := month_and_label(text):
        return _State(both[0][:4], both[0], both[1])
    if month := month_of(text, state.year):
        return _State(month[:4], month, None)
    if year := year_of(text):
        return _State(year, None, None)
    marked = (
        line.heading
        or is_furniture(following.text)
        or (
            (following.heading or following.details is not None)
            and not following.text.endswith(":")
        )
    )
    if (label := label_of(text, marked=marked)) is not None:
        return replace(state, label=label)
    if is_end(text):
        return _State(state.year, None, None)
    if is_furniture(text):
        return state
    return None


def _marked_title(text: str) -> bool:
    words = text.split()
    first = text.lstrip("(‘'\"“")[:1]
    return (
        0 < len(words) <= 25
        and (first.isupper() or first.isdigit())
        and not text.endswith((".", ";", ":", ",", "!", "?"))
        and not _NUMBERED.match(text)
    )


def _open_entry(
    lines: Sequence[Line], index: int, state: _State, after_colon: bool
) -> _Open | None:
    line, month = lines[index], state.month or ""
    if line.details is not None:
        return _Open(month, state.label, line.text, line.details, line.links)
    if line.heading and not after_colon:
        return _Open(month, state.label, line.text) if _marked_title(line.text) else None
    if state.label is None:  # without a category label only marked-up titles open entries
        return None
    if (split := split_title(line.text)) is not None:
        return _Open(month, state.label, split[0], (split[1],))
    following = next((ln.text for ln in lines[index + 1 :] if ln.text), "")
    if (
        title_alone(line.text)
        and following
        and not is_structural(following)
        and split_title(following) is None
        and not title_alone(following)
    ):
        return _Open(month, state.label, line.text)
    return None


def _run(lines: Sequence[Line]) -> tuple[PublishedEntry, ...]:
    done: list[_Open] = []
    state, current = _State(), None
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else Line("")
        new_state = _structure(line, state, following) if line.details is None else None
        if new_state is not None:
            if current is not None and not current.paras and new_state.month is not None:
                current = replace(
                    current, month=new_state.month, label=new_state.label or current.label
                )
            elif current is not None and not current.paras and new_state.label is not state.label:
                current = replace(current, label=new_state.label)
            elif current is not None and new_state is not state:
                done.append(current)
                current = None
            state = new_state
            continue
        if state.month is None:
            continue
        after_colon = bool(current and current.paras and current.paras[-1].endswith(":"))
        opened = _open_entry(lines, index, state, after_colon)
        if opened is not None:
            if current is not None:
                done.append(current)
            current = opened
        elif current is not None:
            current = current.add(line.text, line.links)
    if current is not None:
        done.append(current)
    return tuple(entry for item in done if (entry := item.entry()) is not None)


# --- entry points ---------------------------------------------------------------------


def parse_amendments_text(text: str) -> tuple[PublishedEntry, ...]:
    """Entries of the text rendering of an Amendments page (see ``/work/shared/seeds``)."""
    lines = [Line(normalise_line(raw)) for raw in text.splitlines()]
    return _run([line for line in lines if line.text])


def parse_amendments(html: bytes | str, base_url: str = "") -> tuple[PublishedEntry, ...]:
    """Entries of an Amendments page in any markup (``base_url`` is kept for callers)."""
    del base_url
    return _run([line for line in page_lines(html) if line.text])


def archive_links(html: bytes | str, base_url: str) -> tuple[str, ...]:
    """Absolute URLs of the year archives linked from a page ("2017 Amendments"), in order."""
    soup = BeautifulSoup(html, "lxml")
    found: list[str] = []
    for anchor in soup.find_all("a", href=True):
        if _ARCHIVE.match(normalise_line(anchor.get_text(" "))):
            url = urljoin(base_url, str(anchor["href"]))
            if url not in found and url.split("#")[0] != base_url.split("#", maxsplit=1)[0]:
                found.append(url)
    return tuple(found)


def parse_with_archives(
    html: bytes | str, base_url: str, fetch: Callable[[str], bytes | str | None]
) -> tuple[PublishedEntry, ...]:
    """Entries of a page and of the year archives it links ("2017 Amendments"), in page
    order then archive order; ``fetch`` returns an archive's HTML or None (not fetched).
    An entry that appears on two pages is kept once."""
    entries = list(parse_amendments(html, base_url))
    for url in archive_links(html, base_url):
        body = fetch(url)
        if body is None:
            continue
        entries += [e for e in parse_amendments(body, url) if e not in entries]
    return tuple(entries)
