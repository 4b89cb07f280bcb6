"""Parse a publisher's own Amendments page (HTML, or its text rendering) into entries."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment

from scraper.models import PublishedCategory, PublishedEntry
from scraper.sections import HEADING_TAGS, body_blocks, inline_text, is_bold_heading
from scraper.text import CONNECTIVES, SMALL_WORDS, normalise_line

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip
_MONTH_YEAR = re.compile(r"^(%s)\s+(\d{4})$" % "|".join(_MONTHS), re.I)  # noqa: UP031
_MONTH_ONLY = re.compile(r"^(%s)$" % "|".join(_MONTHS), re.I)  # noqa: UP031
_YEAR_ONLY = re.compile(r"^(\d{4})$")
_CATEGORY = re.compile(
    r"^(updated|new|removed|deleted|withdrawn|archived)\s+(chapters?|procedures?|features?|"
    r"guidance|documents?)(\s+and\s+(features|chapters|procedures|guidance|documents))?:?$",
    re.I,
)
_STOP = re.compile(r"^(next\b.*\bupdate\b.*|archive|\d{4}\s+amendments|end|back to top)$", re.I)
_HEADER = re.compile(r"^(chapter( name)?|title)\s*\|?\s*(details|summary|description)?$", re.I)
_SKIP = re.compile(r"^(caption:.*|skip to main content|amendments|chapter name|details)$", re.I)
_OPENING = (
    r"(?:(?:This|These|The|A|An|It|Links?|Updated|Additional|New|Minor|Amended|Following|"
    r"Further)\s+[a-z]|Section\s+\d{1,3}(?:\.\d{1,3})*\s*,|Appendix\s+\d{1,3}\s*:)"
)
_OPENER = re.compile(r"(?<= )" + _OPENING)
_STARTS_WITH_OPENER = re.compile(_OPENING)
_BULLET = re.compile(r"^[•·\-*–▪◦]\s*")
_SECTION_REF = re.compile(
    r"\b(Section\s+\d{1,3}(?:\.\d{1,3})*|Appendix\s+(?:\d{1,3}|[A-Z]))\s*[,:]\s*(?=([^\n]+))"
)
_QUOTED = re.compile(r"^[‘'\"“’]([^’'\"”]+)[’'\"”]")
_CATEGORY_OF: dict[str, PublishedCategory] = {"updated": "updated", "new": "new"}


@dataclass(frozen=True)
class _Line:
    text: str
    heading: bool = False
    links: tuple[str, ...] = ()
    details: tuple[str, ...] | None = None  # a table row: (title in text, details here)


# --- the title heuristic --------------------------------------------------------------


def _lowercase_words(words: Sequence[str]) -> int:
    stripped = (w.strip("‘’'\"“”()[],;:") for w in words)
    return sum(1 for w in stripped if w[:1].islower() and w.lower() not in SMALL_WORDS)


def plausible_title(text: str) -> bool:
    """Could ``text`` be a chapter title (capitalised words, no sentence break)?"""
    words = text.split()
    if not words or len(words) > 25 or len(text) > 200:
        return False
    first = text.lstrip("(‘'\"“")[:1]
    if not (first.isupper() or first.isdigit()) or text.endswith((".", ";", ":", ",", "!")):
        return False
    if ". " in text or _BULLET.match(text) or words[-1].lower() in SMALL_WORDS:
        return False
    lower = _lowercase_words(words)
    return lower <= 2 and lower <= 0.25 * len(words)


def split_title(line: str) -> tuple[str, str] | None:
    """ "Bullying This chapter has been ..." -> ("Bullying", "This chapter has been ...").

    Details start at a known opening phrase ("This chapter", "A note", "Section 8, ...")
    after a plausible title; failing that, at the capitalised word that starts the first
    lower-case run ("... of the Child Effective safeguarding systems ...").
    """
    for match in _OPENER.finditer(line):
        title = line[: match.start()].strip()
        if plausible_title(title):
            return title, line[match.start() :].strip()
    if _STARTS_WITH_OPENER.match(line):
        return None
    words = line.split(" ")
    for index, word in enumerate(words):
        if _lowercase_words([word]):
            if index >= 2 and words[index - 1][:1].isupper() and len(words) - index >= 2:
                title = " ".join(words[: index - 1])
                if plausible_title(title):
                    return title, " ".join(words[index - 1 :])
            return None
    return None


def _title_alone(line: str) -> bool:
    return plausible_title(line) and _lowercase_words(line.split()) <= 1 and len(line) <= 150


def _is_structural(line: str) -> bool:
    return any(p.match(line) for p in (_MONTH_YEAR, _CATEGORY, _STOP, _HEADER, _SKIP))


# --- section references -------------------------------------------------------------


_REF_SMALL = CONNECTIVES  # lower-case words inside a referenced section title


def _clause(rest: str) -> str:
    """``rest`` up to the end of its clause: ".", ";" or an unmatched ")"."""
    depth = 0
    for index, char in enumerate(rest):
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return rest[:index]
            depth -= 1
        elif char in ".;" and depth == 0 and rest[index + 1 : index + 2] in ("", " "):
            return rest[:index]
    return rest


def _ref_title(rest: str) -> str:
    quoted = _QUOTED.match(rest)
    if quoted:
        return quoted.group(1).strip()
    words: list[str] = []
    for word in _clause(rest).split():
        bare = word.strip("‘’'\"“”(),")
        if bare[:1].islower() and bare.lower() not in _REF_SMALL:
            break
        if words and bare in ("Section", "Sections", "Appendix"):
            break
        words.append(word)
    while words and words[-1].lower() in _REF_SMALL:
        words.pop()
    return " ".join(words).strip(" ,–-")


def section_refs(details: str) -> tuple[str, ...]:
    """Every "Section N, Title" / "Appendix 1: Title" named in ``details``, normalised."""
    found: list[str] = []
    for match in _SECTION_REF.finditer(details):
        label = " ".join(match.group(1).split())
        title = _ref_title(match.group(2).strip())
        ref = f"{label}, {title}" if title else label
        if ref not in found:
            found.append(ref)
    return tuple(found)


# --- the shared state machine ----------------------------------------------------------


@dataclass(frozen=True)
class _Open:
    month: str
    category: PublishedCategory
    title: str
    paras: tuple[str, ...] = ()
    links: tuple[str, ...] = ()

    def add(self, text: str, links: tuple[str, ...] = ()) -> _Open:
        return _Open(
            self.month, self.category, self.title, (*self.paras, text), (*self.links, *links)
        )

    def entry(self) -> PublishedEntry:
        details = "\n".join(self.paras)
        return PublishedEntry(
            self.month, self.category, self.title, details, section_refs(details), self.links
        )


@dataclass(frozen=True)
class _State:
    year: str | None = None
    month: str | None = None
    category: PublishedCategory | None = None


def _structure(line: str, state: _State) -> _State | None:
    """The new state if ``line`` is a month, year, category or end marker; else None."""
    if match := _MONTH_YEAR.match(line):
        month = _MONTHS.index(match.group(1).lower()) + 1
        return _State(match.group(2), f"{match.group(2)}-{month:02d}", None)
    if match := _YEAR_ONLY.match(line):
        return _State(match.group(1), None, None)
    if (match := _MONTH_ONLY.match(line)) and state.year:
        month = _MONTHS.index(match.group(1).lower()) + 1
        return _State(state.year, f"{state.year}-{month:02d}", None)
    if match := _CATEGORY.match(line):
        category = _CATEGORY_OF.get(match.group(1).lower(), "removed")
        return _State(state.year, state.month, category)
    if _STOP.match(line):
        return _State(state.year, None, None)
    if _HEADER.match(line) or _SKIP.match(line):
        return state
    return None


def _run(lines: Sequence[_Line], *, text_mode: bool) -> tuple[PublishedEntry, ...]:
    entries: list[PublishedEntry] = []
    state, current = _State(), None
    for index, line in enumerate(lines):
        new_state = _structure(line.text, state)
        if new_state is not None:
            if current is not None:
                entries.append(current.entry())
            state, current = new_state, None
            continue
        if state.month is None or (text_mode and state.category is None):
            continue
        category = state.category or "updated"
        opened = _open_entry(lines, index, state.month, category, text_mode=text_mode)
        if opened is not None:
            if current is not None:
                entries.append(current.entry())
            current = opened
        elif current is not None and line.details is None:
            current = current.add(line.text, line.links)
    if current is not None:
        entries.append(current.entry())
    return tuple(entries)


def _open_entry(
    lines: Sequence[_Line], index: int, month: str, category: PublishedCategory, *, text_mode: bool
) -> _Open | None:
    line = lines[index]
    if line.details is not None:
        return _Open(month, category, line.text, line.details, line.links)
    if not text_mode:
        return _Open(month, category, line.text) if line.heading else None
    split = split_title(line.text)
    if split is not None:
        return _Open(month, category, split[0], (split[1],))
    following = next((ln.text for ln in lines[index + 1 :] if ln.text), "")
    if (
        _title_alone(line.text)
        and following
        and not _is_structural(following)
        and split_title(following) is None
        and not _title_alone(following)
    ):
        return _Open(month, category, line.text)
    return None


# --- entry points ---------------------------------------------------------------------


def parse_amendments_text(text: str) -> tuple[PublishedEntry, ...]:
    """Entries of the text rendering of an Amendments page (see ``/work/shared/seeds``)."""
    lines = [_Line(normalise_line(raw)) for raw in text.splitlines()]
    return _run([line for line in lines if line.text], text_mode=True)


def _row_line(row: Tag, base_url: str) -> _Line | None:
    cells = [c for c in row.find_all(["td", "th"], recursive=False)]
    if not cells:
        return None
    title = inline_text(cells[0])
    if len(cells) == 1 or all(c.name == "th" for c in cells):
        return _Line(title, heading=True) if title else None
    blocks = [b for cell in cells[1:] for b in body_blocks(cell, base_url)]
    details = tuple(b.text for b in blocks)
    links = tuple(link.text for b in blocks for link in b.links if link.text)
    if _HEADER.match(f"{title} {' '.join(details)}") or not title:
        return None
    return _Line(title, links=links, details=details)


def _lines_of(node: Tag, base_url: str) -> Iterator[_Line]:
    for child in node.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            if text := normalise_line(str(child)):
                yield _Line(text)
            continue
        if not isinstance(child, Tag) or child.name in ("script", "style", "nav", "footer"):
            continue
        if child.name == "table":
            if child.caption is not None and (text := inline_text(child.caption)):
                yield _Line(text, heading=True)
            rows = (_row_line(row, base_url) for row in child.find_all("tr"))
            yield from (row for row in rows if row is not None)
        elif child.name in HEADING_TAGS or (child.name == "p" and is_bold_heading(child)):
            yield _Line(inline_text(child), heading=True)
        elif (
            child.name in ("p", "li", "dt", "dd", "blockquote")
            or child.find(["p", "div", "table", "ul", "ol", "li", *HEADING_TAGS]) is None
        ):
            text = inline_text(child)
            links = tuple(
                name
                for a in child.find_all("a", href=True)
                if not str(a["href"]).startswith("#") and (name := inline_text(a))
            )
            if text:
                yield _Line(text, links=links)
        else:
            yield from _lines_of(child, base_url)


def parse_amendments(html: bytes | str, base_url: str = "") -> tuple[PublishedEntry, ...]:
    """Entries of an Amendments page: month tables (layout A) or year/month/title (layout B)."""
    soup = BeautifulSoup(html, "lxml")
    root = soup.body or soup
    lines = [line for line in _lines_of(root, base_url) if line.text]
    return _run(lines, text_mode=False)
