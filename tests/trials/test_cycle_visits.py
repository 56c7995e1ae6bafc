"""Visits scheduled by cycle: `cycle: K, day: D` is day D of cycle K of the dosing's cycles.

The file is resolved to study days when read, so the calendar, reminders and everything
downstream see plain study days; the export writes the visit back as it was written.
"""

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from patients.calendar import compute_calendar
from trials.protocol_file import ProtocolFileError, ProtocolProblem, dump_protocol, parse_protocol

PROTOCOLS = Path(__file__).resolve().parents[2] / "trials" / "protocols"
SLE = (PROTOCOLS / "ld-il2-sle.yaml").read_text(encoding="utf-8")


def sle_with(old: str, new: str) -> str:
    assert old in SLE
    return SLE.replace(old, new, 1)


def problems(text: str) -> list[ProtocolProblem]:
    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(text)
    return refused.value.errors


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_sle_visits_at_each_cycle_s_start_fall_on_study_days_1_29_57_then_85():
    """Cycles of 2 dosing + 2 rest weeks from week 1 start on days 1, 29 and 57; the week-12
    visit is written as a study day."""
    spec = parse_protocol(SLE)

    assert [(v.code, v.day, v.cycle) for v in spec.visits] == [
        ("W0", 1, 1),
        ("W4", 29, 2),
        ("W8", 57, 3),
        ("W12", 85, None),
    ]
    assert "{code: W4, name: Week 4, cycle: 2, day: 1," in dump_protocol(spec)


def test_the_sle_visits_are_on_the_same_dates_as_the_first_doses_of_each_cycle():
    spec = parse_protocol(SLE)
    calendar = compute_calendar(
        phases=spec.dosing.phases, visits=spec.visits, baseline=date(2025, 1, 6), arm="IL2"
    )

    cycle_firsts = [date(2025, 1, 6), date(2025, 2, 3), date(2025, 3, 3)]
    assert [slot.target_date for slot in calendar.visits] == [*cycle_firsts, date(2025, 3, 31)]
    assert set(cycle_firsts) <= {dose.date for dose in calendar.doses}


def test_a_later_day_of_a_cycle_counts_from_the_cycle_s_first_day():
    text = sle_with("cycle: 3, day: 1,", "cycle: 3, day: 8,")

    spec = parse_protocol(text)

    assert [v.day for v in spec.visits] == [1, 29, 64, 85]
    assert parse_protocol(dump_protocol(spec)) == spec
    assert "cycle: 3, day: 8," in dump_protocol(spec)


def test_a_cycle_beyond_the_dosing_s_cycles_is_refused_on_its_line():
    text = sle_with("cycle: 3, day: 1,", "cycle: 4, day: 1,")

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "cycle: 4"),
            "visits[2].cycle",
            "cycle 4: the dosing has 3 cycles",
        )
    ]


@pytest.mark.parametrize("day", [0, -1, 29])
def test_a_day_outside_the_cycle_is_refused_on_its_line(day):
    text = sle_with("cycle: 3, day: 1,", f"cycle: 3, day: {day},")

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "cycle: 3"),
            "visits[2].day",
            f"day {day} of a cycle: a cycle's days are 1 to 28",
        )
    ]


def test_a_cycle_visit_without_cycles_in_the_dosing_is_refused():
    text = SLE.replace(", cycles: {count: 3, dosing_weeks: 2, rest_weeks: 2}", "")

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, f"cycle: {k}"),
            f"visits[{k - 1}].cycle",
            "a visit by cycle needs a dosing phase in cycles: the dosing has none",
        )
        for k in (1, 2, 3)
    ]


def test_cycled_phases_that_disagree_on_the_cycles_are_refused():
    text = sle_with(
        "arm: PBO,\n       every_days: 2, cycles: {count: 3, dosing_weeks: 2, rest_weeks: 2}",
        "arm: PBO,\n       every_days: 2, cycles: {count: 2, dosing_weeks: 4, rest_weeks: 2}",
    ).replace("blinding: double", "blinding: open")  # blinded, the schedules are refused too

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, f"cycle: {k}"),
            f"visits[{k - 1}].cycle",
            "a visit by cycle needs one cycle schedule, but the dosing's phases in cycles "
            "disagree (cycles starting on days 1, 29, 57 and on days 1, 43)",
        )
        for k in (1, 2, 3)
    ]


def test_cycle_visits_out_of_day_order_are_refused():
    text = sle_with("name: Week 12,  day: 85,", "name: Week 12,  day: 40,")

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "day: 40"),
            "visits[3].day",
            "day 40 comes after visit 'W8' on day 57: list visits in the order of their days",
        )
    ]


def test_a_visit_moved_out_of_its_cycle_in_a_draft_is_written_by_study_day():
    """A draft's visit day edited in the admin may leave its cycle: the export still reads."""
    spec = parse_protocol(SLE)
    moved = replace(
        spec, visits=(*spec.visits[:2], replace(spec.visits[2], day=50), spec.visits[3])
    )

    exported = dump_protocol(moved)

    assert "{code: W8, name: Week 8, day: 50," in exported
    assert [(v.day, v.cycle) for v in parse_protocol(exported).visits] == [
        (1, 1),
        (29, 2),
        (50, None),
        (85, None),
    ]
