"""The printable protocol summary: schedule of assessments and dose calendar by week."""

from dataclasses import dataclass, replace
from datetime import date

from .dosing import phase_study_days
from .forms.registry import registry
from .protocol_file import PhaseSpec, ProtocolSpec, VisitSpec, cycle_days


@dataclass(frozen=True)
class DoseWeek:
    week: int
    phase: PhaseSpec
    days: tuple[bool, ...]  # seven flags, day 1 (baseline weekday) .. day 7
    #: The amount is not shown: the row stands for every arm's phase on this schedule.
    masked: bool = False

    @property
    def count(self) -> int:
        return sum(self.days)


def schedule_of_assessments(spec: ProtocolSpec) -> list[tuple[str, str, list[bool]]]:
    """One row per form (in first-use order): code, name, and a mark per visit.

    A form is named as the form registry names it, in the reader's language; a form the
    protocol defines, by its own `name`.
    """
    defined = {form.code: form for form in spec.forms}
    forms: list[str] = []
    for visit in spec.visits:
        forms.extend(code for code in visit.forms if code not in forms)
    return [
        (
            code,
            str((defined.get(code) or registry.builtin(code)).name),
            [code in visit.forms for visit in spec.visits],
        )
        for code in forms
    ]


@dataclass(frozen=True)
class VisitColumn:
    visit: VisitSpec
    #: The day of its cycle, for a visit the protocol schedules by cycle (`cycle: K, day: D`).
    cycle_day: int | None


def visit_columns(spec: ProtocolSpec) -> list[VisitColumn]:
    """The schedule's visits as the protocol file writes them: by study day, and a visit by
    cycle with its cycle and day as well."""
    return [
        VisitColumn(visit, day) for visit, day in zip(spec.visits, cycle_days(spec), strict=True)
    ]


#: A phase dosing on calendar weekdays is drawn for a baseline on a Monday (day 1 = Monday).
SUMMARY_BASELINE = date(2024, 1, 1)


def dose_weeks(spec: ProtocolSpec) -> list[DoseWeek]:
    """Each week of each phase with its dosing days flagged (rest weeks of a cycle: none)."""
    weeks = []
    for phase in spec.dosing.phases:
        days = set(phase_study_days(phase, SUMMARY_BASELINE))
        for week in range(phase.weeks[0], phase.weeks[1] + 1):
            first = 7 * (week - 1) + 1
            weeks.append(DoseWeek(week, phase, tuple(first + d in days for d in range(7))))
    return sorted(weeks, key=lambda w: w.week)


def without_amounts(weeks: list[DoseWeek]) -> list[DoseWeek]:
    """The weeks as a reader who may not see amounts (`access.dose_amount_hidden`: blinded,
    and the arms differ in amount) reads them, as their dose log shows doses: one row per
    week and schedule, the study drug without its amount. A blinded study's arms share one
    schedule (the protocol file refuses others), so each week is one row."""
    rows: dict[tuple, DoseWeek] = {}
    for week in weeks:
        rows.setdefault((week.week, week.phase.name, week.days), replace(week, masked=True))
    return list(rows.values())


def doses_per_participant(spec: ProtocolSpec, weeks: list[DoseWeek]) -> int:
    """The doses a participant is planned: the most any arm's phases give (every arm the
    same in a blinded study, where the file refuses arms with different schedules)."""
    arms = [arm.code for arm in spec.arms] or [None]
    return max(sum(w.count for w in weeks if w.phase.applies_to(arm)) for arm in arms)
