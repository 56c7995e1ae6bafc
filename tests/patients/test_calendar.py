"""The visit and dose calendar a participant gets from the protocol and a baseline date."""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patients.calendar import DoseSlot, VisitSlot, compute_calendar, date_of_study_day
from trials.protocol_file import PhaseSpec, VisitSpec, parse_protocol

RP = parse_protocol(
    (Path(__file__).resolve().parents[2] / "trials" / "protocols" / "ld-il2-rp.yaml").read_text()
)
MONDAY = date(2026, 1, 5)


def rp_calendar():
    return compute_calendar(phases=RP.dosing.phases, visits=RP.visits, baseline=MONDAY)


def test_the_rp_visits_fall_every_four_weeks_from_a_monday_baseline():
    assert rp_calendar().visits == (
        VisitSlot("W0", "Baseline", 1, date(2026, 1, 5), date(2026, 1, 5), date(2026, 1, 5)),
        VisitSlot("W4", "Week 4", 29, date(2026, 2, 2), date(2026, 1, 30), date(2026, 2, 5)),
        VisitSlot("W8", "Week 8", 57, date(2026, 3, 2), date(2026, 2, 27), date(2026, 3, 5)),
        VisitSlot("W12", "Week 12", 85, date(2026, 3, 30), date(2026, 3, 27), date(2026, 4, 2)),
    )


def test_the_rp_induction_doses_fall_monday_to_friday_of_weeks_one_to_four():
    induction = [dose for dose in rp_calendar().doses if dose.phase == "induction"]

    assert [dose.date for dose in induction] == [
        *(date(2026, 1, day) for day in (5, 6, 7, 8, 9)),
        *(date(2026, 1, day) for day in (12, 13, 14, 15, 16)),
        *(date(2026, 1, day) for day in (19, 20, 21, 22, 23)),
        *(date(2026, 1, day) for day in (26, 27, 28, 29, 30)),
    ]
    assert [dose.study_day for dose in induction] == [
        1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 22, 23, 24, 25, 26,
    ]  # fmt: skip
    assert {(dose.dose, dose.unit, dose.route) for dose in induction} == {(Decimal(1), "MIU", "SC")}


def test_the_rp_maintenance_doses_fall_on_the_mondays_of_weeks_five_to_twelve():
    maintenance = [dose for dose in rp_calendar().doses if dose.phase == "maintenance"]

    assert [(dose.study_day, dose.date) for dose in maintenance] == [
        (29, date(2026, 2, 2)),
        (36, date(2026, 2, 9)),
        (43, date(2026, 2, 16)),
        (50, date(2026, 2, 23)),
        (57, date(2026, 3, 2)),
        (64, date(2026, 3, 9)),
        (71, date(2026, 3, 16)),
        (78, date(2026, 3, 23)),
    ]


def test_the_rp_regimen_gives_twenty_plus_eight_doses_in_date_order():
    doses = rp_calendar().doses

    assert Counter(dose.phase for dose in doses) == {"induction": 20, "maintenance": 8}
    assert doses[0] == DoseSlot(date(2026, 1, 5), 1, "induction", Decimal(1), "MIU", "SC")
    assert doses[-1].date == date(2026, 3, 23)
    assert [dose.date for dose in doses] == sorted(dose.date for dose in doses)


def test_named_days_of_the_week_dose_on_those_days_of_each_week():
    phase = PhaseSpec("alternate", (2, 3), Decimal("0.5"), "MIU", "SC", days=(5, 1, 3))

    calendar = compute_calendar(phases=[phase], visits=[], baseline=MONDAY)

    assert [dose.study_day for dose in calendar.doses] == [8, 10, 12, 15, 17, 19]
    assert calendar.doses[0].date == date(2026, 1, 12)


def test_a_visit_before_baseline_counts_back_without_a_day_zero():
    screening = VisitSpec("SCR", "Screening", -1, (-6, 0), ("ELIG",))

    (slot,) = compute_calendar(phases=[], visits=[screening], baseline=MONDAY).visits

    assert slot.target_date == date(2026, 1, 4)  # day -1 is the day before day 1
    assert (slot.window_start, slot.window_end) == (date(2025, 12, 29), date(2026, 1, 4))


def test_study_day_zero_has_no_date():
    with pytest.raises(ValueError, match="no study day 0"):
        date_of_study_day(MONDAY, 0)


