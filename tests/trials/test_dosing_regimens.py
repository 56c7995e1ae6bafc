"""Dosing patterns, cycles, arms and doses by body size, as the protocol file states them.

Pure: the shipped protocol files are read with `parse_protocol` and their calendars computed
with `patients.calendar.compute_calendar`, no database.
"""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from patients.calendar import compute_calendar
from trials.dosing import derivation_text, mosteller_bsa, phase_study_days, sized_dose
from trials.forms import expressions
from trials.protocol_file import (
    CycleSpec,
    PhaseSpec,
    ProtocolFileError,
    ProtocolProblem,
    dump_protocol,
    parse_protocol,
)
from trials.summary import dose_weeks, doses_per_participant

PROTOCOLS = Path(__file__).resolve().parents[2] / "trials" / "protocols"
MONDAY = date(2025, 1, 6)
WEDNESDAY = date(2025, 1, 8)


def protocol(name: str):
    return parse_protocol((PROTOCOLS / name).read_text(encoding="utf-8"), source=name)


def phase(**pattern) -> PhaseSpec:
    fields = {"name": "p", "weeks": (1, 2), "dose": Decimal(1), "unit": "MIU", "route": "SC"}
    return PhaseSpec(**{**fields, **pattern})


def doses(spec, baseline, arm=None):
    return compute_calendar(
        phases=spec.dosing.phases, visits=spec.visits, baseline=baseline, arm=arm
    ).doses


# -- the SLE file: 3 cycles of every other day for 2 weeks, then 2 weeks of rest --------------


@pytest.mark.parametrize("arm", ["IL2", "PBO"])
def test_the_sle_calendar_has_21_doses_in_three_cycles_and_none_in_rest_weeks(arm):
    planned = doses(protocol("ld-il2-sle.yaml"), MONDAY, arm)

    def days(first: date) -> list[date]:
        return [first + timedelta(days=2 * i) for i in range(7)]

    # Cycle 1 starts at baseline (Mon 6 Jan), cycle 2 four weeks later (Mon 3 Feb), cycle 3
    # eight weeks later (Mon 3 Mar): days 1, 3, ..., 13 of each.
    expected = days(date(2025, 1, 6)) + days(date(2025, 2, 3)) + days(date(2025, 3, 3))
    assert [d.date for d in planned] == expected
    assert expected[:7] == [date(2025, 1, d) for d in (6, 8, 10, 12, 14, 16, 18)]
    assert expected[-1] == date(2025, 3, 15)
    assert len(planned) == 21
    rest = [(15, 28), (43, 56), (71, 84)]  # study days of the three 2-week rests
    assert not [d for d in planned if any(a <= d.study_day <= b for a, b in rest)]
    assert {d.dose for d in planned} == ({Decimal(1)} if arm == "IL2" else {Decimal(0)})


def test_a_cycle_counts_every_n_days_from_its_own_first_day():
    cycled = phase(
        weeks=(1, 6), every_days=3, cycles=CycleSpec(count=2, dosing_weeks=1, rest_weeks=2)
    )

    assert phase_study_days(cycled) == [1, 4, 7, 22, 25, 28]


# -- patterns ------------------------------------------------------------------------------


def test_days_per_week_counts_from_the_baseline_s_weekday():
    """The RP file's reading of "5 consecutive days a week": a Wednesday baseline doses
    Wednesday to Sunday."""
    rp = protocol("ld-il2-rp.yaml")
    first_week = [d.date.strftime("%a") for d in doses(rp, WEDNESDAY)[:5]]

    assert first_week == ["Wed", "Thu", "Fri", "Sat", "Sun"]
    assert len(doses(rp, WEDNESDAY)) == 28


def test_weekdays_never_dose_on_a_weekend_whatever_the_baseline():
    mon_fri = phase(weeks=(1, 2), weekdays=("mon", "tue", "wed", "thu", "fri"))

    days = phase_study_days(mon_fri, WEDNESDAY)
    dates = [WEDNESDAY + timedelta(days=d - 1) for d in days]

    assert len(days) == 10
    assert {d.strftime("%a") for d in dates} == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert dates[:5] == [date(2025, 1, d) for d in (8, 9, 10, 13, 14)]


