"""The instrument registry, and the building blocks every instrument shares."""

import json
import re

import pytest
from django.utils import translation

from assessments import instruments
from assessments.instruments import UnknownInstrument, all_instruments, get
from assessments.instruments.base import Band, Instrument, Item
from trials.forms.codes import INSTRUMENT_CODES


def test_every_instrument_is_a_form_code_a_protocol_may_name_and_vice_versa():
    codes = [instrument.code for instrument in all_instruments()]
    assert len(codes) == len(set(codes))
    assert set(codes) == set(INSTRUMENT_CODES)


def test_instruments_are_listed_in_code_order():
    codes = [instrument.code for instrument in all_instruments()]
    assert codes == sorted(codes) == ["HAMD17", "PHQ9", "RPDAI", "SLEDAI2K"]


@pytest.mark.parametrize("code", sorted(INSTRUMENT_CODES))
def test_each_code_finds_its_instrument(code):
    assert get(code).code == code


@pytest.mark.parametrize("code", ["NOPE", "rpdai", "", None, ["RPDAI"]])
def test_an_unknown_code_raises_unknown_instrument_not_key_error(code):
    with pytest.raises(UnknownInstrument) as raised:
        get(code)
    assert not isinstance(raised.value, KeyError)
    assert raised.value.code == code


@pytest.mark.parametrize("instrument", all_instruments(), ids=lambda i: i.code)
def test_the_description_is_the_api_json(instrument):
    described = json.loads(json.dumps(instrument.describe()))
    assert set(described) == {"code", "name", "items"}
    assert described["code"] == instrument.code
    assert [item["code"] for item in described["items"]] == list(instrument.item_codes)
    for item in described["items"]:
        assert {"code", "label", "type", "min", "max"} <= set(item)
        assert ("weight" in item) == (item["type"] == "boolean")


@pytest.mark.parametrize("instrument", all_instruments(), ids=lambda i: i.code)
def test_item_codes_can_be_sdtm_test_codes(instrument):
    for code in instrument.item_codes:
        assert re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", code), code


@pytest.mark.parametrize(
    "instrument", [i for i in all_instruments() if i.bands], ids=lambda i: i.code
)
def test_the_bands_give_every_possible_total_exactly_one_name(instrument):
    for total in range(instrument.theoretical_max + 1):
        names = [b.label for b in instrument.bands if b.low <= total <= b.high]
        assert len(names) == 1, (total, names)


def test_labels_follow_the_active_language():
    with translation.override("en"):
        assert get("HAMD17").describe()["items"][0]["label"] == "1. Depressed mood"
    assert isinstance(get("HAMD17").describe()["items"][0]["label"], str)


def test_the_package_exports_what_the_forms_and_the_api_use():
    for name in instruments.__all__:
        assert hasattr(instruments, name), name


# -- the building blocks ----------------------------------------------------------------


def test_an_item_of_an_unknown_type_is_a_definition_error():
    with pytest.raises(ValueError, match="unknown item type"):
        Item("X1", "x", "text", None, None)


def test_a_present_or_absent_item_needs_a_weight():
    with pytest.raises(ValueError, match="weight"):
        Item("X1", "x", "boolean", None, None)


def test_a_scale_item_needs_a_range():
    with pytest.raises(ValueError, match="min <= max"):
        Item("X1", "x", "integer", 3, 1)


def test_two_items_with_one_code_are_a_definition_error():
    item = Item("X1", "x", "integer", 0, 1)
    with pytest.raises(ValueError, match="unique"):
        Instrument("T", "t", "now", (item, item))


CHOICE = Instrument(
    code="T",
    name="test",
    recall_period="now",
    items=(Item("C1", "choose", "choice", None, None, choices=((0, "no"), (2, "yes"))),),
    bands=(Band(0, 0, "low"), Band(1, 2, "high")),
)


def test_a_choice_item_accepts_only_its_choices():
    assert CHOICE.score({"C1": "2"}).total == 2
    assert CHOICE.score({"C1": 2}).band == "high"
    errors = CHOICE.validate({"C1": 1})
    assert [str(m) for m in errors["C1"]] == ["Must be one of: 0, 2."]


def test_a_choice_item_describes_its_choices():
    item = CHOICE.describe()["items"][0]
    assert item["choices"] == [{"value": 0, "label": "no"}, {"value": 2, "label": "yes"}]
