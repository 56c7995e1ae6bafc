"""The printable protocol summary: schedule of assessments and dose calendar by week."""

from dataclasses import dataclass

from trials.forms.codes import FORM_CODES

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


def dose_weeks(spec: ProtocolSpec) -> list[DoseWeek]:
    weeks = []
    for phase in spec.dosing.phases:
        for week in range(phase.weeks[0], phase.weeks[1] + 1):
            weeks.append(
                DoseWeek(week, phase, tuple(day in phase.dosing_days for day in range(1, 8)))
            )
    return sorted(weeks, key=lambda w: w.week)