def test_the_sjogren_file_doses_on_monday_wednesday_and_friday():
    planned = doses(protocol("ld-il2-sjogren.yaml"), WEDNESDAY)

    assert len(planned) == 36  # 3 a week for 12 weeks
    assert {d.date.strftime("%a") for d in planned} == {"Mon", "Wed", "Fri"}
    assert planned[0].date == WEDNESDAY and planned[1].date == date(2025, 1, 10)
    assert {d.dose for d in planned} == {Decimal("1.5")}


def test_every_other_day_and_every_two_weeks():
    assert phase_study_days(phase(weeks=(1, 2), every_days=2)) == [1, 3, 5, 7, 9, 11, 13]
    assert phase_study_days(phase(weeks=(3, 8), every_weeks=2)) == [15, 29, 43]


def test_a_participant_follows_the_phases_of_every_arm_and_of_their_own_arm_only():
    t1d = protocol("ld-il2-t1d.yaml")

    for arm, amount in (("D033", "0.33"), ("D1", "1"), ("D3", "3"), ("PBO", "0")):
        planned = doses(t1d, MONDAY, arm)
        assert [d.date for d in planned] == [MONDAY + timedelta(days=i) for i in range(5)]
        assert {(d.phase, d.dose) for d in planned} == {("course", Decimal(amount))}


# -- doses by body size -----------------------------------------------------------------------


def test_mosteller_body_surface_area_worked_numbers():
    # √(170 × 63.3 / 3600) = √2.98917 = 1.72892... → 1.73 m²
    assert mosteller_bsa(Decimal("63.3"), Decimal(170)) == Decimal("1.73")
    # √(180 × 80 / 3600) = √4 = 2.00 m²
    assert mosteller_bsa(Decimal(80), Decimal(180)) == Decimal("2.00")
    # √(160 × 50 / 3600) = √2.2222 = 1.49071... → 1.49 m²
    assert mosteller_bsa(Decimal(50), Decimal(160)) == Decimal("1.49")


def test_a_dose_per_m2_is_rounded_to_the_deliverable_increment():
    bsa = Decimal("1.73")
    assert sized_dose(Decimal(1), bsa, Decimal("0.1")) == Decimal("1.7")  # 1.73 → 1.7
    assert sized_dose(Decimal(3), bsa, Decimal("0.1")) == Decimal("5.2")  # 5.19 → 5.2
    assert sized_dose(Decimal("0.3"), bsa, Decimal("0.1")) == Decimal("0.5")  # 0.519 → 0.5
    # Halves round up: 0.3 × 1.50 = 0.45 → 0.5; and to a 0.25 increment, 1 × 1.49 → 1.5.
    assert sized_dose(Decimal("0.3"), Decimal("1.50"), Decimal("0.1")) == Decimal("0.5")
    assert sized_dose(Decimal(1), Decimal("1.49"), Decimal("0.25")) == Decimal("1.5")
    # Per kg: 0.02 MIU/kg × 72.4 kg = 1.448 → 1.4 MIU.
    assert sized_dose(Decimal("0.02"), Decimal("72.4"), Decimal("0.1")) == Decimal("1.4")


def test_the_derivation_reads_as_the_arithmetic_done():
    text = derivation_text(
        dose_per_size=Decimal("1.000"),
        per="m2",
        size=Decimal("1.73"),
        dose=Decimal("1.7"),
        unit="MIU",
        round_to=Decimal("0.100"),
    )

    assert text == "1 MIU/m² × 1.73 m² = 1.7 MIU (rounded to 0.1 MIU)"
    exact = derivation_text(
        dose_per_size=Decimal(1),
        per="m2",
        size=Decimal("2.00"),
        dose=Decimal(2),
        unit="MIU",
        round_to=Decimal("0.1"),
    )
    assert exact == "1 MIU/m² × 2 m² = 2 MIU"


def test_the_gvhd_file_doses_daily_per_m2_for_8_weeks_in_each_cohort():
    gvhd = protocol("ld-il2-gvhd.yaml")

    for arm, per_m2 in (("C03", "0.3"), ("C1", "1"), ("C3", "3")):
        planned = doses(gvhd, MONDAY, arm)
        assert len(planned) == 56
        assert {(d.dose, d.per, d.round_to) for d in planned} == {
            (Decimal(per_m2), "m2", Decimal("0.1"))
        }


