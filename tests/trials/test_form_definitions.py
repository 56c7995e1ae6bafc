"""Forms a protocol file defines are stored with the version they belong to, read back
unchanged, frozen with it once it is active, and versioned by their content hash."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import UserFactory, load_demo_protocol
from tests.trials.helpers_forms import VITALS, with_forms
from trials.forms.registry import registry
from trials.models import FormDefinition
from trials.protocol_file import parse_protocol
from trials.services import activate_version, load_protocol, spec_from_version

WITH_FORMS = with_forms(visit_forms="[RPDAI, VITALS, SYMPT, CM]")


def amendment(text: str, label: str = "2.0") -> str:
    return text.replace('label: "1.0"', f'label: "{label}"').replace(
        "effective: 2019-11-01", "effective: 2020-03-01"
    )


@pytest.fixture
def active(db):
    version, _ = load_protocol(parse_protocol(WITH_FORMS), activate=True)
    return version


def test_loading_a_file_stores_each_form_with_its_hash_and_reads_it_back(active):
    spec = parse_protocol(WITH_FORMS)
    stored = list(active.forms.order_by("order"))
    assert [(f.code, f.content_hash) for f in stored] == [
        (form.code, form.content_hash) for form in spec.forms
    ]
    assert stored[0].name == {"en": "Vital signs", "zh-hans": "生命体征"}
    assert spec_from_version(active) == spec


def test_loading_the_same_file_with_forms_again_changes_nothing(active):
    again, created = load_protocol(parse_protocol(WITH_FORMS))
    assert (again, created) == (active, False)


def test_an_amendment_changing_a_form_gives_it_a_new_hash_and_keeps_the_others(active):
    changed = amendment(WITH_FORMS.replace("soft_range: [35, 150]", "soft_range: [40, 150]"))
    amended, created = load_protocol(parse_protocol(changed))
    assert created
    before = dict(active.forms.values_list("code", "content_hash"))
    after = dict(amended.forms.values_list("code", "content_hash"))
    assert after["VITALS"] != before["VITALS"]
    assert after["SYMPT"] == before["SYMPT"]
    assert after["CM"] == before["CM"]


def test_a_form_of_an_active_version_cannot_be_changed_by_the_model(active):
    definition = active.forms.get(code="VITALS")
    definition.name = "Vitals"
    with pytest.raises(ValidationError, match="can no longer be changed"):
        definition.save()


def test_a_form_of_an_active_version_cannot_be_changed_even_by_a_bulk_update(active):
    with pytest.raises(IntegrityError, match="cannot be changed"), transaction.atomic():
        FormDefinition.objects.filter(version=active).update(name="Vitals")
    with pytest.raises(IntegrityError, match="cannot be changed"), transaction.atomic():
        FormDefinition.objects.filter(version=active).delete()


def test_a_draft_with_forms_activates(db):
    version, _ = load_protocol(parse_protocol(with_forms(VITALS)))
    assert activate_version(version).status == "active"


def test_the_shipped_rp_protocol_defines_vitals_conmed_and_medhist_and_schedules_them(db):
    version = load_demo_protocol()
    forms_at = dict(version.visits.values_list("code", "forms"))
    assert forms_at["W0"][-3:] == ["VITALS", "CONMED", "MEDHIST"]
    assert all("VITALS" in forms_at[code] for code in ("W0", "W4", "W8", "W12"))
    vitals = registry.form("VITALS", version=version)
    assert [item.code for item in vitals.items] == [
        "WEIGHT",
        "HEIGHT",
        "BMI",
        "SYSBP",
        "DIABP",
        "HR",
        "TEMP",
    ]
    assert vitals.checks[0].rule == "DIABP < SYSBP"
    conmed = registry.form("CONMED", version=version)
    assert conmed.groups[1].repeating and conmed.groups[1].checks[0].id == "CM1"
    assert conmed.item("PREDTOT").calc == "sum(CM.CMPREDNOW)"
    assert conmed.item("CMENDTC").show_if == "CMONGO == 'N'"
    assert registry.form("MEDHIST", version=version).groups[0].repeating


def test_the_admin_shows_a_versions_forms_with_their_hash_and_never_edits_them(active, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:trials_protocolversion_change", args=[active.pk]))
    assert page.status_code == 200
    assert active.forms.get(code="VITALS").content_hash in page.content.decode()
    assert b'name="forms-0-code"' not in page.content
