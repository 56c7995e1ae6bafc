"""RPDAI as the protocol uses it: 27 weighted items over the last 28 days, 0 = complete response.

The weights below are copied from the published table (Arnaud L et al., Autoimmun Rev
2012;12:204-9, as tabulated in Rednic S et al., RMD Open 2018;4(Suppl 1):e000788, Table 2;
docs/INSTRUMENTS.md, "RPDAI"), independently of the module, so a mistyped weight in either
place fails here.
"""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from assessments.instruments import InstrumentValidationError, get
from assessments.instruments.rpdai import RESPIRATORY, RESPIRATORY_FAILURE, RPDAI

WEIGHTS = {
    "FEVER": 2,
    "ARTHR": 1,
    "MANUBR": 3,
    "STERNCL": 4,
    "COSTOCH": 4,
    "AURIC": 9,
    "NASAL": 9,
    "EPISCL": 5,
    "SCLER": 9,
    "UVEITIS": 9,
    "CORNULC": 11,
    "RETVASC": 14,
    "CRP": 3,
    "VESTIB": 12,
    "PURPURA": 3,
    "HAEMAT": 4,
    "PROTEIN": 6,
    "RENFAIL": 17,
    "PERICARD": 9,
    "VESSEL": 16,
    "MYOCARD": 17,
    "VALVE": 18,
    "NEUROP": 12,
    "ENCEPH": 22,
    "RESPCH": 14,
    "RESPCHF": 24,
    "DEAFNESS": 8,
}


def answers(*present):
    """Every item answered: the ones named present, the others absent."""
    unknown = set(present) - set(WEIGHTS)
    assert not unknown, unknown
    return {code: code in present for code in WEIGHTS}


def test_the_registry_serves_the_rpdai():
    assert get("RPDAI") is RPDAI


def test_the_index_has_the_27_items_of_the_published_table_with_their_weights():
    assert len(RPDAI.items) == 27
    assert {item.code: item.weight for item in RPDAI.items} == WEIGHTS
    assert all(item.type == "boolean" for item in RPDAI.items)


def test_the_weights_sum_to_the_theoretical_maximum_of_265():
    assert sum(WEIGHTS.values()) == 265
    assert RPDAI.theoretical_max == 265


def test_no_activity_scores_0_which_is_a_complete_response():
    score = RPDAI.score(answers())
    assert score.total == 0
    assert score.details["complete_response"] is True
    assert score.details["items_present"] == []
    assert score.band is None
    assert score.alerts == ()


def test_the_reachable_maximum_is_251_because_the_respiratory_items_exclude_each_other():
    everything_but_the_milder_respiratory_item = [c for c in WEIGHTS if c != RESPIRATORY]
    score = RPDAI.score(answers(*everything_but_the_milder_respiratory_item))
    assert score.total == 265 - 14 == 251
    assert score.details["complete_response"] is False
    everything_but_respiratory_failure = [c for c in WEIGHTS if c != RESPIRATORY_FAILURE]
    assert RPDAI.score(answers(*everything_but_respiratory_failure)).total == 241


def test_a_typical_flare_is_scored_as_computed_by_hand():
    # auricular 9 + nasal 9 + arthritis 1 + CRP > 20 mg/L 3 + fever 2 = 24
    score = RPDAI.score(answers("AURIC", "NASAL", "ARTHR", "CRP", "FEVER"))
    assert score.total == 24
    assert score.details["complete_response"] is False
    assert score.details["items_present"] == ["FEVER", "ARTHR", "AURIC", "NASAL", "CRP"]


def test_both_respiratory_items_are_refused_with_a_message():
    errors = RPDAI.validate(answers(RESPIRATORY, RESPIRATORY_FAILURE))
    assert set(errors) == {"__all__", RESPIRATORY_FAILURE}
    message = str(errors["__all__"][0])
    assert "one organ at two severities" in message
    assert "choose one" in message
    assert [str(m) for m in errors[RESPIRATORY_FAILURE]] == [message]
    with pytest.raises(InstrumentValidationError) as refused:
        RPDAI.score(answers(RESPIRATORY, RESPIRATORY_FAILURE))
    assert refused.value.errors == errors


@pytest.mark.parametrize(("item", "weight"), [(RESPIRATORY, 14), (RESPIRATORY_FAILURE, 24)])
def test_either_respiratory_item_alone_is_accepted(item, weight):
    assert RPDAI.validate(answers(item)) == {}
    assert RPDAI.score(answers(item)).total == weight


def test_the_respiratory_conflict_is_reported_with_the_other_problems_at_once():
    given_answers = answers(RESPIRATORY, RESPIRATORY_FAILURE)
    del given_answers["FEVER"]
    errors = RPDAI.validate(given_answers)
    assert set(errors) == {"__all__", RESPIRATORY_FAILURE, "FEVER"}


def test_an_unanswered_item_is_required_not_assumed_absent():
    given_answers = answers("AURIC")
    del given_answers["NASAL"]
    errors = RPDAI.validate(given_answers)
    assert {code: [str(m) for m in ms] for code, ms in errors.items()} == {
        "NASAL": ["This item is required."]
    }
    with pytest.raises(InstrumentValidationError):
        RPDAI.score(given_answers)


@pytest.mark.parametrize("value", [1, 0, 1.0, "true", "no", "yes", [True]])
def test_an_answer_other_than_true_or_false_is_refused(value):
    errors = RPDAI.validate({**answers(), "AURIC": value})
    assert list(errors) == ["AURIC"]
    assert str(errors["AURIC"][0]) == "Must be yes or no (true or false)."


def test_an_item_code_the_index_does_not_have_is_refused():
    errors = RPDAI.validate({**answers(), "GOUT": True})
    assert list(errors) == ["GOUT"]
    assert "GOUT" in str(errors["GOUT"][0])


def test_answers_that_are_not_a_mapping_are_refused():
    errors = RPDAI.validate([True] * 27)
    assert list(errors) == ["__all__"]


def test_clean_returns_the_answers_as_given_when_valid():
    assert RPDAI.clean(answers("UVEITIS")) == answers("UVEITIS")


def test_the_description_lists_every_item_with_its_weight():
    described = RPDAI.describe()
    assert described["code"] == "RPDAI"
    assert "Relapsing Polychondritis" in described["name"]
    assert [item["code"] for item in described["items"]] == list(WEIGHTS)
    auricular = described["items"][5]
    assert auricular == {
        "code": "AURIC",
        "label": "Auricular chondritis (uni- or bilateral)",
        "type": "boolean",
        "min": None,
        "max": None,
        "weight": 9,
    }
    assert "never both" in described["items"][24]["help"]


@settings(deadline=None)
@given(st.sets(st.sampled_from(sorted(WEIGHTS))))
def test_the_score_is_the_sum_of_the_weights_of_the_items_present(present):
    assume(not {RESPIRATORY, RESPIRATORY_FAILURE} <= present)
    score = RPDAI.score(answers(*present))
    assert score.total == sum(WEIGHTS[code] for code in present)
    assert score.details["complete_response"] == (not present)
    assert 0 <= score.total <= 251


@settings(deadline=None)
@given(st.sets(st.sampled_from(sorted(WEIGHTS))))
def test_any_answer_set_with_both_respiratory_items_is_refused(present):
    present = present | {RESPIRATORY, RESPIRATORY_FAILURE}
    errors = RPDAI.validate(answers(*present))
    assert RESPIRATORY_FAILURE in errors
    assert "__all__" in errors