# -- ESSDAI and ESSPRI, defined as data in the Sjögren file --------------------------------------


def form_calc(form_code: str, item_code: str):
    form = next(f for f in protocol("ld-il2-sjogren.yaml").forms if f.code == form_code)
    return expressions.parse(form.item(item_code).calc)


NO_ACTIVITY = dict.fromkeys(
    ("CONST", "LYMPH", "GLAND", "ARTIC", "CUTAN", "PULM", "RENAL", "MUSC", "PNS", "CNS", "HAEM"),
    "0",
) | {"BIOL": "0"}


@pytest.mark.parametrize(
    ("levels", "total"),
    [
        # constitutional low 3×1 + glandular moderate 2×2 + articular low 2×1
        # + biological low 1×1 = 3 + 4 + 2 + 1 = 10
        ({"CONST": "1", "GLAND": "2", "ARTIC": "1", "BIOL": "1"}, 10),
        # lymphadenopathy moderate 4×2 + cutaneous low 3×1 + PNS moderate 5×2
        # + CNS moderate 5×2 + haematological low 2×1 = 8 + 3 + 10 + 10 + 2 = 33
        ({"LYMPH": "2", "CUTAN": "1", "PNS": "2", "CNS": "2", "HAEM": "1"}, 33),
        # every domain at its highest level: 3×2 + 4×3 + 2×2 + 2×3 + 3×3 + 5×3 + 5×3 + 6×3
        # + 5×3 + 5×3 + 2×3 + 1×2 = 6 + 12 + 4 + 6 + 9 + 15 + 15 + 18 + 15 + 15 + 6 + 2 = 123
        (
            {
                "CONST": "2",
                "LYMPH": "3",
                "GLAND": "2",
                "ARTIC": "3",
                "CUTAN": "3",
                "PULM": "3",
                "RENAL": "3",
                "MUSC": "3",
                "PNS": "3",
                "CNS": "3",
                "HAEM": "3",
                "BIOL": "2",
            },
            123,
        ),
        # muscular high 6×3 + renal low 5×1 + pulmonary moderate 5×2 = 18 + 5 + 10 = 33
        ({"MUSC": "3", "RENAL": "1", "PULM": "2"}, 33),
        ({}, 0),
    ],
)
def test_essdai_from_its_data_only_definition_matches_hand_calculation(levels, total):
    assert expressions.evaluate(form_calc("ESSDAI", "ESSDAI_TOTAL"), NO_ACTIVITY | levels) == total


def test_essdai_with_a_domain_not_rated_has_no_total():
    values = NO_ACTIVITY | {"CNS": None}

    assert expressions.evaluate(form_calc("ESSDAI", "ESSDAI_TOTAL"), values) is None


def test_essdai_domains_offer_only_their_published_levels():
    form = next(f for f in protocol("ld-il2-sjogren.yaml").forms if f.code == "ESSDAI")

    levels = {item.code: [code for code, _ in item.codes] for item in form.items if item.codes}
    assert levels["CONST"] == ["0", "1", "2"]  # no high level
    assert levels["CNS"] == ["0", "2", "3"]  # no low level
    assert levels["BIOL"] == ["0", "1", "2"]
    assert levels["LYMPH"] == ["0", "1", "2", "3"]


def test_esspri_is_the_mean_of_dryness_fatigue_and_pain():
    # (5 + 6 + 8) / 3 = 19 / 3 = 6.333...
    score = expressions.evaluate(
        form_calc("ESSPRI", "ESSPRI_SCORE"), {"DRYNESS": 5, "FATIGUE": 6, "PAIN": 8}
    )

    assert expressions.quantize(score, 2) == Decimal("6.33")


# -- the file: new keys read back, and problems point at their line ----------------------------


def test_every_shipped_protocol_reads_back_as_written():
    for path in sorted(PROTOCOLS.glob("*.yaml")):
        spec = parse_protocol(path.read_text(encoding="utf-8"), source=path.name)
        assert parse_protocol(dump_protocol(spec)) == spec, path.name


