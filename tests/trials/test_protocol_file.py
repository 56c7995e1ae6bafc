"""The protocol file: the demo protocols read, and every malformed file is refused whole,
each problem with its line and reason.

Every refusal below starts from the RP protocol shipped in `trials/protocols/` and changes one
thing, then asserts the exact problems reported (line, place, message).
"""

from datetime import date
from decimal import Decimal

import pytest

from tests.trials.helpers_protocol_file import (
    MOOD,
    RP,
    changed,
    line_of,
    problems,
    refused_once,
)
from trials.forms.codes import FORM_CODES
from trials.protocol_file import (
    ArmSpec,
    CriterionSpec,
    PhaseSpec,
    ProtocolFileError,
    ProtocolProblem,
    ReminderSpec,
    SiteSpec,
    StratumSpec,
    StudySpec,
    VersionSpec,
    VisitSpec,
    dump_protocol,
    parse_protocol,
)
from trials.protocol_validation import ROLES

W4_LINE = RP[: RP.index("code: W4,")].count("\n") + 1

VISIT_KEYS = "code, name, day, window, forms, screening, cycle"


# --- the demo files ---------------------------------------------------------------------------


def test_the_relapsing_polychondritis_protocol_reads_as_designed():
    spec = parse_protocol(RP)

    assert spec.study == StudySpec(
        "LDIL2-RP", "Low-dose IL-2 in refractory relapsing polychondritis", "2", "open"
    )
    assert spec.version == VersionSpec("1.0", date(2019, 11, 1))
    assert spec.sites == (
        SiteSpec("PKUPH", "Peking University People's Hospital", "Asia/Shanghai"),
    )
    assert spec.arms == (ArmSpec("LDIL2", "Low-dose IL-2", 1),)
    assert spec.strata == ()
    assert [c.id for c in spec.eligibility] == ["I1", "I2", "I3", "I4", "E1"]
    assert spec.eligibility[1].text == (
        "Refractory: inadequate control after >= 12 weeks of prior glucocorticoid / "
        "immunosuppressant / biologic therapy, or intolerance of it"
    )
    assert spec.eligibility[3] == CriterionSpec(
        "I4", "inclusion", "Age (years)", "age", Decimal(18), None
    )
    assert spec.dosing.drug == "recombinant human IL-2"
    assert spec.dosing.phases == (
        PhaseSpec("induction", (1, 4), Decimal(1), "MIU", "SC", days_per_week=5),
        PhaseSpec("maintenance", (5, 12), Decimal(1), "MIU", "SC", days_per_week=1),
    )
    assert [(v.code, v.day, v.window) for v in spec.visits] == [
        ("W0", 1, (0, 0)),
        ("W4", 29, (-3, 3)),
        ("W8", 57, (-3, 3)),
        ("W12", 85, (-3, 3)),
    ]
    assert spec.visits[0] == VisitSpec(
        "W0",
        "Baseline",
        1,
        (0, 0),
        ("ELIG", "RPDAI", "TREG", "STEROID", "VITALS", "CONMED", "MEDHIST"),
    )
    assert [form.code for form in spec.forms] == ["VITALS", "CONMED", "MEDHIST"]
    assert len(spec.reminders) == 5
    assert spec.reminders[3] == ReminderSpec(
        "sae_report_due", ("investigator", "study_admin"), before_hours=12
    )


def test_the_mood_protocol_is_double_blind_two_to_one_and_stratified_by_diagnosis():
    spec = parse_protocol(MOOD)

    assert (spec.study.code, spec.study.blinding) == ("LDIL2-MOOD", "double")
    assert [(a.code, a.ratio, a.placebo) for a in spec.arms] == [
        ("IL2", 2, False),
        ("PBO", 1, True),
    ]
    assert spec.strata == (
        StratumSpec("MDD", "Major depressive disorder"),
        StratumSpec("BD", "Bipolar disorder"),
    )
    age = next(c for c in spec.eligibility if c.text == "Age (years)")
    assert (age.type, age.min, age.max) == ("age", Decimal(18), Decimal(65))
    assert spec.sites[0].timezone == "Europe/Rome"
    assert {p.dose for p in spec.dosing.phases} == {Decimal("1.5")}
    hamd = [v.day for v in spec.visits if "HAMD17" in v.forms]
    treg = [v.day for v in spec.visits if "TREG" in v.forms]
    assert hamd == [1, 8, 15, 29]  # baseline, weeks 1, 2 and 4
    assert treg == [1, 5, 29]  # baseline, day 5, week 4


