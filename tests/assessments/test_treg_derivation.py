"""Treg panel derivations: absolute counts from percentages of CD4+, ratio, change from baseline."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.derivations import InvalidInput, derive_treg, validate_treg

D = Decimal
VALID = {
    "lymphocytes_per_ul": "1500",
    "cd4_per_ul": "600",
    "treg_pct_of_cd4": "5.5",
    "tcon_pct_of_cd4": "90",
}


def messages(errors):
    return {field: [str(m) for m in ms] for field, ms in errors.items()}


def test_a_typical_panel_is_derived_as_computed_by_hand():
    # CD4 = 40 % of 1500 = 600 /µL; Treg = 5.5 % of 600 = 33 /µL; Tcon = 90 % of 600 = 540 /µL;
    # Treg/Tcon = 33 / 540 = 0.06111... -> 0.0611
    panel = derive_treg(
        lymphocytes_per_ul=1500,
        cd4_pct_of_lymphocytes=40,
        treg_pct_of_cd4="5.5",
        tcon_pct_of_cd4=90,
    )
    assert panel.cd4_per_ul == D("600.0")
    assert panel.treg_per_ul == D("33.0")
    assert panel.tcon_per_ul == D("540.0")
    assert panel.treg_tcon_ratio == D("0.0611")
    assert panel.treg_pct_change is None and panel.treg_per_ul_change_pct is None


def test_a_measured_cd4_count_wins_over_the_cd4_percentage():
    panel = derive_treg(**{**VALID, "cd4_per_ul": 700, "cd4_pct_of_lymphocytes": 40})
    assert panel.cd4_per_ul == D("700.0")
    assert panel.treg_per_ul == D("38.5")


def test_counts_are_rounded_to_a_tenth_of_a_cell_and_the_ratio_to_four_places():
    # 4.37 % of 623 = 27.2251; 85.55 % of 623 = 532.9765; 4.37 / 85.55 = 0.051081...
    panel = derive_treg(
        lymphocytes_per_ul=1400, cd4_per_ul=623, treg_pct_of_cd4="4.37", tcon_pct_of_cd4="85.55"
    )
    assert (panel.treg_per_ul, panel.tcon_per_ul) == (D("27.2"), D("533.0"))
    assert panel.treg_tcon_ratio == D("0.0511")


def test_a_count_exactly_half_way_rounds_up_as_clinical_reports_do():
    # 0.05 % of 500 = 0.25 -> 0.3 (banker's rounding would give 0.2)
    panel = derive_treg(
        lymphocytes_per_ul=900, cd4_per_ul=500, treg_pct_of_cd4="0.05", tcon_pct_of_cd4=80
    )
    assert panel.treg_per_ul == D("0.3")


def test_floats_from_a_json_body_do_not_leak_binary_fractions():
    panel = derive_treg(
        lymphocytes_per_ul=1500.0, cd4_per_ul=600.0, treg_pct_of_cd4=5.1, tcon_pct_of_cd4=90.0
    )
    assert panel.treg_pct_of_cd4 == D("5.1")
    assert panel.treg_per_ul == D("30.6")


def test_the_ratio_is_absent_when_there_are_no_tcon():
    panel = derive_treg(**{**VALID, "tcon_pct_of_cd4": 0})
    assert panel.tcon_per_ul == D("0.0")
    assert panel.treg_tcon_ratio is None


def test_the_ratio_is_absent_when_there_are_no_cd4_cells():
    panel = derive_treg(**{**VALID, "cd4_per_ul": 0})
    assert (panel.treg_per_ul, panel.tcon_per_ul, panel.treg_tcon_ratio) == (D(0), D(0), None)


def test_change_from_baseline_is_given_in_points_and_per_cent():
    baseline = derive_treg(**VALID)  # Treg 5.5 %, 33.0 /µL
    week_4 = derive_treg(
        lymphocytes_per_ul=1500,
        cd4_per_ul=700,
        treg_pct_of_cd4="8.25",
        tcon_pct_of_cd4=88,
        baseline=baseline,
    )
    # 8.25 % of 700 = 57.75 -> 57.8; 57.8 - 33.0 = 24.8; 24.8 / 33.0 = 75.15 % -> 75.2
    assert week_4.treg_per_ul == D("57.8")
    assert week_4.treg_pct_change == D("2.75")
    assert week_4.treg_pct_change_pct == D("50.0")
    assert week_4.treg_per_ul_change == D("24.8")
    assert week_4.treg_per_ul_change_pct == D("75.2")


def test_a_fall_from_baseline_is_negative():
    baseline = derive_treg(**VALID)
    later = derive_treg(**{**VALID, "treg_pct_of_cd4": "4.4"}, baseline=baseline)
    assert later.treg_pct_change == D("-1.10")
    assert later.treg_pct_change_pct == D("-20.0")


def test_there_is_no_relative_change_from_a_baseline_of_zero_treg():
    baseline = derive_treg(**{**VALID, "treg_pct_of_cd4": 0})
    later = derive_treg(**VALID, baseline=baseline)
    assert later.treg_per_ul_change == D("33.0")
    assert later.treg_pct_change_pct is None and later.treg_per_ul_change_pct is None


def test_a_complete_panel_has_no_errors():
    assert validate_treg(**VALID) == {}
    assert validate_treg(**{**VALID, "cd4_per_ul": None, "cd4_pct_of_lymphocytes": "40"}) == {}


@pytest.mark.parametrize("field", ["treg_pct_of_cd4", "tcon_pct_of_cd4", "cd4_pct_of_lymphocytes"])
@pytest.mark.parametrize("value", ["-0.1", "100.1", 250])
def test_a_percentage_outside_0_to_100_is_refused(field, value):
    errors = messages(validate_treg(**{**VALID, "tcon_pct_of_cd4": 0, field: value}))
    assert errors[field] == ["A percentage must be between 0 and 100."]


def test_treg_and_tcon_adding_up_to_more_than_100_percent_of_cd4_is_refused():
    errors = messages(validate_treg(**{**VALID, "treg_pct_of_cd4": "10.5", "tcon_pct_of_cd4": 90}))
    assert set(errors) == {"__all__", "treg_pct_of_cd4", "tcon_pct_of_cd4"}
    assert errors["__all__"] == ["Treg % and Tcon % of CD4+ cannot add up to more than 100."]
    assert validate_treg(**{**VALID, "treg_pct_of_cd4": 10, "tcon_pct_of_cd4": 90}) == {}


@pytest.mark.parametrize("field", ["lymphocytes_per_ul", "cd4_per_ul"])
def test_a_negative_count_is_refused(field):
    errors = messages(validate_treg(**{**VALID, field: -1}))
    assert "A cell count cannot be negative." in errors[field]


def test_more_cd4_cells_than_lymphocytes_is_refused():
    errors = messages(validate_treg(**{**VALID, "cd4_per_ul": 1501}))
    assert errors == {
        "__all__": ["CD4+ cells per µL cannot be more than lymphocytes per µL."],
        "cd4_per_ul": ["CD4+ cells per µL cannot be more than lymphocytes per µL."],
    }


@pytest.mark.parametrize("blank", [None, ""])
def test_a_panel_without_any_cd4_value_is_refused(blank):
    errors = messages(
        validate_treg(**{**VALID, "cd4_per_ul": blank, "cd4_pct_of_lymphocytes": blank})
    )
    assert errors["cd4_per_ul"] == ["Enter CD4+ cells per µL or CD4+ % of lymphocytes."]
    assert "__all__" in errors


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "This field is required."),
        ("abc", "Enter a number."),
        ("NaN", "Enter a number."),
        (True, "Enter a number."),
    ],
)
def test_a_missing_or_unreadable_entry_is_refused(value, message):
    assert messages(validate_treg(**{**VALID, "treg_pct_of_cd4": value})) == {
        "treg_pct_of_cd4": [message]
    }


def test_deriving_from_invalid_entries_raises_with_the_errors():
    with pytest.raises(InvalidInput) as refused:
        derive_treg(**{**VALID, "treg_pct_of_cd4": 101})
    assert isinstance(refused.value, ValueError)
    assert list(refused.value.errors) == ["treg_pct_of_cd4"]


percentages = st.decimals(min_value=0, max_value=100, places=2)
counts = st.decimals(min_value=0, max_value=5000, places=1)


@settings(deadline=None)
@given(counts, percentages, percentages, percentages)
def test_derived_counts_follow_the_percentages_of_cd4(lymphocytes, cd4_pct, treg_pct, tcon_pct):
    if treg_pct + tcon_pct > 100:
        tcon_pct = 100 - treg_pct
    panel = derive_treg(
        lymphocytes_per_ul=lymphocytes,
        cd4_pct_of_lymphocytes=cd4_pct,
        treg_pct_of_cd4=treg_pct,
        tcon_pct_of_cd4=tcon_pct,
    )
    cd4 = lymphocytes * cd4_pct / 100
    assert abs(panel.treg_per_ul - treg_pct * cd4 / 100) <= D("0.05")
    assert abs(panel.tcon_per_ul - tcon_pct * cd4 / 100) <= D("0.05")
    assert panel.treg_per_ul + panel.tcon_per_ul <= panel.cd4_per_ul + D("0.1")
    assert (panel.treg_tcon_ratio is None) == (tcon_pct == 0 or cd4 == 0)


@settings(deadline=None)
@given(
    st.sampled_from(["treg_pct_of_cd4", "tcon_pct_of_cd4", "cd4_pct_of_lymphocytes"]),
    st.one_of(
        st.decimals(max_value=D("-0.01"), allow_nan=False, allow_infinity=False),
        st.decimals(min_value=D("100.01"), allow_nan=False, allow_infinity=False),
    ),
)
def test_any_percentage_outside_0_to_100_is_refused_on_that_field(field, value):
    errors = validate_treg(**{**VALID, "tcon_pct_of_cd4": 0, field: value})
    assert field in errors
