"""The truth of the quality benchmark, derived from the corpus Markdown alone.

A version is split at its headings (ATX ``#`` and setext ``===`` / ``---``, at any depth; not
at one with no letter or digit) into sections; the text before the first heading is the
"Introduction". A section's own text is its visible text up to the next heading of any level
(subsections excluded) plus the targets of its links (in-page ``#anchors`` left out: they are
navigation). Two versions are compared section by section: sections are paired by normalised
heading text (number prefixes, case and punctuation ignored), duplicates in order. A paired
section changed when its own text differs after whitespace, punctuation and case are removed,
or when its links (text, target) differ; an unpaired section was added or removed (a renamed
heading is therefore a removal plus an addition).

Two kinds of change are optional for recall. A *re-split* only moves text that the other
version still (or already) holds, in blocks of 40 letters and digits or more (a heading
demoted to a bold line, a section split out of another): only the sectioning changed. A
*stamp* change only changes date-stamp lines ("Last updated: 3 March 2024", "Effective January
1, 2025"), which the product keeps as metadata; a stamp heading pairs with the next version's
stamp heading whatever its date.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal

import lxml.html
from markdown_it import MarkdownIt
from markdown_it.token import Token

INTRO = "Introduction"
_INTRO_KEY = "\x00intro"  # the synthetic introduction never pairs with a heading of that name
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|td|th|tr|div|blockquote|pre|dd|dt)>|<br\s*/?>|<hr\s*/?>")
_ROMAN = r"[ivxlcdm]{1,6}\."
_NUMBER = rf"(?:\d+[a-z]?(?:\.(?:\d+[a-z]?|[a-z]))*\.?|{_ROMAN}|[a-z][.)]|\([a-z0-9]{{1,4}}\))"
_PREFIX_RE = re.compile(
    rf"^\s*(?:(?:section|article|part|chapter|clause|appendix|schedule)\s+)?{_NUMBER}"
    r"(?:(?<=[.)])|(?=[\s:\-–—]|$))\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"\w+")
MOVED = 40  # characters (letters and digits) from which a block found elsewhere counts as moved
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_STAMP_RE = re.compile(
    r"^\W*(?:this\s+\w+\s+(?:was|is)\s+)?(?:date\s+)?(?:last\s+)?"
    r"(?:updated|modified|reviewed|revised|amended|effective|published|posted)\b"
    rf"[^\n]{{0,40}}?(?:\d|\b(?:{_MONTHS}))",
    re.IGNORECASE,
)
_STAMP_KEY = "\x00stamp"

ChangeKind = Literal["added", "removed", "modified"]


def markdown_parser() -> MarkdownIt:
    """CommonMark with raw HTML, tables and strikethrough (what the corpus uses)."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