@pytest.mark.parametrize("text", [RP, MOOD], ids=["rp", "mood"])
def test_a_demo_protocol_survives_export_and_reimport(text):
    spec = parse_protocol(text)
    exported = dump_protocol(spec)

    assert parse_protocol(exported) == spec
    assert dump_protocol(parse_protocol(exported)) == exported


def test_an_export_leaves_out_what_is_at_its_default():
    exported = dump_protocol(parse_protocol(RP))

    assert "strata" not in exported
    assert "placebo" not in exported
    assert "sponsor" not in exported
    assert "type: boolean" not in exported
    assert "- {id: I4, kind: inclusion, text: Age (years), type: age, min: 18}" in exported


def test_decimal_numbers_are_kept_exact():
    spec = parse_protocol(changed("min: 18}", "min: 0.1, max: 0.30}"))

    assert spec.eligibility[3].min == Decimal("0.1")
    assert str(spec.eligibility[3].max) == "0.30"


def test_the_reminder_roles_are_the_membership_roles():
    from trials.models import Role

    assert set(ROLES) == set(Role.values)


# --- refusals: the file as YAML -----------------------------------------------------------------


def test_a_yaml_syntax_error_is_refused_with_its_line():
    text = changed("AE]}\n  - {code: W8", "AE]\n  - {code: W8")  # W4 loses its closing brace

    refused_once(
        text,
        "{code: W8",
        "",
        "not valid YAML: expected ',' or '}', but got '-' "
        f"(while parsing a flow mapping on line {line_of(text, '{code: W4')})",
    )


def test_an_empty_file_is_refused():
    assert problems("") == [
        ProtocolProblem(None, "", "the file is empty: expected a protocol mapping")
    ]


def test_an_unknown_key_is_refused_with_its_line():
    text = changed("day: 29", "dayz: 29")

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "dayz"),
            "visits[1]",
            f"unknown key 'dayz' (did you mean 'day'? allowed: {VISIT_KEYS})",
        ),
        ProtocolProblem(line_of(text, "dayz"), "visits[1]", "missing required key 'day'"),
    ]


def test_an_unknown_top_level_key_is_refused_with_the_keys_allowed():
    text = RP + "notes: to do\n"

    refused_once(
        text,
        "notes",
        "",
        "unknown key 'notes' (allowed: study, version, sites, arms, eligibility, dosing, "
        "visits, reminders, strata, forms)",
    )


def test_a_key_given_twice_is_refused():
    text = changed("ratio: 1}", "ratio: 1, name: again}")

    refused_once(text, "again", "arms[0]", "duplicate key 'name'")


def test_a_missing_required_key_is_refused_at_its_mapping():
    text = changed(", timezone: Asia/Shanghai", "")

    refused_once(text, "PKUPH", "sites[0]", "missing required key 'timezone'")


def test_a_missing_section_is_refused():
    text = RP[: RP.index("reminders:")]

    refused_once(text, "study:", "", "missing required key 'reminders'")


def test_an_empty_site_list_is_refused():
    text = changed(
        'sites:\n  - {code: PKUPH, name: "Peking University People\'s Hospital", '
        "timezone: Asia/Shanghai}\n",
        "sites: []\n",
    )

    refused_once(text, "sites: []", "sites", "must list at least one entry")


# --- refusals: types --------------------------------------------------------------------------


def test_text_where_a_number_belongs_is_refused():
    text = changed("ratio: 1", "ratio: one")

    refused_once(text, "ratio: one", "arms[0].ratio", "must be an integer, got a string 'one'")


def test_a_number_where_text_belongs_is_refused_with_a_hint_to_quote_it():
    text = changed('phase: "2"', "phase: 2")

    refused_once(
        text, "phase: 2", "study.phase", "must be a string, got an integer '2' (quote it: \"2\")"
    )


def test_a_single_form_instead_of_a_list_is_refused():
    text = changed("forms: [ELIG, RPDAI, TREG, STEROID, VITALS, CONMED, MEDHIST]", "forms: ELIG")

    refused_once(text, "forms: ELIG", "visits[0].forms", "must be a list, got a string 'ELIG'")


def test_a_dose_that_is_not_a_number_is_refused():
    text = changed("weeks: [1, 4], dose: 1", "weeks: [1, 4], dose: one")

    refused_once(text, "dose: one", "dosing.phases[0].dose", "must be a number, got a string 'one'")


