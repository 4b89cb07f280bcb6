from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amendwatch.errors import InputError
from reports.periods import (
    month_of,
    parse_month,
    parse_range,
    parse_week,
    parse_when,
    week_key,
    week_of,
)


def test_month_is_half_open_and_labelled() -> None:
    period = parse_month("2026-11")
    assert period.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert period.end == datetime(2026, 12, 1, tzinfo=UTC)
    assert period.label == "November 2026"
    assert period.key == "2026-11"
    assert period.contains(datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    assert not period.contains(period.end)


def test_december_rolls_over_to_next_year() -> None:
    period = parse_month("2026-12")
    assert period.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_iso_week_starts_monday_midnight_utc() -> None:
    period = parse_week("2026-W47")
    assert period.start == datetime(2026, 11, 16, tzinfo=UTC)
    assert period.start.weekday() == 0
    assert period.end - period.start == timedelta(days=7)
    assert period.label == "Week 47, 2026 (16–22 November)"
    assert period.key == "2026-W47"


def test_week_across_months_and_years_names_both() -> None:
    assert parse_week("2026-W49").label == "Week 49, 2026 (30 November – 6 December)"
    first = parse_week("2026-W01")
    assert first.start == datetime(2025, 12, 29, tzinfo=UTC)
    assert "29 December 2025 – 4 January 2026" in first.label


def test_range_until_a_date_includes_that_day() -> None:
    period = parse_range("2026-11-01", "2026-11-30")
    assert period.end == datetime(2026, 12, 1, tzinfo=UTC)
    assert period.key == "2026-11-01..2026-11-30"
    assert period.label == "1–30 November 2026"


def test_range_with_times_is_exact() -> None:
    period = parse_range("2026-11-01T10:00", "2026-11-01T12:00+01:00")
    assert period.start == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 1, 11, tzinfo=UTC)


def test_parse_when_naive_is_utc_and_aware_is_converted() -> None:
    assert parse_when("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_when("2026-11-01T09:30Z") == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    assert parse_when("2026-11-01T09:30+02:00").hour == 7


@pytest.mark.parametrize(
    ("parse", "text", "example"),
    [
        (parse_month, "2026-13", "2026-11"),
        (parse_month, "November", "2026-11"),
        (parse_week, "2026-W54", "2026-W47"),
        (parse_week, "2026-47", "2026-W47"),
        (parse_when, "yesterday", "2026-11-01"),
    ],
)
def test_bad_input_says_the_right_form(parse: object, text: str, example: str) -> None:
    with pytest.raises(InputError) as info:
        parse(text)  # type: ignore[operator]
    assert example in str(info.value)


def test_empty_range_is_refused() -> None:
    with pytest.raises(InputError, match="--since"):
        parse_range("2026-11-30", "2026-11-01")


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)))
def test_every_moment_lies_in_its_week_and_month(moment: datetime) -> None:
    aware = moment.replace(tzinfo=UTC)
    week = week_of(aware)
    month = month_of(aware)
    assert week.contains(aware)
    assert month.contains(aware)
    assert parse_week(week.key) == week
    assert parse_month(month.key) == month
    assert week_key(aware) == week.key