def problems(text: str) -> list[ProtocolProblem]:
    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(text)
    return refused.value.errors


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def sle_with(old: str, new: str) -> str:
    text = (PROTOCOLS / "ld-il2-sle.yaml").read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def test_cycles_that_do_not_fill_the_phase_s_weeks_are_refused_on_their_line():
    text = sle_with(
        "arm: IL2,\n       every_days: 2, cycles: {count: 3",
        "arm: IL2,\n       every_days: 2, cycles: {count: 2",
    )

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "cycles: {count: 2"),
            "dosing.phases[0].cycles",
            "2 cycles of 2 dosing + 2 rest weeks last 8 weeks, but the phase's weeks 1-12 are 12",
        )
    ]


def test_a_phase_for_an_unknown_arm_is_refused_on_its_line():
    text = sle_with("arm: PBO,", "arm: PLACEBO,")

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "arm: PLACEBO"),
            "dosing.phases[1].arm",
            "unknown arm 'PLACEBO' (known: IL2, PBO)",
        )
    ]


def test_a_dose_of_0_is_only_for_a_placebo_arm():
    text = sle_with(
        "dose: 1, unit: MIU, route: SC, arm: IL2", "dose: 0, unit: MIU, route: SC, arm: IL2"
    )

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "dose: 0, unit: MIU, route: SC, arm: IL2"),
            "dosing.phases[0].dose",
            "must be greater than 0, got 0",
        )
    ]


def test_in_a_blinded_study_arms_with_different_schedules_are_refused():
    """The calendar would tell a blinded user the arm."""
    text = sle_with("arm: PBO,\n       every_days: 2", "arm: PBO,\n       every_days: 3")

    (problem,) = problems(text)
    assert problem.path == "dosing.phases[0].arm"
    assert problem.line == line_of(text, "arm: IL2")
    assert "every arm follows the same schedule" in problem.message


def test_phases_of_one_arm_may_not_overlap_but_two_arms_phases_may():
    text = sle_with(
        "    - {name: treatment, weeks: [1, 12], dose: 0,",
        "    - {name: extra, weeks: [12, 12], dose: 1, unit: MIU, route: SC, arm: IL2, "
        "every_days: 1}\n    - {name: treatment, weeks: [1, 12], dose: 0,",
    )

    (problem,) = [p for p in problems(text) if p.path.endswith(".weeks")]
    assert problem.path == "dosing.phases[1].weeks"
    assert problem.message == "weeks 12-12 overlap phase 'treatment' (weeks 1-12)"


def test_a_dose_by_body_size_needs_its_deliverable_increment():
    text = (PROTOCOLS / "ld-il2-gvhd.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "arm: C03, per: m2,\n       round_to: 0.1,", "arm: C03, per: m2,\n      ", 1
    )

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "arm: C03, per: m2"),
            "dosing.phases[0].per",
            "a dose per kg or m² needs 'round_to': the deliverable increment, e.g. 0.1",
        )
    ]


def test_two_patterns_in_one_phase_are_refused():
    text = sle_with(
        "arm: IL2,\n       every_days: 2,", "arm: IL2,\n       every_days: 2, weekdays: [mon],"
    )

    (problem,) = [p for p in problems(text) if "dosing pattern" in p.message]
    assert problem.message == "give one dosing pattern, not several (got weekdays, every_days)"
    assert problem.path == "dosing.phases[0]"


def test_an_unknown_weekday_is_refused_on_its_line():
    text = (PROTOCOLS / "ld-il2-sjogren.yaml").read_text(encoding="utf-8")
    text = text.replace("weekdays: [mon, wed, fri]", "weekdays: [mon, wed, fry]")

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "fry"),
            "dosing.phases[0].weekdays[2]",
            "unknown weekday 'fry' (known: mon, tue, wed, thu, fri, sat, sun)",
        )
    ]


def test_the_printed_summary_shows_the_rest_weeks_empty_and_21_doses_a_participant():
    sle = protocol("ld-il2-sle.yaml")
    weeks = dose_weeks(sle)

    il2 = [w.count for w in weeks if w.phase.arm == "IL2"]
    assert il2 == [4, 3, 0, 0, 4, 3, 0, 0, 4, 3, 0, 0]  # days 1, 3, 5, 7 | 9, 11, 13 | rest
    assert doses_per_participant(sle, weeks) == 21
    assert (
        doses_per_participant(protocol("ld-il2-rp.yaml"), dose_weeks(protocol("ld-il2-rp.yaml")))
        == 28
    )
