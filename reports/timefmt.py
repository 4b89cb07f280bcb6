"""Times as a reader sees them, in the configured time zone: "Mon 9 Nov 2026, 14:05 GMT"."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

__all__ = ["day", "iso", "week_label", "week_monday", "when"]


def _local(moment: datetime, tz: tzinfo) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(tz)


def when(moment: datetime, tz: tzinfo = UTC) -> str:
    """ "Mon 9 Nov 2026, 14:05 GMT": weekday, date, time and the zone's abbreviation."""
    local = _local(moment, tz)
    zone = local.tzname() or ""
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {zone}".rstrip()


def day(moment: datetime, tz: tzinfo = UTC) -> str:
    """ "9 Nov": the day (in ``tz``) something was detected."""
    local = _local(moment, tz)
    return f"{local.day} {local:%b}"


def iso(moment: datetime) -> str:
    """The exact instant for machines (a ``<time datetime>`` attribute), in UTC."""
    return _local(moment, UTC).isoformat()


def week_monday(week: str) -> datetime:
    """The Monday (00:00 UTC) of an ISO week key such as "2026-W46"."""
    return datetime.strptime(f"{week}-1", "%G-W%V-%u").replace(tzinfo=UTC)


def week_label(week: str, *, year: bool = False) -> str:
    """ "9 Nov" (or "9 Nov 2026"): an ISO week named by its Monday, as a reader knows weeks."""
    monday = week_monday(week)
    return f"{monday.day} {monday:%b %Y}" if year else f"{monday.day} {monday:%b}"
