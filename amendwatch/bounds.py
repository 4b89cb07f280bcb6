"""How times and the honest bounds of a point-in-time answer are written for people."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.readmodels import AsOf


def format_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def bounds_text(as_of: AsOf, removed_at: datetime | None = None) -> str:
    """Honest bounds: the interval over which this content was actually observed, and the
    interval within which the next change happened (between two observations)."""
    if as_of.version is None:
        return as_of.reason or "not yet observed"
    last_seen = as_of.version.last_seen
    text = f"seen unchanged from {format_time(as_of.seen_from)} to {format_time(last_seen)}"
    if as_of.next_change_at is not None:
        verb = "removed" if removed_at == as_of.next_change_at else "changed"
        text += f"; {verb} between {format_time(last_seen)} and {format_time(as_of.next_change_at)}"
    else:
        text += "; no change observed since"
    return text