def test_a_zero_dose_is_refused():
    text = changed("weeks: [1, 4], dose: 1", "weeks: [1, 4], dose: 0")

    refused_once(text, "dose: 0", "dosing.phases[0].dose", "must be greater than 0, got 0")


def test_placebo_must_be_true_or_false():
    text = changed("ratio: 1}", "ratio: 1, placebo: maybe}")

    refused_once(text, "maybe", "arms[0].placebo", "must be true or false, got a string 'maybe'")


def test_an_impossible_date_is_refused():
    text = changed("2019-11-01", "2019-02-30")

    refused_once(
        text,
        "2019-02-30",
        "version.effective",
        "'2019-02-30' is not a valid date (day is out of range for month)",
    )


def test_a_date_that_is_not_a_date_is_refused():
    text = changed("effective: 2019-11-01", "effective: soon")

    refused_once(
        text,
        "soon",
        "version.effective",
        "'soon' is not a valid date (expected YYYY-MM-DD)",
    )


def test_a_date_with_a_time_is_refused():
    text = changed("effective: 2019-11-01", "effective: 2019-11-01 10:00:00")

    refused_once(
        text,
        "2019-11-01",
        "version.effective",
        "'2019-11-01 10:00:00' must be a date without a time",
    )


def test_a_blinding_other_than_open_single_or_double_is_refused():
    text = changed("blinding: open", "blinding: triple")

    refused_once(
        text,
        "triple",
        "study.blinding",
        "unknown blinding 'triple' (known: open, single, double)",
    )


def test_an_unknown_time_zone_is_refused():
    text = changed("Asia/Shanghai", "Asia/Peking")

    refused_once(
        text,
        "Asia/Peking",
        "sites[0].timezone",
        "'Asia/Peking' is not an IANA time zone (e.g. Europe/Rome)",
    )


def test_a_code_with_a_space_is_refused():
    text = changed("code: W12,", "code: W 12,")

    refused_once(
        text,
        "W 12",
        "visits[3].code",
        "'W 12' is not a code (use letters, digits, _ and -)",
    )


# --- refusals: codes used twice ------------------------------------------------------------------

DUPLICATES = {
    "site": (
        "timezone: Asia/Shanghai}\n",
        "timezone: Asia/Shanghai}\n  - {code: PKUPH, name: Again, timezone: UTC}\n",
        "name: Again",
        "sites[1].code",
        "duplicate site code 'PKUPH' (first on line 5)",
    ),
    "arm": (
        "ratio: 1}\n",
        "ratio: 1}\n  - {code: LDIL2, name: Again, ratio: 1}\n",
        "name: Again",
        "arms[1].code",
        "duplicate arm code 'LDIL2' (first on line 7)",
    ),
    "criterion": (
        "id: E1,",
        "id: I1,",
        "Active serious infection",
        "eligibility[4].id",
        "duplicate criterion id 'I1' (first on line 9)",
    ),
    "visit": (
        "code: W8,",
        "code: W4,",
        "day: 57",
        "visits[2].code",
        f"duplicate visit code 'W4' (first on line {W4_LINE})",
    ),
    "phase": (
        "name: maintenance",
        "name: induction",
        "weeks: [5, 12]",
        "dosing.phases[1].name",
        "duplicate phase name 'induction' (first on line 21)",
    ),
}


@pytest.mark.parametrize("what", DUPLICATES)
def test_a_code_used_twice_is_refused_on_its_second_use(what):
    old, new, needle, path, message = DUPLICATES[what]
    text = changed(old, new)

    refused_once(text, needle, path, message)


def test_a_stratum_code_used_twice_is_refused_but_an_unused_stratum_is_fine():
    strata = "strata:\n  - {code: MDD, name: Major}\n  - {code: BD, name: Bipolar}\n"
    assert parse_protocol(changed("eligibility:\n", strata + "eligibility:\n")).strata == (
        StratumSpec("MDD", "Major"),
        StratumSpec("BD", "Bipolar"),
    )

    text = changed("eligibility:\n", strata.replace("BD,", "MDD,") + "eligibility:\n")
    refused_once(
        text, "Bipolar", "strata[1].code", "duplicate stratum code 'MDD' (first on line 9)"
    )


# --- refusals: arms -----------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", ["0", "-1"])
def test_an_arm_ratio_below_one_is_refused(ratio):
    text = changed("ratio: 1", f"ratio: {ratio}")

    refused_once(text, "ratio", "arms[0].ratio", f"must be at least 1, got {ratio}")


