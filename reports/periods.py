"""Reporting periods: months, ISO weeks and explicit ranges, as half-open UTC intervals."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from amendwatch.errors import InputError
from reports.models import Period

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


def parse_when(s: str) -> datetime:
    """An ISO date ("2026-11-01") or date-time; naive values are taken as UTC."""
    text = s.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(
            f"not a date or time: {s!r}",
            hint="use an ISO date such as 2026-11-01 or 2026-11-01T09:30",
        ) from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_month(s: str) -> Period:
    """A month such as "2026-11": [1 Nov 2026, 1 Dec 2026), labelled "November 2026"."""
    found = _MONTH.match(s.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise InputError(f"not a month: {s!r}", hint="use YYYY-MM, for example 2026-11")
    return _month_period(int(found.group(1)), int(found.group(2)))


def parse_week(s: str) -> Period:
    """An ISO week such as "2026-W47", from Monday 00:00 UTC.

    Labelled "Week 47, 2026 (16–22 November)".
    """
    found = _WEEK.match(s.strip())
    if not found:
        raise InputError(f"not an ISO week: {s!r}", hint="use YYYY-Www, for example 2026-W47")
    year, week = int(found.group(1)), int(found.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise InputError(
            f"week {week} does not exist in {year}", hint="use YYYY-Www, for example 2026-W47"
        ) from exc
    return _week_period(monday)


def parse_range(since: str, until: str) -> Period:
    """An explicit range; a plain date as ``until`` includes the whole of that day."""
    start = parse_when(since)
    end = parse_when(until)
    if _is_plain_date(until):
        end += timedelta(days=1)
    if end <= start:
        raise InputError(
            f"empty period: {since} .. {until}",
            hint="--until must be after --since, for example --since 2026-11-01 --until 2026-11-30",
        )
    last = end - timedelta(microseconds=1)
    key = f"{start.date().isoformat()}..{last.date().isoformat()}"
    return Period(start=start, end=end, label=_range_label(start.date(), last.date()), key=key)


def month_of(dt: datetime) -> Period:
    """The calendar month (UTC) that contains ``dt``."""
    moment = _as_utc(dt)
    return _month_period(moment.year, moment.month)


def week_of(dt: datetime) -> Period:
    """The ISO week (UTC) that contains ``dt``."""
    day = _as_utc(dt).date()
    return _week_period(day - timedelta(days=day.weekday()))


def week_key(dt: datetime) -> str:
    """The ISO week key, "2026-W47", of any moment in that week (UTC)."""
    year, week, _ = _as_utc(dt).date().isocalendar()
    return f"{year}-W{week:02d}"


def _as_utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _is_plain_date(s: str) -> bool:
    return re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", s) is not None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _month_period(year: int, month: int) -> Period:
    start = _midnight(date(year, month, 1))
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(
        start=start,
        end=_midnight(following),
        label=start.strftime("%B %Y"),
        key=f"{year:04d}-{month:02d}",
    )


def _week_period(monday: date) -> Period:
    sunday = monday + timedelta(days=6)
    year, week, _ = monday.isocalendar()
    label = f"Week {week}, {year} ({_span(monday, sunday)})"
    return Period(
        start=_midnight(monday),
        end=_midnight(monday + timedelta(days=7)),
        label=label,
        key=f"{year}-W{week:02d}",
    )


def _span(first: date, last: date) -> str:
    """Day span: "16–22 November", "30 November – 6 December" or with years across years."""
    if first.year != last.year:
        return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"
    if first.month != last.month:
        return f"{first.day} {first:%B} – {last.day} {last:%B}"
    return f"{first.day}–{last.day} {last:%B}"


def _range_label(first: date, last: date) -> str:
    if first == last:
        return f"{first.day} {first:%B %Y}"
    if first.year != last.year:
        return _span(first, last)
    return f"{_span(first, last)} {last.year}"
