"""HAM-D 17 as docs/INSTRUMENTS.md describes it: items 0-4 or 0-2, item 16 once (16A or 16B),
0-52."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.instruments import InstrumentValidationError, get
from assessments.instruments.hamd17 import HAMD17

# The 17-item scale (Hamilton 1960, 1967; docs/INSTRUMENTS.md, "HAM-D 17"): items 1, 2, 3, 7,
# 8, 9, 10, 11 and 15 score 0-4; 4-6, 12-14, 16 and 17 score 0-2.
RANGES = {
    "H1": 4,
    "H2": 4,
    "H3": 4,
    "H4": 2,
    "H5": 2,
    "H6": 2,
    "H7": 4,
    "H8": 4,
    "H9": 4,
    "H10": 4,
    "H11": 4,
    "H12": 2,
    "H13": 2,
    "H14": 2,
    "H15": 4,
    "H16A": 2,
    "H16B": 2,
    "H17": 2,
}
ONE_ITEM_16 = [code for code in RANGES if code != "H16B"]  # rated by history


def answers(value=0, weight_item="H16A", **overrides):
    """A complete rating: every item `value` (capped at its maximum), 16 rated once."""
    rating = {code: min(value, top) for code, top in RANGES.items() if code not in ("H16A", "H16B")}
    rating[weight_item] = min(value, 2)
    rating.update(overrides)
    return rating


def answers_totalling(total):
    """A valid rating whose items add up to `total`, filling items in order."""
    rating, left = {}, total
    for code in ONE_ITEM_16:
        rating[code] = min(left, RANGES[code])
        left -= rating[code]
    assert left == 0
    return rating


def band_by_design(total):
    """docs/INSTRUMENTS.md: < 8 none, 8-13 mild, 14-18 moderate, 19-22 severe, >= 23 very
    severe."""
    if total < 8:
        return "none"
    if total <= 13:
        return "mild"
    if total <= 18:
        return "moderate"
    if total <= 22:
        return "severe"
    return "very severe"


def messages(errors):
    return {code: [str(m) for m in ms] for code, ms in errors.items()}


def test_the_registry_serves_the_hamd17():
    assert get("HAMD17") is HAMD17


def test_each_item_has_the_range_of_the_17_item_scale():
    assert {item.code: (item.min, item.max) for item in HAMD17.items} == {
        code: (0, top) for code, top in RANGES.items()
    }
    assert all(item.type == "integer" for item in HAMD17.items)


def test_the_total_runs_from_0_to_52():
    assert HAMD17.theoretical_max == 52


def test_no_symptoms_score_0_and_no_depression():
    score = HAMD17.score(answers(0))
    assert (score.total, score.band) == (0, "none")


@pytest.mark.parametrize("weight_item", ["H16A", "H16B"])
def test_every_item_at_its_maximum_scores_52_very_severe(weight_item):
    score = HAMD17.score(answers(4, weight_item=weight_item))
    assert (score.total, score.band) == (52, "very severe")
    assert score.details == {"weight_loss_item": weight_item}


def test_a_typical_rating_is_scored_as_computed_by_hand():
    rating = {
        "H1": 2, "H2": 1, "H3": 0, "H4": 1, "H5": 1, "H6": 0, "H7": 2, "H8": 1, "H9": 0,
        "H10": 2, "H11": 1, "H12": 0, "H13": 1, "H14": 0, "H15": 1, "H16B": 1, "H17": 0,
    }  # fmt: skip
    # 2+1+0+1+1+0+2+1+0+2+1+0+1+0+1+1+0 = 14
    score = HAMD17.score(rating)
    assert (score.total, score.band) == (14, "moderate")


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (7, "none"),
        (8, "mild"),
        (13, "mild"),
        (14, "moderate"),
        (18, "moderate"),
        (19, "severe"),
        (22, "severe"),
        (23, "very severe"),
        (52, "very severe"),
    ],
)
def test_the_severity_bands_change_at_8_14_19_and_23(total, band):
    score = HAMD17.score(answers_totalling(total))
    assert (score.total, score.band) == (total, band)


def test_weight_loss_rated_both_by_history_and_measured_is_refused_on_both_items():
    errors = messages(HAMD17.validate(answers(1, H16B=1)))
    assert set(errors) == {"__all__", "H16A", "H16B"}
    assert errors["H16A"] == errors["H16B"] == errors["__all__"]
    assert "16A" in errors["H16A"][0] and "16B" in errors["H16A"][0]


def test_weight_loss_not_rated_at_all_is_refused():
    rating = answers(1)
    del rating["H16A"]
    errors = messages(HAMD17.validate(rating))
    assert errors["__all__"] == ["Answer 16A (by history) or 16B (measured)."]
    with pytest.raises(InstrumentValidationError):
        HAMD17.score(rating)


def test_an_empty_rating_lists_every_missing_item_and_item_16_at_once():
    errors = messages(HAMD17.validate({}))
    assert set(errors) == set(RANGES) | {"__all__"}
    assert errors["H1"] == ["This item is required."]
    assert errors["H16A"] == ["Answer 16A (by history) or 16B (measured)."]


def test_an_out_of_range_16a_is_not_also_reported_as_item_16_unanswered():
    errors = messages(HAMD17.validate(answers(0, H16A=3)))
    assert errors == {"H16A": ["Must be between 0 and 2."]}


def test_numbers_typed_into_an_html_form_are_accepted_as_whole_numbers():
    rating = {code: str(value) for code, value in answers(1).items()}
    rating["H1"] = " 3 "
    cleaned = HAMD17.clean(rating)
    assert cleaned["H1"] == 3
    assert all(type(value) is int for value in cleaned.values())
    assert HAMD17.score(rating).total == 19


def test_a_float_without_a_fraction_is_accepted():
    assert HAMD17.clean(answers(0, H1=3.0))["H1"] == 3


@pytest.mark.parametrize("value", [True, False, 2.5, "2.5", "two", [2], {"v": 2}])
def test_an_answer_that_is_not_a_whole_number_is_refused(value):
    errors = messages(HAMD17.validate(answers(0, H1=value)))
    assert errors == {"H1": ["Must be a whole number."]}


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_blank_answer_is_missing_not_zero(value):
    errors = messages(HAMD17.validate(answers(0, H3=value)))
    assert errors == {"H3": ["This item is required."]}


def test_the_out_of_range_message_names_the_range():
    errors = messages(HAMD17.validate(answers(0, H4=3)))
    assert errors == {"H4": ["Must be between 0 and 2."]}


def test_an_item_code_the_scale_does_not_have_is_refused():
    errors = messages(HAMD17.validate(answers(0, H18=1)))
    assert list(errors) == ["H18"]


def test_the_description_gives_each_items_range_and_no_weight():
    items = HAMD17.describe()["items"]
    assert items[0] == {
        "code": "H1",
        "label": "1. Depressed mood",
        "type": "integer",
        "min": 0,
        "max": 4,
    }
    assert all("weight" not in item for item in items)
    optional = [item["code"] for item in items if item.get("required") is False]
    assert optional == ["H16A", "H16B"]


@st.composite
def one_item_out_of_range(draw):
    code = draw(st.sampled_from(sorted(RANGES)))
    value = draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=RANGES[code] + 1)))
    as_text = draw(st.booleans())
    return code, str(value) if as_text else value


@settings(deadline=None)
@given(one_item_out_of_range())
def test_any_out_of_range_answer_is_refused_on_that_item(case):
    code, value = case
    weight_item = "H16B" if code == "H16B" else "H16A"
    errors = messages(HAMD17.validate(answers(0, weight_item=weight_item, **{code: value})))
    assert errors == {code: [f"Must be between 0 and {RANGES[code]}."]}


@settings(deadline=None)
@given(
    st.fixed_dictionaries({code: st.integers(0, RANGES[code]) for code in ONE_ITEM_16}),
    st.sampled_from(["H16A", "H16B"]),
)
def test_the_total_is_the_sum_of_the_items_and_banded_as_designed(rating, weight_item):
    rating[weight_item] = rating.pop("H16A")
    score = HAMD17.score(rating)
    assert score.total == sum(rating.values())
    assert 0 <= score.total <= 52
    assert score.band == band_by_design(score.total)
