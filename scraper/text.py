"""Text helpers: decoding bodies and normalising text for comparison."""

from __future__ import annotations

import codecs
import re
import unicodedata

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")

#: Articles, conjunctions and prepositions a title may have in lower case ("Working with
#: Schools"); the Amendments parser reads a section reference's title to the last capital.
CONNECTIVES = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "within",
        "without",
        "under",
    ]
)

#: Words that stay lower case inside a title ("Children who Abuse Others").
SMALL_WORDS = CONNECTIVES | frozenset(
    [
        "over",
        "across",
        "against",
        "about",
        "between",
        "among",
        "via",
        "per",
        "nor",
        "but",
        "than",
        "who",
        "whose",
        "which",
        "that",
        "their",
        "his",
        "her",
        "its",
        "this",
        "is",
        "are",
        "be",
        "been",
        "being",
        "have",
        "has",
        "may",
        "can",
        "not",
    ]
)


_ANCHOR_MARKS = re.compile(r"(?:\s*[¶§#🔗⚓])+\s*$")


def strip_anchor_marks(s: str) -> str:
    """A heading's own anchor mark ("Be Trustworthy ¶", "Scope #") removed: navigation, not
    its title or its stamp."""
    return _ANCHOR_MARKS.sub("", s)


def normalise_text(s: str) -> str:
    """Comparison form: NBSP -> space, soft hyphens and zero-width characters removed,
    runs of spaces collapsed within each line, blank lines dropped, lines joined by "\\n"."""
    cleaned = unicodedata.normalize("NFC", s).translate(_INVISIBLE)
    lines = (_SPACES.sub(" ", line).strip() for line in cleaned.split("\n"))
    return "\n".join(line for line in lines if line)


def normalise_line(s: str) -> str:
    """Like :func:`normalise_text` but the result is a single line: every run of white space
    (``str.isspace``, as ``\\s`` matches it) one space, none at either end."""
    if not s.isascii():  # ASCII is NFC already, and has none of the invisible characters
        s = unicodedata.normalize("NFC", s).translate(_INVISIBLE)
    return " ".join(s.split())


def has_text(s: str, minimum: int) -> bool:
    """Whether ``normalise_line(s)`` has at least ``minimum`` characters, normalising only as
    much of ``s`` as that takes (a prefix never normalises to more than the whole)."""
    size = max(1024, 16 * minimum)
    while size < len(s):
        if len(normalise_line(s[:size])) >= minimum:
            return True
        size *= 8
    return len(normalise_line(s)) >= minimum


def title_case(s: str) -> str:
    """ "SCOPE OF THIS CHAPTER" -> "Scope of this Chapter"; other text is returned as written."""
    if not s or s.upper() != s or not any(ch.isalpha() for ch in s):
        return s
    words = s.split(" ")
    out = []
    for index, word in enumerate(words):
        lowered = word.lower()
        if index > 0 and lowered in SMALL_WORDS:
            out.append(lowered)
        else:
            out.append(lowered[:1].upper() + lowered[1:])
    return " ".join(out)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_WHATWG_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252",
                   "us-ascii": "cp1252", "ascii": "cp1252"}  # fmt: skip


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    label = _WHATWG_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*([^;\s]+)", content_type, re.I)
    return _codec(match.group(1)) if match else None


def meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:8192])
    return _codec(match.group(1).decode("ascii")) if match else None


_SINGLE_BYTE = frozenset(
    {"iso-8859-1", "latin-1", "latin1", "cp1252", "windows-1252", "us-ascii", "ascii"}
)


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 one at a time as cp1252 (a stray byte in a UTF-8 page)."""
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error("amendwatch-cp1252", _cp1252_fallback)


def decode_bytes(body: bytes, content_type: str | None) -> str:
    """Decode: BOM, then the header charset, then <meta charset>, then utf-8, then cp1252.

    A declared charset the bytes do not fit is skipped. Bytes that are valid UTF-8 with
    non-ASCII characters are UTF-8 even when a single-byte charset is declared (a multi-byte
    UTF-8 sequence is practically never genuine Latin-1 text), and a page that is UTF-8 but
    for a few stray bytes keeps its UTF-8 and decodes only those bytes as cp1252."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if body.startswith(bom):
            return body.decode(name, errors="replace")
    declared = [c for c in (header_charset(content_type), meta_charset(body)) if c]
    utf8_or_latin = _SINGLE_BYTE | {"utf-8", "utf8"}
    if not body.isascii() and (not declared or declared[0].lower() in utf8_or_latin):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            if _mostly_utf8(body):
                return body.decode("utf-8", errors="amendwatch-cp1252")
    # as browsers do (WHATWG Encoding): the Latin-1 labels mean windows-1252
    labels = ["cp1252" if c.lower() in _SINGLE_BYTE else c for c in declared]
    for candidate in [*labels, "utf-8", "cp1252"]:
        try:
            return body.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("cp1252", errors="replace")


def _mostly_utf8(body: bytes) -> bool:
    """Whether most non-ASCII bytes form valid UTF-8 sequences (a few stray bytes aside)."""
    text = body.decode("utf-8", errors="replace")
    multibyte = sum(1 for char in text if ord(char) > 0x7F and char != "\ufffd")
    stray = text.count("\ufffd")
    return multibyte > 0 and stray <= max(2, multibyte // 10)
