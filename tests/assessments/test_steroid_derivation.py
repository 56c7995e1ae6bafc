"""Steroid dose: prednisone equivalent, mg/kg/day, change from baseline, sparing response."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.derivations import (
    PREDNISONE_EQUIVALENT,
    is_steroid_sparing_response,
    mg_per_kg,
    percent_change,
    prednisone_equivalent,
    validate_steroid,
)

D = Decimal


def messages(errors):
    return {field: [str(m) for m in ms] for field, ms in errors.items()}


def test_the_equivalence_factors_are_those_of_the_design_as_exact_decimals():
    design = {
        "prednisone": D("1"),
        "prednisolone": D("1"),
        "methylprednisolone": D("1.25"),
        "hydrocortisone": D("0.25"),
        "dexamethasone": D("6.67"),
        "deflazacort": D("0.83"),  # 6 mg = 5 mg prednisone
        "betamethasone": D("8.33"),  # 0.6 mg = 5 mg prednisone
        "cortisone": D("0.2"),  # 25 mg = 5 mg prednisone
    }
    assert design == PREDNISONE_EQUIVALENT
    assert all(type(factor) is Decimal for factor in PREDNISONE_EQUIVALENT.values())


@pytest.mark.parametrize(
    ("drug", "mg", "equivalent"),
    [
        ("prednisone", 20, D("20.00")),
        ("prednisolone", "7.5", D("7.50")),
        ("methylprednisolone", 16, D("20.00")),  # 16 × 1.25
        ("hydrocortisone", 20, D("5.00")),  # 20 × 0.25
        ("dexamethasone", "0.75", D("5.00")),  # 0.75 × 6.67 = 5.0025
        ("dexamethasone", 4, D("26.68")),
        ("deflazacort", 6, D("4.98")),  # 6 × 0.83: the table's factor, not 5/6
        ("deflazacort", 30, D("24.90")),
        ("betamethasone", "0.6", D("5.00")),  # 0.6 × 8.33 = 4.998
        ("betamethasone", 3, D("24.99")),
        ("cortisone", 25, D("5.00")),  # 25 × 0.2
        ("cortisone", "37.5", D("7.50")),
    ],
)
def test_a_dose_is_converted_to_prednisone_equivalent_mg_per_day(drug, mg, equivalent):
    assert prednisone_equivalent(drug, mg) == equivalent


def test_the_drug_name_is_read_whatever_its_case_and_spacing():
    assert prednisone_equivalent(" Methylprednisolone ", 4) == D("5.00")


def test_an_unknown_drug_is_refused_with_the_drugs_that_are_known():
    with pytest.raises(ValueError, match="budesonide") as refused:
        prednisone_equivalent("budesonide", 9)
    assert "dexamethasone" in str(refused.value) and "prednisone" in str(refused.value)


def test_mg_per_kg_needs_a_weight():
    assert mg_per_kg(D("30"), 60) == D("0.500")
    assert mg_per_kg(D("12.5"), "72.4") == D("0.173")  # 0.17265...
    assert mg_per_kg(D("30")) is None
    with pytest.raises(ValueError):
        mg_per_kg(D("30"), 0)


@pytest.mark.parametrize(
    ("baseline", "current", "change"),
    [
        (20, 15, D("-25.0")),
        (20, 20, D("0.0")),
        (10, "12.5", D("25.0")),
        (30, 0, D("-100.0")),
        (15, 10, D("-33.3")),
    ],
)
def test_percent_change_from_baseline(baseline, current, change):
    assert percent_change(baseline, current) == change


@pytest.mark.parametrize(("baseline", "current"), [(0, 5), (None, 5), (10, None)])
def test_there_is_no_percent_change_without_a_baseline_to_divide_by(baseline, current):
    assert percent_change(baseline, current) is None


@pytest.mark.parametrize(
    ("baseline", "current", "response"),
    [
        (20, 15, True),  # exactly 25 % less
        (20, "14.5", True),
        (20, 0, True),  # stopped
        (20, "15.01", False),
        (20, 20, False),
        (20, 25, False),
        (0, 0, False),  # no steroid at baseline: nothing to spare
        (None, 10, False),
    ],
)
def test_a_reduction_of_at_least_25_percent_is_a_steroid_sparing_response(
    baseline, current, response
):
    assert is_steroid_sparing_response(baseline, current) is response


def test_the_response_is_decided_on_the_exact_dose_not_on_the_rounded_change():
    # 20 -> 15.01 is a 24.95 % fall, shown as -25.0 %, but it is not a 25 % reduction.
    assert percent_change(20, "15.01") == D("-25.0")
    assert is_steroid_sparing_response(20, "15.01") is False


def test_a_complete_entry_has_no_errors():
    assert validate_steroid("prednisone", "12.5", "64") == {}
    assert validate_steroid("prednisone", 0, None) == {}  # tapered off
    assert validate_steroid("prednisone", 10, "") == {}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (("", 10, None), {"drug": ["Choose a drug."]}),
        (("prednisone", None, None), {"mg_per_day": ["This field is required."]}),
        (("prednisone", "ten", None), {"mg_per_day": ["Enter a number."]}),
        (("prednisone", -5, None), {"mg_per_day": ["A dose cannot be negative."]}),
        (("prednisone", 10, 0), {"weight_kg": ["Body weight must be more than 0 kg."]}),
        (("prednisone", 10, "heavy"), {"weight_kg": ["Enter a number."]}),
    ],
)
def test_an_incomplete_or_impossible_entry_is_refused(entry, expected):
    assert messages(validate_steroid(*entry)) == expected


def test_an_unknown_drug_is_refused_on_the_drug_field():
    errors = messages(validate_steroid("budesonide", 9, None))
    assert list(errors) == ["drug"]
    assert "budesonide" in errors["drug"][0]


doses = st.decimals(min_value=0, max_value=1000, places=2)


@settings(deadline=None)
@given(doses.filter(lambda dose: dose > 0), doses)
def test_a_response_is_exactly_a_dose_at_most_three_quarters_of_baseline(baseline, current):
    assert is_steroid_sparing_response(baseline, current) == (current <= baseline * D("0.75"))


@settings(deadline=None)
@given(st.sampled_from(sorted(PREDNISONE_EQUIVALENT)), doses)
def test_the_equivalent_is_the_dose_times_the_factor_to_a_hundredth_of_a_mg(drug, mg):
    exact = mg * PREDNISONE_EQUIVALENT[drug]
    assert abs(prednisone_equivalent(drug, mg) - exact) <= D("0.005")
