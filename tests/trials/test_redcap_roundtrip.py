"""A form goes out as a REDCap data dictionary and comes back unchanged: the same content
hash, translations, help texts, groups, checks and expressions included (they travel in the
Field Annotation's @IL2 tags when REDCap's own columns cannot carry them)."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from tests.trials.helpers_forms import SHIPPED, with_forms
from trials.forms.expressions import parse
from trials.forms.redcap import dictionary_csv
from trials.forms.redcap_import import import_dictionary
from trials.forms.redcap_logic import unparse
from trials.forms.registry import registry
from trials.forms.spec import form_to_data
from trials.protocol_file import parse_protocol
from trials.services import load_protocol

# The shipped RP protocol (VITALS, CONMED, MEDHIST) amended as version 2.0.
VITALS_FILE = SHIPPED.replace('label: "1.0"', 'label: "2.0"').replace(
    "effective: 2019-11-01", "effective: 2020-03-01"
)
VECTORS = json.loads((Path(__file__).parent / "expression_vectors.json").read_text())


def english(form):
    with translation.override("en"):
        return form_to_data(form)


def comes_back(forms):
    imported = import_dictionary(dictionary_csv(forms)).forms
    assert [english(form) for form in imported] == [english(form) for form in forms]
    assert [form.content_hash for form in imported] == [form.content_hash for form in forms]


@pytest.mark.parametrize("code", sorted(registry.builtin_codes()))
def test_each_built_in_form_comes_back_with_its_hash(code):
    comes_back([registry.builtin(code)])


def test_the_vitals_form_of_the_amended_protocol_comes_back_with_its_translations():
    forms = parse_protocol(VITALS_FILE).forms
    vitals = forms[0]
    assert dict(vitals.item("WEIGHT").label.translations)["zh-hans"] == "体重"
    comes_back([vitals])
    assert import_dictionary(dictionary_csv([vitals])).forms == (vitals,)
    # CONMED's row checks travel in its group's tag.
    comes_back(list(forms))
    assert import_dictionary(dictionary_csv(forms)).forms == forms


def test_forms_with_groups_checks_and_branching_come_back_together():
    # SYMPT and CM reuse no name, VITALS shares none either; CM has a repeating group, a
    # check over a column and a branching inside the group.
    comes_back(list(parse_protocol(with_forms()).forms))


def test_every_built_in_form_in_one_dictionary_comes_back():
    # Names used by an earlier form are prefixed in REDCap, the code kept in @IL2-CODE.
    comes_back([registry.builtin(code) for code in sorted(registry.builtin_codes())])


@pytest.mark.parametrize(
    "vector",
    [v for v in VECTORS["vectors"] if "error" not in v],
    ids=lambda v: v["expr"],
)
def test_an_expression_written_back_as_text_parses_to_the_same_tree(vector):
    tree = parse(vector["expr"])
    assert parse(unparse(tree)) == tree


@pytest.fixture
def rp_forms(study):
    version, _ = load_protocol(parse_protocol(with_forms().replace("code: LDIL2-RP", "code: RP")))
    return version


def test_the_studys_downloaded_dictionary_imports_as_the_studys_forms(rp_forms, sam, client_for):
    response = client_for(sam).get(
        reverse("trials:form-dictionary", args=["RP"]), {"version": rp_forms.label}
    )
    text = response.content.decode()
    imported = {form.code: form for form in import_dictionary(text).forms}
    names = {row["Form Name"] for row in csv.DictReader(io.StringIO(text))}
    assert len(imported) == len(names)
    for code, form in imported.items():
        assert form.content_hash == registry.form(code, version=rp_forms).content_hash