_MD = markdown_parser()


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def text_key(text: str) -> str:
    """What is left of a text when whitespace, punctuation and case are removed."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


def words(text: str) -> list[str]:
    """The word tokens of a text (case-folded), for containment tests."""
    return _WORD_RE.findall(fold(text))


def strip_number(title: str) -> str:
    """A heading without its number prefixes ("3.2 Foo", "Section 4: Foo", "(a) Foo", "IV. Foo",
    "3.b.i.Foo"; "9. U.S. Foo" and "U.S. Foo" both become "Foo"), never down to nothing."""
    for _ in range(6):
        stripped = _PREFIX_RE.sub("", title, count=1)
        if stripped == title or not text_key(stripped):
            break
        title = stripped
    return title


def is_stamp(line: str) -> bool:
    """A short "Last updated: 3 March 2024" / "Effective January 1, 2025" line."""
    return len(words(line)) <= 12 and _STAMP_RE.match(line.strip()) is not None


def unstamped(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not is_stamp(line))


def norm_title(title: str) -> str:
    """The title key used everywhere: number prefix stripped, case and punctuation ignored."""
    return text_key(strip_number(title))


@dataclass(frozen=True)
class TruthSection:
    title: str  # "Introduction" for the text before the first heading
    level: int  # Markdown heading level (1..6); 0 for the introduction
    text: str  # visible own text (subsections excluded)
    links: tuple[tuple[str, str], ...] = ()  # (text, href)

    @property
    def intro(self) -> bool:
        return self.level == 0

    @property
    def key(self) -> str:
        """The pairing key: a stamp heading ("Last updated: <date>") pairs with the next one."""
        if self.intro:
            return _INTRO_KEY
        return _STAMP_KEY if is_stamp(self.title) else norm_title(self.title)

    @property
    def content_key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return text_key(self.text), tuple(sorted((text_key(t), u) for t, u in self.links))


@dataclass(frozen=True)
class TruthChange:
    kind: ChangeKind
    old: TruthSection | None
    new: TruthSection | None
    optional: str = ""  # why recall does not require it: "re-split" or "stamp" ("" required)

    @property
    def title(self) -> str:
        section = self.new or self.old
        assert section is not None
        return section.title

    @property
    def title_keys(self) -> frozenset[str]:
        return frozenset(norm_title(s.title) for s in (self.old, self.new) if s is not None)

    def edits(self) -> tuple[Counter[str], Counter[str]]:
        """The words this change inserted and deleted (titles included), as multisets."""
        old = f"{self.old.title} {self.old.text}" if self.old else ""
        new = f"{self.new.title} {self.new.text}" if self.new else ""
        return word_edits(old, new)


@lru_cache(maxsize=4096)
def word_edits(old: str, new: str) -> tuple[Counter[str], Counter[str]]:
    """(inserted, deleted) words of a word-level diff of two texts."""
    a, b = words(old), words(new)
    inserted: Counter[str] = Counter()
    deleted: Counter[str] = Counter()
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            deleted.update(a[i1:i2])
            inserted.update(b[j1:j2])
    return inserted, deleted


def _html_text(html: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Visible text (blocks separated by newlines) and links of an HTML fragment."""
    if not html.strip():
        return "", ()
    root = lxml.html.fragment_fromstring(_BLOCK_END.sub("\n", html), create_parent="div")
    links = tuple(
        (" ".join(a.text_content().split()), href)
        for a in root.iter("a")
        if not (href := a.get("href", "").strip()).startswith("#")  # in-page anchors: navigation
    )
    return root.text_content().strip(), links


def _section(title: str, level: int, body: Sequence[Token]) -> TruthSection:
    html = str(_MD.renderer.render(list(body), _MD.options, {}))
    text, links = _html_text(html)
    return TruthSection(title, level, text, links)


def _heading_title(inline: Token) -> str:
    html = str(_MD.renderer.render(inline.children or [], _MD.options, {}))
    text, _ = _html_text(html)
    return " ".join(text.split())


@lru_cache(maxsize=512)
def split_sections(markdown: str) -> tuple[TruthSection, ...]:
    """The sections of one version: the introduction (possibly empty) then one per heading."""
    tokens = _MD.parse(markdown)
    sections: list[TruthSection] = []
    title, level, body = INTRO, 0, list[Token]()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open" and text_key(_heading_title(tokens[index + 1])):
            sections.append(_section(title, level, body))
            title, level, body = _heading_title(tokens[index + 1]), int(token.tag[1]), []
            index += 3  # heading_open, inline, heading_close
            continue
        body.append(token)
        index += 1
    sections.append(_section(title, level, body))
    return tuple(sections)


def headings(markdown: str) -> list[str]:
    """The heading titles of a version (the introduction is not a heading)."""
    return [s.title for s in split_sections(markdown) if not s.intro]


def _pair(
    old: Sequence[TruthSection], new: Sequence[TruthSection]
) -> tuple[list[tuple[TruthSection, TruthSection]], list[TruthSection], list[TruthSection]]:
    """(paired, removed, added): sections paired by key, the n-th occurrence with the n-th."""
    by_key: dict[str, list[TruthSection]] = {}
    for section in new:
        by_key.setdefault(section.key, []).append(section)
    pairs: list[tuple[TruthSection, TruthSection]] = []
    removed: list[TruthSection] = []
    used: set[int] = set()
    for section in old:
        candidates = by_key.get(section.key)
        if candidates:
            match = candidates.pop(0)
            used.add(id(match))
            pairs.append((section, match))
        else:
            removed.append(section)
    added = [s for s in new if id(s) not in used]
    return pairs, removed, added


