"""SLEDAI-2K as published: 24 weighted descriptors (8/4/2/1), total 0-105.

The weights are copied from the published source (Gladman DD, Ibañez D, Urowitz MB,
J Rheumatol 2002;29:288-91; docs/INSTRUMENTS.md, "SLEDAI-2K") independently of the module.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.instruments import InstrumentValidationError, get
from assessments.instruments.sledai2k import SLEDAI2K

WEIGHTS = {
    # 8: seizure, psychosis, organic brain syndrome, visual disturbance, cranial nerve
    # disorder, lupus headache, CVA, vasculitis
    "SEIZURE": 8,
    "PSYCHOS": 8,
    "OBS": 8,
    "VISUAL": 8,
    "CRANNERV": 8,
    "HEADACHE": 8,
    "CVA": 8,
    "VASCUL": 8,
    # 4: arthritis, myositis, urinary casts, haematuria, proteinuria, pyuria
    "ARTHR": 4,
    "MYOSITIS": 4,
    "CASTS": 4,
    "HAEMAT": 4,
    "PROTEIN": 4,
    "PYURIA": 4,
    # 2: rash, alopecia, mucosal ulcers, pleurisy, pericarditis, low complement, DNA binding
    "RASH": 2,
    "ALOPECIA": 2,
    "MUCULC": 2,
    "PLEURISY": 2,
    "PERICARD": 2,
    "LOWCOMPL": 2,
    "DNABIND": 2,
    # 1: fever, thrombocytopenia, leukopenia
    "FEVER": 1,
    "THROMBO": 1,
    "LEUKOPEN": 1,
}


def answers(*present):
    unknown = set(present) - set(WEIGHTS)
    assert not unknown, unknown
    return {code: code in present for code in WEIGHTS}


def test_the_registry_serves_the_sledai2k():
    assert get("SLEDAI2K") is SLEDAI2K


def test_the_index_has_24_descriptors_with_the_published_weights():
    assert len(SLEDAI2K.items) == 24
    assert {item.code: item.weight for item in SLEDAI2K.items} == WEIGHTS
    assert sorted({item.weight for item in SLEDAI2K.items}) == [1, 2, 4, 8]


def test_the_weights_sum_to_the_maximum_of_105():
    assert sum(WEIGHTS.values()) == 105
    assert SLEDAI2K.theoretical_max == 105


def test_no_activity_scores_0():
    score = SLEDAI2K.score(answers())
    assert (score.total, score.band, score.alerts) == (0, None, ())


def test_every_descriptor_present_scores_105():
    assert SLEDAI2K.score(answers(*WEIGHTS)).total == 105


def test_a_typical_renal_and_serological_flare_is_scored_as_computed_by_hand():
    # arthritis 4 + proteinuria 4 + rash 2 + low complement 2 + DNA binding 2 = 14
    score = SLEDAI2K.score(answers("ARTHR", "PROTEIN", "RASH", "LOWCOMPL", "DNABIND"))
    assert score.total == 14


@pytest.mark.parametrize("value", [1, "yes", "True", 0.0])
def test_an_answer_other_than_true_or_false_is_refused(value):
    errors = SLEDAI2K.validate({**answers(), "SEIZURE": value})
    assert list(errors) == ["SEIZURE"]
    assert str(errors["SEIZURE"][0]) == "Must be yes or no (true or false)."


def test_an_unanswered_descriptor_is_required():
    rating = answers("RASH")
    del rating["LEUKOPEN"]
    with pytest.raises(InstrumentValidationError) as refused:
        SLEDAI2K.score(rating)
    assert list(refused.value.errors) == ["LEUKOPEN"]


def test_each_descriptor_carries_its_definition_as_help():
    items = {item["code"]: item for item in SLEDAI2K.describe()["items"]}
    assert all(item["help"] for item in items.values())
    assert "0.5 g" in items["PROTEIN"]["help"]


@settings(deadline=None)
@given(st.sets(st.sampled_from(sorted(WEIGHTS))))
def test_the_score_is_the_sum_of_the_weights_of_the_items_present(present):
    score = SLEDAI2K.score(answers(*present))
    assert score.total == sum(WEIGHTS[code] for code in present)
