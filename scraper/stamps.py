"""Date stamps: "This chapter was last updated: 12 January 2026", "Last reviewed on 3 March
2024", "Amended on 2024-03-03". A stamp is the version's metadata, never chapter text.

A block is a stamp when its whole text is a stamp label followed by a date (and nothing but
an optional time, a trailing full stop, or a second stamp such as "Next review: ..."). A
sentence that merely mentions an update ("We last updated this policy on 5 May 2024 to
reflect new laws") is content and stays.
"""

from __future__ import annotations

import re

from scraper.text import strip_anchor_marks

__all__ = ["STAMP_MAX_CHARS", "has_time_of_day", "is_stamp", "stamp_text"]

STAMP_MAX_CHARS = 160

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|mon|tue|wed|thu|fri|sat|sun)\.?,?\s+"
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"
_TIME = (
    r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?)?"
    r"(?:\s*(?:utc|gmt|bst|cet|cest|est|edt|pst|pdt|[+-]\d{2}:?\d{2}))?)?"
)
_DATE = (
    rf"(?:{_WEEKDAY})?(?:"
    rf"{_ORDINAL}\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"  # 3 March 2024, 3rd of March, 2024
    rf"|{_MONTH}\s+{_ORDINAL},?\s+\d{{4}}"  # March 3, 2024
    rf"|{_MONTH},?\s+\d{{4}}"  # March 2024
    r"|\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"  # 03/03/2024, 3.3.24
    r"|\d{4}/\d{1,2}/\d{1,2}"
    rf"){_TIME}"
)
_DOCUMENT = (
    r"(?:chapter|page|document|policy|section|guidance|procedure|content|article|notice"
    r"|statement|terms|text|manual|information|privacy\s+policy|terms\s+of\s+(?:service|use))"
)
_VERB = r"(?:updated|reviewed|modified|revised|amended|published|edited|changed|issued)"
_LABEL = (
    r"(?:"
    rf"(?:(?:this|the)\s+{_DOCUMENT}\s+(?:was\s+|has\s+been\s+|is\s+|were\s+)?)?"
    rf"(?:(?:last|first|most\s+recently)\s+)?{_VERB}(?:\s+(?:on|at|in|as\s+of))?"
    rf"|(?:{_DOCUMENT}\s+)?(?:date\s+of\s+)?(?:last|latest|most\s+recent)\s+"
    r"(?:update|review|revision|amendment|modification|change)(?:\s+(?:date|on))?"
    r"|(?:effective|review|publication|revision|issue|version|update|updated|amendment)\s+date"
    r"|effective(?:\s+(?:from|as\s+of|on|since))?|in\s+effect\s+(?:from|since|as\s+of)"
    r"|(?:next\s+)?review(?:\s+due)?(?:\s+(?:on|by))?|date|version\s+of|as\s+of|valid\s+from"
    r")"
)
_ONE = rf"(?:page\s+)?{_LABEL}\s*[:\-–—]?\s*{_DATE}"
_STAMP = re.compile(rf"^[\s(\[]*{_ONE}(?:\s*[,;|.·•–—-]?\s*{_ONE})*[\s.)\]]*$", re.I)


_CLOCK = re.compile(r"\d{1,2}[:.]\d{2}(?![./-]\d)|\d[T ]\d{2}:\d{2}")


def has_time_of_day(text: str) -> bool:
    """A stamp with a time ("... at 10:22", "2026-03-01T12:00:00Z") is a render or build
    time, which changes on every request: furniture, not the version's metadata."""
    return _CLOCK.search(text) is not None


def stamp_text(text: str) -> str:
    """A block's text as a stamp: on one line, without a heading's anchor mark."""
    return strip_anchor_marks(" ".join(text.split()))


def is_stamp(text: str) -> bool:
    """True when ``text`` (one block's text, on one line) is only a date stamp."""
    text = stamp_text(text)
    return 0 < len(text) <= STAMP_MAX_CHARS and _STAMP.match(text) is not None