def test_a_blinded_study_with_one_arm_and_an_open_one_with_placebo_are_accepted():
    blinded = parse_protocol(changed("blinding: open", "blinding: double"))
    open_with_placebo = parse_protocol(changed("ratio: 1}", "ratio: 1, placebo: true}"))

    assert (blinded.study.blinding, len(blinded.arms)) == ("double", 1)
    assert open_with_placebo.arms[0].placebo is True


# --- refusals: eligibility ----------------------------------------------------------------------


def test_a_numeric_criterion_whose_max_is_below_its_min_is_refused():
    text = changed("min: 18}", "min: 18, max: 17}")

    refused_once(text, "max: 17", "eligibility[3].max", "max 17 is below min 18")


def test_a_numeric_criterion_without_bounds_is_refused():
    text = changed("type: age, min: 18}", "type: age}")

    refused_once(text, "Age", "eligibility[3]", "a numeric criterion needs 'min', 'max' or both")


def test_a_yes_no_criterion_with_a_bound_is_refused():
    text = changed('Active serious infection"}', 'Active serious infection", max: 3}')

    refused_once(text, "max: 3", "eligibility[4].max", "'max' applies only to type: number or age")


def test_an_unknown_criterion_kind_is_refused():
    text = changed("kind: exclusion", "kind: exception")

    refused_once(
        text,
        "exception",
        "eligibility[4].kind",
        "unknown criterion kind 'exception' (known: inclusion, exclusion)",
    )


# --- refusals: dosing ---------------------------------------------------------------------------


def test_overlapping_dosing_phases_are_refused():
    text = changed("weeks: [5, 12]", "weeks: [4, 12]")

    refused_once(
        text,
        "weeks: [4, 12]",
        "dosing.phases[1].weeks",
        "weeks 4-12 overlap phase 'induction' (weeks 1-4)",
    )


def test_a_phase_that_ends_before_it_starts_is_refused():
    text = changed("weeks: [5, 12]", "weeks: [12, 5]")

    refused_once(
        text,
        "weeks: [12, 5]",
        "dosing.phases[1].weeks",
        "the phase ends (week 5) before it starts (week 12)",
    )


def test_a_phase_before_week_one_is_refused():
    text = changed("weeks: [1, 4]", "weeks: [0, 4]")

    refused_once(text, "weeks: [0, 4]", "dosing.phases[0].weeks", "weeks start at 1, got 0")


@pytest.mark.parametrize("days", ["0", "8"])
def test_days_per_week_outside_one_to_seven_is_refused(days):
    text = changed("days_per_week: 5", f"days_per_week: {days}")

    refused_once(
        text,
        f"days_per_week: {days}",
        "dosing.phases[0].days_per_week",
        f"must be 1 to 7, got {days}",
    )


def test_named_days_of_the_week_are_accepted():
    spec = parse_protocol(changed("days_per_week: 1}", "days: [1, 4]}"))

    assert spec.dosing.phases[1].days == (1, 4)
    assert spec.dosing.phases[1].days_per_week is None


def test_a_day_of_the_week_outside_one_to_seven_is_refused():
    text = changed("days_per_week: 1}", "days: [1, 8]}")

    refused_once(
        text, "days: [1, 8]", "dosing.phases[1].days[1]", "days of the week are 1 to 7, got 8"
    )


def test_a_day_of_the_week_named_twice_is_refused():
    text = changed("days_per_week: 1}", "days: [1, 3, 1]}")

    refused_once(text, "days: [1, 3, 1]", "dosing.phases[1].days[2]", "day 1 is listed twice")


def test_a_phase_with_both_days_per_week_and_days_is_refused():
    text = changed("days_per_week: 1}", "days_per_week: 1, days: [1]}")

    refused_once(
        text,
        "name: maintenance",
        "dosing.phases[1]",
        "give one dosing pattern, not several (got days_per_week, days)",
    )


def test_a_phase_with_neither_days_per_week_nor_days_is_refused():
    text = changed(", days_per_week: 1}", "}")

    refused_once(
        text,
        "name: maintenance",
        "dosing.phases[1]",
        "missing a dosing pattern: give one of days_per_week, days, weekdays, every_days, "
        "every_weeks",
    )


# --- refusals: visits ---------------------------------------------------------------------------


@pytest.mark.parametrize("window", ["[1, 3]", "[-3, -1]"])
def test_a_window_that_does_not_contain_its_target_day_is_refused(window):
    text = changed("day: 29, window: [-3, 3]", f"day: 29, window: {window}")

    refused_once(
        text,
        f"window: {window}",
        "visits[1].window",
        f"window {window} does not contain the target day "
        "(write it [days before, days after] with days before <= 0 <= days after)",
    )


