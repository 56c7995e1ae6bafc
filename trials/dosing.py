"""Dosing rules of a protocol: which study days a phase doses on, and doses by body size.

Pure functions of a phase (any object with the `trials.protocol_file.PhaseSpec` fields), so
the participant's calendar (`patients.calendar`), the printable protocol summary and the
tests share one reading of the protocol file's dosing keys.

Study days follow CDISC (day 1 = baseline = first dose) and week w covers study days
7(w-1)+1 .. 7w. A phase doses by exactly one pattern, optionally repeated in cycles:

- `days_per_week: N`: the first N days of each of the phase's weeks, counted from the
  baseline's weekday (a Wednesday baseline with N = 5 doses Wednesday to Sunday);
- `days: [1, 3, 5]`: those days (1-7) of each of the phase's weeks;
- `weekdays: [mon, ..., fri]`: those calendar weekdays, whatever the baseline's weekday
  (a Wednesday baseline never doses on a weekend);
- `every_days: N`: the phase's first day, then every N days (2 = every other day);
- `every_weeks: N`: the first day of the phase's first week, then every N weeks;
- `cycles: {count: K, dosing_weeks: D, rest_weeks: R}`: the phase's weeks are K cycles of
  D dosing weeks then R weeks of rest; the pattern runs in each cycle's dosing weeks and
  counts from each cycle's first day.

A dose by body size (`per: kg` or `per: m2`) is the phase's dose per kg of body weight or
per m² of body-surface area, rounded to the protocol's deliverable increment (`round_to`),
sized from the baseline's weight and height, or, with `resize: each_cycle`, each cycle from
those recorded at the cycle's first visit (`resize_starts`).
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

#: Calendar weekdays as the file writes them, Monday first (`date.weekday()` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The bases of a dose by body size: per kg of weight, per m² of body-surface area.
BODY_SIZE_BASES = ("kg", "m2")
#: How a body-size basis is written after the dose's unit: "1 MIU/m²".
BASIS_LABELS = {"kg": "kg", "m2": "m²"}
#: When doses by body size are re-sized (`resize:`): at each cycle's first visit.
RESIZE_RULES = ("each_cycle",)
#: Mosteller's body-surface area is kept to two decimal places (1.73 m²) before it is used,
#: so the derivation shown to the user ("1 MIU/m² × 1.73 m²") is the arithmetic done.
BSA_PLACES = Decimal("0.01")


def _date_of(baseline: date, study_day: int) -> date:
    return baseline + timedelta(days=study_day - 1)


def dosing_blocks(phase) -> list[tuple[int, int]]:
    """The (first, last) study days of the phase's dosing periods: one, or one per cycle."""
    first, last = 7 * (phase.weeks[0] - 1) + 1, 7 * phase.weeks[1]
    cycle = phase.cycles
    if cycle is None:
        return [(first, last)]
    length = 7 * (cycle.dosing_weeks + cycle.rest_weeks)
    return [
        (first + index * length, first + index * length + 7 * cycle.dosing_weeks - 1)
        for index in range(cycle.count)
    ]


def cycle_schedule(phases) -> tuple[tuple[int, ...], int] | None:
    """The first study days of the protocol's cycles and a cycle's length in days, for
    visits scheduled by cycle (`cycle: K, day: D`), or None when no phase runs in cycles.

    Raises ValueError, naming each schedule, when phases in cycles disagree (arms' phases
    with the same weeks and cycles agree: they share one schedule).
    """
    schedules = list(
        dict.fromkeys(
            (
                tuple(first for first, _ in dosing_blocks(phase)),
                7 * (phase.cycles.dosing_weeks + phase.cycles.rest_weeks),
            )
            for phase in phases
            if phase.cycles is not None
        )
    )
    if len(schedules) > 1:
        raise ValueError(
            "cycles starting "
            + " and ".join("on days " + ", ".join(map(str, starts)) for starts, _ in schedules)
        )
    return schedules[0] if schedules else None


def resize_starts(phase) -> list[int]:
    """The study days from which the phase's doses are sized anew: each cycle's first day
    for a phase re-sized each cycle (`resize: each_cycle`), else none (baseline only)."""
    if phase.resize != "each_cycle" or phase.cycles is None:
        return []
    return [first for first, _ in dosing_blocks(phase)]


