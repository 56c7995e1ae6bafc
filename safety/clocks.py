"""Expedited-reporting clocks for serious adverse events (ICH E2A), as pure arithmetic.

No database here: the model stores what these functions return, so that the reminder sweep
can find open deadlines through an index, and the tests can pin every edge (month ends,
daylight-saving changes) without a row.

- Every SAE goes to the sponsor within 24 hours of the investigator's awareness. That is
  elapsed time, so it is computed in UTC: across a daylight-saving change the local clock
  reading of the deadline moves by an hour, the interval does not.
- A SUSAR (serious, suspected related, unexpected; a causality that is conditional or
  unassessable counts as suspected until clarified, ICH E2A) goes to the regulator within 7 calendar
  days when fatal or life-threatening (a complete report 8 days later, so by day 15), or
  within 15 calendar days otherwise. Day 0 of this clock is the sponsor's first knowledge
  of the event (ICH E2A), which is the investigator's awareness in an investigator-sponsored
  study and may come later when the sponsor is elsewhere. Calendar days are counted in the
  site's time zone: day 0 is the local date of that awareness, and the report is due by the
  end of the local day (23:59:59.999999) of day 7 or day 15.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

SPONSOR_WINDOW = timedelta(hours=24)
#: Calendar days from awareness (day 0) to the regulator report of a fatal or
#: life-threatening SUSAR, to its complete report (7 + 8), and to any other SUSAR's report.
FATAL_SUSAR_DAYS = 7
FATAL_SUSAR_COMPLETE_DAYS = FATAL_SUSAR_DAYS + 8
OTHER_SUSAR_DAYS = 15

#: The only WHO-UMC causality that takes an event out of "suspected" for SUSAR
#: classification. ICH E2A counts a missing or unassessable causality as related until it is
#: clarified, so "conditional" and "unassessable" (and an empty value) keep the clock running.
RULED_OUT_RELATIONSHIPS = frozenset({"unlikely"})


class DeadlineState(StrEnum):
    PENDING = "pending"  # not reported yet, still time
    OVERDUE = "overdue"  # not reported yet, deadline passed
    MET = "met"  # reported on or before the deadline
    MISSED = "missed"  # reported after the deadline


@dataclass(frozen=True)
class Clocks:
    """The deadlines of one adverse event, as aware UTC datetimes (None: does not apply)."""

    is_susar: bool
    sponsor_report_due: datetime | None
    regulator_report_due: datetime | None
    regulator_complete_report_due: datetime | None


@dataclass(frozen=True)
class Deadline:
    """One expedited-report deadline of an adverse event, for pages and API answers."""

    kind: str
    label: str
    due: datetime
    reported_at: datetime | None
    state: DeadlineState

    @property
    def is_late(self) -> bool:
        return self.state in (DeadlineState.OVERDUE, DeadlineState.MISSED)


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Awareness must be an aware datetime.")


def is_susar(*, serious: bool, relationship: str, unexpected: bool) -> bool:
    """Serious, unexpected, and a relationship not judged unlikely (ICH E2A: a causality
    that cannot be assessed yet counts as suspected for expedited reporting)."""
    return serious and relationship not in RULED_OUT_RELATIONSHIPS and unexpected


def sponsor_report_due(awareness_at: datetime) -> datetime:
    """24 elapsed hours after awareness (UTC arithmetic: a local day can last 23 or 25 h)."""
    _require_aware(awareness_at)
    return awareness_at.astimezone(UTC) + SPONSOR_WINDOW


def local_day_zero(awareness_at: datetime, tz: str | tzinfo) -> date:
    _require_aware(awareness_at)
    return awareness_at.astimezone(_zone(tz)).date()


def end_of_local_day(day: date, tz: str | tzinfo) -> datetime:
    """The last instant of `day` in `tz`, in UTC.

    `fold=1` picks the later reading when 23:59:59 occurs twice (a zone that falls back at
    midnight, e.g. America/Santiago), so the day is never cut an hour short.
    """
    local = datetime.combine(day, time.max, tzinfo=_zone(tz)).replace(fold=1)
    return local.astimezone(UTC)


def calendar_days_due(awareness_at: datetime, tz: str | tzinfo, days: int) -> datetime:
    """End of the local day `days` calendar days after the local date of awareness."""
    return end_of_local_day(local_day_zero(awareness_at, tz) + timedelta(days=days), tz)


def compute_clocks(
    *,
    awareness_at: datetime,
    tz: str | tzinfo,
    serious: bool,
    relationship: str,
    unexpected: bool,
    fatal_or_life_threatening: bool,
    sponsor_awareness_at: datetime | None = None,
) -> Clocks:
    """Every deadline that applies to an adverse event with these properties.

    `awareness_at` is the investigator's awareness (the sponsor's 24-hour clock);
    `sponsor_awareness_at` starts the regulator clocks, and is the investigator's awareness
    when not given.
    """
    _require_aware(awareness_at)
    if not serious:
        return Clocks(False, None, None, None)
    susar = is_susar(serious=serious, relationship=relationship, unexpected=unexpected)
    sponsor = sponsor_report_due(awareness_at)
    if not susar:
        return Clocks(False, sponsor, None, None)
    day_zero = sponsor_awareness_at or awareness_at
    if fatal_or_life_threatening:
        return Clocks(
            True,
            sponsor,
            calendar_days_due(day_zero, tz, FATAL_SUSAR_DAYS),
            calendar_days_due(day_zero, tz, FATAL_SUSAR_COMPLETE_DAYS),
        )
    return Clocks(True, sponsor, calendar_days_due(day_zero, tz, OTHER_SUSAR_DAYS), None)


def deadline_state(*, due: datetime, reported_at: datetime | None, now: datetime) -> DeadlineState:
    """Met or missed once the report date is recorded; pending or overdue until then."""
    if reported_at is not None:
        return DeadlineState.MET if reported_at <= due else DeadlineState.MISSED
    return DeadlineState.PENDING if now <= due else DeadlineState.OVERDUE