def test_study_day_zero_is_refused():
    text = changed("day: 1, ", "day: 0, ")

    refused_once(
        text,
        "day: 0",
        "visits[0].day",
        "there is no study day 0: day 1 is baseline, the day before it is day -1",
    )


def test_a_screening_visit_before_baseline_is_accepted():
    screening = (
        "  - {code: SCR, name: Screening, day: -14, window: [-7, 0], forms: [ELIG], "
        "screening: true}\n"
    )
    spec = parse_protocol(changed("visits:", "visits:\n" + screening.rstrip("\n"), RP))

    assert spec.visits[0] == VisitSpec("SCR", "Screening", -14, (-7, 0), ("ELIG",), True)


def test_a_form_that_no_instrument_has_is_refused():
    text = changed(
        "day: 29, window: [-3, 3], forms: [RPDAI, TREG, STEROID, VITALS, AE]",
        "day: 29, window: [-3, 3], forms: [RPDAI, TREG, STEROIDS, VITALS, AE]",
    )

    refused_once(
        text,
        "STEROIDS",
        "visits[1].forms[2]",
        "unknown form 'STEROIDS' (known: "
        + ", ".join(sorted(FORM_CODES | {"VITALS", "CONMED", "MEDHIST"}))
        + ")",
    )


def test_a_form_listed_twice_at_one_visit_is_refused():
    text = changed(
        "forms: [ELIG, RPDAI, TREG, STEROID, VITALS, CONMED, MEDHIST]",
        "forms: [ELIG, RPDAI, TREG, ELIG, VITALS, CONMED, MEDHIST]",
    )

    refused_once(text, "TREG, ELIG, VITALS", "visits[0].forms[3]", "form 'ELIG' is listed twice")


# --- refusals: reminders ------------------------------------------------------------------------


def test_an_unknown_reminder_event_is_refused():
    text = changed("event: visit_overdue", "event: visit_late")

    refused_once(
        text,
        "visit_late",
        "reminders[1].event",
        "unknown reminder event 'visit_late' (known: visit_window_opens, visit_overdue, "
        "dose_due, sae_report_due, ae_unreviewed, phq9_self_harm)",
    )


def test_an_unknown_role_is_refused():
    text = changed("notify: [investigator]}", "notify: [investigator, sponsor]}")

    refused_once(
        text,
        "sponsor]",
        "reminders[4].notify[1]",
        "unknown role 'sponsor' (known: coordinator, investigator, monitor, study_admin)",
    )


def test_a_reminder_timed_two_ways_is_refused():
    text = changed("after_days: 2,", "after_days: 2, before_hours: 4,")

    refused_once(
        text,
        "before_hours: 4",
        "reminders[4]",
        "give at most one of before_days, after_days, before_hours (got after_days, before_hours)",
    )


def test_a_negative_lead_time_is_refused():
    text = changed("before_days: 3", "before_days: -3")

    refused_once(text, "before_days: -3", "reminders[0].before_days", "must be at least 0, got -3")


def test_a_reminder_for_the_phq9_self_harm_item_needs_no_lead_time():
    text = RP + "  - {event: phq9_self_harm, notify: [investigator]}\n"

    assert parse_protocol(text).reminders[-1] == ReminderSpec("phq9_self_harm", ("investigator",))


# --- the error as a whole -----------------------------------------------------------------------


def test_every_problem_is_reported_at_once_in_file_order():
    text = changed("blinding: open", "blinding: triple")
    text = changed("weeks: [5, 12]", "weeks: [4, 12]", text)
    text = changed("ratio: 1", "ratio: 0", text)

    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(text, source="rp.yaml")

    assert [problem.line for problem in refused.value.errors] == [
        line_of(text, "triple"),
        line_of(text, "ratio: 0"),
        line_of(text, "weeks: [4, 12]"),
    ]
    assert str(refused.value).splitlines() == [
        f"rp.yaml:{line_of(text, 'triple')}: study.blinding: "
        "unknown blinding 'triple' (known: open, single, double)",
        f"rp.yaml:{line_of(text, 'ratio: 0')}: arms[0].ratio: must be at least 1, got 0",
        f"rp.yaml:{line_of(text, 'weeks: [4, 12]')}: dosing.phases[1].weeks: "
        "weeks 4-12 overlap phase 'induction' (weeks 1-4)",
    ]
