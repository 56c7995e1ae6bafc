"""One registry holds every form: the built-in ones, registered by the apps that own them and
derived from their definitions, and the forms a study's protocol defines; the API describes
them all, each protocol-defined form only to the members of its study."""

import pytest
from django.urls import reverse
from django.utils import translation

from assessments import instruments
from assessments.models import TregPanel
from tests.trials.helpers_forms import RP_WITH_FORMS, with_forms
from trials.forms.codes import FORM_CODES
from trials.forms.expressions import ItemType, check, parse
from trials.forms.protocol_section import scope
from trials.forms.registry import registry
from trials.protocol_file import parse_protocol
from trials.services import activate_version, load_protocol


def amended(text: str) -> str:
    return text.replace('label: "1.0"', 'label: "2.0"').replace(
        "effective: 2019-11-01", "effective: 2020-03-01"
    )


@pytest.fixture
def rp_forms(study):
    """The cast's RP study following a protocol that defines VITALS, SYMPT and CM."""
    version, _ = load_protocol(parse_protocol(RP_WITH_FORMS), activate=True)
    return version


def test_every_form_a_visit_may_schedule_is_registered_with_dose_administration():
    assert registry.builtin_codes() == FORM_CODES | {"DOSE"}
    assert registry.owner("AE") == "safety"
    assert registry.owner("ELIG") == "patients"
    assert registry.owner("PHQ9") == "assessments"


@pytest.mark.parametrize("instrument", instruments.all_instruments(), ids=lambda i: i.code)
def test_an_instrument_form_is_derived_from_the_instrument_definition(instrument):
    form = registry.builtin(instrument.code)
    assert [item.code for item in form.items] == list(instrument.item_codes)
    for item, source in zip(form.items, instrument.items, strict=True):
        assert str(item.label) == str(source.label)
        assert item.required == source.required
        if source.type == "boolean":
            assert item.type == ItemType.YESNO
        elif source.type == "integer":
            assert (item.type, item.range) == (ItemType.INTEGER, (source.min, source.max))
        else:
            assert [code for code, _ in item.codes] == [str(v) for v, _ in source.choices]


def test_the_treg_form_lists_what_the_coordinator_enters():
    form = registry.builtin("TREG")
    assert [item.code for item in form.items] == ["sample_date", *TregPanel.INPUTS]
    assert form.item("treg_pct_of_cd4").range == (0, 100)


@pytest.mark.parametrize("code", sorted(FORM_CODES | {"DOSE"}))
def test_every_expression_of_a_built_in_form_type_checks(code):
    form = registry.builtin(code)
    for group in form.groups:
        types, codes = scope(form, group)
        for item in group.items:
            if item.show_if:
                check(parse(item.show_if), types, codes=codes, context="show_if")
    types, codes = scope(form, None)
    for rule in form.checks:
        check(parse(rule.rule), types, codes=codes, context="rule")


def test_a_built_in_form_keeps_its_hash_whatever_the_language_of_the_reader():
    with translation.override("zh-hans"):
        chinese = registry.describe("PHQ9")["hash"]
    assert chinese == registry.describe("PHQ9")["hash"]


def test_the_form_list_needs_a_login(client):
    assert client.get(reverse("api-forms")).status_code in (401, 403)


def test_the_form_list_describes_every_built_in_form(charlie, client_for):
    response = client_for(charlie).get(reverse("api-forms"))
    assert response.status_code == 200
    codes = [form["code"] for form in response.json()]
    assert set(codes) == FORM_CODES | {"DOSE"}


def test_a_study_member_sees_the_forms_its_protocol_defines(rp_forms, alice, client_for):
    response = client_for(alice).get(reverse("api-forms"), {"study": "RP"})
    assert [f["code"] for f in response.json()][-3:] == ["VITALS", "SYMPT", "CM"]
    vitals = client_for(alice).get(reverse("api-form", args=["VITALS"]), {"study": "RP"}).json()
    assert vitals["name"] == "Vital signs"
    assert vitals["versions"] == [
        {"hash": rp_forms.forms.get(code="VITALS").content_hash, "protocol_versions": ["1.0"]}
    ]
    (group,) = vitals["groups"]
    weight, height, bmi, sysbp, diabp = group["items"]
    assert weight == {
        "code": "WEIGHT",
        "label": "Weight",
        "type": "decimal",
        "unit": "kg",
        "required": True,
        "precision": 1,
        "range": [20, 250],
        "soft_range": [35, 150],
    }
    assert bmi["calc"] == "WEIGHT / (HEIGHT / 100) ^ 2"
    assert bmi["calc_tree"]["kind"] == "binary"
    assert sysbp["missing"] == ["ND"]
    assert vitals["checks"][0]["rule"] == "DIABP < SYSBP"


