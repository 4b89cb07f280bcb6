"""An Atom 1.0 feed per manual of its detected changes (the latest first, at most 100).

Entry ids are stable (``tag:amendwatch,<detected date>:<manual>/change/<change id>``), so a
feed reader shows each change once however often the feed is rewritten. Page content is
escaped by the template (autoescape) and stripped of characters XML 1.0 forbids, so hostile
content stays inert text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from reports.digest import safe_href
from reports.models import DetectedChange
from reports.render import change_text

FEED_LIMIT = 100
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(value: object) -> str:
    """``value`` as text that XML 1.0 can carry (the template escapes it)."""
    return _NOT_XML.sub("\ufffd", str(value))


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    updated: str
    link: str | None  # only http(s) URLs; anything else is left out
    kind: str
    content: str


@dataclass(frozen=True)
class Feed:
    id: str
    manual: str
    title: str
    updated: str
    self_url: str
    entries: tuple[FeedEntry, ...]
    chain_head: str = ""  # "COUNT:HASH" of the observation chain when the feed was made


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_id(change: DetectedChange) -> str:
    day = change.detected_at.astimezone(UTC).date().isoformat()
    return f"tag:amendwatch,{day}:{quote(change.manual, safe='')}/change/{change.change_id}"


def feed_id(manual: str) -> str:
    return f"tag:amendwatch,2026:{quote(manual, safe='')}/changes"


def _entry(change: DetectedChange) -> FeedEntry:
    return FeedEntry(
        id=entry_id(change),
        title=f"{change.chapter_title} — {change.kind_label}",
        updated=_stamp(change.detected_at),
        link=safe_href(change.chapter_url),
        kind=change.kind_label,
        content=change_text(change),
    )


def latest_changes(
    changes: Sequence[DetectedChange], limit: int = FEED_LIMIT
) -> tuple[DetectedChange, ...]:
    """The ``limit`` most recently detected changes, newest first."""
    ordered = sorted(changes, key=lambda c: (c.detected_at, c.change_id), reverse=True)
    return tuple(ordered[:limit])


def build_feed(
    manual: str,
    changes: Sequence[DetectedChange],
    *,
    generated_at: datetime,
    self_url: str = "",
    chain_head: str = "",
) -> Feed:
    """The feed of ``manual``: its latest changes; ``updated`` is the newest detection (or
    ``generated_at`` when there is none, so an empty feed is still valid)."""
    latest = latest_changes([c for c in changes if c.manual == manual and not c.diff.is_empty])
    updated = latest[0].detected_at if latest else generated_at
    return Feed(
        id=feed_id(manual),
        manual=manual,
        title=f"amendwatch: {manual}",
        updated=_stamp(updated),
        self_url=self_url,
        entries=tuple(_entry(change) for change in latest),
        chain_head=chain_head,
    )


_ENV = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
_ENV.filters["xml"] = xml_text


def render_feed(feed: Feed) -> str:
    """The feed as Atom 1.0 XML."""
    return _ENV.get_template("atom.xml.j2").render(feed=feed)
