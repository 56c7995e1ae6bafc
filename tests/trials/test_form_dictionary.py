"""A study's forms download as a REDCap data dictionary: REDCap's columns, one row per item,
expressions in REDCap's logic, and what REDCap cannot say kept in @IL2 action tags so the
file can come back in."""

import csv
import io
import json

import pytest
from django.urls import reverse

from tests.trials.helpers_forms import RP_WITH_FORMS
from trials.forms.expressions import ItemType
from trials.forms.redcap import COLUMNS, Untranslatable, dictionary_rows, translate
from trials.forms.registry import registry
from trials.protocol_file import parse_protocol
from trials.services import load_protocol

TYPES = {
    "A": ItemType.INTEGER,
    "B": ItemType.INTEGER,
    "FEVER": ItemType.YESNO,
    "SITE": ItemType.MULTICHOICE,
    "D1": ItemType.DATE,
    "D2": ItemType.DATE,
}
NAMES = {code: code.lower() for code in TYPES}


@pytest.mark.parametrize(
    ("ours", "redcap"),
    [
        ("A == 2", "[a] = 2"),
        ("A != B", "[a] <> [b]"),
        ("FEVER == 'Y'", "[fever] = '1'"),
        ("FEVER != 'N'", "[fever] <> '0'"),
        ("has(SITE, '2')", "[site(2)]='1'"),
        ("days(D1, D2) > 7", 'datediff([d1],[d2],"d",true) > 7'),
        ("A > 1 and (B < 2 or FEVER == 'Y')", "([a] > 1) and (([b] < 2) or ([fever] = '1'))"),
        ("A / (B + 1) ^ 2", "[a] / (([b] + 1) ^ 2)"),
        ("if(A > 1, A, 0)", "if([a] > 1,[a],0)"),
        ("is_blank(A)", "([a]='')"),
    ],
)
def test_an_expression_is_written_in_redcap_logic(ours, redcap):
    assert translate(ours, NAMES, TYPES) == redcap


@pytest.mark.parametrize("ours", ["not A > 1", "coalesce(A, B) > 1", "sum(G.X, min_present=1)"])
def test_what_redcap_cannot_say_is_refused_by_the_translation(ours):
    with pytest.raises(Untranslatable):
        translate(ours, NAMES, {**TYPES, "G.X": ItemType.INTEGER})


def rows_by_name():
    forms = parse_protocol(RP_WITH_FORMS).forms
    return {row["Variable / Field Name"]: row for row in dictionary_rows(forms)}


def test_a_soft_range_goes_in_min_max_and_the_hard_range_in_the_annotation():
    weight = rows_by_name()["weight"]
    assert (weight["Field Type"], weight["Text Validation Type OR Show Slider Number"]) == (
        "text",
        "number_1dp",
    )
    assert (weight["Text Validation Min"], weight["Text Validation Max"]) == ("35", "150")
    assert weight["Field Note"] == "kg"
    assert weight["Required Field?"] == "y"
    assert "@IL2-RANGE=20,250" in weight["Field Annotation"]
    assert "@IL2-CHECK=" in weight["Field Annotation"]  # the form's first item carries its checks


def test_a_hard_range_alone_is_forced_as_redcap_does():
    height = rows_by_name()["height"]
    assert (height["Text Validation Min"], height["Text Validation Max"]) == ("100", "230")
    # REDCap names are lower case: the code's own spelling is kept for the way back.
    assert height["Field Annotation"] == "@IL2-CODE=HEIGHT @FORCE-MINMAX @IL2-RANGE=100,230"


def test_calculations_branching_choices_and_missing_codes_are_written_for_redcap():
    rows = rows_by_name()
    assert rows["bmi"]["Field Type"] == "calc"
    assert (
        rows["bmi"]["Choices, Calculations, OR Slider Labels"]
        == "[weight] / (([height] / 100) ^ 2)"
    )
    assert rows["temp"]["Branching Logic (Show field only if...)"] == "[fever] = '1'"
    assert rows["fever"]["Field Type"] == "yesno"
    assert rows["route"]["Field Type"] == "radio"
    assert rows["route"]["Choices, Calculations, OR Slider Labels"] == "PO, Oral | SC, Subcutaneous"
    assert "@IL2-MISSING=ND" in rows["sysbp"]["Field Annotation"]
    assert rows["sysbp"]["Text Validation Type OR Show Slider Number"] == "integer"


def test_a_repeating_group_and_the_checks_travel_as_json_tags():
    rows = rows_by_name()
    tag = next(t for t in rows["cmtrt"]["Field Annotation"].split(" @") if "IL2-GROUP=" in t)
    assert json.loads(tag.split("=", 1)[1]) == {
        "code": "MED",
        "repeating": True,
        "key": ["CMTRT"],
        "max_rows": 20,
    }
    check = rows["anycm"]["Field Annotation"].split("@IL2-CHECK=", 1)[1]
    assert json.loads(check)["rule"] == "ANYCM == 'Y' or sum(MED.PREDEQ) == 0"
    assert rows["cmtrt"]["Field Type"] == "text"


def test_a_variable_name_used_by_an_earlier_form_is_prefixed_and_the_code_kept():
    forms = [registry.builtin("STEROID"), registry.builtin("DOSE"), registry.builtin("AE")]
    names = [row["Variable / Field Name"] for row in dictionary_rows(forms)]
    assert len(names) == len(set(names))


@pytest.fixture
def rp_forms(study):
    version, _ = load_protocol(parse_protocol(RP_WITH_FORMS), activate=True)
    return version


def download(client):
    return client.get(reverse("trials:form-dictionary", args=["RP"]))


def test_study_admins_and_monitors_download_one_row_per_item(rp_forms, sam, mona, client_for):
    for user in (sam, mona):
        response = download(client_for(user))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        reader = csv.DictReader(io.StringIO(response.content.decode()))
        assert tuple(reader.fieldnames) == COLUMNS
        rows = list(reader)
        expected = [
            registry.form(code, version=rp_forms)
            for code in ("ELIG", "RPDAI", "TREG", "STEROID", "VITALS", "SYMPT", "CM", "AE")
        ]
        assert len(rows) == sum(len(form.items) for form in expected)
        assert [r["Form Name"] for r in rows][-1] == "ae"


def test_coordinators_may_not_download_the_dictionary_and_outsiders_do_not_see_it(
    rp_forms, alice, charlie, client_for
):
    assert download(client_for(alice)).status_code == 403
    assert download(client_for(charlie)).status_code == 404