def _empty(section: TruthSection) -> bool:
    return not text_key(section.text) and not section.links


def _modified(old: TruthSection, new: TruthSection) -> TruthChange:
    """A changed pair; the introduction appearing from nothing (or going) is added (removed)."""
    if old.intro and _empty(old):
        return TruthChange("added", None, new)
    if new.intro and _empty(new):
        return TruthChange("removed", old, None)
    return TruthChange("modified", old, new)


def _own_key(section: TruthSection) -> str:
    """A section's heading (number stripped) and text, to look for in the other version."""
    return ("" if section.intro else norm_title(section.title)) + text_key(section.text)


@lru_cache(maxsize=512)
def _document(markdown: str) -> tuple[str, Counter[tuple[str, str]]]:
    """The whole text (headings with their numbers) as one key, and the links of a version."""
    sections = split_sections(markdown)
    links = Counter((text_key(t), u) for s in sections for t, u in s.links)
    text = "".join(("" if s.intro else text_key(s.title)) + text_key(s.text) for s in sections)
    return text, links


def _kept(key: str, document: str) -> bool:
    return len(key) >= MOVED and key in document


def _chunks(old: str, new: str) -> list[tuple[str, str]]:
    """(deleted, inserted) keys of each differing run of a word diff."""
    a, b = words(old), words(new)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return [
        ("".join(a[i1:i2]), "".join(b[j1:j2]))
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
        if op != "equal"
    ]


def _stamp_only(change: TruthChange) -> bool:
    """Only date-stamp lines differ (the product keeps a stamp as metadata, not as text); a
    stamp that is a link ("Effective November 3, 2025" to the change notes) is a stamp too."""
    old, new = change.old, change.new
    if old is None or new is None:
        return False
    links = [Counter((text_key(t), u) for t, u in s.links if not is_stamp(t)) for s in (old, new)]
    return links[0] == links[1] and text_key(unstamped(old.text)) == text_key(unstamped(new.text))


def _optional(change: TruthChange, old_md: str, new_md: str) -> str:
    if _stamp_only(change):
        return "stamp"
    return "re-split" if _resplit(change, old_md, new_md) else ""


def _resplit(change: TruthChange, old_md: str, new_md: str) -> bool:
    """True when the change only moves text that the other version still (already) holds:
    a heading demoted to a bold line, a section split out of or merged into another."""
    (old_doc, old_links), (new_doc, new_links) = _document(old_md), _document(new_md)
    if change.old is None or change.new is None:
        section = change.new or change.old
        assert section is not None
        return _kept(_own_key(section), old_doc if change.old is None else new_doc)
    before = Counter((text_key(t), u) for t, u in change.old.links)
    after = Counter((text_key(t), u) for t, u in change.new.links)
    if (after - before) - old_links or (before - after) - new_links:
        return False
    chunks = _chunks(change.old.text, change.new.text)
    return bool(chunks) and all(
        (not gone or _kept(gone, new_doc)) and (not came or _kept(came, old_doc))
        for gone, came in chunks
    )


@lru_cache(maxsize=1024)
def truth_changes(old_md: str, new_md: str) -> tuple[TruthChange, ...]:
    """The sections whose own text changed between two versions (added and removed included),
    each marked ``optional`` when it only changed a date stamp or moved text the other version
    holds."""
    pairs, removed, added = _pair(split_sections(old_md), split_sections(new_md))
    changes: list[TruthChange] = [TruthChange("removed", s, None) for s in removed]
    changes += [_modified(a, b) for a, b in pairs if a.content_key != b.content_key]
    changes += [TruthChange("added", None, s) for s in added]
    return tuple(replace(c, optional=_optional(c, old_md, new_md)) for c in changes)


def heading_counts(titles: Sequence[str]) -> Counter[str]:
    """A multiset of normalised heading titles (empty ones left out)."""
    return Counter(key for key in (norm_title(t) for t in titles) if key)
