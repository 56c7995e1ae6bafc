"""The printable protocol summary: schedule of assessments and dose calendar by week."""

from dataclasses import dataclass
from datetime import date

from trials.forms.codes import FORM_CODES

from .dosing import phase_study_days
from .protocol_file import PhaseSpec, ProtocolSpec

FORM_NAMES = {
    "ELIG": "Eligibility",
    "AE": "Adverse events",
    "TREG": "Treg panel (flow cytometry)",
    "STEROID": "Steroid dose",
    "RPDAI": "RPDAI",
    "HAMD17": "HAM-D 17",
    "PHQ9": "PHQ-9",
    "SLEDAI2K": "SLEDAI-2K",
}
assert set(FORM_NAMES) == FORM_CODES, "every form code needs a display name"


@dataclass(frozen=True)
class DoseWeek:
    week: int
    phase: PhaseSpec
    days: tuple[bool, ...]  # seven flags, day 1 (baseline weekday) .. day 7

    @property
    def count(self) -> int:
        return sum(self.days)


def schedule_of_assessments(spec: ProtocolSpec) -> list[tuple[str, str, list[bool]]]:
    """One row per form (in first-use order): code, name, and a mark per visit.

    A form the protocol defines is named by its own `name` (in the reader's language).
    """
    names = {**FORM_NAMES, **{form.code: str(form.name) for form in spec.forms}}
    forms: list[str] = []
    for visit in spec.visits:
        forms.extend(code for code in visit.forms if code not in forms)
    return [(code, names[code], [code in visit.forms for visit in spec.visits]) for code in forms]


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


def doses_per_participant(spec: ProtocolSpec, weeks: list[DoseWeek]) -> int:
    """The doses a participant is planned: the most any arm's phases give (every arm the
    same in a blinded study, where the file refuses arms with different schedules)."""
    arms = [arm.code for arm in spec.arms] or [None]
    return max(sum(w.count for w in weeks if w.phase.applies_to(arm)) for arm in arms)
