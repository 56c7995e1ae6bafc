"""A participant's visit and dose calendar, computed from the protocol and the baseline date.

Pure and deterministic, so the same protocol and baseline always give the same calendar:
enrolment stores it as `ScheduledVisit` and `PlannedDose` rows, an amendment recomputes it to
regenerate the future rows, and the tests can check it without a database.

Study days follow CDISC: day 1 is baseline (the first dose) and there is no day 0, so day
n >= 1 falls n - 1 days after baseline and day -n falls n days before it. Week w covers study
days 7(w-1)+1 .. 7w. A visit window (minus, plus) counts calendar days around the target
date, so (-3, 3) is a week-long window centred on it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from trials.dosing import phase_study_days
from trials.protocol_file import PhaseSpec, VisitSpec


@dataclass(frozen=True)
class VisitSlot:
    """One visit of the schedule: its target date and the first and last acceptable dates."""

    code: str
    name: str
    study_day: int
    target_date: date
    window_start: date
    window_end: date


@dataclass(frozen=True)
class DoseSlot:
    """One planned administration: when, in which phase, how much and how.

    For a dose by body size (`per` = `kg` or `m2`), `dose` is the phase's dose per kg or m²
    and `round_to` the deliverable increment: the amount is set from the participant's
    weight and height (`patients.services.apply_body_size`).
    """

    date: date
    study_day: int
    phase: str
    dose: Decimal
    unit: str
    route: str
    per: str | None = None
    round_to: Decimal | None = None


@dataclass(frozen=True)
class Calendar:
    """Visits and doses, each sorted by date (protocol order among equal dates)."""

    visits: tuple[VisitSlot, ...]
    doses: tuple[DoseSlot, ...]


def date_of_study_day(baseline: date, study_day: int) -> date:
    """The calendar date of a study day; there is no day 0 (the day before 1 is -1)."""
    if study_day == 0:
        raise ValueError("there is no study day 0")
    offset = study_day - 1 if study_day > 0 else study_day
    return baseline + timedelta(days=offset)


def compute_calendar(
    *,
    phases: Sequence[PhaseSpec],
    visits: Sequence[VisitSpec],
    baseline: date,
    arm: str | None = None,
) -> Calendar:
    """The calendar of a participant whose baseline (study day 1, first dose) is `baseline`.

    `phases` and `visits` come from a protocol accepted by `parse_protocol`, so weeks start
    at 1, the phases a participant follows do not overlap and every window contains its
    day. Only the phases of every arm and those of `arm` (the participant's) are followed.
    """
    visit_slots = [
        VisitSlot(
            code=visit.code,
            name=visit.name,
            study_day=visit.day,
            target_date=date_of_study_day(baseline, visit.day),
            window_start=date_of_study_day(baseline, visit.day) + timedelta(days=visit.window[0]),
            window_end=date_of_study_day(baseline, visit.day) + timedelta(days=visit.window[1]),
        )
        for visit in visits
    ]
    dose_slots = [
        DoseSlot(
            date=date_of_study_day(baseline, study_day),
            study_day=study_day,
            phase=phase.name,
            dose=phase.dose,
            unit=phase.unit,
            route=phase.route,
            per=phase.per,
            round_to=phase.round_to,
        )
        for phase in phases
        if phase.applies_to(arm)
        for study_day in phase_study_days(phase, baseline)
    ]
    # sorted() is stable: slots on the same date keep the protocol's order.
    return Calendar(
        visits=tuple(sorted(visit_slots, key=lambda slot: slot.target_date)),
        doses=tuple(sorted(dose_slots, key=lambda slot: slot.date)),
    )