def test_a_repeating_group_is_described_with_its_key_and_rows(rp_forms, alice, client_for):
    cm = client_for(alice).get(reverse("api-form", args=["CM"]), {"study": "RP"}).json()
    med = cm["groups"][1]
    assert (med["code"], med["repeating"], med["key"], med["max_rows"]) == (
        "MED",
        True,
        ["CMTRT"],
        20,
    )
    assert med["items"][1]["codes"] == [
        {"code": "PO", "label": "Oral"},
        {"code": "SC", "label": "Subcutaneous"},
    ]


def test_labels_are_given_in_the_readers_language_falling_back_to_english(rp_forms):
    versions = rp_forms.study.versions.all()
    with translation.override("zh-hans"):
        vitals = registry.describe("VITALS", versions=versions)
    assert vitals["name"] == "生命体征"
    assert vitals["groups"][0]["items"][0]["label"] == "Weight"  # a plain label stays
    with translation.override("fr"):
        assert registry.describe("VITALS", versions=versions)["name"] == "Vital signs"


def test_an_amended_form_lists_each_of_its_versions(rp_forms, sam, client_for):
    changed = amended(RP_WITH_FORMS).replace("soft_range: [35, 150]", "soft_range: [40, 150]")
    draft, _ = load_protocol(parse_protocol(changed))
    activate_version(draft)
    client = client_for(sam)
    vitals = client.get(reverse("api-form", args=["VITALS"]), {"study": "RP"}).json()
    assert [v["protocol_versions"] for v in vitals["versions"]] == [["1.0"], ["2.0"]]
    assert vitals["groups"][0]["items"][0]["soft_range"] == [40, 150]
    sympt = client.get(reverse("api-form", args=["SYMPT"]), {"study": "RP"}).json()
    assert sympt["versions"][0]["protocol_versions"] == ["1.0", "2.0"]


def test_a_draft_form_is_only_listed_to_the_study_admins(rp_forms, sam, alice, client_for):
    text = (
        amended(RP_WITH_FORMS)
        .replace("code: SYMPT", "code: SYMPT2")
        .replace("[RPDAI, VITALS, SYMPT, CM]", "[RPDAI, VITALS, SYMPT2, CM]")
    )
    load_protocol(parse_protocol(text))
    url = reverse("api-form", args=["SYMPT2"])
    assert client_for(sam).get(url, {"study": "RP"}).status_code == 200
    assert client_for(alice).get(url, {"study": "RP"}).status_code == 404


def test_a_built_in_form_lists_the_protocol_versions_that_schedule_it(rp_forms, mona, client_for):
    rpdai = client_for(mona).get(reverse("api-form", args=["RPDAI"]), {"study": "RP"}).json()
    assert rpdai["source"] == "builtin"
    assert rpdai["versions"][0]["protocol_versions"] == ["1.0"]


def test_a_protocol_form_is_hidden_from_non_members(rp_forms, charlie, blake, client_for):
    for user in (charlie, blake):
        client = client_for(user)
        assert client.get(reverse("api-forms"), {"study": "RP"}).status_code == 404
        assert client.get(reverse("api-form", args=["VITALS"])).status_code == 404


def test_a_blinded_member_sees_the_forms_of_their_study(blake, client_for):
    text = with_forms(visit_forms="[RPDAI, VITALS]").replace("code: LDIL2-RP", "code: MOOD")
    text = text.replace("blinding: open", "blinding: double")
    load_protocol(parse_protocol(text), activate=True)
    response = client_for(blake).get(reverse("api-form", args=["VITALS"]), {"study": "MOOD"})
    assert response.status_code == 200
    assert response.json()["code"] == "VITALS"


def test_the_protocol_summary_names_a_form_the_protocol_defines(rp_forms, ivan, client_for):
    response = client_for(ivan).get(reverse("trials:protocol", args=["RP"]))
    assert response.status_code == 200
    assert ("VITALS", "Vital signs") in [(code, name) for code, name, _ in response.context["soa"]]