def test_visits_on_the_same_date_keep_the_protocol_order():
    visits = [
        VisitSpec("B", "Second", 8, (0, 0), ()),
        VisitSpec("A", "First", 1, (0, 0), ()),
        VisitSpec("C", "Also day 8", 8, (-1, 1), ()),
    ]

    calendar = compute_calendar(phases=[], visits=visits, baseline=MONDAY)

    assert [slot.code for slot in calendar.visits] == ["A", "B", "C"]


# --- properties over any valid protocol ---------------------------------------------------------


@st.composite
def regimens(draw):
    """Non-overlapping phases (possibly with gaps between them), listed in any order."""
    phases, week = [], 1
    for index in range(draw(st.integers(1, 4))):
        start = week + draw(st.integers(0, 3))
        end = start + draw(st.integers(0, 8))
        week = end + 1
        if draw(st.booleans()):
            schedule = {"days_per_week": draw(st.integers(1, 7))}
        else:
            days = draw(st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True))
            schedule = {"days": tuple(days)}
        phases.append(PhaseSpec(f"phase{index}", (start, end), Decimal(1), "MIU", "SC", **schedule))
    return draw(st.permutations(phases))


schedules = st.lists(
    st.builds(
        VisitSpec,
        code=st.from_regex(r"V[0-9]{1,3}", fullmatch=True),
        name=st.just("Visit"),
        day=st.one_of(st.integers(-60, -1), st.integers(1, 400)),
        window=st.tuples(st.integers(-14, 0), st.integers(0, 14)),
        forms=st.just(()),
    ),
    max_size=8,
    unique_by=lambda visit: visit.code,
)
baselines = st.dates(date(2000, 1, 1), date(2090, 12, 31))


def week_of(study_day: int) -> int:
    return (study_day - 1) // 7 + 1


@settings(max_examples=200, deadline=None)
@given(phases=regimens(), baseline=baselines)
def test_every_dose_falls_on_a_dosing_day_of_its_own_phase(phases, baseline):
    by_name = {phase.name: phase for phase in phases}

    for dose in compute_calendar(phases=phases, visits=[], baseline=baseline).doses:
        phase = by_name[dose.phase]
        assert phase.weeks[0] <= week_of(dose.study_day) <= phase.weeks[1]
        in_week = phase.days or range(1, phase.days_per_week + 1)
        assert (dose.study_day - 1) % 7 + 1 in in_week
        assert dose.date == baseline + timedelta(days=dose.study_day - 1)
        assert (dose.dose, dose.unit, dose.route) == (phase.dose, phase.unit, phase.route)


@settings(max_examples=200, deadline=None)
@given(phases=regimens(), baseline=baselines)
def test_phases_that_do_not_overlap_never_put_two_doses_on_one_date(phases, baseline):
    doses = compute_calendar(phases=phases, visits=[], baseline=baseline).doses

    assert len({dose.date for dose in doses}) == len(doses)


@settings(max_examples=200, deadline=None)
@given(phases=regimens(), baseline=baselines)
def test_the_dose_count_is_weeks_times_days_per_week_summed_over_phases(phases, baseline):
    expected = sum(
        (phase.weeks[1] - phase.weeks[0] + 1)
        * (phase.days_per_week if phase.days is None else len(phase.days))
        for phase in phases
    )

    doses = compute_calendar(phases=phases, visits=[], baseline=baseline).doses

    assert len(doses) == expected
    assert [dose.date for dose in doses] == sorted(dose.date for dose in doses)


@settings(max_examples=200, deadline=None)
@given(visits=schedules, baseline=baselines)
def test_every_visit_is_inside_its_window_and_the_visits_are_in_date_order(visits, baseline):
    slots = compute_calendar(phases=[], visits=visits, baseline=baseline).visits

    assert sorted(slot.code for slot in slots) == sorted(visit.code for visit in visits)
    for slot in slots:
        visit = next(visit for visit in visits if visit.code == slot.code)
        offset = visit.day - 1 if visit.day > 0 else visit.day
        assert slot.target_date == baseline + timedelta(days=offset)
        assert slot.window_start == slot.target_date + timedelta(days=visit.window[0])
        assert slot.window_end == slot.target_date + timedelta(days=visit.window[1])
        assert slot.window_start <= slot.target_date <= slot.window_end
    assert [slot.target_date for slot in slots] == sorted(slot.target_date for slot in slots)
