"""Text rules of the Amendments-page parser: what a line *is* (a month, a category label, an
end marker, a table header), where a chapter title ends, and which sections it cites."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from scraper.models import PublishedCategory
from scraper.text import CONNECTIVES, SMALL_WORDS

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip
_MONTH_NAMES = "|".join([*_MONTHS, *(m[:3] for m in _MONTHS), "sept"])
_LEAD = (
    r"(?:(?:amendments?|updates?|changes?|revisions?)\s+(?:made\s+|published\s+)?"
    r"(?:in|for|to|during|of|from)?\s*[:\-–—]?\s*)?"
)
_TAIL = r"(?:\s*[:\-–—]?\s*(?:amendments?|updates?|changes?|revisions?))?\s*:?"
_MONTH_YEAR = re.compile(
    rf"^{_LEAD}(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?"
    rf"({_MONTH_NAMES})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?,)?,?\s+(\d{{4}}){_TAIL}$",
    re.I,
)
_ISO_MONTH = re.compile(rf"^{_LEAD}(\d{{4}})[-/.](\d{{1,2}})(?:[-/.]\d{{1,2}})?{_TAIL}$", re.I)
_NUM_MONTH = re.compile(rf"^{_LEAD}(?:\d{{1,2}}[/.])?(\d{{1,2}})[/.](\d{{4}}){_TAIL}$", re.I)
_MONTH_ONLY = re.compile(rf"^({_MONTH_NAMES})\.?:?$", re.I)
_YEAR_ONLY = re.compile(
    r"^(?:amendments?\s+(?:made\s+)?(?:in\s+)?)?(\d{4})(?:\s+amendments)?:?$", re.I
)
_STATUS = {
    "updated": "updated", "amended": "updated", "revised": "updated", "changed": "updated",
    "reviewed": "updated", "modified": "updated", "update": "updated", "updates": "updated",
    "new": "new", "added": "new", "introduced": "new", "additions": "new",
    "removed": "removed", "deleted": "removed", "withdrawn": "removed", "archived": "removed",
    "retired": "removed", "superseded": "removed", "deletions": "removed",
}  # fmt: skip
_NOUNS = frozenset(
    {"chapter", "chapters", "procedure", "procedures", "feature", "features", "guidance",
     "document", "documents", "policies", "pages", "resources", "protocols", "items",
     "sections", "content", "and", "&", "or", "/", "local", "other", "the", "of", "to"}
)  # fmt: skip
_PLURAL_NOUN = re.compile(r"\b(chapters|procedures|features)\b", re.I)
_STOP = re.compile(
    r"^(next\b.*\bupdates?\b.*|archives?:?|previous amendments|end|back to top)$", re.I
)
_HEADER = re.compile(
    r"^(chapter( name| title)?|title|name|procedure|document)\s*\|?\s*"
    r"(details|summary|description|changes?|amendments?|what has changed)?$",
    re.I,
)
_SKIP = re.compile(
    r"^(caption:.*|skip to (main )?content|(local )?amendments|chapter name|details)$", re.I
)
_OPENING = (
    r"(?:(?:This|These|The|A|An|It|Links?|Updated|Additional|New|Minor|Amended|Following|"
    r"Further)\s+[a-z]|Section\s+\d{1,3}(?:\.\d{1,3})*\s*,|Appendix\s+\d{1,3}\s*:)"
)
_OPENER = re.compile(r"(?<= )" + _OPENING)
_STARTS_WITH_OPENER = re.compile(_OPENING)
_BULLET = re.compile(r"^[•·\-*–▪◦]\s*")
_NUMBERED = re.compile(r"^\d{1,3}(\.\d{1,3})*\.?\s")
_SECTION_REF = re.compile(
    r"\b(Section\s+\d{1,3}(?:\.\d{1,3})*|Appendix\s+(?:\d{1,3}|[A-Z]))\s*[,:]\s*(?=([^\n]+))"
)
_DOCUMENT_NOUNS = frozenset({"chapter", "procedure", "guidance", "policy", "protocol"})
_PARTS = re.compile(r"\s+[-–—:|]\s+|:\s+|\s*[()]\s*")
_TRAILING = re.compile(r"\s+[\[(]?(back to (the )?top|↑)[\])]?$", re.I)
_QUOTED = re.compile(r"^[‘'\"“’]([^’'\"”]+)[’'\"”]")


@dataclass(frozen=True)
class Line:
    """One block of the page in document order (a paragraph, heading, item, cell ...)."""

    text: str
    heading: bool = False  # marked up as a title: heading, bold, link alone, summary, dt ...
    links: tuple[str, ...] = ()
    details: tuple[str, ...] | None = None  # a title with its details (table row, bold lead)


@dataclass(frozen=True)
class Label:
    """A category label: the known category it maps to and its verbatim text."""

    category: PublishedCategory
    text: str


def month_of(line: str, year: str | None = None) -> str | None:
    """ "March 2022", "Amendments made in March 2022", "1 March 2022", "2022-03" -> "2022-03"."""
    if match := _MONTH_YEAR.match(line):
        return f"{match.group(2)}-{_month_number(match.group(1)):02d}"
    for pattern, year_group in ((_ISO_MONTH, 1), (_NUM_MONTH, 2)):
        if (match := pattern.match(line)) and 1 <= int(match.group(3 - year_group)) <= 12:
            return f"{match.group(year_group)}-{int(match.group(3 - year_group)):02d}"
    if year and (match := _MONTH_ONLY.match(line)):
        return f"{year}-{_month_number(match.group(1)):02d}"
    return None


def month_and_label(line: str) -> tuple[str, Label] | None:
    """ "March 2022 – Updated Chapters", "New Chapters (March 2022)" -> month and label."""
    parts = [p.strip() for p in _PARTS.split(line) if p.strip()]
    if len(parts) != 2:
        return None
    for first, second in (parts, parts[::-1]):
        if (month := month_of(first)) and (label := label_of(second)):
            return month, label
    return None


def without_furniture(line: str) -> str:
    """A heading without a trailing "Back to top" link."""
    return _TRAILING.sub("", line)


def _month_number(name: str) -> int:
    prefix = name.lower()[:3]
    return next(i for i, month in enumerate(_MONTHS, 1) if month.startswith(prefix))


def year_of(line: str) -> str | None:
    """A year heading ("2024", "2017 Amendments") -> "2024"."""
    match = _YEAR_ONLY.match(line)
    return match.group(1) if match else None


def label_of(line: str, *, marked: bool = False) -> Label | None:
    """A category label ("Updated Chapters", "Chapters deleted", "New"): known ones map to
    their category; a marked-up label naming chapters/procedures is kept verbatim."""
    text = line.rstrip(":").strip()
    words = [w.strip("()") for w in re.split(r"[\s/]+", text.lower()) if w]
    if not words or len(words) > 6:
        return None
    status = [_STATUS[w] for w in words if w in _STATUS]
    if status and all(w in _STATUS or w in _NOUNS for w in words):
        return Label(status[0], text)  # type: ignore[arg-type]
    if marked and _PLURAL_NOUN.search(text) and not text.endswith("."):
        return Label("updated", text)
    return None


def is_end(line: str) -> bool:
    return bool(_STOP.match(line))


def is_furniture(line: str) -> bool:
    """A table header ("Chapter Name | Details"), a caption or a page heading: skipped."""
    return bool(_HEADER.match(line) or _SKIP.match(line))


def is_structural(line: str) -> bool:
    return bool(
        month_of(line) or year_of(line) or label_of(line) or is_end(line) or is_furniture(line)
    )


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
    if ". " in text or _BULLET.match(text) or _NUMBERED.match(text):
        return False
    if words[-1].lower() in SMALL_WORDS:
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


def title_alone(line: str) -> bool:
    return plausible_title(line) and _lowercase_words(line.split()) <= 1 and len(line) <= 150


# --- section references -------------------------------------------------------------


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


def _without_document(words: list[str]) -> list[str]:
    """["Definition", "of", "the", "Bullying"] (before "chapter") -> ["Definition"]."""
    cut = max((i for i, w in enumerate(words) if w in ("of", "in")), default=0)
    return words[:cut] if cut else words


def _ref_title(rest: str) -> str:
    quoted = _QUOTED.match(rest)
    if quoted:
        return quoted.group(1).strip()
    words: list[str] = []
    for word in _clause(rest).split():
        bare = word.strip("‘’'\"“”(),")
        if bare[:1].islower() and bare.lower() not in CONNECTIVES:
            if bare.lower() in _DOCUMENT_NOUNS:  # "Section 1, Definition of the Bullying chapter"
                words = _without_document(words)
            break
        if words and bare in ("Section", "Sections", "Appendix"):
            break
        words.append(word)
    while words and words[-1].lower() in CONNECTIVES:
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
