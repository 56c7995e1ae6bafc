"""PHQ-9 as docs/INSTRUMENTS.md describes it (Kroenke K, Spitzer RL, Williams JBW, J Gen Intern
Med 2001;16:606-13): 9 items 0-3, bands, a self-harm alert, question 10 unscored."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.instruments import get
from assessments.instruments.phq9 import PHQ9

SCORED = [f"P{n}" for n in range(1, 10)]
BAND_ORDER = ["minimal", "mild", "moderate", "moderately severe", "severe"]


def answers(*values, **extra):
    """Items 1-9 in order (the rest 0), plus any extra answers by code."""
    values = list(values) + [0] * (9 - len(values))
    return {**dict(zip(SCORED, values, strict=True)), **extra}


def answers_totalling(total, self_harm=0):
    values, left = [], total - self_harm
    for _code in SCORED[:-1]:
        values.append(min(3, left))
        left -= values[-1]
    assert left == 0
    return answers(*values, self_harm)


def messages(errors):
    return {code: [str(m) for m in ms] for code, ms in errors.items()}


def test_the_registry_serves_the_phq9():
    assert get("PHQ9") is PHQ9


def test_nine_items_score_0_to_3_and_the_total_runs_to_27():
    assert [(i.code, i.min, i.max) for i in PHQ9.items if i.scored] == [
        (code, 0, 3) for code in SCORED
    ]
    assert PHQ9.theoretical_max == 27


def test_no_symptoms_score_0_minimal_without_alert():
    score = PHQ9.score(answers())
    assert (score.total, score.band, score.alerts) == (0, "minimal", ())


def test_every_item_nearly_every_day_scores_27_severe():
    score = PHQ9.score(answers(*[3] * 9))
    assert (score.total, score.band) == (27, "severe")


def test_a_typical_questionnaire_is_scored_as_computed_by_hand():
    # 2+2+1+3+0+1+2+0+0 = 11
    score = PHQ9.score(answers(2, 2, 1, 3, 0, 1, 2, 0, 0))
    assert (score.total, score.band, score.alerts) == (11, "moderate", ())


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
    ],
)
def test_the_severity_bands_change_at_5_10_15_and_20(total, band):
    score = PHQ9.score(answers_totalling(total))
    assert (score.total, score.band) == (total, band)


@pytest.mark.parametrize("item_9", [1, 2, 3])
def test_any_thought_of_self_harm_raises_the_alert_even_with_a_minimal_total(item_9):
    score = PHQ9.score(answers(0, 0, 0, 0, 0, 0, 0, 0, item_9))
    assert score.band == "minimal"
    assert score.alerts == ("self_harm",)


def test_self_harm_on_item_9_is_alerted_but_other_items_at_maximum_are_not():
    assert PHQ9.score(answers(3, 3, 3, 3, 3, 3, 3, 3, 0)).alerts == ()


def test_question_10_is_recorded_but_not_scored():
    without = PHQ9.score(answers(1, 1, 1))
    with_difficulty = PHQ9.score(answers(1, 1, 1, P10=3))
    assert without.total == with_difficulty.total == 3
    assert with_difficulty.details == {"difficulty": 3}
    assert without.details == {"difficulty": None}
    assert PHQ9.clean(answers(P10="2"))["P10"] == 2


def test_question_10_may_be_left_blank_but_not_answered_out_of_range():
    assert PHQ9.validate(answers(P10="")) == {}
    assert messages(PHQ9.validate(answers(P10=4))) == {"P10": ["Must be between 0 and 3."]}


def test_an_unanswered_item_is_required():
    rating = answers()
    del rating["P9"]
    assert messages(PHQ9.validate(rating)) == {"P9": ["This item is required."]}


def test_the_description_marks_question_10_as_optional_and_unscored():
    last = PHQ9.describe()["items"][-1]
    assert (last["code"], last["required"], last["scored"]) == ("P10", False, False)
    assert "not at all" in PHQ9.describe()["items"][0]["help"]


@settings(deadline=None)
@given(
    st.sampled_from(SCORED + ["P10"]),
    st.one_of(st.integers(max_value=-1), st.integers(min_value=4)),
)
def test_any_out_of_range_answer_is_refused_on_that_item(code, value):
    errors = messages(PHQ9.validate(answers(**{code: value})))
    assert errors == {code: ["Must be between 0 and 3."]}


scores = st.lists(st.integers(0, 3), min_size=9, max_size=9)


@settings(deadline=None)
@given(scores, scores)
def test_the_band_never_goes_down_as_the_total_goes_up(first, second):
    scored = [PHQ9.score(answers(*first)), PHQ9.score(answers(*second))]
    low, high = sorted(scored, key=lambda score: score.total)
    assert BAND_ORDER.index(low.band) <= BAND_ORDER.index(high.band)
    if low.total == high.total:
        assert low.band == high.band


@settings(deadline=None)
@given(scores)
def test_the_total_is_the_sum_and_the_alert_follows_item_9(values):
    score = PHQ9.score(answers(*values))
    assert score.total == sum(values)
    assert score.alerts == (("self_harm",) if values[8] > 0 else ())