def cycle_study_day(schedule: tuple[tuple[int, ...], int], cycle: int, day: int) -> int:
    """Study day of day `day` (1 = the cycle's first day) of cycle `cycle` (from 1)."""
    return schedule[0][cycle - 1] + day - 1


def day_of_cycle(schedule: tuple[tuple[int, ...], int], cycle: int, study_day: int) -> int | None:
    """The day of cycle `cycle` that `study_day` is (`cycle_study_day` the other way round),
    or None when the study day lies outside that cycle, or the cycle beyond the schedule."""
    starts, length = schedule
    if not 1 <= cycle <= len(starts):
        return None
    day = study_day - starts[cycle - 1] + 1
    return day if 1 <= day <= length else None


def _block_days(phase, start: int, end: int, baseline: date | None) -> list[int]:
    if phase.every_days is not None:
        return list(range(start, end + 1, phase.every_days))
    if phase.every_weeks is not None:
        return list(range(start, end + 1, 7 * phase.every_weeks))
    if phase.weekdays is not None:
        if baseline is None:
            raise ValueError("a weekday pattern needs the baseline date")
        wanted = {WEEKDAYS.index(day) for day in phase.weekdays}
        return [d for d in range(start, end + 1) if _date_of(baseline, d).weekday() in wanted]
    if phase.days is not None:
        in_week = sorted(phase.days)
    else:
        in_week = list(range(1, (phase.days_per_week or 0) + 1))
    return [
        week_start + day - 1
        for week_start in range(start, end + 1, 7)
        for day in in_week
        if week_start + day - 1 <= end
    ]


def phase_study_days(phase, baseline: date | None = None) -> list[int]:
    """The study days, ascending, on which the phase doses.

    `baseline` (study day 1) matters only to a `weekdays` pattern, which needs it.
    """
    return [
        day
        for start, end in dosing_blocks(phase)
        for day in _block_days(phase, start, end, baseline)
    ]


def mosteller_bsa(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """Body-surface area (m²) by Mosteller: √(height cm × weight kg / 3600), to 0.01 m²."""
    if weight_kg <= 0 or height_cm <= 0:
        raise ValueError("weight and height must be positive")
    return (height_cm * weight_kg / Decimal(3600)).sqrt().quantize(BSA_PLACES, ROUND_HALF_UP)


def body_size(per: str, weight_kg: Decimal, height_cm: Decimal | None) -> Decimal:
    """The kg or m² a dose by body size is multiplied by."""
    if per == "kg":
        if weight_kg <= 0:
            raise ValueError("weight must be positive")
        return weight_kg
    if per == "m2":
        if height_cm is None:
            raise ValueError("a dose per m² needs the height")
        return mosteller_bsa(weight_kg, height_cm)
    raise ValueError(f"unknown body-size basis {per!r}")


def sized_dose(dose_per_size: Decimal, size: Decimal, round_to: Decimal) -> Decimal:
    """`dose_per_size` × `size`, to the nearest multiple of `round_to` (halves round up).

    The result may be 0 when the product is below half an increment: the caller refuses it.
    """
    steps = (dose_per_size * size / round_to).quantize(Decimal(1), ROUND_HALF_UP)
    return (steps * round_to).normalize() if steps else Decimal(0)


def derivation_text(
    *, dose_per_size: Decimal, per: str, size: Decimal, dose: Decimal, unit: str, round_to
) -> str:
    """How a planned amount was derived: "1 MIU/m² × 1.73 m² = 1.7 MIU (rounded to 0.1 MIU)"."""
    values = {
        "per_size": _plain(dose_per_size),
        "unit": unit,
        "basis": BASIS_LABELS[per],
        "size": _plain(size),
        "dose": _plain(dose),
        "round_to": _plain(round_to),
    }
    if dose_per_size * size == dose:
        return (
            _("%(per_size)s %(unit)s/%(basis)s × %(size)s %(basis)s = %(dose)s %(unit)s") % values
        )
    return (
        _(
            "%(per_size)s %(unit)s/%(basis)s × %(size)s %(basis)s = %(dose)s %(unit)s "
            "(rounded to %(round_to)s %(unit)s)"
        )
        % values
    )


def _plain(value: Decimal) -> str:
    """A decimal without trailing zeros and never in exponent form: 1.700 → 1.7, 10 → 10."""
    normalized = value.normalize()
    whole = normalized == normalized.to_integral()
    return format(normalized.quantize(1) if whole else normalized, "f")
