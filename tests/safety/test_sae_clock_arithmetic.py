"""The expedited-report clocks as pure arithmetic: 24 elapsed hours for the sponsor,
calendar days in the site's time zone for the regulator, through month ends and DST."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from safety import clocks
from safety.clocks import DeadlineState

PARIS = ZoneInfo("Europe/Paris")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args, tz=PARIS):
    return datetime(*args, tzinfo=tz)


def end_of(day: date, tz) -> datetime:
    return datetime.combine(day, datetime.max.time(), tzinfo=tz)


def test_the_sponsor_deadline_is_24_hours_after_awareness():
    aware = local(2025, 5, 14, 9, 30)
    assert clocks.sponsor_report_due(aware) == local(2025, 5, 15, 9, 30)


def test_the_sponsor_deadline_crosses_a_month_end():
    aware = local(2025, 1, 31, 23, 30, tz=SHANGHAI)
    assert clocks.sponsor_report_due(aware) == local(2025, 2, 1, 23, 30, tz=SHANGHAI)


def test_the_sponsor_deadline_is_24_elapsed_hours_when_clocks_spring_forward():
    # Paris went from 02:00 CET to 03:00 CEST on 30 March 2025: that local day had 23 hours.
    aware = local(2025, 3, 29, 12, 0)
    due = clocks.sponsor_report_due(aware)
    assert due - aware == timedelta(hours=24)
    assert due.astimezone(PARIS).replace(tzinfo=None) == datetime(2025, 3, 30, 13, 0)


def test_the_sponsor_deadline_is_24_elapsed_hours_when_clocks_fall_back():
    # Paris went from 03:00 CEST back to 02:00 CET on 26 October 2025: a 25-hour day.
    aware = local(2025, 10, 25, 12, 0)
    due = clocks.sponsor_report_due(aware)
    assert due - aware == timedelta(hours=24)
    assert due.astimezone(PARIS).replace(tzinfo=None) == datetime(2025, 10, 26, 11, 0)


def test_a_naive_awareness_is_refused():
    with pytest.raises(ValueError):
        clocks.sponsor_report_due(datetime(2025, 1, 1, 12, 0))


def test_calendar_days_end_at_the_end_of_the_local_day():
    due = clocks.calendar_days_due(local(2025, 5, 14, 9, 30), PARIS, 7)
    assert due == end_of(date(2025, 5, 21), PARIS)
    assert due == datetime(2025, 5, 21, 21, 59, 59, 999999, tzinfo=UTC)


def test_day_zero_is_the_local_date_of_awareness_not_the_utc_date():
    # 01:30 in Shanghai on 1 June is still 31 May in UTC.
    aware = local(2025, 6, 1, 1, 30, tz=SHANGHAI)
    assert aware.astimezone(UTC).date() == date(2025, 5, 31)
    due = clocks.calendar_days_due(aware, "Asia/Shanghai", 7)
    assert due == end_of(date(2025, 6, 8), SHANGHAI)


def test_a_late_evening_awareness_west_of_utc_counts_from_that_local_day():
    # 22:00 in New York on 31 May is already 1 June in UTC.
    new_york = ZoneInfo("America/New_York")
    aware = local(2025, 5, 31, 22, 0, tz=new_york)
    assert aware.astimezone(UTC).date() == date(2025, 6, 1)
    due = clocks.calendar_days_due(aware, new_york, 15)
    assert due == end_of(date(2025, 6, 15), new_york)


def test_fifteen_days_cross_a_month_end():
    due = clocks.calendar_days_due(local(2025, 1, 20, 16, 0), PARIS, 15)
    assert due == end_of(date(2025, 2, 4), PARIS)


def test_seven_days_reach_a_leap_day():
    due = clocks.calendar_days_due(local(2024, 2, 22, 8, 0), PARIS, 7)
    assert due == end_of(date(2024, 2, 29), PARIS)


def test_seven_calendar_days_across_a_dst_change_end_at_local_midnight_not_utc():
    # Aware in winter time (UTC+1), due in summer time (UTC+2): 7 days + 1 h shorter.
    aware = local(2025, 3, 27, 10, 0)
    due = clocks.calendar_days_due(aware, PARIS, 7)
    assert due == datetime(2025, 4, 3, 21, 59, 59, 999999, tzinfo=UTC)
    assert due.astimezone(PARIS).utcoffset() == timedelta(hours=2)


def test_the_end_of_a_day_whose_last_hour_repeats_is_the_later_reading():
    # Santiago fell back from 00:00 to 23:00 on the night of 6 to 7 April 2024.
    due = clocks.end_of_local_day(date(2024, 4, 6), "America/Santiago")
    assert due == datetime(2024, 4, 7, 3, 59, 59, 999999, tzinfo=UTC)


def test_a_non_serious_event_has_no_clock():
    result = clocks.compute_clocks(
        awareness_at=local(2025, 5, 14, 9, 30),
        tz=PARIS,
        serious=False,
        relationship="certain",
        unexpected=True,
        fatal_or_life_threatening=False,
    )
    assert result == clocks.Clocks(False, None, None, None)


def test_a_serious_expected_event_has_only_the_sponsor_clock():
    aware = local(2025, 5, 14, 9, 30)
    result = clocks.compute_clocks(
        awareness_at=aware,
        tz=PARIS,
        serious=True,
        relationship="probable",
        unexpected=False,
        fatal_or_life_threatening=True,
    )
    assert result == clocks.Clocks(False, aware + timedelta(hours=24), None, None)


def test_a_susar_that_is_neither_fatal_nor_life_threatening_is_due_in_15_days():
    aware = local(2025, 5, 14, 9, 30)
    result = clocks.compute_clocks(
        awareness_at=aware,
        tz=PARIS,
        serious=True,
        relationship="possible",
        unexpected=True,
        fatal_or_life_threatening=False,
    )
    assert result.is_susar
    assert result.sponsor_report_due == aware + timedelta(hours=24)
    assert result.regulator_report_due == end_of(date(2025, 5, 29), PARIS)
    assert result.regulator_complete_report_due is None


def test_a_fatal_or_life_threatening_susar_is_due_in_7_days_and_complete_8_days_later():
    aware = local(2025, 5, 14, 9, 30)
    result = clocks.compute_clocks(
        awareness_at=aware,
        tz=PARIS,
        serious=True,
        relationship="certain",
        unexpected=True,
        fatal_or_life_threatening=True,
    )
    assert result.regulator_report_due == end_of(date(2025, 5, 21), PARIS)
    assert result.regulator_complete_report_due == end_of(date(2025, 5, 29), PARIS)


@pytest.mark.parametrize(
    ("relationship", "expected"),
    [
        ("certain", True),
        ("probable", True),
        ("possible", True),
        ("unlikely", False),
        # ICH E2A: a causality not (yet) assessable counts as related until clarified.
        ("conditional", True),
        ("unassessable", True),
        ("", True),
    ],
)
def test_a_serious_unexpected_event_is_a_susar_unless_the_relationship_is_ruled_unlikely(
    relationship, expected
):
    assert clocks.is_susar(serious=True, relationship=relationship, unexpected=True) is expected


@pytest.mark.parametrize(("serious", "unexpected"), [(False, True), (True, False), (False, False)])
def test_a_certain_relationship_alone_does_not_make_a_susar(serious, unexpected):
    assert not clocks.is_susar(serious=serious, relationship="certain", unexpected=unexpected)


def test_a_report_on_the_deadline_meets_it_and_one_after_misses_it():
    due = datetime(2025, 5, 15, 7, 30, tzinfo=UTC)
    later = due + timedelta(days=3)
    assert clocks.deadline_state(due=due, reported_at=due, now=later) == DeadlineState.MET
    missed = clocks.deadline_state(due=due, reported_at=due + timedelta(seconds=1), now=later)
    assert missed == DeadlineState.MISSED


def test_an_unreported_deadline_is_pending_then_overdue():
    due = datetime(2025, 5, 15, 7, 30, tzinfo=UTC)
    before, after = due - timedelta(minutes=1), due + timedelta(minutes=1)
    assert clocks.deadline_state(due=due, reported_at=None, now=before) == DeadlineState.PENDING
    assert clocks.deadline_state(due=due, reported_at=None, now=after) == DeadlineState.OVERDUE
